"""The documentation builds with Sphinx, warnings as errors.

Of the gallery's examples the build runs only the one whose figure a user
guide page shows; ``test_examples.py`` runs every example, in parallel with
the rest of the suite, and ``make docs`` runs them all for the real site.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docs_modules import docs_module  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_docs_build_without_warnings(tmp_path):
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"):
        pytest.importorskip(module, reason="the docs extra is not installed")
    completed = subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html",
         "-D", "sphinx_gallery_conf.filename_pattern=/plot_label_issues",
         str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=1200,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    built = {path.name for path in (tmp_path / "html").rglob("*.html")}
    for page in ("index.html", "api.html", "flywheel.html", "scaling.html",
                 "plot_dask_grid_search.html", "noisy_data.html", "plot_label_issues.html"):
        assert page in built

    check_layout(tmp_path / "html")


def check_layout(html):
    """Pages without subpages have no left sidebar, no page has a right one;
    every top-level page is in the header (none under "More"); the home
    page's contents list user pages only (the contributor page is in the
    header); recorded outputs show their command as a caption."""
    index = (html / "index.html").read_text(encoding="utf-8")
    contents = "".join(re.findall(r'toctree-wrapper compound">(.*?)</div>', index, re.S))
    assert "install.html" in contents and "contributing.html" not in contents
    header = index[index.index("bd-header"):index.index("bd-main")]
    for page in ("api.html", "auto_examples/index.html", "contributing.html"):
        assert f'href="{page}"' in header, page
    assert "pst-nav-more-links" not in header
    for page in ("index.html", "install.html", "quickstart.html", "benchmark.html",
                 "robustness.html", "api.html"):
        text = (html / page).read_text(encoding="utf-8")
        assert "bd-sidebar-primary bd-sidebar hide-on-wide" in text, page
    # no "on this page" column beside the text; a recorded output's command
    # is its caption, not its first line
    seal = (html / "user_guide" / "seal.html").read_text(encoding="utf-8")
    assert "bd-sidebar-secondary" not in seal
    caption = seal[seal.index('class="code-block-caption"'):][:400]
    assert "benchmarks/bench_seal_settings.py" in caption
    assert "$ OMP_NUM_THREADS" not in seal


def test_a_records_command_becomes_its_caption(tmp_path):
    captions = docs_module("record_captions")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "run.txt").write_text(
        "$ python benchmarks/bench_x.py --part a\nrow 1\nrow 2\nrow 3\n")
    page = (".. literalinclude:: results/run.txt\n   :language: none\n\ntext\n\n"
            "   .. literalinclude:: results/run.txt\n      :lines: 1,3\n\n"
            ".. literalinclude:: results/run.txt\n   :lines: 1-3\n\n"
            ".. literalinclude:: results/run.txt\n   :lines: 3-\n\n"
            ".. literalinclude:: results/run.txt\n   :start-after: row 1\n")
    blocks = captions.caption_records(page, tmp_path).split("\n\n")
    caption = ":caption: ``python benchmarks/bench_x.py --part a``"
    assert caption in blocks[0] and ":lines: 2-" in blocks[0]
    assert blocks[1] == "text"
    assert caption in blocks[2] and ":lines: 3\n" in blocks[2] + "\n"
    assert caption in blocks[3] and ":lines: 2-3" in blocks[3]
    # outputs shown without their first line keep their options, uncaptioned
    assert blocks[4:] == page.split("\n\n")[4:]
    # a selection of the first line alone shows the command itself, uncaptioned
    command_only = page.replace(":lines: 1-3", ":lines: 1-1")
    assert captions.caption_records(command_only, tmp_path).split("\n\n")[3] == (
        command_only.split("\n\n")[3])


def test_the_screenshot_script_lists_the_pages_a_user_reads(tmp_path):
    screenshots = docs_module("screenshots")
    for page in ("index.html", "user_guide/seal.html", "search.html", "genindex.html",
                 "_modules/sklearn_noisy/seal.html", "_static/x.html"):
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text("<html></html>")
    assert [str(page) for page in screenshots.site_pages(tmp_path)] == [
        "index.html", "user_guide/seal.html"]
    with pytest.raises(SystemExit):
        screenshots.main(["--html", str(tmp_path / "nothing")])
