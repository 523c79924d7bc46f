"""Accuracy and noise detection of SEAL and SLN against cross-entropy.

Issue #3 targets, on the digits-IDN protocol (X / 16, stratified 70/30 split,
``IDNLabelCorruptor(noise_rate=r, random_state=seed)`` on the training part,
default parameters with ``random_state=seed``, clean test labels, seeds 0-4):

* SEALClassifier >= 88.5% at 30% and >= 80.7% at 40% IDN;
* SLNClassifier >= 82% at 30% and >= 73% at 40% IDN;
* both beat CrossEntropyClassifier at every rate 10-40%;
* their ``noise_scores_`` reach ROC-AUC >= 0.90 against ``noise_mask_`` at 40%.

Parts (``--part``):

``digits``  the protocol above, plus SEAL's test accuracy after every
            iteration (the evidence for the default ``n_iterations``).
``sln-grid`` SLN variants (sigma, momentum model, label correction, epochs)
            at 30% and 40% IDN: the evidence for SLN's defaults.
``other``   the defaults on wine, breast cancer and synthetic data under 30%
            IDN and 30% symmetric noise, so that they are not tuned to digits.
``ce-curve`` cross-entropy's test accuracy after every epoch: how good the early
            predictions that SEAL averages can be.

Run: ``python benchmarks/bench_seal_sln.py --part all``
"""

import argparse
import sys
import time

import numpy as np
from skorch.callbacks import Callback

from sklearn_noisy import CrossEntropyClassifier, SEALClassifier, SLNClassifier
from sklearn_noisy.benchmark import runner
from sklearn_noisy.benchmark.datasets import STANDARDISED, load_dataset

TARGETS = {  # method -> {rate: minimum mean accuracy}
    "SEAL": {0.3: 0.885, 0.4: 0.807},
    "SLN": {0.3: 0.82, 0.4: 0.73},
}
AUC_TARGET = 0.90


class TestAccuracyPerRun(Callback):
    """Test accuracy of the network at the end of every training run."""

    def __init__(self, X_test, y_test):
        self.X_test, self.y_test = X_test, y_test

    def initialize(self):
        self.accuracies_ = getattr(self, "accuracies_", [])
        return self

    def on_train_end(self, net, **kwargs):
        self.accuracies_.append(float(np.mean(net.predict(self.X_test) == self.y_test)))


def noisy_split(dataset, noise, rate, seed):
    """The benchmark's split of ``dataset`` (a :class:`NoisySplit`), with
    wine's and breast cancer's features standardised on the training part,
    as the benchmark's command line does."""
    return runner.noisy_split(*load_dataset(dataset), noise, rate, seed,
                              standardise=dataset in STANDARDISED)


def evaluate(make_estimator, split):
    """(clean test accuracy, detection AUC, fit seconds) of a fresh estimator."""
    return runner.fit_and_score(make_estimator(), split)


def print_row(label, rate, scores):
    accuracy, auc, seconds = np.array(scores).T
    print(f"{label:<34} {rate:>4.0%} {100 * accuracy.mean():6.2f} ± {100 * accuracy.std():4.2f}"
          f"   AUC {np.nanmean(auc):.3f}   {seconds.mean():6.2f} s", flush=True)
    return accuracy.mean(), np.nanmean(auc)


def compare_on_digits(seeds, makers, rates=(0.3, 0.4)):
    """Print one row per (label, rate) on digits-IDN; see compare_on_other_data.

    Returns
    -------
    summary : dict
        ``(label, rate) -> (mean accuracy, mean AUC)``.
    """
    summary = {}
    for rate in rates:
        splits = [noisy_split("digits", "idn", rate, seed) for seed in seeds]
        for label, make in makers.items():
            scores = [evaluate(lambda: make(seed), split) for seed, split in zip(seeds, splits)]
            summary[label, rate] = print_row(label, rate, scores)
    return summary


OTHER_DATA = [(dataset, noise) for dataset in ("wine", "breast_cancer", "synthetic")
              for noise in ("idn", "symmetric")]


def compare_on_other_data(seeds, makers):
    """Print one row per (data set, noise, label) at 30% noise.

    ``makers`` maps a row label to a function of the seed returning an
    unfitted estimator; every label sees the same splits.
    """
    for dataset, noise in OTHER_DATA:
        splits = [noisy_split(dataset, noise, 0.3, seed) for seed in seeds]
        for label, make in makers.items():
            scores = [evaluate(lambda: make(seed), split) for seed, split in zip(seeds, splits)]
            print_row(f"{dataset} {noise} {label}", 0.3, scores)


def part_digits(seeds, only=None):
    print("== digits-IDN, default parameters ==")
    methods = {"CE": CrossEntropyClassifier, "SEAL": SEALClassifier, "SLN": SLNClassifier}
    methods = {name: cls for name, cls in methods.items() if name in (only or methods)}
    summary, curves = {}, {}
    for rate in (0.1, 0.2, 0.3, 0.4):
        scores = {name: [] for name in methods}
        curves[rate] = []
        for seed in seeds:
            split = noisy_split("digits", "idn", rate, seed)
            for name, estimator_class in methods.items():
                if name == "SEAL":
                    tracker = TestAccuracyPerRun(split.X_test, split.y_test)
                    make = lambda: SEALClassifier(random_state=seed, callbacks=[tracker])  # noqa: E731
                else:
                    make = lambda cls=estimator_class: cls(random_state=seed)  # noqa: E731
                scores[name].append(evaluate(make, split))
                if name == "SEAL":
                    curves[rate].append(tracker.accuracies_)
        for name in methods:
            summary[name, rate] = print_row(name, rate, scores[name])

    if "SEAL" in methods:
        print_seal_curves(curves)
    print_targets(summary)


