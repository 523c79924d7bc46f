"""Seconds per epoch of every method with its paper recipe, on CIFAR-10-shaped data.

The data are random images, 3 x 32 x 32 float32 in [0, 1] with 10 classes,
generated in memory (the timing does not depend on what the pixels show).
Each method is fitted with ``paper_recipe(method, "cifar10")`` (SLN with
``noise="symmetric"``), so with its network, batch size, optimizer,
schedule and crop-and-flip augmentation.

What an epoch counts. A callback stamps the clock at the start of every
training stage and after every epoch, once the method's own epoch hooks
have run, so an epoch's time holds everything the method does per epoch:

* SEAL: the training epoch and the softmax recorded over the whole
  training set after it. Timed with ``n_iterations=0`` (one network); the
  recipe trains ``n_iterations + 1 = 4`` networks, which the projection of
  the whole fit counts.
* ConfusionEM: the recipe trains the naive network (which estimates psi)
  and then the main network for ``max_epochs`` each; an "epoch" here is one
  epoch of each. The eta update, an evaluation pass over the training set
  that the recipe makes every 5 epochs from epoch 35, is made after every
  timed epoch (``eta_start_epoch=1, eta_update_every=1``), so the figure is
  an upper bound, by at most four fifths of one evaluation pass.
* Flywheel: a cycle epoch (the first ``warmup_epochs`` epochs, plain
  cross-entropy for both networks, are cheaper and not timed): the
  E-step's passes over the training set (two weakly augmented predictions
  of f, one of g), f's epoch with MixUp and the contrastive loss on two
  strongly augmented copies, and g's epoch.
* CE and SLN: the training epoch (SLN also updates its momentum model
  after every step).

On the CPU (default) a fit of 256 samples is timed and its epoch scaled to
50,000 samples (every part of an epoch is linear in the number of samples):
a few minutes per method on one core, most of it WRN-28-10 (SEAL) and the
two PreAct ResNet-18 (Flywheel). The first epoch is timed there (warm-up
epoch plus cycle for Flywheel): against a network's CPU compute the
first-epoch costs are negligible. With ``--device cuda`` the fit runs on
50,000 samples, and the second epoch is timed (the first pays for cuDNN's
algorithm search and the allocator's growth). ``--precision`` and
``--channels-last`` are passed to the estimators; ``--compile`` fits with
``compile=True`` and ``iterator_train__drop_last=True`` (every training
batch of one shape, so the networks compile once); ``--compile-mode
reduce-overhead`` replays each training step as a CUDA graph, and
``--fused-optimizer`` passes ``optimizer__fused=True``. ``--nproc N`` spreads
each fit over N processes (one per GPU with ``--device cuda``), launched
with ``torchrun``.

For comparison, the papers' own figures on GPUs: the SLN paper's Table 1
gives the training time of 300 epochs of WRN-28-2 on a V100 (CE 1.18 h,
SLN 1.24 h: 14.2 and 14.9 s per epoch); the LNL-flywheel paper's Table 7
gives 57.11 s per epoch on CIFAR-10 for its two PreAct ResNet-18 (GPU not
named). The SEAL and ConfusionEM papers give no times.

Run: ``python benchmarks/bench_epoch_time.py`` (CPU) or
``python benchmarks/bench_epoch_time.py --device cuda --precision bfloat16``
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from skorch.callbacks import Callback

from sklearn_noisy import paper_recipe
from sklearn_noisy.benchmark.methods import METHODS

CIFAR10_TRAINING_SAMPLES = 50_000
METHOD_NAMES = ("ce", "seal", "sln", "confusion-em", "flywheel")

#: Seconds per epoch in the papers, and where from.
PAPER_FIGURES = {
    "ce": (1.18 * 3600 / 300, "SLN paper, WRN-28-2, V100"),
    "sln": (1.24 * 3600 / 300, "SLN paper, WRN-28-2, V100"),
    "flywheel": (57.11, "flywheel paper, 2x PreAct ResNet-18"),
}


class EpochClock(Callback):
    """Appends ``(event, seconds)`` to ``marks`` at stage starts and epoch ends.

    The list is given, not created by ``initialize``, so that it outlives
    the stages (every stage initialises the callbacks again). The user's
    callbacks run after the method's own, so an epoch's mark comes after
    the method's epoch hooks.
    """

    def __init__(self, marks, device):
        self.marks = marks
        self.device = device

    def _stamp(self, event):
        if torch.device(self.device).type == "cuda":
            torch.cuda.synchronize()
        self.marks.append((event, time.perf_counter()))

    def on_train_begin(self, net, **kwargs):
        self._stamp("begin")

    def on_epoch_end(self, net, **kwargs):
        self._stamp("epoch")


def stage_epoch_seconds(marks):
    """Per stage, the seconds of each epoch (the first from the stage start)."""
    stages, previous = [], None
    for event, seconds in marks:
        if event == "begin":
            stages.append([])
        else:
            stages[-1].append(seconds - previous)
        previous = seconds
    return stages


def timing_setup(method, timed_epoch):
    """Recipe overrides for the timing fit, and the fit's stage count."""
    epochs = {"max_epochs": timed_epoch}
    if method == "seal":
        return {**epochs, "n_iterations": 0}
    if method == "confusion-em":
        return {**epochs, "eta_start_epoch": 1, "eta_update_every": 1}
    if method == "flywheel":
        # one warm-up epoch (or more), then the timed cycle epoch
        return {"max_epochs": timed_epoch + 1, "warmup_epochs": timed_epoch}
    return epochs


