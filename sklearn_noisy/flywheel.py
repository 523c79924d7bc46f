"""LNL-flywheel: two interconnected EM cycles (Kim et al., 2024).

Each training sample has a latent indicator ``s_i`` (1: the given label is
clean, 0: corrupted). The *main* network g models the clean labels; a
corrupted label is drawn with probability ``epsilon_i``. The main EM's
E-step is the posterior of ``s_i`` (Eq. 4) and its M-step the clean rate
``gamma`` (Eq. 6) and g itself. The *auxiliary* network f refurbishes the
labels: it is trained on the given label where the sample looks clean and
on its own prediction where it looks corrupted (Eq. 11). f in turn gives g
its training labels (the refurbished ``argmax f``) and, through the
transition matrix of the corrupted part, each ``epsilon_i`` (Eq. 14). A
confidence regulariser (Eq. 9) keeps g from collapsing onto few classes.
Prediction uses f alone.
"""

import copy
import numbers

import numpy as np
import torch
from torch.nn import functional as F
from sklearn.utils._param_validation import Interval, StrOptions

from skorch.callbacks import Callback

from ._core import NoisyLabelClassifier
from ._data import ShuffledBatches, augment_batch, base_and_indices, one_hot, take_rows
from ._distributed import gather_rows_with_grad, sum_gradients
from ._precision import LossScaling
from ._docstrings import fill_docstring
from ._random import derived_seed
from ._validation import epochs_or_fraction, resolve_epochs
from .augmentations import default_augmentations, with_generator
from .losses import confidence_regulariser, nt_xent_loss

_GAMMA_BOUNDS = (1e-6, 1 - 1e-6)

#: On a Dataset, augmentations with a ``fit`` method learn from this many
#: randomly chosen samples.
AUGMENTATION_FIT_SAMPLES = 4096


@fill_docstring(
    max_epochs_meaning="Epochs in all: warm-up plus cycles.",
    random_extras=", MixUp and the augmentations", augmentation=False)
