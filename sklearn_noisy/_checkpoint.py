"""Checkpoints that let a long multi-stage fit resume where it stopped."""

import os
import tempfile
from pathlib import Path

import joblib
import torch


def fit_fingerprint(X, y, params):
    """Hash of the training data and the parameters a checkpoint depends on.

    ``X`` and ``y`` may be tensors on any device; ``params`` is a dict whose
    values are reduced to their ``repr``.
    """
    X = X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X
    y = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y
    described = {name: repr(value) for name, value in sorted(params.items())}
    return joblib.hash((X, y, described))


def save_checkpoint(path, state):
    """Write ``state`` with ``torch.save``, atomically.

    The file is written next to ``path`` and renamed over it, so a fit
    interrupted while saving leaves the previous checkpoint intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(state, file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_checkpoint(path, device):
    """Load a checkpoint written by :func:`save_checkpoint`, or None.

    Only tensors and plain Python containers are accepted
    (``weights_only=True``): a checkpoint cannot run code when loaded.
    """
    path = Path(path)
    if not path.exists():
        return None
    return torch.load(path, map_location=device, weights_only=True)