def recipe_stages(method, recipe):
    """Networks trained one after the other for ``max_epochs`` each."""
    if method == "seal":
        return recipe["n_iterations"] + 1
    return 2 if method == "confusion-em" else 1


def time_method(method, X, y, args):
    """Seconds of one epoch of ``method`` on ``X``, and its recipe."""
    recipe = paper_recipe(method, "cifar10", noise="symmetric")
    timed_epoch = 2 if args.device.startswith("cuda") else 1
    overrides = timing_setup(method, timed_epoch)
    marks = []
    callbacks = [*recipe.get("callbacks", []),
                 ("epoch_clock", EpochClock(marks, args.device))]
    if args.compile:
        overrides = {**overrides, "compile": True, "iterator_train__drop_last": True}
        if args.compile_mode:
            overrides["compile__mode"] = args.compile_mode
    if args.fused_optimizer:
        overrides["optimizer__fused"] = True
    estimator = METHODS[method][1](
        **{**recipe, **overrides, "callbacks": callbacks}, device=args.device,
        precision=args.precision, channels_last=args.channels_last, random_state=0)
    estimator.fit(X, y)
    stages = stage_epoch_seconds(marks)
    # the last epoch of every stage (ConfusionEM: naive + main network)
    seconds = sum(epochs[-1] for epochs in stages)
    return seconds, recipe


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="float32",
                        choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--channels-last", default="auto", choices=["auto", "true", "false"])
    parser.add_argument("--compile", action="store_true",
                        help="compile the networks, with static batch shapes")
    parser.add_argument("--compile-mode", default=None,
                        choices=["default", "reduce-overhead", "max-autotune",
                                 "max-autotune-no-cudagraphs"],
                        help="torch.compile's mode (with --compile); reduce-overhead "
                             "replays each step as a CUDA graph")
    parser.add_argument("--fused-optimizer", action="store_true",
                        help="the optimizer's fused implementation (optimizer__fused=True)")
    parser.add_argument("--methods", nargs="+", default=list(METHOD_NAMES),
                        choices=METHOD_NAMES)
    parser.add_argument("--nproc", type=int, default=1,
                        help="processes (GPUs) each fit is spread over, through torchrun")
    parser.add_argument("--samples", type=int, default=None,
                        help="samples to fit (default: 256 on the CPU, 50,000 on CUDA); "
                             "the epoch is scaled to 50,000")
    args = parser.parse_args(argv)
    if args.compile_mode is not None and not args.compile:
        parser.error("--compile-mode needs --compile")
    args.channels_last = {"auto": "auto", "true": True, "false": False}[args.channels_last]
    if args.samples is None:
        args.samples = CIFAR10_TRAINING_SAMPLES if args.device.startswith("cuda") else 256
    return args


