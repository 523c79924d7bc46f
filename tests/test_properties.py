"""Property-based tests (the ``hypothesis`` library) of every public callable.

Each test draws mostly malformed input -- bad parameters, bad shapes and
dtypes, NaN / inf, empty data, mismatched lengths, a single class, labels
with None, strings, nested lists, 3-D y, damaged files -- and checks that the
call either

* succeeds with a valid result (shapes, classes, probabilities, ...), or
* raises one of the documented exception types (``ValueError`` -- which
  includes scikit-learn's ``InvalidParameterError`` and ``NotFittedError`` --,
  ``TypeError``, or ``RuntimeError`` only where documented:
  ``TrainingDivergedError`` and an unavailable CUDA device) with a non-empty
  message that names the parameter when a parameter is the problem,

never an unrelated internal error (``AttributeError``, ``IndexError``,
``KeyError``, ``ZeroDivisionError``, ``OSError``, an error raised inside
torch, ...), and that it never modifies its inputs.

Two further kinds of generated situations: fits on Datasets behind views
of views with a faulty or raising item, and sequences of seeded SEAL fits
sharing a checkpoint folder with interruptions, crashes and damaged files.

Inputs that the call must accept (valid data, valid parameters) must
succeed; inputs that are certainly invalid must be refused. The examples are
derandomised, so CI sees the same ones every run. At the end of the module a
table of outcomes per callable is printed (``pytest -s``) and added to
pytest's terminal summary.

The package's own CCN test lives in ``sklearn_noisy.hypothesis``; the
``hypothesis`` imported here is the property-testing library.
"""

import collections
import copy
import gzip
import io
import math
import os
import pickle
import re
import sys
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from sklearn_noisy import (
    CCNLabelCorruptor,
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    IDNLabelCorruptor,
    SEALClassifier,
    SLNClassifier,
    ccn_hypothesis_test,
)
from sklearn_noisy import _checkpoint as _checkpoint_module
from sklearn_noisy.benchmark.datasets import load_dataset
from sklearn_noisy.benchmark.image_files import load_image_files
from sklearn_noisy.exceptions import TrainingDivergedError

sys.path.insert(0, os.path.dirname(__file__))
from interruptions import interrupting, patch_targets  # noqa: E402

N_EXAMPLES = 200
#: Examples of the fits on generated Datasets per estimator; each valid one
#: is compared with a fit on the same samples as arrays.
DATASET_EXAMPLES = 40

# Reproducible: no example database, and a fixed seed per callable (see
# ``seeded``), so CI draws the same examples every run while each callable
# gets its own examples.
PROPERTY_SETTINGS = settings(
    max_examples=N_EXAMPLES,
    deadline=None,
    derandomize=False,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)


def seeded(name):
    """The fixed hypothesis seed of the examples of callable ``name``."""
    return seed(zlib.crc32(name.encode()))


# One pytest-xdist worker runs the whole module, so that the outcome table
# (test_zz_outcome_table, last) counts every callable.
pytestmark = pytest.mark.xdist_group("properties")

#: callable name -> Counter of outcomes ("ok" or the exception type's name)
COUNTS = collections.defaultdict(collections.Counter)
#: the data of the fits that ended in TrainingDivergedError
DIVERGED = []

#: Exception types that are never an acceptable answer to bad input, even
#: when they also subclass ValueError (numpy's AxisError) -- NotFittedError
#: (ValueError + AttributeError) is allowed explicitly.
INTERNAL_ERRORS = (
    AttributeError, LookupError, ArithmeticError, AssertionError, NameError,
    OSError, NotImplementedError, RecursionError, MemoryError, StopIteration,
)

TORCH_DIR = os.path.dirname(torch.__file__) + os.sep

CLASSIFIERS = {
    "CrossEntropyClassifier": CrossEntropyClassifier,
    "SEALClassifier": SEALClassifier,
    "SLNClassifier": SLNClassifier,
    "ConfusionEMClassifier": ConfusionEMClassifier,
    "FlywheelClassifier": FlywheelClassifier,
}

# A path that exists but is no folder (checkpoint_dir=): this very file.
A_REGULAR_FILE = os.path.abspath(__file__)


# ---------------------------------------------------------------------------
# known defects
# ---------------------------------------------------------------------------
# A defect found and documented but not fixed yet gets a narrow matcher here
# (so that it does not hide the rest of the 200 examples), counted as
# "KNOWN DEFECT: ..." in the table, and an xfail reproducer test. None is
# tolerated at present: the defects this suite found are fixed, and their
# reproducers are regular tests (the end of this module, and the modules' own
# test files).
KNOWN_DEFECTS = {}


def known_defect(name):
    def register(matcher):
        KNOWN_DEFECTS[name] = matcher
        return matcher
    return register


def result_defect(name):
    """A defect seen in a result, not an exception (checked by the tests)."""
    KNOWN_DEFECTS[name] = None


def matching_known_defect(callable_name, exc, context):
    """The known defect that explains ``exc`` (None: the call succeeded)."""
    for name, matcher in KNOWN_DEFECTS.items():
        if matcher is None:
            continue
        try:
            if matcher(callable_name, exc, context):
                return name
        except Exception:  # a matcher must never hide a failure
            continue
    return None