class FlywheelClassifier(NoisyLabelClassifier):
    """LNL-flywheel: a main and an auxiliary network in two EM cycles.

    After ``warmup_epochs`` of cross-entropy on the given labels for both
    networks, every epoch is one cycle:

    1. main E-step (Eq. 4): ``q(s_i=1) = gamma g(x_i)[y_i] /
       (gamma g(x_i)[y_i] + (1 - gamma) epsilon_i)``; then ``gamma`` is
       the mean of ``q(s_i=1)`` (Eq. 6);
    2. auxiliary targets (Eq. 11): ``q_i = q(s_i=1) e_{{y_i}} + q(s_i=0)
       fbar(x_i)``, with ``fbar`` f's softmax averaged over two weakly
       augmented copies; f trains one epoch on them with soft
       cross-entropy and MixUp, plus ``contrastive_weight`` times a
       contrastive loss between two strongly augmented copies;
    3. transition of the corrupted part, ``T_c[y, y'] ~ sum_i q(s_i=0)
       fbar(x_i)[y] [y_i = y']`` (rows normalised, the diagonal zeroed
       unless ``transition_diagonal``), from the corrupted part
       of step 2's targets, so with f before its update; then ``epsilon_i
       = sum_y f(x_i)[y] T_c[y, y_i]`` with the updated f (Eq. 14);
    4. g trains one epoch on the refurbished labels ``yhat_i = argmax
       f(x_i)`` with cross-entropy plus ``confidence_weight`` times the
       confidence regulariser (Eq. 9), ``sum_y p(y) log g(x)[y]`` with p the
       empirical distribution of ``yhat``.

    Parameters
    ----------
    warmup_epochs : int or float, default=0.4
        Epochs of plain cross-entropy for both networks before the cycles;
        must come to fewer than ``max_epochs``. {epochs_or_fraction} The
        default is 20 of the default 50 epochs, chosen by measurement (see
        the user guide); the paper warms up for 10 epochs, 10 of 300 on
        CIFAR (0.033) and 10 of 200 on Tiny-ImageNet (0.05).
    confidence_weight : float, default=3.0
        The paper's lambda, weight of the confidence regulariser. ``0``
        turns the regulariser off (the paper's Table 6 ablation).
    contrastive_weight : float, default=0.025
        The paper's alpha, weight of the contrastive loss on strongly
        augmented copies. ``0`` turns it off (and saves its two forward
        passes per batch; Table 6 ablation).
    contrastive_temperature : float, default=0.5
        Temperature of the contrastive (NT-Xent) loss, computed on f's
        L2-normalised logits so that any network works.
    estimate_epsilon : bool, default=True
        Estimate ``epsilon_i`` from the transition matrix of the corrupted
        part (Eq. 14). ``False`` keeps it at ``1 / n_classes`` (Table 6
        ablation).
    transition_diagonal : bool, default=False
        Count the pairs ``y' = y`` in T_c, as Eq. 14 does (``True``). The
        default departs from the paper: it sets the diagonal to zero before
        the rows are normalised (a corrupted label differs from the true
        class by definition), which keeps the clean samples' small
        ``q(s_i=0)`` from feeding their own ``epsilon_i``. On digits with
        40% instance-dependent noise both give the same accuracy, but the
        paper's ranks the flipped samples far worse (noise-score AUC 0.65
        against 0.93; see the user guide).
    mixup_alpha : float, default=4.0
        MixUp coefficients are drawn from Beta(alpha, alpha) and the larger
        of lam and 1 - lam is kept, as in DivideMix's CIFAR recipe (alpha
        4), which the paper builds on. ``0`` turns MixUp off. The default
        was chosen by measurement (see the user guide). Under strong
        class-conditional noise (40% pair flips) it makes the result depend
        on the random draws; ``0.2`` is stable there.
    weak_augmentation, strong_augmentation : 'auto', callable or None, \
default='auto'
        Callables ``augment(X_batch) -> X_batch`` on batched device
        tensors (see :mod:`sklearn_noisy.augmentations`); ``None`` applies
        none. ``'auto'`` picks, for tabular X, Gaussian jitter of 0.1
        feature standard deviations (weak) and 0.3 plus 20% feature dropout
        (strong); for images, random shifts and flips (weak) and random
        affine, brightness, contrast and cutout (strong); for integer or
        boolean X (token ids, flags), none. Weak copies train f and average
        its prediction; strong copies feed the contrastive loss.
    main_augmentation : {{'weak'}} or None, default=None
        Inputs of g's training: ``None`` trains g on the unaugmented data,
        as in the paper, which augments for f alone; ``'weak'`` trains it on
        copies under ``weak_augmentation``.
    {shared_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen at fit.
    module_ : torch.nn.Module
        The auxiliary network f, which makes the predictions.
    main_network_ : torch.nn.Module
        The main network g.
    clean_proba_ : ndarray of shape (n_train_samples,)
        ``q(s_i = 1)``, the final E-step's probability that the given label
        is clean.
    gamma_ : float
        The final clean rate (Eq. 6).
    epsilon_ : ndarray of shape (n_train_samples,)
        Probability of each given label under corruption.
    transition_matrix_ : ndarray of shape (n_classes, n_classes)
        T_c, the corrupted part's transition: rows are the true class (as
        f predicts it), columns the given label, rows sum to one (a row of
        zeros for a class that the corrupted part never predicts).
    refurbished_proba_ : ndarray of shape (n_train_samples, n_classes)
        The refurbished soft labels of Eq. 11 under the final networks (f
        on the unaugmented data).
    refurbished_labels_ : ndarray of shape (n_train_samples,)
        ``argmax refurbished_proba_``, in the original labels.
    noise_scores_ : ndarray of shape (n_train_samples,)
        ``1 - clean_proba_``.
    corrected_labels_ : ndarray of shape (n_train_samples,)
        The refurbished labels (same as ``refurbished_labels_``).
    {label_issues}
    history_ : skorch History
        Per-epoch record of f's training.
    stage_histories_ : list of (str, skorch History)
        One entry, ``("training", history_)``.

    Notes
    -----
    Training stages: one, ``"training"``: f's run over the warm-up and the
    cycles, with g trained one epoch at the end of each of f's epochs and
    the E-steps and T_c at its start. User callbacks see f (``module_``,
    ``optimizer_``); g's own steps are not notified. After every epoch g's
    learning rate follows f's, so one ``LRScheduler`` schedules both
    networks.

    References
    ----------
    H. Kim, H. S. Chang, K. Cho, J. Lee, B. Han. "Learning with Noisy
    Labels: Interconnection of Two Expectation-Maximizations."
    arXiv:2401.04390, 2024.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_noisy import FlywheelClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = FlywheelClassifier(max_epochs=4, warmup_epochs=2, random_state=0)
    >>> clf = clf.fit(X / 16, y)
    >>> clf.transition_matrix_.shape, clf.clean_proba_.shape
    ((10, 10), (1797,))
    """

    _parameter_constraints = {
        **NoisyLabelClassifier._parameter_constraints,
        "warmup_epochs": epochs_or_fraction(1),
        "confidence_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "contrastive_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "contrastive_temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "estimate_epsilon": ["boolean"],
        "transition_diagonal": ["boolean"],
        "mixup_alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "weak_augmentation": [StrOptions({"auto"}), callable, None],
        "strong_augmentation": [StrOptions({"auto"}), callable, None],
        "main_augmentation": [StrOptions({"weak"}), None],
    }

    def __init__(
        self,
        module=None,
        *,
        warmup_epochs=0.4,
        confidence_weight=3.0,
        contrastive_weight=0.025,
        contrastive_temperature=0.5,
        estimate_epsilon=True,
        transition_diagonal=False,
        mixup_alpha=4.0,
        weak_augmentation="auto",
        strong_augmentation="auto",
        main_augmentation=None,
        max_epochs=50,
        batch_size=64,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        train_split=None,
        device="cpu",
        callbacks=None,
        precision="float32",
        channels_last="auto",
        compile=False,
        verbose=0,
        random_state=None,
        **kwargs,
    ):
        super().__init__(
            module,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            train_split=train_split,
            device=device,
            callbacks=callbacks,
            precision=precision,
            channels_last=channels_last,
            compile=compile,
            verbose=verbose,
            random_state=random_state,
            **kwargs,
        )
        self.warmup_epochs = warmup_epochs
        self.confidence_weight = confidence_weight
        self.contrastive_weight = contrastive_weight
        self.contrastive_temperature = contrastive_temperature
        self.estimate_epsilon = estimate_epsilon
        self.transition_diagonal = transition_diagonal
        self.mixup_alpha = mixup_alpha
        self.weak_augmentation = weak_augmentation
        self.strong_augmentation = strong_augmentation
        self.main_augmentation = main_augmentation

    # ------------------------------------------------------------------
    # networks
    # ------------------------------------------------------------------
    def initialize_module(self):
        """Build f (``module_``) and g (``main_network_``), both registered."""
        super().initialize_module()
        self.main_network_ = self._build_network()
        return self

    def get_iterator(self, dataset, training=False):
        """The core's batches; for training under ``drop_last``, g's batches
        (every sample, the last batch too) are checked before f's first epoch
        as f's are."""
        iterator = super().get_iterator(dataset, training=training)
        if training and self._drop_last():
            g_batches = ShuffledBatches(dataset, self.batch_size, generator=None)
            self._check_batchnorm_shares(g_batches.batch_lengths(), drop_last_helps=False)
        return iterator

    def get_all_learnable_params(self):
        """f's parameters: those skorch's loop trains (g trains in its own epoch)."""
        return self.module_.named_parameters()

    def initialize_optimizer(self, *args, **kwargs):
        """One optimizer per network: ``optimizer_`` (f), ``main_optimizer_`` (g)."""
        super().initialize_optimizer(*args, **kwargs)
        args, kwargs = self.get_params_for_optimizer(
            "optimizer", self.main_network_.named_parameters())
        self.main_optimizer_ = self.optimizer(*args, **kwargs)
        self.main_loss_scaler_ = LossScaling(self.precision, self._device())
        return self

    def _check_params(self):
        if self.augmentation is not None:
            raise ValueError(
                "FlywheelClassifier trains with its own augmentations: pass the "
                "train-time augmentation as weak_augmentation (and the contrastive "
                "views' as strong_augmentation) instead of augmentation.")
        if self.max_epochs < 2:
            raise ValueError(
                f"FlywheelClassifier needs max_epochs >= 2 (got {self.max_epochs}): "
                "one epoch of warm-up and at least one EM cycle.")
        if resolve_epochs(self.warmup_epochs, self.max_epochs) >= self.max_epochs:
            raise ValueError(
                f"warmup_epochs ({self.warmup_epochs}) must be smaller than "
                f"max_epochs ({self.max_epochs}), which counts the warm-up "
                "and the EM cycles together; a fraction such as "
                "warmup_epochs=0.4 scales with max_epochs."
            )

    # ------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------
    def _fit_noisy(self, data):
        given = one_hot(data.y, data.n_classes, data.device)
        weak, strong = self._fitted_augmentations(data.X, data.randomness)
        cycles = EMCycles(
            given, weak, strong, data.randomness,
            resolve_epochs(self.warmup_epochs, self.max_epochs),
            contrastive_weight=self.contrastive_weight, mixup_alpha=self.mixup_alpha,
            estimate_epsilon=self.estimate_epsilon,
            transition_diagonal=self.transition_diagonal)
        self.run_stage(data, "training", fields={"targets": given.clone()},
                        callbacks=[("em_cycles", cycles)])
        gamma, epsilon, f_proba = cycles.gamma_, cycles.epsilon_, cycles.f_proba_
        if f_proba is None:
            # Stopped (EarlyStopping, Ctrl-C) before the first cycle.
            f_proba = self.eval_proba(data.X)
            gamma = (f_proba.argmax(dim=1) == data.y).float().mean()
        self._store_fitted_state(data.X, given, gamma, epsilon, f_proba)

    def _store_fitted_state(self, X, given, gamma, epsilon, f_proba):
        """A last E-step under the final networks gives the attributes."""
        log_odds = _clean_log_odds(
            self.eval_proba(X, self.main_network_), given, gamma, epsilon)
        clean = torch.sigmoid(log_odds).float()
        refurbished = clean[:, None] * given + (1 - clean[:, None]) * f_proba
        self.gamma_ = float(clean.double().mean())
        self.epsilon_ = epsilon.double().cpu().numpy()
        self.clean_proba_ = torch.sigmoid(log_odds).cpu().numpy()
        self.transition_matrix_ = _corrupted_transition(
            f_proba, 1 - clean, given, self.transition_diagonal).double().cpu().numpy()
        self.refurbished_proba_ = refurbished.double().cpu().numpy()
        # sigmoid(-z) is 1 - sigmoid(z) without rounding the near-clean
        # samples to exactly 0, which would tie them in any ranking.
        self._set_noise_attributes(
            torch.sigmoid(-log_odds), refurbished.argmax(dim=1), given.argmax(dim=1))
        self.refurbished_labels_ = self.corrected_labels_

    def held_out_noise_scores(self, X, y):
        """``1 - q(s_i = 1)`` on samples the fit did not see (used by
        find_label_issues): the E-step of Eq. 4 under the final networks with
        the fitted ``gamma_``, and ``epsilon_i`` from ``transition_matrix_``
        and f's prediction (Eq. 14) for the given labels ``y``."""
        X = self._prepare_inference_data(X)
        given = one_hot(self.label_encoder_.transform(y), len(self.classes_), X.device)
        if self.estimate_epsilon:
            transition = torch.as_tensor(
                self.transition_matrix_, dtype=torch.float32, device=X.device)
            epsilon = ((self.eval_proba(X) @ transition) * given).sum(dim=1)
        else:
            epsilon = torch.full((len(X),), 1.0 / len(self.classes_), device=X.device)
        log_odds = _clean_log_odds(
            self.eval_proba(X, self.main_network_), given, self.gamma_, epsilon)
        return torch.sigmoid(-log_odds).cpu().numpy()

    def _fitted_augmentations(self, X, randomness):
        """The (weak, strong) callables, fitted on a copy when they can be.

        On a Dataset they are fitted on a random subset of at most
        ``AUGMENTATION_FIT_SAMPLES`` samples, not on all of them.
        """
        weak_default, strong_default = default_augmentations(X.dim() - 1)
        if not X.dtype.is_floating_point:
            # Jitter and affine maps have no meaning for token ids or flags.
            weak_default = strong_default = None
        augmentations = []
        for given, default in ((self.weak_augmentation, weak_default),
                               (self.strong_augmentation, strong_default)):
            augment = default if isinstance(given, str) else copy.deepcopy(given)
            if augment is None:
                augment = _identity
            elif hasattr(augment, "fit"):
                if not isinstance(X, torch.Tensor):
                    subset = torch.randperm(
                        len(X), generator=randomness.generator("augmentation_fit", device="cpu"))
                    X = X.take(subset[:AUGMENTATION_FIT_SAMPLES].sort().values)
                augment.fit(X)
            augmentations.append(augment)
        return tuple(augmentations)

    def train_main_epoch(self, dataset, labels, marginal, weak, generator):
        """One epoch of g on hard ``labels``; with a ``marginal``, add Eq. 9.

        Run by :class:`EMCycles` at the end of each of f's epochs, at f's
        learning rate (so one ``LRScheduler`` schedules both networks).

        Parameters
        ----------
        dataset : TrainingData or a Subset of it
            f's training samples.
        labels : torch.Tensor of int64, shape (n_samples,)
            g's targets, indexed by sample.
        marginal : torch.Tensor of shape (n_classes,) or None
            The label marginal of Eq. 9's confidence regulariser; None
            trains on cross-entropy alone (the warm-up).
        weak : callable
            f's weak augmentation, applied to g's batches when
            ``main_augmentation='weak'``.
        generator : torch.Generator
            Draws the order of g's batches.
        """
        network, optimizer = self.main_network_, self.main_optimizer_
        for main_group, f_group in zip(optimizer.param_groups, self.optimizer_.param_groups):
            main_group["lr"] = f_group["lr"]
        augment = weak if self.main_augmentation == "weak" else _identity
        features = base_and_indices(dataset)[0].X_tensor
        scaler = self.main_loss_scaler_
        network.train()
        for inputs, _ in ShuffledBatches(dataset, self.batch_size, generator):
            shard = inputs.get("shard")
            X = inputs["X"] if augment is _identity else augment_batch(augment, inputs, features)
            optimizer.zero_grad(set_to_none=True)
            with self.gradients_kept_local(None if shard is None else shard.share):
                logits = self.run_network(network, X)
                loss = F.cross_entropy(logits, labels[inputs["index"]])
                if marginal is not None and self.confidence_weight:
                    loss = loss + self.confidence_weight * confidence_regulariser(
                        logits, marginal)
                scaler.backward(loss)
            if shard is not None:
                sum_gradients(network.parameters(), shard.share)
            scaler.step(optimizer)
            scaler.update()
        # No stale gradients of g in the gradients f's callbacks inspect.
        optimizer.zero_grad(set_to_none=True)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """f's loss: soft cross-entropy against the (mixed) targets, plus
        ``contrastive_weight`` times NT-Xent on the batch's strong views."""
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training and "views" in X:
            first, second = self.infer(X["views"]).chunk(2)
            shard = X.get("shard")
            if shard is not None:
                # The negatives are the whole batch's views: every process
                # computes the loss on all of them.
                first = gather_rows_with_grad(first, shard.share)
                second = gather_rows_with_grad(second, shard.share)
            loss = loss + self.contrastive_weight * nt_xent_loss(
                first, second, self.contrastive_temperature)
        return loss


