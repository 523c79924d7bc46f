"""Callbacks the core adds to every training stage."""

import copy

from skorch.callbacks import Callback

from .augmentations import with_generator


class TrainAugmentation(Callback):
    """Apply the estimator's ``augmentation`` to every training batch.

    It replaces ``inputs["X"]`` of each training batch (validation batches
    and evaluation passes are never augmented) by ``augmentation(X)``,
    drawing from the stage's own generator when the augmentation accepts a
    ``generator`` keyword.

    Parameters
    ----------
    augmentation : callable
    generator : torch.Generator
    """

    def __init__(self, augmentation, generator):
        self.augmentation = augmentation
        self.generator = generator

    def initialize(self):
        self.augment_ = with_generator(copy.deepcopy(self.augmentation), self.generator)
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            inputs, _ = batch
            inputs["X"] = self.augment_(inputs["X"])
