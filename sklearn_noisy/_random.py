"""Reproducible randomness that leaves the caller's global state alone."""

import contextlib

import numpy as np
import torch
from sklearn.utils import check_random_state

_MAX_SEED = np.iinfo(np.int32).max


def draw_seed(random_state):
    """Draw an integer seed from a scikit-learn style ``random_state``."""
    return int(check_random_state(random_state).randint(_MAX_SEED))


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
        cuda_devices = [device.index if device.index is not None else
                        torch.cuda.current_device()]
    with torch.random.fork_rng(devices=cuda_devices):
        torch.random.default_generator.manual_seed(seed)
        for index in cuda_devices:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        generator = torch.Generator(device=device)
        generator.manual_seed(seed + 1)
        yield generator
