"""Reproducible randomness that leaves the caller's global state alone."""

import contextlib

import numpy as np
import torch
from sklearn.utils import check_random_state

_MAX_SEED = np.iinfo(np.int32).max


def draw_seed(random_state):
    """Draw an integer seed from a scikit-learn style ``random_state``."""
    return int(check_random_state(random_state).randint(_MAX_SEED))


def derived_seed(seed, index):
    """A distinct seed for stage ``index`` of a fit; stage 0 keeps ``seed``.

    Methods that train several networks reseed each stage from it, so a
    stage's randomness does not depend on how the earlier stages ran (and a
    resumed fit matches an uninterrupted one).
    """
    return (seed + 7919 * index) % _MAX_SEED


def reseed(seed, generator):
    """Seed torch's generators for ``generator``'s device, and ``generator``.

    Call it only inside :func:`seeded_torch`, which restores the global
    state afterwards.
    """
    torch.random.default_generator.manual_seed(seed)
    if generator.device.type == "cuda":
        with torch.cuda.device(generator.device):
            torch.cuda.manual_seed(seed)
    generator.manual_seed(seed + 1)


@contextlib.contextmanager
def seeded_torch(seed, device):
    """Seed torch inside the block and restore the global RNG state after it.

    Module initialisation and dropout draw from torch's global generators;
    forking them makes a fit reproducible without changing what the caller's
    own ``torch.rand`` calls return afterwards.

    Yields
    ------
    generator : torch.Generator
        A generator on ``device`` for the fit's own draws (batch order).
    """
    device = torch.device(device)
    cuda_devices = []
    if device.type == "cuda":
        if device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        cuda_devices = [device.index]
    with torch.random.fork_rng(devices=cuda_devices):
        generator = torch.Generator(device=device)
        reseed(seed, generator)
        yield generator
