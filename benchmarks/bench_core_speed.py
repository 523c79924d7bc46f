"""Fit time of CrossEntropyClassifier against hand-written PyTorch loops.

Three comparisons (``--part``), each timed side by side in one process: the
runs alternate (swapping order every repeat) and the medians of
``--repeats`` runs are compared.

``arrays``
    MLP 64-256-256-4, SGD (lr 0.05, momentum 0.9), batch 64, 5 epochs,
    20,000 x 64 float32 samples in memory, against the loop a PyTorch user
    writes (tensors, ``randperm``, index batches). Plain skorch
    (``NeuralNetClassifier`` with its DataLoader) is timed for reference.
    Target: ratio <= 1.10.
``dataset``
    The same MLP and data as a map-style ``Dataset`` of ``(x, label)``
    pairs, against a hand-written ``DataLoader`` loop (``num_workers=0``,
    shuffled, batch 64, 5 epochs) followed by the same in-order pass that
    gives CrossEntropyClassifier its noise scores. Target: ratio <= 1.15.
``images``
    The default SmallCNN on 3,000 28x28 one-channel images, Adam, batch
    64, 5 epochs, in memory, against a hand-written loop on the same
    network (in PyTorch's default NCHW layout, without the extra pass).
    Target: ratio <= 1.10. CrossEntropyClassifier is timed with its default
    NHWC layout and with ``channels_last=False`` (the same layout as the
    hand-written loop: the package's own overhead). It also prints
    what an evaluation pass over the training set costs as a fraction of a
    training epoch: the price SEALClassifier pays every epoch to record
    its soft labels.

Run: ``python benchmarks/bench_core_speed.py --part arrays|dataset|images``
"""

import argparse
import statistics
import sys
import time

import numpy as np
import torch
from skorch import NeuralNetClassifier
from torch.utils.data import DataLoader, Dataset

from sklearn_noisy import CrossEntropyClassifier
from sklearn_noisy.networks import MLP, SmallCNN

N_SAMPLES, N_FEATURES, N_CLASSES = 20_000, 64, 4
EPOCHS, BATCH_SIZE, LR, MOMENTUM = 5, 64, 0.05, 0.9


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES)).astype(np.float32)
    w = rng.standard_normal((N_FEATURES, N_CLASSES)).astype(np.float32)
    y = (X @ w).argmax(axis=1).astype(np.int64)
    return X, y


