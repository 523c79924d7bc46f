"""Callbacks that record what a network predicts on its own training data."""

from skorch.callbacks import Callback

from ._data import base_and_indices


class EpochSoftmaxAverage(Callback):
    """Running mean of the eval-mode softmax on the training set.

    After every epoch the network, in eval mode and without augmentation,
    predicts every sample passed to ``fit`` (a validation part included);
    the probabilities are added to one ``n_samples x n_classes`` tensor on
    the training device, so memory stays O(n x n_classes) however many
    epochs are averaged. A stage that Ctrl-C ends inside its first epoch
    records no epoch: the network as it stands when the stage ends is then
    the average.

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
        self.features_ = None
        return self

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        self.features_ = base_and_indices(dataset_train)[0].X_tensor

    def on_epoch_end(self, net, **kwargs):
        self._record(net, self.features_)

    def on_train_end(self, net, **kwargs):
        if not self.n_recorded_ and self.features_ is not None:
            self._record(net, self.features_)
        self.features_ = None

    def _record(self, net, X):
        proba = net.eval_proba(X)
        self.total_ = proba if self.total_ is None else self.total_.add_(proba)
        self.n_recorded_ += 1

    @property
    def average_(self):
        """The mean softmax over the recorded epochs."""
        if not self.n_recorded_:
            raise RuntimeError("No epoch has been recorded yet.")
        return self.total_ / self.n_recorded_
