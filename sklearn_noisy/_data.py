"""Training data as tensors on the device, and mini-batches drawn by index.

skorch's default ``Dataset`` + ``DataLoader`` fetch samples one by one and
collate them, which dominates the fit time of small networks. Here the whole
data set is one tensor on the training device and a batch is a single
``index_select`` (training) or a view (inference).
"""

import torch


class TensorDataset:
    """Features and (optional) targets held as tensors on one device.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, ...)
        Features.
    y : torch.Tensor of shape (n_samples, ...) or None
        Targets (soft labels for training), or None for inference.
    """

    def __init__(self, X, y=None):
        if y is not None and len(y) != len(X):
            raise ValueError(
                f"X and y have different lengths: {len(X)} and {len(y)}."
            )
        self.X = X
        self.y = y

    def __len__(self):
        return len(self.X)


class ShuffledBatches:
    """Mini-batches in a fresh random order at every pass.

    Each iteration over the object is one epoch; the permutation is drawn on
    the data's device from ``generator``, so no host-device traffic occurs.
    """

    def __init__(self, dataset, batch_size, generator):
        self.dataset = dataset
        self.batch_size = batch_size
        self.generator = generator

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        order = torch.randperm(
            len(X), generator=self.generator, device=self.generator.device
        )
        for batch_indices in order.split(self.batch_size):
            yield X[batch_indices], y[batch_indices]


class SequentialBatches:
    """Consecutive slices of the data, in order (views, no copies)."""

    def __init__(self, dataset, batch_size):
        self.dataset = dataset
        self.batch_size = batch_size

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        for start in range(0, len(X), self.batch_size):
            stop = start + self.batch_size
            yield X[start:stop], None if y is None else y[start:stop]
