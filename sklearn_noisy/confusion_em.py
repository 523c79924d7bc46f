"""The confusing-instance probabilistic model (Wang et al., AAAI 2021).

A given label ``ytilde_i`` is either the true label (probability
``1 - eta_i``) or, for a *confusing* sample (probability ``eta_i``), drawn
from the classifier-like distribution whose mass on the given label is
``psi_i = P(ytilde_i | x_i)``, estimated by a naive network trained on the
noisy labels. Training alternates a predicting step, the posterior of the
true label given ``x_i`` and ``ytilde_i`` (Eq. 8), with a network update on
that posterior (Eq. 10) and, every few epochs, a projected gradient step on
each ``eta_i`` (Eq. 11-12).
"""

import numbers

import numpy as np
import torch
from skorch.callbacks import Callback
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight

from ._core import NoisyLabelClassifier, one_hot
from ._random import derived_seed, reseed

_ETA_STEP_OFFSET = 1e-4


class ConfusionEMClassifier(NoisyLabelClassifier):
    """Confusing-instance EM training (Wang et al., AAAI 2021).

    Parameters
    ----------
    module : None, torch.nn.Module class, factory or instance, default=None
        The network (also used for the naive network that estimates psi);
        ``None`` picks an MLP for 2-D X and a small CNN for images.
    eta_init : float, default=0.01
        Initial confusing probability of every sample (the paper's 0.01).
    eta_lr : float, default=0.5
        Step size alpha_1 of the projected gradient ascent on eta (paper:
        0.7 on CIFAR-10, 0.5 best on CIFAR-100, 0.05 on Clothing1M). The
        default was chosen by measurement (see the user guide).
    eta_start_epoch : int, default=10
        Epochs of training before eta is first updated (paper, CIFAR: 35).
    eta_update_every : int, default=5
        Epochs between eta updates (paper, CIFAR: 5).
    class_weight : None, 'balanced' or dict, default=None
        Weights of the per-sample losses by given label, as in
        scikit-learn (the paper upweights minority classes on Clothing1M).
    max_epochs : int, default=50
        Epochs of the naive network and of the main training.
    batch_size : int, default=64
        Mini-batch size.
    lr : float, default=1e-3
        Learning rate.
    optimizer : torch.optim.Optimizer class, default=torch.optim.Adam
        Further arguments as ``optimizer__name=value``.
    device : str, default='cpu'
        ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks, run for both networks.
    verbose : int, default=0
        Print a line per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds both networks without touching the caller's global random
        state.
    **kwargs
        Routed skorch parameters: ``module__*``, ``optimizer__*``,
        ``callbacks__*``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen at fit.
    module_ : torch.nn.Module
        The trained network h.
    psi_ : ndarray of shape (n_train_samples,)
        ``P(given label | x)`` of the naive network, or the ``psi`` passed
        to :meth:`fit`.
    eta_ : ndarray of shape (n_train_samples,)
        Final confusing probability of each training sample.
    posterior_ : ndarray of shape (n_train_samples, n_classes)
        The predicting step's q under the final network: the posterior of
        the true class given x and the given label.
    noise_scores_ : ndarray of shape (n_train_samples,)
        ``1 - h(x_i)[given label]``: the trained network h models the clean
        class posterior P(y | x), so this is its probability that the given
        label is not the true class. It ranks the flipped samples better than
        ``1 - posterior_[i, given label]``, which conditions on the given
        label and so keeps it for low-eta samples, or than ``eta_`` (see the
        user guide for the measurements).
    corrected_labels_ : ndarray of shape (n_train_samples,)
        ``argmax posterior_``.
    history_ : skorch History
        Per-epoch record of the main training.

    References
    ----------
    Q. Wang, B. Han, T. Liu, G. Niu, J. Yang, C. Gong. "Tackling
    Instance-Dependent Label Noise via a Universal Probabilistic Model."
    AAAI 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_noisy import ConfusionEMClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = ConfusionEMClassifier(max_epochs=5, eta_start_epoch=2, random_state=0)
    >>> clf = clf.fit(X / 16, y)
    >>> clf.eta_.shape, clf.posterior_.shape
    ((1797,), (1797, 10))
    """

    _parameter_constraints = {
        **NoisyLabelClassifier._parameter_constraints,
        "eta_init": [Interval(numbers.Real, 0, 1, closed="both")],
        "eta_lr": [Interval(numbers.Real, 0, None, closed="left")],
        "eta_start_epoch": [Interval(numbers.Integral, 0, None, closed="left")],
        "eta_update_every": [Interval(numbers.Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(
        self,
        module=None,
        *,
        eta_init=0.01,
        eta_lr=0.5,
        eta_start_epoch=10,
        eta_update_every=5,
        class_weight=None,
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
        self.eta_init = eta_init
        self.eta_lr = eta_lr
        self.eta_start_epoch = eta_start_epoch
        self.eta_update_every = eta_update_every
        self.class_weight = class_weight

    def fit(self, X, y, psi=None, trusted=None):
        """Fit the network on noisy labels.

        Parameters
        ----------
        X : array-like, DataFrame or torch.Tensor of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
            Given labels; some may be wrong.
        psi : array-like of shape (n_samples,) or None, default=None
            ``P(y_i | x_i)`` for each sample, from a classifier of your own;
            when None a naive network is trained on (X, y) to estimate it.
        trusted : array-like of bool, shape (n_samples,) or None, default=None
            Samples known to be correctly labelled; their eta stays 0.

        Returns
        -------
        self : object
        """
        self._fit_psi, self._fit_trusted = psi, trusted
        try:
            return super().fit(X, y)
        finally:
            del self._fit_psi, self._fit_trusted

    def _fit_noisy(self, X, y):
        n_samples, n_classes = len(y), len(self.classes_)
        given = one_hot(y, n_classes, X.device)
        psi = _check_psi(self._fit_psi, n_samples, X.device)
        trusted = _check_trusted(self._fit_trusted, n_samples, X.device)
        if psi is None:
            self._train(X, torch.as_tensor(y, device=X.device))
            psi = (self._proba(X) * given).sum(dim=1)
        reseed(derived_seed(self._fit_seed, 1), self._batch_generator)

        eta = torch.full((n_samples,), float(self.eta_init), device=X.device)
        if trusted is not None:
            eta[trusted] = 0.0
        sample_weights = self._sample_weights(y, X.device)
        self._confusion_state = _ConfusionState(given, psi, eta, trusted, sample_weights)
        try:
            indices = torch.arange(n_samples, device=X.device)
            self._train(X, indices, callbacks=[("eta_update", EtaUpdate(
                self.eta_lr, self.eta_start_epoch, self.eta_update_every))])
        finally:
            state = self._confusion_state
            del self._confusion_state
        proba = self._proba(X)
        posterior = state.posterior(proba)
        self.psi_ = psi.double().cpu().numpy()
        self.eta_ = state.eta.double().cpu().numpy()
        self.posterior_ = posterior.double().cpu().numpy()
        self._set_noise_attributes(
            1.0 - (proba * given).sum(dim=1), posterior.argmax(dim=1))

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Soft cross-entropy against the predicting step's posterior (Eq. 10).

        During the main training ``y_true`` holds sample indices; q is
        computed from the same forward pass (detached), so no extra pass is
        needed.
        """
        state = getattr(self, "_confusion_state", None)
        if state is None or not training:
            return super().get_loss(y_pred, y_true, X=X, training=training)
        log_proba = torch.log_softmax(y_pred, dim=1)
        q = state.posterior(log_proba.detach().exp(), y_true)
        per_sample = -(q * log_proba).sum(dim=1)
        if state.sample_weights is None:
            return per_sample.mean()
        sample_weights = state.sample_weights[y_true]
        return (sample_weights * per_sample).sum() / sample_weights.sum()

    def _sample_weights(self, y, device):
        """Each sample's ``class_weight`` by its given label, or None."""
        if self.class_weight is None:
            return None
        classes = np.arange(len(self.classes_))
        if isinstance(self.class_weight, dict):
            class_weight = {
                index: self.class_weight.get(label, 1.0)
                for index, label in enumerate(self.classes_)
            }
        else:
            class_weight = self.class_weight
        weights = compute_class_weight(class_weight, classes=classes, y=y)
        return torch.as_tensor(weights[y], dtype=torch.float32, device=device)


def _one_value_per_sample(values, name, n_samples):
    values = np.asarray(values)
    if values.shape != (n_samples,):
        raise ValueError(
            f"{name} must have one value per training sample, shape "
            f"({n_samples},); got shape {values.shape}."
        )
    return values


def _check_psi(psi, n_samples, device):
    """``fit``'s psi as a float tensor on the device, or None."""
    if psi is None:
        return None
    psi = _one_value_per_sample(psi, "psi", n_samples).astype(np.float32)
    if not np.all((psi >= 0) & (psi <= 1)):
        raise ValueError("psi must hold probabilities in [0, 1].")
    return torch.as_tensor(psi, device=device)


def _check_trusted(trusted, n_samples, device):
    """``fit``'s trusted mask as a bool tensor on the device, or None."""
    if trusted is None:
        return None
    trusted = _one_value_per_sample(trusted, "trusted", n_samples)
    if trusted.dtype != bool:
        raise ValueError("trusted must be a boolean mask.")
    return torch.as_tensor(trusted, device=device)


class _ConfusionState:
    """The per-sample quantities of the model, on the training device."""

    def __init__(self, given, psi, eta, trusted, sample_weights):
        self.given, self.psi, self.eta = given, psi, eta
        self.trusted, self.sample_weights = trusted, sample_weights

    def posterior(self, proba, indices=None):
        """Eq. 8: q ~ h(x) * [(1 - eta) ytilde + eta psi 1], normalised."""
        given, psi, eta = self.given, self.psi, self.eta
        if indices is not None:
            given, psi, eta = given[indices], psi[indices], eta[indices]
        eta, psi = eta[:, None], psi[:, None]
        unnormalised = proba * ((1 - eta) * given + eta * psi)
        return unnormalised / unnormalised.sum(dim=1, keepdim=True).clamp_min(1e-12)

    def update_eta(self, proba, step_size):
        """Eq. 11-12: one projected gradient ascent step on every eta_i."""
        q = self.posterior(proba)
        eta, psi = self.eta[:, None], self.psi[:, None]
        direction = 1 + (psi * eta - eta - 1) * self.given
        gradient = (direction * q).sum(dim=1) / (self.eta + _ETA_STEP_OFFSET)
        self.eta = (self.eta + step_size * gradient).clamp_(0.0, 1.0)
        if self.trusted is not None:
            self.eta[self.trusted] = 0.0


class EtaUpdate(Callback):
    """Updates eta after epoch ``start``, then every ``every`` epochs."""

    def __init__(self, step_size, start, every):
        self.step_size, self.start, self.every = step_size, start, every

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        finished = len(net.history_)
        if finished >= self.start and (finished - self.start) % self.every == 0:
            state = net._confusion_state
            state.update_eta(net._proba(dataset_train.X), self.step_size)
