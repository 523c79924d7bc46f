"""Evaluation passes: a network's eval-mode softmax on data, in batches."""

import torch

#: Rows per forward pass at inference, by device type and input kind, as
#: ``benchmarks/bench_inference_batch.py`` measures them on a CPU: large
#: batches amortise Python overhead, but past about a thousand rows (MLP)
#: or 128 images (SmallCNN on 1x28x28 and 3x32x32 images) the activations
#: fall out of the caches and an evaluation pass gets about 2x slower. The
#: CUDA values are not measured.
INFERENCE_BATCH_SIZES = {("cpu", "tabular"): 1024, ("cpu", "images"): 128,
                         ("cuda", "tabular"): 4096, ("cuda", "images"): 1024}

#: Up to this many rows, CPU predictions run the network in float64.
EXACT_PREDICTION_ROWS = 64


def inference_batch_size(device, input_shape):
    """Rows per forward pass of an evaluation pass, for inputs of ``input_shape``."""
    kind = "images" if len(input_shape) >= 2 else "tabular"
    return INFERENCE_BATCH_SIZES[torch.device(device).type, kind]


class AugmentedRows:
    """Rows ``start:stop`` of ``X`` under ``augment``, for an evaluation pass.

    ``augment`` draws for every chunk of ``X`` in order, as in a pass over
    all of ``X`` in one process, so that the draws do not depend on which
    rows a process of a parallel fit keeps; only the kept rows reach the
    network, a chunk at a time (no augmented copy of ``X`` is held).
    """

    def __init__(self, X, augment, start, stop):
        self.X, self.augment, self.start, self.stop = X, augment, start, stop

    def split(self, batch_size):
        offset, augmented = 0, None
        for chunk in self.X.split(batch_size):
            augmented = self.augment(chunk)
            low, high = max(self.start - offset, 0), min(self.stop - offset, len(chunk))
            offset += len(chunk)
            if low < high:
                yield augmented[low:high]
        if self.start == self.stop and augmented is not None:
            yield augmented[:0]  # no rows here: an empty pass, as X[start:stop] gives


def eval_softmax(network, X, augment=None, dtype=torch.float32, batch_size=4096,
                 prepare=None):
    """Eval-mode softmax of ``network`` on ``X``, in batches.

    ``X`` is a device tensor, or the loader of a Dataset passed to ``fit``.
    ``augment`` (a callable on batches) is applied to every batch first,
    then ``prepare`` (the estimator's precision and memory format). The
    network's training mode is restored afterwards.
    """
    was_training = network.training
    network.eval()
    prepare = prepare or _run
    try:
        with torch.no_grad():
            return torch.cat([
                torch.softmax(prepare(network, chunk if augment is None else augment(chunk))
                              .to(dtype), dim=1)
                for chunk in X.split(batch_size)
            ])
    finally:
        network.train(was_training)


def _run(network, X):
    return network(X)


def exact_softmax(network, X):
    """Eval-mode softmax with the network run in float64.

    float32 matrix products round differently for different numbers of rows,
    so a sample's probabilities would depend (in the 7th digit) on which other
    samples are predicted with it. For small inputs on the CPU the network
    runs in float64, where that rounding is negligible, at little cost.
    """
    state = {
        name: value.double() if value.is_floating_point() else value
        for name, value in [*network.named_parameters(), *network.named_buffers()]
    }
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            logits = torch.func.functional_call(
                network, state, (X.double() if X.is_floating_point() else X,))
    finally:
        network.train(was_training)
    return torch.softmax(logits, dim=1)
