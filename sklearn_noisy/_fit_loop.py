"""skorch's training loop with the per-batch overhead taken out.

For the small networks of tabular data, Python overhead per batch is a
measurable share of a fit. :class:`FastFitLoop` keeps skorch's loop, its
notifications and its history records, and changes only how a batch is
run: no optimizer closure, no notification of per-batch hooks that no
callback implements, no inspection of the batch type, no ``train()`` walk
over the submodules when the mode does not change, and no host
synchronisation per batch on a GPU: the batch losses stay on the device
until the end of the epoch unless a callback reads them per batch. It also
steps the optimizer through the float16 loss scaling and stops at a
non-finite loss.
"""

import contextlib
import math

import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EpochScoring, LRScheduler, PrintLog
from torch.optim.lr_scheduler import ReduceLROnPlateau
from skorch.utils import TeeGenerator

from ._distributed import (
    batch_share,
    broadcast_buffers,
    current_world,
    gather_rows,
    rows_of,
    sum_gradients,
    sum_over_ranks,
)
from ._history import BatchHistory
from ._sync_batchnorm import weighed_by
from ._precision import LossScaling

_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_grad_computed")


class NonFiniteLoss(Exception):
    """Raised inside an epoch when the training loss is NaN or infinite."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


def unimplemented_batch_hooks(callbacks):
    """The per-batch hooks that none of the ``(name, callback)`` pairs implements.

    Notifying them is a loop of no-op calls per batch: only the net's own
    method needs to run.
    """
    return frozenset(
        hook for hook in _BATCH_HOOKS
        if all(getattr(type(callback), hook) is getattr(Callback, hook)
               for _, callback in callbacks)
    )


def reads_batch_losses(callback):
    """Whether ``callback`` may read a batch's loss in ``on_batch_end``.

    skorch's ``EpochScoring`` collects predictions, its ``LRScheduler``
    reads the history only for ``ReduceLROnPlateau`` stepped every batch,
    and callbacks that set ``reads_batch_losses = False`` (the methods'
    own) say they do not read it; any other ``on_batch_end`` might.
    """
    hook = type(callback).on_batch_end
    if hook is Callback.on_batch_end or hook is EpochScoring.on_batch_end:
        return False
    if hook is LRScheduler.on_batch_end:
        policy = callback.policy
        plateau = policy == "ReduceLROnPlateau" or (
            isinstance(policy, type) and issubclass(policy, ReduceLROnPlateau))
        return plateau and callback.step_every == "batch"
    return getattr(callback, "reads_batch_losses", True)


def _no_closure():
    return None


class FastFitLoop(NeuralNetClassifier):
    """A skorch classifier whose batches are ``(inputs, y)`` device tensors.

    Subclasses need a ``precision`` parameter (see :mod:`._precision`).

    Attributes
    ----------
    loss_scaler_ : LossScaling
        Built with the optimizer; scales the loss under float16.
    silent_batch_hooks_ : frozenset of str
        Per-batch hooks no callback implements, decided with the callbacks.
    batch_losses_on_host_ : bool
        Whether a callback reads each batch's loss as it ends; else the
        losses reach the host once per epoch.
    """

    def _device(self):
        """The device of the data and the networks.

        ``device=None`` (skorch's "leave the placement to someone else",
        which its ``AccelerateMixin`` asks for) is the accelerator's device,
        or the CPU.
        """
        if self.device is None:
            return torch.device(getattr(getattr(self, "accelerator", None), "device", "cpu"))
        return self.device

    def initialize_callbacks(self):
        """skorch's callbacks, and which per-batch hooks they leave silent.

        In a fit over several processes only the first prints its log.
        """
        super().initialize_callbacks()
        if not current_world().leads:
            self.callbacks_ = [(name, callback) for name, callback in self.callbacks_
                               if not isinstance(callback, PrintLog)]
        self._plan_batch_hooks()
        return self

    def _plan_batch_hooks(self):
        """Decide, for the current ``callbacks_``, what each batch must notify
        and whether its loss must reach the host at once."""
        self.silent_batch_hooks_ = unimplemented_batch_hooks(self.callbacks_)
        self.batch_losses_on_host_ = any(
            reads_batch_losses(callback) for _, callback in self.callbacks_)

    def initialize_optimizer(self, *args, **kwargs):
        """skorch's optimizer, and the loss scaler of its steps."""
        super().initialize_optimizer(*args, **kwargs)
        self.loss_scaler_ = LossScaling(self.precision, self._device())
        return self

    def initialize_history(self):
        """Start an empty :class:`~sklearn_noisy._history.BatchHistory`."""
        self.history_ = BatchHistory()
        return self

    def notify(self, method_name, **cb_kwargs):
        """skorch's ``notify``; per-batch hooks no callback implements reach
        only the net's own method (which records the batch in the history)."""
        if method_name in getattr(self, "silent_batch_hooks_", ()):
            getattr(self, method_name)(self, **cb_kwargs)
            return
        super().notify(method_name, **cb_kwargs)

    def _set_training(self, training=True):
        # skorch calls this before every batch; module.train() walks all
        # submodules, so only switch when the mode actually changes.
        for name in self._modules + self._criteria:
            component = getattr(self, name + "_")
            if isinstance(component, torch.nn.Module) and component.training != training:
                component.train(training)

    def train_step_single(self, batch, **fit_params):
        """Forward, loss and backward for one batch of device tensors."""
        self._set_training(True)
        inputs, y = batch
        y_pred = self.infer(inputs)
        loss = self.get_loss(y_pred, y, X=inputs, training=True)
        self.loss_scaler_.backward(loss)
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        """One optimisation step: skorch's, without the optimizer closure.

        skorch passes a closure to ``optimizer.step`` for the sake of LBFGS,
        which is refused here; building it every batch is measurable on
        small networks.
        """
        self._zero_grad_optimizer()
        shard = batch[0].get("shard")
        share = None if shard is None else batch_share(batch[0], shard)
        with self.gradients_kept_local(share):
            step = self.train_step_single(batch, **fit_params)
        # Callbacks that read or clip gradients see them at their true scale,
        # and, in a fit over several processes, those of the whole batch. The
        # sum comes first: float16's overflow check then sees every process's
        # gradients, so all skip a step or none does.
        if shard is not None:
            sum_gradients([p for _, p in self.get_all_learnable_params()], share)
        self.loss_scaler_.unscale(self.optimizer_)
        if "on_grad_computed" not in self.silent_batch_hooks_ or (
                type(self).on_grad_computed is not NeuralNetClassifier.on_grad_computed):
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        # The gradients are computed: there is no closure to run, but
        # AccelerateMixin's _step_optimizer calls the one it is given.
        self._step_optimizer(_no_closure)
        return step

    def gradients_kept_local(self, share=None):
        """The context of a training step's forward and backward passes in a
        fit over several processes, which sums the gradients itself, each
        process's weighted by its ``share`` of the batch.

        In it, a network's data-parallel wrapper does not average the
        gradients (skorch's ``AccelerateMixin`` wraps the networks in
        ``DistributedDataParallel``), and ``SyncBatchNorm`` layers weigh
        each process's gradient through the batch statistics by its
        share. A method that trains a network in a loop of its own runs
        each forward and backward pass in this context.

        Parameters
        ----------
        share : float, torch.Tensor or None
            This process's share of the batch's loss, by which its gradients
            are weighted when summed (``inputs["shard"].share`` for a mean over
            the batch's samples); None outside a fit over several processes.

        Returns
        -------
        contextlib.ExitStack
            A context manager.
        """
        stack = contextlib.ExitStack()
        if share is not None:
            stack.enter_context(weighed_by(share))
        for name in self._modules + self._criteria:
            network = getattr(self, name + "_", None)
            if isinstance(network, torch.nn.parallel.DistributedDataParallel):
                stack.enter_context(network.no_sync())
        return stack

    def validation_step(self, batch, **fit_params):
        """skorch's validation step; in a fit spread over several processes
        each process scores its share of the batch, and the predictions are
        gathered, so that the loss and the scoring callbacks see the whole
        batch on every process.

        A batch of fewer rows than processes is scored whole by every
        process: no process is handed an empty share (a network that
        reshapes by the batch's length fails on none, and only on some
        processes, which would leave the others waiting). The history's
        ``valid_rows_scored`` counts the rows this process scored.
        """
        world = current_world()
        if not world.parallel:
            return super().validation_step(batch, **fit_params)
        self._set_training(False)
        inputs, y = batch
        with torch.no_grad():
            if len(y) < world.size:
                y_pred = self.infer(inputs, **fit_params)
                scored = len(y)
            else:
                start, stop = rows_of(len(y), world)
                own_rows = {name: values[start:stop] if _per_row(values, len(y)) else values
                            for name, values in inputs.items()}
                y_pred = gather_rows(self.infer(own_rows, **fit_params))
                scored = stop - start
            loss = self.get_loss(y_pred, y, X=inputs, training=False)
        self.history_.record_batch("valid_rows_scored", scored)
        return {"loss": loss, "y_pred": y_pred}

    def _share_buffers(self):
        """Give every process the first process's network buffers.

        In a fit spread over several processes on a device without
        ``SyncBatchNorm`` (CPU processes), each process's BatchNorm
        statistics come from its own shares of the batches; validation
        passes and the end of every stage use the first process's. (With
        ``SyncBatchNorm`` they are the same everywhere already.)
        """
        if not current_world().parallel:
            return
        for name in self._modules:
            module = getattr(self, name + "_", None)
            if isinstance(module, torch.nn.Module):
                broadcast_buffers(module)

    def _step_optimizer(self, step_fn):
        # The network's optimizer steps through the float16 loss scaling;
        # any other registered optimizer has its own training loop.
        for name in self._optimizers:
            optimizer = getattr(self, name + "_")
            if optimizer is self.optimizer_:
                self.loss_scaler_.step(optimizer)
            else:
                optimizer.step()
        self.loss_scaler_.update()

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch, for batches that are always ``(inputs, y)``.

        Same notifications and history records as skorch's; it skips
        ``skorch.dataset.get_len``, which inspects the batch type every
        batch, keeps the batch losses on the device until the epoch ends
        (unless ``batch_losses_on_host_``), and raises
        :class:`NonFiniteLoss` at a non-finite training loss.
        """
        if iterator is None:
            return
        on_host = getattr(self, "batch_losses_on_host_", True)
        records = list.__getitem__(self.history_, -1)["batches"]
        first = len(records)
        if not training:
            self._share_buffers()
        try:
            for batch in iterator:
                self.notify("on_batch_begin", batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                loss = step["loss"].detach()
                if self.compile:
                    # Under CUDA graphs (compile__mode="reduce-overhead") the
                    # next step reuses the memory of this step's outputs,
                    # which callbacks may keep until the epoch ends (skorch's
                    # scoring caches the predictions).
                    loss = loss.clone()
                    if "y_pred" in step:
                        step = {**step, "y_pred": _detached_copy(step["y_pred"])}
                shard = batch[0].get("shard") if training else None
                if shard is not None:
                    # The history holds the loss of the whole batch.
                    loss = sum_over_ranks(loss * batch_share(batch[0], shard))
                if on_host:
                    loss = loss.item()
                    if training and not math.isfinite(loss):
                        raise NonFiniteLoss(loss)
                self.history_.record_batch(prefix + "_loss", loss)
                # A process of a parallel fit records its share of a training
                # batch and the whole batch's size (by which EpochLoss weighs
                # it). A validation batch's loss and predictions are the whole
                # batch's on every process, so are its size and every score.
                self.history_.record_batch(prefix + "_batch_size", len(batch[1]))
                if shard is not None:
                    self.history_.record_batch(prefix + "_total_batch_size", shard.total)
                self.notify("on_batch_end", batch=batch, training=training, **step)
        finally:
            # Also when interrupted: the history holds numbers, never tensors.
            losses = losses_to_host(records[first:], prefix + "_loss")
        if training:
            for loss in losses:
                if not math.isfinite(loss):
                    raise NonFiniteLoss(loss)
        self.history_.record(prefix + "_batch_count", len(records) - first)


def _per_row(values, n_rows):
    """Whether a batch entry holds one row per sample (so a share slices it)."""
    return isinstance(values, torch.Tensor) and values.dim() > 0 and len(values) == n_rows


def _detached_copy(y_pred):
    """A copy of a step's predictions (a tensor, or a tuple, list or dict of them)."""
    if isinstance(y_pred, torch.Tensor):
        return y_pred.detach().clone()
    if isinstance(y_pred, tuple) and hasattr(y_pred, "_fields"):
        return type(y_pred)(*(_detached_copy(part) for part in y_pred))
    if isinstance(y_pred, (tuple, list)):
        return type(y_pred)(_detached_copy(part) for part in y_pred)
    if isinstance(y_pred, dict):
        return {name: _detached_copy(part) for name, part in y_pred.items()}
    return y_pred


def losses_to_host(records, key):
    """Replace the device losses under ``key`` in ``records`` by floats, with
    one synchronisation; return all the losses as floats."""
    pending = [i for i, record in enumerate(records)
               if isinstance(record.get(key), torch.Tensor)]
    if pending:
        values = torch.stack([records[i][key] for i in pending]).float().tolist()
        for i, value in zip(pending, values):
            records[i][key] = value
    return [record[key] for record in records if key in record]
