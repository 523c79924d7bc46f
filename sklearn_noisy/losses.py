"""The methods' losses, besides the plain cross-entropy of the core."""

import torch
from torch import nn
from torch.nn import functional as F

# log(p + 1e-8) as in the confidence regulariser's reference code: without
# the floor the regulariser is unbounded below.
_LOG_FLOOR = 1e-8
_DMI_RIDGE = 1e-6


def dmi_loss(logits, labels, epsilon=1e-3):
    """Determinant-based mutual information loss L_DMI of Xu et al. (2019).

    ``-log(|det(Y^T P)| + epsilon)`` with ``Y`` the one-hot given labels and
    ``P`` the softmax of ``logits`` over the batch. As in the authors' code
    the joint matrix is not divided by the batch size (that only shifts the
    loss by a constant) and ``epsilon`` keeps the logarithm finite when a
    batch misses a class. Unlike the authors' code, ``1e-6`` is added to the
    joint matrix's diagonal: when the matrix is singular (a network that
    predicts one class for a whole batch) the gradient of the determinant is
    otherwise ``0 * inf`` and turns the weights into NaN; against the
    diagonal's counts (about ``batch_size / n_classes``) the change is
    negligible.

    Parameters
    ----------
    logits : torch.Tensor of shape (batch_size, n_classes)
    labels : torch.Tensor of int64, shape (batch_size,)
    epsilon : float, default=1e-3

    Returns
    -------
    loss : torch.Tensor
        A scalar.
    """
    probabilities = torch.softmax(logits, dim=1)
    labels_one_hot = nn.functional.one_hot(labels, logits.shape[1]).to(probabilities.dtype)
    joint = labels_one_hot.T @ probabilities
    ridge = _DMI_RIDGE * torch.eye(joint.shape[0], device=joint.device)
    return -torch.log(torch.abs(torch.linalg.det(joint.float() + ridge)) + epsilon)


class DMILoss(nn.Module):
    """:func:`dmi_loss` as a module, usable as a skorch criterion."""

    def forward(self, logits, labels):
        return dmi_loss(logits, labels)


def target_cross_entropy(logits, targets):
    """``-sum_k t_k log softmax_k(logits)``, averaged over the batch.

    Unlike ``torch.nn.CrossEntropyLoss`` the targets ``t`` need not be
    probabilities (SLN's noisy one-hot rows).
    """
    return -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def confusion_posterior(proba, given, psi, eta, floor=None):
    """Eq. 8 of the confusing-instance model, normalised over classes.

    ``q ~ h(x) * [(1 - eta) ytilde + eta psi 1]`` for rows of one-hot given
    labels ``given`` and per-sample ``psi``, ``eta``. With a ``floor``, the
    smoothed label ``(1 - eta) ytilde + eta psi 1`` is raised to at least
    ``floor`` first, as the authors' code does (``clamp(min=1e-5)``), so
    that at ``eta = 0`` the other classes keep a small share.
    """
    eta, psi = eta[:, None], psi[:, None]
    smoothed = (1 - eta) * given + eta * psi
    if floor is not None:
        smoothed = smoothed.clamp_min(floor)
    unnormalised = proba * smoothed
    return unnormalised / unnormalised.sum(dim=1, keepdim=True).clamp_min(1e-12)


def confusion_em_loss(logits, given, psi, eta, sample_weight=None, floor=None):
    """Eq. 10: soft cross-entropy against the detached Eq. 8 posterior.

    q is computed from the same forward pass, so no extra pass is needed.
    """
    log_proba = torch.log_softmax(logits, dim=1)
    q = confusion_posterior(log_proba.detach().exp(), given, psi, eta, floor)
    per_sample = -(q * log_proba).sum(dim=1)
    if sample_weight is None:
        return per_sample.mean()
    return (sample_weight * per_sample).sum() / sample_weight.sum()


def confidence_regulariser(logits, marginal):
    """Eq. 9 of LNL-flywheel: ``mean_i sum_y p(y) log(softmax(logits_i)[y] + 1e-8)``.

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
    partners = torch.arange(2 * n, device=z.device).roll(n)
    return F.cross_entropy(similarity, partners)