def launch(args):
    """Run this script under torchrun in ``args.nproc`` processes; its exit status.

    The processes get the other arguments (torchrun would take ``--nproc``
    for its own ``--nproc-per-node``) and read the count from torchrun's
    ``WORLD_SIZE``.
    """
    forwarded = ["--device", args.device, "--precision", args.precision,
                 "--channels-last", str(args.channels_last).lower(),
                 "--samples", str(args.samples), "--methods", *args.methods,
                 *(["--compile"] if args.compile else []),
                 *(["--compile-mode", args.compile_mode] if args.compile_mode else []),
                 *(["--fused-optimizer"] if args.fused_optimizer else [])]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", str(args.nproc), __file__, *forwarded]
    return subprocess.run(command).returncode


def join_process_group(args):
    """Join torchrun's process group; this process's device and whether it prints."""
    cuda = args.device.startswith("cuda")
    dist.init_process_group("nccl" if cuda else "gloo")
    if cuda:
        args.device = f"cuda:{os.environ['LOCAL_RANK']}"
        torch.cuda.set_device(torch.device(args.device))
    return dist.get_rank() == 0


def main(argv=None):
    args = parse_args(argv)
    if args.nproc > 1:
        sys.exit(launch(args))
    leads = True
    if "LOCAL_RANK" in os.environ:
        args.nproc = int(os.environ["WORLD_SIZE"])
        leads = join_process_group(args)
    if not leads:
        sys.stdout = open(os.devnull, "w")
    rng = np.random.default_rng(0)
    X = rng.random((args.samples, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, args.samples)
    scale = CIFAR10_TRAINING_SAMPLES / args.samples
    device_name = (torch.cuda.get_device_name(torch.device(args.device))
                   if args.device.startswith("cuda")
                   else f"CPU, {torch.get_num_threads()} threads")
    print(f"device: {device_name}; processes: {args.nproc}; precision={args.precision}, "
          f"channels_last={args.channels_last}, compile={args.compile}"
          + (f" (mode {args.compile_mode})" if args.compile_mode else "")
          + (", fused optimizer" if args.fused_optimizer else "") + "; "
          f"{args.samples} samples timed"
          + (f", epoch scaled x{scale:.1f} to {CIFAR10_TRAINING_SAMPLES}" if scale != 1 else ""))
    print(f"{'method':<13} {'network':<30} {'batch':>5} {'s/epoch':>9} {'images/s':>9} "
          f"{'whole recipe':>13}  paper (s/epoch)")
    for method in args.methods:
        seconds, recipe = time_method(method, X, y, args)
        per_epoch = seconds * scale
        module = recipe["module"]
        network = module.network.__name__
        if "module__widen_factor" in recipe:
            network = f"WRN-{recipe['module__depth']}-{recipe['module__widen_factor']}"
        if method == "flywheel":
            network = "2x " + network
        whole = per_epoch * recipe["max_epochs"] * recipe_stages(method, recipe) / 3600
        paper = PAPER_FIGURES.get(method)
        paper_text = (f"{paper[0]:.1f} ({paper[1]}): {paper[0] / per_epoch:.1f}x faster here"
                      if paper else "-")
        print(f"{method:<13} {network:<30} {recipe['batch_size']:>5} {per_epoch:>9.1f} "
              f"{CIFAR10_TRAINING_SAMPLES / per_epoch:>9.0f} {whole:>11.1f} h  {paper_text}",
              flush=True)
    print("s/epoch: one epoch of every network the recipe trains in turn (ConfusionEM: naive "
          "+ main), with the method's per-epoch passes; whole recipe: s/epoch x max_epochs x "
          "networks in turn (SEAL: 4).")
    if args.nproc > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
