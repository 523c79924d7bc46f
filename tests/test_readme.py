"""The Python examples of the README and of the docs' quickstart run as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.rst", ROOT / "docs" / "quickstart.rst"]


def python_blocks():
    for page in PAGES:
        blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", page.read_text())
        for block in blocks:
            yield pytest.param(page, "\n".join(line[3:] for line in block.splitlines()),
                               id=page.name)


@pytest.mark.parametrize("page, code", python_blocks())
def test_python_example_runs(page, code, capsys):
    exec(compile(code, str(page), "exec"), {})
    assert capsys.readouterr().out.strip().startswith("[")


def quickstart(page):
    """The quickstart's code and the output the page shows for it."""
    text = page.read_text()
    code, output = re.search(
        r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)[\s\S]*?\.\. code-block:: none\n\n"
        r"((?:   .*\n)+)", text).groups()
    return ("\n".join(line[3:] for line in code.splitlines()).strip(),
            "\n".join(line[3:] for line in output.splitlines()).strip())


def test_readme_and_docs_show_one_quickstart_and_its_true_output(capsys):
    readme, docs = (quickstart(page) for page in PAGES)
    assert readme == docs
    code, shown = readme
    exec(compile(code, "quickstart", "exec"), {})
    assert capsys.readouterr().out.strip() == shown
