"""Training data as tensors on the device, and mini-batches drawn by index.

skorch's default ``Dataset`` + ``DataLoader`` fetch samples one by one and
collate them, which dominates the fit time of small networks. Here the
whole data set is one tensor on the training device and a batch is a single
``index_select`` (training) or a slice (inference).

A training batch is ``(inputs, y)`` as in skorch: ``y`` holds the *given*
labels (encoded as ``0 .. n_classes - 1``), whatever the method trains
against, so skorch's scoring callbacks and the validation loss see the
labels the user gave. What a method trains against instead (soft labels,
a posterior, corrected targets) is a per-sample *field* of the data set,
gathered into the batch's ``inputs`` mapping next to ``"X"`` and
``"index"``: the idiom skorch documents for sample weights.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from skorch.dataset import Dataset as SkorchDataset
from torch.utils.data import Subset

from ._distributed import current_world, shard_of
from ._loading import LazyFeatures
from ._random import FitRandomness


@dataclass
class FitData:
    """What one fit trains on and the randomness it owns (passed down).

    Attributes
    ----------
    X : torch.Tensor on the device, or LazyFeatures
        The features; a Dataset passed as X is loaded batch by batch.
    y : torch.Tensor of int64 on the device
        Given labels, encoded.
    labels : ndarray
        Given labels as the caller gave them.
    n_classes : int
    randomness : FitRandomness
    split : tuple of two index tensors, or None
        Training and validation samples when ``train_split`` is set.
    stages : list of (str, History)
        The finished stages, in order.
    interrupted : list of str
        The stages that Ctrl-C ended early, in order.
    """

    X: torch.Tensor
    y: torch.Tensor
    labels: np.ndarray
    n_classes: int
    randomness: FitRandomness
    split: tuple | None = None
    stages: list = field(default_factory=list)
    interrupted: list = field(default_factory=list)

    @property
    def device(self):
        return self.y.device


def one_hot(labels, n_classes, device=None):
    """Float one-hot matrix of integer ``labels`` (a tensor or array)."""
    labels = torch.as_tensor(labels, device=device)
    return torch.nn.functional.one_hot(labels.long(), n_classes).float()


class TrainingData(SkorchDataset):
    """Features, given labels and per-sample fields on one device.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, ...) or LazyFeatures
        Features.
    y : torch.Tensor of int64, shape (n_samples,) or None
        Given labels, encoded; None at inference.
    labels : ndarray of shape (n_samples,) or None
        The given labels as the user gave them: what skorch's scoring
        callbacks compare predictions of ``X`` with.
    split : tuple of two index tensors, or None
        The training and validation samples of ``train_split``.
    shuffle_generator : torch.Generator or None
        Draws the order of the training batches.
    **fields : torch.Tensor of shape (n_samples, ...)
        Per-sample values a method needs in its loss, e.g. ``targets``.
        Methods may update them in place between epochs.
    """

    def __init__(self, X, y=None, labels=None, *, split=None, shuffle_generator=None,
                 **fields):
        for name, value in [("y", y), *fields.items()]:
            if value is not None and len(value) != len(X):
                raise ValueError(
                    f"X and {name} have different lengths: {len(X)} and {len(value)}."
                )
        self.X_tensor = X
        self.y_tensor = y
        self.fields = fields
        self.split = split
        self.shuffle_generator = shuffle_generator
        # skorch's data_from_dataset reads .X and .y: the features and the
        # labels as given, so that a scorer's predict(X) compares like with like.
        self.X = X
        self.y = labels

    def __len__(self):
        return len(self.X_tensor)

    @property
    def device(self):
        return self.X_tensor.device

    @property
    def is_lazy(self):
        """Whether the features are loaded from a Dataset batch by batch."""
        return isinstance(self.X_tensor, LazyFeatures)

    def __getitem__(self, index):
        indices = torch.as_tensor([index], device=self.device)
        return next(iter(self.batches([indices])))

    def batches(self, batch_indices, training=False, shards=None):
        """Yield the batch ``(inputs, y)`` of the samples of each index batch.

        ``shards`` (one :class:`~sklearn_noisy._distributed.Shard` per batch)
        says where each batch lies in the global batch of a fit spread over
        several processes; it goes into the inputs as ``"shard"``.
        """
        shards = [None] * len(batch_indices) if shards is None else shards
        if self.is_lazy:
            loaded = self.X_tensor.load(batch_indices, training)
            for (X, indices), shard in zip(loaded, shards):
                yield self._batch(X, indices, shard)
            return
        for indices, shard in zip(batch_indices, shards):
            # index_select is the direct gather kernel; X[indices] takes
            # torch's generic indexing path, twice as slow per batch.
            yield self._batch(self.X_tensor.index_select(0, indices), indices, shard)

    def _batch(self, X, indices, shard=None):
        inputs = {"X": X, "index": indices}
        for name, values in self.fields.items():
            inputs[name] = values.index_select(0, indices)
        if shard is not None:
            inputs["shard"] = shard
        y = None if self.y_tensor is None else self.y_tensor.index_select(0, indices)
        return inputs, y


def take_rows(features, indices):
    """The training features at ``indices``, as one tensor on the device: a
    device tensor's rows, or a Dataset's samples loaded (the whole batch
    that a process of a parallel fit augments before keeping its share)."""
    if isinstance(features, torch.Tensor):
        return features.index_select(0, indices)
    return features.take(indices)


def augment_batch(augment, inputs, features):
    """``augment`` of a training batch's inputs.

    On a process's share of a global batch (a fit spread over several
    processes), the whole batch, taken from the training ``features``, is
    augmented and the share kept, so that the random draws do not depend on
    the number of processes.
    """
    shard = inputs.get("shard")
    if shard is None:
        return augment(inputs["X"])
    return augment(take_rows(features, shard.batch))[shard.start:shard.stop]


def base_and_indices(dataset):
    """The :class:`TrainingData` under ``dataset`` and the indices it selects.

    skorch's ``ValidSplit`` returns ``torch.utils.data.Subset`` views;
    indices are None for the whole data set.
    """
    indices = None
    while isinstance(dataset, Subset):
        chosen = torch.as_tensor(dataset.indices, dtype=torch.long)
        # A view of a view: the inner view's indices, at the outer's positions.
        indices = chosen if indices is None else chosen[indices]
        dataset = dataset.dataset
    if indices is not None and isinstance(dataset, TrainingData):
        indices = indices.to(dataset.device)
    return dataset, indices


class ShuffledBatches:
    """Mini-batches in a fresh random order at every pass.

    Each iteration over the object is one epoch; the permutation is drawn on
    the data's device from ``generator``, so no host-device traffic occurs.
    With ``drop_last`` the samples that do not fill a last batch sit out the
    epoch (a different few every epoch), so every batch has the same shape.
    """

    def __init__(self, dataset, batch_size, generator, drop_last=False):
        self.data, self.indices = base_and_indices(dataset)
        self.batch_size = batch_size
        self.generator = generator
        self.drop_last = drop_last
        if drop_last and self._n_samples() < batch_size:
            raise ValueError(
                f"iterator_train__drop_last=True leaves no batch: the training set has "
                f"{self._n_samples()} samples, fewer than batch_size={batch_size}.")

    def __len__(self):
        return len(self.batch_lengths())

    def _n_samples(self):
        return len(self.data) if self.indices is None else len(self.indices)

    def batch_lengths(self):
        """The number of samples in each batch of an epoch."""
        full, tail = divmod(self._n_samples(), self.batch_size)
        lengths = [self.batch_size] * full + ([tail] if tail else [])
        if self.drop_last and tail:
            lengths.pop()
        elif len(lengths) > 1 and lengths[-1] < max(2, current_world().size):
            # A batch of one sample breaks BatchNorm in training mode, and
            # every process of a parallel fit needs a sample of each batch:
            # a smaller last batch joins the one before it instead.
            lengths[-2:] = [lengths[-2] + lengths[-1]]
        return lengths

    def __iter__(self):
        order = torch.randperm(
            self._n_samples(), generator=self.generator, device=self.generator.device
        )
        if self.indices is not None:
            order = self.indices[order.to(self.indices.device)]
        lengths = self.batch_lengths()
        batches = list(order[:sum(lengths)].split(lengths))
        world = current_world()
        if not world.parallel:
            yield from self.data.batches(batches, training=True)
            return
        parts, shards = zip(*(shard_of(batch, world) for batch in batches))
        yield from self.data.batches(list(parts), training=True, shards=list(shards))


class SequentialBatches:
    """Consecutive samples in order, for inference and validation."""

    def __init__(self, dataset, batch_size):
        self.data, self.indices = base_and_indices(dataset)
        self.batch_size = batch_size

    def __len__(self):
        n_samples = len(self.data) if self.indices is None else len(self.indices)
        return -(-n_samples // self.batch_size)

    def __iter__(self):
        if self.indices is not None or self.data.is_lazy:
            indices = self.indices
            if indices is None:
                indices = torch.arange(len(self.data), device=self.data.device)
            yield from self.data.batches(indices.split(self.batch_size))
            return
        X, y = self.data.X_tensor, self.data.y_tensor
        for start in range(0, len(X), self.batch_size):
            stop = start + self.batch_size
            # Plain slices: views, no copies, on the inference fast path.
            yield X[start:stop], None if y is None else y[start:stop]


def is_training_data(X):
    """Whether X is the core's own training data, a part or a batch of it.

    A view (``Subset``, ``random_split``) is the core's when the data set it
    views is a :class:`TrainingData`; views of a caller's Dataset are the
    caller's data.
    """
    while isinstance(X, Subset):
        X = X.dataset
    # a batch's inputs, as skorch hands them to the net
    batch = isinstance(X, Mapping) and "X" in X and "index" in X
    return isinstance(X, TrainingData) or batch
