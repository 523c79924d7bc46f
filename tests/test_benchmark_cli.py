"""The benchmark's command line: arguments checked first, results kept cell by cell.

Every bad argument stops the command with argparse's exit status 2 and a
message naming the argument, before anything is fit; finished cells are in
results.csv at once, Ctrl-C keeps them and prints the command that resumes
the run, and ``--resume`` runs only the cells still missing.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sklearn_noisy.benchmark import __main__ as cli
from sklearn_noisy.benchmark import results as results_module

# one short CE fit per cell; symmetric noise needs no network to corrupt
SMALL = ["--dataset", "synthetic:100", "--noise", "symmetric", "--methods", "ce",
         "--rates", "0.2", "--n-jobs", "1"]
# one thread per fit: as fast for these tiny fits, and kinder to a busy machine
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


def command(*args):
    return [sys.executable, "-m", "sklearn_noisy.benchmark", *map(str, args)]


def strict_json(text):
    """json.loads that refuses NaN and infinities, as strict parsers do."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def data_lines(path):
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(results_module.RECORD_FIELDS)
    return lines[1:]


@pytest.fixture
def no_training(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("a cell ran before the arguments were checked")
    monkeypatch.setattr(cli, "run_cells", fail)


@pytest.fixture
def no_figures(monkeypatch):
    monkeypatch.setattr(cli, "_write_figures", lambda *args: None)


def _bad_npz(folder):
    (folder / "garbage.npz").write_bytes(b"not a zip file")
    return folder / "garbage.npz"


def _one_class_npz(folder):
    np.savez(folder / "one_class.npz", X=np.zeros((20, 4, 4), np.uint8),
             y=np.zeros(20, dtype=int))
    return folder / "one_class.npz"


def _plain_file(folder):
    (folder / "a_file").write_text("")
    return folder / "a_file"


BAD_ARGUMENTS = {
    "rate above 1": (["--rates", "0.2", "1.5"], "--rates"),
    "rate NaN": (["--rates", "nan"], "--rates"),
    "negative rate": (["--rates", "-0.1"], "--rates"),
    "negative seed": (["--seeds", "0", "-1"], "--seeds"),
    "unknown method": (["--methods", "mixup"], "--methods"),
    "unknown noise": (["--noise", "uniform"], "--noise"),
    "no processes": (["--n-jobs", "0"], "--n-jobs"),
    "unknown device": (["--device", "toaster"], "--device"),
    "unknown dataset": (["--dataset", "mnist"], "--dataset"),
    "bad synthetic size": (["--dataset", "synthetic:many"], "--dataset"),
    "missing file": (["--dataset", "{tmp}/missing.npz"], "--dataset"),
    "unreadable file": (["--dataset", _bad_npz], "--dataset"),
    "one class": (["--dataset", _one_class_npz], "--dataset"),
    "output is a file": (["--output", _plain_file], "--output"),
    "output below a file": (["--output", lambda tmp: _plain_file(tmp) / "out"], "--output"),
}


@pytest.mark.parametrize("bad, name", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS)
def test_bad_argument_stops_before_training(tmp_path, capsys, no_training, bad, name):
    bad = [str(value(tmp_path)) if callable(value) else value.format(tmp=tmp_path)
           for value in bad]
    output = tmp_path / "new" / "out"
    with pytest.raises(SystemExit) as stopped:
        cli.main([*SMALL, "--seeds", "0", "--output", str(output), *bad])
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("python -m sklearn_noisy.benchmark: error: argument " + name)
    assert not (tmp_path / "new").exists()  # no output folder left behind


def test_bad_arguments_exit_with_2_from_the_shell(tmp_path):
    """The real command: the error comes before the 0.2 cell, fast."""
    (tmp_path / "file").write_text("")
    runs = {
        "--rates": subprocess.Popen(
            command(*SMALL, "--rates", "0.2", "1.5", "--output", tmp_path / "a"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ONE_THREAD),
        "--output": subprocess.Popen(
            command(*SMALL, "--output", tmp_path / "file"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ONE_THREAD),
    }
    for name, run in runs.items():
        out, err = run.communicate(timeout=120)
        assert run.returncode == 2, err
        assert f"error: argument {name}" in err
        assert out == ""
    assert not (tmp_path / "a").exists()


def test_an_earlier_run_is_not_mixed_in_without_resume(tmp_path, capsys, no_training):
    results = tmp_path / "results.csv"
    results.write_text("dataset,noise\nwine,idn\n")
    with pytest.raises(SystemExit) as stopped:
        cli.main([*SMALL, "--output", str(tmp_path)])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "argument --output" in error and "--resume" in error
    assert results.read_text() == "dataset,noise\nwine,idn\n"
    # --resume reads that file, and refuses columns that are not the benchmark's
    with pytest.raises(SystemExit) as stopped:
        cli.main([*SMALL, "--output", str(tmp_path), "--resume"])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "argument --resume" in error and f"{results} has the columns" in error
    assert "on line 1" in error
    assert results.read_text() == "dataset,noise\nwine,idn\n"


def test_no_noise_gives_strict_json(tmp_path, no_figures, one_thread):
    """At rate 0 nothing is flipped, so detection AUC is undefined: null, not NaN."""
    cli.main([*SMALL, "--rates", "0", "--seeds", "0", "--output", str(tmp_path)])
    (row,) = strict_json((tmp_path / "summary.json").read_text())
    assert row["noise_rate"] == 0 and row["detection_auc"] is None
    assert 0 < row["accuracy_mean"] <= 1
    assert len(data_lines(tmp_path / "results.csv")) == 1
    assert results_module.strict_json([{"a": float("inf"), "b": np.float32("nan"),
                             "c": np.int64(3)}]) == [{"a": None, "b": None, "c": 3}]


def _take_ctrl_c():
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # even under a shell that ignores it


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_keeps_finished_cells_and_resume_runs_the_rest(tmp_path):
    output = tmp_path / "out"
    results = output / "results.csv"
    # 300 samples: the second cell trains long enough to be interrupted
    run = subprocess.Popen(
        command(*SMALL, "--dataset", "synthetic:300", "--seeds", "0", "1", "--output", output),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ONE_THREAD,
        preexec_fn=_take_ctrl_c)
    deadline = time.monotonic() + 120
    while not (results.exists() and results.read_text().count("\n") >= 2):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)  # while the second cell trains
    out, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    (kept,) = data_lines(results)
    assert kept.split(",")[3] == "0"  # the seed 0 cell
    assert f"interrupted: 1 of 2 cells are in {results}" in err
    resume = shlex.split(err.strip().splitlines()[-1])
    assert resume[1:3] == ["-m", "sklearn_noisy.benchmark"] and resume[-1] == "--resume"
    assert not (output / "summary.json").exists()

    resumed = subprocess.run(resume, capture_output=True, text=True, timeout=180,
                             env=ONE_THREAD)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: 1 of 2 cells already in {results}, 1 to run" in resumed.stdout
    first, second = data_lines(results)
    assert first == kept  # appended to; the seed 0 cell did not run again
    assert second.split(",")[3] == "1"
    (row,) = strict_json((output / "summary.json").read_text())
    assert row["n_seeds"] == 2


def _children(pid):
    """The process ids whose parent is ``pid`` (from /proc)."""
    children = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines()
                          if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            children.append(int(status.parent.name))
    return children


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc for the workers")
def test_sigterm_stops_the_run_and_its_workers_and_keeps_finished_cells(tmp_path):
    output = tmp_path / "out"
    results = output / "results.csv"
    run = subprocess.Popen(
        command(*SMALL, "--dataset", "synthetic:3000", "--seeds", *range(8),
                "--n-jobs", "2", "--output", output),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ONE_THREAD)
    deadline = time.monotonic() + 120
    while not (results.exists() and results.read_text().count("\n") >= 2):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.05)
    workers = _children(run.pid)
    assert workers, "the run has worker processes"
    # a second run into the same folder is refused while this one runs
    second = subprocess.run(command(*SMALL, "--output", output, "--resume"),
                            capture_output=True, text=True, timeout=120, env=ONE_THREAD)
    assert second.returncode == 2 and "being written by another run" in second.stderr
    run.send_signal(signal.SIGTERM)  # what a job scheduler sends, to this process only
    out, err = run.communicate(timeout=60)
    assert run.returncode == 143, err
    assert "interrupted:" in err and err.strip().endswith("--resume")
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "worker processes outlived the run"
        time.sleep(0.1)
    assert len(data_lines(results)) >= 1
    assert not (output / ".lock").exists()


def test_resume_runs_again_a_cell_whose_line_was_cut(tmp_path, capsys, monkeypatch,
                                                     no_figures, one_thread):
    """A line cut short (the machine stopped mid-write) is dropped, not trusted."""
    results = tmp_path / "results.csv"
    header = ",".join(results_module.RECORD_FIELDS)
    whole = "synthetic:100,symmetric,0.2,0,CE,0.5,1.0,0.75,0.2"
    results.write_text(f"{header}\n{whole}\nsynthetic:100,symmetric,0.2,1,CE,0.6")
    arguments = [*SMALL, "--seeds", "0", "1", "--output", str(tmp_path), "--resume"]
    cli.main(arguments)
    printed = capsys.readouterr()
    assert "resuming: 1 of 2 cells already" in printed.out
    assert f"{results}: left out line(s) [3], cut short" in printed.err
    lines = data_lines(results)
    assert lines[0] == whole and len(lines) == 2 and lines[1].split(",")[3] == "1"

    # every cell is there now: resuming again fits nothing, and adds nothing
    run_cells = cli.run_cells

    def nothing_to_run(dataset, X, y, noise, cells, *args):
        assert cells == []
        return run_cells(dataset, X, y, noise, cells, *args)
    monkeypatch.setattr(cli, "run_cells", nothing_to_run)
    cli.main(arguments)
    assert "resuming: 2 of 2 cells already" in capsys.readouterr().out
    assert data_lines(results) == lines


def test_console_script_usage_names_itself(monkeypatch, capsys):
    from sklearn_noisy.benchmark.__main__ import build_parser

    monkeypatch.setattr("sys.argv", ["/usr/bin/sklearn-noisy-benchmark", "--help"])
    assert build_parser().format_usage().startswith("usage: sklearn-noisy-benchmark")
    monkeypatch.setattr("sys.argv", ["/x/sklearn_noisy/benchmark/__main__.py"])
    assert build_parser().format_usage().startswith(
        "usage: python -m sklearn_noisy.benchmark")


def test_a_classifier_of_your_own_by_module_and_class(tmp_path, capsys):
    from sklearn_noisy.benchmark.__main__ import main

    main(["--dataset", "wine", "--methods", "ce", "sklearn.linear_model:LogisticRegression",
          "--rates", "0.2", "--seeds", "0", "--n-jobs", "1", "--output", str(tmp_path / "o")])
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if "LogisticRegression" in line]
    assert table and "±" not in table[0]        # one seed: no spread
    assert table[0].rstrip().endswith("nan")    # no noise_scores_: no detection AUC


@pytest.mark.parametrize("method, message", [
    ("nosuchmodule:Thing", "cannot be imported"),
    ("sklearn.linear_model:NoSuchClass", "cannot be imported"),
    ("math:pi", "not a scikit-learn classifier"),
    ("ce2", "unknown method"),
])
def test_methods_that_cannot_be_used_are_refused(method, message, capsys):
    from sklearn_noisy.benchmark.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "wine", "--methods", method])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_results_files_saved_elsewhere_or_damaged_are_read_or_named(tmp_path):
    header = ",".join(results_module.RECORD_FIELDS)
    whole = "synthetic:100,symmetric,0.2,0,CE,0.5,1.0,0.75,0.2"
    with_bom = tmp_path / "bom.csv"
    with_bom.write_text(f"\ufeff{header}\n{whole}\n", encoding="utf-8")
    (result,), dropped = results_module.read_results(with_bom)
    assert result.method == "CE" and dropped == []

    huge = tmp_path / "huge.csv"
    huge.write_text(f"{header}\n{whole}\nsynthetic:100,{'x' * 200_000},0.2,1,CE,0.5,1,0.5,0\n")
    with pytest.raises(ValueError, match=rf"{huge}, line \d+: field larger than"):
        results_module.read_results(huge)
