"""The noisy-label benchmark: ``python -m sklearn_noisy.benchmark``.

``datasets`` loads the data, ``methods`` names the estimators compared,
``runner`` corrupts, fits and scores one (method, rate, seed) cell at a time,
and ``__main__`` is the command line that prints the table and writes the
results.
"""

from .runner import run_benchmark

__all__ = ["run_benchmark"]
