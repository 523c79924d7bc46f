"""BatchNorm over the whole batch of a fit spread over several processes.

torch's ``SyncBatchNorm`` normalises each process's share of a batch with
the statistics of the whole batch. Its backward pass sums the processes'
gradients through those statistics as they come, which is right when every
process's loss carries the same weight. Here each process's loss is its
share's mean, and the fit weighs the process's gradients by its share of
the batch afterwards (see :func:`._distributed.sum_gradients`): shares that
differ (a batch the processes cannot split evenly, or class weights) would
then weigh the processes' rows unequally in those terms. The layer here
takes the share into account, so that the step is the one-process step.
"""

import contextlib
import contextvars

import torch
import torch.distributed as dist
from torch.nn.modules._functions import SyncBatchNorm as _SyncBatchNormFunction

_LOSS_SHARE = contextvars.ContextVar("sklearn_noisy_loss_share", default=None)


@contextlib.contextmanager
def weighed_by(share):
    """Training passes in this context are of a batch of which this process's
    loss is ``share`` (None: not a share of a batch spread over processes)."""
    token = _LOSS_SHARE.set(share)
    try:
        yield
    finally:
        _LOSS_SHARE.reset(token)


def syncs_batchnorm(device):
    """Whether torch's ``SyncBatchNorm`` trains on ``device`` (its own list of types)."""
    types = ("cuda", "hpu", "xpu", torch._C._get_privateuse1_backend_name())
    return torch.device(device).type in types


def synchronised_batchnorm(network, device):
    """``network`` with :class:`ShareWeightedSyncBatchNorm` in place of its
    BatchNorm layers, where ``device`` runs torch's ``SyncBatchNorm`` (CUDA,
    XPU, HPU); else ``network`` unchanged.

    The layers keep the BatchNorm's parameters, buffers and state-dict keys,
    and outside a process group, or in evaluation mode, compute what
    BatchNorm computes.
    """
    if not syncs_batchnorm(device):
        return network
    return share_weighted(torch.nn.SyncBatchNorm.convert_sync_batchnorm(network))


def share_weighted(network):
    """Make ``network``'s ``SyncBatchNorm`` layers :class:`ShareWeightedSyncBatchNorm`
    in place (the same parameters, buffers and state-dict keys); return it."""
    for layer in network.modules():
        if type(layer) is torch.nn.SyncBatchNorm:
            layer.__class__ = ShareWeightedSyncBatchNorm
    return network


class ShareWeightedSyncBatchNorm(torch.nn.SyncBatchNorm):
    """torch's ``SyncBatchNorm``, whose gradient through the batch statistics
    weighs each process by its share of the batch's loss.

    In a training pass inside :func:`weighed_by` (the fit's own steps) on a
    process group of several processes, the upstream gradient is multiplied
    by the process's share before torch's backward sums it over the
    processes, and the gradients it returns are divided by the share again,
    since the fit multiplies them by it when it sums the processes'
    gradients. Everywhere else it is torch's layer.
    """

    def forward(self, input):
        share = _LOSS_SHARE.get()
        if (share is None or not self.training or not dist.is_initialized()
                or not syncs_batchnorm(input.device)):
            # (torch's layer, which refuses a device it cannot synchronise on)
            return super().forward(input)
        group = self.process_group or dist.group.WORLD
        world_size = dist.get_world_size(group)
        if world_size == 1:
            return super().forward(input)
        # torch's SyncBatchNorm.forward in training mode, with the function
        # below in place of torch's
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        running_mean = self.running_mean if self.track_running_stats else None
        running_var = self.running_var if self.track_running_stats else None
        return _ShareWeightedFunction.apply(input, self.weight, self.bias, running_mean,
                                            running_var, self.eps, factor, group, world_size,
                                            share)


class _ShareWeightedFunction(torch.autograd.Function):
    """torch's SyncBatchNorm function, its backward scaled by this process's share.

    The upstream gradient is this process's share's mean loss's; times the
    share, it is its part of the whole batch's loss, which torch's backward
    can sum over the processes. What it returns is then the share times
    what the fit expects of this process, and is divided by the share.
    """

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, eps, momentum,
                process_group, world_size, share):
        ctx.share = share
        return _SyncBatchNormFunction.forward(ctx, input, weight, bias, running_mean,
                                              running_var, eps, momentum, process_group,
                                              world_size)

    @staticmethod
    def backward(ctx, grad_output):
        grads = _SyncBatchNormFunction.backward(ctx, grad_output * ctx.share)
        scaled = [None if grad is None else grad / ctx.share for grad in grads[:3]]
        return (*scaled, *grads[3:], None)
