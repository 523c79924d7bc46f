"""Data sets the benchmark can run on."""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_classification

from .image_files import load_image_files

DATASETS = ("digits", "wine", "breast_cancer", "synthetic")
#: data sets whose features the benchmark standardises, on the training part
#: of each split only (fitting on the whole set would leak the test part)
STANDARDISED = ("wine", "breast_cancer")


def load_dataset(name, n_samples=2000):
    """Return ``(X, y)`` as float32 features and integer labels.

    Parameters
    ----------
    name : {"digits", "wine", "breast_cancer", "synthetic"} or path
        ``digits`` is scaled to [0, 1] (X / 16) as in the digits-IDN
        protocol; ``wine`` and ``breast_cancer`` come as they are (the
        benchmark standardises them on each split's training part, see
        :data:`STANDARDISED`);
        ``synthetic`` is ``make_classification`` with 20 features, 10
        informative, 4 classes and ``n_samples`` rows; ``synthetic:N`` makes
        ``N`` rows (``N >= 20``, in ASCII digits). Any other value is read as
        the path of an MNIST/CIFAR folder, a folder of class subfolders
        holding PNG/JPEG images, or an ``.npz`` file
        (:func:`~sklearn_noisy.benchmark.image_files.load_image_files`).
    n_samples : int, default=2000
        Size of ``synthetic``.

    Raises
    ------
    ValueError
        If ``name`` is no known data set, no existing path (or no usable one,
        such as a name too long for the file system), a malformed
        ``synthetic:N``, or a path that ``load_image_files`` refuses.
    """
    name = str(name)
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return (X / 16).astype(np.float32), y
    if name in ("wine", "breast_cancer"):
        loader = load_wine if name == "wine" else load_breast_cancer
        X, y = loader(return_X_y=True)
        return X.astype(np.float32), y
    if name == "synthetic" or name.startswith("synthetic:"):
        if name != "synthetic":
            n_samples = _synthetic_size(name)
        X, y = make_classification(n_samples=n_samples, n_features=20, n_informative=10,
                                   n_classes=4, random_state=0)
        return X.astype(np.float32), y
    try:
        exists = Path(name).exists()
    except (OSError, ValueError) as error:  # a name too long for the file system
        raise ValueError(
            f"{_shown(name)} is neither a known dataset ({', '.join(DATASETS)}) nor a "
            f"usable path: {error.strerror if isinstance(error, OSError) else error}."
        ) from error
    if exists:
        return load_image_files(name)
    if "/" in name or "\\" in name or name.endswith(".npz"):
        raise ValueError(f"{name!r}: no such file or folder.")
    raise ValueError(
        f"unknown dataset {name!r}: choose from {', '.join(DATASETS)}, or give the path "
        "of an MNIST/CIFAR folder, a folder of class subfolders holding PNG/JPEG images, "
        "or an .npz file.")


def _shown(name, limit=80):
    """``repr(name)``, shortened to ``limit`` characters for a very long name."""
    shown = repr(name)
    return shown if len(shown) <= limit else f"{shown[:limit]}... ({len(name)} characters)"


def _synthetic_size(name):
    size = name.split(":", 1)[1]
    # ASCII digits only: str.isdigit() also accepts digits such as "²" that
    # int() cannot read
    if not (size.isascii() and size.isdigit()) or int(size) < 20:
        raise ValueError(
            f"{name!r}: write the size of the synthetic data set as synthetic:N with an "
            "integer N >= 20 in ASCII digits, e.g. synthetic:50000.")
    return int(size)


def check_splittable(y, test_size=0.3):
    """Raise ValueError unless the benchmark's stratified split works on ``y``.

    The benchmark splits every seed's data 70/30, stratified by class: that
    needs two classes or more, two samples of every class, and room for
    every class in both parts.
    """
    classes, counts = np.unique(np.asarray(y), return_counts=True)
    n_samples, n_classes = len(y), len(classes)
    n_test = int(np.ceil(test_size * n_samples))
    if n_classes < 2:
        raise ValueError("it has fewer than two classes; the benchmark needs two or more.")
    if counts.min() < 2:
        raise ValueError(
            f"class {classes[counts.argmin()]} has a single sample; the stratified "
            "train/test split needs two of every class.")
    if min(n_test, n_samples - n_test) < n_classes:
        raise ValueError(
            f"{n_samples} samples are too few for {n_classes} classes in both parts of "
            f"the {1 - test_size:.0%}/{test_size:.0%} train/test split.")
