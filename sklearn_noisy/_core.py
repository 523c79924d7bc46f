"""The skorch-based core every estimator of the package is built on.

:class:`NoisyLabelClassifier` subclasses skorch's ``NeuralNetClassifier`` and
keeps its training loop, callbacks, history and device-aware pickling, but
changes what a scikit-learn user would trip over:

* ``__init__`` only stores parameters (skorch also sets ``history_`` and
  friends, which makes an unfitted net look fitted to scikit-learn);
* input is validated with scikit-learn's utilities, labels may be any
  classes, the network is chosen from the shape of X at fit time;
* everything is trained on unless ``train_split`` asks for a validation part;
* the data lives as one tensor on the device and batches are drawn by index
  (or, for a ``torch.utils.data.Dataset``, loaded by index batch by batch);
* a fit either succeeds or leaves the estimator as it was.

A fit is a sequence of *training stages*: one run of skorch's fit loop over
one network (:meth:`NoisyLabelClassifier._run_stage`). A method subclasses
the core, overrides :meth:`NoisyLabelClassifier._fit_noisy` to run its
stages, and does what happens between epochs in callbacks that own the
state they need.
"""

import math
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import sparse
from sklearn.base import BaseEstimator, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EpochScoring, EpochTimer, PassthroughScoring, PrintLog
from skorch.dataset import ValidSplit
from skorch.utils import TeeGenerator
from torch.utils.data import Subset

from ._callbacks import TrainAugmentation
from ._data import SequentialBatches, ShuffledBatches, TrainingData, base_and_indices
from ._docstrings import shared_parameters
from ._history import BatchHistory
from ._loading import LazyFeatures, dataset_labels, is_user_dataset, sample_input
from ._precision import PRECISIONS, LossScaling, autocast
from ._random import FitRandomness, derived_seed, draw_seed
from ._validation import refuse_missing_labels
from .exceptions import TrainingDivergedError
from .networks import build_network

#: Prefixes of the skorch-style ``prefix__name=value`` keyword parameters.
ROUTED_PREFIXES = ("module__", "optimizer__", "callbacks__", "iterator_train__",
                   "iterator_valid__", "compile__")

#: Rows per forward pass at inference, by device type and input kind, as
#: ``benchmarks/bench_inference_batch.py`` measures them on a CPU: large
#: batches amortise Python overhead, but past about a thousand rows (MLP)
#: or 512 images (SmallCNN) the activations fall out of the caches and an
#: evaluation pass gets 1.7-2.4x slower. The CUDA values are not measured.
INFERENCE_BATCH_SIZES = {("cpu", "tabular"): 1024, ("cpu", "images"): 512,
                         ("cuda", "tabular"): 4096, ("cuda", "images"): 1024}


def inference_batch_size(device, input_shape):
    """Rows per forward pass of an evaluation pass, for inputs of ``input_shape``."""
    kind = "images" if len(input_shape) >= 2 else "tabular"
    return INFERENCE_BATCH_SIZES[torch.device(device).type, kind]


def check_device(device):
    """Validate a device name and make sure it can be used here."""
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


def one_hot(labels, n_classes, device=None):
    """Float one-hot matrix of integer ``labels`` (a tensor or array)."""
    labels = torch.as_tensor(labels, device=device)
    return torch.nn.functional.one_hot(labels.long(), n_classes).float()


def eval_softmax(network, X, augment=None, dtype=torch.float32, batch_size=4096,
                 prepare=None):
    """Eval-mode softmax of ``network`` on ``X``, in batches.

    ``X`` is a device tensor or :class:`~sklearn_noisy._loading.LazyFeatures`.
    ``augment`` (a callable on batches) is applied to every batch first,
    then ``prepare`` (the estimator's precision and memory format). The
    network's training mode is restored afterwards.
    """
    was_training = network.training
    network.eval()
    prepare = prepare or _run
    try:
        with torch.no_grad():
            return torch.cat([
                torch.softmax(prepare(network, chunk if augment is None else augment(chunk))
                              .to(dtype), dim=1)
                for chunk in X.split(batch_size)
            ])
    finally:
        network.train(was_training)


def _run(network, X):
    return network(X)


#: Up to this many rows, CPU predictions run the network in float64.
EXACT_PREDICTION_ROWS = 64


