"""The accuracy suite and the default selection of benchmarks/, on tiny configurations.

The scripts run for an hour; these tests run their machinery on one or two
small data sets with short fits, so that they do not rot.
"""

import csv
import importlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def suite(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("bench_accuracy_suite")


@pytest.fixture
def select(suite):
    return importlib.import_module("select_defaults")


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_tiny_run_writes_results_table_and_resumes(suite, tmp_path, capsys, one_thread,
                                                   monkeypatch):
    output = tmp_path / "suite"
    tiny = ["--datasets", "wine", "--noises", "symmetric", "--seeds", "0", "--n-jobs", "1",
            "--methods", "--set-params", "ce:max_epochs=3", "--output", str(output)]
    suite.main(tiny)
    printed = capsys.readouterr().out
    assert "== wine: test accuracy" in printed and "CE[max_epochs=3]" in printed
    [row] = read_rows(output / "results.csv")
    assert (row["dataset"], row["noise"], row["seed"], row["method"]) == (
        "wine", "symmetric", "0", "CE[max_epochs=3]")
    assert 0 <= float(row["accuracy"]) <= 1 and 0 <= float(row["detection_auc"]) <= 1
    assert float(row["actual_noise_rate"]) == pytest.approx(0.4, abs=0.1)
    [summary] = json.loads((output / "summary.json").read_text())
    assert summary["accuracy_mean"] == pytest.approx(float(row["accuracy"]))

    with pytest.raises(SystemExit) as exit_info:  # results there, no --resume
        suite.main(tiny)
    assert exit_info.value.code == 2
    assert "--resume" in capsys.readouterr().err

    def no_fits(fits, *args, **kwargs):
        assert not fits, "a fit already in results.csv ran again"
        return []
    monkeypatch.setattr(suite, "run_fits", no_fits)
    suite.main([*tiny, "--resume"])
    assert "1 of 1 fits already in" in capsys.readouterr().err


def test_a_second_run_into_the_same_folder_is_refused(suite, tmp_path, monkeypatch):
    (tmp_path / ".lock").write_text(f"{os.getpid()}\n")  # a live run holds it
    tiny = ["--datasets", "wine", "--noises", "symmetric", "--seeds", "0", "--n-jobs", "1",
            "--methods", "--set-params", "ce:max_epochs=1", "--output", str(tmp_path)]
    with pytest.raises(SystemExit, match="being written by another run"):
        suite.main(tiny)
    assert not (tmp_path / "results.csv").exists()
    (tmp_path / ".lock").write_text("999999999\n")  # its process is gone: taken over
    monkeypatch.setattr(suite, "report", lambda results, output: None)
    suite.main(tiny)
    assert not (tmp_path / ".lock").exists()


def test_ctrl_c_or_sigterm_exits_with_the_signals_status(suite, tmp_path, monkeypatch):
    import signal

    def stopped(*args):
        raise suite.Interrupted(signal.SIGTERM)
    monkeypatch.setattr(suite, "gather", stopped)
    with pytest.raises(SystemExit) as exit_info:
        suite.gather_or_exit([], tmp_path, resume=False)
    assert exit_info.value.code == 143


def test_splits_scale_tabular_data_on_the_training_part_and_keep_images(suite):
    split = suite.suite_split("wine", "symmetric", seed=0)
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0, atol=1e-5)
    assert not np.allclose(split.X_test.mean(axis=0), 0, atol=1e-3)
    assert split.noise_mask.mean() == pytest.approx(0.4, abs=0.1)

    split = suite.suite_split("digits-image", "pair", seed=1, max_samples=100)
    assert split.X_train.shape == (70, 1, 8, 8) and split.X_train.dtype == np.float32
    assert split.X_train.min() >= 0 and split.X_train.max() <= 1
    assert suite.dataset_label("digits-image", 100) == "digits-image[n=100]"
    assert suite.dataset_label("wine", 10_000) == "wine"

    X, y = suite.make_shapes(n_samples=60, random_state=3)
    assert X.shape == (60, 1, 12, 12) and np.bincount(y).tolist() == [10] * 6
    X_again, _ = suite.make_shapes(n_samples=60, random_state=3)
    np.testing.assert_array_equal(X, X_again)


@pytest.mark.parametrize("dataset", ["wine", "breast_cancer"])
def test_the_method_benchmarks_standardise_tabular_data_on_the_training_part(
        monkeypatch, dataset):
    # (their records on wine and breast cancer fell to chance on raw features)
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    split = importlib.import_module("bench_seal_sln").noisy_split(dataset, "symmetric", 0.3, 0)
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(split.X_train.std(axis=0), 1, atol=1e-3)


