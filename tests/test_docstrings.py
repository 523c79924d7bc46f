"""Shared parameters are described once, in ``_docstrings.py``, and filled in."""

import inspect
import re
from pathlib import Path

import pytest

import sklearn_noisy
from sklearn_noisy import networks
from sklearn_noisy._docstrings import ESTIMATOR_PARAMETERS, FRAGMENTS
from sklearn_noisy.base import NoisyLabelClassifier

PACKAGE = Path(sklearn_noisy.__file__).parent
SOURCES = {path: path.read_text() for path in PACKAGE.rglob("*.py")
           if path.name != "_docstrings.py"}
DOCUMENTED = [getattr(sklearn_noisy, name) for name in sklearn_noisy.__all__
              if getattr(sklearn_noisy, name).__module__.startswith("sklearn_noisy")]
DOCUMENTED += [NoisyLabelClassifier] + [
    obj for _, obj in inspect.getmembers(networks, callable)
    if getattr(obj, "__module__", "") == networks.__name__ and obj.__doc__]


@pytest.mark.parametrize("name", sorted(FRAGMENTS))
def test_every_fragment_is_used(name):
    placeholders = {f"{{{name}}}", "{shared_parameters}"} if name in ESTIMATOR_PARAMETERS \
        else {f"{{{name}}}"}
    assert any(p in text for text in SOURCES.values() for p in placeholders)


@pytest.mark.parametrize("obj", DOCUMENTED, ids=lambda obj: obj.__name__)
def test_docstrings_hold_no_unfilled_placeholder(obj):
    unfilled = set(re.findall(r"\{(\w+)\}", obj.__doc__)) & {*FRAGMENTS, "shared_parameters"}
    assert not unfilled


def test_a_fragment_is_not_written_again_elsewhere():
    # the first line of each parameter's description, as written in a docstring
    for name, fragment in FRAGMENTS.items():
        lines = fragment.splitlines()
        if len(lines) < 2 or "{" in lines[1] or " : " not in lines[0]:
            continue  # a section, or a line filled in per estimator
        repeated = [path.name for path, text in SOURCES.items()
                    if f"{lines[0]}\n{lines[1]}" in text]
        assert not repeated, f"{name} is written out again in {repeated}"
