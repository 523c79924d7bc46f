"""Callbacks that record what a network predicts on its own training data."""

import torch
from skorch.callbacks import Callback


class EpochSoftmaxAverage(Callback):
    """Running mean of the eval-mode softmax on the training set.

    After every epoch the network, in eval mode and without augmentation,
    predicts the whole training set; the probabilities are added to one
    ``n_samples x n_classes`` tensor on the training device, so memory stays
    O(n x n_classes) however many epochs are averaged.

    Attributes
    ----------
    total_ : torch.Tensor or None
        Sum of the recorded softmax matrices.
    n_recorded_ : int
        Number of epochs recorded.
    """

    def initialize(self):
        self.total_ = None
        self.n_recorded_ = 0
        return self

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        logits = net.forward(dataset_train.X, training=False, device=net.device)
        proba = torch.softmax(logits.float(), dim=1)
        self.total_ = proba if self.total_ is None else self.total_.add_(proba)
        self.n_recorded_ += 1

    @property
    def average_(self):
        """The mean softmax over the recorded epochs."""
        if not self.n_recorded_:
            raise RuntimeError("No epoch has been recorded yet.")
        return self.total_ / self.n_recorded_
