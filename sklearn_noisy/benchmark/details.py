"""What the benchmark's figures need from a fitted estimator, beyond scores.

Only the first seed of every rate keeps these, so memory stays small: a ROC
curve per method, SEAL's soft labels after every iteration (recorded by a
callback, as SEAL itself keeps only the last ones) and, for methods that
estimate one, the transition matrix next to the true flip matrix.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_curve

from .._recording import EpochSoftmaxAverage
from ..corruptors import empirical_transition_matrix
from ..seal import SEALClassifier


@dataclass
class MethodDetails:
    """One method's details on one corrupted split.

    Attributes
    ----------
    false_positive_rate, true_positive_rate : ndarray or None
        The detection ROC curve of the method's noise scores against the
        corruptor's noise mask; None for an estimator without noise scores.
    seal_distances : list of ndarray or None
        SEAL only: per iteration, ``d_i = 1 - s_i[true class]`` for every
        training sample, the total variation distance between the averaged
        soft label ``s_i`` and the one-hot true label.
    noise_mask : ndarray of bool
        Which training labels the corruptor flipped.
    transition_estimate, transition_truth : ndarray or None
        The method's ``transition_matrix_`` and the flip matrix of the
        flipped samples (rows true class, columns noisy label).
    """

    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray
    noise_mask: np.ndarray
    seal_distances: list | None = None
    transition_estimate: np.ndarray | None = None
    transition_truth: np.ndarray | None = None


def detection_is_defined(noise_mask):
    """Whether ROC curves exist: some labels were flipped and some were not."""
    return 0 < noise_mask.sum() < len(noise_mask)


class SoftLabelSnapshots(EpochSoftmaxAverage):
    """Callback recording the epoch-averaged softmax of every training stage.

    After every epoch the network predicts every training sample (in eval
    mode, without augmentation); at the end of each training stage the mean
    of these predictions over the stage's epochs is appended to
    ``snapshots``. :class:`~sklearn_noisy.SEALClassifier` trains one stage
    per iteration, so the snapshots are its soft labels iteration by
    iteration; the benchmark draws ``seal_soft_label_distances.png`` from
    them. It works with every estimator of the package.

    Pass a new instance in ``callbacks`` for every fit: ``snapshots`` keeps
    growing with each stage it sees.

    Attributes
    ----------
    snapshots : list of ndarray of shape (n_samples, n_classes)
        One float64 array per training stage, in the order of the stages;
        row ``i`` is the averaged softmax of the ``i``-th sample passed to
        ``fit``, columns in the order of ``classes_``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_noisy import SEALClassifier
    >>> from sklearn_noisy.benchmark.details import SoftLabelSnapshots
    >>> X, y = load_digits(return_X_y=True)
    >>> snapshots = SoftLabelSnapshots()
    >>> clf = SEALClassifier(n_iterations=2, max_epochs=3, callbacks=[snapshots],
    ...                      random_state=0).fit(X / 16, y)
    >>> len(snapshots.snapshots), snapshots.snapshots[0].shape
    (3, (1797, 10))
    """

    def __init__(self):
        self.snapshots = []

    def on_train_begin(self, net, **kwargs):
        super().initialize()

    def on_train_end(self, net, **kwargs):
        super().on_train_end(net, **kwargs)
        self.snapshots.append(self.average_.double().cpu().numpy())


def attach_recorders(estimator):
    """Add the callbacks that record details during fit; returns them (or None)."""
    if not isinstance(estimator, SEALClassifier):
        return None
    recorder = SoftLabelSnapshots()
    estimator.set_params(callbacks=[*(estimator.callbacks or []), recorder])
    return recorder


def collect_details(estimator, recorder, split):
    """The :class:`MethodDetails` of a fitted ``estimator`` on ``split``."""
    mask = split.noise_mask
    scores = getattr(estimator, "noise_scores_", None)
    if scores is None:
        fpr = tpr = None   # a classifier of the user's own, without noise scores
    elif detection_is_defined(mask):
        fpr, tpr, _ = roc_curve(mask, scores)
    else:
        fpr = tpr = np.array([0.0, 1.0])
    details = MethodDetails(fpr, tpr, mask)
    classes = estimator.classes_
    true_index = np.searchsorted(classes, split.y_train)
    if recorder is not None:
        rows = np.arange(len(true_index))
        details.seal_distances = [1 - soft[rows, true_index] for soft in recorder.snapshots]
    if hasattr(estimator, "transition_matrix_"):
        noisy_index = np.searchsorted(classes, split.y_noisy)
        details.transition_estimate = estimator.transition_matrix_
        details.transition_truth = empirical_transition_matrix(
            true_index[mask], noisy_index[mask], len(classes))
    return details
