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
one network (:meth:`NoisyLabelClassifier.run_stage`). A method subclasses
the core, overrides ``_fit_noisy`` to run its stages, and does what happens
between epochs in callbacks that own the state they need. The public
extension points are gathered in :mod:`sklearn_noisy.base`.
"""

import math
import numbers
import warnings
from collections.abc import Mapping

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from skorch.callbacks import (
    Callback,
    EpochScoring,
    EpochTimer,
    PassthroughScoring,
    PrintLog,
)
from skorch.dataset import ValidSplit
from torch.utils.data import Subset

from ._callbacks import EpochLoss, StageLog, TrainAugmentation
from ._data import (
    FitData,
    SequentialBatches,
    ShuffledBatches,
    TrainingData,
    base_and_indices,
    is_training_data,
)
from ._docstrings import fill_docstring
from ._distributed import (
    broadcast_buffers,
    broadcast_seed,
    current_world,
    detect_world,
    fitting_in,
    gather_rows,
    rows_of,
    unwrapped,
)
from ._fit_loop import FastFitLoop, NonFiniteLoss
from ._sync_batchnorm import synchronised_batchnorm, syncs_batchnorm
from ._inference import (
    EXACT_PREDICTION_ROWS,
    AugmentedRows,
    eval_softmax,
    exact_softmax,
    inference_batch_size,
)
from ._inputs import InputPreparation
from ._loading import LazyFeatures, dataset_labels, is_user_dataset
from ._params import SklearnParameters
from ._precision import PRECISIONS, autocast
from ._random import FitRandomness, derived_seed, draw_seed
from ._validation import (
    check_device,
    checked_network,
    probe_output,
)
from .exceptions import TrainingDivergedError
from .networks import build_network


class NoisyLabelClassifier(SklearnParameters, InputPreparation, FastFitLoop):
    """Base class of the package's classifiers; subclass it to write a method.

    A method implements ``_fit_noisy(data)``: it runs its training stages
    with :meth:`run_stage` on the :class:`~sklearn_noisy.base.FitData` it
    is given, stores its fitted attributes and calls
    ``_set_noise_attributes(noise_scores, corrected, given)``. What happens
    between epochs lives in skorch callbacks passed to :meth:`run_stage`,
    which run evaluation passes with :meth:`eval_proba`. A method may also
    override ``get_loss`` (skorch's), ``_check_params`` (checks across its
    parameters) and :meth:`held_out_noise_scores`.

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
        "device": [str, torch.device, None],
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

    def __sklearn_is_fitted__(self):
        return hasattr(self, "label_encoder_") and hasattr(self, "module_")

    def _validate_params(self):
        super()._validate_params()
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

    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", EpochLoss(name="train_loss", on_train=True)),
        ]
        if self.train_split is not None:
            callbacks += [
                ("valid_loss", PassthroughScoring(name="valid_loss")),
                ("valid_acc", EpochScoring(
                    "accuracy", name="valid_acc", lower_is_better=False)),
            ]
        return callbacks + [("print_log", StageLog())]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------
    # data
    # ------------------------------------------------------------------
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
            batches = ShuffledBatches(dataset, self.batch_size, data.shuffle_generator,
                                      drop_last=self._drop_last())
            self._check_batchnorm_shares(batches.batch_lengths())
            return batches
        return SequentialBatches(dataset, self._inference_batch_size())

    def _check_batchnorm_shares(self, lengths, drop_last_helps=True):
        """Refuse training batches of ``lengths`` that would leave a process of
        a parallel fit fewer than two samples for its own BatchNorm statistics.

        Where ``SyncBatchNorm`` does not run (CPU processes), each process
        normalises its share of a batch by the share's own statistics. A
        BatchNorm layer that sees one value per channel and sample (over
        features, or on 1x1 feature maps) needs two samples for them, and one
        process failing alone would leave the others waiting for it.
        ``drop_last_helps``: whether ``iterator_train__drop_last`` drops the
        last of these batches.
        """
        world = current_world()
        smallest = min(lengths, default=self.batch_size)
        if (not world.parallel or smallest // world.size >= 2
                or syncs_batchnorm(self._device()) or not self._batchnorm_per_sample()):
            return
        needed = 2 * world.size
        advice = (f"Use a batch_size of at least {needed} whose last batch also has at "
                  f"least {needed} samples")
        if drop_last_helps:
            advice += ", or iterator_train__drop_last=True"
        raise ValueError(
            f"In a fit over {world.size} processes, a training batch of {smallest} "
            f"samples (batch_size={self.batch_size}) leaves a process fewer than two, too "
            "few for its BatchNorm layers, which normalise each process's share of a "
            f"batch by its own statistics on {self._device()} (SyncBatchNorm, which uses "
            f"those of the whole batch, needs a GPU). {advice}.")

    def _batchnorm_per_sample(self):
        """Whether a BatchNorm layer of the network sees one value per channel
        and sample (so that its batch statistics need two samples)."""
        network = unwrapped(self.module_)
        network = getattr(network, "_orig_mod", network)  # (compiled)
        layers = [layer for layer in network.modules()
                  if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm)]
        if not layers:
            return False
        per_sample = []
        hooks = [layer.register_forward_pre_hook(
                     lambda layer, args: per_sample.append(math.prod(args[0].shape[2:]) == 1))
                 for layer in layers]
        try:
            probe_output(network, self.input_shape_, self.input_dtype_)
        finally:
            for hook in hooks:
                hook.remove()
        return any(per_sample)

    def _drop_last(self):
        # skorch's name for it; the loaders of a Dataset never see it, the
        # index batches are drawn here.
        drop_last = self.get_params_for("iterator_train").get("drop_last", False)
        if not isinstance(drop_last, (bool, np.bool_)):
            raise ValueError(
                f"iterator_train__drop_last must be True or False; got {drop_last!r}.")
        return bool(drop_last)

    def _inference_batch_size(self):
        return max(self.batch_size, inference_batch_size(self._device(), self.input_shape_))

    # ------------------------------------------------------------------
    # network
    # ------------------------------------------------------------------
    def initialize_module(self):
        """Build a fresh network for the fitted input shape and classes."""
        self.module_ = self._build_network()
        return self

    def _build_network(self):
        """A fresh network, checked, in its memory format; in a fit over
        several processes, with BatchNorm statistics of the whole batch.

        skorch moves it to the device and compiles it (``compile=True``)
        once it is registered.
        """
        network = build_network(
            self.module,
            self.input_shape_,
            len(self.classes_),
            self.get_params_for("module"),
        )
        network = checked_network(network, self.module, self.input_shape_,
                                   len(self.classes_), self.input_dtype_)
        if self._uses_channels_last():
            network = network.to(memory_format=torch.channels_last)
        if current_world().parallel:
            # (where the device can; elsewhere each process keeps its own
            # statistics, see _share_buffers)
            network = synchronised_batchnorm(network, self._device())
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
        with autocast(self.precision, self._device()):
            logits = network(X)
        return logits.float()

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
        device = check_device(self._device())
        world = detect_world()
        X, encoded, labels = self._prepare_training_data(X, y)
        self._check_data_parallel(world)
        self._check_accelerator()
        seed = draw_seed(self.random_state)
        if world.parallel:
            seed = broadcast_seed(seed)
        randomness = FitRandomness(seed, device)
        if not isinstance(X, torch.Tensor):
            X = self._lazy_features(X, seed=derived_seed(randomness.seed, "loader"),
                                    persistent=True)
        try:
            data = FitData(X, encoded, labels, len(self.classes_), randomness,
                           split=self._split(X, labels, randomness))
            with randomness.global_section(), fitting_in(world):
                self._fit_noisy(data, **method_inputs)
        finally:
            if isinstance(X, LazyFeatures):
                X.close()
        self.stage_histories_ = data.stages

    #: Whether the method's fit can be spread over the processes of a
    #: ``torch.distributed`` process group (see :mod:`._distributed`).
    supports_data_parallel = True

    def _check_data_parallel(self, world):
        """Refuse what a fit over ``world``'s processes cannot yet do."""
        if not world.parallel:
            return
        name = type(self).__name__
        if not self.supports_data_parallel:
            raise NotImplementedError(
                f"{name} cannot yet spread one fit over the {world.size} processes of "
                "the torch.distributed process group. Fit it in one process (before "
                "init_process_group, or outside torchrun), or scale out independent "
                "fits with joblib or Dask.")

    def _initialize_networks(self):
        """skorch's ``initialize``; where ``accelerate`` cannot prepare a loss
        for several CPU processes, an error that says what to do instead."""
        try:
            self.initialize()
        except RuntimeError as exc:
            if not (hasattr(self, "accelerator")
                    and "DistributedDataParallel is not needed" in str(exc)):
                raise
            raise NotImplementedError(
                f"{type(self).__name__} with skorch's AccelerateMixin cannot be spread "
                "over CPU processes: accelerate wraps the loss, which has no "
                "parameters, in DistributedDataParallel, which refuses it (a plain "
                "skorch net with the mixin fails the same way). On CPUs, start the "
                "estimator without the mixin under torchrun; it spreads the fit "
                "itself.") from exc

    def _check_accelerator(self):
        """Refuse what skorch's ``AccelerateMixin`` cannot run with the core.

        The mixin's training step leaves out the core's float16 loss
        scaling; the accelerator's own float16 scaling would unscale
        Flywheel's second network's gradients, which it never scaled, and
        let stages that keep their network step on scaled gradients; its
        gradient accumulation would skip the steps of a method's own loop.
        """
        accelerator = getattr(self, "accelerator", None)
        if accelerator is None:
            return
        name = type(self).__name__
        if self.precision == "float16" or getattr(accelerator, "mixed_precision",
                                                  "no") == "fp16":
            raise ValueError(
                f"{name} with skorch's AccelerateMixin cannot train in float16 (the "
                "estimator's precision='float16' or the accelerator's "
                "mixed_precision='fp16'). Use bfloat16 (Accelerator(mixed_precision="
                "'bf16') or precision='bfloat16'), or precision='float16' without the "
                "mixin.")
        if getattr(accelerator, "gradient_accumulation_steps", 1) != 1:
            raise ValueError(
                f"{name} with skorch's AccelerateMixin cannot accumulate gradients over "
                f"{accelerator.gradient_accumulation_steps} steps; create the "
                "Accelerator with gradient_accumulation_steps=1 (a larger batch_size "
                "does the same).")

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

    def run_stage(self, data, name, *, epochs=None, fields=None, callbacks=(),
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
            :class:`~sklearn_noisy.base.TrainingData`); ``targets`` are the
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
        fresh = fresh_network or not self.initialized_
        # skorch announces the re-initialisation of an initialised net; for
        # a new stage that is expected, and the stage's header says more.
        self.initialized_ = False
        if fresh:
            self._initialize_networks()
        else:
            self._initialize_callbacks()
            self._initialize_criterion()
            self._initialize_optimizer()
            self._initialize_history()
            self.initialized_ = True
        world = current_world()
        if world.parallel:
            # Every process built the same network; each draws its own
            # dropout masks from here on.
            data.randomness.seed_global(seed_key, rank=world.rank)
        if criterion is not None:
            self.criterion_ = criterion.to(self._device())
        if self.augmentation is not None:
            callbacks = [("augmentation", TrainAugmentation(
                self.augmentation, data.randomness.generator("augmentation", seed_key),
                features=data.X)),
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

        dataset = TrainingData(
            data.X, data.y, data.labels, split=data.split,
            shuffle_generator=data.randomness.generator("batches", seed_key),
            **(fields or {}))
        # What callbacks get as X: the caller's Dataset rather than its loader.
        X = data.X.dataset if isinstance(data.X, LazyFeatures) else data.X
        for _, callback in self.callbacks_:
            if isinstance(callback, StageLog):
                callback.announce(self, name, self.max_epochs if epochs is None else epochs)
        self.notify("on_train_begin", X=X, y=data.labels)
        try:
            self.fit_loop(dataset, epochs=epochs)
        except KeyboardInterrupt:
            data.interrupted.append(name)
        except NonFiniteLoss as diverged:
            raise TrainingDivergedError(
                f"Training diverged in stage {name!r} of "
                f"{self.__class__.__name__}: the training loss became "
                f"{diverged.value} at epoch {len(self.history_)}. Try a lower "
                f"learning rate (lr={self.lr!r}) or a different optimizer."
            ) from None
        self.notify("on_train_end", X=X, y=data.labels)
        self._share_buffers()
        # The method's callbacks hold per-sample tensors and generators that
        # belong to this fit, not to the fitted (and pickled) estimator.
        self.callbacks_ = [
            (name_, callback) for name_, callback in self.callbacks_
            if not any(callback is own for _, own in callbacks)
        ]
        self._plan_batch_hooks()
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
        self._plan_batch_hooks()

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
    def eval_proba(self, X, network=None, augment=None, dtype=torch.float32):
        """Eval-mode softmax of a network on data already on the device.

        The evaluation pass of the methods and their callbacks: it runs in
        the estimator's precision and memory format, in inference-sized
        batches, without gradients, and leaves the network's training mode
        as it was.

        Parameters
        ----------
        X : torch.Tensor on the training device, or LazyFeatures
            Prepared inputs, e.g. ``TrainingData.X_tensor`` or ``FitData.X``.
        network : torch.nn.Module, default=None
            ``module_`` when None; a method's second network otherwise.
        augment : callable, default=None
            Applied to every batch of inputs before the forward pass.
        dtype : torch.dtype, default=torch.float32
            Of the returned probabilities.

        Returns
        -------
        proba : torch.Tensor of shape (n_samples, n_classes), on the device
        """
        network = self.module_ if network is None else network
        world = current_world()
        if world.parallel:
            # Each process predicts its contiguous part of the rows, with the
            # first process's BatchNorm statistics (without SyncBatchNorm,
            # each process's came from its own shares of the batches).
            broadcast_buffers(network)
            start, stop = rows_of(len(X), world)
            X = X[start:stop] if augment is None else AugmentedRows(X, augment, start, stop)
            augment = None
        proba = eval_softmax(network, X, augment=augment, dtype=dtype,
                             batch_size=self._inference_batch_size(),
                             prepare=self.run_network)
        return gather_rows(proba) if world.parallel else proba

    def _predict_softmax(self, X):
        """float64 softmax for ``predict``/``predict_proba``."""
        if (isinstance(X, torch.Tensor) and X.device.type == "cpu"
                and len(X) <= EXACT_PREDICTION_ROWS and self.precision == "float32"):
            return exact_softmax(self.module_, X)
        return self.eval_proba(X, dtype=torch.float64)

    def _training_time_logits(self, X):
        # skorch's scoring callbacks pass the training data or a batch of it
        # (and replace forward_iter by cached predictions): go through skorch.
        return self.forward(X, training=False, device=self._device())

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
        if is_training_data(X):
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
        if is_training_data(X):
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
        if y is None and is_user_dataset(X) and not is_training_data(X):
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

    def held_out_noise_scores(self, X, y):
        """How likely each label ``y`` of samples the fit did not see is wrong.

        :func:`~sklearn_noisy.find_label_issues` ranks the held-out samples
        of each fold by this score. The default is ``1 - p(given label)``
        from :meth:`predict_proba`; a method whose own score of the training
        samples is another rule overrides it with that rule's held-out form.

        Parameters
        ----------
        X : array-like, DataFrame, torch.Tensor or torch.utils.data.Dataset
            Samples of the shape seen in ``fit``.
        y : array-like of shape (n_samples,)
            Their given labels, from ``classes_``.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher means more likely mislabelled.
        """
        proba = self.predict_proba(X)
        given = self._encode_known_labels(y, len(proba))
        return 1.0 - proba[np.arange(len(proba)), given]

    def __getstate__(self):
        # Callbacks can hold device tensors (an LRScheduler holds the
        # optimizer), and skorch initialises the instances given in
        # ``callbacks`` in place: pickled with the networks and optimizers,
        # they load on a machine without CUDA and keep pointing at the same
        # optimizer.
        dependent = self.cuda_dependent_attributes_
        self.cuda_dependent_attributes_ = [*dependent, "callbacks"]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                state = super().__getstate__()
        finally:
            self.cuda_dependent_attributes_ = dependent
        state["cuda_dependent_attributes_"] = dependent
        return state


NoisyLabelClassifier = fill_docstring()(NoisyLabelClassifier)
