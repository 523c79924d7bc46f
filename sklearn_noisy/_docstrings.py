"""The wording of the parameters every estimator shares, written once.

Each estimator's docstring lists its own parameters and then
``{shared_parameters}``, and among its attributes ``{label_issues}``; an
epoch-count parameter describes its values with ``{epochs_or_fraction}``. All
are substituted by :func:`shared_parameters` through imbalanced-learn's
``Substitution`` (so literal braces in those docstrings are written ``{{``
and ``}}``).
"""

from imblearn.utils import Substitution

_TEMPLATE = """module : None, torch.nn.Module class, factory or instance, default=None
        The network. ``None`` picks :class:`~sklearn_noisy.networks.MLP` for
        2-D X and :class:`~sklearn_noisy.networks.SmallCNN` for 3-D/4-D X. A
        class or factory function (such as
        :func:`~sklearn_noisy.networks.resnet18`) receives ``n_features``,
        ``input_shape`` and ``n_classes`` when its signature accepts them,
        plus any ``module__name=value`` parameters. An instance is
        deep-copied at every fit. The network must return logits.
    max_epochs : int, default={max_epochs}
        {max_epochs_meaning}
    batch_size : int, default=64
        Mini-batch size.
    lr : float, default=1e-3
        Learning rate of the optimizer.
    optimizer : torch.optim.Optimizer class, default=torch.optim.Adam
        Further arguments as ``optimizer__name=value`` (for example
        ``optimizer__momentum=0.9``). Optimizers that need a closure
        (LBFGS) are not supported.
    train_split : None, float or callable, default=None
        ``None`` trains on every sample. A float in (0, 1) holds out that
        fraction of the samples, stratified by the given labels, as a
        validation part; a callable such as ``skorch.dataset.ValidSplit``
        does the split its own way. The split is made once per fit and
        serves every training stage. The validation part keeps its given,
        possibly noisy, labels: ``valid_loss`` and ``valid_acc`` in
        ``history_`` measure agreement with those labels, which is what
        model selection on noisy data can use (with ``EarlyStopping`` or
        ``Checkpoint``). ``noise_scores_`` and ``corrected_labels_`` still
        cover every sample passed to ``fit``.
    device : str, default='cpu'
        ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
    callbacks : list of skorch callbacks or None, default=None
        skorch callbacks (``LRScheduler``, ``EarlyStopping``,
        ``EpochScoring``, ``Checkpoint``, ...). They are initialised at the
        start of every training stage and see that stage's network (see
        *Training stages* below). During training, skorch's scoring
        callbacks see the labels encoded as ``0 .. n_classes - 1``, as
        skorch's own classifier expects them.
    {augmentation}precision : {{'float32', 'bfloat16', 'float16'}}, default='float32'
        Compute precision of the forward passes in training and in the
        evaluation passes (``torch.autocast``); weights, optimizer state and
        losses stay float32, and ``'float16'`` scales the loss against
        underflow. ``'bfloat16'`` needs a recent CPU or an Ampere or newer
        GPU to be faster.
    channels_last : 'auto' or bool, default='auto'
        Store 4-D image batches and the network's convolutions in NHWC
        order, the faster layout for convolutions on GPUs and CPUs alike.
        ``'auto'`` and ``True`` use it for 4-D X; ``False`` keeps NCHW (a
        network of yours that calls ``.view`` on its input may need that).
    compile : bool, default=False
        Compile the networks with ``torch.compile`` (skorch's option);
        ``compile__name=value`` parameters go to ``torch.compile``.
    verbose : int, default=0
        Print a line per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds everything random in a fit: weight initialisation, dropout,
        batch order{random_extras}. An int gives identical predictions for
        identical data on the same machine, whether fits run one after
        another, in threads or in processes, and leaves the caller's global
        numpy and torch random states untouched. ``None`` draws the fit's
        seed once from numpy's global generator, as scikit-learn does.
    **kwargs
        Routed skorch parameters: ``module__*``, ``optimizer__*``,
        ``callbacks__*``, ``compile__*``, and ``iterator_train__*`` /
        ``iterator_valid__*`` for the ``DataLoader`` that loads a Dataset
        passed as X in training / in evaluation passes (``num_workers``,
        ``pin_memory``, ``prefetch_factor``, ...)."""


_AUGMENTATION = """augmentation : callable or None, default=None
        Applied to every training batch of features on the device, as
        ``augmentation(X, generator=...)`` when it accepts a ``generator``
        keyword (the package's augmentations, such as
        :class:`~sklearn_noisy.augmentations.RandomShiftFlip`, do; they
        then draw from the fit's own random stream). Evaluation passes and
        predictions are never augmented.
    """

_LABEL_ISSUES = """label_issues_ : ndarray of bool of shape (n_train_samples,)
        True where ``corrected_labels_`` differs from the given label: the
        training samples the fitted model would relabel. The model has seen
        these labels, and a network that memorised them agrees with them;
        :func:`~sklearn_noisy.find_label_issues` judges every sample by a
        model that did not see it."""


_EPOCHS_OR_FRACTION = """An int counts epochs; a float
        in (0, 1) is a fraction of ``max_epochs``, resolved at fit as
        ``round(f * max_epochs)``, at least 1 and at most ``max_epochs -
        1``, so that the step it starts happens at any budget of two epochs
        or more."""


def shared_parameters(max_epochs=50, max_epochs_meaning="Passes over the training data.",
                      random_extras="", augmentation=True):
    """A ``Substitution`` filling ``{shared_parameters}``,
    ``{label_issues}`` and ``{epochs_or_fraction}`` in a docstring.

    Parameters
    ----------
    max_epochs : int
        The estimator's default.
    max_epochs_meaning : str
        What one epoch counts for this estimator (one line).
    random_extras : str
        The estimator's own random draws, as ``", x and y"``.
    augmentation : bool
        Whether the estimator has the ``augmentation`` parameter.
    """
    text = _TEMPLATE.format(
        max_epochs=max_epochs,
        max_epochs_meaning=max_epochs_meaning,
        random_extras=random_extras,
        augmentation=_AUGMENTATION if augmentation else "",
    )
    return Substitution(shared_parameters=text, label_issues=_LABEL_ISSUES,
                        epochs_or_fraction=_EPOCHS_OR_FRACTION)
