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

from ._core import INFERENCE_BATCH_SIZE, NoisyLabelClassifier, one_hot
from ._data import ShuffledBatches, TensorDataset
from ._random import derived_seed, reseed
from .augmentations import default_augmentations
from .networks import build_network

# log(p + 1e-8) as in the confidence regulariser's reference code: without
# the floor the regulariser is unbounded below.
_LOG_FLOOR = 1e-8
_GAMMA_BOUNDS = (1e-6, 1 - 1e-6)


class FlywheelClassifier(NoisyLabelClassifier):
    """LNL-flywheel: a main and an auxiliary network in two EM cycles.

    After ``warmup_epochs`` of cross-entropy on the given labels for both
    networks, every epoch is one cycle:

    1. main E-step (Eq. 4): ``q(s_i=1) = gamma g(x_i)[y_i] /
       (gamma g(x_i)[y_i] + (1 - gamma) epsilon_i)``; then ``gamma`` is
       the mean of ``q(s_i=1)`` (Eq. 6);
    2. auxiliary targets (Eq. 11): ``q_i = q(s_i=1) e_{y_i} + q(s_i=0)
       fbar(x_i)``, with ``fbar`` f's softmax averaged over two weakly
       augmented copies; f trains one epoch on them with soft
       cross-entropy and MixUp, plus ``contrastive_weight`` times a
       contrastive loss between two strongly augmented copies;
    3. transition of the corrupted part, ``T_c[y, y'] ~ sum_i q(s_i=0)
       f(x_i)[y] [y_i = y']`` (rows normalised), and ``epsilon_i = sum_y
       f(x_i)[y] T_c[y, y_i]`` (Eq. 14);
    4. g trains one epoch on the refurbished labels ``yhat_i = argmax
       f(x_i)`` with cross-entropy plus ``confidence_weight`` times the
       confidence regulariser (Eq. 9), ``sum_y p(y) log g(x)[y]`` with p the
       empirical distribution of ``yhat``.

    Parameters
    ----------
    module : None, torch.nn.Module class, factory or instance, default=None
        Architecture of both networks; ``None`` picks an MLP for 2-D X and
        a small CNN for images.
    warmup_epochs : int, default=10
        Epochs of plain cross-entropy for both networks before the cycles
        (paper: 10).
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
    mixup_alpha : float, default=4.0
        MixUp coefficients are drawn from Beta(alpha, alpha) and the larger
        of lam and 1 - lam is kept, as in DivideMix's CIFAR recipe (alpha
        4), which the paper builds on. ``0`` turns MixUp off. The default
        was chosen by measurement (see the user guide).
    weak_augmentation, strong_augmentation : 'auto', callable or None, \
default='auto'
        Callables ``augment(X_batch) -> X_batch`` on batched device
        tensors (see :mod:`sklearn_noisy.augmentations`); ``None`` applies
        none. ``'auto'`` picks, for tabular X, Gaussian jitter of 0.1
        feature standard deviations (weak) and 0.3 plus 20% feature dropout
        (strong); for images, random shifts and flips (weak) and random
        affine, brightness, contrast and cutout (strong). Weak copies train
        both networks and average f's prediction; strong copies feed the
        contrastive loss.
    max_epochs : int, default=50
        Epochs in all: warm-up plus cycles.
    batch_size : int, default=64
        Mini-batch size.
    lr : float, default=1e-3
        Learning rate of both networks.
    optimizer : torch.optim.Optimizer class, default=torch.optim.Adam
        Further arguments as ``optimizer__name=value``.
    device : str, default='cpu'
        ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks, run while f (the predicting network) trains.
    verbose : int, default=0
        Print a line per epoch of f when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds both networks, batch orders, MixUp and the augmentations
        without touching the caller's global random state.
    **kwargs
        Routed skorch parameters: ``module__*``, ``optimizer__*``,
        ``callbacks__*``.

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
    history_ : skorch History
        Per-epoch record of f's training.

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
        "warmup_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "confidence_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "contrastive_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "contrastive_temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "estimate_epsilon": ["boolean"],
        "mixup_alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "weak_augmentation": [StrOptions({"auto"}), callable, None],
        "strong_augmentation": [StrOptions({"auto"}), callable, None],
    }

    def __init__(
        self,
        module=None,
        *,
        warmup_epochs=10,
        confidence_weight=3.0,
        contrastive_weight=0.025,
        contrastive_temperature=0.5,
        estimate_epsilon=True,
        mixup_alpha=4.0,
        weak_augmentation="auto",
        strong_augmentation="auto",
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
        super().__init__(
            module,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            device=device,
            callbacks=callbacks,
            verbose=verbose,
            random_state=random_state,
            **kwargs,
        )
        self.warmup_epochs = warmup_epochs
        self.confidence_weight = confidence_weight
        self.contrastive_weight = contrastive_weight
        self.contrastive_temperature = contrastive_temperature
        self.estimate_epsilon = estimate_epsilon
        self.mixup_alpha = mixup_alpha
        self.weak_augmentation = weak_augmentation
        self.strong_augmentation = strong_augmentation

    # ------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------
    def _fit_noisy(self, X, y):
        if self.warmup_epochs >= self.max_epochs:
            raise ValueError(
                f"warmup_epochs ({self.warmup_epochs}) must be smaller than "
                f"max_epochs ({self.max_epochs}), which counts the warm-up "
                "and the EM cycles together."
            )
        n_classes = len(self.classes_)
        given_index = torch.as_tensor(y, device=X.device)
        given = one_hot(given_index, n_classes, X.device)
        self._weak, self._strong = self._fitted_augmentations(X)
        self._cycle_training = False
        try:
            main, main_optimizer = self._warm_up(X, given_index)
            reseed(derived_seed(self._fit_seed, 2), self._batch_generator)
            gamma = (self._proba(X).argmax(dim=1) == given_index).float().mean()
            epsilon = torch.full((len(y),), 1.0 / n_classes, device=X.device)
            self._cycle_training = True
            for _ in range(self.max_epochs - self.warmup_epochs):
                gamma, epsilon, f_proba = self._cycle(
                    X, given, main, main_optimizer, gamma, epsilon)
        finally:
            self._cycle_training = False
            del self._weak, self._strong
        # f did not train after the last cycle's f_proba; only g did.
        self._store_fitted_state(X, given, main, gamma, epsilon, f_proba)

    def _warm_up(self, X, given_index):
        """Cross-entropy for f (the skorch net) and for a fresh main network g."""
        self._train(X, given_index, epochs=self.warmup_epochs)
        reseed(derived_seed(self._fit_seed, 1), self._batch_generator)
        main = build_network(
            self.module, self.input_shape_, len(self.classes_), self.get_params_for("module")
        ).to(X.device)
        main_optimizer = self._main_optimizer(main)
        self._train_main(main, main_optimizer, X, given_index, self.warmup_epochs, None)
        return main, main_optimizer

    def _cycle(self, X, given, main, main_optimizer, gamma, epsilon):
        """One epoch of each EM; returns the new ``gamma`` and ``epsilon``, and
        f's softmax on ``X`` after its epoch."""
        clean = torch.sigmoid(
            _clean_log_odds(self._network_proba(main, X), given, gamma, epsilon)
        ).float()
        gamma = clean.mean()
        f_weak = (self._network_proba(self.module_, X, self._weak)
                  + self._network_proba(self.module_, X, self._weak)) / 2
        targets = clean[:, None] * given + (1 - clean[:, None]) * f_weak
        self._train(X, targets, epochs=1, reinitialize=False)

        f_proba = self._proba(X)
        if self.estimate_epsilon:
            transition = _corrupted_transition(f_proba, 1 - clean, given)
            epsilon = ((f_proba @ transition) * given).sum(dim=1)
        refurbished = f_proba.argmax(dim=1)
        self._train_main(main, main_optimizer, X, refurbished, 1,
                         _label_marginal(refurbished, len(self.classes_)))
        return gamma, epsilon, f_proba

    def _store_fitted_state(self, X, given, main, gamma, epsilon, f_proba):
        """A last E-step under the final networks gives the attributes."""
        log_odds = _clean_log_odds(self._network_proba(main, X), given, gamma, epsilon)
        clean = torch.sigmoid(log_odds).float()
        refurbished = clean[:, None] * given + (1 - clean[:, None]) * f_proba
        # Kept out of skorch's registry of modules: a registered module would
        # join f's optimizer at the next fit and switch modes with f.
        object.__setattr__(self, "main_network_", main)
        self.gamma_ = float(clean.double().mean())
        self.epsilon_ = epsilon.double().cpu().numpy()
        self.clean_proba_ = torch.sigmoid(log_odds).cpu().numpy()
        self.transition_matrix_ = (
            _corrupted_transition(f_proba, 1 - clean, given).double().cpu().numpy())
        self.refurbished_proba_ = refurbished.double().cpu().numpy()
        # sigmoid(-z) is 1 - sigmoid(z) without rounding the near-clean
        # samples to exactly 0, which would tie them in any ranking.
        self._set_noise_attributes(torch.sigmoid(-log_odds), refurbished.argmax(dim=1))
        self.refurbished_labels_ = self.corrected_labels_

    def _fitted_augmentations(self, X):
        """The (weak, strong) callables, fitted on a copy when they can be."""
        weak_default, strong_default = default_augmentations(X.dim() - 1)
        augmentations = []
        for given, default in ((self.weak_augmentation, weak_default),
                               (self.strong_augmentation, strong_default)):
            augment = default if isinstance(given, str) else copy.deepcopy(given)
            if augment is None:
                augment = _identity
            elif hasattr(augment, "fit"):
                augment.fit(X)
            augmentations.append(augment)
        return tuple(augmentations)

    def _main_optimizer(self, network):
        kwargs = self.get_params_for("optimizer")
        kwargs.setdefault("lr", self.lr)
        return self.optimizer(network.parameters(), **kwargs)

    def _network_proba(self, network, X, augment=None):
        """Eval-mode softmax of any network on (optionally augmented) ``X``."""
        was_training = network.training
        network.eval()
        with torch.no_grad():
            proba = torch.cat([
                torch.softmax(network(chunk if augment is None else augment(chunk)), dim=1)
                for chunk in X.split(INFERENCE_BATCH_SIZE)
            ])
        network.train(was_training)
        return proba

    def _train_main(self, network, optimizer, X, labels, epochs, marginal):
        """Train g on hard ``labels``; with a ``marginal``, add Eq. 9."""
        network.train()
        batches = ShuffledBatches(
            TensorDataset(X, labels), self.batch_size, self._batch_generator)
        for _ in range(epochs):
            for X_batch, label_batch in batches:
                logits = network(self._weak(X_batch))
                loss = F.cross_entropy(logits, label_batch)
                if marginal is not None and self.confidence_weight:
                    loss = loss + self.confidence_weight * confidence_regulariser(
                        logits, marginal)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

    def train_step_single(self, batch, **fit_params):
        """One step of f: weak augmentation, then in the cycles MixUp and the
        contrastive loss on two strongly augmented copies."""
        if not self._cycle_training:
            X, targets = batch
            return super().train_step_single((self._weak(X), targets), **fit_params)
        self._set_training(True)
        X, targets = batch
        mixed_X, mixed_targets = self._mixup(self._weak(X), targets)
        logits = self.infer(mixed_X)
        loss = self.get_loss(logits, mixed_targets, X=X, training=True)
        if self.contrastive_weight:
            views = self.infer(torch.cat([self._strong(X), self._strong(X)]))
            loss = loss + self.contrastive_weight * nt_xent_loss(
                *views.chunk(2), self.contrastive_temperature)
        loss.backward()
        return {"loss": loss, "y_pred": logits}

    def _mixup(self, X, targets):
        if not self.mixup_alpha:
            return X, targets
        alpha = torch.tensor(float(self.mixup_alpha))
        lam = float(torch.distributions.Beta(alpha, alpha).sample())
        lam = max(lam, 1 - lam)
        partner = torch.randperm(len(X), device=X.device)
        return (lam * X + (1 - lam) * X[partner],
                lam * targets + (1 - lam) * targets[partner])


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