def train_hand_written(model, optimizer, X, y):
    """The loop a PyTorch user writes: tensors, randperm, index batches."""
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    model.train()
    for _ in range(EPOCHS):
        for idx in torch.randperm(len(X_t)).split(BATCH_SIZE):
            loss = torch.nn.functional.cross_entropy(model(X_t[idx]), y_t[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def fit_hand_written(X, y, seed):
    torch.manual_seed(seed)
    model = MLP(N_FEATURES, N_CLASSES)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    return train_hand_written(model, optimizer, X, y)


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


class Pairs(Dataset):
    """A map-style Dataset of ``(x, label)`` pairs, one sample per item."""

    def __init__(self, X, y):
        self.X, self.y = torch.as_tensor(X), torch.as_tensor(y)
        self.targets = y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        return self.X[index], self.y[index]


def fit_hand_written_loader(dataset, seed):
    """A DataLoader loop, then the in-order pass for the noise scores."""
    torch.manual_seed(seed)
    model = MLP(N_FEATURES, N_CLASSES)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    model.train()
    for _ in range(EPOCHS):
        for X_batch, y_batch in DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True):
            loss = torch.nn.functional.cross_entropy(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        scores = [
            1 - torch.softmax(model(X_batch), dim=1).gather(1, y_batch[:, None])
            for X_batch, y_batch in DataLoader(dataset, batch_size=4096)
        ]
    return model, torch.cat(scores)


def fit_package_dataset(dataset, seed):
    return fit_package(dataset, None, seed)


IMAGE_SHAPE, N_IMAGES, IMAGE_LR = (1, 28, 28), 3_000, 1e-3


def make_images(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((N_IMAGES, *IMAGE_SHAPE), dtype=np.float32)
    y = (X[:, 0, :14].mean(axis=(1, 2)) > X[:, 0, 14:].mean(axis=(1, 2))).astype(np.int64)
    y += 2 * (X[:, 0, :, :14].mean(axis=(1, 2)) > 0.5)
    return X, y


def fit_hand_written_images(X, y, seed):
    torch.manual_seed(seed)
    model = SmallCNN(IMAGE_SHAPE, 4)
    optimizer = torch.optim.Adam(model.parameters(), lr=IMAGE_LR)
    return train_hand_written(model, optimizer, X, y)


def fit_package_images(X, y, seed, channels_last="auto"):
    return CrossEntropyClassifier(
        max_epochs=EPOCHS, batch_size=BATCH_SIZE, lr=IMAGE_LR, random_state=seed,
        channels_last=channels_last,
    ).fit(X, y)


def fit_package_images_nchw(X, y, seed):
    """The same layout as the hand-written loop: the package's own overhead."""
    return fit_package_images(X, y, seed, channels_last=False)


def recording_fraction(X, y):
    """Seconds of an eval pass over the training set / of a training epoch."""
    clf = fit_package_images(X, y, 0)
    epoch = statistics.median(clf.history_[:, "dur"])
    # the estimator's own evaluation pass: its inference batch size, memory
    # format and precision, as SEAL's recording runs it every epoch
    X_t = torch.as_tensor(X)
    passes = []
    for _ in range(5):
        start = time.perf_counter()
        clf.eval_proba(X_t)
        passes.append(time.perf_counter() - start)
    return statistics.median(passes), epoch


def time_side_by_side(runners, data, repeats):
    times = {name: [] for name in runners}
    for repeat in range(repeats):
        # alternate who runs first, so neither side inherits a warm cache
        order = list(runners.items())
        for name, fit in order if repeat % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            fit(*data, repeat)
            times[name].append(time.perf_counter() - start)
            print(f"  run {repeat + 1}: {name} {times[name][-1]:.3f} s", file=sys.stderr,
                  flush=True)
    return times


def report(times, reference, candidate, target, repeats):
    base = statistics.median(times[reference])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"median of {repeats}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:>28}: {median:7.3f} s   ratio {median / base:5.3f}   "
              f"runs {', '.join(f'{v:.3f}' for v in values)}")
    ratio = statistics.median(times[candidate]) / base
    print(f"fit-time ratio {candidate} / {reference} = {ratio:.3f}")
    print(f"target <= {target:.2f}: {'met' if ratio <= target else 'NOT met'}",
          file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["arrays", "dataset", "images"], default="arrays")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-skorch", action="store_true",
                        help="skip the plain-skorch reference timing (arrays)")
    args = parser.parse_args()

    X, y = make_data()
    fit_hand_written(X[:2000], y[:2000], 0)  # warm-up: thread pools, allocator
    if args.part == "arrays":
        runners = {"hand-written": fit_hand_written, "CrossEntropyClassifier": fit_package}
        if not args.no_skorch:
            runners["plain skorch"] = fit_plain_skorch
        times = time_side_by_side(runners, (X, y), args.repeats)
        report(times, "hand-written", "CrossEntropyClassifier", 1.10, args.repeats)
    elif args.part == "dataset":
        runners = {"hand-written DataLoader": fit_hand_written_loader,
                   "CrossEntropyClassifier": fit_package_dataset}
        times = time_side_by_side(runners, (Pairs(X, y),), args.repeats)
        report(times, "hand-written DataLoader", "CrossEntropyClassifier", 1.15,
               args.repeats)
    else:
        X, y = make_images()
        runners = {"hand-written": fit_hand_written_images,
                   "CrossEntropyClassifier": fit_package_images,
                   "CE, channels_last=False": fit_package_images_nchw}
        times = time_side_by_side(runners, (X, y), args.repeats)
        report(times, "hand-written", "CrossEntropyClassifier", 1.10, args.repeats)
        nchw = statistics.median(times["CE, channels_last=False"])
        print(f"same layout as the hand-written loop (NCHW): ratio "
              f"{nchw / statistics.median(times['hand-written']):.3f}")
        seconds, epoch = recording_fraction(X, y)
        print(f"evaluation pass over the training set: {seconds:.3f} s, a training "
              f"epoch: {epoch:.3f} s; fraction {seconds / epoch:.2f}")
        print(f"target <= 0.50: {'met' if seconds / epoch <= 0.5 else 'NOT met'}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