# ---------------------------------------------------------------------------
# comparing inputs before and after a call
# ---------------------------------------------------------------------------
def same(a, b):
    """Whether ``a`` (after the call) equals its deep copy ``b`` (before)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.random.RandomState):
        return True  # a RandomState parameter is consumed by design
    if isinstance(a, torch.Tensor):
        if a.dtype != b.dtype or a.shape != b.shape or a.device != b.device:
            return False
        if a.is_floating_point() or a.is_complex():
            nan_a, nan_b = torch.isnan(a), torch.isnan(b)
            return torch.equal(nan_a, nan_b) and torch.equal(a[~nan_a], b[~nan_b])
        return torch.equal(a, b)
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            return np.array_equal(a, b, equal_nan=True)
        if a.dtype.kind == "O":
            return all(same(x, y) for x, y in zip(a.ravel().tolist(), b.ravel().tolist()))
        return np.array_equal(a, b)
    if isinstance(a, (pd.Series, pd.DataFrame)):
        if isinstance(a, pd.Series) and (a.name != b.name or a.dtype != b.dtype):
            return False
        if isinstance(a, pd.DataFrame) and (
            list(a.columns) != list(b.columns) or list(a.dtypes) != list(b.dtypes)
        ):
            return False
        return a.index.equals(b.index) and a.equals(b)
    if sparse.issparse(a):
        return (a.format == b.format and a.shape == b.shape and a.dtype == b.dtype
                and same(a.toarray(), b.toarray()))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) or isinstance(a, np.floating):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, torch.nn.Module):
        return same(dict(a.state_dict()), dict(b.state_dict()))
    if isinstance(a, BaseEstimator):
        fitted_a = sorted(k for k in vars(a) if k.endswith("_") and not k.startswith("_"))
        fitted_b = sorted(k for k in vars(b) if k.endswith("_") and not k.startswith("_"))
        return fitted_a == fitted_b and same(a.get_params(deep=False),
                                             b.get_params(deep=False))
    try:
        return bool(a == b)
    except Exception:
        return a is b


def snapshot(value):
    try:
        return copy.deepcopy(value)
    except Exception:  # not copyable: compare identity only
        return value


# ---------------------------------------------------------------------------
# the one place every public call goes through
# ---------------------------------------------------------------------------
def innermost_file(exc):
    tb = exc.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename


def check_call(name, func, *args, inputs=(), bad_names=(), valid=None,
               runtime_ok=(), torch_ok=False, context=None, **kwargs):
    """Call ``func``, record the outcome and check the error contract.

    Parameters
    ----------
    name : str
        The callable, as counted.
    inputs : sequence
        Objects the caller passed that must not be modified.
    bad_names : sequence of str
        Invalid parameters; the call must fail and the message must name one.
    valid : bool or None
        True: the call must succeed; False: it must fail; None: either.
    runtime_ok : tuple of str
        Documented RuntimeError cases: "diverged" (TrainingDivergedError),
        "cuda" (a CUDA device was asked for but is not available).
    torch_ok : bool
        A parameter is routed to a torch constructor by design (``module__*``,
        ``optimizer__*``): a ValueError or TypeError raised there is fine.
    context : dict
        What the known-defect matchers may look at.

    Returns
    -------
    result, exc : the result (or None) and the exception (or None).
    """
    before = [snapshot(value) for value in inputs]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - classified below
        after_error = True
        result, error = None, exc
    else:
        after_error, error = False, None

    for position, (value, copy_before) in enumerate(zip(inputs, before)):
        assert same(value, copy_before), (
            f"{name} modified its input #{position} ({type(value).__name__})")

    context = {} if context is None else context
    if not after_error:
        if bad_names or valid is False:
            defect = matching_known_defect(name, None, context)
            if defect is not None:
                COUNTS[name][f"KNOWN DEFECT: {defect}"] += 1
                context["known_defect"] = defect
                return result, None
        COUNTS[name]["ok"] += 1
        assert not bad_names, f"{name} accepted invalid parameter(s) {list(bad_names)}"
        assert valid is not False, f"{name} accepted invalid input"
        return result, None

    exc = error
    defect = matching_known_defect(name, exc, context)
    if defect is not None:
        COUNTS[name][f"KNOWN DEFECT: {defect}"] += 1
        context["known_defect"] = defect
        return None, exc
    COUNTS[name][type(exc).__name__] += 1
    message = str(exc).strip()
    description = f"{name} raised {type(exc).__module__}.{type(exc).__name__}: {message[:300]}"
    if isinstance(exc, NotFittedError):
        pass
    elif isinstance(exc, INTERNAL_ERRORS):
        raise AssertionError(f"internal error: {description}") from exc
    elif isinstance(exc, RuntimeError):
        documented = (
            ("diverged" in runtime_ok and isinstance(exc, TrainingDivergedError))
            or ("cuda" in runtime_ok and "cuda" in message.lower() and "device" in message)
        )
        assert documented, f"undocumented RuntimeError: {description}"
    elif not isinstance(exc, (ValueError, TypeError)):
        raise AssertionError(f"undocumented exception type: {description}") from exc
    assert (torch_ok and isinstance(exc, (ValueError, TypeError))) or not (
        innermost_file(exc).startswith(TORCH_DIR)), f"raw torch error: {description}"
    assert message, f"{name} raised {type(exc).__name__} with an empty message"
    assert valid is not True or bad_names, f"valid input refused: {description}"
    if bad_names and not isinstance(exc, TrainingDivergedError):
        assert any(bad in message for bad in bad_names), (
            f"the message does not name the invalid parameter(s) "
            f"{list(bad_names)}: {description}")
    return None, exc


# ---------------------------------------------------------------------------
# data: a valid base data set and one or two malformations
# ---------------------------------------------------------------------------
LABEL_POOLS = {
    "int": [0, 1, 2, 3],
    "negative": [-7, 5, 100],
    "str": ["cat", "dog", "emu"],
    "float": [0.0, 1.0, -2.0],  # integer-valued: fractions are "continuous" to sklearn
    "bool": [False, True],
    "big": [2**40, -(2**40), 3],
    "ten": list(range(10)),
}


def as_label_array(values, pool_name):
    if pool_name == "str":
        return np.array(values, dtype="<U3")
    if pool_name == "bool":
        return np.array(values, dtype=bool)
    if pool_name == "float":
        return np.array(values, dtype=np.float64)
    return np.array(values, dtype=np.int64)


@st.composite
def base_data(draw, n_features=None, min_samples=2, max_samples=30):
    n = draw(st.integers(min_samples, max_samples))
    d = draw(st.integers(1, 4)) if n_features is None else n_features
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    pool_name = draw(st.sampled_from(sorted(LABEL_POOLS)))
    pool = LABEL_POOLS[pool_name]
    codes = rng.randint(0, len(pool), n)
    if pool_name == "ten" and n >= 10 and draw(st.booleans()):
        codes[:10] = np.arange(10)  # every CIFAR-10 class present
    codes[0], codes[1] = 0, 1  # at least two classes
    y = as_label_array([pool[c] for c in codes], pool_name)
    X = rng.uniform(-2, 2, (n, d))
    return X, y, pool_name, rng


# Each malformation: a function (X, y, rng, draw) -> (X, y), and whether the
# result is valid for the estimators ("est"), the IDN corruptor ("idn") and
# the CCN corruptor ("ccn"): True (must be accepted), False (must be refused)
# or None (either); the corruptors' default is the estimators' verdict.
X_FAULTS = {}
Y_FAULTS = {}


AS_EST = "as for the estimators"


def x_fault(name, est, idn=AS_EST, ccn=AS_EST):
    validity = {"est": est, "idn": est if idn is AS_EST else idn,
                "ccn": est if ccn is AS_EST else ccn}

    def register(function):
        X_FAULTS[name] = (function, validity)
        return function
    return register


def y_fault(name, est, idn=AS_EST, ccn=AS_EST):
    validity = {"est": est, "idn": est if idn is AS_EST else idn,
                "ccn": est if ccn is AS_EST else ccn}

    def register(function):
        Y_FAULTS[name] = (function, validity)
        return function
    return register


def set_one(y, rng, value):
    """Set one random label of a non-empty ``y`` (array or Series) to ``value``."""
    if len(y):
        position = rng.randint(len(y))
        if isinstance(y, pd.Series):
            y.iloc[position] = value
        else:
            y[position] = value


def random_cell(X, rng):
    return tuple(rng.randint(0, size) for size in X.shape)


@x_fault("float32", True)
def _(X, y, rng, draw):
    return X.astype(np.float32), y


@x_fault("int", True)
def _(X, y, rng, draw):
    return (X * 3).astype(np.int64), y


@x_fault("bool", True)
def _(X, y, rng, draw):
    return X > 0, y


@x_fault("float16", True)
def _(X, y, rng, draw):
    return X.astype(np.float16), y


@x_fault("list", True)
def _(X, y, rng, draw):
    return X.tolist(), y


@x_fault("tuple of tuples", True)
def _(X, y, rng, draw):
    return tuple(tuple(row) for row in X.tolist()), y


@x_fault("DataFrame", True)
def _(X, y, rng, draw):
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]), y


@x_fault("DataFrame with a text column", False, ccn=True)
def _(X, y, rng, draw):
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["text"] = ["w"] * len(frame)
    return frame, y


@x_fault("DataFrame with pd.NA", False, ccn=True)
def _(X, y, rng, draw):
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).astype("Float64")
    frame.iloc[0, 0] = pd.NA
    return frame, y


@x_fault("tensor", True)
def _(X, y, rng, draw):
    dtype = draw(st.sampled_from([torch.float32, torch.float64, torch.int64]))
    return torch.tensor(X).to(dtype), y


@x_fault("tensor requiring grad", True)
def _(X, y, rng, draw):
    return torch.tensor(X, dtype=torch.float32, requires_grad=True), y


@x_fault("NaN", False, ccn=True)
def _(X, y, rng, draw):
    X = X.copy()
    X[random_cell(X, rng)] = np.nan
    return X, y


@x_fault("inf", False, ccn=True)
def _(X, y, rng, draw):
    X = X.copy()
    X[random_cell(X, rng)] = draw(st.sampled_from([np.inf, -np.inf]))
    return X, y


@x_fault("beyond float32", False, idn=None, ccn=True)  # IDN projection computes in float64
def _(X, y, rng, draw):
    X = X.copy()
    X[random_cell(X, rng)] = draw(st.sampled_from([1e300, -1e300, 1e39]))
    return X, y


@x_fault("complex", False)
def _(X, y, rng, draw):
    return X + 1j, y


@x_fault("object with None", False, ccn=True)
def _(X, y, rng, draw):
    X = X.astype(object)
    X[random_cell(X, rng)] = None
    return X, y


@x_fault("numeric strings", None, ccn=True)
def _(X, y, rng, draw):
    return X.astype(str), y


@x_fault("words", False, ccn=True)
def _(X, y, rng, draw):
    return np.full(X.shape, "word"), y


@x_fault("1-D", False)
def _(X, y, rng, draw):
    return X[:, 0], y


@x_fault("scalar", False)
def _(X, y, rng, draw):
    return draw(st.sampled_from([np.float64(1.0), 3, "X"])), y


@x_fault("None", False)
def _(X, y, rng, draw):
    return None, y


@x_fault("dict", False)
def _(X, y, rng, draw):
    return {"a": X[:, 0].tolist()}, y


@x_fault("no rows", False)
def _(X, y, rng, draw):
    return X[:0], y[:0]


@x_fault("no features", False)
def _(X, y, rng, draw):
    return X[:, :0], y


@x_fault("images", True)
def _(X, y, rng, draw):
    shape = draw(st.sampled_from([(1, 1), (2, 3), (3, 3), (1, 1, 1), (1, 2, 2), (3, 2, 1),
                                  (2, 1, 3)]))
    return rng.uniform(0, 1, (len(X), *shape)), y


@x_fault("images with an empty axis", False, idn=None, ccn=True)
def _(X, y, rng, draw):
    shape = draw(st.sampled_from([(0, 3), (2, 0), (1, 0), (0, 2, 2), (1, 0, 2), (3, 2, 0)]))
    return np.zeros((len(X), *shape)), y


@x_fault("5-D", False, idn=None, ccn=True)  # IDN's projection flattens any sample
def _(X, y, rng, draw):
    return rng.uniform(0, 1, (len(X), 1, 2, 1, 2)), y


@x_fault("ragged rows", False)
def _(X, y, rng, draw):
    rows = X.tolist()
    rows[-1] = rows[-1] + [0.5]
    return rows, y


@x_fault("sparse", False, idn=True, ccn=True)
def _(X, y, rng, draw):
    fmt = draw(st.sampled_from(["csr", "csc"]))
    return sparse.random(len(X), X.shape[1], density=0.5, format=fmt, random_state=rng), y


@x_fault("one row short", False)
def _(X, y, rng, draw):
    return X[:-1], y


@y_fault("list", True)
def _(X, y, rng, draw):
    return X, y.tolist()


@y_fault("tuple", True)
def _(X, y, rng, draw):
    return X, tuple(y.tolist())


@y_fault("Series", True)
def _(X, y, rng, draw):
    return X, pd.Series(y, index=np.arange(len(y)) * 2 + 5, name="label")


@y_fault("categorical Series", True)
def _(X, y, rng, draw):
    return X, pd.Series(pd.Categorical(y))


@y_fault("tensor", True)
def _(X, y, rng, draw):
    if y.dtype.kind in "biuf":
        return X, torch.as_tensor(y)
    return X, y.tolist()


@y_fault("object array", None)  # sklearn: object arrays of numbers are "unknown" targets
def _(X, y, rng, draw):
    return X, y.astype(object)


@y_fault("column vector", None)
def _(X, y, rng, draw):
    return X, y[:, None]


@y_fault("one-vs-all", False, idn=True, ccn=True)
def _(X, y, rng, draw):
    classes, codes = np.unique(y, return_inverse=True)
    return X, np.eye(len(classes), dtype=np.int64)[codes]


@y_fault("2 columns", False)
def _(X, y, rng, draw):
    # Two equal columns: never a one-vs-all encoding (which the corruptors
    # accept), as y with y reversed is for two samples of two classes.
    return X, np.stack([y, y], axis=1)


@y_fault("3-D", False)
def _(X, y, rng, draw):
    return X, y[:, None, None]


@y_fault("single class", False)
def _(X, y, rng, draw):
    return X, np.full_like(y, y[0])


@y_fault("None label", False)
def _(X, y, rng, draw):
    y = y.astype(object)
    set_one(y, rng, None)
    return X, y


@y_fault("NaN label", False)
def _(X, y, rng, draw):
    y = y.astype(np.float64) if y.dtype.kind in "biuf" else y.astype(object)
    set_one(y, rng, np.nan)
    return X, y


@y_fault("pd.NA label", False)
def _(X, y, rng, draw):
    series = pd.Series(y.astype(object))
    set_one(series, rng, pd.NA)
    return X, series


@y_fault("inf label", False)
def _(X, y, rng, draw):
    y = y.astype(np.float64) if y.dtype.kind in "biuf" else y.astype(object)
    set_one(y, rng, np.inf)
    return X, y


@y_fault("mixed str and int", False)
def _(X, y, rng, draw):
    y = y.astype(object)
    y[0], y[1] = "a", 1
    return X, y


@y_fault("continuous", False)
def _(X, y, rng, draw):
    return X, rng.uniform(0, 1, len(y)) + 0.5


@y_fault("bytes labels", None)
def _(X, y, rng, draw):
    return X, np.array([str(v).encode() for v in y.tolist()])


@y_fault("one label short", False)
def _(X, y, rng, draw):
    return X, y[:-2]


@y_fault("one label too many", False)
def _(X, y, rng, draw):
    return X, np.concatenate([y, y[:1]])


@y_fault("None", False)
def _(X, y, rng, draw):
    return X, None


@y_fault("scalar", False)
def _(X, y, rng, draw):
    return X, draw(st.sampled_from([1, "a", 2.5]))


@y_fault("ragged nested lists", False)
def _(X, y, rng, draw):
    return X, [[v] if i % 2 else [v, v] for i, v in enumerate(y.tolist())]


@y_fault("tuples", False)
def _(X, y, rng, draw):
    labels = np.empty(len(y), dtype=object)
    labels[:] = [(v, i % 2) for i, v in enumerate(y.tolist())]
    return X, labels


@y_fault("dicts", False)
def _(X, y, rng, draw):
    return X, [{"label": v} for v in y.tolist()]


@y_fault("nullable integers", None)
def _(X, y, rng, draw):
    if y.dtype.kind in "iu":
        return X, pd.Series(y, dtype="Int64")
    return X, y


@st.composite
def malformed_data(draw, family, n_features=None, valid_fraction=4):
    """(X, y, validity, description, pool_name): mostly malformed data."""
    X, y, pool_name, rng = draw(base_data(n_features=n_features))
    choice = draw(st.integers(0, 9))
    faults = []
    if choice < valid_fraction:
        pass
    elif choice < 6:
        faults.append(("X", draw(st.sampled_from(sorted(X_FAULTS)))))
    elif choice < 9:
        faults.append(("y", draw(st.sampled_from(sorted(Y_FAULTS)))))
    else:
        faults.append(("X", draw(st.sampled_from(sorted(X_FAULTS)))))
        faults.append(("y", draw(st.sampled_from(sorted(Y_FAULTS)))))
    validity = True
    for side, name in faults:
        function, valid_for = (X_FAULTS if side == "X" else Y_FAULTS)[name]
        X, y = function(X, y, rng, draw)
        verdict = valid_for[family]
        if verdict is False or validity is False:
            validity = False
        elif verdict is None:
            validity = None
    if len(faults) == 2:
        validity = None if validity is not False else False
    description = ", ".join(f"{side}: {name}" for side, name in faults) or "valid data"
    note(f"data: {description} (label pool {pool_name}); validity {validity}")
    return X, y, validity, description, pool_name


def n_rows(y):
    try:
        return len(y)
    except TypeError:
        return None


def label_values(y):
    """The distinct labels of a valid y, as a list (first two in order)."""
    if isinstance(y, torch.Tensor):
        y = y.numpy()
    if np.ndim(y) == 2 and np.shape(y)[1] > 1:  # one-vs-all: the column indices
        return list(range(np.shape(y)[1]))
    values = np.asarray(y, dtype=object).ravel().tolist()
    return list(dict.fromkeys(values))


# ---------------------------------------------------------------------------
# parameters: valid values and bad ones (value, how the message may name it)
# ---------------------------------------------------------------------------
class Late:
    """A bad value that is only checked after the data (a data error may come first)."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"Late({self.value!r})"


def tiny_network(n_features, n_classes):
    """A valid ``module`` factory: one linear layer over the flattened sample."""
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(n_features, n_classes))


def five_logits(n_features):
    """An invalid ``module`` factory: 5 outputs whatever the number of classes."""
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(n_features, 5))


def not_a_network():
    """An invalid ``module`` factory: returns no torch module at all."""
    return 5


def junk_split(*args, **kwargs):
    """An invalid ``train_split`` callable: returns no (train, valid) pair."""
    return 5


