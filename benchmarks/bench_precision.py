"""Accuracy and fit time of CrossEntropyClassifier by ``precision``.

Clean digits (``load_digits()`` / 16, stratified 70/30 split), default
parameters, seeds 0-2; mean test accuracy and fit seconds for float32,
bfloat16 and float16 on the chosen device. Reduced precision must not cost
accuracy: bfloat16 keeps >= 95% on the CPU.

Run: ``python benchmarks/bench_precision.py [--device cuda]``
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_noisy import CrossEntropyClassifier

PRECISIONS = ("float32", "bfloat16", "float16")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    print(f"clean digits, CrossEntropyClassifier defaults, device {args.device}, "
          f"seeds {args.seeds}")
    for precision in PRECISIONS:
        scores, seconds = [], []
        for seed in args.seeds:
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.3, stratify=y, random_state=seed)
            start = time.perf_counter()
            clf = CrossEntropyClassifier(precision=precision, device=args.device,
                                         random_state=seed).fit(X_train, y_train)
            seconds.append(time.perf_counter() - start)
            scores.append(clf.score(X_test, y_test))
        print(f"{precision:>9}: accuracy {100 * np.mean(scores):.2f}% "
              f"(min {100 * np.min(scores):.2f}), fit {np.mean(seconds):.1f} s")


if __name__ == "__main__":
    main()
