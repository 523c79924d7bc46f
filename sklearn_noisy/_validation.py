"""Input checks shared by the estimators, the corruptors and the CCN test."""

import numbers
import sys
import warnings

import numpy as np
from sklearn.utils._param_validation import Interval


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