#: ``module`` values that do not fit the data (checked only at fit time)
ILL_FITTING_MODULES = (five_logits, not_a_network, torch.nn.Identity)


#: "cuda" is a bad device only where CUDA is not available
NO_CUDA = [] if torch.cuda.is_available() else ["cuda"]


def common_parameters(max_epochs=1):
    return {
        "max_epochs": ([max_epochs], [0, -1, 1.5, "1", None, np.nan, [1]]),
        "batch_size": ([1, 4, 8, 16], [0, -3, 2.5, "8", None, np.inf]),
        "lr": ([1e-3, 1e-2], [0, -0.1, "0.01", None, np.nan, np.inf, 1j]),
        "optimizer": ([torch.optim.Adam, torch.optim.SGD],
                      ["adam", torch.optim.LBFGS, int, None, object]),
        "train_split": ([None, None, None, 0.5],
                        [0, 1, 1.5, -0.2, "0.2", 1.0, Late(junk_split)]),
        "device": (["cpu", torch.device("cpu"), None],
                   ["gpu", "", 0, "cuda:99", "cpu:x", *NO_CUDA]),
        "callbacks": ([None, []], ["progress", 3, ("a", None), Late([5]),
                                   Late(["progress"]), Late([("x", 5)])]),
        "verbose": ([0, False], [-1, "yes", 1.5]),
        "random_state": ([0, 7, np.random.RandomState(0)], [-1, 2**32, 1.5, "0", [0]]),
        "module": ([None, None, tiny_network],
                   [5, "mlp", Late(torch.nn.Linear(7, 2)), *map(Late, ILL_FITTING_MODULES)]),
    }


ESTIMATOR_PARAMETERS = {
    "CrossEntropyClassifier": common_parameters(),
    "SEALClassifier": {
        **common_parameters(),
        "n_iterations": ([0, 1], [-1, 1.5, "2", None]),
        "first_loss": (["cross_entropy", "dmi"], ["ce", None, 1]),
        "reinitialize": ([True, False], ["yes", 2, None]),
        "checkpoint_dir": ([None], [5, ["a"], Late(A_REGULAR_FILE)]),
    },
    "SLNClassifier": {
        **common_parameters(),
        "sigma": ([0.0, 0.5], [-1, np.nan, "1", None]),
        "ema_decay": ([None, 0.9], [0, 1, 1.5, -0.1, "0.9"]),
        # A float in (0, 1) is a fraction of max_epochs, so 1.0 is the bad float.
        # (Adding values or parameters here changes every drawn example.)
        "correction_epoch": ([None, 0, 1], [-1, 1.0, "1"]),
        "noise_on": (["labels", "outputs", "parameters"], ["label", None, 3]),
    },
    "ConfusionEMClassifier": {
        **common_parameters(),
        "eta_init": ([0.0, 0.01, 1.0], [-0.1, 1.1, np.nan, "0.1"]),
        "eta_lr": ([0.0, 0.5], [-1, "x", np.nan]),
        "eta_start_epoch": ([0, 1], [-1, 1.5]),
        "eta_update": (["batch", "epoch"], ["step", None, 1]),
        "eta_update_every": ([1, 2], [0, -1, 1.5]),
        "class_weight": ([None, "balanced", "A VALID DICT"],
                         ["balance", 5, [1, 2], {0: -1.0}, {0: np.nan}, {0: "x"},
                          Late("A DICT WITH AN UNKNOWN CLASS")]),
    },
    "FlywheelClassifier": {
        **common_parameters(max_epochs=2),
        "warmup_epochs": ([1], [0, 2, 5, -1, 1.5]),
        "confidence_weight": ([0.0, 3.0], [-1, np.nan, "3"]),
        "contrastive_weight": ([0.0, 0.025], [-0.1, None]),
        "contrastive_temperature": ([0.5], [0, -1, "t"]),
        "estimate_epsilon": ([True, False], ["no", 1, None]),
        "transition_diagonal": ([True, False], ["no", 1, None]),
        "mixup_alpha": ([0.0, 4.0], [-1, "a"]),
        "weak_augmentation": (["auto", None], ["strong", 3]),
        "strong_augmentation": (["auto", None], ["weak", 3]),
        "main_augmentation": ([None, "weak"], ["strong", True, 3]),
    },
}

#: Keyword parameters routed to the network or refused: (value, names).
#: Keyword parameters routed to the network or the optimizer, or refused:
#: (keywords, how the message must name the problem or None when valid,
#: whether it is routed to a torch constructor, which may itself refuse it).
EXTRA_KEYWORDS = [
    ({"module__hidden_units": (8,)}, None, True),
    ({"module__dropout": 0.1}, None, True),
    ({"module__bogus": 1}, "bogus", True),
    ({"module__dropout": 2.0}, "dropout", True),
    ({"foo": 1}, "foo", False),
    ({"optimizer__momentum": 0.9}, "momentum", True),  # refused by Adam, fine for SGD
    ({"optimizer__lr": -1.0}, "learning rate", True),
]


def fresh(value):
    return copy.deepcopy(value) if isinstance(value, (list, dict, np.random.RandomState)) else value


@st.composite
def parameters(draw, spec):
    """(params, bad_names, late_names): valid values, with 1-2 bad ones 40% of
    the time; late names are bad values checked only after the data."""
    names = sorted(spec)
    bad = []
    if draw(st.integers(0, 9)) < 4:
        bad = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
    params, late = {}, []
    for name in names:
        valid_values, bad_values = spec[name]
        pool = bad_values if name in bad else valid_values
        value = draw(st.sampled_from(pool))
        if isinstance(value, Late):
            value = value.value
            late.append(name)
        params[name] = fresh(value)
    return params, bad, late


# ---------------------------------------------------------------------------
# estimators: fit
# ---------------------------------------------------------------------------
def resolve_class_weight(params, bad, y, validity):
    """Turn the class_weight placeholders into dicts over y's labels."""
    value = params.get("class_weight")
    if value == "A VALID DICT":
        labels = label_values(y) if validity is True else [0]
        params["class_weight"] = {labels[0]: 2.0}
    elif value == "A DICT WITH AN UNKNOWN CLASS":
        params["class_weight"] = {"no such class": 1.0}


def is_cuda_request(device):
    return "cuda" in str(device)


def check_fitted_classifier(clf, X, y):
    n = len(clf.noise_scores_)
    classes = clf.classes_
    assert len(classes) >= 2
    assert clf.corrected_labels_.shape == (n,)
    assert set(np.asarray(clf.corrected_labels_, dtype=object).tolist()) <= set(
        np.asarray(classes, dtype=object).tolist())
    assert np.all(np.isfinite(clf.noise_scores_))
    assert np.all((clf.noise_scores_ >= -1e-6) & (clf.noise_scores_ <= 1 + 1e-6))
    assert clf.label_issues_.dtype == bool and clf.label_issues_.shape == (n,)
    assert clf.stage_histories_


@pytest.mark.parametrize("estimator_name", sorted(CLASSIFIERS))
def test_fit(estimator_name):
    cls = CLASSIFIERS[estimator_name]
    spec = ESTIMATOR_PARAMETERS[estimator_name]

    @seeded(f"{estimator_name}.fit")
    @PROPERTY_SETTINGS
    @given(data=malformed_data("est"), drawn=parameters(spec),
           extra=st.sampled_from(range(len(EXTRA_KEYWORDS) + 6)), fit_kw=st.data())
    def run(data, drawn, extra, fit_kw):
        X, y, validity, description, _ = data
        params, bad, late = drawn
        bad, late = list(bad), set(late)
        resolve_class_weight(params, bad, y, validity)
        routed = False
        if extra < len(EXTRA_KEYWORDS):
            keywords, bad_token, routed = EXTRA_KEYWORDS[extra]
            if "optimizer__momentum" in keywords and params["optimizer"] is torch.optim.SGD:
                bad_token = None
            if any(key.startswith("module__") for key in keywords) and not (
                    params["module"] is None and isinstance(X, np.ndarray) and X.ndim == 2):
                keywords = {}  # only for the default MLP
            params.update(keywords)
            if keywords and bad_token is not None:
                bad.append(bad_token)
                if routed:
                    late.add(bad_token)  # refused when the network is built
        if (params["batch_size"] == 1 and params["module"] is None
                and isinstance(X, np.ndarray) and X.ndim in (3, 4)):
            # the default CNN of images has BatchNorm layers, which need two
            # samples per batch: refused when the network is built
            bad.append("batch_size")
            late.add("batch_size")
        fit_kwargs = {}
        inputs = [X, y]
        if estimator_name == "ConfusionEMClassifier":
            fit_kwargs, fit_bad = fit_arguments(fit_kw.draw, n_rows(y) or 0)
            bad += fit_bad
            late.update(fit_bad)
            inputs += list(fit_kwargs.values())
        if params.get("train_split") is not None and "train_split" not in bad:
            # a stratified split of a few samples may be impossible
            validity = None if validity is not False else False
        if validity is not True and late & set(bad):
            # checked only after the data: a data error may come first
            bad = [name for name in bad if name not in late]
            validity = None if validity is not False else False
        runtime_ok = ("diverged",)
        if is_cuda_request(params.get("device")):
            runtime_ok += ("cuda",)
        clf = cls(**params)
        note(f"params: {params!r}; bad: {bad}; fit kwargs: {fit_kwargs!r}")
        params_before = snapshot(clf.get_params(deep=False))
        context = {"X_shape": getattr(X, "shape", None), "params": params,
                   "fit_kwargs": fit_kwargs}
        result, exc = check_call(
            f"{estimator_name}.fit", clf.fit, X, y, **fit_kwargs,
            inputs=inputs, bad_names=bad, valid=validity if not bad else False,
            runtime_ok=runtime_ok, torch_ok=routed, context=context)
        if isinstance(exc, TrainingDivergedError):
            DIVERGED.append(f"{estimator_name}: {description}")
        assert same(clf.get_params(deep=False), params_before), "fit changed a parameter"
        if result is clf and "known_defect" not in context:
            check_fitted_classifier(clf, X, y)
        elif exc is not None:
            assert not hasattr(clf, "module_"), "a failed fit left a fitted network"

    run()


def fit_arguments(draw, n):
    """ConfusionEM's psi= and trusted=: (kwargs, bad names)."""
    kwargs, bad = {}, []
    rng = np.random.RandomState(draw(st.integers(0, 1000)))
    psi_kind = draw(st.sampled_from(
        ["none"] * 12 + ["valid", "tensor", "list", "long", "nan", "above 1", "negative",
                        "2-D", "words", "None values", "scalar"]))
    if psi_kind != "none":
        psi = rng.uniform(0, 1, n)
        psi = {
            "valid": psi, "tensor": torch.as_tensor(psi), "list": psi.tolist(),
            "long": np.append(psi, 0.5), "nan": np.where(np.arange(n) == 0, np.nan, psi),
            "above 1": psi + 1.5, "negative": psi - 2, "2-D": psi[:, None],
            "words": np.array(["a"] * n), "None values": [None] * n, "scalar": 0.5,
        }[psi_kind]
        kwargs["psi"] = psi
        if psi_kind not in ("valid", "tensor", "list") or n == 0:
            bad.append("psi")
    trusted_kind = draw(st.sampled_from(
        ["none"] * 12 + ["valid", "list", "ints", "long", "words", "scalar"]))
    if trusted_kind != "none":
        mask = rng.uniform(0, 1, n) < 0.3
        kwargs["trusted"] = {
            "valid": mask, "list": mask.tolist(), "ints": mask.astype(int),
            "long": np.append(mask, True), "words": np.array(["yes"] * n), "scalar": True,
        }[trusted_kind]
        if trusted_kind not in ("valid", "list") or n == 0:
            bad.append("trusted")
    return kwargs, bad


# ---------------------------------------------------------------------------
# estimators: predict, predict_proba, score after a fit
# ---------------------------------------------------------------------------
FITTED = {}
PREDICT_CLASSES = np.array(["a", "b", "c"])


