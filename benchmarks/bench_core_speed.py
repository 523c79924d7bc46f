"""Fit time of CrossEntropyClassifier against a hand-written PyTorch loop.

Same work on both sides: MLP 64-256-256-4, SGD (lr 0.05, momentum 0.9),
batch 64, 5 epochs, 20,000 x 64 float32 samples, CPU. The runs alternate (and
swap order every repeat) in one process and the median of ``--repeats`` runs is compared. Plain skorch
(``NeuralNetClassifier`` with its DataLoader, no validation split) is timed
alongside for reference.

Target (issue #2): CrossEntropyClassifier / hand-written <= 1.10.

Run: ``python benchmarks/bench_core_speed.py``
"""

import argparse
import statistics
import time

import numpy as np
import torch
from skorch import NeuralNetClassifier

from sklearn_noisy import CrossEntropyClassifier
from sklearn_noisy.networks import MLP

N_SAMPLES, N_FEATURES, N_CLASSES = 20_000, 64, 4
EPOCHS, BATCH_SIZE, LR, MOMENTUM = 5, 64, 0.05, 0.9


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES)).astype(np.float32)
    w = rng.standard_normal((N_FEATURES, N_CLASSES)).astype(np.float32)
    y = (X @ w).argmax(axis=1).astype(np.int64)
    return X, y


def fit_hand_written(X, y, seed):
    """The loop a PyTorch user writes: tensors, randperm, index batches."""
    torch.manual_seed(seed)
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    model = MLP(N_FEATURES, N_CLASSES)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    model.train()
    for _ in range(EPOCHS):
        for idx in torch.randperm(len(X_t)).split(BATCH_SIZE):
            loss = torch.nn.functional.cross_entropy(model(X_t[idx]), y_t[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def fit_package(X, y, seed):
    return CrossEntropyClassifier(
        max_epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        lr=LR,
        optimizer=torch.optim.SGD,
        optimizer__momentum=MOMENTUM,
        random_state=seed,
    ).fit(X, y)


class _ProbaMLP(MLP):
    def forward(self, X):
        return torch.softmax(super().forward(X), dim=1)


def fit_plain_skorch(X, y, seed):
    torch.manual_seed(seed)
    return NeuralNetClassifier(
        _ProbaMLP,
        module__n_features=N_FEATURES,
        module__n_classes=N_CLASSES,
        max_epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        lr=LR,
        optimizer=torch.optim.SGD,
        optimizer__momentum=MOMENTUM,
        iterator_train__shuffle=True,
        train_split=None,
        verbose=0,
    ).fit(X, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-skorch", action="store_true",
                        help="skip the plain-skorch reference timing")
    args = parser.parse_args()

    X, y = make_data()
    runners = {"hand-written": fit_hand_written, "CrossEntropyClassifier": fit_package}
    if not args.no_skorch:
        runners["plain skorch"] = fit_plain_skorch
    times = {name: [] for name in runners}
    fit_hand_written(X[:2000], y[:2000], 0)  # warm-up: thread pools, allocator
    for repeat in range(args.repeats):
        # alternate who runs first, so neither side inherits a warm cache
        order = list(runners.items())
        for name, fit in order if repeat % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            fit(X, y, repeat)
            times[name].append(time.perf_counter() - start)

    base = statistics.median(times["hand-written"])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"median of {args.repeats}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:>24}: {median:7.3f} s   ratio {median / base:5.3f}   "
              f"runs {', '.join(f'{v:.3f}' for v in values)}")
    ratio = statistics.median(times["CrossEntropyClassifier"]) / base
    print(f"fit-time ratio CrossEntropyClassifier / hand-written = {ratio:.3f} "
          f"(target <= 1.10: {'met' if ratio <= 1.10 else 'NOT met'})")


if __name__ == "__main__":
    main()