def print_seal_curves(curves):
    print("\nSEAL test accuracy after each iteration (mean over seeds, %):")
    for rate, runs in curves.items():
        mean = 100 * np.mean(runs, axis=0)
        print(f"  {rate:.0%}: " + " ".join(f"{value:5.1f}" for value in mean))


def print_targets(summary, targets_by_method=TARGETS):
    """Check each method's accuracy targets, that it beats CE at every rate
    10-40%, and its detection AUC at 40%, against a ``compare_on_digits``
    style summary."""
    print("\nTargets:", file=sys.stderr)
    for name, targets in targets_by_method.items():
        if (name, 0.4) not in summary or ("CE", 0.4) not in summary:
            continue
        for rate, target in targets.items():
            got = summary[name, rate][0]
            print(f"  {name} at {rate:.0%}: {100 * got:.2f} >= {100 * target:.1f}  "
                  f"{'met' if got >= target else 'MISSED'}", file=sys.stderr)
        beats = all(summary[name, r][0] > summary["CE", r][0] for r in (0.1, 0.2, 0.3, 0.4))
        print(f"  {name} beats CE at every rate: {'met' if beats else 'MISSED'}",
              file=sys.stderr)
        auc = summary[name, 0.4][1]
        print(f"  {name} detection AUC at 40%: {auc:.3f} >= {AUC_TARGET}  "
              f"{'met' if auc >= AUC_TARGET else 'MISSED'}", file=sys.stderr)


# SLN-MO rows train without label correction (correction_epoch=None), as the
# grid that chose sigma, the epochs and the momentum model did.
SLN_GRID = {
    "SLN-MO sigma=0.2": dict(sigma=0.2, correction_epoch=None),
    "SLN-MO sigma=0.5": dict(sigma=0.5, correction_epoch=None),
    "SLN-MO sigma=1.0": dict(correction_epoch=None),
    "SLN sigma=0.5, no momentum": dict(sigma=0.5, ema_decay=None, correction_epoch=None),
    "SLN-MO sigma=0.5, 50 epochs": dict(sigma=0.5, max_epochs=50, correction_epoch=None),
    "SLN-MO sigma=0.5, 200 epochs": dict(sigma=0.5, max_epochs=200, correction_epoch=None),
    "SLN-MO sigma=1.0, 50 epochs": dict(max_epochs=50, correction_epoch=None),
    "SLN-MO-LC sigma=0.5, LC from 50": dict(sigma=0.5, correction_epoch=50),
    "SLN-MO-LC sigma=1.0, LC from 50 (default)": dict(),
}


#: The candidates for the defaults, also run on the other data sets.
SLN_CANDIDATES = ("SLN-MO sigma=0.5", "SLN-MO sigma=1.0", "SLN-MO sigma=0.5, 50 epochs",
                  "SLN-MO sigma=1.0, 50 epochs")


def part_sln_grid(seeds):
    print("== SLN variants on digits-IDN ==")
    compare_on_digits(seeds, {
        label: lambda seed, params=params: SLNClassifier(random_state=seed, **params)
        for label, params in SLN_GRID.items()
    })
    print("== SLN candidates on other data, 30% noise ==")
    compare_on_other_data(seeds, {
        label: lambda seed, params=SLN_GRID[label]: SLNClassifier(random_state=seed, **params)
        for label in SLN_CANDIDATES
    })


def part_other(seeds):
    print("== defaults on other data, 30% noise ==")
    compare_on_other_data(seeds, {
        "CE": lambda seed: CrossEntropyClassifier(random_state=seed),
        "SEAL": lambda seed: SEALClassifier(random_state=seed),
        "SLN": lambda seed: SLNClassifier(random_state=seed),
    })


class TestAccuracyPerEpoch(Callback):
    """Test accuracy of the network after every epoch."""

    def __init__(self, X_test, y_test):
        self.X_test, self.y_test = X_test, y_test

    def on_epoch_end(self, net, **kwargs):
        net.history.record("test_accuracy",
                           float(np.mean(net.predict(self.X_test) == self.y_test)))


def part_ce_curve(seeds):
    print("== cross-entropy test accuracy per epoch on digits-IDN (early stopping's best) ==")
    for rate in (0.3, 0.4):
        curves = []
        for seed in seeds:
            split = noisy_split("digits", "idn", rate, seed)
            clf = CrossEntropyClassifier(
                random_state=seed, callbacks=[TestAccuracyPerEpoch(split.X_test, split.y_test)])
            curves.append(clf.fit(split.X_train, split.y_noisy).history[:, "test_accuracy"])
        mean = 100 * np.mean(curves, axis=0)
        print(f"  {rate:.0%}: best {mean.max():.1f} at epoch {mean.argmax() + 1}, "
              f"last {mean[-1]:.1f}")


PARTS = {"digits": part_digits, "sln-grid": part_sln_grid, "other": part_other,
         "ce-curve": part_ce_curve}


def run_parts(description, parts):
    """Command line of a benchmark script: ``--seeds N --part NAME|all``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--part", choices=[*parts, "all"], default="digits")
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    for name, part in parts.items():
        if args.part in (name, "all"):
            start = time.perf_counter()
            part(seeds)
            print(f"({name}: {time.perf_counter() - start:.0f} s)\n", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--part", choices=[*PARTS, "all"], default="digits")
    parser.add_argument("--methods", nargs="+", choices=["CE", "SEAL", "SLN"],
                        help="digits part only: run these methods (default: all)")
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    for name, part in PARTS.items():
        if args.part in (name, "all"):
            start = time.perf_counter()
            part(seeds, args.methods) if name == "digits" else part(seeds)
            print(f"({name}: {time.perf_counter() - start:.0f} s)\n", flush=True)


if __name__ == "__main__":
    main()