def fitted(estimator_name):
    if estimator_name not in FITTED:
        rng = np.random.RandomState(0)
        X = rng.uniform(-1, 1, (12, 3))
        y = PREDICT_CLASSES[np.arange(12) % 3]
        extra = ({"max_epochs": 2, "warmup_epochs": 1}
                 if estimator_name == "FlywheelClassifier" else {})
        if estimator_name == "SEALClassifier":
            extra["n_iterations"] = 1
        params = {"max_epochs": 1, "batch_size": 4, "random_state": 0, **extra}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            FITTED[estimator_name] = CLASSIFIERS[estimator_name](**params).fit(X, y)
    return FITTED[estimator_name]


@st.composite
def inference_case(draw):
    """(X, y, validity, description, unfitted) for predict/score."""
    n = draw(st.integers(1, 30))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    X = rng.uniform(-3, 3, (n, 3))
    kind = draw(st.sampled_from([
        "valid", "valid", "valid", "float32", "int", "list", "DataFrame", "tensor",
        "no rows", "2 features", "5 features", "1-D", "scalar", "None", "NaN", "inf",
        "beyond float32", "large", "3-D", "sparse", "words", "object with None", "complex",
        "ragged", "unfitted", "unfitted",
    ]))
    validity = True
    if kind == "float32":
        X = X.astype(np.float32)
    elif kind == "int":
        X = (X * 2).astype(int)
    elif kind == "list":
        X = X.tolist()
    elif kind == "DataFrame":
        X = pd.DataFrame(X, columns=["u", "v", "w"])
    elif kind == "tensor":
        X = torch.tensor(X, dtype=draw(st.sampled_from([torch.float32, torch.float64])))
    elif kind == "no rows":
        X, validity = X[:0], False
    elif kind == "2 features":
        X, validity = X[:, :2], False
    elif kind == "5 features":
        X, validity = np.hstack([X, X[:, :2]]), False
    elif kind == "1-D":
        X, validity = X[:, 0], False
    elif kind == "scalar":
        X, validity = 1.0, False
    elif kind == "None":
        X, validity = None, False
    elif kind in ("NaN", "inf"):
        X[random_cell(X, rng)] = np.nan if kind == "NaN" else -np.inf
        validity = False
    elif kind == "beyond float32":
        X[random_cell(X, rng)] = draw(st.sampled_from([1e39, -1e300, 1e300]))
        validity = False  # the networks compute in float32
    elif kind == "large":
        X = X * draw(st.sampled_from([1e4, 1e8, 1e15, 1e30]))
    elif kind == "3-D":
        X, validity = X[:, :, None], False
    elif kind == "sparse":
        X, validity = sparse.csr_matrix(X), False
    elif kind == "words":
        X, validity = np.full(X.shape, "w"), False
    elif kind == "object with None":
        X = X.astype(object)
        X[0, 0] = None
        validity = False
    elif kind == "complex":
        X, validity = X + 1j, False
    elif kind == "ragged":
        X = X.tolist()
        X[0] = X[0][:2]
        validity = False
    n_out = n_rows(X) if kind not in ("scalar", "None", "1-D") else None
    y_kind = draw(st.sampled_from(["valid", "valid", "unseen label", "numbers", "short",
                                   "None", "2-D", "None label", "list"]))
    labels = PREDICT_CLASSES[rng.randint(0, 3, n)]
    y_validity = True
    if y_kind == "unseen label":
        labels = labels.astype("<U5")
        labels[0] = "zebra"
    elif y_kind == "numbers":
        labels, y_validity = rng.randint(0, 3, n), None
    elif y_kind == "short":
        labels, y_validity = labels[:-1], False
    elif y_kind == "None":
        labels, y_validity = None, False
    elif y_kind == "2-D":
        labels, y_validity = np.stack([labels, labels], axis=1), False
    elif y_kind == "None label":
        labels = labels.astype(object)
        labels[0] = None
        y_validity = None
    elif y_kind == "list":
        labels = labels.tolist()
    if n_out == 0 and y_kind != "None":
        labels = labels[:0]
    note(f"X: {kind}, y: {y_kind}")
    return X, labels, validity, y_validity, kind


def check_probabilities(proba, n, n_classes):
    assert isinstance(proba, np.ndarray) and proba.shape == (n, n_classes)
    assert np.all(np.isfinite(proba)), "predict_proba returned NaN or inf"
    assert np.all(proba >= 0) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def network_state(clf):
    return {key: value.clone() for key, value in clf.module_.state_dict().items()}


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
@pytest.mark.parametrize("estimator_name", sorted(CLASSIFIERS))
def test_inference(estimator_name, method):
    clf = fitted(estimator_name)
    state = network_state(clf)
    name = f"{estimator_name}.{method}"

    @seeded(name)
    @PROPERTY_SETTINGS
    @given(case=inference_case())
    def run(case):
        X, labels, validity, y_validity, kind = case
        target = clf
        if kind == "unfitted":
            target = CLASSIFIERS[estimator_name](max_epochs=1)
            X = np.zeros((3, 3))
        args = (X, labels) if method == "score" else (X,)
        valid = validity
        if method == "score":
            valid = (False if False in (validity, y_validity)
                     else None if None in (validity, y_validity) else True)
        if kind == "unfitted":
            valid = False
        result, exc = check_call(name, getattr(target, method), *args,
                                 inputs=list(args), valid=valid)
        if kind == "unfitted":
            assert isinstance(exc, NotFittedError), "an unfitted estimator did not say so"
            return
        assert same(network_state(clf), state), f"{method} changed the fitted network"
        if exc is not None:
            return
        n = n_rows(X)
        if method == "predict":
            assert isinstance(result, np.ndarray) and result.shape == (n,)
            assert set(result.tolist()) <= set(clf.classes_.tolist())
        elif method == "predict_proba":
            check_probabilities(result, n, len(clf.classes_))
        else:
            assert isinstance(result, float) and 0.0 <= result <= 1.0

    run()


# ---------------------------------------------------------------------------
# corruptors
# ---------------------------------------------------------------------------
IDN_PARAMETERS = {
    "noise_rate": ([0.0, 0.2, 0.5, 0.99], [1, 1.0, -0.1, np.nan, "0.2", None]),
    "strategy": (["prediction", "projection", "projection"], ["random", None, 1]),
    "n_epochs": ([1], [0, 1.5, "1", None]),
    "estimator": ([None, "A PACKAGE CLASSIFIER"], ["A LOGISTIC REGRESSION", "ce", 5]),
    # a device name is only checked when the default network is trained
    "device": (["cpu"], [0, None, Late("gpu"), Late("cuda:99"), *map(Late, NO_CUDA)]),
    "random_state": ([0, 3, np.random.RandomState(1)], [-1, 1.5, "0"]),
}

CCN_PARAMETERS = {
    # noise_rate=1 is valid for transition="uniform" only
    "noise_rate": ([0.0, 0.2, 0.5], [1, 1.0, -0.1, np.nan, "0.2", None, 2]),
    "transition": (["symmetric", "pair", "uniform", "cifar10", "cifar100-superclass",
                    "A VALID MATRIX", "A VALID DICT", "AN IDENTITY DICT"],
                   ["sym", None, 5, "A WRONG-SHAPE MATRIX", "A NEGATIVE MATRIX",
                    "A NON-STOCHASTIC MATRIX", "A NaN MATRIX", "A 3-D MATRIX",
                    "A RAGGED MATRIX", "A MATRIX OF WORDS", "A MATRIX WITH None",
                    "A DICT WITH AN UNKNOWN LABEL", "A DICT WITH A LIST VALUE"]),
    "random_state": ([0, 3], [-1, 1.5, "0"]),
}


def resolve_estimator(params):
    if params.get("estimator") == "A PACKAGE CLASSIFIER":
        params["estimator"] = CrossEntropyClassifier(max_epochs=1, batch_size=8, random_state=0)
    elif params.get("estimator") == "A LOGISTIC REGRESSION":
        params["estimator"] = LogisticRegression()


def resolve_transition(params, bad, y, validity):
    """Turn the transition placeholders into matrices/dicts over y's classes."""
    value = params["transition"]
    classes = label_values(y) if validity is True else [0, 1]
    try:
        classes = sorted(classes)
    except TypeError:
        pass
    k = len(classes)
    rng = np.random.RandomState(k)
    stochastic = rng.uniform(0, 1, (k, k))
    stochastic /= stochastic.sum(axis=1, keepdims=True)
    late = True  # these are checked against y's classes, after the data
    if value == "cifar10":
        if validity is True and (k != 10 or sorted(classes) != list(range(10))):
            bad.append("transition")
        return late
    if value == "cifar100-superclass":  # needs the 100 labels 0-99
        if validity is True:
            bad.append("transition")
        return late
    replacements = {
        "A VALID MATRIX": stochastic,
        "A VALID DICT": {classes[0]: classes[1 % k]},
        "AN IDENTITY DICT": {classes[0]: classes[0]},
        "A WRONG-SHAPE MATRIX": np.eye(k + 1),
        "A NEGATIVE MATRIX": np.eye(k) * 2 - np.full((k, k), 1.0 / k),
        "A NON-STOCHASTIC MATRIX": np.full((k, k), 1.0),
        "A NaN MATRIX": np.where(np.eye(k) > 0, np.nan, 0.0),
        "A 3-D MATRIX": np.ones((k, k, 1)) / k,
        "A RAGGED MATRIX": [[1.0] * k] + [[1.0]] * (k - 1),
        "A MATRIX OF WORDS": [["a"] * k] * k,
        "A MATRIX WITH None": [[None] * k] * k,
        "A DICT WITH AN UNKNOWN LABEL": {"no such label": classes[0]},
        "A DICT WITH A LIST VALUE": {classes[0]: [classes[1 % k]]},
    }
    if value in replacements:
        params["transition"] = replacements[value]
        return late
    return False


def check_corruptor_result(corruptor, result, X, y, params):
    X_out, y_noisy = result
    assert X_out is X, "fit_resample did not return the caller's X"
    n = len(corruptor.noise_mask_)
    assert n == n_rows(y)
    if isinstance(y, list):
        assert isinstance(y_noisy, list) and len(y_noisy) == n
    elif isinstance(y, pd.Series):
        assert isinstance(y_noisy, pd.Series) and y_noisy.index.equals(y.index)
    else:
        assert isinstance(y_noisy, np.ndarray) and len(y_noisy) == n
    classes = set(np.asarray(corruptor.classes_, dtype=object).tolist())
    noisy = np.asarray(corruptor.noisy_labels_, dtype=object).tolist()
    assert set(noisy) <= classes
    assert 0.0 <= corruptor.noise_rate_ <= 1.0
    matrix = corruptor.transition_matrix_
    assert np.all(np.isfinite(matrix))
    sums = matrix.sum(axis=1)
    assert np.all(np.isclose(sums, 1.0) | np.isclose(sums, 0.0))


@pytest.mark.parametrize("corruptor_name", ["IDNLabelCorruptor", "CCNLabelCorruptor"])
def test_fit_resample(corruptor_name):
    cls = IDNLabelCorruptor if corruptor_name == "IDNLabelCorruptor" else CCNLabelCorruptor
    spec = IDN_PARAMETERS if cls is IDNLabelCorruptor else CCN_PARAMETERS
    family = "idn" if cls is IDNLabelCorruptor else "ccn"
    name = f"{corruptor_name}.fit_resample"

    @seeded(name)
    @PROPERTY_SETTINGS
    @given(data=malformed_data(family), drawn=parameters(spec))
    def run(data, drawn):
        X, y, validity, description, _ = data
        params, bad, late = drawn
        bad = list(bad)
        runtime_ok = ("diverged",)
        if cls is IDNLabelCorruptor:
            resolve_estimator(params)
            if is_cuda_request(params["device"]):
                runtime_ok += ("cuda",)
            unused_device = (params["strategy"] == "projection"
                             or params["estimator"] is not None)
            if "device" in late and (validity is not True or unused_device):
                bad.remove("device")
                validity = None if validity is not False else False
        else:
            if params["transition"] == "uniform" and params["noise_rate"] == 1:
                bad.remove("noise_rate")
            late = resolve_transition(params, bad, y, validity)
            if late and validity is not True and "transition" in bad:
                # checked against y's classes, after the data: a data error
                # may come first
                bad.remove("transition")
        corruptor = cls(**params)
        note(f"params: {params!r}; bad: {bad}")
        params_before = snapshot(corruptor.get_params(deep=False))
        result, exc = check_call(
            name, corruptor.fit_resample, X, y, inputs=[X, y], bad_names=bad,
            valid=validity if not bad else False, runtime_ok=runtime_ok,
            context={"X_shape": getattr(X, "shape", None), "params": params})
        assert same(corruptor.get_params(deep=False), params_before), (
            "fit_resample changed a parameter")
        if exc is None:
            check_corruptor_result(corruptor, result, X, y, params)
            n = len(corruptor.noise_mask_)
            if cls is IDNLabelCorruptor and params["strategy"] == "prediction":
                assert corruptor.noise_mask_.sum() == int(round(params["noise_rate"] * n))
            if cls is IDNLabelCorruptor and params["noise_rate"] == 0:
                assert not corruptor.noise_mask_.any()
            if (cls is CCNLabelCorruptor and params["noise_rate"] == 0
                    and isinstance(params["transition"], str)):
                assert not corruptor.noise_mask_.any()

    run()


