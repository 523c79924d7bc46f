"""Clean-label accuracy of CrossEntropyClassifier's defaults, and alternatives.

Issue #2 target: on scikit-learn's digits (X / 16, stratified 70/30 split)
CrossEntropyClassifier with its defaults reaches >= 96% test accuracy. The
defaults must also serve other data, so the same configurations run on
breast cancer, wine (standardised) and a synthetic make_classification task.

Run: ``python benchmarks/bench_core_accuracy.py [--seeds 5] [--configs all]``
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_noisy import CrossEntropyClassifier

CONFIGS = {
    "defaults (Adam 1e-3, 50 ep, batch 64)": {},
    "Adam 1e-3, 100 epochs": {"max_epochs": 100},
    "Adam 1e-3, 200 epochs": {"max_epochs": 200},
    "Adam 1e-3, batch 128": {"batch_size": 128},
    "SGD 0.05 momentum 0.9": {"optimizer": torch.optim.SGD, "lr": 0.05,
                              "optimizer__momentum": 0.9},
}


def datasets():
    X, y = load_digits(return_X_y=True)
    yield "digits", (X / 16).astype(np.float32), y
    for name, loader in [("breast_cancer", load_breast_cancer), ("wine", load_wine)]:
        X, y = loader(return_X_y=True)
        yield name, StandardScaler().fit_transform(X).astype(np.float32), y
    X, y = make_classification(n_samples=3000, n_features=20, n_informative=10,
                               n_classes=4, random_state=0)
    yield "synthetic", X.astype(np.float32), y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--configs", default="defaults",
                        help="'defaults' or 'all' (the alternatives too)")
    args = parser.parse_args()
    configs = CONFIGS if args.configs == "all" else dict(list(CONFIGS.items())[:1])

    print(f"{'dataset':<14} {'configuration':<40} {'accuracy':>16} {'fit s':>7}")
    for name, X, y in datasets():
        for label, params in configs.items():
            scores, times = [], []
            for seed in range(args.seeds):
                X_train, X_test, y_train, y_test = train_test_split(
                    X, y, test_size=0.3, stratify=y, random_state=seed)
                start = time.perf_counter()
                clf = CrossEntropyClassifier(random_state=seed, **params).fit(X_train, y_train)
                times.append(time.perf_counter() - start)
                scores.append(clf.score(X_test, y_test))
            print(f"{name:<14} {label:<40} {np.mean(scores):7.4f} ± {np.std(scores):.4f} "
                  f"{np.mean(times):7.2f}", flush=True)


if __name__ == "__main__":
    main()