def test_every_data_set_loads_with_the_documented_shape(suite):
    image = {name for name, spec in suite.DATASETS.items() if spec.image}
    real = {name for name, spec in suite.DATASETS.items() if spec.real}
    assert len(suite.DATASETS) >= 6 and len(image) >= 2 and len(real) >= 3
    classes = set()
    for name, spec in suite.DATASETS.items():
        X, y = spec.load()
        assert X.ndim == (4 if spec.image else 2), name
        classes.add(len(np.unique(y)))
        assert "idn" in spec.noises
    assert min(classes) == 2 and max(classes) >= 10
    full = [name for name, spec in suite.DATASETS.items()
            if set(spec.noises) == set(suite.NOISE_RATES)]
    assert len(full) >= 3


def test_set_params_specs(suite):
    setting = suite.parse_setting(
        "sln:sigma=0.5, optimizer=SGD,module__hidden_units=(128, 128)")
    assert setting.label == "SLN[module__hidden_units=(128, 128),optimizer=SGD,sigma=0.5]"
    estimator = setting.make(random_state=4)
    assert estimator.sigma == 0.5 and estimator.optimizer is torch.optim.SGD
    assert estimator.module__hidden_units == (128, 128) and estimator.random_state == 4
    assert suite.parse_setting("seal:first_loss=dmi").make(0).first_loss == "dmi"
    for spec, words in [("nope:x=1", "unknown method"), ("sln", "param=value"),
                        ("sln:sigma", "not param=value"), ("sln:bogus=1", "bogus"),
                        ("sln:sigma=-1", "sigma")]:
        with pytest.raises(ValueError, match=words):
            suite.parse_setting(spec)


def test_leave_one_data_set_out_scores_the_choice_on_the_held_out_set(select):
    # "b" is best on x and y but worst on z; "a" is best on z
    scores = {("d", "x"): .5, ("d", "y"): .5, ("d", "z"): .5,
              ("a", "x"): .6, ("a", "y"): .6, ("a", "z"): .9,
              ("b", "x"): .9, ("b", "y"): .9, ("b", "z"): .1}
    folds = select.leave_one_out(scores, ["d", "a", "b"], ["x", "y", "z"])
    # without x: a (0.75) beats b (0.5); without z: b (0.9) beats a (0.6)
    assert folds == {"x": ("a", .6), "y": ("a", .6), "z": ("b", .1)}
    ties = {(label, d): .5 for label in "da" for d in "xy"}
    assert select.leave_one_out(ties, ["d", "a"], ["x", "y"]) == {"x": ("d", .5),
                                                                  "y": ("d", .5)}


def test_selection_reuses_the_suites_fits(suite, select, tmp_path, capsys, one_thread,
                                          monkeypatch):
    output = tmp_path / "shared"
    data = ["--datasets", "wine", "iris", "--seeds", "0", "--n-jobs", "1",
            "--output", str(output)]
    suite.main([*data, "--noises", "idn", "--methods", "ce"])
    capsys.readouterr()
    monkeypatch.setattr(select, "GRIDS", {"sln": ["max_epochs=3"]})
    monkeypatch.setattr(select, "REFERENCES", ("ce",))
    ships = select.main(data)
    printed, log = capsys.readouterr()
    assert "2 of 6 fits already in" in log
    assert "== SLN: leave-one-data-set-out at IDN 40%" in printed
    assert ships["sln"] in ("SLN: defaults", "SLN: max_epochs=3")
    assert len(read_rows(output / "results.csv")) == 6


def test_selection_over_every_noise_type_with_chosen_settings(select, tmp_path, capsys,
                                                               one_thread, monkeypatch):
    monkeypatch.setattr(select, "GRIDS", {"sln": ["max_epochs=2"]})
    monkeypatch.setattr(select, "REFERENCES", ())
    ships = select.main(["--datasets", "wine", "iris", "--seeds", "0", "--n-jobs", "1",
                         "--output", str(tmp_path), "--all-noises",
                         "--settings", "sln:max_epochs=3"])
    printed, _ = capsys.readouterr()
    assert "== SLN: leave-one-data-set-out at every noise type" in printed
    assert "max_epochs=3" in printed and "max_epochs=2" not in printed
    assert ships["sln"] in ("SLN: defaults", "SLN: max_epochs=3")
    # wine and iris have four noise types each; two settings, seed 0
    assert {row["noise"] for row in read_rows(tmp_path / "results.csv")} == {
        "idn", "idn-projection", "symmetric", "pair"}
    assert len(read_rows(tmp_path / "results.csv")) == 16
