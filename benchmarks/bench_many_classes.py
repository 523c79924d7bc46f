"""Time and memory of the class-conditional corruptor and the CCN test with many classes.

Each measurement runs in a fresh process, so its peak resident memory is its
own: ``CCNLabelCorruptor(0.4, transition="symmetric").fit_resample`` on 5
samples per class, and ``ccn_hypothesis_test`` on 50 held-out samples per
class with a symmetric 20% transition matrix (its class prior estimated: with
so many samples per class the single solve applies; with a class of very few
noisy labels it falls back to nnls, which takes far longer).

Run: ``python benchmarks/bench_many_classes.py``
"""

import multiprocessing
import resource
import time

import numpy as np

CLASSES = (2000, 10000)


def _peak_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def corruptor(n_classes):
    from sklearn_noisy import CCNLabelCorruptor

    y = np.arange(5 * n_classes) % n_classes
    X = np.zeros((len(y), 1), dtype=np.float32)
    before = _peak_gib()
    start = time.perf_counter()
    CCNLabelCorruptor(0.4, random_state=0).fit_resample(X, y)
    return time.perf_counter() - start, before, _peak_gib()


def ccn_test(n_classes):
    from sklearn_noisy import ccn_hypothesis_test

    rng = np.random.RandomState(0)
    y = rng.randint(0, n_classes, 50 * n_classes)
    transition = np.full((n_classes, n_classes), 0.2 / (n_classes - 1))
    np.fill_diagonal(transition, 0.8)
    noisy = np.where(rng.rand(len(y)) < 0.2, rng.randint(0, n_classes, len(y)), y)
    predicted = np.where(rng.rand(len(y)) < 0.7, y, rng.randint(0, n_classes, len(y)))
    before = _peak_gib()
    start = time.perf_counter()
    ccn_hypothesis_test(noisy, predicted, transition)
    return time.perf_counter() - start, before, _peak_gib()


def main():
    context = multiprocessing.get_context("spawn")
    print(f"{'':<36} {'classes':>8} {'seconds':>8} {'peak GiB':>9} {'of which the call':>18}")
    for name, function in (("CCNLabelCorruptor.fit_resample", corruptor),
                           ("ccn_hypothesis_test", ccn_test)):
        for n_classes in CLASSES:
            with context.Pool(1) as pool:
                seconds, before, peak = pool.apply(function, (n_classes,))
            print(f"{name:<36} {n_classes:>8,} {seconds:>8.1f} {peak:>9.2f} "
                  f"{peak - before:>18.2f}", flush=True)


if __name__ == "__main__":
    main()
