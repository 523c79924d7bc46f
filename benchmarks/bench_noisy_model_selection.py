"""Does cross-validation on noisy labels pick the setting that is best on clean labels?

Protocol: digits / 16, stratified 70/30 split (``random_state=0``), the
training labels corrupted at 30% by symmetric class-conditional noise
(``CCNLabelCorruptor``) and by instance-dependent noise
(``IDNLabelCorruptor``), seed 0. A small grid of one estimator is ranked

* by its 5-fold cross-validated accuracy against the *noisy* training labels
  (``GridSearchCV`` on the noisy labels: what a user can compute), and
* by the clean test accuracy of the setting refitted on all noisy training
  labels (what the user wants, unknown in practice).

The ``symmetric prediction`` column is the noisy accuracy that a classifier
of that clean accuracy A would have if the noise were symmetric at the
measured rate r and independent of the input:
``(1 - r) A + r (1 - A) / (K - 1)``; a noisy-CV accuracy above it means the
network has learnt the noise itself.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_noisy_model_selection.py``
(``--grid ce-epochs`` for the cross-entropy epochs grid).
"""

import argparse
import time

import numpy as np
from scipy.stats import kendalltau
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklearn_noisy import CrossEntropyClassifier, SLNClassifier
from sklearn_noisy.benchmark import runner
from sklearn_noisy.benchmark.datasets import load_dataset

GRIDS = {
    "sln-sigma": (SLNClassifier(max_epochs=50, random_state=0),
                  "sigma", [0.0, 0.2, 0.5, 1.0, 2.0]),
    "ce-epochs": (CrossEntropyClassifier(random_state=0),
                  "max_epochs", [5, 10, 25, 50, 100]),
}
SEED = 0


def ranks(values):
    """1 for the largest value."""
    return np.argsort(np.argsort(-np.asarray(values), kind="stable"), kind="stable") + 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", choices=list(GRIDS), default="sln-sigma")
    parser.add_argument("--noise", nargs="+", default=["symmetric", "idn"],
                        choices=["symmetric", "idn", "pair"])
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args()
    estimator, name, values = GRIDS[args.grid]
    X, y = load_dataset("digits")
    n_classes = len(np.unique(y))
    for noise in args.noise:
        start = time.perf_counter()
        split = runner.noisy_split(X, y, noise, args.rate, SEED)
        rate = split.noise_mask.mean()
        search = GridSearchCV(
            estimator, {name: values}, refit=False, n_jobs=args.n_jobs,
            cv=StratifiedKFold(5, shuffle=True, random_state=SEED),
        ).fit(split.X_train, split.y_noisy)
        noisy_cv = search.cv_results_["mean_test_score"]
        clean = np.array([
            clone(estimator).set_params(**{name: value})
            .fit(split.X_train, split.y_noisy).score(split.X_test, split.y_test)
            for value in values
        ])
        predicted = (1 - rate) * clean + rate * (1 - clean) / (n_classes - 1)
        print(f"\n{type(estimator).__name__}, digits, {noise} noise, measured rate "
              f"{rate:.3f} ({time.perf_counter() - start:.0f} s)")
        print(f"{name:>10}  {'noisy-CV acc':>12} {'rank':>4}   {'clean test acc':>14} "
              f"{'rank':>4}   {'symmetric prediction':>20}")
        for value, cv_acc, cv_rank, test_acc, test_rank, guess in zip(
                values, noisy_cv, ranks(noisy_cv), clean, ranks(clean), predicted):
            print(f"{value!s:>10}  {cv_acc:12.3f} {cv_rank:4d}   {test_acc:14.3f} "
                  f"{test_rank:4d}   {guess:20.3f}")
        chosen, best = np.argmax(noisy_cv), np.argmax(clean)
        tau = kendalltau(noisy_cv, clean).statistic
        print(f"noisy CV picks {name}={values[chosen]} (clean {clean[chosen]:.3f}); "
              f"best on clean labels: {name}={values[best]} ({clean[best]:.3f}); "
              f"Kendall tau of the two rankings {tau:.2f}", flush=True)


if __name__ == "__main__":
    main()
