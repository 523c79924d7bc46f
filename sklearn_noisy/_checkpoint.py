"""Checkpoints that let a long multi-stage fit resume where it stopped.

A checkpoint file is named by :func:`fit_fingerprint`, a hash of the
training data and of :func:`describe` of every parameter that changes what
the fit computes. A description is the same in every process, so that a fit
started again after a crash finds the file its predecessor wrote.
"""

import errno
import functools
import hashlib
import numbers
import os
import re
import tempfile
import types
from collections.abc import Mapping
from pathlib import Path

import joblib
import numpy as np
import torch

from ._loading import LazyFeatures

# CPython's default reprs ("<Foo object at 0x7f...>", "<function f at 0x...>")
# hold a memory address, which differs from one process to the next.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def describe(value):
    """A description of ``value`` that is the same in every process.

    It describes what ``value`` does, not how it prints:

    * classes and functions by their qualified name (a closure also by the
      values it captured, a function with default arguments also by them),
      ``functools.partial`` objects and bound methods by what they bind;
    * a ``torch.nn.Module`` instance by its architecture (its ``repr``), the
      bytes of its ``state_dict`` and the plain attributes of every submodule
      (a ``scale`` that ``forward`` reads);
    * tensors by the bytes they hold; lists, tuples, sets and dicts item by
      item;
    * objects with ``get_params`` (skorch callbacks, scikit-learn
      estimators) by their type and parameters;
    * a folder of images (a Dataset with ``root`` and ``samples``, as
      :class:`~sklearn_noisy.datasets.ImageFolder` and torchvision's have)
      also by the path, size and modification time of every file;
    * any other object by its type and all its attributes, recursively, or,
      without attributes, by its ``repr``.

    Parameters
    ----------
    value : object

    Returns
    -------
    description : object
        Nested lists of strings, numbers and arrays, for ``joblib.hash``.

    Raises
    ------
    ValueError
        If ``value`` or a part of it cannot be described reliably, naming
        where that part sits: a lambda, or an object without attributes whose
        ``repr`` holds a memory address.
    """
    return _describe(value, frozenset(), "")


