"""SEAL's training settings on digits-IDN: the evidence for keeping the defaults.

For every configuration, SEALClassifier runs 10 iterations at 30% and 40% IDN
(seeds 0-4) and the test accuracy after each iteration is tracked; the table
shows the best mean over iterations 0-10 and the iteration that reaches it.

Run: ``python benchmarks/bench_seal_settings.py [--seeds 5]``
"""

import argparse

import numpy as np
import torch

from bench_seal_sln import TestAccuracyPerRun, noisy_split
from sklearn_noisy import SEALClassifier

CONFIGS = {
    "defaults (50 epochs)": {},
    "40 epochs": {"max_epochs": 40},
    "30 epochs": {"max_epochs": 30},
    "20 epochs": {"max_epochs": 20},
    "15 epochs": {"max_epochs": 15},
    "batch 128": {"batch_size": 128},
    "30 epochs, batch 128": {"max_epochs": 30, "batch_size": 128},
    "learning rate 3e-3": {"lr": 3e-3},
    "30 epochs, learning rate 5e-4": {"max_epochs": 30, "lr": 5e-4},
    "SGD 0.05, momentum 0.9": {"optimizer": torch.optim.SGD, "lr": 0.05,
                               "optimizer__momentum": 0.9},
    "AdamW, weight decay 0.05": {"optimizer": torch.optim.AdamW,
                                 "optimizer__weight_decay": 0.05},
    "dropout 0.2": {"module__dropout": 0.2},
    "hidden units (128, 128)": {"module__hidden_units": (128, 128)},
    "hidden units (256,)": {"module__hidden_units": (256,)},
    "hidden units (512, 512)": {"module__hidden_units": (512, 512)},
    "30 epochs, hidden units (512,)": {"max_epochs": 30, "module__hidden_units": (512,)},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    splits = {rate: [noisy_split("digits", "idn", rate, seed) for seed in range(args.seeds)]
              for rate in (0.3, 0.4)}
    print(f"{'configuration':<34} {'30% best (iteration)':>22} {'40% best (iteration)':>22}")
    for label, params in CONFIGS.items():
        cells = []
        for rate, rate_splits in splits.items():
            curves = []
            for seed, split in enumerate(rate_splits):
                tracker = TestAccuracyPerRun(split.X_test, split.y_test)
                SEALClassifier(n_iterations=10, random_state=seed, callbacks=[tracker],
                               **params).fit(split.X_train, split.y_noisy)
                curves.append(tracker.accuracies_)
            mean = 100 * np.mean(curves, axis=0)
            cells.append(f"{mean.max():5.1f} ({mean.argmax():2d})")
        print(f"{label:<34} {cells[0]:>22} {cells[1]:>22}", flush=True)


if __name__ == "__main__":
    main()
