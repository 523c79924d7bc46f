"""Image data sets from local files, in the formats torchvision keeps on disk.

No download happens here: point the benchmark at files you already have.

* MNIST-style folders (MNIST, Fashion-MNIST, KMNIST): the IDX files
  ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` and, when
  present, ``t10k-images-idx3-ubyte`` / ``t10k-labels-idx1-ubyte``, plain or
  ``.gz``, in one folder anywhere below the path (torchvision puts them in
  ``MNIST/raw``).
* CIFAR folders: ``cifar-10-batches-py`` (``data_batch_1`` ... ``5`` and
  ``test_batch``) or ``cifar-100-python`` (``train`` and ``test``, fine
  labels), the pickled batches of the original archives.
* ``.npz`` files with arrays ``X`` and ``y``, or ``x_train`` / ``y_train``
  (and optionally ``x_test`` / ``y_test``) as Keras saves MNIST.
* Folders of PNG and JPEG images in one subfolder per class,
  ``path/<class name>/<image>``, read with
  :class:`~sklearn_noisy.datasets.ImageFolder` (the path itself must be that
  folder). The images must all have one size; they become one greyscale channel
  when every image is greyscale, three RGB channels otherwise.

The benchmark makes its own train/test split, so the files' train and test
parts are concatenated. Images come out as float32, channels first, with one
pixel rule for every format: ``uint8`` pixels are divided by 255, floating-point
pixels already within [0, 1] are kept, and anything else (other integer types,
floats beyond [0, 1], NaN or infinity) is refused. Labels must be integers;
integer-valued floats such as ``1.0`` are accepted, and they must fit int64.
Images need at least one pixel.

Every file that cannot be read faithfully raises :class:`ValueError` naming the
file and the problem, as does a path below which several data sets are found
(point the path at one of them) or none. CIFAR batches are unpickled with an
unpickler that only rebuilds numpy arrays; a batch asking for anything else
raises :class:`UnsafePickleError` (a ``ValueError`` too) before any of it runs.
"""

import gzip
import math
import os
import pickle
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .._images import is_image_file, read_header
from ..datasets import ImageFolder

try:
    from numpy._core import multiarray as _multiarray, numeric as _numeric
except ImportError:  # numpy < 2
    from numpy.core import multiarray as _multiarray, numeric as _numeric