def _describe(value, enclosing, where):
    if value is None or isinstance(value, (numbers.Number, str, bytes, np.ndarray)):
        return value
    if isinstance(value, torch.Tensor):
        return _tensor_digest(value)
    if isinstance(value, type):
        return _qualified_name(value)
    if id(value) in enclosing:
        # A value that contains itself, such as a recursive closure.
        return "<enclosing value>"
    enclosing = enclosing | {id(value)}

    def part(item, name):
        return _describe(item, enclosing, f"{where}{name}")

    if isinstance(value, types.FunctionType):
        if value.__name__ == "<lambda>":
            raise ValueError(
                f"a lambda{_at(where)} cannot be described: all lambdas share one "
                "name, so two different ones would share checkpoints. Define the "
                "function with def, or use functools.partial")
        if (value.__closure__ is None and value.__defaults__ is None
                and value.__kwdefaults__ is None):
            return _qualified_name(value)
        # A function made by another one (in a loop, a factory) is told apart
        # by what it captured and by its default arguments.
        captured = [cell.cell_contents for cell in value.__closure__ or ()]
        return [_qualified_name(value),
                *(part(item, f".<captured {index}>") for index, item in enumerate(captured)),
                part(value.__defaults__, ".__defaults__"),
                part(value.__kwdefaults__, ".__kwdefaults__")]
    if isinstance(value, types.BuiltinFunctionType):
        return _qualified_name(value)
    if isinstance(value, types.MethodType):
        return [part(value.__self__, ".__self__"), value.__func__.__qualname__]
    if isinstance(value, functools.partial):
        return ["functools.partial", part(value.func, ".func"), part(value.args, ".args"),
                part(value.keywords, ".keywords")]
    if isinstance(value, torch.nn.Module):
        attributes = []
        for module_name, module in value.named_modules():
            prefix = f".{module_name}" if module_name else ""
            attributes.append([module_name, sorted(
                ([name, part(item, f"{prefix}.{name}")]
                 for name, item in _plain_attributes(module).items()), key=_first)])
        # The repr shows the architecture; one that holds an address (a
        # function in it) is left to the attributes, which describe it.
        architecture = repr(value)
        return [_qualified_name(type(value)),
                None if _ADDRESS.search(architecture) else architecture,
                part(value.state_dict(), ".state_dict()"), attributes]
    if isinstance(value, Mapping):
        return sorted(([repr(key), part(item, f"[{key!r}]")] for key, item in value.items()),
                      key=lambda pair: pair[0])
    if isinstance(value, (list, tuple)):
        return [part(item, f"[{index}]") for index, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        return sorted((part(item, "[...]") for item in value), key=repr)
    if hasattr(value, "get_params"):
        return [_qualified_name(type(value)), part(value.get_params(deep=False), "")]
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        description = [_qualified_name(type(value)),
                       sorted(([name, part(item, f".{name}")]
                               for name, item in attributes.items()), key=_first)]
        if hasattr(value, "root") and isinstance(attributes.get("samples"), list):
            description.append(_image_files(value.samples))
        return description
    return [_qualified_name(type(value)), _repr_without_address(repr(value), where)]


def _first(pair):
    return pair[0]


def _at(where):
    return f" (at {where.lstrip('.')})" if where else ""


def _plain_attributes(module):
    """A module's own attributes other than torch's bookkeeping and submodules."""
    return {name: item for name, item in vars(module).items()
            if not name.startswith("_") and name != "training"}


def _image_files(samples):
    """Path, size and modification time of every file of an image folder."""
    files = []
    for sample in samples:
        path = sample[0] if isinstance(sample, (tuple, list)) else sample
        status = os.stat(path)
        files.append([str(path), status.st_size, status.st_mtime_ns])
    return files


def _qualified_name(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def _repr_without_address(text, where=""):
    if _ADDRESS.search(text):
        raise ValueError(
            f"{text}{_at(where)} cannot be described: its repr holds a memory "
            "address, which differs from process to process, and it has no "
            "get_params method or attributes to describe it by instead. Give its "
            "class a __repr__ that shows its settings")
    return text


def _tensor_digest(tensor):
    tensor = tensor.detach().cpu().contiguous()
    data = tensor.reshape(-1).view(torch.uint8).numpy()
    return ["tensor", str(tensor.dtype), list(tensor.shape),
            hashlib.sha256(data).hexdigest()]


def fit_fingerprint(X, y, params):
    """Hash of the training data and the parameters a checkpoint depends on.

    Parameters
    ----------
    X : ndarray, torch.Tensor on any device, or LazyFeatures
        A Dataset (in LazyFeatures) is described by its type and attributes.
    y : ndarray or torch.Tensor on any device
    params : dict
        Parameter name to value; values are reduced by :func:`describe`.

    Returns
    -------
    fingerprint : str

    Raises
    ------
    ValueError
        Naming the parameter whose value cannot be described.
    """
    if isinstance(X, LazyFeatures):
        # A Dataset is identified by what it is, not by reading all of it.
        try:
            X = ("Dataset", describe(X.dataset), X.shape)
        except ValueError as exc:
            raise ValueError(
                f"checkpoint_dir cannot be used with this Dataset, which cannot be "
                f"fingerprinted: {exc}; or set checkpoint_dir=None.") from None
    X = X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X
    y = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y
    described = {}
    for name, value in params.items():
        try:
            described[name] = describe(value)
        except ValueError as exc:
            raise ValueError(
                f"checkpoint_dir cannot be used with this value of {name!r}, "
                f"which cannot be fingerprinted: {exc}; or set "
                "checkpoint_dir=None.") from None
    return joblib.hash((X, y, described))


def check_directory(directory):
    """Create ``directory`` if needed and make sure files can be written there.

    Returns
    -------
    directory : Path

    Raises
    ------
    ValueError
        Naming the directory, if it cannot be created or written.
    """
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=directory, prefix=".write-test-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(
            f"checkpoint_dir {str(directory)!r} cannot be used: {exc}. Choose a "
            "directory that this process can create and write files in, or set "
            "checkpoint_dir=None.") from exc
    return directory


def save_checkpoint(path, state):
    """Write ``state`` with ``torch.save``, atomically and durably.

    The file is written next to ``path``, flushed to disk and renamed over
    it, so a fit interrupted while saving, or a machine that loses power,
    leaves the previous checkpoint or the new one, never a part of one.
    The file's own name goes in with ``state``, so that a file renamed or
    copied under another fit's name is not taken for that fit's.
    """
    path = Path(path)
    state = {**state, "file_name": path.name}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            try:
                torch.save(state, file)
            except RuntimeError as error:
                # torch reports a failed write (a full disk) as its
                # serialiser's internal error.
                raise OSError(
                    f"cannot write the checkpoint {path}: {error}. Is the disk full? "
                    "The previous checkpoint, if any, is unchanged.") from error
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory):
    # Makes the rename itself survive a power loss. Windows cannot open a
    # directory, and some file systems refuse to sync one; the file itself
    # is complete either way.
    if os.name != "posix":
        return
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def unusable_checkpoint(path, reason):
    """The error for a checkpoint file that a fit cannot resume from."""
    return ValueError(
        f"The checkpoint file {str(path)!r} cannot be resumed from: {reason}. "
        "Delete the file to start this fit afresh.")


def load_checkpoint(path, keys):
    """Load a checkpoint written by :func:`save_checkpoint` to the CPU, or None.

    Only tensors and plain Python values are loaded
    (``torch.load(weights_only=True)``): a checkpoint cannot run code.

    Parameters
    ----------
    path : str or Path
    keys : iterable of str
        The entries a checkpoint of this estimator has.

    Returns
    -------
    state : dict or None
        None when there is no file at ``path``.

    Raises
    ------
    ValueError
        Naming the file, when it cannot be read or is not a dict with
        ``keys``.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as exc:
        # A file that cannot be opened or read (permissions, I/O) is the
        # system's error; torch's reader reports a damaged archive as an
        # invalid argument.
        if exc.errno != errno.EINVAL:
            raise
        raise unusable_checkpoint(
            path, "it cannot be read: it is damaged (for example truncated)") from exc
    except Exception as exc:
        raise unusable_checkpoint(
            path, f"it cannot be read ({type(exc).__name__}): it is damaged (for "
            "example truncated), was not written by this package, or holds "
            "objects other than tensors and plain Python values, which are never "
            "loaded because loading them could run code") from exc
    if not isinstance(state, dict):
        raise unusable_checkpoint(
            path, f"it holds a {type(state).__name__}, not a checkpoint")
    missing = [key for key in (*keys, "file_name") if key not in state]
    if missing:
        raise unusable_checkpoint(
            path, f"it has no {', '.join(map(repr, missing))} entry; it was not "
            "written by this estimator")
    if state["file_name"] != path.name:
        raise unusable_checkpoint(
            path, f"it was written as {state['file_name']!r}, the checkpoint of "
            "another fit, and renamed or copied to this fit's name")
    del state["file_name"]
    return state
