"""SLN: stochastic label noise (Chen et al., ICLR 2021).

Every training step adds fresh Gaussian noise to each sample's one-hot
target. The noise helps SGD escape the sharp minima in which a network
memorises wrong labels. Two additions of the paper are on by default or on
request: a momentum model (an exponential moving average of the weights,
SLN-MO) and label correction from the momentum model's predictions (SLN-MO-LC).
"""

import copy
import numbers

import torch
from skorch.callbacks import Callback
from sklearn.utils._param_validation import Interval, StrOptions

from ._core import NoisyLabelClassifier
from ._data import one_hot
from ._data import base_and_indices
from ._distributed import draw_rows, unwrapped
from ._docstrings import fill_docstring
from ._validation import epochs_or_fraction, resolve_epochs, warn_if_never_reached
from .losses import target_cross_entropy


@fill_docstring(max_epochs=100, random_extras=" and the label noise")
class SLNClassifier(NoisyLabelClassifier):
    """Stochastic label noise (SLN) training, with momentum model and
    optional label correction.

    In every training step each sample's one-hot target ``y`` gets fresh
    noise ``z ~ N(0, I)`` and the loss is
    ``-sum_k (y + sigma z)_k log softmax_k(f(x))``, averaged over the batch.

    Parameters
    ----------
    sigma : float, default=1.0
        Standard deviation of the noise. The paper uses 1 for symmetric and
        0.5 for other noise on CIFAR-10, 0.1 (instance-dependent) and 0.2
        (others) on CIFAR-100, and 0.2 on Clothing1M. The default was chosen
        by measurement on digits, wine, breast cancer and synthetic data
        (see the user guide); tune it per data set.
    ema_decay : float or None, default=0.999
        Decay of the momentum model, an exponential moving average of the
        weights updated after every optimizer step; it makes the predictions
        (SLN-MO). The decay is warmed up: the update after ``t`` earlier
        updates uses ``min(ema_decay, (1 + t) / (10 + t))`` (0.18 at the
        first, 0.92 after 100, 0.99 after 1,000), so that a short training
        is not dominated by the initial weights. ``None`` predicts with the
        trained network itself (plain SLN).
    correction_epoch : int, float or None, default=0.5
        Epochs after which label correction starts (SLN-MO-LC).
        {epochs_or_fraction} From then on
        sigma is 0 and, at the start of every epoch, the targets become
        ``w_i y_i + (1 - w_i) p_i``, with ``p_i`` the momentum model's
        prediction (the network's own without one), as ``correction``
        says, and ``w_i`` its per-sample cross-entropy against the given
        label, min-max normalised over the training set (Appendix D of the
        paper). ``None`` never corrects (SLN-MO). The paper corrects in the
        last 50 of 300 epochs on CIFAR and from the first epoch on
        Clothing1M (0.833 and 0 as fractions); the default, half-way
        through training (50 of the default 100 epochs), was chosen by
        measurement (see the user guide). An int ``correction_epoch >=
        max_epochs`` corrects nothing, with a warning.
    correction : {{'hard', 'soft'}}, default='hard'
        ``'hard'``: ``p_i`` is the one-hot arg max of the prediction, as in
        the paper. ``'soft'``: ``p_i`` is the softmax itself, as in the
        authors' Clothing1M code. Used only with ``correction_epoch``.
    correction_reference : {{'given', 'corrected'}}, default='given'
        What each sample's cross-entropy ``w_i`` is measured against:
        ``'given'``, the given label at every correction epoch, as the
        authors' Clothing1M script does; ``'corrected'``, the targets as the
        previous epoch corrected them (the given labels at the first
        correction epoch), as the authors' CIFAR script does, which
        overwrites the data set's labels. Appendix D does not say. Used only
        with ``correction_epoch``.
    noise_on : {{'labels', 'outputs', 'parameters'}}, default='labels'
        Where the Gaussian noise of scale sigma goes. ``'labels'`` is SLN.
        The paper's comparison (its Figure 5) adds it instead to the gradient
        of each sample's loss with respect to the network output (Eq. 2;
        ``'outputs'``), or to the gradient with respect to the parameters
        (Eq. 1; ``'parameters'``).
    {shared_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen at fit.
    module_ : torch.nn.Module
        The network used for prediction: the momentum model when
        ``ema_decay`` is set, else the trained network.
    noise_scores_ : ndarray of shape (n_train_samples,)
        ``1 - p(given label | x)`` under ``module_``.
    corrected_labels_ : ndarray of shape (n_train_samples,)
        ``module_``'s prediction for each training sample.
    {label_issues}
    history_ : skorch History
        Per-epoch training record.
    stage_histories_ : list of (str, skorch History)
        One entry, ``("training", history_)``.

    Notes
    -----
    Training stages: one, ``"training"``. User callbacks see the trained
    network ``module_`` (the momentum model replaces it after the stage).
    The label correction of SLN-MO-LC runs at the start of each epoch from
    ``correction_epoch`` on, before the user callbacks.

    References
    ----------
    P. Chen, G. Chen, J. Ye, J. Zhao, P.-A. Heng. "Noise against Noise:
    Stochastic Label Noise Helps Combat Inherent Label Noise." ICLR 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_noisy import SLNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = SLNClassifier(sigma=0.5, max_epochs=5, random_state=0).fit(X / 16, y)
    >>> clf.noise_scores_.shape
    (1797,)
    """

    _parameter_constraints = {
        **NoisyLabelClassifier._parameter_constraints,
        "sigma": [Interval(numbers.Real, 0, None, closed="left")],
        "ema_decay": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "correction_epoch": [*epochs_or_fraction(0), None],
        "correction": [StrOptions({"hard", "soft"})],
        "correction_reference": [StrOptions({"given", "corrected"})],
        "noise_on": [StrOptions({"labels", "outputs", "parameters"})],
    }

    def __init__(
        self,
        module=None,
        *,
        sigma=1.0,
        ema_decay=0.999,
        correction_epoch=0.5,
        correction="hard",
        correction_reference="given",
        noise_on="labels",
        max_epochs=100,
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
        self.sigma = sigma
        self.ema_decay = ema_decay
        self.correction_epoch = correction_epoch
        self.correction = correction
        self.correction_reference = correction_reference
        self.noise_on = noise_on

    def _check_params(self):
        if self.correction_epoch is not None:
            warn_if_never_reached("correction_epoch", self.correction_epoch, self.max_epochs,
                                  "labels are never corrected", example=0.5)

    def _fit_noisy(self, data):
        given = one_hot(data.y, data.n_classes, data.device)
        noise = StochasticLabelNoise(
            self.sigma, self.noise_on, data.randomness.generator("label_noise", "training"))
        callbacks = [("label_noise", noise)]
        momentum = None
        if self.ema_decay is not None:
            momentum = MomentumModel(self.ema_decay)
            callbacks.append(("momentum_model", momentum))
        if self.correction_epoch is not None:
            callbacks.append(("label_correction", LabelCorrection(
                given, resolve_epochs(self.correction_epoch, self.max_epochs), noise,
                momentum, self.correction, self.correction_reference)))
        self.run_stage(data, "training", fields={"targets": given.clone()},
                        callbacks=callbacks)
        if momentum is not None:
            unwrapped(self.module_).load_state_dict(momentum.averaged_.state_dict())
            # (each process's momentum model averaged its own statistics)
            self._share_buffers()
        proba = self.eval_proba(data.X)
        self._set_noise_attributes(
            1.0 - (proba * given).sum(dim=1), proba.argmax(dim=1), data.y)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """``-sum_k t_k log softmax_k(y_pred)`` against the noisy targets.

        In training the batch carries the targets with their label noise
        and, for ``noise_on='outputs'``, the noise to add to the gradient
        with respect to ``y_pred``; validation uses the given labels.
        """
        if not training:
            return super().get_loss(y_pred, y_true, X=X, training=training)
        loss = target_cross_entropy(y_pred, X["targets"])
        if "output_noise" in X:
            # Eq. 2: the term's gradient with respect to y_pred is the noise;
            # subtracting its value keeps the reported loss unchanged.
            term = (y_pred * X["output_noise"]).sum()
            loss = loss + term - term.detach()
        return loss


class StochasticLabelNoise(Callback):
    """Draws SLN's Gaussian noise for every training batch.

    Parameters
    ----------
    sigma : float
        Standard deviation.
    noise_on : {'labels', 'outputs', 'parameters'}
        Added to the batch's targets, to the gradient with respect to the
        network's outputs, or to the parameters' gradients.
    generator : torch.Generator
        The fit's generator for this noise.

    Attributes
    ----------
    drawing_ : bool
        Whether batches still get noise; :meth:`stop` ends it.
    """

    def __init__(self, sigma, noise_on, generator):
        self.sigma = sigma
        self.noise_on = noise_on
        self.generator = generator

    def initialize(self):
        self.drawing_ = self.sigma > 0
        return self

    def stop(self):
        """No noise from the next batch on.

        The hand-over to :class:`LabelCorrection`: SLN-MO-LC trains on the
        corrected targets without noise (sigma becomes 0 in the paper).
        """
        self.drawing_ = False

    def _noise_like(self, tensor, inputs=None):
        # Per-sample rows of a batch are drawn for the whole batch of a fit
        # spread over several processes, and this process's are kept.
        return self.sigma * draw_rows(torch.randn, tensor.shape, inputs or {},
                                      self.generator, tensor.device, tensor.dtype)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not (training and self.drawing_):
            return
        inputs, _ = batch
        targets = inputs["targets"]
        if self.noise_on == "labels":
            inputs["targets"] = targets + self._noise_like(targets, inputs)
        elif self.noise_on == "outputs":
            # The batch loss is a mean, so each sample's gradient carries a
            # 1 / batch_size factor.
            inputs["output_noise"] = self._noise_like(targets, inputs) / len(targets)

    def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
        if not (training and self.drawing_ and self.noise_on == "parameters"):
            return
        # Eq. 1: noise on the gradient of the batch loss.
        for parameter in net.module_.parameters():
            if parameter.grad is not None:
                parameter.grad.add_(self._noise_like(parameter.grad))


def warmed_up_decay(decay, n_updates):
    """The momentum model's decay after ``n_updates`` earlier updates.

    ``min(decay, (1 + t) / (10 + t))``: a fixed 0.999 keeps about
    ``0.999 ** t`` of the initial, untrained weights after ``t`` steps (90%
    after 100), which dominates the predictions of a short training.
    """
    return min(decay, (1.0 + n_updates) / (10.0 + n_updates))


@torch.no_grad()
def move_towards(floats, others, weight):
    """``a <- a + weight * (c - a)`` for every pair of tensors (a, c).

    ``floats`` holds two lists, the ``a`` and the ``c`` of the
    floating-point pairs, updated by one foreach kernel; ``others`` the
    integer pairs (BatchNorm's batch counter), which cannot lerp and get the
    same update in floating point, truncated.
    """
    if floats[0]:
        torch._foreach_lerp_(*floats, weight)
    for a, c in others:
        a.copy_(a * (1 - weight) + c * weight)


class MomentumModel(Callback):
    """Exponential moving average of the weights, after every training step.

    A copy of the network whose parameters and buffers move towards the
    network's after every step, with the decay of :func:`warmed_up_decay`:
    the update of :class:`torch.optim.swa_utils.AveragedModel` with
    ``use_buffers=True``, but counted on the host, so that a step never
    waits for the GPU. Its first update copies the weights, as the SLN
    authors' EMA starts from the network.

    Attributes
    ----------
    averaged_ : torch.nn.Module
        The averaged network.
    n_updates_ : int
        Updates so far, the first copy included.
    """

    reads_batch_losses = False

    def __init__(self, decay):
        self.decay = decay

    def on_train_begin(self, net, **kwargs):
        # (the network itself, not a data-parallel wrapper of it)
        network = unwrapped(net.module_)
        self.averaged_ = copy.deepcopy(network)
        self.n_updates_ = 0
        # The pairs are grouped once: every training step updates them all.
        pairs = list(zip([*self.averaged_.parameters(), *self.averaged_.buffers()],
                         [*network.parameters(), *network.buffers()]))
        floats = [(a, c) for a, c in pairs if a.is_floating_point()]
        self.float_pairs_ = ([a for a, _ in floats], [c for _, c in floats])
        self.other_pairs_ = [(a, c) for a, c in pairs if not a.is_floating_point()]

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            weight = (1.0 if self.n_updates_ == 0
                      else 1.0 - warmed_up_decay(self.decay, self.n_updates_))
            move_towards(self.float_pairs_, self.other_pairs_, weight)
            self.n_updates_ += 1

    def proba(self, net, X):
        """Eval-mode softmax of the averaged network on the features X."""
        return net.eval_proba(X, self.averaged_)


class LabelCorrection(Callback):
    """SLN-MO-LC's target update at the start of each late epoch.

    Parameters
    ----------
    given : torch.Tensor of shape (n_samples, n_classes)
        One-hot given labels.
    correction_epoch : int
        Epochs trained before correction starts.
    noise : StochasticLabelNoise
        Stopped once correction starts.
    momentum : MomentumModel or None
        Whose predictions correct the labels; None uses the network.
    correction : {'hard', 'soft'}
        Mix in the one-hot arg max of the predictions, or the predictions.
    reference : {'given', 'corrected'}
        What each sample's loss, which weights the mix, is measured against:
        the given labels, or the targets as the previous epoch corrected
        them.
    """

    def __init__(self, given, correction_epoch, noise, momentum=None, correction="hard",
                 reference="given"):
        self.given = given
        self.correction_epoch = correction_epoch
        self.noise = noise
        self.momentum = momentum
        self.correction = correction
        self.reference = reference

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        finished_epochs = len(net.history_) - 1
        if finished_epochs < self.correction_epoch:
            return
        self.noise.stop()
        data, _ = base_and_indices(dataset_train)
        X = data.X_tensor
        proba = self.momentum.proba(net, X) if self.momentum is not None else net.eval_proba(X)
        targets = data.fields["targets"]
        reference = self.given if self.reference == "given" else targets
        # Against one-hot rows this is -log p(label); against soft targets,
        # the cross-entropy.
        loss = -(reference * torch.log(proba.clamp_min(1e-12))).sum(dim=1)
        spread = (loss.max() - loss.min()).clamp_min(1e-12)
        weight = ((loss - loss.min()) / spread)[:, None]
        predicted = (proba if self.correction == "soft"
                     else one_hot(proba.argmax(dim=1), self.given.shape[1], data.X_tensor.device))
        # The batches gather from this tensor, so updating it in place
        # updates them.
        targets.copy_(weight * self.given + (1 - weight) * predicted)