def _exact_softmax(network, X):
    """Eval-mode softmax with the network run in float64.

    float32 matrix products round differently for different numbers of rows,
    so a sample's probabilities would depend (in the 7th digit) on which other
    samples are predicted with it. For small inputs on the CPU the network
    runs in float64, where that rounding is negligible, at little cost.
    """
    state = {
        name: value.double() if value.is_floating_point() else value
        for name, value in [*network.named_parameters(), *network.named_buffers()]
    }
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            logits = torch.func.functional_call(
                network, state, (X.double() if X.is_floating_point() else X,))
    finally:
        network.train(was_training)
    return torch.softmax(logits, dim=1)


@dataclass
class FitData:
    """What one fit trains on and the randomness it owns (passed down).

    Attributes
    ----------
    X : torch.Tensor on the device, or LazyFeatures
        The features; a Dataset passed as X is loaded batch by batch.
    y : torch.Tensor of int64 on the device
        Given labels, encoded.
    labels : ndarray
        Given labels as the caller gave them.
    n_classes : int
    randomness : FitRandomness
    split : tuple of two index tensors, or None
        Training and validation samples when ``train_split`` is set.
    stages : list of (str, History)
        The finished stages, in order.
    """

    X: torch.Tensor
    y: torch.Tensor
    labels: np.ndarray
    n_classes: int
    randomness: FitRandomness
    split: tuple | None = None
    stages: list = field(default_factory=list)

    @property
    def device(self):
        return self.y.device


