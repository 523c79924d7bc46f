"""Fixtures shared by several test modules."""

import pytest
import torch


@pytest.fixture
def one_thread():
    """Run the test with one torch thread, restoring the count afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pytest_addoption(parser):
    parser.addoption(
        "--update-accuracy-reference", action="store_true",
        help="write the accuracy guard's measurements to "
             "tests/accuracy_guard_reference.json instead of comparing with it")
