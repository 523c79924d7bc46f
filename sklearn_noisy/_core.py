"""The skorch-based core every estimator of the package is built on.

:class:`NoisyLabelClassifier` subclasses skorch's ``NeuralNetClassifier`` and
keeps its training loop, callbacks, history and device-aware pickling, but
changes what a scikit-learn user would trip over:

* ``__init__`` only stores parameters (skorch also sets ``history_`` and
  friends, which makes an unfitted net look fitted to scikit-learn);
* input is validated with scikit-learn's utilities, labels may be any
  classes, the network is chosen from the shape of X at fit time;
* all data is trained on, with no hidden validation split;
* the data lives as one tensor on the device and batches are drawn by index;
* the network returns logits and is trained on *soft targets* (an
  ``n_samples x n_classes`` probability matrix), so methods can feed
  averaged or corrected labels through the same loop.

A method subclasses it and overrides :meth:`NoisyLabelClassifier._fit_noisy`.
"""

import numbers
import warnings

import numpy as np
import torch
from scipy import sparse
from sklearn.base import BaseEstimator, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import (
    Interval,
    validate_parameter_constraints,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog
from skorch.utils import TeeGenerator

from ._history import BatchHistory
from ._data import SequentialBatches, ShuffledBatches, TensorDataset
from ._random import draw_seed, seeded_torch
from .networks import build_network

#: Prefixes of the skorch-style ``prefix__name=value`` keyword parameters.
ROUTED_PREFIXES = ("module__", "optimizer__", "callbacks__")

#: Rows per forward pass at inference; large batches amortise Python overhead.
INFERENCE_BATCH_SIZE = 4096


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


class NoisyLabelClassifier(NeuralNetClassifier):
    """Base class of the package's classifiers (not for direct use).

    Parameters
    ----------
    module : None, torch.nn.Module class, factory or instance, default=None
        The network. ``None`` picks :class:`~sklearn_noisy.networks.MLP` for
        2-D X and :class:`~sklearn_noisy.networks.SmallCNN` for 3-D/4-D X. A
        class or factory function (such as
        :func:`~sklearn_noisy.networks.resnet18`) receives ``n_features``,
        ``input_shape`` and ``n_classes`` when its signature accepts them,
        plus any ``module__name=value`` parameters. An instance is
        deep-copied at every fit. The network must return logits.
    max_epochs : int
        Number of passes over the training data.
    batch_size : int
        Mini-batch size.
    lr : float
        Learning rate of the optimizer.
    optimizer : torch.optim.Optimizer class
        Further arguments as ``optimizer__name=value``.
    device : str, default='cpu'
        ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks.
    verbose : int, default=0
        Print a line per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout and batch order. The same value
        gives identical predictions on the same machine; the caller's global
        torch and numpy random states are left untouched.
    **kwargs
        skorch-style routed parameters: ``module__*``, ``optimizer__*``,
        ``callbacks__*``.
    """

    _parameter_constraints = {
        "module": [None, callable, torch.nn.Module],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "optimizer": [type],
        "device": [str, torch.device],
        "callbacks": [list, None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    # skorch parameters that are fixed here rather than exposed: all data is
    # trained on, the loss takes logits and soft targets, and fit always starts
    # from a fresh network.
    criterion = torch.nn.CrossEntropyLoss
    train_split = None
    warm_start = False
    classes = None
    predict_nonlinearity = "auto"
    compile = False
    use_caching = "auto"
    torch_load_kwargs = None
    iterator_train = ShuffledBatches
    iterator_valid = SequentialBatches
    dataset = TensorDataset
    history_ = None
    initialized_ = False
    virtual_params_ = {}

    def __init__(
        self,
        module=None,
        *,
        max_epochs=50,
        batch_size=64,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        device="cpu",
        callbacks=None,
        verbose=0,
        random_state=None,
        **kwargs,
    ):
        self.module = module
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.device = device
        self.callbacks = callbacks
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
        # Replaces skorch's keyword check by scikit-learn's constraint check.
        params = self.get_params(deep=False)
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=self.__class__.__name__
        )
        signature = set(self._signature_param_names())
        unknown = sorted(
            key for key in params
            if key not in signature and not key.startswith(ROUTED_PREFIXES)
        )
        if unknown:
            raise ValueError(
                f"{self.__class__.__name__} got unexpected parameter(s) {unknown}; "
                "extra keyword parameters must be routed ones starting with "
                f"{', '.join(ROUTED_PREFIXES)}."
            )

    @property
    def _default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("print_log", PrintLog()),
        ]

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
        """Validate (X, y), set the input attributes, return device tensors.

        Returns
        -------
        X : torch.Tensor on ``self.device``
        y : ndarray of int
            Labels encoded as ``0 .. n_classes - 1``.
        """
        self._refuse_sparse(X)
        X, y = validate_data(
            self,
            self._to_host(X),
            self._to_host(y),
            dtype=[np.float32, np.float64],
            allow_nd=True,
        )
        check_classification_targets(y)
        self.label_encoder_ = LabelEncoder().fit(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{self.__class__.__name__} needs samples of at least 2 classes, "
                f"but the data contains only one class: {self.classes_[0]!r}."
            )
        self.input_shape_ = tuple(X.shape[1:])
        X_tensor = torch.tensor(X, dtype=torch.float32, device=self.device)
        return X_tensor, self.label_encoder_.transform(y)

    def _prepare_inference_data(self, X):
        check_is_fitted(self)
        self._refuse_sparse(X)
        X = validate_data(
            self,
            self._to_host(X),
            reset=False,
            dtype=[np.float32, np.float64],
            allow_nd=True,
        )
        if tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but "
                f"{self.__class__.__name__} was fitted on samples of shape "
                f"{self.input_shape_}."
            )
        return torch.tensor(X, dtype=torch.float32, device=self.device)

    def get_dataset(self, X, y=None):
        """Wrap device tensors; skorch calls this for training and inference."""
        return TensorDataset(X, y)

    def get_iterator(self, dataset, training=False):
        """Shuffled index batches for training, in-order slices otherwise."""
        if training:
            return ShuffledBatches(dataset, self.batch_size, self._batch_generator)
        return SequentialBatches(dataset, max(self.batch_size, INFERENCE_BATCH_SIZE))

    # ------------------------------------------------------------------
    # network
    # ------------------------------------------------------------------
    def initialize_module(self):
        """Build a fresh network for the fitted input shape and classes."""
        self.module_ = build_network(
            self.module,
            self.input_shape_,
            len(self.classes_),
            self.get_params_for("module"),
        )
        return self

    def _set_training(self, training=True):
        # skorch calls this before every batch; module.train() walks all
        # submodules, so only switch when the mode actually changes.
        for name in self._modules + self._criteria:
            component = getattr(self, name + "_")
            if isinstance(component, torch.nn.Module) and component.training != training:
                component.train(training)

    def infer(self, x, **fit_params):
        """Forward a batch that is already on the device."""
        return self.module_(x, **fit_params)

    # ------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network on (possibly noisy) labels.

        Parameters
        ----------
        X : array-like, DataFrame or torch.Tensor of shape (n_samples, ...)
            2-D tabular data or 3-D/4-D images.
        y : array-like of shape (n_samples,)
            Given labels, of any hashable type; some may be wrong.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        check_device(self.device)
        X, y = self._prepare_training_data(X, y)
        seed = draw_seed(self.random_state)
        with seeded_torch(seed, self.device) as generator:
            # Private, fit-time only: methods that train several networks
            # reseed each stage from them (see _random.derived_seed).
            self._fit_seed, self._batch_generator = seed, generator
            try:
                self._fit_noisy(X, y)
            finally:
                del self._fit_seed, self._batch_generator
        return self

    # skorch's incremental training does not fit methods that need the whole
    # training set at once; hiding the method keeps scikit-learn from using it.
    @available_if(lambda self: False)
    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Not available: every method needs the whole training set at once."""

    def _fit_noisy(self, X, y):
        """Train on device tensor ``X`` and encoded labels ``y`` (override)."""
        raise NotImplementedError

    def _train(self, X, targets, epochs=None, *, reinitialize=True, callbacks=()):
        """Run skorch's fit loop on soft ``targets`` (n_samples x n_classes).

        Parameters
        ----------
        X : torch.Tensor on the device
        targets : torch.Tensor on the device
            Probability rows (n_samples x n_classes) the cross-entropy is
            taken against, or int64 class indices for one-hot rows.
        epochs : int or None
            Defaults to ``max_epochs``.
        reinitialize : bool
            Start from a freshly initialised network (and optimizer).
        callbacks : sequence of (name, skorch callback)
            Extra callbacks for this run only, e.g. softmax recorders.
        """
        if reinitialize or not self.initialized_:
            self.initialize()
        permanent_callbacks = self.callbacks_
        for _, callback in callbacks:
            callback.initialize()
        self.callbacks_ = permanent_callbacks + list(callbacks)
        try:
            self.notify("on_train_begin", X=X, y=targets)
            self.fit_loop(X, targets, epochs=epochs)
            self.notify("on_train_end", X=X, y=targets)
        finally:
            self.callbacks_ = permanent_callbacks
        return self

    def initialize_history(self):
        """Start an empty :class:`~sklearn_noisy._history.BatchHistory`."""
        self.history_ = BatchHistory()
        return self

    def train_step_single(self, batch, **fit_params):
        """Forward, loss and backward for one batch of device tensors."""
        self._set_training(True)
        X, targets = batch
        y_pred = self.infer(X, **fit_params)
        loss = self.get_loss(y_pred, targets, X=X, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        """One optimisation step: skorch's, without the optimizer closure.

        skorch passes a closure to ``optimizer.step`` for the sake of LBFGS;
        the first-order optimizers used here do not need it, and building it
        every batch is measurable on small networks.
        """
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        self._step_optimizer(None)
        return step

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch, for batches that are always ``(X, targets)`` tensors.

        Same notifications and history records as skorch's; it only skips
        ``skorch.dataset.get_len``, which inspects the batch type every batch.
        """
        if iterator is None:
            return
        batch_count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            self.history_.record_batch(prefix + "_loss", step["loss"].item())
            self.history_.record_batch(prefix + "_batch_size", len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        self.history_.record(prefix + "_batch_count", batch_count)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Cross-entropy of logits ``y_pred`` against the targets.

        ``y_true`` holds probability rows (soft targets), or class indices as
        a cheaper, numerically identical form of one-hot rows.
        """
        return self.criterion_(y_pred, y_true)

    # ------------------------------------------------------------------
    # prediction
    # ------------------------------------------------------------------
    def _logits(self, X):
        """Eval-mode logits of device tensor ``X``, kept on the device."""
        return self.forward(X, training=False, device=self.device)

    def _proba(self, X):
        """Eval-mode softmax of device tensor ``X`` (float32, on the device)."""
        return torch.softmax(self._logits(X), dim=1)

    def predict_proba(self, X):
        """Class probabilities of the network.

        Parameters
        ----------
        X : array-like, DataFrame or torch.Tensor of shape (n_samples, ...)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        logits = self._logits(self._prepare_inference_data(X))
        return torch.softmax(logits.double(), dim=1).cpu().numpy()

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like, DataFrame or torch.Tensor of shape (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        logits = self._logits(self._prepare_inference_data(X))
        return self.classes_[logits.argmax(dim=1).cpu().numpy()]

    # ------------------------------------------------------------------
    # noise attributes
    # ------------------------------------------------------------------
    def _set_noise_attributes(self, noise_scores, corrected_indices):
        """Store ``noise_scores_`` and ``corrected_labels_`` (original labels)."""
        self.noise_scores_ = np.asarray(
            torch.as_tensor(noise_scores).detach().cpu().double().numpy()
        )
        corrected_indices = torch.as_tensor(corrected_indices).detach().cpu().numpy()
        self.corrected_labels_ = self.classes_[corrected_indices]

    def __getstate__(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return super().__getstate__()
