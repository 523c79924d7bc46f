"""Fixtures shared by several test modules."""

import os

import pytest
import torch

# Under pytest-xdist every worker is a process with torch's default of one
# thread per core: the workers would fight over the cores. Share them out.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // _WORKERS))


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
