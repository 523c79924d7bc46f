"""Samples of a user's ``torch.utils.data.Dataset``, loaded batch by batch.

Data that does not fit in memory comes as a map-style ``Dataset``. It is
never copied whole: a ``DataLoader`` (with the workers, pinning etc. routed
from ``iterator_train__*``/``iterator_valid__*``) loads the samples of one
batch of indices at a time, and the batch is moved to the training device
with a non-blocking copy. The indices are drawn exactly as for in-memory
data, so a fit on a Dataset sees the same batches, in the same order, as a
fit on the same samples held as one tensor.
"""

import numbers

import numpy as np
import torch
from torch.utils.data import DataLoader, default_collate
from torch.utils.data import Dataset as TorchDataset

#: DataLoader arguments that the estimator sets itself.
_RESERVED_LOADER_ARGS = ("batch_size", "shuffle", "sampler", "batch_sampler",
                         "drop_last", "collate_fn", "dataset")


def is_user_dataset(X):
    """Whether ``X`` is a map-style Dataset that the caller passed as X."""
    return isinstance(X, TorchDataset) and hasattr(X, "__getitem__")


def read_item(dataset, index):
    """Item ``index`` of the caller's Dataset.

    An exception raised by the Dataset itself keeps its type, so that the
    caller's own handling still works, and gets a note naming the item (a
    failing file read deep inside a fit is otherwise hard to place).
    """
    try:
        return dataset[index]
    except Exception as exc:
        if hasattr(exc, "add_note"):  # Python >= 3.11
            exc.add_note(
                f"(raised while reading item {index} of the "
                f"{type(dataset).__name__} passed as X)")
        raise


def sample_input(item, index=0):
    """The input part of item ``index``: ``x``, ``(x,)`` or ``(x, label)``."""
    if isinstance(item, (tuple, list)):
        if len(item) not in (1, 2):
            raise ValueError(
                "The items of a Dataset passed as X must be inputs, (input,) or "
                f"(input, label) pairs; item {index} is a {type(item).__name__} of "
                f"{len(item)} elements.")
        item = item[0]
    if isinstance(item, torch.Tensor):
        return item
    array = np.asarray(item)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            "The inputs of a Dataset passed as X must be numeric tensors or "
            f"arrays; item {index} holds {type(item).__name__} of dtype {array.dtype}.")
    return torch.as_tensor(array)


def dataset_labels(dataset):
    """The labels of a Dataset of ``(input, label)`` pairs, as an array.

    A ``targets`` attribute (torchvision's and the package's ``ImageFolder``)
    is used when it has one label per sample; otherwise every item is read
    once, loading each input once.
    """
    targets = getattr(dataset, "targets", None)
    if targets is not None and len(targets) == len(dataset):
        return np.asarray(targets.cpu() if isinstance(targets, torch.Tensor) else targets)
    first = read_item(dataset, 0)
    if not (isinstance(first, (tuple, list)) and len(first) == 2):
        raise ValueError(
            "y=None needs a Dataset whose items are (input, label) pairs; the "
            f"first item of {type(dataset).__name__} is a {type(first).__name__}. "
            "Pass the labels as y.")
    labels = [first[1]] + [read_item(dataset, index)[1] for index in range(1, len(dataset))]
    for index, label in enumerate(labels):
        if np.ndim(label.cpu() if isinstance(label, torch.Tensor) else label) != 0:
            raise ValueError(
                f"Item {index} of the Dataset passed as X has a label of shape "
                f"{tuple(np.shape(label))}; each item needs one class label (for a "
                "one-hot label, its argmax).")
        if isinstance(label, str) != isinstance(first[1], str):
            # numpy would silently turn the numbers into strings.
            raise ValueError(
                f"Item {index} of the Dataset passed as X has a label of type "
                f"{type(label).__name__}, item 0 one of type {type(first[1]).__name__}: "
                "the labels must be all strings or all numbers.")
    return np.asarray([
        label.item() if isinstance(label, torch.Tensor) else label for label in labels
    ])


class _IndexedInputs(TorchDataset):
    """Item ``i`` is ``(input i, i)``: the input and where it came from.

    An input of another shape than ``sample_shape`` is refused by name
    (torch's collation would report a stacking error).
    """

    def __init__(self, dataset, sample_shape):
        self.dataset = dataset
        self.sample_shape = tuple(sample_shape)

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        item = sample_input(read_item(self.dataset, index), index)
        if tuple(item.shape) != self.sample_shape:
            raise ValueError(
                f"Item {index} of the Dataset passed as X holds an input of shape "
                f"{tuple(item.shape)}, but its first item's is {self.sample_shape}: "
                "every sample needs the same shape (resize or crop them in the "
                "Dataset's transform).")
        return item, index


def _checked_batch(samples):
    """torch's default collation of ``(input, index)`` items, then one check
    that the batch's inputs are finite (per batch: per item it would cost as
    much as reading small items); a NaN in training would otherwise surface
    only as a diverged loss, without the item."""
    inputs, indices = default_collate(samples)
    if inputs.is_floating_point():
        finite = torch.isfinite(inputs.reshape(len(inputs), -1)).all(dim=1)
        if not bool(finite.all()):
            raise ValueError(
                f"Item {int(indices[~finite][0])} of the Dataset passed as X holds NaN or "
                "infinite values; every input must be finite.")
    return inputs, indices


