"""The confusing-instance probabilistic model (Wang et al., AAAI 2021).

A given label ``ytilde_i`` is either the true label (probability
``1 - eta_i``) or, for a *confusing* sample (probability ``eta_i``), drawn
from the classifier-like distribution whose mass on the given label is
``psi_i = P(ytilde_i | x_i)``, estimated by a naive network trained on the
noisy labels. Training alternates a predicting step, the posterior of the
true label given ``x_i`` and ``ytilde_i`` (Eq. 8), with a network update on
that posterior (Eq. 10) and a projected gradient step on each ``eta_i``
(Eq. 11-12): on the mini-batch's samples after every training step, as in
the paper's Algorithm 1, or on every sample every few epochs.
"""

import numbers

import numpy as np
import torch
from skorch.callbacks import Callback
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight

from ._core import NoisyLabelClassifier
from ._data import one_hot
from ._data import base_and_indices
from ._distributed import gather_rows
from ._docstrings import fill_docstring
from ._validation import epochs_or_fraction, resolve_epochs, warn_if_never_reached
from .losses import confusion_em_loss, confusion_posterior

_ETA_STEP_OFFSET = 1e-4


@fill_docstring(max_epochs_meaning="Epochs of the naive network and of the main training.")
class ConfusionEMClassifier(NoisyLabelClassifier):
    """Confusing-instance EM training (Wang et al., AAAI 2021).

    Parameters
    ----------
    eta_init : float, default=0.01
        Initial confusing probability of every sample (the paper's 0.01).
    eta_lr : float, default=0.5
        Step size alpha_1 of the projected gradient ascent on eta (paper:
        0.7 on CIFAR-10, 0.5 best on CIFAR-100, 0.05 on Clothing1M). The
        default was chosen by measurement (see the user guide).
    eta_start_epoch : int or float, default=0.1
        Epochs of the main training before eta is first updated.
        {epochs_or_fraction} The default, 5 of the default 50 epochs, was
        chosen by measurement (see the user guide); the paper starts after
        35 of 120 epochs on CIFAR (0.29). An int ``eta_start_epoch >=
        max_epochs`` never updates eta, with a warning.
    eta_update : {{'batch', 'epoch'}}, default='batch'
        When eta is updated, from ``eta_start_epoch`` on. ``'batch'``: after
        every training step, on the mini-batch's samples, with q from that
        step's forward pass (the paper's Algorithm 1). ``'epoch'``: every
        ``eta_update_every`` epochs, on every sample, with q from an
        eval-mode pass over the training set.
    eta_update_every : int, default=5
        Epochs between eta updates with ``eta_update='epoch'``; ignored
        with ``'batch'``.
    eta_floor : float in (0, 1) or None, default=None
        ``None`` follows Eq. 11 as printed: the step divides by ``eta +
        1e-4``, and an eta projected to 0 stays 0 for the rest of the fit
        (its posterior puts nothing on the other classes). A float is the
        authors' code's rule (``1e-5`` there): the smoothed label of Eq. 8
        is raised to at least ``eta_floor`` in the posterior, and the step
        divides by ``max(eta, eta_floor)``, so eta can leave 0 again.
    class_weight : None, 'balanced' or dict, default=None
        Weights of the per-sample losses by given label, as in
        scikit-learn: the batch loss is ``sum_i w_i l_i / sum_i w_i``, a
        weighted mean, so the weights change the balance between classes
        but not the scale of the gradient. The paper oversamples the
        minority classes on Clothing1M (extra copies of their samples),
        which weighting by given label imitates in expectation; the
        authors' Clothing1M code instead multiplies each loss by its weight
        and averages over the batch (``mean_i w_i l_i``), which also scales
        the gradient by the batch's mean weight. A dict's keys must be
        classes of ``y`` and its weights positive; classes it leaves out
        weigh 1.
    {shared_parameters}

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
    {label_issues}
    history_ : skorch History
        Per-epoch record of the main training.
    stage_histories_ : list of (str, skorch History)
        ``("naive network", ...)`` (when psi was estimated), then
        ``("main", history_)``.

    Notes
    -----
    Training stages: ``"naive network"``, which estimates psi (skipped when
    ``psi`` is passed to :meth:`fit`), then ``"main"``, which trains h with
    the eta updates as batch or epoch hooks. User callbacks see the network
    of the running stage, ``module_``, and are initialised at the start of
    each.

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
        "eta_start_epoch": epochs_or_fraction(0),
        "eta_update": [StrOptions({"batch", "epoch"})],
        "eta_update_every": [Interval(numbers.Integral, 1, None, closed="left")],
        "eta_floor": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(
        self,
        module=None,
        *,
        eta_init=0.01,
        eta_lr=0.5,
        eta_start_epoch=0.1,
        eta_update="batch",
        eta_update_every=5,
        eta_floor=None,
        class_weight=None,
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
        super().__init__(
            module,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            train_split=train_split,
            device=device,
            callbacks=callbacks,
            augmentation=augmentation,
            precision=precision,
            channels_last=channels_last,
            compile=compile,
            verbose=verbose,
            random_state=random_state,
            **kwargs,
        )
        self.eta_init = eta_init
        self.eta_lr = eta_lr
        self.eta_start_epoch = eta_start_epoch
        self.eta_update = eta_update
        self.eta_update_every = eta_update_every
        self.eta_floor = eta_floor
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, psi=None, trusted=None):
        """Fit the network on noisy labels.

        Parameters
        ----------
        X : array-like, DataFrame, torch.Tensor or torch.utils.data.Dataset
            2-D tabular data or 3-D/4-D images, shape (n_samples, ...), or a
            map-style Dataset whose items are inputs or ``(input, label)``
            pairs, loaded batch by batch.
        y : array-like of shape (n_samples,), or None
            Given labels; some may be wrong. ``None`` takes them from a
            Dataset of ``(input, label)`` pairs.
        psi : array-like of shape (n_samples,) or None, default=None
            ``P(y_i | x_i)`` for each sample, from a classifier of your own;
            when None a naive network is trained on (X, y) to estimate it.
        trusted : array-like of bool, shape (n_samples,) or None, default=None
            Samples known to be correctly labelled; their eta stays 0.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit_atomically(X, y, psi=psi, trusted=trusted)

    def _check_params(self):
        warn_if_never_reached("eta_start_epoch", self.eta_start_epoch, self.max_epochs,
                              "eta is never updated", example=0.1)
        if isinstance(self.class_weight, dict):
            bad = {label: weight for label, weight in self.class_weight.items()
                   if not (isinstance(weight, numbers.Real) and weight > 0
                           and np.isfinite(weight))}
            if bad:
                raise ValueError(
                    f"class_weight must map classes to positive finite weights; got {bad}."
                )

    def _fit_noisy(self, data, psi=None, trusted=None):
        n_samples, device = len(data.y), data.device
        psi = _check_psi(psi, n_samples, device)
        trusted = _check_trusted(trusted, n_samples, device)
        sample_weights = self._sample_weights(data.y.cpu().numpy(), device)
        given = one_hot(data.y, data.n_classes, device)
        if psi is None:
            self.run_stage(data, "naive network", seed_key="training")
            psi = (self.eval_proba(data.X) * given).sum(dim=1)

        eta = torch.full((n_samples,), float(self.eta_init), device=device)
        if trusted is not None:
            eta[trusted] = 0.0
        fields = {"psi": psi, "eta": eta}
        if sample_weights is not None:
            fields["sample_weight"] = sample_weights
        dataset = self.run_stage(data, "main", fields=fields, callbacks=[
            ("eta_update", EtaUpdate(
                self.eta_lr, resolve_epochs(self.eta_start_epoch, self.max_epochs),
                self.eta_update_every, trusted,
                per_batch=self.eta_update == "batch", floor=self.eta_floor))])
        eta = dataset.fields["eta"]
        proba = self.eval_proba(data.X)
        posterior = confusion_posterior(proba, given, psi, eta, self.eta_floor)
        self.psi_ = psi.double().cpu().numpy()
        self.eta_ = eta.double().cpu().numpy()
        self.posterior_ = posterior.double().cpu().numpy()
        self._set_noise_attributes(
            1.0 - (proba * given).sum(dim=1), posterior.argmax(dim=1), data.y)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Soft cross-entropy against the predicting step's posterior (Eq. 10).

        In the main training the batch carries each sample's psi and eta;
        q is computed from the same forward pass (detached), so no extra
        pass is needed. The naive network and validation batches use plain
        cross-entropy on the given labels.
        """
        if not (training and isinstance(X, dict) and "eta" in X):
            return super().get_loss(y_pred, y_true, X=X, training=training)
        given = one_hot(y_true, y_pred.shape[1], y_pred.device)
        return confusion_em_loss(
            y_pred, given, X["psi"], X["eta"], X.get("sample_weight"), self.eta_floor)

    def _sample_weights(self, y, device):
        """Each sample's ``class_weight`` by its given label, or None."""
        if self.class_weight is None:
            return None
        classes = np.arange(len(self.classes_))
        if isinstance(self.class_weight, dict):
            unknown = [label for label in self.class_weight
                       if label not in set(self.classes_.tolist())]
            if unknown:
                raise ValueError(
                    f"class_weight has keys that are not classes of y: {unknown}; "
                    f"the classes are {self.classes_.tolist()}."
                )
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
    psi = _one_value_per_sample(psi, "psi", n_samples)
    try:
        psi = psi.astype(np.float32)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"psi must hold numbers, probabilities in [0, 1]: {exc}") from None
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