# ---------------------------------------------------------------------------
# ccn_hypothesis_test
# ---------------------------------------------------------------------------
@st.composite
def ccn_test_case(draw):
    """Arguments of ccn_hypothesis_test, the bad names and the validity."""
    n = draw(st.integers(1, 30))
    k = draw(st.integers(2, 4))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(["int", "int", "str", "float", "bool"]))
    codes_noisy, codes_pred = rng.randint(0, k, n), rng.randint(0, k, n)
    codes_pred[0] = codes_noisy[0]  # at least one shared label
    pool = {"int": np.arange(k), "str": np.array(["p", "q", "r", "s"][:k]),
            "float": np.array([0.5, 1.5, 2.5, 3.5][:k]),
            "bool": np.array([False, True])}[kind]
    if kind == "bool":
        k_labels = 2
        codes_noisy, codes_pred = codes_noisy % 2, codes_pred % 2
        codes_pred[0] = codes_noisy[0]
    else:
        k_labels = k
    y_noisy, y_pred = pool[codes_noisy], pool[codes_pred]
    # the labels must index the matrix: integers in range, or as many distinct
    # values as classes
    distinct = len(np.unique(np.concatenate([y_noisy, y_pred])))
    k_matrix = k_labels if (kind != "int") else k
    if kind != "int" and distinct != k_labels:
        k_matrix = distinct
    validity = True
    bad = []
    fault = draw(st.sampled_from(
        ["none"] * 8 + ["y_noisy 2-D", "y_noisy 3-D", "y_pred short", "empty", "None label",
                        "NaN label", "mixed kinds", "disjoint", "y_noisy None", "scalar",
                        "ragged", "column", "lists", "tensor", "Series", "dict labels",
                        "int out of range", "pd.NA label"]))
    if fault == "y_noisy 2-D":
        y_noisy, validity = np.stack([y_noisy, y_noisy], axis=1), False
    elif fault == "y_noisy 3-D":
        y_noisy, validity = y_noisy[:, None, None], False
    elif fault == "y_pred short":
        y_pred, validity = y_pred[:-1], False
    elif fault == "empty":
        y_noisy, y_pred, validity = y_noisy[:0], y_pred[:0], False
    elif fault == "None label":
        y_noisy = y_noisy.astype(object)
        y_noisy[-1] = None
        validity = False
    elif fault == "NaN label":
        y_pred = y_pred.astype(object)
        y_pred[-1] = np.nan
        validity = False
    elif fault == "pd.NA label":
        y_pred = pd.Series(y_pred.astype(object))
        y_pred.iloc[-1] = pd.NA
        validity = False
    elif fault == "mixed kinds":
        y_pred = y_pred.astype(object)
        y_pred[-1] = "word" if kind != "str" else 7
        validity = False if n > 1 else False
    elif fault == "disjoint":
        y_pred, validity = np.array(["zz"] * n) if kind != "str" else np.full(n, 9), False
    elif fault == "y_noisy None":
        y_noisy, validity = None, False
    elif fault == "scalar":
        y_pred, validity = 3, False
    elif fault == "ragged":
        y_noisy = [[v] * (1 + i % 2) for i, v in enumerate(y_noisy.tolist())]
        validity = False if n > 1 else True  # one row: a valid column
    elif fault == "column":
        y_noisy = y_noisy[:, None]
    elif fault == "lists":
        y_noisy, y_pred = y_noisy.tolist(), y_pred.tolist()
    elif fault == "tensor" and kind in ("int", "float", "bool"):
        y_noisy = torch.as_tensor(y_noisy)
    elif fault == "Series":
        y_pred = pd.Series(y_pred, index=np.arange(n) + 10)
    elif fault == "dict labels":
        labels = np.empty(n, dtype=object)
        labels[:] = [{"v": 1}] * n
        y_noisy = y_pred = labels
        validity = None
    elif fault == "int out of range" and kind == "int":
        y_noisy = y_noisy + 10
        y_pred = y_pred + 10
        y_noisy[0] = y_pred[0] = 10
        # labels 10.. are not in range: they must take exactly k values
        validity = None
    stochastic = rng.uniform(0, 1, (k_matrix, k_matrix))
    stochastic /= stochastic.sum(axis=1, keepdims=True)
    matrix_kind = draw(st.sampled_from(
        ["valid"] * 6 + ["identity", "degenerate", "one-hot rows", "away from y_noisy",
                         "wrong shape", "not square",
                         "negative", "NaN", "inf", "rows not 1", "3-D", "ragged", "words",
                         "None", "scalar", "list", "too many classes", "tensor"]))
    matrix = {
        "valid": stochastic, "identity": np.eye(k_matrix),
        "degenerate": np.tile(np.eye(k_matrix)[-1], (k_matrix, 1)),
        "one-hot rows": np.eye(k_matrix)[rng.randint(0, k_matrix, k_matrix)],
        "wrong shape": np.eye(k_matrix + 1), "not square": stochastic[:, :-1],
        "negative": np.eye(k_matrix) * 2 - 1.0 / k_matrix,
        "NaN": np.where(np.eye(k_matrix) > 0, np.nan, 0.0),
        "inf": np.where(np.eye(k_matrix) > 0, np.inf, 0.0),
        "rows not 1": stochastic * 2, "3-D": stochastic[None], "ragged": [[1.0], [0.5, 0.5]],
        "words": [["a", "b"], ["c", "d"]], "None": None, "scalar": 1.0,
        "list": stochastic.tolist(), "too many classes": np.eye(k_matrix + 2),
        "tensor": torch.as_tensor(stochastic),
    }.get(matrix_kind)
    if matrix_kind == "away from y_noisy":
        # every class to one label that y_noisy does not hold (when there is
        # one): under this matrix the observed noisy labels cannot occur
        seen = noisy_columns(y_noisy, y_pred, k_matrix) if validity is True else []
        unseen = sorted(set(range(k_matrix)) - set(seen)) or [k_matrix - 1]
        matrix = np.tile(np.eye(k_matrix)[unseen[0]], (k_matrix, 1))
    if matrix_kind in ("wrong shape", "too many classes") and kind == "int" \
            and fault not in ("int out of range", "dict labels"):
        matrix_ok = True  # in-range integer labels index a larger matrix
    else:
        matrix_ok = matrix_kind in ("valid", "identity", "degenerate", "one-hot rows",
                                    "away from y_noisy", "list", "tensor")
    if not matrix_ok:
        bad.append("transition_matrix")
    prior_kind = draw(st.sampled_from(
        ["none"] * 6 + ["valid", "wrong length", "negative", "NaN", "not summing to 1",
                        "words", "None values", "2-D", "list"]))
    prior = None
    if prior_kind != "none":
        m = len(matrix) if matrix_ok and hasattr(matrix, "__len__") else k_matrix
        valid_prior = rng.dirichlet(np.ones(m))
        prior = {
            "valid": valid_prior, "wrong length": np.ones(m + 1) / (m + 1),
            "negative": np.concatenate([[-1.0], np.full(m - 1, 2.0 / max(m - 1, 1))]),
            "NaN": np.full(m, np.nan), "not summing to 1": np.full(m, 0.7),
            "words": ["a"] * m, "None values": [None] * m,
            "2-D": valid_prior[None], "list": valid_prior.tolist(),
        }[prior_kind]
        if prior_kind not in ("valid", "list"):
            bad.append("class_prior")
    elif validity is True and matrix_ok and prior_impossible_to_estimate(y_noisy, y_pred,
                                                                         matrix):
        # every noisy label has probability 0 under the matrix: the estimated
        # prior is w = 0, refused with a message that points to class_prior
        bad.append("class_prior")
    if validity is not True:
        bad = []  # label errors come first
    note(f"labels {kind}, fault {fault}, matrix {matrix_kind}, prior {prior_kind}")
    return (y_noisy, y_pred, matrix, prior), bad, validity, (matrix_kind, prior_kind)


def noisy_columns(y_noisy, y_pred, n_classes):
    """The matrix columns that valid labels of y_noisy index (sorted, distinct)."""
    noisy = np.asarray(y_noisy).ravel()
    labels = np.concatenate([noisy, np.asarray(y_pred).ravel()])
    if np.issubdtype(labels.dtype, np.integer) and labels.min() >= 0 \
            and labels.max() < n_classes:
        columns = noisy.astype(np.intp)
    else:
        columns = np.searchsorted(np.unique(labels), noisy)
    return np.unique(columns).tolist()


def prior_impossible_to_estimate(y_noisy, y_pred, matrix):
    """Whether every label of y_noisy has an all-zero column in ``matrix``
    (then the non-negative least-squares prior is 0), for labels that fit it."""
    matrix = np.asarray(matrix, dtype=float)
    return not matrix[:, noisy_columns(y_noisy, y_pred, len(matrix))].any()


@seeded("ccn_hypothesis_test")
@PROPERTY_SETTINGS
@given(case=ccn_test_case())
def test_ccn_hypothesis_test(case):
    args, bad, validity, (matrix_kind, prior_kind) = case
    result, exc = check_call(
        "ccn_hypothesis_test", ccn_hypothesis_test, *args, inputs=list(args),
        bad_names=bad, valid=validity if not bad else False)
    if exc is not None:
        return
    y_noisy = args[0]
    n = len(np.asarray(y_noisy).ravel()) if not isinstance(y_noisy, list) else len(y_noisy)
    assert result.n_samples == n
    assert 0.0 <= result.validation_error <= 1.0
    values = [result.epsilon, result.min_ccn_error, result.p_value_bound,
              result.log10_p_value_bound]
    assert all(math.isfinite(v) for v in values), f"non-finite result {result}"
    assert -1e-9 <= result.min_ccn_error <= 1 + 1e-9
    assert math.isclose(result.epsilon, result.min_ccn_error - result.validation_error,
                        abs_tol=1e-12)
    assert 0.0 <= result.p_value_bound <= 1.0
    assert result.log10_p_value_bound <= 0.0


