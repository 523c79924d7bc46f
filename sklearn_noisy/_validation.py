"""Input checks shared by the estimators, the corruptors and the CCN test."""

import numbers
import sys
import warnings
from collections.abc import Mapping

import numpy as np
import torch
from scipy import sparse
from sklearn.utils._param_validation import Interval


def check_device(device):
    """Validate a device name and make sure it can be used here.

    Raises
    ------
    ValueError
        For a name that is not ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
    RuntimeError
        For a CUDA device this machine does not have.
    """
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'cpu', 'cuda' or 'cuda:N'; got {device!r}."
        ) from exc
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device={device!r} was requested but CUDA is not available on "
                "this machine (torch.cuda.is_available() is False). "
                "Use device='cpu'."
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are available."
            )
    elif parsed.type != "cpu":
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N'; got {device!r}.")
    return parsed


def to_host(data):
    """A torch tensor as a host ndarray (bfloat16 and float16 as float32);
    anything else as it is."""
    if isinstance(data, torch.Tensor):
        if data.dtype in (torch.bfloat16, torch.float16):
            # numpy has no bfloat16; the default networks train in float32.
            data = data.float()
        return data.detach().cpu().numpy()
    return data


def refuse_mapping(X):
    """Raise a TypeError for a dict (or other mapping) passed as X."""
    if isinstance(X, Mapping):
        raise TypeError(
            f"X is a {type(X).__name__} (keys {abbreviate(list(X))}); pass an array, "
            "a DataFrame, a tensor or a torch Dataset. A dict of columns becomes a "
            "DataFrame with pandas.DataFrame(X).")


def refuse_sparse(X):
    """Raise a TypeError for a scipy sparse matrix or a sparse DataFrame."""
    if sparse.issparse(X) or (
        hasattr(X, "sparse") and hasattr(getattr(X, "sparse"), "to_coo")
    ):
        raise TypeError(
            "Sparse data is not supported: the networks need dense input. "
            "Convert it with X.toarray() if it fits in memory."
        )


def refuse_empty_axes(sample_shape):
    """Raise a ValueError when a sample has an axis of length 0."""
    if any(size == 0 for size in sample_shape):
        raise ValueError(
            f"X has samples of shape {tuple(sample_shape)}: every axis of a sample "
            "needs at least one element."
        )


def as_input_tensor(X, device, dtype):
    """X as a ``dtype`` tensor; refuse empty sample axes and float32 overflow."""
    refuse_empty_axes(X.shape[1:])
    # torch refuses the negative strides of a reversed view (X[::-1]).
    tensor = torch.tensor(np.ascontiguousarray(X), dtype=dtype, device=device)
    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
        raise ValueError(
            "X has values beyond the float32 range (about 3.4e38 in magnitude), "
            "which the networks compute in; rescale the features."
        )
    return tensor


def probe_output(network, input_shape, input_dtype=torch.float32):
    """``network``'s output for two zero samples of ``input_shape``, in
    evaluation mode and without gradients (its mode is left as it was)."""
    device = next(network.parameters()).device
    probe = torch.zeros((2, *input_shape), device=device, dtype=input_dtype)
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            return network(probe)
    finally:
        network.train(was_training)


def checked_network(network, module, input_shape, n_classes, input_dtype=torch.float32):
    """Refuse a ``module`` that cannot serve as the estimator's network."""
    if not isinstance(network, torch.nn.Module):
        raise TypeError(
            f"module={module!r} produced {network!r}, not a torch.nn.Module."
        )
    if not any(parameter.requires_grad for parameter in network.parameters()):
        raise ValueError(
            f"module={module!r} has no trainable parameters."
        )
    try:
        output = probe_output(network, input_shape, input_dtype)
    except Exception as exc:
        raise ValueError(
            f"module={module!r} cannot process samples of shape {tuple(input_shape)}: "
            f"{exc}"
        ) from exc
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != (2, n_classes):
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output)
        raise ValueError(
            f"module={module!r} must return one logit per class, shape "
            f"(n_samples, {n_classes}); it returned {shape} for 2 samples."
        )
    return network


def refuse_missing_labels(labels, name):
    """Raise a ValueError naming the positions of None or NaN labels.

    Parameters
    ----------
    labels : array-like
        Labels as given (any container numpy can read).
    name : str
        How the error message calls them, e.g. ``"y"``.
    """
    values = np.asarray(labels)
    if values.ndim == 0:
        # not an array of labels (y=None included): left to the validation
        return
    if values.dtype.kind not in "fO":
        return
    pandas = sys.modules.get("pandas")
    if pandas is not None:
        # also pandas.NA, whose comparisons cannot be told true or false
        missing = pandas.isna(values)
    elif values.dtype.kind == "f":
        missing = np.isnan(values)
    else:
        # NaN is the one label unequal to itself
        missing = np.equal(values, None) | (values != values)
    rows = np.flatnonzero(missing.any(axis=tuple(range(1, missing.ndim))))
    if len(rows):
        raise ValueError(
            f"{name} contains {len(rows)} missing label(s) (None or NaN) at "
            f"position(s) {abbreviate(rows)}; every sample needs a label. Drop "
            "those samples or fill in their labels first."
        )


def abbreviate(values, limit=6):
    """``values`` as a short list: the first ones, ``...``, the last one."""
    values = np.asarray(values, dtype=object).tolist()
    if len(values) <= limit:
        return repr(values)
    shown = ", ".join(repr(value) for value in values[: limit - 1])
    return f"[{shown}, ..., {values[-1]!r}] ({len(values)} in all)"


def as_real_array(value):
    """``(values, problem)``: ``value`` as a float64 ndarray, or why it is not one.

    ``problem`` is None when ``value`` holds real numbers only; otherwise
    ``values`` may be None and ``problem`` says what is wrong, for the
    caller's error message.
    """
    try:
        values = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged rows, a CUDA tensor
        return None, f"numpy cannot read it as an array ({error})"
    if values.dtype.kind in "USVMmc":
        return values, f"it holds {values.dtype} values, not real numbers"
    if values.dtype.kind == "O":
        others = [item for item in values.ravel().tolist()
                  if not isinstance(item, numbers.Real)]
        if others:  # None, strings, nested sequences in an object array
            return values, f"its entries are not all real numbers: it holds {others[0]!r}"
    return values.astype(np.float64), None


def epochs_or_fraction(smallest):
    """Parameter constraints for an epoch count: an int ``>= smallest``, or
    a float in (0, 1), a fraction of ``max_epochs``."""
    return [Interval(numbers.Integral, smallest, None, closed="left"),
            Interval(numbers.Real, 0, 1, closed="neither")]


def resolve_epochs(value, max_epochs):
    """An epoch count given as an int, or as a fraction of ``max_epochs``.

    A fraction ``f`` becomes ``round(f * max_epochs)``, at most
    ``max_epochs - 1`` and at least 1: at any budget of two epochs or more
    the step it starts happens after at least one epoch without it (with a
    single epoch, the step does not start). An int is returned as it is.
    """
    if isinstance(value, numbers.Integral):
        return int(value)
    return max(1, min(round(value * max_epochs), max_epochs - 1))


def warn_if_never_reached(name, value, max_epochs, consequence, example):
    """Warn when an epoch count given as an int is never reached in training."""
    if isinstance(value, numbers.Integral) and value >= max_epochs:
        warnings.warn(
            f"{name}={value} is not smaller than max_epochs={max_epochs}: {consequence}. "
            f"A fraction of max_epochs, such as {name}={example}, scales with the "
            "training budget.", UserWarning, stacklevel=3)
