"""Out-of-fold label-issue detection with ``find_label_issues`` on digits-IDN.

Protocol: X = digits / 16 (float32), stratified 70/30 split with
``random_state=0``, ``IDNLabelCorruptor(noise_rate=0.3, random_state=0)`` on
the training part; only the 1257 training samples are used. Every method runs
through ``find_label_issues(estimator, X, y_noisy, cv=5, random_state=0)``
(5 shuffled stratified folds) and is compared with the corruptor's
``noise_mask_``:

* ROC-AUC of the out-of-fold ``noise_score`` (targets: cross-entropy >= 0.85,
  1-nearest-neighbour >= 0.65), and of the in-sample scores of one fit on
  all samples (``noise_scores_``; ``1 - p(given label)`` for 1-NN) for
  comparison;
* precision and recall of ``is_label_issue`` (default ``filter_by``, and
  ``'predicted_neq_given'``, which needs no second run);
* the estimated noise rate ``attrs["noise_rate"]`` against the true one.

For reference, cleanlab's ``filter.find_label_issues`` (its default,
``filter_by='prune_by_noise_rate'``) on cross-entropy's out-of-fold
probabilities from ``cross_val_predict`` over the same folds, when cleanlab
is installed. SEAL runs with ``n_iterations=3`` to keep the script short.

``--noise symmetric`` replaces the IDN corruptor by 30% symmetric
class-conditional noise (``CCNLabelCorruptor``), under which confident
learning's assumptions hold.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_label_issues.py``
(``--methods ce knn`` for a subset).
"""

import argparse
import sys
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

from sklearn_noisy import (
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    SEALClassifier,
    SLNClassifier,
    find_label_issues,
)
from sklearn_noisy.benchmark import runner
from sklearn_noisy.benchmark.datasets import load_dataset

METHODS = {
    "ce": ("CE", lambda: CrossEntropyClassifier(random_state=0)),
    "seal": ("SEAL (3 iterations)", lambda: SEALClassifier(n_iterations=3, random_state=0)),
    "sln": ("SLN", lambda: SLNClassifier(random_state=0)),
    "confusion-em": ("ConfusionEM", lambda: ConfusionEMClassifier(random_state=0)),
    "flywheel": ("Flywheel", lambda: FlywheelClassifier(random_state=0)),
    "knn": ("1-NN", lambda: KNeighborsClassifier(n_neighbors=1)),
}
AUC_TARGETS = {"ce": 0.85, "knn": 0.65}
SEED = 0


def precision_recall(flagged, flipped):
    precision = flipped[flagged].mean() if flagged.any() else float("nan")
    return precision, flagged[flipped].mean()


def in_sample_scores(estimator, X, y):
    """The noise scores of a fit on all samples, judged by that fit."""
    estimator.fit(X, y)
    if hasattr(estimator, "noise_scores_"):
        return estimator.noise_scores_
    return 1 - estimator.predict_proba(X)[np.arange(len(y)), y]


def row(name, in_sample, auc, by_class, by_argmax, rate, seconds):
    return (f"{name:<20} {in_sample:9.3f} {auc:6.3f}   "
            f"{by_class[0]:5.3f} {by_class[1]:5.3f}   "
            f"{by_argmax[0]:5.3f} {by_argmax[1]:5.3f}   {rate:6.3f}   {seconds:6.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--noise", choices=["idn", "symmetric"], default="idn")
    args = parser.parse_args()

    split = runner.noisy_split(*load_dataset("digits"), args.noise, 0.3, SEED)
    X, y, flipped = split.X_train, split.y_noisy, split.noise_mask
    print(f"digits, {args.noise} noise 30%, seed {SEED}: {len(y)} training samples, "
          "true noise rate "
          f"{flipped.mean():.3f}")
    print(f"{'':<20} {'in-sample':>9} {'out-of-fold':>31}")
    print(f"{'method':<20} {'AUC':>9} {'AUC':>6}   {'prune_by_class':>11}   "
          f"{'pred_neq_given':>11}   {'rate':>6}   {'seconds':>6}")
    print(f"{'':<20} {'':>9} {'':>6}   {'prec':>5} {'rec':>5}   {'prec':>5} {'rec':>5}")
    failures = []
    for key in args.methods:
        name, make = METHODS[key]
        start = time.perf_counter()
        issues = find_label_issues(make(), X, y, cv=5, random_state=SEED).sort_index()
        seconds = time.perf_counter() - start
        auc = roc_auc_score(flipped, issues["noise_score"])
        by_argmax = (issues["given_label"] != issues["corrected_label"]).to_numpy()
        in_sample = roc_auc_score(flipped, in_sample_scores(make(), X, y))
        flagged = issues["is_label_issue"].to_numpy()
        print(row(name, in_sample, auc, precision_recall(flagged, flipped),
                  precision_recall(by_argmax, flipped), issues.attrs["noise_rate"], seconds),
              flush=True)
        if args.noise == "idn" and key in AUC_TARGETS and auc < AUC_TARGETS[key]:
            failures.append(f"{name}: AUC {auc:.3f} < {AUC_TARGETS[key]}")
    if "ce" in args.methods:
        cleanlab_reference(X, y, flipped)
    for failure in failures:
        print("BELOW TARGET", failure, file=sys.stderr)


def cleanlab_reference(X, y, flipped):
    """cleanlab's default filter on cross-entropy's out-of-fold probabilities."""
    try:
        from cleanlab.count import num_label_issues
        from cleanlab.filter import find_label_issues as cleanlab_find_label_issues
    except ImportError:
        print("cleanlab is not installed: no reference row")
        return
    start = time.perf_counter()
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    proba = cross_val_predict(CrossEntropyClassifier(random_state=0), X, y, cv=folds,
                              method="predict_proba")
    flagged = cleanlab_find_label_issues(y, proba)
    auc = roc_auc_score(flipped, 1 - proba[np.arange(len(y)), y])
    precision, recall = precision_recall(flagged, flipped)
    print(f"{'cleanlab on CE':<20} {'':>9} {auc:6.3f}   prune_by_noise_rate: precision "
          f"{precision:5.3f} recall {recall:5.3f}   estimated rate "
          f"{num_label_issues(y, proba) / len(y):6.3f}   "
          f"{time.perf_counter() - start:4.0f} s")


if __name__ == "__main__":
    main()
