"""What a new method builds on.

A method is a subclass of :class:`NoisyLabelClassifier` that implements
``_fit_noisy(data)``: it runs one or more training stages with
:meth:`NoisyLabelClassifier.run_stage`, each one run of skorch's fit loop,
and does what happens between epochs in skorch callbacks. Callbacks read
the stage's :class:`TrainingData` (found under skorch's ``dataset_train``
with :func:`base_and_indices`), update its per-sample ``fields`` in place,
and run evaluation passes with :meth:`NoisyLabelClassifier.eval_proba`.
See the contributor guide's "Writing a method" for a worked example.
"""

from ._core import NoisyLabelClassifier
from ._data import FitData, TrainingData, base_and_indices, one_hot
from ._inference import eval_softmax, inference_batch_size

__all__ = [
    "NoisyLabelClassifier",
    "FitData",
    "TrainingData",
    "base_and_indices",
    "one_hot",
    "eval_softmax",
    "inference_batch_size",
]
