"""Every public name of the package is documented in docs/api.rst."""

from pathlib import Path

import pytest

import sklearn_noisy

API_PAGE = (Path(__file__).resolve().parents[1] / "docs" / "api.rst").read_text()


@pytest.mark.parametrize("name", sklearn_noisy.__all__)
def test_public_name_in_api_reference(name):
    assert f"sklearn_noisy.{name}\n" in API_PAGE
