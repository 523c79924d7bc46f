"""Fits run by every process of ``torchrun`` for tests/test_distributed.py.

    torchrun --standalone --nproc_per_node 2 tests/distributed_fits.py OUTPUT_DIR [cuda]

Each process joins a gloo process group, fits every configuration of
:data:`CONFIGS` on the same data and writes what it fitted to
``OUTPUT_DIR/<config>-rank<rank>.npz``. Negative controls break the
synchronisation on purpose (SyncBatchNorm without weighing the processes by
their shares, ConfusionEM's eta without gathering, SLN's noise drawn per
process, Flywheel's contrastive negatives from each process's share only), so
the test can show that its comparison catches them.
"""

import contextlib
import functools
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from sklearn.datasets import make_classification
from skorch.callbacks import Callback, EarlyStopping
from torch.utils.data import TensorDataset

from sklearn_noisy import (
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    SEALClassifier,
    SLNClassifier,
)
from sklearn_noisy._sync_batchnorm import ShareWeightedSyncBatchNorm
from sklearn_noisy.augmentations import GaussianJitter

#: name -> (estimator class, parameters); every fit also gets COMMON.
CONFIGS = {
    "ce": (CrossEntropyClassifier, {}),
    "seal": (SEALClassifier, {"n_iterations": 1}),
    "sln": (SLNClassifier, {"correction_epoch": 3}),
    "sln-no-momentum": (SLNClassifier, {"correction_epoch": 3, "ema_decay": None}),
    "sln-outputs": (SLNClassifier, {"noise_on": "outputs", "ema_decay": None}),
    "confusion-em-batch": (ConfusionEMClassifier, {"eta_start_epoch": 1}),
    "confusion-em-epoch": (ConfusionEMClassifier, {
        "eta_update": "epoch", "eta_start_epoch": 1, "eta_update_every": 1}),
    "confusion-em-weighted": (ConfusionEMClassifier, {
        "eta_start_epoch": 1, "class_weight": "balanced"}),
    "ce-augmented": (CrossEntropyClassifier, {"augmentation": GaussianJitter(0.5)}),
    "flywheel": (FlywheelClassifier, {"warmup_epochs": 2}),
    "flywheel-weak-main": (FlywheelClassifier, {"warmup_epochs": 2,
                                                "main_augmentation": "weak"}),
    "seal-validation": (SEALClassifier, {
        "n_iterations": 1, "train_split": 0.2,
        "callbacks": [("stop", EarlyStopping(monitor="valid_acc", lower_is_better=False,
                                             patience=2))]}),
}


def batchnorm_network(n_features, n_classes):
    # No bias before the BatchNorm, as in the papers' networks: its gradient
    # is zero up to float rounding, which Adam scales up to full steps, so
    # the bias, and the running means, would follow the rounding.
    return torch.nn.Sequential(
        torch.nn.Linear(n_features, 16, bias=False), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
        torch.nn.Linear(16, n_classes))


#: with BatchNorm, a fit on CPU processes depends on their number (each
#: process's statistics come from its share of a batch); with SyncBatchNorm
#: (``synchronised-<config>``) it is the one-process fit: when the batches
#: split evenly (``train_split=0.2`` leaves 120 samples: 32, 32, 32, 24),
#: and when the last batch does not (151 samples: a last batch of 23) or
#: class weights make the shares of the loss differ.
BATCHNORM_CONFIGS = {
    "ce-batchnorm-uneven": (CrossEntropyClassifier, {"module": batchnorm_network}),
    "confusion-em-batchnorm-weighted": (ConfusionEMClassifier, {
        "module": batchnorm_network, "eta_start_epoch": 1, "class_weight": "balanced"}),
    "ce-batchnorm": (CrossEntropyClassifier, {"module": batchnorm_network,
                                              "train_split": 0.2}),
    "sln-batchnorm": (SLNClassifier, {"module": batchnorm_network, "train_split": 0.2,
                                      "correction_epoch": 3}),
    "flywheel-batchnorm": (FlywheelClassifier, {"module": batchnorm_network,
                                                "train_split": 0.2, "warmup_epochs": 2}),
    "flywheel-batchnorm-uneven": (FlywheelClassifier, {"module": batchnorm_network,
                                                       "warmup_epochs": 2}),
}
#: name -> (estimator class, parameters): BatchNorm1d fits on CPU processes
#: whose training batches would leave a process one sample (151 samples in
#: batches of 37 end with one of 3, shared 2 + 1): refused before training,
#: f's batches by the core, and g's, which keep that last batch, by Flywheel
REFUSED_CONFIGS = {
    "ce-batchnorm-small-last-batch": (CrossEntropyClassifier, {
        "module": batchnorm_network, "batch_size": 37}),
    "flywheel-batchnorm-small-last-batch": (FlywheelClassifier, {
        "module": batchnorm_network, "batch_size": 37, "warmup_epochs": 1,
        "iterator_train__drop_last": True}),
}
#: (control, configuration): a synchronisation undone on purpose (each stays
#: undone for the controls after it)
NEGATIVE_CONTROLS = [("batchnorm-unweighted", "confusion-em-batchnorm-weighted"),
                     ("eta-not-gathered", "confusion-em-batch"),
                     ("noise-per-process", "sln-no-momentum"),
                     ("negatives-per-process", "flywheel")]
