"""Fixtures shared by several test modules."""

import os

import pytest
import torch

# Under pytest-xdist every worker is a process with torch's default of one
# thread per core: the workers would fight over the cores. Share them out.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // _WORKERS))


#: What ``make test-fast`` leaves out (marked ``slow``): the modules and tests
#: that take most of the full run's time, each several seconds per test.
SLOW = {
    "test_estimator_checks.py": "scikit-learn's and imbalanced-learn's estimator checks",
    "test_examples.py": "runs every gallery example",
    "test_docs.py": "builds the docs",
    "test_readme.py": "runs the README's and the quickstart's code",
    "test_recipes.py": "fits the papers' CIFAR networks",
    "test_dask.py": "starts local Dask clusters",
    "test_properties.py": "hundreds of property-based examples per callable",
    "test_benchmark.py": "runs the benchmark",
    "test_benchmark_cli.py": "runs the benchmark's command line in new processes",
    "test_distributed.py": "launches two processes with torchrun",
    "test_label_issues.py::test_user_guide_page_runs": "runs a user-guide page",
    "test_label_issues.py::test_csv_walkthrough_runs": "runs a user-guide page",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module, _, name = item.nodeid.rpartition("/")[2].partition("::")
        if module in SLOW or f"{module}::{name.split('[')[0]}" in SLOW:
            item.add_marker(pytest.mark.slow)


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