_MNIST_NAMES = {f"{part}-{kind}" for part in ("train", "t10k")
                for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")}
_CIFAR10_NAME = re.compile(r"data_batch_\d+|test_batch")
_IMAGE_CLASSES = "PNG/JPEG images in class subfolders"
# Pillow modes of greyscale PNG and JPEG files
_GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N"}


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A CIFAR batch asked the unpickler for something other than numpy arrays."""


def load_image_files(path):
    """Return ``(X, y)`` from an MNIST/CIFAR folder, an image folder or an ``.npz`` file.

    Parameters
    ----------
    path : str or Path
        An ``.npz`` file, a folder with exactly one MNIST or CIFAR data set
        below it, or a folder of class subfolders holding PNG or JPEG images.

    Returns
    -------
    X : ndarray of float32, shape (n_samples, C, H, W)
        ``uint8`` pixels divided by 255, or float pixels within [0, 1] as given.
    y : ndarray of int64, shape (n_samples,)

    Raises
    ------
    ValueError
        If the files cannot be read faithfully (truncated or corrupt, missing
        parts, an ``.npz`` path holding a plain ``.npy`` array, images without
        pixels, pixels outside the rule above, non-integer labels or labels
        beyond int64, X and y of different lengths, images of different sizes
        in an image folder or parts of different image shapes), the path is
        unusable, or the folder holds several data sets or none.
    UnsafePickleError
        If a CIFAR batch refers to anything but numpy arrays. Subclasses both
        ``pickle.UnpicklingError`` and ``ValueError``.
    """
    path = Path(path)
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
    except (OSError, ValueError) as error:  # a name too long, a NUL byte
        problem = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise ValueError(f"{str(path)!r} is not a usable path: {problem}.") from error
    if is_file and path.suffix == ".npz":
        parts = _load_npz(path)
    elif is_dir:
        parts = _load_folder(path)
    else:
        raise ValueError(
            f"{str(path)!r} is neither an .npz file nor a folder of MNIST IDX files, "
            "CIFAR batches or class subfolders of PNG/JPEG images.")
    return _stack(parts)


def _load_npz(path):
    """``(X, y, source)`` parts of an ``.npz`` file."""
    # what a damaged archive can raise: a bad zip, a corrupt deflate stream,
    # an unsupported compression method, an encrypted member, a bad .npy header
    damaged = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error,
               NotImplementedError, RuntimeError)
    try:
        loaded = np.load(path, allow_pickle=False)
    except damaged as error:
        raise ValueError(f"{path} cannot be read as an .npz file: {error}") from error
    if not isinstance(loaded, np.lib.npyio.NpzFile):  # np.load read a plain .npy
        raise ValueError(
            f"{path} is a .npy array, not an .npz archive: save the images and labels "
            "together with np.savez(path, X=images, y=labels).")
    try:
        with loaded as npz:
            names = sorted(npz.files)
            _check_declared_sizes(npz.zip, path)
            arrays = {name: npz[name] for name in names
                      if name in ("X", "y", "x_train", "y_train", "x_test", "y_test")}
    except damaged as error:
        raise ValueError(f"{path} cannot be read as an .npz file: {error}") from error
    if {"X", "y"} <= arrays.keys():
        return [(arrays["X"], arrays["y"], f"{path} (X, y)")]
    if {"x_train", "y_train"} <= arrays.keys():
        if len({"x_test", "y_test"} & arrays.keys()) == 1:
            raise ValueError(
                f"{path} holds only one of 'x_test' and 'y_test'; save both or neither.")
        parts = ["train"] + (["test"] if "x_test" in arrays else [])
        return [(arrays[f"x_{part}"], arrays[f"y_{part}"], f"{path} (x_{part}, y_{part})")
                for part in parts]
    raise ValueError(
        f"{path} must hold arrays 'X' and 'y', or 'x_train' and 'y_train'; "
        f"it holds {names}.")


def _load_folder(folder):
    """The parts of the one data set found at or below ``folder``."""
    found = {}  # (kind, folder) -> {file name: path}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = file.name[:-3] if file.name.endswith(".gz") else file.name
        if name in _MNIST_NAMES:
            kind = "MNIST IDX files"
        elif _CIFAR10_NAME.fullmatch(file.name):
            kind = "CIFAR-10 batches"
        elif file.parent.name == "cifar-100-python" and file.name in ("train", "test"):
            kind = "CIFAR-100 batches"
        else:
            continue
        # a plain IDX file wins over its .gz, as torchvision keeps both in raw/
        found.setdefault((kind, file.parent), {}).setdefault(name, file)
    if _has_image_classes(folder):
        found[_IMAGE_CLASSES, folder] = {}
    if not found:
        raise ValueError(
            f"no MNIST IDX files (train-images-idx3-ubyte and train-labels-idx1-ubyte, "
            "plain or .gz), CIFAR-10 batches (data_batch_1 ... and test_batch) nor "
            f"cifar-100-python folder (train and test) found under {folder}, and it is "
            "not a folder of class subfolders holding PNG/JPEG images "
            "(path/<class name>/<image>).")
    if len(found) > 1:
        listed = "".join(f"\n  {where} ({kind})" for kind, where in sorted(found))
        raise ValueError(
            f"several data sets under {folder}:{listed}\npoint --dataset (the path) at "
            "one of these folders.")
    [((kind, where), files)] = found.items()
    if kind == _IMAGE_CLASSES:
        return [_load_image_classes(where)]
    if kind == "MNIST IDX files":
        return _load_mnist(where, files)
    if kind == "CIFAR-10 batches":
        test, labels = "test_batch", "labels"
    else:
        test, labels = "test", "fine_labels"
    # by length first: data_batch_2 before data_batch_10
    train = sorted((name for name in files if name != test), key=lambda name: (len(name), name))
    if not train:
        raise ValueError(f"{where} holds only {test}, no training batch.")
    names = train + [test] * (test in files)
    return [_cifar_part(files[name], labels) for name in names]


def _has_image_classes(folder):
    """Whether a subfolder of ``folder`` holds PNG or JPEG files directly."""
    for entry in folder.iterdir():
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        with os.scandir(entry) as files:
            if any(is_image_file(file) for file in files):
                return True
    return False


def _load_image_classes(folder):
    """``(X, y, source)`` of a folder of class subfolders, every image decoded once."""
    listed = ImageFolder(folder)  # refuses empty class folders
    sizes, grey = {}, True
    for path, _ in listed.samples:  # headers only, to refuse mixed sizes before decoding
        (width, height), mode = read_header(path)
        sizes.setdefault((height, width), []).append(path)
        grey = grey and mode in _GREY_MODES
    if len(sizes) > 1:
        found = ", ".join(
            f"{height}x{width} ({len(paths)} image{'s' * (len(paths) > 1)}, e.g. {paths[0]})"
            for (height, width), paths in sorted(sizes.items(),
                                                 key=lambda item: -len(item[1]))[:5])
        raise ValueError(
            f"the images under {folder} have {len(sizes)} different sizes (height x "
            f"width): {found}. The benchmark needs one size: resize them first, for "
            "example to 32x32 with folder = sklearn_noisy.datasets.ImageFolder(path, "
            "size=(32, 32)); np.savez('images.npz', X=np.stack([image.numpy() for "
            "image in folder]), y=folder.targets), then pass --dataset images.npz.")
    images = ImageFolder(folder, mode="L" if grey else "RGB")
    [(height, width)] = sizes
    X = np.empty((len(images), 1 if grey else 3, height, width), dtype=np.float32)
    for index in range(len(images)):
        X[index] = images[index].numpy()
    return X, images.targets.copy(), f"{folder} ({len(images.classes)} class folders)"


def _load_mnist(folder, files):
    parts = []
    for part in ("train", "t10k"):
        names = (f"{part}-images-idx3-ubyte", f"{part}-labels-idx1-ubyte")
        present = [name for name in names if name in files]
        if part == "t10k" and not present:
            continue
        for name in names:
            if name not in files:
                raise ValueError(f"{folder}: {name} (plain or .gz) is missing.")
        images, labels = (_read_idx(files[name]) for name in names)
        if images.ndim != 3 or labels.ndim != 1:
            raise ValueError(
                f"{files[names[0]]} must hold (n, H, W) images and {files[names[1]]} "
                f"(n,) labels; their headers say {images.shape} and {labels.shape}.")
        parts.append((images, labels, f"{files[names[0]]} and {files[names[1]]}"))
    return parts


def _check_declared_sizes(archive, path):
    """Refuse an archive member whose size differs from what its .npy header declares.

    numpy reads exactly what a header declares; checked against the size the
    archive records, a member cannot hold, nor decompress to, anything else.
    """
    for info in archive.infolist():
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(member)
            header_size = member.tell()
        if dtype.hasobject:
            continue  # refused by np.load without pickles
        declared = math.prod(shape) * dtype.itemsize
        if header_size + declared != info.file_size:
            raise ValueError(
                f"{path}: {info.filename} declares an array of shape {shape} and dtype "
                f"{dtype} ({declared} bytes) but holds {info.file_size - header_size} "
                "bytes: the archive is damaged.")


def _read_idx(path):
    """The uint8 array of an IDX file, after checking its header against its size.

    No more than the header announces is ever read (plus one byte, to find
    data beyond it), so a small ``.gz`` file cannot decompress to gigabytes.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(4)
            if len(head) < 4 or head[:2] != b"\x00\x00" or head[2] != 0x08:
                raise ValueError(
                    f"{path} is not an unsigned-byte IDX file: it starts with "
                    f"{head.hex()}, not 000008 and a dimension count.")
            dims = handle.read(4 * head[3])
            if head[3] == 0 or len(dims) < 4 * head[3]:
                raise ValueError(f"{path} has a broken IDX header.")
            shape = tuple(int.from_bytes(dims[i:i + 4], "big")
                          for i in range(0, len(dims), 4))
            expected = math.prod(shape)  # Python ints: np.prod would wrap in int64
            data = _read_at_most(handle, expected + 1)
    except (OSError, EOFError) as error:  # truncated .gz, gzip.BadGzipFile
        raise ValueError(f"{path} cannot be read: {error}") from error
    except zlib.error as error:  # a corrupt deflate stream inside the .gz
        raise ValueError(
            f"{path} cannot be read: its compressed data is corrupt ({error}).") from error
    if len(data) != expected:
        found = f"{len(data)} bytes" if len(data) <= expected else "more bytes"
        raise ValueError(
            f"{path} is truncated or damaged: its header announces shape {shape} "
            f"({expected} bytes) but {found} follow it.")
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _read_at_most(handle, size, chunk=1 << 24):
    """Up to ``size`` bytes of ``handle``, read in chunks: memory follows what is
    there, not what a header announces."""
    parts, total = [], 0
    while total < size:
        part = handle.read(min(chunk, size - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, bytes and numpy arrays, and nothing that runs code."""

    _allowed = {
        (module, name): getattr(source, name)
        for prefix in ("numpy.core", "numpy._core")
        for module, source, names in (
            (f"{prefix}.multiarray", _multiarray, ("_reconstruct", "scalar")),
            (f"{prefix}.numeric", _numeric, ("_frombuffer",)))
        for name in names
    }
    _allowed.update({("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype})

    def __init__(self, handle, path):
        # Python 2 pickled the original batches: keys and strings are bytes
        super().__init__(handle, encoding="bytes")
        self.path = path

    def find_class(self, module, name):
        if (module, name) in self._allowed:
            return self._allowed[module, name]
        if (module, name) == ("_codecs", "encode"):  # bytes under protocol 2 from Python 3
            return self._latin1
        raise UnsafePickleError(
            f"{self.path} is not a CIFAR batch: it asks to load {module}.{name}, and "
            "only numpy arrays, lists, dicts and bytes are unpickled here.")

    def _latin1(self, text, encoding):
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise UnsafePickleError(
                f"{self.path} is not a CIFAR batch: it asks for _codecs.encode with "
                f"{encoding!r}.")
        return text.encode("latin1")


def _cifar_part(path, labels_key):
    """``(X, y, source)`` of one pickled CIFAR batch."""
    try:
        with open(path, "rb") as handle:
            batch = _ArrayUnpickler(handle, path).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as error:
        raise ValueError(f"{path} is not a readable CIFAR batch: {error!r}") from error
    if not isinstance(batch, dict):
        raise ValueError(f"{path} holds a {type(batch).__name__}, not a CIFAR batch dict.")
    keys = {key.decode("latin1") if isinstance(key, bytes) else key: value
            for key, value in batch.items()}
    for key in ("data", labels_key):
        if key not in keys:
            raise ValueError(f"{path} has no {key!r} entry; it has {sorted(keys, key=str)}.")
    X, y = np.asarray(keys["data"]), np.asarray(keys[labels_key])
    if X.size != 3 * 32 * 32 * y.size:
        raise ValueError(
            f"{path} holds data of shape {X.shape} for {y.size} labels; CIFAR batches "
            "hold one row of 3072 pixels (3 x 32 x 32) per label.")
    return X.reshape(-1, 3, 32, 32), y, str(path)


def _stack(parts):
    """Check each ``(X, y, source)`` part, then stack them as float32 images."""
    images, labels, sources = [], [], []
    for X, y, source in parts:
        X, y = _channels_first(np.asarray(X), source), _integer_labels(y, source)
        if 0 in X.shape[1:]:
            raise ValueError(
                f"{source}: images of shape {X.shape[1:]} (channels, height, width) hold "
                "no pixel; images need at least one pixel.")
        if len(X) != len(y):
            raise ValueError(f"{source}: {len(X)} images but {len(y)} labels.")
        if len(X) == 0:
            raise ValueError(f"{source}: holds no images.")
        images.append((X, _pixel_scale(X, source)))
        labels.append(y)
        sources.append(source)
    shapes = {X.shape[1:] for X, _ in images}
    if len(shapes) > 1:
        listed = "; ".join(f"{source}: {X.shape[1:]}"
                           for (X, _), source in zip(images, sources))
        raise ValueError(
            f"the parts have different image shapes (channels, height, width): {listed}. "
            "All images must have one shape.")
    # filled part by part, so that parts of different dtypes each get their scale
    out = np.empty((sum(len(X) for X, _ in images), *shapes.pop()), dtype=np.float32)
    start = 0
    for X, scale in images:
        block = out[start:start + len(X)]
        block[...] = X
        if scale != 1:
            block /= np.float32(scale)
        start += len(X)
    return out, np.concatenate(labels)


def _channels_first(X, source):
    """(n, H, W) -> (n, 1, H, W); channels last -> channels first."""
    if X.ndim == 3:
        return X[:, None]
    if X.ndim == 4 and X.shape[-1] in (1, 3) and X.shape[1] not in (1, 3):
        return X.transpose(0, 3, 1, 2)  # channels last, as Keras and PIL keep them
    if X.ndim != 4:
        raise ValueError(f"{source}: images must have 3 or 4 dimensions; got shape {X.shape}.")
    return X


def _pixel_scale(X, source):
    """255 for uint8 pixels, 1 for floats within [0, 1]; anything else is refused."""
    if X.dtype == np.uint8:
        return 255
    if X.dtype.kind != "f":
        problem = f"{X.dtype} pixels"
    else:
        low, high = X.min(), X.max()
        if low >= 0 and high <= 1:
            return 1
        problem = ("NaN pixels" if np.isnan(low) or np.isnan(high)
                   else f"float pixels from {low} to {high}")
    raise ValueError(
        f"{source}: got {problem}; pixels must be uint8 (0-255, divided by 255 here) or "
        "floats within [0, 1]. Convert them first: X.astype(np.uint8) for integers "
        "0-255, X / 255 for floats up to 255.")


def _integer_labels(y, source):
    """Labels as int64, refusing any that would change in the conversion."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:  # Keras keeps CIFAR labels as (n, 1)
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"{source}: labels must have shape (n,) or (n, 1); got {y.shape} "
            "(for one-hot labels pass y.argmax(axis=1)).")
    if y.dtype.kind == "f":
        if np.isnan(y).any():
            raise ValueError(f"{source}: labels contain NaN.")
        bad = (y != np.round(y)) | (np.abs(y) >= 2.0 ** 63)
        if bad.any():
            raise ValueError(
                f"{source}: labels must be integers; got {y[bad][0]} "
                "(integer-valued floats such as 1.0 are accepted).")
    elif y.dtype.kind not in "biu":
        raise ValueError(
            f"{source}: labels must be integers; got dtype {y.dtype} (encode class "
            "names first, e.g. with sklearn.preprocessing.LabelEncoder).")
    elif y.dtype.kind == "u" and y.size and y.max() > np.iinfo(np.int64).max:
        raise ValueError(
            f"{source}: labels must fit int64; got {int(y.max())} ({y.dtype}), which "
            "would wrap around (encode the labels as 0 .. n_classes - 1 first, e.g. "
            "with sklearn.preprocessing.LabelEncoder).")
    return y.astype(np.int64)