#: fitted on the data as a Dataset, compared with the fit of the arrays
DATASET_CONFIGS = ("ce", "ce-augmented", "flywheel")
COMMON = {"max_epochs": 5, "batch_size": 32, "random_state": 0}
# 151 samples: batches of 32 end with one of 23, which two processes share
# 12 + 11 (shares that differ by one sample).
N_SAMPLES = 151


def data():
    X, y = make_classification(n_samples=N_SAMPLES, n_features=8, n_informative=5,
                               n_classes=3, weights=[0.5, 0.3, 0.2], random_state=0)
    return X.astype(np.float32), y


def fitted_arrays(clf, X):
    """What the tests compare: predictions, noise scores and per-sample state."""
    # (before predicting, which gives every process the first one's buffers)
    buffers = [buffer.cpu().numpy().ravel().copy() for buffer in clf.module_.buffers()]
    arrays = {
        "proba": clf.predict_proba(X),
        "noise_scores": clf.noise_scores_,
        "corrected_labels": clf.corrected_labels_,
        "batch_sizes": np.array([sum(batch.get("train_batch_size", 0)
                                     for batch in epoch["batches"])
                                 for _, history in clf.stage_histories_
                                 for epoch in history]),
        "train_loss": np.array([epoch["train_loss"] for _, history in clf.stage_histories_
                                for epoch in history]),
    }
    if buffers:
        arrays["buffers"] = np.concatenate(buffers)
    epochs = [epoch for _, history in clf.stage_histories_ for epoch in history]
    if "valid_loss" in epochs[0]:
        # the whole validation part's loss and accuracy; the rows this
        # process scored of it
        arrays["valid_loss"] = np.array([epoch["valid_loss"] for epoch in epochs])
        arrays["valid_acc"] = np.array([epoch["valid_acc"] for epoch in epochs])
        arrays["valid_batch_sizes"] = np.array([
            sum(batch.get("valid_batch_size", 0) for batch in epoch["batches"])
            for epoch in epochs])
        arrays["valid_rows_scored"] = np.array([
            sum(batch.get("valid_rows_scored", 0) for batch in epoch["batches"])
            for epoch in epochs])
    for name in ("soft_labels_", "eta_", "posterior_", "clean_proba_", "transition_matrix_"):
        if hasattr(clf, name):
            arrays[name.rstrip("_")] = getattr(clf, name)
    return arrays


class BufferTrace(Callback):
    """The sum of the network's buffers as every validation batch begins:
    the same on every process only if the processes were given the first
    one's BatchNorm statistics before the validation pass."""

    def __init__(self):
        self.sums = []

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if not training:
            self.sums.append(
                sum(float(buffer.double().sum()) for buffer in net.module_.buffers()))


def break_synchronisation(control):
    """The negative controls: undo one synchronisation of a parallel fit."""
    if control == "batchnorm-unweighted":
        import sklearn_noisy._sync_batchnorm as sync_batchnorm
        sync_batchnorm.share_weighted = lambda network: network
    elif control == "eta-not-gathered":
        import sklearn_noisy.confusion_em as confusion_em
        confusion_em.gather_rows = lambda *tensors: tensors
    elif control == "negatives-per-process":
        import sklearn_noisy.flywheel as flywheel
        flywheel.gather_rows_with_grad = lambda tensor, share: tensor
    elif control == "noise-per-process":
        import sklearn_noisy.sln as sln

        def per_process(sampler, shape, inputs, generator, device, dtype=torch.float32):
            shard = inputs.get("shard")
            rows = shape[0] if shard is None else shard.stop - shard.start
            return sampler((rows, *shape[1:]), generator=generator, device=device,
                           dtype=dtype)

        sln.draw_rows = per_process


