"""One fit across several processes: data parallelism on ``torch.distributed``.

When a process group is initialised (``init_process_group`` in a script
that ``torchrun`` starts once per device), every process ("rank") holds the
whole data set and the same network, and a fit is one computation spread
over the ranks:

* every rank draws the same global permutation and the same global batches;
  each trains on its share of every batch (contiguous, sizes differing by
  at most one sample), keeping the samples' global indices;
* after each backward pass the gradients are summed over the ranks, each
  weighted by its share of the batch, so that the step is the step of the
  whole batch;
* per-sample random draws (SLN's noise, augmentations, Flywheel's MixUp
  partners) are drawn for the whole batch on every rank and sliced, and
  per-sample updates (ConfusionEM's eta) are gathered, so every rank holds
  every sample's state;
* a loss over the whole batch (Flywheel's contrastive negatives) is computed
  by every rank on the gathered rows, its gradient flowing back to each
  rank's own rows;
* evaluation passes are split into one contiguous part per rank and
  gathered;
* BatchNorm layers become ``SyncBatchNorm`` where the device runs it (CUDA;
  see :mod:`._sync_batchnorm`), so that they normalise with the whole batch's
  statistics; elsewhere each
  rank normalises its share with the share's, and rank 0's running
  statistics are broadcast before evaluation passes.

So the fit equals a one-process fit, up to float rounding, whatever the
number of ranks; dropout is the exception (each rank draws its own masks),
and so is BatchNorm without ``SyncBatchNorm``.
The functions here (and :mod:`._sync_batchnorm`, for BatchNorm) are the
only place that talks to the process group.
"""

import contextlib
import contextvars
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    """The processes of a fit: this one's ``rank`` among ``size``."""

    rank: int = 0
    size: int = 1

    @property
    def parallel(self):
        return self.size > 1

    @property
    def leads(self):
        """Whether this process writes files and prints for all of them."""
        return self.rank == 0


def detect_world():
    """The initialised default process group as a :class:`World`, or one process."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


_CURRENT = contextvars.ContextVar("sklearn_noisy_world", default=World())


def current_world():
    """The :class:`World` of the fit running in this context (one process outside fits)."""
    return _CURRENT.get()


@contextlib.contextmanager
def fitting_in(world):
    """Make ``world`` the :func:`current_world` for the duration of a fit."""
    token = _CURRENT.set(world)
    try:
        yield world
    finally:
        _CURRENT.reset(token)


class Shard(NamedTuple):
    """This rank's rows ``start:stop`` of a global batch of ``total`` samples.

    ``batch`` holds the global batch's sample indices.
    """

    start: int
    stop: int
    total: int
    batch: torch.Tensor

    @property
    def share(self):
        return (self.stop - self.start) / self.total


def rows_of(n_samples, world):
    """This rank's contiguous part ``start, stop`` of ``range(n_samples)``.

    The parts of the ranks differ by at most one row, the longer ones first.
    """
    base, extra = divmod(n_samples, world.size)
    start = world.rank * base + min(world.rank, extra)
    return start, start + base + (world.rank < extra)


def shard_of(indices, world):
    """This rank's part of the global batch ``indices``, and where it lies in it."""
    start, stop = rows_of(len(indices), world)
    return indices[start:stop], Shard(start, stop, len(indices), indices)


def draw_rows(sampler, shape, inputs, generator, device, dtype=torch.float32):
    """``sampler`` (``torch.randn``, ``torch.rand``) rows for a training batch.

    ``shape`` is the shape of the whole batch's draws, rows first. On a
    shard of a global batch, the rows are drawn for the global batch and
    this rank's are returned, so the draws do not depend on the number of
    ranks.
    """
    shard = inputs.get("shard") if isinstance(inputs, dict) else None
    if shard is None:
        return sampler(shape, generator=generator, device=device, dtype=dtype)
    rows = sampler((shard.total, *shape[1:]), generator=generator, device=device,
                   dtype=dtype)
    return rows[shard.start:shard.stop]


