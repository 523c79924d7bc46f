"""Every gallery example runs to completion, and its output (what the
gallery page shows) holds no logged warnings and no machine addresses.

A user-guide page that quotes an example's output marks the literal block
with the comment ``.. output of examples/<name>.py``; the block's lines must
be lines of the example's output, in the same order.
"""

import re
import runpy
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
PAGES = [*(ROOT / "docs").glob("*.rst"), *(ROOT / "docs" / "user_guide").glob("*.rst")]
_QUOTE = re.compile(r"^\.\. output of examples/(?P<name>\S+\.py)\n\n::\n\n(?P<block>(?:   .*\n)+)",
                    re.MULTILINE)


def quoted_outputs(name):
    """``(page, lines)`` of every block of the pages that quotes example ``name``."""
    return [(page, [line[3:].rstrip() for line in match["block"].splitlines()])
            for page in PAGES
            for match in _QUOTE.finditer(page.read_text(encoding="utf-8"))
            if match["name"] == name]


def in_order(lines, output_lines):
    remaining = iter(output_lines)
    return all(any(line == candidate for candidate in remaining) for line in lines)


def test_a_quoted_output_is_found():
    assert quoted_outputs("plot_label_issues.py"), "noisy_data.rst quotes the example"
    assert in_order(["b", "d"], ["a", "b", "c", "d"])
    assert not in_order(["d", "b"], ["a", "b", "c", "d"])
    assert not in_order(["b", "x"], ["a", "b", "c", "d"])


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, capfd):
    runpy.run_path(str(path), run_name="__main__")
    printed = capfd.readouterr()
    output = printed.out + printed.err
    assert " - WARNING - " not in output and "tcp://" not in output, output
    lines = [line.rstrip() for line in printed.out.splitlines()]
    for page, quoted in quoted_outputs(path.name):
        assert in_order(quoted, lines), (
            f"{page.name} quotes output that {path.name} no longer prints; "
            f"it printed:\n{printed.out}")