def eta_step(eta, proba, given, psi, step_size, floor=None):
    """Eq. 11-12: eta after one projected gradient ascent step (a new tensor).

    q (Eq. 8) is computed with the current eta, as in Algorithm 1. Without
    a ``floor`` the step divides by ``eta + 1e-4`` (Eq. 11 as printed), so
    an eta projected to 0 stays 0: its q puts nothing on the other classes.
    With one, q uses the floored smoothed label and the step divides by
    ``max(eta, floor)``, as the authors' code does, and eta can leave 0.
    """
    q = confusion_posterior(proba, given, psi, eta, floor)
    eta_column, psi_column = eta[:, None], psi[:, None]
    direction = 1 + (psi_column * eta_column - eta_column - 1) * given
    denominator = eta + _ETA_STEP_OFFSET if floor is None else eta.clamp_min(floor)
    gradient = (direction * q).sum(dim=1) / denominator
    return (eta + step_size * gradient).clamp(0.0, 1.0)


def update_eta(eta, proba, given, psi, step_size, trusted=None, floor=None):
    """:func:`eta_step` on every eta_i, in place; trusted samples stay at 0."""
    eta.copy_(eta_step(eta, proba, given, psi, step_size, floor))
    if trusted is not None:
        eta[trusted] = 0.0
    return eta


