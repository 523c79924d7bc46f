"""Every public name of the package is documented in docs/api.rst."""

from pathlib import Path

import re

import pytest

import sklearn_noisy

API_PAGE = (Path(__file__).resolve().parents[1] / "docs" / "api.rst").read_text()


@pytest.mark.parametrize("name", sklearn_noisy.__all__)
def test_public_name_in_api_reference(name):
    """An autodoc directive or, for imbalanced-learn's re-exports, a py:class or
    py:function entry, so that the name gets its own target in the docs."""
    directive = (r"^\.\. (autoclass|autofunction|py:class|py:function):: "
                 rf"sklearn_noisy\.{name}(\(|$)")
    assert re.search(directive, API_PAGE, flags=re.MULTILINE)
