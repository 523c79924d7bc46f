"""Loss functions the methods train with, besides cross-entropy."""

import torch
from torch import nn


def dmi_loss(logits, labels, epsilon=1e-3):
    """Determinant-based mutual information loss L_DMI of Xu et al. (2019).

    ``-log(|det(Y^T P)| + epsilon)`` with ``Y`` the one-hot given labels and
    ``P`` the softmax of ``logits`` over the batch. As in the authors' code
    the joint matrix is not divided by the batch size (that only shifts the
    loss by a constant) and ``epsilon`` keeps the logarithm finite when a
    batch misses a class.

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
    return -torch.log(torch.abs(torch.linalg.det(joint.float())) + epsilon)


class DMILoss(nn.Module):
    """:func:`dmi_loss` as a module, usable as a skorch criterion."""

    def forward(self, logits, labels):
        return dmi_loss(logits, labels)