class NoisyLabelClassifier(NeuralNetClassifier):
    """Base class of the package's classifiers (not for direct use).

    Parameters
    ----------
    {shared_parameters}
    """

    _parameter_constraints = {
        "module": [None, callable, torch.nn.Module],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "optimizer": [type],
        "train_split": [None, Interval(numbers.Real, 0, 1, closed="neither"), callable],
        "device": [str, torch.device],
        "callbacks": [list, None],
        "augmentation": [None, callable],
        "precision": [StrOptions(set(PRECISIONS))],
        "channels_last": [StrOptions({"auto"}), "boolean"],
        "compile": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    # skorch parameters that are fixed here rather than exposed: the loss
    # takes logits, and fit always starts from a fresh network.
    criterion = torch.nn.CrossEntropyLoss
    warm_start = False
    classes = None
    predict_nonlinearity = "auto"
    use_caching = "auto"
    torch_load_kwargs = None
    iterator_train = ShuffledBatches
    iterator_valid = SequentialBatches
    dataset = TrainingData
    history_ = None
    initialized_ = False
    virtual_params_ = {}
    augmentation = None
    # Set for the duration of a training stage only.
    _loss_scaling = None
    _silent_batch_hooks = frozenset()

    def __init__(
        self,
        module=None,
        *,
        max_epochs=50,
        batch_size=64,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        train_split=None,
        device="cpu",
        callbacks=None,
        augmentation=None,
        precision="float32",
        channels_last="auto",
        compile=False,
        verbose=0,
        random_state=None,
        **kwargs,
    ):
        self.module = module
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.train_split = train_split
        self.device = device
        self.callbacks = callbacks
        if augmentation is not None or "augmentation" in self._signature_param_names():
            # An estimator without the parameter (Flywheel augments its own
            # way) keeps the class default, None.
            self.augmentation = augmentation
        self.precision = precision
        self.channels_last = channels_last
        self.compile = compile
        self.verbose = verbose
        self.random_state = random_state
        vars(self).update(kwargs)

    # ------------------------------------------------------------------
    # parameters
    # ------------------------------------------------------------------
    def __setattr__(self, name, value):
        # Parameters are stored exactly as given (scikit-learn's contract);
        # skorch's bookkeeping is only needed for fitted torch components,
        # whose names end in "_".
        if name.endswith("_"):
            super().__setattr__(name, value)
        else:
            object.__setattr__(self, name, value)

    # skorch's repr shows the fitted modules and hides the hyperparameters;
    # scikit-learn's shows the parameters that differ from their defaults.
    __repr__ = BaseEstimator.__repr__

    def __sklearn_is_fitted__(self):
        return hasattr(self, "label_encoder_") and hasattr(self, "module_")

    def _get_param_names(self):
        # The __init__ signature, plus the extra keywords stored by __init__
        # or set_params (skorch-style ``module__*`` parameters), so that
        # get_params/clone round-trip them.
        names = set(type(self)._signature_param_names())
        names.update(
            key for key in vars(self)
            if not key.startswith("_") and not key.endswith("_")
        )
        return sorted(names)

    @classmethod
    def _signature_param_names(cls):
        # scikit-learn's own introspection of the __init__ signature (skorch
        # replaced it by a scan of the instance __dict__).
        return BaseEstimator.__dict__["_get_param_names"].__get__(None, cls)()

    def get_params(self, deep=True, **kwargs):
        """Get the parameters, including routed ``module__*`` style ones.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of the callbacks, as
            ``callbacks__<name>__<parameter>``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        # Defined here only to give skorch's get_params a docstring.
        return super().get_params(deep=deep, **kwargs)

    def set_params(self, **params):
        """Set parameters, including routed ``module__*`` style ones.

        Returns
        -------
        self : estimator instance
        """
        valid = set(self._get_param_names())
        nested = {}
        for key, value in params.items():
            if key in valid or key.startswith(ROUTED_PREFIXES):
                setattr(self, key, value)
            elif "__" in key and key.split("__", 1)[0] in valid:
                name, sub_key = key.split("__", 1)
                nested.setdefault(name, {})[sub_key] = value
            else:
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator "
                    f"{self.__class__.__name__}. Valid parameters are: "
                    f"{sorted(valid)!r}."
                )
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def _validate_params(self):
        # Replaces skorch's keyword check by scikit-learn's constraint check,
        # plus the checks that involve several parameters.
        params = self.get_params(deep=False)
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=self.__class__.__name__
        )
        self._check_params()
        signature = set(self._signature_param_names())
        unknown = sorted(
            key for key in vars(self)
            if key not in signature and not key.startswith(ROUTED_PREFIXES)
            and not key.startswith("_") and not key.endswith("_")
        )
        if unknown:
            raise ValueError(
                f"{self.__class__.__name__} got unexpected parameter(s) {unknown}; "
                "extra keyword parameters must be routed ones starting with "
                f"{', '.join(ROUTED_PREFIXES)}."
            )
        if not issubclass(self.optimizer, torch.optim.Optimizer):
            raise ValueError(
                f"optimizer must be a torch.optim.Optimizer class; got {self.optimizer!r}."
            )
        if issubclass(self.optimizer, torch.optim.LBFGS):
            raise ValueError(
                "optimizer=torch.optim.LBFGS is not supported: it needs a closure "
                "that re-evaluates the loss, and the methods here change their "
                "targets between steps. Use a first-order optimizer such as "
                "torch.optim.SGD or torch.optim.Adam."
            )
        for position, entry in enumerate(self.callbacks or []):
            callback = entry[1] if isinstance(entry, tuple) and len(entry) == 2 else entry
            if not (isinstance(callback, Callback)
                    or (isinstance(callback, type) and issubclass(callback, Callback))):
                raise ValueError(
                    "callbacks must be a list of skorch callbacks (instances or "
                    "classes) or (name, callback) pairs; entry "
                    f"{position} is {entry!r}."
                )

    def _check_params(self):
        """Checks across parameters, run with the constraints (override)."""

    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ]
        if self.train_split is not None:
            callbacks += [
                ("valid_loss", PassthroughScoring(name="valid_loss")),
                ("valid_acc", EpochScoring(
                    "accuracy", name="valid_acc", lower_is_better=False)),
            ]
        return callbacks + [("print_log", PrintLog())]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------
    # data
    # ------------------------------------------------------------------
    @property
    def classes_(self):
        """Class labels seen at fit, in the order of the probability columns."""
        return self.label_encoder_.classes_

    @staticmethod
    def _to_host(data):
        if isinstance(data, torch.Tensor):
            if data.dtype in (torch.bfloat16, torch.float16):
                # numpy has no bfloat16; the default networks train in float32.
                data = data.float()
            return data.detach().cpu().numpy()
        return data

    @staticmethod
    def _refuse_sparse(X):
        if sparse.issparse(X) or (
            hasattr(X, "sparse") and hasattr(getattr(X, "sparse"), "to_coo")
        ):
            raise TypeError(
                "Sparse data is not supported: the networks need dense input. "
                "Convert it with X.toarray() if it fits in memory."
            )

    def _prepare_training_data(self, X, y):
        """Validate (X, y) and set the input attributes.

        Returns
        -------
        X : torch.Tensor on ``self.device``, or LazyFeatures for a Dataset
        y : torch.Tensor of int64 on ``self.device``
            Labels encoded as ``0 .. n_classes - 1``.
        labels : ndarray
            The labels as given.
        """
        if is_user_dataset(X) and not _is_training_data(X):
            return self._prepare_training_dataset(X, y)
        self._refuse_sparse(X)
        if y is None:
            raise ValueError(
                f"{self.__class__.__name__} requires y to be passed, but the target "
                "y is None (only a Dataset of (input, label) pairs carries its own "
                "labels).")
        y = self._to_host(y)
        refuse_missing_labels(y, "y")
        X, y = validate_data(
            self,
            self._to_host(X),
            y,
            dtype=self._accepted_dtypes(),
            allow_nd=True,
        )
        encoded = self._encode_labels(y)
        self.input_shape_ = tuple(X.shape[1:])
        self.input_dtype_ = self._input_dtype(X.dtype)
        return _as_input_tensor(X, self.device, self.input_dtype_), encoded, y

    def _prepare_training_dataset(self, dataset, y):
        if len(dataset) == 0:
            raise ValueError(
                f"X is an empty Dataset: {self.__class__.__name__} needs at least "
                "one sample.")
        y = dataset_labels(dataset) if y is None else self._to_host(y)
        refuse_missing_labels(y, "y")
        y = column_or_1d(np.asarray(y), warn=True)
        if len(y) != len(dataset):
            raise ValueError(
                f"X is a Dataset of {len(dataset)} samples but y has {len(y)} labels.")
        encoded = self._encode_labels(y)
        first = sample_input(dataset[0])
        self.input_shape_ = tuple(first.shape)
        self.input_dtype_ = self._input_dtype(first.dtype)
        _refuse_empty_axes(self.input_shape_)
        # What validate_data records for arrays.
        self.n_features_in_ = self.input_shape_[0] if self.input_shape_ else 1
        vars(self).pop("feature_names_in_", None)
        return self._lazy_features(dataset), encoded, y

    def _lazy_features(self, dataset):
        return LazyFeatures(
            dataset, self.input_shape_, self.input_dtype_, check_device(self.device),
            train_loader_params=self.get_params_for("iterator_train"),
            eval_loader_params=self.get_params_for("iterator_valid"))

    def _encode_labels(self, y):
        check_classification_targets(y)
        self.label_encoder_ = LabelEncoder().fit(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{self.__class__.__name__} needs samples of at least 2 classes, "
                f"but the data contains only one class: {self.classes_[0]!r}."
            )
        return torch.as_tensor(self.label_encoder_.transform(y), device=self.device)

    def _accepted_dtypes(self):
        # A user's network gets integer inputs (token ids) as they are; the
        # default networks and every floating input compute in float32.
        return [np.float32, np.float64] if self.module is None else "numeric"

    def _input_dtype(self, dtype):
        """The torch dtype the network receives for inputs of ``dtype``."""
        dtype = torch.empty(0, dtype=dtype).dtype if isinstance(dtype, torch.dtype) \
            else torch.from_numpy(np.empty(0, dtype=dtype)).dtype
        if self.module is None or dtype.is_floating_point:
            return torch.float32
        return dtype

    def _prepare_inference_data(self, X):
        check_is_fitted(self)
        if is_user_dataset(X) and not _is_training_data(X):
            shape = tuple(sample_input(X[0]).shape) if len(X) else None
            if shape != self.input_shape_:
                raise ValueError(
                    f"X is a Dataset of samples of shape {shape}, but "
                    f"{self.__class__.__name__} was fitted on samples of shape "
                    f"{self.input_shape_}.")
            return self._lazy_features(X)
        self._refuse_sparse(X)
        X = validate_data(
            self,
            self._to_host(X),
            reset=False,
            dtype=self._accepted_dtypes(),
            allow_nd=True,
        )
        if tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but "
                f"{self.__class__.__name__} was fitted on samples of shape "
                f"{self.input_shape_}."
            )
        return _as_input_tensor(X, self.device, getattr(self, "input_dtype_", torch.float32))

    def _split(self, X, labels, randomness):
        """Training and validation indices under ``train_split``, or None."""
        if self.train_split is None:
            return None
        split = self.train_split
        if isinstance(split, numbers.Real):
            split = ValidSplit(
                float(split), stratified=True,
                random_state=derived_seed(randomness.seed, "train_split"))
        parts = split(TrainingData(X, labels=labels), labels)
        if not (isinstance(parts, tuple) and len(parts) == 2
                and all(isinstance(part, Subset) for part in parts)):
            raise ValueError(
                "train_split must return the training and the validation part as "
                "two torch.utils.data.Subset objects, as skorch's ValidSplit does; "
                f"got {parts!r}."
            )
        return tuple(
            torch.as_tensor(np.asarray(part.indices), dtype=torch.long, device=X.device)
            for part in parts
        )

    def get_dataset(self, X, y=None):
        """Wrap device tensors; skorch calls this for training and inference."""
        if isinstance(X, (TrainingData, Subset)):
            return X
        if isinstance(X, Mapping):
            return TrainingData(X["X"])
        return TrainingData(X, y)

    def get_split_datasets(self, X, y=None, **fit_params):
        """The training data and its validation part, split once per fit."""
        dataset = self.get_dataset(X, y)
        if getattr(dataset, "split", None) is None:
            return dataset, None
        train, valid = dataset.split
        # Host index arrays: skorch's scoring callbacks without caching index
        # the data with scikit-learn's _safe_indexing, which reads numpy dtypes.
        return Subset(dataset, train.cpu().numpy()), Subset(dataset, valid.cpu().numpy())

    def get_iterator(self, dataset, training=False):
        """Shuffled index batches for training, in-order slices otherwise."""
        if training:
            data, _ = base_and_indices(dataset)
            return ShuffledBatches(dataset, self.batch_size, data.shuffle_generator)
        return SequentialBatches(dataset, self._inference_batch_size())

    def _inference_batch_size(self):
        return max(self.batch_size, inference_batch_size(self.device, self.input_shape_))

    # ------------------------------------------------------------------
    # network
    # ------------------------------------------------------------------
    def initialize_module(self):
        """Build a fresh network for the fitted input shape and classes."""
        self.module_ = self._build_network()
        return self

    def _build_network(self):
        """A fresh network, checked, in its memory format.

        skorch moves it to the device and compiles it (``compile=True``)
        once it is registered.
        """
        network = build_network(
            self.module,
            self.input_shape_,
            len(self.classes_),
            self.get_params_for("module"),
        )
        network = _checked_network(network, self.module, self.input_shape_,
                                   len(self.classes_), self.input_dtype_)
        if self._uses_channels_last():
            network = network.to(memory_format=torch.channels_last)
        return network

    def _uses_channels_last(self):
        # Convolutions are faster on NHWC tensors: on CUDA (tensor cores), and
        # on the CPU, where benchmarks/bench_memory_format.py measures 1.35-1.4x
        # for training epochs and 1.25-1.5x for evaluation passes.
        if self.channels_last == "auto":
            return len(self.input_shape_) == 3
        return bool(self.channels_last) and len(self.input_shape_) == 3

    def run_network(self, network, X):
        """Forward ``X`` through ``network`` in the estimator's precision.

        Inputs go to the memory format the networks use; the logits come
        back as float32 whatever the compute precision.
        """
        if X.dim() == 4 and self._uses_channels_last():
            X = X.contiguous(memory_format=torch.channels_last)
        with autocast(self.precision, self.device):
            logits = network(X)
        return logits.float()

    def _set_training(self, training=True):
        # skorch calls this before every batch; module.train() walks all
        # submodules, so only switch when the mode actually changes.
        for name in self._modules + self._criteria:
            component = getattr(self, name + "_")
            if isinstance(component, torch.nn.Module) and component.training != training:
                component.train(training)

    def infer(self, x, **fit_params):
        """Forward a batch that is already on the device."""
        if isinstance(x, Mapping):
            x = x["X"]
        return self.run_network(self.module_, x)

    # ------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the network on (possibly noisy) labels.

        Parameters
        ----------
        X : array-like, DataFrame, torch.Tensor or torch.utils.data.Dataset
            2-D tabular data or 3-D/4-D images, shape (n_samples, ...), or a
            map-style Dataset whose items are inputs or ``(input, label)``
            pairs, loaded batch by batch (see :ref:`large-data`).
        y : array-like of shape (n_samples,), or None
            Given labels, of any hashable type; some may be wrong. ``None``
            takes them from a Dataset of ``(input, label)`` pairs.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit_atomically(X, y)

    def _fit_atomically(self, X, y, **method_inputs):
        """Run the fit; if anything raises, restore the estimator as it was."""
        before = {
            name: value[:] if isinstance(value, list) else value
            for name, value in vars(self).items()
        }
        try:
            self._fit(X, y, **method_inputs)
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise
        return self

    def _fit(self, X, y, **method_inputs):
        device = check_device(self.device)
        X, encoded, labels = self._prepare_training_data(X, y)
        randomness = FitRandomness(draw_seed(self.random_state), device)
        if isinstance(X, LazyFeatures):
            X.seed = derived_seed(randomness.seed, "loader")
        data = FitData(X, encoded, labels, len(self.classes_), randomness,
                       split=self._split(X, labels, randomness))
        with randomness.global_section():
            self._fit_noisy(data, **method_inputs)
        self.stage_histories_ = data.stages

    # skorch's incremental training does not fit methods that need the whole
    # training set at once; hiding the method keeps scikit-learn from using it.
    @available_if(lambda self: False)
    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Not available: every method needs the whole training set at once."""

    def _fit_noisy(self, data, **method_inputs):
        """Run the method's training stages on ``data`` (override).

        Parameters
        ----------
        data : FitData
        """
        raise NotImplementedError

    def _run_stage(self, data, name, *, epochs=None, fields=None, callbacks=(),
                   fresh_network=True, criterion=None, seed_key=None):
        """One training stage: one run of skorch's fit loop over ``module_``.

        Every stage starts with a fresh optimizer, a fresh ``history_`` and
        freshly initialised callbacks, so a user callback sees one
        ``on_train_begin`` ... ``on_train_end`` per stage. ``EarlyStopping``
        (or Ctrl-C) ends the stage, as in skorch's ``partial_fit``.

        Parameters
        ----------
        data : FitData
        name : str
            Names the stage in ``stage_histories_`` and in error messages.
        epochs : int or None
            Defaults to ``max_epochs``.
        fields : dict of str to torch.Tensor or None
            Per-sample values gathered into each batch (see
            :class:`~sklearn_noisy._data.TrainingData`); ``targets`` are the
            rows the default loss trains against instead of the given labels.
        callbacks : sequence of (name, skorch callback)
            The method's own callbacks for this stage; they run before the
            user's, so a user's ``LRScheduler`` steps after them.
        fresh_network : bool
            Start from a freshly initialised network; ``False`` continues
            with the previous stage's network.
        criterion : torch.nn.Module or None
            The stage's loss on ``(logits, given labels)`` instead of
            cross-entropy.
        seed_key : str or None
            Keys the stage's random draws; defaults to ``name``. A method's
            stage that trains like :class:`CrossEntropyClassifier` passes
            ``"training"`` to draw exactly what that estimator draws.

        Returns
        -------
        dataset : TrainingData
            The stage's data, with its fields as the stage left them.
        """
        # Seeds are keyed by the stage's name, not its position, so a fit
        # resumed after some stages draws what an uninterrupted one draws.
        seed_key = name if seed_key is None else seed_key
        data.randomness.seed_global(seed_key)
        if fresh_network or not self.initialized_:
            self.initialize()
        else:
            self._initialize_callbacks()
            self._initialize_criterion()
            self._initialize_optimizer()
            self._initialize_history()
        if criterion is not None:
            self.criterion_ = criterion.to(self.device)
        if self.augmentation is not None:
            callbacks = [("augmentation", TrainAugmentation(
                self.augmentation, data.randomness.generator("augmentation", seed_key))),
                *callbacks]
        if self.batch_size < 2 and any(
                isinstance(layer, torch.nn.modules.batchnorm._BatchNorm)
                for layer in self.module_.modules()):
            raise ValueError(
                f"batch_size={self.batch_size} cannot train a network with BatchNorm "
                "layers (the default CNN has them): BatchNorm needs at least 2 "
                "samples per batch. Use batch_size >= 2."
            )
        self._add_method_callbacks(callbacks)
        self._silent_batch_hooks = self._unimplemented_batch_hooks()

        dataset = TrainingData(data.X, data.y, data.labels, **(fields or {}))
        dataset.split = data.split
        dataset.shuffle_generator = data.randomness.generator("batches", seed_key)
        # What callbacks get as X: the caller's Dataset rather than its loader.
        X = data.X.dataset if isinstance(data.X, LazyFeatures) else data.X
        self.notify("on_train_begin", X=X, y=data.labels)
        self._loss_scaling = LossScaling(self.precision, self.device)
        try:
            self.fit_loop(dataset, epochs=epochs)
        except KeyboardInterrupt:
            pass
        except _NonFiniteLoss as diverged:
            raise TrainingDivergedError(
                f"Training diverged in stage {name!r} of "
                f"{self.__class__.__name__}: the training loss became "
                f"{diverged.value} at epoch {len(self.history_)}. Try a lower "
                f"learning rate (lr={self.lr!r}) or a different optimizer."
            ) from None
        finally:
            del self._loss_scaling
            del self._silent_batch_hooks
        self.notify("on_train_end", X=X, y=data.labels)
        # The method's callbacks hold per-sample tensors and generators that
        # belong to this fit, not to the fitted (and pickled) estimator.
        self.callbacks_ = [
            (name_, callback) for name_, callback in self.callbacks_
            if not any(callback is own for _, own in callbacks)
        ]
        data.stages.append((name, self.history_))
        return dataset

    def _add_method_callbacks(self, callbacks):
        for _, callback in callbacks:
            callback.initialize()
        default_names = {name for name, _ in self._default_callbacks}
        position = next(
            (i for i, (name, callback) in enumerate(self.callbacks_)
             if name not in default_names or isinstance(callback, PrintLog)),
            len(self.callbacks_),
        )
        self.callbacks_ = (
            self.callbacks_[:position] + list(callbacks) + self.callbacks_[position:]
        )

    def _unimplemented_batch_hooks(self):
        """The per-batch hooks that no callback implements.

        Notifying them is a loop of no-op calls per batch, a measurable share
        of the fit time of a small network: only the net's own method runs.
        """
        return frozenset(
            hook for hook in ("on_batch_begin", "on_batch_end", "on_grad_computed")
            if all(getattr(type(callback), hook) is getattr(Callback, hook)
                   for _, callback in self.callbacks_)
        )

    def notify(self, method_name, **cb_kwargs):
        """skorch's ``notify``; per-batch hooks no callback implements reach
        only the net's own method (which records the batch in the history)."""
        if method_name in self._silent_batch_hooks:
            getattr(self, method_name)(self, **cb_kwargs)
            return
        super().notify(method_name, **cb_kwargs)

    def initialize_history(self):
        """Start an empty :class:`~sklearn_noisy._history.BatchHistory`."""
        self.history_ = BatchHistory()
        return self

    def train_step_single(self, batch, **fit_params):
        """Forward, loss and backward for one batch of device tensors."""
        self._set_training(True)
        inputs, y = batch
        y_pred = self.infer(inputs)
        loss = self.get_loss(y_pred, y, X=inputs, training=True)
        self._loss_scaling.backward(loss)
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        """One optimisation step: skorch's, without the optimizer closure.

        skorch passes a closure to ``optimizer.step`` for the sake of LBFGS,
        which is refused here; building it every batch is measurable on
        small networks.
        """
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        # Callbacks that read or clip gradients see them at their true scale.
        self._loss_scaling.unscale(self.optimizer_)
        if "on_grad_computed" not in self._silent_batch_hooks or (
                type(self).on_grad_computed is not NeuralNetClassifier.on_grad_computed):
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        self._step_optimizer(None)
        return step

    def _step_optimizer(self, step_fn):
        # The network's optimizer steps through the float16 loss scaling;
        # any other registered optimizer has its own training loop.
        for name in self._optimizers:
            optimizer = getattr(self, name + "_")
            if optimizer is self.optimizer_:
                self._loss_scaling.step(optimizer)
            else:
                optimizer.step()
        self._loss_scaling.update()

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch, for batches that are always ``(inputs, y)``.

        Same notifications and history records as skorch's; it skips
        ``skorch.dataset.get_len``, which inspects the batch type every
        batch, and stops at a non-finite training loss.
        """
        if iterator is None:
            return
        batch_count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            loss = step["loss"].item()
            if training and not math.isfinite(loss):
                raise _NonFiniteLoss(loss)
            self.history_.record_batch(prefix + "_loss", loss)
            self.history_.record_batch(prefix + "_batch_size", len(batch[1]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        self.history_.record(prefix + "_batch_count", batch_count)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Cross-entropy of logits ``y_pred``.

        In training, against the batch's ``targets`` field when the stage
        has one (probability rows), else against the given labels
        ``y_true``; validation batches always use the given labels.
        """
        if training and isinstance(X, Mapping) and "targets" in X:
            return self.criterion_(y_pred, X["targets"])
        return self.criterion_(y_pred, y_true)

    # ------------------------------------------------------------------
    # prediction
    # ------------------------------------------------------------------
    def _proba(self, X, network=None, augment=None, dtype=torch.float32):
        """Eval-mode softmax of ``network`` (default ``module_``) on ``X``.

        ``X`` is a device tensor or LazyFeatures; the pass runs in the
        estimator's precision, in inference-sized batches.
        """
        return eval_softmax(
            self.module_ if network is None else network, X, augment=augment,
            dtype=dtype, batch_size=self._inference_batch_size(),
            prepare=self.run_network)

    def _predict_softmax(self, X):
        """float64 softmax for ``predict``/``predict_proba``."""
        if (isinstance(X, torch.Tensor) and X.device.type == "cpu"
                and len(X) <= EXACT_PREDICTION_ROWS and self.precision == "float32"):
            return _exact_softmax(self.module_, X)
        return self._proba(X, dtype=torch.float64)

    def _training_time_logits(self, X):
        # skorch's scoring callbacks pass the training data or a batch of it
        # (and replace forward_iter by cached predictions): go through skorch.
        return self.forward(X, training=False, device=self.device)

    def predict_proba(self, X):
        """Class probabilities of the network.

        Parameters
        ----------
        X : array-like, DataFrame, torch.Tensor or torch.utils.data.Dataset
            Samples of the shape seen in ``fit``; a Dataset's items are
            inputs or ``(input, label)`` pairs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        if _is_training_data(X):
            logits = self._training_time_logits(X)
            return torch.softmax(logits.double(), dim=1).cpu().numpy()
        X = self._prepare_inference_data(X)
        return self._predict_softmax(X).cpu().numpy()

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like, DataFrame, torch.Tensor or torch.utils.data.Dataset
            Samples of the shape seen in ``fit``; a Dataset's items are
            inputs or ``(input, label)`` pairs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        if _is_training_data(X):
            # Encoded, like the labels skorch's callbacks compare with.
            return self._training_time_logits(X).argmax(dim=1).cpu().numpy()
        X = self._prepare_inference_data(X)
        proba = self._predict_softmax(X)
        return self.classes_[proba.argmax(dim=1).cpu().numpy()]

    def score(self, X, y=None, sample_weight=None):
        """Accuracy of ``predict(X)`` against ``y``.

        Parameters
        ----------
        X : array-like, DataFrame, torch.Tensor or torch.utils.data.Dataset
        y : array-like of shape (n_samples,), or None
            True labels; ``None`` takes them from a Dataset of
            ``(input, label)`` pairs.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if y is None and is_user_dataset(X) and not _is_training_data(X):
            y = dataset_labels(X)
        return super().score(X, y, sample_weight=sample_weight)

    # ------------------------------------------------------------------
    # noise attributes
    # ------------------------------------------------------------------
    def _set_noise_attributes(self, noise_scores, corrected_indices, given):
        """Store ``noise_scores_``, ``corrected_labels_`` (original labels) and
        ``label_issues_``: where the correction differs from ``given``, the
        encoded given labels."""
        self.noise_scores_ = np.asarray(
            torch.as_tensor(noise_scores).detach().cpu().double().numpy()
        )
        corrected_indices = torch.as_tensor(corrected_indices).detach().cpu().numpy()
        self.corrected_labels_ = self.classes_[corrected_indices]
        self.label_issues_ = corrected_indices != torch.as_tensor(given).cpu().numpy()

    def __getstate__(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return super().__getstate__()


NoisyLabelClassifier = shared_parameters()(NoisyLabelClassifier)


class _NonFiniteLoss(Exception):
    """Raised inside an epoch; the stage turns it into TrainingDivergedError."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


def _is_training_data(X):
    """Whether X is the core's own training data, a part or a batch of it."""
    if isinstance(X, Subset):
        return isinstance(base_and_indices(X)[0], TrainingData)
    return isinstance(X, (TrainingData, Mapping))


def _refuse_empty_axes(sample_shape):
    if any(size == 0 for size in sample_shape):
        raise ValueError(
            f"X has samples of shape {tuple(sample_shape)}: every axis of a sample "
            "needs at least one element."
        )


def _as_input_tensor(X, device, dtype):
    """X as a ``dtype`` tensor; refuse empty sample axes and float32 overflow."""
    _refuse_empty_axes(X.shape[1:])
    tensor = torch.tensor(X, dtype=dtype, device=device)
    if tensor.is_floating_point() and not torch.isfinite(tensor).all():
        raise ValueError(
            "X has values beyond the float32 range (about 3.4e38 in magnitude), "
            "which the networks compute in; rescale the features."
        )
    return tensor


def _checked_network(network, module, input_shape, n_classes, input_dtype=torch.float32):
    """Refuse a ``module`` that cannot serve as the estimator's network."""
    if not isinstance(network, torch.nn.Module):
        raise TypeError(
            f"module={module!r} produced {network!r}, not a torch.nn.Module."
        )
    if not any(parameter.requires_grad for parameter in network.parameters()):
        raise ValueError(
            f"module={module!r} has no trainable parameters."
        )
    device = next(network.parameters()).device
    probe = torch.zeros((2, *input_shape), device=device, dtype=input_dtype)
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            output = network(probe)
    except Exception as exc:
        raise ValueError(
            f"module={module!r} cannot process samples of shape {tuple(input_shape)}: "
            f"{exc}"
        ) from exc
    finally:
        network.train(was_training)
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != (2, n_classes):
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output)
        raise ValueError(
            f"module={module!r} must return one logit per class, shape "
            f"(n_samples, {n_classes}); it returned {shape} for 2 samples."
        )
    return network