# ---------------------------------------------------------------------------
# loaders: load_image_files
# ---------------------------------------------------------------------------
def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def npz_bytes(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@st.composite
def image_array(draw, n, rng, shape=None):
    """Images of ``n`` samples: valid 60% of the time, else one fault."""
    fault = draw(st.sampled_from(
        ["none"] * 9 + ["float16", "int64", "bool", "complex64", "<U1", "object", "2-D",
                        "1-D", "5-D", "0-D", "empty axis", "255", "nan", "inf", "negative"]))
    if shape is None:
        shape = draw(st.sampled_from([(2, 2), (3, 1), (1, 2, 2), (3, 2, 2), (2, 2, 3),
                                      (2, 2, 1), (4, 4)]))
    shape = {"2-D": (4,), "1-D": (), "5-D": (1, 2, 2, 1), "empty axis": (2, 0)}.get(fault, shape)
    shape = () if fault == "0-D" else (n, *shape)
    dtype = draw(st.sampled_from(["uint8", "float32", "float64"]))
    if fault in ("float16", "int64", "bool", "complex64", "<U1", "object"):
        dtype = fault
    if dtype == "uint8":
        X = rng.randint(0, 256, shape).astype(np.uint8)
    elif dtype.startswith("float"):
        X = rng.uniform(0, 1, shape)
        if X.size and fault in ("255", "nan", "inf", "negative"):
            X.reshape(-1)[0] = {"255": 255.0, "nan": np.nan, "inf": np.inf,
                                "negative": -0.5}[fault]
        X = X.astype(dtype)
    elif dtype == "int64":
        X = rng.randint(0, 256, shape)
    elif dtype == "bool":
        X = rng.randint(0, 2, shape).astype(bool)
    elif dtype == "complex64":
        X = rng.uniform(0, 1, shape).astype(np.complex64)
    elif dtype == "<U1":
        X = np.full(shape, "a")
    else:
        X = np.empty(shape, dtype=object)
        X.fill(None)
    return X


@st.composite
def label_array(draw, n, rng):
    kind = draw(st.sampled_from(["int"] * 12 + ["uint8", "float int", "float", "nan", "inf",
                                 "huge uint64", "bool", "words", "2-D", "(n, 1)", "0-D",
                                 "short", "object", "int8 negative"]))
    y = rng.randint(0, 10, n)
    return {
        "int": y, "uint8": y.astype(np.uint8), "float int": y.astype(float),
        "float": y + 0.5, "nan": np.where(np.arange(n) == 0, np.nan, y),
        "inf": np.where(np.arange(n) == 0, np.inf, y), "bool": y % 2 == 0,
        "huge uint64": np.full(n, 2**63 + 5, dtype=np.uint64),
        "words": np.array(["cat"] * n), "2-D": np.stack([y, y], axis=1),
        "(n, 1)": y[:, None], "0-D": np.array(3), "short": y[:-1],
        "object": y.astype(object), "int8 negative": -y.astype(np.int8),
    }[kind], kind


def idx_bytes(draw, array_shape, rng):
    """An IDX file, valid or damaged."""
    fault = draw(st.sampled_from(["none"] * 5 + ["magic", "dtype", "ndim 0", "ndim 255",
                                                 "short", "long", "overflowing shape",
                                                 "empty", "3 bytes"]))
    shape = list(array_shape)
    if fault == "overflowing shape":
        shape = [65536] * 4  # the product wraps around to 0 in int64
    header = bytes([0, 0, 8, len(shape)]) + b"".join(
        int(size).to_bytes(4, "big") for size in shape)
    payload = rng.randint(0, 256, int(math.prod(shape)) if fault != "overflowing shape"
                          else 0).astype(np.uint8).tobytes()
    if fault == "magic":
        header = b"\x01" + header[1:]
    elif fault == "dtype":
        header = header[:2] + b"\x0d" + header[3:]
    elif fault == "ndim 0":
        header = header[:3] + b"\x00"
    elif fault == "ndim 255":
        header = header[:3] + b"\xff" + header[4:]
    elif fault == "short":
        payload = payload[:-1] if payload else b""
        if not payload:
            payload = b""
            header = header[:-1]
    elif fault == "long":
        payload += b"\x00"
    elif fault == "empty":
        return b"", fault
    elif fault == "3 bytes":
        return header[:3], fault
    return header + payload, fault


@st.composite
def image_file_case(draw):
    """(files: {relative path: bytes}, the relative path to load, expect_valid)."""
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(["npz", "npz", "npz", "npz bytes", "mnist", "mnist", "mnist",
                                 "cifar-10", "cifar-10", "cifar-100", "missing", "empty folder",
                                 "not an npz", "several data sets"]))
    n = draw(st.sampled_from([3, 1, 2, 4, 5, 0]))  # 0: no samples
    files, target, valid = {}, ".", None
    if kind == "npz":
        keys = draw(st.sampled_from([("X", "y"), ("X", "y"), ("x_train", "y_train"),
                                     ("x_train", "y_train", "x_test", "y_test"),
                                     ("x_train", "y_train", "x_test"), ("X",), ("a", "b"),
                                     ("X", "y", "other")]))
        arrays = {}
        shape = draw(st.sampled_from([None, (2, 2)]))  # None: each part its own shape
        for key in keys:
            if key.startswith(("X", "x")):
                arrays[key] = draw(image_array(n, rng, shape))
            elif key.startswith("y"):
                arrays[key], _ = draw(label_array(n, rng))
            else:
                arrays[key] = rng.uniform(0, 1, 3)
        files["data.npz"] = npz_bytes(arrays)
        target = "data.npz"
    elif kind == "npz bytes":
        content = draw(st.sampled_from(["npy", "garbage", "truncated", "zip of garbage",
                                        "pickle", "empty"]))
        good = npz_bytes({"X": rng.randint(0, 256, (3, 2, 2)).astype(np.uint8),
                          "y": np.arange(3)})
        if content == "npy":
            data = npy_bytes(rng.randint(0, 256, (3, 2, 2)).astype(np.uint8))
        elif content == "garbage":
            data = draw(st.binary(min_size=1, max_size=40))
        elif content == "truncated":
            data = good[: draw(st.integers(1, len(good) - 1))]
        elif content == "zip of garbage":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("X.npy", draw(st.binary(max_size=30)))
                archive.writestr("y.npy", npy_bytes(np.arange(3)))
            data = buffer.getvalue()
        elif content == "pickle":
            data = pickle.dumps({"X": 1})
        else:
            data = b""
        files["data.npz"] = data
        target = "data.npz"
    elif kind == "mnist":
        folder = draw(st.sampled_from(["", "MNIST/raw/"]))
        parts = draw(st.sampled_from([("train",), ("train", "t10k"), ("t10k",)]))
        h, w = draw(st.sampled_from([(2, 2), (3, 1), (1, 4), (0, 2)]))
        all_ok = True
        for part in parts:
            m = max(n, 1)
            image_data, image_fault = idx_bytes(draw, (m, h, w), rng)
            label_shape = draw(st.sampled_from([(m,), (m,), (m, 1), (m + 1,)]))
            label_data, label_fault = idx_bytes(draw, label_shape, rng)
            all_ok &= image_fault == "none" and label_fault == "none" \
                and label_shape == (m,) and h > 0
            compress = draw(st.sampled_from(["plain", "plain", "gz", "corrupt gz"]))
            for stem, data in ((f"{part}-images-idx3-ubyte", image_data),
                               (f"{part}-labels-idx1-ubyte", label_data)):
                if draw(st.integers(0, 9)) == 9:
                    all_ok = False
                    continue  # a missing file
                if compress == "plain":
                    files[folder + stem] = data
                elif compress == "gz":
                    files[folder + stem + ".gz"] = gzip.compress(data)
                else:
                    zipped = gzip.compress(data + b"\x00" * 50)
                    files[folder + stem + ".gz"] = zipped[:10] + b"\xff" * 20 + zipped[30:]
                    all_ok = False
        valid = True if all_ok and "train" in parts else None
    elif kind in ("cifar-10", "cifar-100"):
        folder = "cifar-10-batches-py/" if kind == "cifar-10" else "cifar-100-python/"
        names = (draw(st.sampled_from([("data_batch_1",), ("data_batch_1", "test_batch"),
                                       ("data_batch_1", "data_batch_2"), ("test_batch",)]))
                 if kind == "cifar-10" else
                 draw(st.sampled_from([("train",), ("train", "test"), ("test",)])))
        labels_key = "labels" if kind == "cifar-10" else "fine_labels"
        for file_name in names:
            files[folder + file_name] = draw(cifar_batch(n, labels_key, rng))
        valid = None
    elif kind == "missing":
        target = draw(st.sampled_from(["nothing here", "nothing.npz", "a/b/c"]))
    elif kind == "empty folder":
        files["unrelated.txt"] = b"hello"
    elif kind == "not an npz":
        files["data.npy"] = npy_bytes(np.zeros((2, 2, 2), dtype=np.uint8))
        target = "data.npy"
    else:
        files["one/train-images-idx3-ubyte"] = idx_bytes(draw, (1, 2, 2), rng)[0]
        files["one/train-labels-idx1-ubyte"] = idx_bytes(draw, (1,), rng)[0]
        files["cifar-10-batches-py/data_batch_1"] = draw(cifar_batch(1, "labels", rng))
    note(f"loader case: {kind}, files {sorted(files)}, target {target}")
    return files, target, valid, kind


@st.composite
def cifar_batch(draw, n, labels_key, rng):
    content = draw(st.sampled_from(["dict"] * 6 + ["garbage", "truncated", "list",
                                                    "unsafe", "protocol 0", "set"]))
    m = max(n, 1)
    data = rng.randint(0, 256, (m, 3072)).astype(np.uint8)
    labels = rng.randint(0, 10, m).tolist()
    batch = {labels_key: labels, "data": data}
    fault = draw(st.sampled_from(["none"] * 4 + ["bytes keys", "no data", "no labels",
                                                 "short data", "float data", "labels array",
                                                 "float labels", "word labels",
                                                 "data as text", "labels as dict"]))
    if fault == "bytes keys":
        batch = {key.encode(): value for key, value in batch.items()}
    elif fault == "no data":
        del batch["data"]
    elif fault == "no labels":
        del batch[labels_key]
    elif fault == "short data":
        batch["data"] = data[:, :100]
    elif fault == "float data":
        batch["data"] = data / draw(st.sampled_from([255.0, 1.0]))
    elif fault == "labels array":
        batch[labels_key] = np.array(labels)
    elif fault == "float labels":
        batch[labels_key] = [v + 0.5 for v in labels]
    elif fault == "word labels":
        batch[labels_key] = ["cat"] * m
    elif fault == "data as text":
        batch["data"] = "pixels"
    elif fault == "labels as dict":
        batch[labels_key] = {"a": 1}
    protocol = draw(st.integers(2, 5))
    if content == "dict":
        return pickle.dumps(batch, protocol=protocol)
    if content == "protocol 0":
        return pickle.dumps({labels_key: labels, "data": data.tolist()}, protocol=0)
    if content == "garbage":
        return draw(st.binary(min_size=0, max_size=40))
    if content == "truncated":
        whole = pickle.dumps(batch, protocol=protocol)
        return whole[: draw(st.integers(0, len(whole) - 1))]
    if content == "list":
        return pickle.dumps([1, 2, 3], protocol=protocol)
    if content == "set":
        return pickle.dumps({1, 2}, protocol=protocol)
    return pickle.dumps(collections.OrderedDict(batch), protocol=protocol)


