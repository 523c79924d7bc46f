"""Sphinx configuration of the sklearn_noisy documentation."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import sklearn_noisy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import results_tables  # noqa: E402

# the tables and figures drawn from the recorded benchmark runs
results_tables.write_all()

project = "sklearn_noisy"
author = "the sklearn_noisy developers"
copyright = "2026, the sklearn_noisy developers"
version = release = sklearn_noisy.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # the command of a recorded output as its block's caption
    "record_captions",
]

exclude_patterns = ["_build", "_generated", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5"]
# The class pages list parameters and attributes from the numpydoc sections;
# one stub page per method would double them.
numpydoc_show_class_members = False
autodoc_default_options = {"inherited-members": False}

html_theme = "pydata_sphinx_theme"
html_title = "sklearn_noisy"
html_theme_options = {
    "navigation_depth": 2,
    "show_toc_level": 2,
    # every top-level page in the header, none under "More"
    "header_links_before_dropdown": 12,
}
html_static_path = ["_static"]
html_css_files = ["layout.css"]
# Pages without subpages have nothing to show in the left sidebar, which would
# otherwise stay empty and narrow the text.
SINGLE_PAGES = ("index", "install", "quickstart", "benchmark", "scaling", "robustness",
                "design", "api", "contributing")
html_sidebars = {page: [] for page in SINGLE_PAGES}
# The text column gets the width the "on this page" sidebar would take: the
# recorded outputs need it more than the pages (few sections each) need a
# table of contents.
html_theme_options["secondary_sidebar_items"] = []

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "show_signature": False,
    # A failing example fails the build, as a failing test fails CI.
    "abort_on_example_error": True,
    # run times of this build's machine: nothing a user needs
    "write_computation_times": False,
}