def _corrupted_transition(proba, corrupted_weight, given):
    """Eq. 14's T_c: rows true class (f's belief), columns given label.

    A corrupted label differs from the true class by definition, so the
    diagonal is zero; counting it would let the clean samples' residual
    corrupted weight feed back into their own epsilon.
    """
    counts = (proba * corrupted_weight[:, None]).T @ given
    counts.fill_diagonal_(0.0)
    return counts / counts.sum(dim=1, keepdim=True).clamp_min(1e-12)


def _label_marginal(labels, n_classes):
    counts = torch.bincount(labels, minlength=n_classes).float()
    return counts / counts.sum()


def confidence_regulariser(logits, marginal):
    """Eq. 9: ``mean_i sum_y p(y) log(softmax(logits_i)[y] + 1e-8)``.

    Minimising it pushes every prediction towards one class; ``marginal``
    ``p`` weights the classes by how often they occur in the labels.
    """
    log_proba = torch.log(torch.softmax(logits, dim=1) + _LOG_FLOOR)
    return (log_proba @ marginal).mean()


def nt_xent_loss(z1, z2, temperature):
    """SimCLR's NT-Xent between two views ``z1``, ``z2`` of the same batch."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    similarity = z @ z.T / temperature
    similarity.fill_diagonal_(float("-inf"))
    n = len(z1)
    partners = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(similarity, partners)