class EMCycles(Callback):
    """The two EMs of LNL-flywheel as epoch hooks of f's training stage.

    At the start of every cycle epoch: the main E-step with g (Eq. 4), the
    clean rate (Eq. 6) and f's targets (Eq. 11), written into the stage's
    ``targets``. Every training batch of f gets its weak augmentation and,
    in the cycles, MixUp and two strong views for the contrastive loss. At
    the end of every epoch: T_c from the corrupted part of the targets (f
    before its update, ``f^(t-1)``) and epsilon from the updated f (Eq.
    14), then one epoch of g (:meth:`FlywheelClassifier.train_main_epoch`),
    on the given labels in the warm-up and on ``argmax f`` with the
    confidence regulariser (Eq. 9) in the cycles.

    Parameters
    ----------
    given : torch.Tensor of shape (n_samples, n_classes)
        One-hot given labels.
    weak, strong : callable
        The weak and strong augmentations of batches.
    randomness : FitRandomness
        The fit's random streams.
    warmup_epochs : int
        Epochs before the first cycle.
    contrastive_weight, mixup_alpha, estimate_epsilon, transition_diagonal
        As :class:`FlywheelClassifier`'s parameters of the same names.

    Attributes
    ----------
    gamma_ : torch.Tensor or None
        The clean rate; None before the first cycle.
    epsilon_ : torch.Tensor of shape (n_samples,)
    f_proba_ : torch.Tensor or None
        f's softmax on every sample after its last cycle epoch.
    """

    def __init__(self, given, weak, strong, randomness, warmup_epochs, *,
                 contrastive_weight, mixup_alpha, estimate_epsilon, transition_diagonal):
        self.given = given
        self.warmup_epochs = warmup_epochs
        self.contrastive_weight = contrastive_weight
        self.mixup_alpha = mixup_alpha
        self.estimate_epsilon = estimate_epsilon
        self.transition_diagonal = transition_diagonal
        self.weak = with_generator(weak, randomness.generator("augmentation", "training"))
        self.strong = with_generator(strong, randomness.generator("augmentation", "strong"))
        self.main_batches = randomness.generator("main_batches", "training")
        self.mixup_partners = randomness.generator("mixup", "training")
        self.mixup_rng = np.random.default_rng(
            derived_seed(randomness.seed, "training", "mixup_coefficients"))

    def initialize(self):
        self.gamma_ = None
        self.epsilon_ = torch.full(
            (len(self.given),), 1.0 / self.given.shape[1], device=self.given.device)
        self.f_proba_ = None
        self.f_previous_ = None
        self.clean_ = None
        return self

    def _cycling(self, epoch):
        return epoch > self.warmup_epochs

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        data, _ = base_and_indices(dataset_train)
        # For the whole batches of a fit spread over several processes.
        self.features_, self.targets_ = data.X_tensor, data.fields["targets"]
        if not self._cycling(len(net.history_)):
            return
        X, given = data.X_tensor, self.given
        if self.gamma_ is None:
            self.gamma_ = (net.eval_proba(X).argmax(dim=1) == data.y_tensor).float().mean()
        self.clean_ = torch.sigmoid(_clean_log_odds(
            net.eval_proba(X, net.main_network_), given, self.gamma_, self.epsilon_)).float()
        self.gamma_ = self.clean_.mean()
        self.f_previous_ = (net.eval_proba(X, augment=self.weak)
                            + net.eval_proba(X, augment=self.weak)) / 2
        clean = self.clean_[:, None]
        data.fields["targets"].copy_(clean * given + (1 - clean) * self.f_previous_)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        inputs, _ = batch
        shard = inputs.get("shard")
        # In a fit spread over several processes, every process draws the
        # augmentations and MixUp partners for the whole batch and keeps its
        # rows, so that the draws do not depend on the number of processes.
        X, targets = ((inputs["X"], inputs["targets"]) if shard is None else
                      (take_rows(self.features_, shard.batch),
                       self.targets_.index_select(0, shard.batch)))
        rows = slice(None) if shard is None else slice(shard.start, shard.stop)
        cycling = self._cycling(len(net.history_))
        if cycling and self.contrastive_weight:
            inputs["views"] = torch.cat([self.strong(X)[rows], self.strong(X)[rows]])
        X = self.weak(X)
        if cycling and self.mixup_alpha:
            X, targets = self._mixup(X, targets)
            inputs["targets"] = targets[rows]
        inputs["X"] = X[rows]

    def _mixup(self, X, targets):
        lam = float(self.mixup_rng.beta(self.mixup_alpha, self.mixup_alpha))
        lam = max(lam, 1 - lam)
        partner = torch.randperm(len(X), generator=self.mixup_partners,
                                 device=self.mixup_partners.device)
        return (lam * X + (1 - lam) * X[partner],
                lam * targets + (1 - lam) * targets[partner])

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        data, _ = base_and_indices(dataset_train)
        if not self._cycling(len(net.history_)):
            net.train_main_epoch(dataset_train, data.y_tensor, None, self.weak,
                                 self.main_batches)
            return
        self.f_proba_ = net.eval_proba(data.X_tensor)
        if self.estimate_epsilon:
            # Eq. 14: T_c^(t) from f^(t-1), the f of this cycle's targets;
            # epsilon^(t) from f^(t), the f it has just trained.
            transition = _corrupted_transition(
                self.f_previous_, 1 - self.clean_, self.given, self.transition_diagonal)
            self.epsilon_ = ((self.f_proba_ @ transition) * self.given).sum(dim=1)
        refurbished = self.f_proba_.argmax(dim=1)
        net.train_main_epoch(dataset_train, refurbished,
                             _label_marginal(refurbished, self.given.shape[1]),
                             self.weak, self.main_batches)


