"""What the lock around torch's global random state costs concurrent fits.

A seeded fit holds one process-wide lock while it trains (weight
initialisation and dropout draw from torch's global generators), so two fits
in two threads run one after the other. This script times four seeded
CrossEntropyClassifier fits on digits (default MLP with dropout 0.3, 1
torch thread per fit, as joblib's threading backend or a Dask worker with
several threads would run them):

* one after another;
* in two threads (joblib's threading backend), which the lock runs one
  after the other;
* in two processes (joblib's loky backend), where each fit has its own
  lock: the speed two threads would have without it, and so what it costs.

Every run also counts the fits whose probabilities differ from the
sequential ones (a seeded fit is the same wherever it runs).

Run: ``python benchmarks/bench_concurrent_fits.py``
"""

import statistics
import time

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.datasets import load_digits

from sklearn_noisy import CrossEntropyClassifier

N_FITS, REPEATS = 4, 3


def fit(X, y, seed):
    clf = CrossEntropyClassifier(module__dropout=0.3, max_epochs=20, random_state=seed)
    return clf.fit(X, y).predict_proba(X)


def one_thread_fit(X, y, seed):
    # A worker process starts with torch's default thread count.
    torch.set_num_threads(1)
    return fit(X, y, seed)


def run(X, y, backend):
    start = time.perf_counter()
    if backend is None:
        probas = [fit(X, y, seed) for seed in range(N_FITS)]
    else:
        probas = Parallel(n_jobs=2, backend=backend)(
            delayed(one_thread_fit)(X, y, seed) for seed in range(N_FITS))
    return time.perf_counter() - start, probas


def main():
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    backends = {"sequential": None, "2 threads": "threading", "2 processes": "loky"}
    times = {name: [] for name in backends}
    reference = None
    mismatches = {name: 0 for name in times}
    for _ in range(REPEATS):
        for name, backend in backends.items():
            seconds, probas = run(X, y, backend)
            times[name].append(seconds)
            if reference is None:
                reference = probas
            mismatches[name] += sum(
                not np.array_equal(a, b) for a, b in zip(probas, reference))
    print(f"torch {torch.__version__}, 1 thread per fit, {N_FITS} fits of "
          f"CrossEntropyClassifier(module__dropout=0.3, max_epochs=20) on digits, "
          f"median of {REPEATS}")
    base = statistics.median(times["sequential"])
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"  {name:<20} {median:6.2f} s   x{median / base:4.2f} of sequential   "
              f"fits differing from the sequential ones: {mismatches[name]} of "
              f"{N_FITS * REPEATS}")


if __name__ == "__main__":
    main()
