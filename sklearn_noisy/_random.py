"""Randomness owned by one fit.

A fit draws one integer seed from its ``random_state`` and derives every
random stream it needs from it: batch order, label noise, MixUp and
augmentations each get their own :class:`torch.Generator`, seeded from the
seed, the stage and the stream's name, so no draw depends on what another
fit (in another thread) or another stream did.

Two things torch only draws from its global generators: weight
initialisation and the dropout masks of a network in training mode. A fit
therefore runs inside :meth:`FitRandomness.global_section`, which holds one
process-wide lock, forks torch's global state, seeds it for the stage, and
restores it afterwards. Two seeded fits in two threads then run one after
the other (the price of identical results; see the contributor notes for
the measured cost), and the caller's own ``torch.rand`` sequence is never
disturbed.
"""

import contextlib
import threading
import zlib

import numpy as np
import torch
from sklearn.utils import check_random_state

_MAX_SEED = np.iinfo(np.int32).max

# Re-entrant: a fit that fits another estimator inside its own fit (for
# example a corruptor's network inside a pipeline step) takes it again.
_GLOBAL_RNG_LOCK = threading.RLock()


def draw_seed(random_state):
    """Draw an integer seed from a scikit-learn style ``random_state``.

    ``None`` draws once from numpy's global generator (as scikit-learn
    does); an int or a ``RandomState`` leaves the global state untouched.
    """
    return int(check_random_state(random_state).randint(_MAX_SEED))


def derived_seed(seed, *keys):
    """A seed for ``keys`` (a stage's name, a stream's name) under ``seed``."""
    text = ":".join(str(key) for key in (seed, *keys))
    return zlib.crc32(text.encode()) % _MAX_SEED


class FitRandomness:
    """The random streams of one fit.

    Parameters
    ----------
    seed : int
        The fit's seed, from :func:`draw_seed`.
    device : torch.device
        Where the generators live (batches are permuted on the device).
    """

    def __init__(self, seed, device):
        self.seed = int(seed)
        self.device = torch.device(device)

    def generator(self, stream, stage="", device=None):
        """A fresh generator for ``stream`` in the stage named ``stage``."""
        generator = torch.Generator(device=device or self.device)
        generator.manual_seed(derived_seed(self.seed, stage, stream))
        return generator

    def seed_global(self, stage, rank=None):
        """Seed torch's global generators for the stage named ``stage``.

        ``rank`` gives each process of a fit spread over several its own
        stream. Only valid inside :meth:`global_section`, which restores them.
        """
        keys = (stage, "global") if rank is None else (stage, "global", rank)
        seed = derived_seed(self.seed, *keys)
        torch.random.default_generator.manual_seed(seed)
        if self.device.type == "cuda":
            with torch.cuda.device(self.device):
                torch.cuda.manual_seed(seed)

    @contextlib.contextmanager
    def global_section(self):
        """Hold the process-wide lock and fork torch's global generators."""
        cuda_devices = []
        if self.device.type == "cuda":
            index = self.device.index
            cuda_devices = [torch.cuda.current_device() if index is None else index]
        with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=cuda_devices):
            yield self
