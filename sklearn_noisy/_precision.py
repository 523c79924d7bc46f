"""Mixed precision: autocast for forward passes, loss scaling for float16.

``precision="bfloat16"`` or ``"float16"`` runs the forward passes of
training and of the evaluation passes under ``torch.autocast``; weights,
optimizer state and losses stay float32. float16's narrow exponent range
needs the loss scaled before the backward pass (``torch.amp.GradScaler``);
bfloat16 has float32's range and does not.
"""

import contextlib

import torch

#: Compute dtype of each ``precision`` value; None runs in float32.
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}


def autocast(precision, device):
    """The autocast context of ``precision`` on ``device`` (or a no-op)."""
    dtype = PRECISIONS[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)


class LossScaling:
    """Backward and optimizer steps of one network, scaled for float16.

    For other precisions every method is the plain operation.

    Parameters
    ----------
    precision : str
    device : torch.device
    """

    def __init__(self, precision, device):
        self.scaler = (torch.amp.GradScaler(torch.device(device).type)
                       if precision == "float16" else None)

    def backward(self, loss):
        (loss if self.scaler is None else self.scaler.scale(loss)).backward()

    def unscale(self, optimizer):
        """Bring the gradients back to their true scale before they are read."""
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)

    def step(self, optimizer):
        """Step (skipped by the scaler when a gradient overflowed)."""
        if self.scaler is None:
            optimizer.step()
        else:
            self.scaler.step(optimizer)

    def update(self):
        if self.scaler is not None:
            self.scaler.update()
