# The two commands of README.rst. Both build the pinned environment in .venv
# on first use (about a minute on a fresh machine) and reuse it afterwards.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements/constraints.txt | cksum | cut -d' ' -f1)

.PHONY: benchmark test test-fast env clean docs docs-results

benchmark: $(STAMP)
	$(BIN)/python -m sklearn_noisy.benchmark $(ARGS)

# The suite runs in one process per core (pytest-xdist); PYTEST_ARGS="-n 0" runs
# it in this process, e.g. under a debugger.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

# The inner loop: the suite without the tests marked slow and the accuracy guard.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadgroup -m "not slow and not accuracy_guard" $(PYTEST_ARGS)

env: $(STAMP)

$(STAMP):
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint requirements/constraints.txt \
		--editable ".[test,vision,benchmark]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info

docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

# Run again the benchmark commands whose output the docs quote (docs/results/);
# RECORDS="name ..." for some of them, python docs/record_results.py --list for the names.
docs-results: $(STAMP)
	$(BIN)/python docs/record_results.py $(RECORDS)
