"""The parts of the GPU runbook (benchmarks/gpu_check.sh) a CPU can check."""

import importlib
import subprocess
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPT = BENCHMARKS / "gpu_check.sh"


def run_script(*args):
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=60)


def test_the_runbook_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


def test_a_dry_run_lists_every_step_and_writes_its_summary(tmp_path):
    result = run_script("--dry-run", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    summary = (tmp_path / "out" / "summary.txt").read_text()
    for step in ("environment", "gpu-tests", "host-syncs", "epoch-time",
                 "epoch-time-compiled", "epoch-time-2-gpus"):
        assert f"{step} (limit" in summary
    # the gpu tests it would run are the files that hold gpu-marked tests
    assert "tests/test_cuda_recipes.py" in summary
    assert "--precision bfloat16 --channels-last true --methods ce sln flywheel" in summary
    assert ("--compile --compile-mode reduce-overhead --fused-optimizer --methods ce sln"
            in summary)
    # the limits add up to the runbook's promise of under 10 minutes
    limits = [int(part.split("s)")[0]) for part in summary.split("(limit ")[1:]]
    assert sum(limits) <= 600


def test_a_wrong_option_is_refused():
    result = run_script("--verbose")
    assert result.returncode == 2 and "usage" in result.stderr


def test_the_epoch_benchmark_parses_the_runbook_arguments(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    bench_epoch_time = importlib.import_module("bench_epoch_time")
    args = bench_epoch_time.parse_args(["--device", "cuda", "--precision", "bfloat16",
                                        "--channels-last", "true",
                                        "--methods", "ce", "sln", "flywheel"])
    assert args.channels_last is True and args.samples == 50_000 and not args.compile
    assert args.nproc == 1
    assert args.methods == ["ce", "sln", "flywheel"]
    compiled = bench_epoch_time.parse_args(["--compile", "--compile-mode", "reduce-overhead",
                                            "--fused-optimizer"])
    assert compiled.compile and compiled.compile_mode == "reduce-overhead"
    assert compiled.fused_optimizer
    with pytest.raises(SystemExit):
        bench_epoch_time.parse_args(["--methods", "svm"])
    with pytest.raises(SystemExit):
        bench_epoch_time.parse_args(["--compile-mode", "reduce-overhead"])