class LazyFeatures:
    """The inputs of a map-style Dataset, loaded on demand.

    It offers the part of the tensor interface the methods use on their
    training features (``len``, ``shape``, ``dim()``, ``device``, ``dtype``
    and ``split(batch_size)`` for an in-order pass), so an evaluation pass
    is the same code for both kinds of data.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        The caller's Dataset; items are inputs or ``(input, label)`` pairs.
    sample_shape : tuple of int
    dtype : torch.dtype
        Inputs are converted to it on the device.
    device : torch.device
    train_loader_params, eval_loader_params : dict
        Keyword arguments of the ``DataLoader`` for training batches and for
        in-order passes.
    seed : int
        Seeds the loader's worker processes.
    persistent : bool
        Keep one training and one in-order loader, and their worker
        processes, for every pass until :meth:`close` (a fit's passes);
        otherwise every pass starts its own workers.
    """

    def __init__(self, dataset, sample_shape, dtype, device,
                 train_loader_params=None, eval_loader_params=None, seed=0,
                 persistent=False):
        self.dataset = dataset
        self.shape = (len(dataset), *sample_shape)
        self.dtype = dtype
        self.device = torch.device(device)
        self.train_loader_params = loader_params(train_loader_params, self.device)
        self.eval_loader_params = loader_params(eval_loader_params, self.device)
        self.seed = seed
        self.persistent = persistent
        self._n_loads = 0
        self._loaders = {}
        self._busy = set()

    def __len__(self):
        return self.shape[0]

    def dim(self):
        return len(self.shape)

    def load(self, batch_indices, training=False):
        """Yield ``(inputs, indices)`` on the device for each index batch.

        Parameters
        ----------
        batch_indices : list of torch.Tensor of int64
            The samples of each batch, in the order the batches are wanted.
        training : bool
            Use the training loader's parameters.
        """
        plan = [indices.tolist() for indices in batch_indices]
        # A pass that starts while another of its kind is still being read
        # (two passes zipped together) cannot share that loader's workers.
        kind = "train" if training else "eval"
        shared = self.persistent and kind not in self._busy
        loader = self._loader(kind, persistent=shared)
        loader.batch_sampler.batches = plan
        if shared:
            self._busy.add(kind)
        try:
            for inputs, indices in loader:
                inputs = inputs.to(self.device, non_blocking=True)
                if inputs.dtype != self.dtype:
                    inputs = inputs.to(self.dtype)
                yield inputs, indices.to(self.device, non_blocking=True)
        finally:
            if shared:
                self._busy.discard(kind)

    def _loader(self, kind, persistent):
        if persistent and kind in self._loaders:
            return self._loaders[kind]
        params = self.train_loader_params if kind == "train" else self.eval_loader_params
        # Workers are seeded from this generator: a new seed for every new
        # loader, so random transforms in the Dataset differ from epoch to
        # epoch (kept workers continue their streams), and the same
        # sequence of seeds in every fit with the same seed.
        self._n_loads += 1
        keep = persistent and params.get("num_workers", 0) > 0
        loader = DataLoader(
            _IndexedInputs(self.dataset, self.shape[1:]),
            batch_sampler=_BatchPlan(),
            generator=torch.Generator().manual_seed(self.seed + self._n_loads),
            collate_fn=_checked_batch,
            **{"persistent_workers": keep, **params},
        )
        if persistent:
            self._loaders[kind] = loader
        return loader

    def close(self):
        """Stop the worker processes of the kept loaders.

        A DataLoader stops its workers when it is deleted; these are its
        only references.
        """
        self._loaders.clear()

    def split(self, batch_size):
        """The inputs in order, ``batch_size`` samples at a time."""
        return self[:].split(batch_size)

    def __getitem__(self, rows):
        """The samples of the slice ``rows``, for an in-order pass over them."""
        start, stop, step = rows.indices(len(self))
        if step != 1:
            raise ValueError("only contiguous rows of a Dataset can be taken")
        return _LazyRows(self, start, stop)

    def take(self, indices):
        """The inputs at ``indices`` as one tensor on the device."""
        return torch.cat([inputs for inputs, _ in self.load(indices.split(4096))])


class _LazyRows:
    """Contiguous rows of a :class:`LazyFeatures`, for an in-order pass."""

    def __init__(self, features, start, stop):
        self.features, self.start, self.stop = features, start, stop

    def __len__(self):
        return self.stop - self.start

    def split(self, batch_size):
        batches = torch.arange(self.start, self.stop).split(batch_size)
        for inputs, _ in self.features.load(batches):
            yield inputs


class _BatchPlan:
    """A DataLoader's ``batch_sampler`` whose batches are set before each pass."""

    def __init__(self):
        self.batches = []

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


def loader_params(params, device):
    """DataLoader keyword arguments: the routed ones, checked, plus defaults."""
    params = dict(params or {})
    reserved = sorted(set(params) & set(_RESERVED_LOADER_ARGS))
    if reserved:
        raise ValueError(
            f"DataLoader argument(s) {reserved} cannot be routed to the estimator's "
            "loaders: the estimator draws the batches itself (batch_size is the "
            "estimator's parameter).")
    workers = params.get("num_workers", 0)
    if not isinstance(workers, numbers.Integral) or workers < 0:
        raise ValueError(f"num_workers must be a non-negative int; got {workers!r}.")
    # Pinned host memory is what makes the copy to a GPU asynchronous.
    params.setdefault("pin_memory", device.type == "cuda")
    return params
