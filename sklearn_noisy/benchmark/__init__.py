"""The noisy-label benchmark: ``python -m sklearn_noisy.benchmark``.

``datasets`` loads the data, ``methods`` names the estimators compared,
``runner`` corrupts, fits and scores one (method, rate, seed) cell at a time,
``results`` keeps the cells' records (``results.csv``, read back to resume)
and summarises them, ``interruption`` turns Ctrl-C into a clean stop, and
``__main__`` is the command line.
"""

from .runner import run_benchmark

__all__ = ["run_benchmark"]