def batch_share(inputs, shard):
    """This process's share of a batch's loss.

    Its share of the samples; or, when the batch has a ``sample_weight``
    field (a loss normalised by the weights' sum), its share of the weights.
    """
    weights = inputs.get("sample_weight")
    if weights is None:
        return shard.share
    local = weights.sum()
    return local / sum_over_ranks(local)


def sum_gradients(parameters, share):
    """Sum every rank's gradients, each weighted by its ``share`` of the batch.

    One all-reduce over all gradients, flattened into one buffer per dtype.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    _in_one_buffer(grads, lambda flat: dist.all_reduce(flat.mul_(share)))


def _in_one_buffer(tensors, collective):
    """Run ``collective`` in place on one flat buffer per device and dtype of
    ``tensors`` (one call instead of one per tensor), and copy the results back."""
    groups = {}
    for tensor in tensors:
        groups.setdefault((tensor.device, tensor.dtype), []).append(tensor)
    with torch.no_grad():
        for group in groups.values():
            flat = torch.cat([tensor.reshape(-1) for tensor in group])
            collective(flat)
            offset = 0
            for tensor in group:
                tensor.copy_(flat[offset:offset + tensor.numel()].view_as(tensor))
                offset += tensor.numel()


def sum_over_ranks(tensor):
    """The element-wise sum of ``tensor`` over the ranks, on every rank."""
    tensor = tensor.clone()
    dist.all_reduce(tensor)
    return tensor


def gather_rows(*tensors):
    """Every rank's rows of each tensor, concatenated in rank order, on every rank.

    The ranks may hold different numbers of rows (the same on each tensor).
    """
    sizes = _row_counts(tensors[0])
    gathered = [_gather(tensor, sizes) for tensor in tensors]
    return gathered[0] if len(gathered) == 1 else tuple(gathered)


def _row_counts(tensor):
    """The number of rows of ``tensor`` on each rank."""
    n_rows = torch.tensor([len(tensor)], device=tensor.device)
    sizes = [torch.zeros_like(n_rows) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, n_rows)
    return [int(size) for size in torch.cat(sizes).tolist()]


def _gather(tensor, sizes):
    padded = tensor.new_zeros((max(sizes), *tensor.shape[1:]))
    padded[:len(tensor)] = tensor
    parts = [torch.empty_like(padded) for _ in sizes]
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([part[:size] for part, size in zip(parts, sizes)])


def gather_rows_with_grad(tensor, share):
    """:func:`gather_rows` of one tensor, for a loss on the whole batch.

    For a loss that every rank computes alike from the gathered rows (such
    as a contrastive loss whose negatives span the batch): each rank's copy
    of the loss holds the whole gradient on that rank's rows, which the
    backward pass passes on divided by the rank's ``share`` of the batch, so
    that the share-weighted sum of the ranks' gradients is the gradient of
    the loss, as in one process.
    """
    return _GatherRows.apply(tensor, share)


class _GatherRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor, share):
        sizes = _row_counts(tensor)
        ctx.start = sum(sizes[:dist.get_rank()])
        ctx.stop = ctx.start + len(tensor)
        ctx.share = share
        return _gather(tensor.detach(), sizes)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.start:ctx.stop] / ctx.share, None


def broadcast_buffers(module):
    """Overwrite ``module``'s buffers (BatchNorm's statistics) in place with
    the first process's."""
    _in_one_buffer(list(module.buffers()), lambda flat: dist.broadcast(flat, src=0))


def unwrapped(network):
    """``network`` without its ``DistributedDataParallel`` wrapper, if it has one."""
    if isinstance(network, torch.nn.parallel.DistributedDataParallel):
        return network.module
    return network


def broadcast_seed(seed):
    """Rank 0's ``seed`` on every rank (``random_state=None`` draws one per rank)."""
    box = [seed]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier():
    dist.barrier()
