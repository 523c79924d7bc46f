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
    """Pages without subpages have no left sidebar; every top-level page is in
    the header (none under "More"); the home page's contents list user pages
    only (the contributor page is in the header)."""
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
