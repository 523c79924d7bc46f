"""Image data sets from local files, in the formats torchvision keeps on disk.

No download happens here: point the benchmark at files you already have.

* MNIST-style folders (MNIST, Fashion-MNIST, KMNIST): the IDX files
  ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` and, when
  present, ``t10k-*``, plain or ``.gz``, anywhere below the folder
  (torchvision puts them in ``MNIST/raw``).
* CIFAR folders: ``cifar-10-batches-py`` (``data_batch_1`` ... ``5`` and
  ``test_batch``) or ``cifar-100-python`` (``train`` and ``test``, fine
  labels), the pickled batches of the original archives.
* ``.npz`` files with arrays ``X`` and ``y``, or ``x_train`` / ``y_train``
  (and optionally ``x_test`` / ``y_test``) as Keras saves MNIST.

The benchmark makes its own train/test split, so the files' train and test
parts are concatenated. Pixels become float32 in [0, 1], channels first.
"""

import gzip
import pickle
from pathlib import Path

import numpy as np


def load_image_files(path):
    """Return ``(X, y)`` from an MNIST/CIFAR folder or an ``.npz`` file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    X : ndarray of float32, shape (n_samples, C, H, W)
    y : ndarray of int64, shape (n_samples,)
    """
    path = Path(path)
    if path.is_file() and path.suffix == ".npz":
        X, y = _load_npz(path)
    elif path.is_dir():
        X, y = _load_folder(path)
    else:
        raise ValueError(
            f"{str(path)!r} is neither an .npz file nor a folder of MNIST IDX files "
            "or CIFAR batches.")
    return _as_float_images(X), np.asarray(y, dtype=np.int64).ravel()


def _load_npz(path):
    with np.load(path, allow_pickle=False) as arrays:
        names = set(arrays.files)
        if {"X", "y"} <= names:
            return arrays["X"], arrays["y"]
        if {"x_train", "y_train"} <= names:
            parts = ["train"] + (["test"] if {"x_test", "y_test"} <= names else [])
            return (np.concatenate([arrays[f"x_{part}"] for part in parts]),
                    np.concatenate([arrays[f"y_{part}"] for part in parts]))
    raise ValueError(
        f"{path} must hold arrays 'X' and 'y', or 'x_train' and 'y_train'; "
        f"it holds {sorted(names)}.")


def _load_folder(folder):
    for loader in (_load_mnist, _load_cifar10, _load_cifar100):
        loaded = loader(folder)
        if loaded is not None:
            return loaded
    raise ValueError(
        f"no MNIST IDX files (train-images-idx3-ubyte) nor CIFAR batches "
        f"(cifar-10-batches-py, cifar-100-python) found under {folder}.")


def _find(folder, name):
    """The first file under ``folder`` named ``name`` or ``name.gz``."""
    for candidate in (name, name + ".gz"):
        found = sorted(folder.rglob(candidate))
        if found:
            return found[0]
    return None


def _read_idx(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file.")
    n_dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(n_dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims).reshape(shape)


def _load_mnist(folder):
    images = _find(folder, "train-images-idx3-ubyte")
    if images is None:
        return None
    X = [_read_idx(images)]
    y = [_read_idx(_find(folder, "train-labels-idx1-ubyte"))]
    test_images = _find(folder, "t10k-images-idx3-ubyte")
    if test_images is not None:
        X.append(_read_idx(test_images))
        y.append(_read_idx(_find(folder, "t10k-labels-idx1-ubyte")))
    return np.concatenate(X), np.concatenate(y)


def _unpickle(path):
    with open(path, "rb") as handle:
        return pickle.load(handle, encoding="bytes")


def _cifar_images(batch):
    return np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)


def _load_cifar10(folder):
    batches = sorted(folder.rglob("data_batch_*"))
    if not batches:
        return None
    batches += sorted(folder.rglob("test_batch"))
    loaded = [_unpickle(path) for path in batches]
    return (np.concatenate([_cifar_images(batch) for batch in loaded]),
            np.concatenate([batch[b"labels"] for batch in loaded]))


def _load_cifar100(folder):
    root = next(iter(sorted(folder.rglob("cifar-100-python"))), None)
    if root is None:
        return None
    loaded = [_unpickle(root / part) for part in ("train", "test") if (root / part).exists()]
    return (np.concatenate([_cifar_images(batch) for batch in loaded]),
            np.concatenate([batch[b"fine_labels"] for batch in loaded]))


def _as_float_images(X):
    """float32 in [0, 1], channels first: (n, H, W) -> (n, 1, H, W)."""
    X = np.asarray(X)
    if X.ndim == 3:
        X = X[:, None]
    elif X.ndim == 4 and X.shape[-1] in (1, 3) and X.shape[1] not in (1, 3):
        X = X.transpose(0, 3, 1, 2)  # channels last, as Keras and PIL keep them
    elif X.ndim != 4:
        raise ValueError(f"images must have 3 or 4 dimensions; got shape {X.shape}.")
    scale = 255.0 if X.dtype == np.uint8 else 1.0
    return np.ascontiguousarray(X, dtype=np.float32) / np.float32(scale)
