"""The wording of shared parameters, written once: one fragment per parameter.

A docstring names a fragment by its placeholder: ``{random_state}``,
``{input_shape}``, ... (``{shared_parameters}`` stands for every parameter the
estimators share, in their order). :func:`fill_docstring` substitutes them
through imbalanced-learn's ``Substitution``, so literal braces in such a
docstring are written ``{{`` and ``}}``. Fragments are indented for a
parameter list at four spaces, as in a module-level class or function.
"""

from imblearn.utils import Substitution

#: The parameters every estimator shares, in the order their docstrings list them.
ESTIMATOR_PARAMETERS = (
    "module", "max_epochs", "batch_size", "lr", "optimizer", "train_split", "device",
    "callbacks", "augmentation", "precision", "channels_last", "compile", "verbose",
    "random_state", "routed_parameters",
)

#: name -> fragment; ``{max_epochs_default}``, ``{max_epochs_meaning}`` and
#: ``{random_extras}`` are filled by :func:`fill_docstring`'s options.
FRAGMENTS = {
    "module": """module : None, torch.nn.Module class, factory or instance, default=None
        The network. ``None`` picks :class:`~sklearn_noisy.networks.MLP` for
        2-D X and :class:`~sklearn_noisy.networks.SmallCNN` for 3-D/4-D X. A
        class or factory function (such as
        :func:`~sklearn_noisy.networks.resnet18`) receives ``n_features``,
        ``input_shape`` and ``n_classes`` when its signature accepts them,
        plus any ``module__name=value`` parameters. An instance is
        deep-copied at every fit. The network must return logits.""",
    "max_epochs": """max_epochs : int, default={max_epochs_default}
        {max_epochs_meaning}""",
    "batch_size": """batch_size : int, default=64
        Mini-batch size.""",
    "lr": """lr : float, default=1e-3
        Learning rate of the optimizer.""",
    "optimizer": """optimizer : torch.optim.Optimizer class, default=torch.optim.Adam
        Further arguments as ``optimizer__name=value`` (for example
        ``optimizer__momentum=0.9``). Optimizers that need a closure
        (LBFGS) are not supported.""",
    "train_split": """train_split : None, float or callable, default=None
        ``None`` trains on every sample. A float in (0, 1) holds out that
        fraction of the samples, stratified by the given labels, as a
        validation part; a callable such as ``skorch.dataset.ValidSplit``
        does the split its own way. The split is made once per fit and
        serves every training stage. The validation part keeps its given,
        possibly noisy, labels: ``valid_loss`` and ``valid_acc`` in
        ``history_`` measure agreement with those labels, which is what
        model selection on noisy data can use (with ``EarlyStopping`` or
        ``Checkpoint``). ``noise_scores_`` and ``corrected_labels_`` still
        cover every sample passed to ``fit``.""",
    "device": """device : str, torch.device or None, default='cpu'
        ``'cpu'``, ``'cuda'`` or ``'cuda:N'``. ``None`` leaves the placement
        to skorch's ``AccelerateMixin`` (the accelerator's device), and is
        the CPU without it.""",
    "callbacks": """callbacks : list of skorch callbacks or None, default=None
        skorch callbacks (``LRScheduler``, ``EarlyStopping``,
        ``EpochScoring``, ``Checkpoint``, ...). They are initialised at the
        start of every training stage and see that stage's network (see
        *Training stages* below). During training, skorch's scoring
        callbacks see the labels encoded as ``0 .. n_classes - 1``, as
        skorch's own classifier expects them.""",
    "augmentation": """augmentation : callable or None, default=None
        Applied to every training batch of features on the device, as
        ``augmentation(X, generator=...)`` when it accepts a ``generator``
        keyword (the package's augmentations, such as
        :class:`~sklearn_noisy.augmentations.RandomShiftFlip`, do; they
        then draw from the fit's own random stream). Evaluation passes and
        predictions are never augmented.""",
    "precision": """precision : {{'float32', 'bfloat16', 'float16'}}, default='float32'
        Compute precision of the forward passes in training and in the
        evaluation passes (``torch.autocast``); weights, optimizer state and
        losses stay float32, and ``'float16'`` scales the loss against
        underflow. ``'bfloat16'`` needs a recent CPU or an Ampere or newer
        GPU to be faster.""",
    "channels_last": """channels_last : 'auto' or bool, default='auto'
        Store 4-D image batches and the network's convolutions in NHWC
        order, the faster layout for convolutions on GPUs and CPUs alike.
        ``'auto'`` and ``True`` use it for 4-D X; ``False`` keeps NCHW (a
        network of yours that calls ``.view`` on its input may need that).""",
    "compile": """compile : bool, default=False
        Compile the networks with ``torch.compile`` (skorch's option);
        ``compile__name=value`` parameters go to ``torch.compile``.""",
    "verbose": """verbose : int, default=0
        Print a line per epoch when positive.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
        Seeds everything random in a fit: weight initialisation, dropout,
        batch order{random_extras}. An int gives identical predictions for
        identical data on the same machine, whether fits run one after
        another, in threads or in processes, and leaves the caller's global
        numpy and torch random states untouched; on a GPU, up to the order in
        which some CUDA kernels sum (see the user guide's training page).
        ``None`` draws the fit's seed once from numpy's global generator, as
        scikit-learn does.""",
    "routed_parameters": """**kwargs
        Routed skorch parameters: ``module__*``, ``optimizer__*``,
        ``callbacks__*``, ``compile__*``, and ``iterator_train__*`` /
        ``iterator_valid__*`` for the ``DataLoader`` that loads a Dataset
        passed as X in training / in evaluation passes (``num_workers``,
        ``pin_memory``, ``prefetch_factor``, ...).""",
    "label_issues": """label_issues_ : ndarray of bool of shape (n_train_samples,)
        True where ``corrected_labels_`` differs from the given label: the
        training samples the fitted model would relabel. The model has seen
        these labels, and a network that memorised them agrees with them;
        :func:`~sklearn_noisy.find_label_issues` judges every sample by a
        model that did not see it.""",
    "epochs_or_fraction": """An int counts epochs; a float
        in (0, 1) is a fraction of ``max_epochs``, resolved at fit as
        ``round(f * max_epochs)``, at least 1 and at most ``max_epochs -
        1``, so that the step it starts happens at any budget of two epochs
        or more.""",
    # the label-noise corruptors
    "corruptor_random_state": """random_state : int, RandomState instance or None, default=None
        Makes the noisy labels reproducible.""",
    "corruptor_attributes": """Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels; rows and columns of the matrices follow them.
    noisy_labels_ : ndarray of shape (n_samples,)
        The noisy labels of the last ``fit_resample`` as an ndarray (what it
        returns is the same labels in the caller's container).
    noise_mask_ : ndarray of bool, shape (n_samples,)
        Which samples were given a wrong label.
    noise_rate_ : float
        Fraction of samples actually flipped.
    transition_matrix_ : ndarray of shape (n_classes, n_classes)
        Empirical transition matrix: row = true class, column = noisy label,
        each row normalised to sum to 1.""",
    # the network factories
    "input_shape": """input_shape : tuple of int
        ``(H, W)`` or ``(C, H, W)`` of one sample.""",
    "n_classes": """n_classes : int
        Number of output logits.""",
    "image_network": """network : torch.nn.Module
        Accepts ``(n, H, W)`` and ``(n, C, H, W)`` batches and returns
        logits.""",
}


def fill_docstring(max_epochs=50, max_epochs_meaning="Passes over the training data.",
                   random_extras="", augmentation=True):
    """A ``Substitution`` filling every fragment's placeholder in a docstring.

    Parameters
    ----------
    max_epochs : int
        The estimator's default.
    max_epochs_meaning : str
        What one epoch counts for this estimator (one line).
    random_extras : str
        The estimator's own random draws, as ``", x and y"``.
    augmentation : bool
        Whether ``{{shared_parameters}}`` includes ``augmentation``.
    """
    options = {"max_epochs_default": max_epochs, "max_epochs_meaning": max_epochs_meaning,
               "random_extras": random_extras}
    fragments = {name: text.format(**options) if "{" in text else text
                 for name, text in FRAGMENTS.items()}
    shared = [name for name in ESTIMATOR_PARAMETERS
              if augmentation or name != "augmentation"]
    fragments["shared_parameters"] = "\n    ".join(fragments[name] for name in shared)
    return Substitution(**fragments)
