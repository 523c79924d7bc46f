"""Host synchronisations of a CUDA fit, per source line, against the batch count.

A GPU runs ahead of Python until the host waits for a result (``.item()``,
``.tolist()``, a boolean mask, a copy to the CPU); one such wait per
training batch stalls the GPU at every step. This script fits each method's
CIFAR-10 recipe on random CIFAR-shaped images with PyTorch's sync debug mode
on (``torch.cuda.set_sync_debug_mode("warn")``), counts the synchronising
calls by the line of Python that made them, and prints every line with its
count beside the number of training batches: a line with a count of at
least the batch count synchronises per batch.

The fit is two epochs (Flywheel: one warm-up epoch and one cycle epoch) of
``--samples`` images in bfloat16 with channels-last.

Run: ``python benchmarks/bench_host_syncs.py [--methods ce sln flywheel]``
(needs CUDA).
"""

import argparse
import collections
import warnings

import numpy as np
import torch

from sklearn_noisy import paper_recipe
from sklearn_noisy.benchmark.methods import METHODS

METHOD_NAMES = ("ce", "seal", "sln", "confusion-em", "flywheel")


def fit_counting_syncs(method, X, y):
    """(training batches, Counter of (file, line) -> synchronising calls)."""
    recipe = paper_recipe(method, "cifar10", noise="symmetric")
    overrides = {"max_epochs": 2}
    if method == "flywheel":
        overrides["warmup_epochs"] = 1
    if method == "seal":
        overrides["n_iterations"] = 0
    estimator = METHODS[method][1](**{**recipe, **overrides}, device="cuda",
                                   precision="bfloat16", channels_last=True,
                                   random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            estimator.fit(X, y)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = collections.Counter(
        (w.filename, w.lineno) for w in caught if "synchroniz" in str(w.message))
    batches = sum(len(epoch["batches"])
                  for _, history in estimator.stage_histories_ for epoch in history)
    return batches, syncs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=["ce", "sln", "flywheel"],
                        choices=METHOD_NAMES)
    parser.add_argument("--samples", type=int, default=2048)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("needs a CUDA device")
    rng = np.random.default_rng(0)
    X = rng.random((args.samples, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, args.samples)
    for method in args.methods:
        batches, syncs = fit_counting_syncs(method, X, y)
        per_batch = sum(count >= batches for count in syncs.values())
        print(f"{method}: {batches} training and validation batches, "
              f"{sum(syncs.values())} synchronising calls from {len(syncs)} lines, "
              f"{per_batch} of them at least once per batch", flush=True)
        for (filename, line), count in syncs.most_common(12):
            print(f"  {count:6d}  {filename}:{line}")


if __name__ == "__main__":
    main()
