"""Every gallery example runs to completion, and its output (what the
gallery page shows) holds no logged warnings and no machine addresses."""

import runpy
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, capfd):
    runpy.run_path(str(path), run_name="__main__")
    output = "".join(capfd.readouterr())
    assert " - WARNING - " not in output and "tcp://" not in output, output