class EtaUpdate(Callback):
    """Updates eta from epoch ``start`` on, per batch or every ``every`` epochs.

    eta lives in the stage's data (the batches gather it from there).
    Per batch, after every training step the batch's samples get one step
    with q from that step's (training-mode) forward pass, detached: the
    paper's Algorithm 1, whose loss also used the batch's eta from before
    the step. Per epoch, after epoch ``start`` and then every ``every``
    epochs, every sample gets one step with the network's eval-mode
    predictions.
    """

    reads_batch_losses = False

    def __init__(self, step_size, start, every, trusted=None, per_batch=False, floor=None):
        self.step_size, self.start, self.every = step_size, start, every
        self.trusted = trusted
        self.per_batch = per_batch
        self.floor = floor

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        # The data whose eta the batch hook updates; a Subset under
        # train_split gathers its batches from the same base tensors.
        self.data_, _ = base_and_indices(dataset_train)

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if not (self.per_batch and training and len(net.history_) > self.start):
            return
        inputs, y = batch
        index = inputs["index"]
        given = one_hot(y, y_pred.shape[1], y_pred.device)
        proba = torch.softmax(y_pred.detach().float(), dim=1)
        eta = eta_step(inputs["eta"], proba, given, inputs["psi"], self.step_size, self.floor)
        if self.trusted is not None:
            eta = eta.masked_fill(self.trusted[index], 0.0)
        if "shard" in inputs:
            # every process keeps every sample's eta
            index, eta = gather_rows(index, eta)
        self.data_.fields["eta"].index_copy_(0, index, eta)

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        if self.per_batch:
            return
        finished = len(net.history_)
        if finished >= self.start and (finished - self.start) % self.every == 0:
            data, _ = base_and_indices(dataset_train)
            given = one_hot(data.y_tensor, len(net.classes_), data.X_tensor.device)
            update_eta(data.fields["eta"], net.eval_proba(data.X_tensor), given,
                       data.fields["psi"], self.step_size, self.trusted, self.floor)