@contextlib.contextmanager
def batchnorm_synchronised_on_cpu():
    """Run torch's SyncBatchNorm on CPU processes, as it runs on GPUs.

    torch refuses it on the CPU and has no CPU kernels for its statistics;
    these are those kernels in plain tensor operations, and "cpu" passes
    the device checks (torch's, the package's, which asks the same, and
    DistributedDataParallel's, for AccelerateMixin).
    """
    ddp = torch.nn.parallel.DistributedDataParallel
    def per_channel(tensor, like):
        return tensor.view(1, -1, *[1] * (like.dim() - 2))

    def dims(tensor):
        return [d for d in range(tensor.dim()) if d != 1]

    def stats(input, eps):
        mean = input.mean(dims(input))
        var = (input - per_channel(mean, input)).pow(2).mean(dims(input))
        return mean, (var + eps).rsqrt()

    def gather_stats(input, mean_all, invstd_all, running_mean, running_var, momentum,
                     eps, counts):
        weights = counts[:, None] / counts.sum()
        mean = (weights * mean_all).sum(0)
        var_all = invstd_all.pow(-2) - eps
        var = (weights * (var_all + (mean_all - mean).pow(2))).sum(0)
        if running_mean is not None:
            total = counts.sum()
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * total / (total - 1))
        return mean, (var + eps).rsqrt()

    def elemt(input, weight, bias, mean, invstd, eps):
        out = (input - per_channel(mean, input)) * per_channel(invstd, input)
        if weight is not None:
            out = out * per_channel(weight, input) + per_channel(bias, input)
        return out

    def backward_reduce(grad, input, mean, invstd, weight, input_g, weight_g, bias_g):
        centred = input - per_channel(mean, input)
        sum_dy = grad.sum(dims(grad))
        sum_dy_xmu = (grad * centred).sum(dims(grad))
        return sum_dy, sum_dy_xmu, sum_dy_xmu * invstd, sum_dy

    def backward_elemt(grad, input, mean, invstd, weight, sum_dy, sum_dy_xmu, count):
        total = count.sum().to(grad.dtype)
        centred = input - per_channel(mean, input)
        scale = invstd if weight is None else invstd * weight
        return (grad - per_channel(sum_dy / total, grad)
                - centred * per_channel(invstd.pow(2) * sum_dy_xmu / total, grad)
                ) * per_channel(scale, grad)

    kernels = {"batch_norm_stats": stats,
               "batch_norm_gather_stats_with_counts": gather_stats,
               "batch_norm_elemt": elemt,
               "batch_norm_backward_reduce": backward_reduce,
               "batch_norm_backward_elemt": backward_elemt}
    saved = {name: getattr(torch, name) for name in kernels}
    backend_name = torch._C._get_privateuse1_backend_name
    ddp_check = ddp._passing_sync_batchnorm_handle
    for name, kernel in kernels.items():
        setattr(torch, name, kernel)
    torch._C._get_privateuse1_backend_name = lambda: "cpu"
    ddp._passing_sync_batchnorm_handle = lambda self, module: None
    try:
        yield
    finally:
        for name, kernel in saved.items():
            setattr(torch, name, kernel)
        torch._C._get_privateuse1_backend_name = backend_name
        ddp._passing_sync_batchnorm_handle = ddp_check


def resumed_seal(make, checkpoints, X, y):
    """SEAL with a checkpoint: one iteration, then a longer fit resumed from it
    (``make(**params)`` builds the estimator)."""
    make(n_iterations=1, checkpoint_dir=checkpoints).fit(X, y)
    return make(n_iterations=2, checkpoint_dir=checkpoints).fit(X, y)


