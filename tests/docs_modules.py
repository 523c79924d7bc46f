"""The Python modules of ``docs/`` (``record_captions``, ``record_results``,
``results_tables``, ``screenshots``, ``writing_a_method``), imported for the
tests that check them."""

import importlib.util
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def docs_module(name):
    """``docs/<name>.py``, imported once per process."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
