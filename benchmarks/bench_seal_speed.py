"""Fit time of SEALClassifier against CrossEntropyClassifier.

Issue #3 target: SEALClassifier's fit time with ``n_iterations = k`` is at most
``(k + 1) x 1.35 x`` CrossEntropyClassifier's fit time with the same epochs: each
of the k + 1 trainings may cost at most 35% more than a plain one, the price of
recording the softmax (one extra forward pass over the training set per epoch).

Both run side by side in one process, alternating and swapping order every
repeat; the medians are compared. Two workloads: digits with the default
parameters (1,257 samples, 50 epochs) and 20,000 x 64 synthetic samples (5
epochs). SLNClassifier's per-epoch cost (noise draw and momentum-model update
every step) is printed for reference.

Run: ``python benchmarks/bench_seal_speed.py [--iterations 2] [--repeats 5]``
"""

import argparse
import statistics
import sys
import time

import numpy as np
from sklearn.datasets import load_digits

from sklearn_noisy import CrossEntropyClassifier, SEALClassifier, SLNClassifier

TARGET = 1.35


def workloads():
    X, y = load_digits(return_X_y=True)
    yield "digits (1,257 x 64, 50 epochs)", (X[:1257] / 16).astype(np.float32), y[:1257], 50
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 64)).astype(np.float32)
    y = (X @ rng.standard_normal((64, 4))).argmax(axis=1)
    yield "synthetic (20,000 x 64, 5 epochs)", X, y, 5


def timed(estimator, X, y):
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    k = args.iterations
    for label, X, y, epochs in workloads():
        makers = {
            "CE": lambda: CrossEntropyClassifier(max_epochs=epochs, random_state=0),
            "SEAL": lambda: SEALClassifier(n_iterations=k, max_epochs=epochs, random_state=0),
            "SLN": lambda: SLNClassifier(max_epochs=epochs, random_state=0),
        }
        times = {name: [] for name in makers}
        timed(makers["CE"](), X, y)  # warm-up
        for repeat in range(args.repeats):
            order = list(makers) if repeat % 2 == 0 else list(makers)[::-1]
            for name in order:
                times[name].append(timed(makers[name](), X, y))
        median = {name: statistics.median(values) for name, values in times.items()}
        ratio = median["SEAL"] / ((k + 1) * median["CE"])
        print(f"{label}: CE {median['CE']:.2f} s, SEAL (k={k}) {median['SEAL']:.2f} s, "
              f"SLN {median['SLN']:.2f} s")
        print(f"  SEAL / ((k + 1) x CE) = {ratio:.3f}; "
              f"SLN / CE = {median['SLN'] / median['CE']:.3f}", flush=True)
        print(f"  target SEAL / ((k + 1) x CE) <= {TARGET}: "
              f"{'met' if ratio <= TARGET else 'MISSED'}", file=sys.stderr)


if __name__ == "__main__":
    main()
