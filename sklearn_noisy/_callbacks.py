"""Callbacks the core adds to every training stage."""

import copy
import re
import sys

import numpy as np
import torch
from skorch.callbacks import Callback, PassthroughScoring, PrintLog

from ._data import augment_batch
from .augmentations import with_generator


class TrainAugmentation(Callback):
    """Apply the estimator's ``augmentation`` to every training batch.

    It replaces ``inputs["X"]`` of each training batch (validation batches
    and evaluation passes are never augmented) by ``augmentation(X)``,
    drawing from the stage's own generator when the augmentation accepts a
    ``generator`` keyword.

    In a fit spread over several processes, every process augments the
    whole batch, taken from ``features`` (loaded, for a Dataset), and keeps
    its share, so that the random draws do not depend on the number of
    processes.

    Parameters
    ----------
    augmentation : callable
    generator : torch.Generator
    features : torch.Tensor, LazyFeatures or None
        The training features, for the whole batches of a parallel fit.
    """

    def __init__(self, augmentation, generator, features=None):
        self.augmentation = augmentation
        self.generator = generator
        self.features = features

    def initialize(self):
        self.augment_ = with_generator(copy.deepcopy(self.augmentation), self.generator)
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            inputs, _ = batch
            X = inputs["X"]
            augmented = augment_batch(self.augment_, inputs, self.features)
            if not (isinstance(augmented, torch.Tensor) and augmented.shape == X.shape):
                got = (f"a tensor of shape {tuple(augmented.shape)}"
                       if isinstance(augmented, torch.Tensor) else type(augmented).__name__)
                raise ValueError(
                    f"augmentation={self.augmentation!r} must return a tensor of the "
                    f"batch's shape {tuple(X.shape)}, on its device; it returned {got}.")
            inputs["X"] = augmented


class EpochLoss(PassthroughScoring):
    """skorch's ``PassthroughScoring``: an epoch's loss, the batch losses' mean.

    In a fit spread over several processes each process's history records
    its own share of each batch (``train_batch_size``), the loss of the
    whole batch, and the whole batch's size (``train_total_batch_size``),
    by which the batches are weighted here, so that every process records
    the epoch loss of a one-process fit.
    """

    def get_avg_score(self, history):
        if not self.on_train:
            return super().get_avg_score(history)
        batches = [batch for batch in history[-1, "batches"] if self.name in batch]
        key = ("train_total_batch_size" if "train_total_batch_size" in batches[0]
               else "train_batch_size")
        return np.average([batch[self.name] for batch in batches],
                          weights=[batch[key] for batch in batches])


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class StageLog(PrintLog):
    """skorch's ``PrintLog``, headed by the stage it logs, coloured only on a terminal.

    A method trains in stages (SEAL's iterations, ConfusionEM's two
    networks); each stage's table starts with a line that names the
    estimator, the stage and its epochs. The best scores are highlighted
    with ANSI colour codes only when the output is a terminal, so logs
    written to files and pipes stay plain text.
    """

    def announce(self, net, stage, epochs):
        """Print the header of the stage named ``stage``, when ``net`` is verbose."""
        self._sink(f"{type(net).__name__}: {stage}, {epochs} epoch"
                   f"{'' if epochs == 1 else 's'}", net.verbose)

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if isinstance(text, str) and not self._to_terminal():
            text = _ANSI.sub("", text)
        return text

    def _to_terminal(self):
        stream = sys.stdout if self.sink is print else None
        return stream is not None and stream.isatty()