def write_files(root, files):
    for relative, data in files.items():
        path = Path(root, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def file_contents(root):
    return {str(p): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


def check_loaded(name, result, files, kind):
    X, y = result
    assert isinstance(X, np.ndarray) and X.dtype == np.float32 and X.ndim == 4
    assert isinstance(y, np.ndarray) and y.dtype == np.int64 and y.ndim == 1
    assert len(X) == len(y) > 0
    assert X.size > 0, f"images of zero pixels accepted: X of shape {X.shape}"
    assert np.all(np.isfinite(X)) and X.min() >= 0 and X.max() <= 1
    if kind == "npz":
        with np.load(io.BytesIO(files["data.npz"])) as npz:
            arrays = {key: npz[key] for key in npz.files}
        if "X" in arrays and "y" in arrays:
            label_parts = [arrays["y"]]
        else:
            label_parts = [arrays["y_train"]] + (
                [arrays["y_test"]] if "x_test" in arrays else [])
        given = [int(v) for part in label_parts for v in np.asarray(part).ravel().tolist()]
        assert given == y.tolist(), f"the labels changed in loading: {given} -> {y.tolist()}"


@seeded("load_image_files")
@PROPERTY_SETTINGS
@given(case=image_file_case())
def test_load_image_files(case):
    files, target, valid, kind = case
    with tempfile.TemporaryDirectory() as root:
        write_files(root, files)
        before = file_contents(root)
        path = os.path.join(root, target)
        argument = Path(path) if len(files) % 2 else path  # str or Path
        result, exc = check_call("load_image_files", load_image_files, argument,
                                 inputs=[argument], valid=valid, context={"root": root})
        assert file_contents(root) == before, "load_image_files changed its files"
        if exc is None:
            check_loaded("load_image_files", result, files, kind)
        else:
            assert isinstance(exc, ValueError), f"not a ValueError: {exc!r}"
            assert root in str(exc), f"the error does not name the file: {exc}"


# ---------------------------------------------------------------------------
# loaders: load_dataset
# ---------------------------------------------------------------------------
DATASET_NAMES = [
    "digits", "wine", "breast_cancer", "synthetic", "synthetic:20", "synthetic:19",
    "synthetic:-5", "synthetic:abc", "synthetic:", "synthetic:²", "synthetic:٣٠",
    "synthetic:0020", "synthetic: 30", "synthetic:2e1", "Digits", " digits", "digits ",
    "a" * 300, "", "/nonexistent/x.npz", "foo.npz", "foo\\bar", "x" * 5000 + ".npz",
    None, 3, 2.5, b"digits", Path("digits"), ["digits"], "nul\x00byte", "synthetic:21\n",
]


@st.composite
def dataset_case(draw):
    kind = draw(st.sampled_from(["pool"] * 5 + ["text", "synthetic:N", "file"]))
    n_samples = draw(st.sampled_from([None] * 6 + [25, 1, 0, -1, 2.5, "10", None]))
    files = {}
    if kind == "pool":
        name = draw(st.sampled_from(DATASET_NAMES))
    elif kind == "text":
        name = draw(st.text(max_size=20))
    elif kind == "synthetic:N":
        name = f"synthetic:{draw(st.integers(-50, 300))}"
    else:
        files, target, _, _ = draw(image_file_case())
        name = ("FILE", target)
    if isinstance(name, str) and name.startswith("synthetic:"):
        try:
            if int(name.split(":", 1)[1]) > 300:
                name = "synthetic:300"  # keep the data sets small
        except ValueError:
            pass
    return name, n_samples, files


@seeded("load_dataset")
@PROPERTY_SETTINGS
@given(case=dataset_case())
def test_load_dataset(case):
    name, n_samples, files = case
    with tempfile.TemporaryDirectory() as root:
        if isinstance(name, tuple):
            write_files(root, files)
            name = os.path.join(root, name[1])
        before = file_contents(root)
        kwargs = {} if n_samples is None else {"n_samples": n_samples}
        is_synthetic = str(name) == "synthetic"
        bad = ["n_samples"] if (is_synthetic and n_samples is not None
                                and not (isinstance(n_samples, int) and n_samples >= 1)) else []
        valid = None
        if isinstance(name, str) and name.startswith("synthetic:"):
            size = name.split(":", 1)[1]  # N >= 20 in ASCII digits, nothing else
            valid = size.isascii() and size.isdigit() and int(size) >= 20
        note(f"load_dataset({name!r}, {kwargs})")
        result, exc = check_call("load_dataset", load_dataset, name, inputs=[name],
                                 bad_names=bad, valid=valid, context={"root": root},
                                 **kwargs)
        assert file_contents(root) == before
    if exc is None:
        X, y = result
        assert isinstance(X, np.ndarray) and X.dtype == np.float32 and X.ndim in (2, 4)
        assert isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iu"
        assert len(X) == len(y) > 0 and np.all(np.isfinite(X))
        if str(name).startswith("synthetic:"):
            assert len(X) == int(str(name).split(":", 1)[1])
        if is_synthetic:
            assert len(X) == (2000 if n_samples is None else n_samples)
    elif isinstance(exc, ValueError) and not bad:
        shown = str(name)[:40]
        assert shown in str(exc) or repr(shown)[1:-1][:40] in str(exc) or root in str(exc), (
            f"the error does not name the data set: {exc}")


# ---------------------------------------------------------------------------
# the defects this suite found, fixed: their minimal reproducers, now
# regular tests of the clear error (those of the corruptors, the CCN test and
# the loaders are in test_corruptors.py, test_hypothesis.py,
# test_image_files.py and test_benchmark.py)
# ---------------------------------------------------------------------------
X4, Y4 = np.random.RandomState(0).uniform(size=(4, 3)), np.array([0, 1, 0, 1])


def _beyond_float32(value):
    X = X4.copy()
    X[0, 0] = value
    return X


FORMER_DEFECTS = {
    "zero-size image axis reached torch": (
        lambda: CrossEntropyClassifier(max_epochs=1).fit(np.zeros((4, 1, 0)), Y4),
        ValueError, r"samples of shape \(1, 0\).*at least one element"),
    "default CNN, batches of one sample: torch's BatchNorm error": (
        lambda: CrossEntropyClassifier(max_epochs=1, batch_size=1).fit(
            np.random.RandomState(0).uniform(size=(4, 1, 1)), Y4),
        ValueError, r"batch_size=1 cannot train a network with BatchNorm"),
    "callbacks entries were not validated": (
        lambda: CrossEntropyClassifier(max_epochs=1, callbacks=[5]).fit(X4, Y4),
        (ValueError, TypeError), r"callbacks must be .*entry 0 is 5"),
    "a module of the wrong input size was not validated": (
        lambda: CrossEntropyClassifier(max_epochs=1, module=torch.nn.Linear(7, 2)).fit(X4, Y4),
        (ValueError, TypeError), r"module=.*cannot process samples of shape \(3,\)"),
    "a module giving 5 logits for 2 classes was accepted (SLN)": (
        lambda: SLNClassifier(max_epochs=1, module=five_logits).fit(X4, Y4),
        (ValueError, TypeError), r"module=.*one logit per class"),
    "a module factory returning no module was not validated (Flywheel)": (
        lambda: FlywheelClassifier(max_epochs=2, warmup_epochs=1,
                                   module=not_a_network).fit(X4, Y4),
        (ValueError, TypeError), r"module=.*not a torch.nn.Module"),
    "a module without parameters was not validated": (
        lambda: CrossEntropyClassifier(max_epochs=1, module=torch.nn.Identity).fit(X4, Y4),
        (ValueError, TypeError), r"module=.*no trainable parameters"),
    "a train_split callable's result was not validated": (
        lambda: CrossEntropyClassifier(max_epochs=1, train_split=junk_split).fit(X4, Y4),
        ValueError, r"train_split must return .*got 5"),
    "fit on float64 beyond the float32 range": (
        lambda: CrossEntropyClassifier(max_epochs=1).fit(_beyond_float32(1e39), Y4),
        ValueError, r"beyond the float32 range"),
    "predict_proba on float64 beyond the float32 range gave NaN/inf": (
        lambda: fitted("CrossEntropyClassifier").predict_proba(np.full((1, 3), 1e300)),
        ValueError, r"beyond the float32 range"),
    "ConfusionEM psi that numpy cannot read as floats": (
        lambda: ConfusionEMClassifier(max_epochs=1).fit(X4, Y4, psi=["a"] * 4),
        ValueError, r"psi must hold numbers"),
}


@pytest.mark.parametrize("defect", list(FORMER_DEFECTS))
def test_former_defect_gets_a_clear_error(defect):
    call, expected, message = FORMER_DEFECTS[defect]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(expected, match=message) as error:
            call()
    assert not innermost_file(error.value).startswith(TORCH_DIR), "a raw torch error"


# ---------------------------------------------------------------------------
# generated Datasets: views, wrong items, items that raise
# ---------------------------------------------------------------------------
#: Faults placed on one item of a generated Dataset: what the fit must answer.
DATASET_FAULTS = {
    # name: (what the item becomes, message fragments the refusal must hold)
    "none": None,
    "wrong shape": ("a wider input", ("shape",)),
    "NaN input": ("NaN in its input", ("NaN or infinite",)),
    "text input": ("a string as input", ("numeric",)),
    "one-hot label": ("a one-hot label", ("one class label",)),
    "mixed label": ("a string label among numbers", ("all strings or all numbers",)),
    "missing label": ("None as label", ("missing label",)),
    "three-part item": ("an (input, label, extra) item", ("pairs",)),
}
#: The exception types a generated item raises: the caller's own, whatever
#: they are, must reach the caller unchanged.
RAISED_BY_ITEMS = (KeyError, IndexError, OSError, ValueError, RuntimeError, ZeroDivisionError)


class GeneratedDataset(torch.utils.data.Dataset):
    """Item i is (X[i], y[i]), or X[i] alone; one item may be faulty or raise."""

    def __init__(self, X, y, with_labels, fault="none", at=-1, raised=None):
        self.X, self.y, self.with_labels = X, y, with_labels
        self.fault, self.at, self.raised = fault, at, raised

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        x, label = self.X[index], self.y[index].item()
        if index == self.at:
            if self.raised is not None:
                raise self.raised
            x, label = {
                "wrong shape": lambda: (np.append(x, 0.0), label),
                "NaN input": lambda: (np.full_like(x, np.nan), label),
                "text input": lambda: ("pixels", label),
                "one-hot label": lambda: (x, np.eye(3)[label]),
                "mixed label": lambda: (x, "cat"),
                "missing label": lambda: (x, None),
                "three-part item": lambda: (x, label),
            }[self.fault]()
            if self.fault == "three-part item":
                return x, label, 0
        x = x if isinstance(x, str) else torch.as_tensor(x)
        return (x, label) if self.with_labels else x


def view_of(dataset, draw):
    """``dataset`` behind 0-3 Subset / random_split views, and the base index
    of each of the view's items."""
    positions = np.arange(len(dataset))
    for _ in range(draw(st.integers(0, 3))):
        if len(positions) < 2:
            break
        if draw(st.booleans()):
            chosen = draw(st.lists(st.integers(0, len(positions) - 1),
                                   min_size=2, max_size=len(positions)))
            dataset = torch.utils.data.Subset(dataset, chosen)
        else:
            first = draw(st.integers(1, len(positions) - 1))
            parts = torch.utils.data.random_split(
                dataset, [first, len(positions) - first],
                generator=torch.Generator().manual_seed(draw(st.integers(0, 99))))
            part = draw(st.integers(0, 1))
            dataset, chosen = parts[part], parts[part].indices
        positions = positions[np.asarray(chosen)]
    return dataset, positions


@st.composite
def dataset_fit_case(draw, estimator_name):
    """A fit on a generated Dataset: (estimator, X, y, expectations)."""
    n = draw(st.integers(6, 24))
    n_features = draw(st.integers(1, 4))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    X = rng.uniform(-2, 2, (n, n_features)).astype(np.float32)
    y = np.arange(n) % 3
    with_labels = draw(st.booleans())
    fault = draw(st.sampled_from(["none"] * 12 + list(DATASET_FAULTS)[1:] + ["raises"] * 3))
    if not with_labels and fault in ("one-hot label", "mixed label", "missing label"):
        fault = "none"
    base = GeneratedDataset(X, y, with_labels)
    dataset, positions = view_of(base, draw)
    view_y = y[positions]
    position = draw(st.integers(0, len(positions) - 1))
    if fault != "none":
        # The fault sits on an item the view shows; on the first such item
        # when that index repeats, so the reported position is known.
        position = int(np.flatnonzero(positions == positions[position])[0])
        base.fault, base.at = fault, int(positions[position])
        if fault == "raises":
            base.raised = draw(st.sampled_from(RAISED_BY_ITEMS))(f"item {base.at} is broken")
    params = {"max_epochs": 2, "batch_size": draw(st.sampled_from([2, 4, 64])),
              "random_state": draw(st.integers(0, 9))}
    if estimator_name == "SEALClassifier":
        params["n_iterations"] = 1
    if estimator_name == "FlywheelClassifier":
        params["warmup_epochs"] = 1
    return {"estimator_name": estimator_name, "params": params, "dataset": dataset,
            "y": None if with_labels else view_y, "fault": fault, "position": position,
            "raised": base.raised, "arrays": (X[positions], view_y),
            "fault_positions": np.flatnonzero(positions == base.at).tolist()}


def names_a_position(text, positions):
    return any(re.search(rf"\b[Ii]tem {p}\b|position\(s\) \[{p}\b", text)
               for p in positions)


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, y)


@pytest.mark.parametrize("estimator_name", sorted(CLASSIFIERS))
def test_fit_on_generated_datasets(estimator_name):
    """Views of a Dataset fit like the samples they select; a faulty item is
    refused by position; an item that raises hands the caller its own
    exception, with a note naming the item; a failed fit leaves nothing."""

    @seeded(f"{estimator_name}.fit(Dataset)")
    @settings(PROPERTY_SETTINGS, max_examples=DATASET_EXAMPLES)
    @given(case=dataset_fit_case(estimator_name))
    def run(case):
        check_fit_on_a_dataset(case)

    run()


def check_fit_on_a_dataset(case):
    name = f"{case['estimator_name']}.fit(Dataset)"
    cls = CLASSIFIERS[case["estimator_name"]]
    estimator = cls(**case["params"])
    X, y, fault, position = case["dataset"], case["y"], case["fault"], case["position"]
    note(f"fault {fault!r} at position {position}; {len(X)} items; params {case['params']}")
    labels = sorted(set(case["arrays"][1].tolist()))
    one_class = len(labels) < 2 or (fault == "missing label" and len(X) < 3)
    if fault == "raises":
        # With y given, a single class is refused before any item is read.
        expected = (type(case["raised"]), ValueError) if one_class else type(case["raised"])
        with pytest.raises(expected) as error:
            fit_quietly(estimator, X, y)
        if error.value is not case["raised"]:
            COUNTS[name][type(error.value).__name__] += 1
            assert "only one class" in str(error.value)
            return
        COUNTS[name][f"{type(error.value).__name__} (the item's own)"] += 1
        assert error.value is case["raised"]
        notes = " ".join(getattr(error.value, "__notes__", []))
        assert names_a_position(notes, case["fault_positions"]), notes
        assert not hasattr(estimator, "module_")
        return
    result, exc = check_call(name, fit_quietly, estimator, X, y, inputs=[case["arrays"][0]],
                             valid=None if one_class else fault == "none",
                             runtime_ok=("diverged",))
    if exc is not None:
        assert not hasattr(estimator, "module_"), "a failed fit left a fitted network"
        if fault != "none" and not one_class and position > 0:
            # Items are read in order for the labels and in a shuffled order
            # for training: either way the faulty item is named (the first
            # item sets the shape and dtype that the others are held to).
            fragments = DATASET_FAULTS[fault][1]
            assert any(text in str(exc) for text in fragments), str(exc)
            assert names_a_position(str(exc), case["fault_positions"]), str(exc)
        return
    if fault != "none":
        return  # e.g. a single-class view
    proba = estimator.predict_proba(X)
    reference = fit_quietly(cls(**case["params"]), *case["arrays"])
    np.testing.assert_allclose(proba, reference.predict_proba(case["arrays"][0]), atol=1e-5)
    np.testing.assert_allclose(estimator.noise_scores_, reference.noise_scores_, atol=1e-5)


# ---------------------------------------------------------------------------
# generated checkpoint situations: interruptions, crashes, damaged files
# ---------------------------------------------------------------------------
CHECKPOINT_EXAMPLES = 50
CHECKPOINT_X, CHECKPOINT_Y = make_classification(
    n_samples=30, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
    random_state=0)
CHECKPOINT_X = CHECKPOINT_X.astype(np.float32)
#: Two fits that differ in one parameter, so they have files of their own;
#: 3 training batches per epoch, 6 per stage.
CHECKPOINT_FITS = ({"lr": 0.01}, {"lr": 0.02})
CHECKPOINT_BASE = {"max_epochs": 2, "batch_size": 8, "random_state": 0}
SEAL_REFERENCES = {}


class MachineLost(Exception):
    """A crash: the process ends before a stage starts."""


def seal_reference(fit, n_iterations):
    """The uninterrupted fit without checkpoints (cached)."""
    key = (fit, n_iterations)
    if key not in SEAL_REFERENCES:
        SEAL_REFERENCES[key] = fit_quietly(
            SEALClassifier(n_iterations=n_iterations, **CHECKPOINT_BASE,
                           **CHECKPOINT_FITS[fit]), CHECKPOINT_X, CHECKPOINT_Y)
    return SEAL_REFERENCES[key]


@st.composite
def checkpoint_step(draw):
    action = draw(st.sampled_from([
        "fit", "ctrl-c in a stage", "ctrl-c in a stage", "crash before a stage",
        "ctrl-c while writing", "ctrl-c while writing", "truncate the file",
        "copy the other fit's file", "delete the file"]))
    n_iterations = draw(st.integers(0, 3))
    return {"action": action, "fit": draw(st.integers(0, 1)), "n_iterations": n_iterations,
            "iteration": draw(st.integers(0, n_iterations)), "batch": draw(st.integers(1, 6)),
            "moment": draw(st.sampled_from(["inside torch.save", "before the rename",
                                            "after the rename"]))}


class Interruptions:
    """Ctrl-C inside a stage, a crash before one, or Ctrl-C while a
    checkpoint is written, as one step asks; records whether it happened."""

    def __init__(self, step):
        self.step, self.happened = step, False
        self.stage, self.batches, self.writes = None, 0, 0

    def __enter__(self):
        step, run_stage = self.step, SEALClassifier.run_stage
        target = f"iteration {step['iteration']}"

        def tracking(estimator, data, name, **kwargs):
            self.stage, self.batches = name, 0
            if step["action"] == "crash before a stage" and name == target:
                self.happened = True
                raise MachineLost
            return run_stage(estimator, data, name, **kwargs)

        def on_batch_end(estimator, net, training=False, **kwargs):
            if (training and step["action"] == "ctrl-c in a stage" and self.stage == target
                    and not self.happened):
                self.batches += 1
                if self.batches == step["batch"]:
                    self.happened = True
                    raise KeyboardInterrupt

        def write_to_interrupt():
            if step["action"] != "ctrl-c while writing":
                return False
            self.writes += 1
            self.happened = self.writes == step["iteration"] + 1
            return self.happened

        self.patches = [
            mock.patch.object(SEALClassifier, "run_stage", tracking),
            mock.patch.object(SEALClassifier, "on_batch_end", on_batch_end),
            *(mock.patch.object(owner, name,
                                interrupting(moment, getattr(owner, name), write_to_interrupt))
              for owner, name, moment in patch_targets(_checkpoint_module)
              if moment == step["moment"]),
        ]
        for patch in self.patches:
            patch.start()
        return self

    def __exit__(self, *exc_info):
        for patch in reversed(self.patches):
            patch.stop()


def check_checkpoint_files(directory, owners, damaged):
    """No temporary file is left; every intact checkpoint holds a prefix of
    the uninterrupted fit: its soft labels after that many iterations."""
    files = sorted(directory.iterdir())
    assert all(path.suffix == ".pt" for path in files), files
    for path in files:
        if path in damaged:
            continue
        state = torch.load(path, weights_only=True)
        finished = len(state["history"])
        reference = seal_reference(owners[path], finished - 1)
        np.testing.assert_allclose(state["soft_labels"].numpy(), reference.soft_labels_,
                                   atol=1e-6, err_msg=f"{path.name}: {finished} iterations")


@seeded("SEAL checkpoints")
@settings(PROPERTY_SETTINGS, max_examples=CHECKPOINT_EXAMPLES)
@given(first=st.tuples(st.integers(0, 3), st.integers(0, 3)),
       steps=st.lists(checkpoint_step(), min_size=1, max_size=4))
def test_generated_checkpoint_situations(first, steps):
    """Whatever happens to a sequence of seeded SEAL fits sharing a
    checkpoint folder (Ctrl-C inside a stage or while a file is written, a
    crash, files truncated, copied under another fit's name or deleted), a
    fit that completes without interruption equals the uninterrupted fit
    without checkpoints, a fit that raises leaves the estimator unfitted, a
    damaged file is named, and no file holds a cut-short iteration."""
    name = "SEALClassifier.fit(checkpoint situations)"
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        owners, damaged = {}, set()
        last = {"action": "fit", "n_iterations": 2, "iteration": 0, "batch": 1, "moment": ""}
        # Both fits start with a file of their own, to damage and copy.
        start = [{**last, "fit": fit, "n_iterations": n} for fit, n in enumerate(first)]
        for step in [*start, *steps, {**last, "fit": 0}, {**last, "fit": 1}]:
            note(f"step {step}")
            action, fit = step["action"], step["fit"]
            mine = [path for path, owner in owners.items() if owner == fit]
            if action in ("truncate the file", "copy the other fit's file", "delete the file"):
                others = [path for path, owner in owners.items() if owner != fit]
                if not mine or (action.startswith("copy") and not others):
                    continue
                if action == "delete the file":
                    mine[0].unlink()
                    del owners[mine[0]]
                    damaged.discard(mine[0])
                elif action.startswith("copy"):
                    mine[0].write_bytes(others[0].read_bytes())
                    damaged.add(mine[0])
                else:
                    good = mine[0].read_bytes()
                    mine[0].write_bytes(good[:len(good) // 2])
                    damaged.add(mine[0])
                continue
            estimator = SEALClassifier(checkpoint_dir=directory, n_iterations=step["n_iterations"],
                                       **CHECKPOINT_BASE, **CHECKPOINT_FITS[fit])
            before = set(directory.iterdir())
            with Interruptions(step) as interruptions:
                try:
                    fit_quietly(estimator, CHECKPOINT_X, CHECKPOINT_Y)
                except (KeyboardInterrupt, MachineLost, ValueError) as exc:
                    error = exc
                else:
                    error = None
            for path in set(directory.iterdir()) - before:
                owners[path] = fit
            COUNTS[name][type(error).__name__ if error else "ok"] += 1
            if mine and mine[0] in damaged:
                # Refused before any training, naming the file.
                assert isinstance(error, ValueError), error
                assert str(mine[0]) in str(error) and "Delete the file" in str(error)
                mine[0].unlink()
                del owners[mine[0]]
                damaged.discard(mine[0])
            elif error is not None:
                assert interruptions.happened and not isinstance(error, ValueError), error
                assert not hasattr(estimator, "module_"), "a failed fit left a fitted network"
            elif not interruptions.happened:
                reference = seal_reference(fit, step["n_iterations"])
                np.testing.assert_allclose(estimator.soft_labels_, reference.soft_labels_,
                                           atol=1e-6)
                np.testing.assert_allclose(estimator.predict_proba(CHECKPOINT_X),
                                           reference.predict_proba(CHECKPOINT_X), atol=1e-6)
            else:
                assert action == "ctrl-c in a stage"  # that stage ended early, as documented
                assert np.isfinite(estimator.soft_labels_).all()
            check_checkpoint_files(directory, owners, damaged)


# ---------------------------------------------------------------------------
# the table of outcomes
# ---------------------------------------------------------------------------
def outcome_table():
    lines = ["", "property-based examples per public callable "
             "(ok = succeeded; otherwise the exception raised):"]
    width = max([len(name) for name in COUNTS] + [10])
    for name in sorted(COUNTS):
        counter = COUNTS[name]
        total = sum(counter.values())
        refused = ", ".join(f"{kind} {count}" for kind, count in counter.most_common()
                            if kind != "ok")
        lines.append(f"  {name:<{width}}  ran {total:4d}  ok {counter['ok']:4d}  "
                     f"refused: {refused or '-'}")
    if DIVERGED:
        lines.append("  TrainingDivergedError came from: " + "; ".join(
            f"{text} ({count}x)" for text, count in collections.Counter(DIVERGED).items()))
    return "\n".join(lines)


class _OutcomeSummary:
    def pytest_terminal_summary(self, terminalreporter):
        if COUNTS:
            terminalreporter.write_line(outcome_table())


@pytest.fixture(scope="module", autouse=True)
def _module_setup(request):
    """One torch thread (the networks are tiny: on two busy cores a second
    thread makes every call several times slower), and the outcome table
    in pytest's terminal summary."""
    manager = request.config.pluginmanager
    if not manager.has_plugin("sklearn_noisy_property_outcomes"):
        manager.register(_OutcomeSummary(), "sklearn_noisy_property_outcomes")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_zz_outcome_table():
    """Runs last: print the outcomes and check that every callable ran enough."""
    print(outcome_table())
    for name, counter in COUNTS.items():
        least = {"(Dataset)": DATASET_EXAMPLES, "situations)": CHECKPOINT_EXAMPLES}.get(
            name.rsplit(".fit", 1)[-1].rsplit(" ", 1)[-1], N_EXAMPLES)
        assert sum(counter.values()) >= least, f"{name} ran too few examples"