def _identity(X):
    return X


def _clean_log_odds(main_proba, given, gamma, epsilon):
    """Log-odds of Eq. 4's ``q(s_i = 1)``, in float64 (its sigmoid is q)."""
    gamma = float(torch.as_tensor(gamma).clamp(*_GAMMA_BOUNDS))
    log_odds = (
        np.log(gamma) - np.log(1 - gamma)
        + torch.log((main_proba * given).sum(dim=1).double().clamp_min(1e-300))
        - torch.log(epsilon.double().clamp_min(1e-300))
    )
    return log_odds


def _corrupted_transition(proba, corrupted_weight, given, diagonal=False):
    """Eq. 14's T_c: rows true class (f's belief), columns given label.

    ``diagonal=False`` zeroes the pairs ``y' = y`` before normalising: a
    corrupted label differs from the true class by definition, and counting
    them lets the clean samples' residual corrupted weight feed back into
    their own epsilon.
    """
    counts = (proba * corrupted_weight[:, None]).T @ given
    if not diagonal:
        counts.fill_diagonal_(0.0)
    return counts / counts.sum(dim=1, keepdim=True).clamp_min(1e-12)


def _label_marginal(labels, n_classes):
    counts = torch.bincount(labels, minlength=n_classes).float()
    return counts / counts.sum()