def accelerated_fits(output, rank, X, y, configs, prefix="accelerate-", cpu=True):
    """The ``configs`` with skorch's AccelerateMixin (``<prefix><config>``),
    and, unless only BatchNorm configurations are asked for, a SEAL
    checkpoint and resume.

    On CPU processes accelerate (1.16) wraps every module it prepares in
    DistributedDataParallel, which refuses a loss without parameters; on
    GPUs it moves such a module and wraps only the networks. Its GPU rule
    is applied here, so that the CPU processes run what GPUs would.
    """
    try:
        from accelerate import Accelerator
    except ImportError:
        return
    from skorch.hf import AccelerateMixin

    prepare_model = Accelerator.prepare_model

    def prepare_as_on_gpus(self, model, *args, **kwargs):
        if not any(parameter.requires_grad for parameter in model.parameters()):
            return model.to(self.device)
        return prepare_model(self, model, *args, **kwargs)

    if cpu:
        Accelerator.prepare_model = prepare_as_on_gpus
    try:
        accelerator = Accelerator(cpu=cpu)
        settings = {**COMMON, "device": None}
        for name, (cls, params) in configs.items():
            accelerated = type(f"Accelerated{cls.__name__}", (AccelerateMixin, cls), {})
            clf = accelerated(accelerator=accelerator, **settings, **params).fit(X, y)
            np.savez(output / f"{prefix}{name}-rank{rank}.npz", **fitted_arrays(clf, X))
        if configs is BATCHNORM_CONFIGS:
            return
        seal = type("AcceleratedSEAL", (AccelerateMixin, SEALClassifier), {})
        resumed = resumed_seal(functools.partial(seal, accelerator=accelerator, **settings),
                               output / f"{prefix}checkpoints", X, y)
        np.savez(output / f"{prefix}seal-resumed-rank{rank}.npz", **fitted_arrays(resumed, X))
    finally:
        Accelerator.prepare_model = prepare_model


def main(output, device="cpu"):
    """Every fit, on the CPU (gloo) or one GPU per process (``"cuda"``, NCCL)."""
    if device == "cuda":
        dist.init_process_group("nccl")
        device = f"cuda:{os.environ['LOCAL_RANK']}"
        torch.cuda.set_device(torch.device(device))
    else:
        dist.init_process_group("gloo")
    COMMON["device"] = device
    rank = dist.get_rank()
    output = Path(output)
    X, y = data()
    for name, (cls, params) in CONFIGS.items():
        clf = cls(**COMMON, **params).fit(X, y)
        np.savez(output / f"{name}-rank{rank}.npz", **fitted_arrays(clf, X))
    for name, (cls, params) in BATCHNORM_CONFIGS.items():
        trace = BufferTrace()
        clf = cls(**COMMON, **params, callbacks=[("trace", trace)]).fit(X, y)
        np.savez(output / f"{name}-rank{rank}.npz", **fitted_arrays(clf, X),
                 epoch_buffers=np.array(trace.sums))
    if device != "cpu":
        accelerated_fits(output, rank, X, y, {**CONFIGS, **BATCHNORM_CONFIGS}, cpu=False)
        dist.destroy_process_group()
        return
    for name in DATASET_CONFIGS:
        cls, params = CONFIGS[name]
        clf = cls(**COMMON, **params).fit(TensorDataset(torch.as_tensor(X)), y)
        np.savez(output / f"{name}-dataset-rank{rank}.npz", **fitted_arrays(clf, X))
    resumed = resumed_seal(functools.partial(SEALClassifier, **COMMON),
                           output / "checkpoints", X, y)
    np.savez(output / f"seal-resumed-rank{rank}.npz", **fitted_arrays(resumed, X))
    accelerated_fits(output, rank, X, y, {**CONFIGS, **BATCHNORM_CONFIGS})
    with batchnorm_synchronised_on_cpu():
        for name, (cls, params) in BATCHNORM_CONFIGS.items():
            clf = cls(**COMMON, **params).fit(X, y)
            networks = [clf.module_, getattr(clf, "main_network_", torch.nn.Identity())]
            synchronised = sum(isinstance(layer, ShareWeightedSyncBatchNorm)
                               for network in networks for layer in network.modules())
            np.savez(output / f"synchronised-{name}-rank{rank}.npz", **fitted_arrays(clf, X),
                     synchronised_layers=np.array(synchronised))
        accelerated_fits(output, rank, X, y, BATCHNORM_CONFIGS,
                         prefix="accelerate-synchronised-")
    for name, (cls, params) in REFUSED_CONFIGS.items():
        try:
            cls(**{**COMMON, **params}).fit(X, y)
            refusal = ""
        except ValueError as error:
            refusal = str(error)
        (output / f"{name}-rank{rank}.txt").write_text(refusal)
    for control, name in NEGATIVE_CONTROLS:
        break_synchronisation(control)
        cls, params = {**CONFIGS, **BATCHNORM_CONFIGS}[name]
        with batchnorm_synchronised_on_cpu():
            clf = cls(**COMMON, **params).fit(X, y)
        np.savez(output / f"{control}-rank{rank}.npz", **fitted_arrays(clf, X))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:])
