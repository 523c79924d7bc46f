"""Soft bootstrapping (Reed et al., 2015): a new method in about 50 lines.

Each epoch trains with cross-entropy against ``beta * given label +
(1 - beta) * the network's own prediction``, so that confidently predicted
samples pull their target away from a wrong label.
"""

import numbers

from skorch.callbacks import Callback
from sklearn.utils._param_validation import Interval

from sklearn_noisy.base import NoisyLabelClassifier, base_and_indices, one_hot


class BootstrapTargets(Callback):
    """Sets the stage's ``targets`` field at the start of every epoch."""

    def __init__(self, given, beta):
        self.given = given
        self.beta = beta

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        data, _ = base_and_indices(dataset_train)
        proba = net.eval_proba(data.X_tensor)
        # Batches gather their targets from this tensor: update it in place.
        data.fields["targets"].copy_(self.beta * self.given + (1 - self.beta) * proba)


class BootstrapClassifier(NoisyLabelClassifier):
    """Cross-entropy against a mix of the given label and the prediction.

    Parameters
    ----------
    beta : float, default=0.8
        Weight of the given label in the targets.
    **kwargs
        The parameters every estimator of the package takes (``max_epochs``,
        ``lr``, ``random_state``, ...).
    """

    _parameter_constraints = {
        **NoisyLabelClassifier._parameter_constraints,
        "beta": [Interval(numbers.Real, 0, 1, closed="both")],
    }

    def __init__(self, module=None, *, beta=0.8, **kwargs):
        super().__init__(module, **kwargs)
        self.beta = beta

    def _fit_noisy(self, data):
        given = one_hot(data.y, data.n_classes, data.device)
        self.run_stage(data, "training", fields={"targets": given.clone()},
                       callbacks=[("bootstrap", BootstrapTargets(given, self.beta))])
        proba = self.eval_proba(data.X)
        self._set_noise_attributes(1 - (proba * given).sum(dim=1), proba.argmax(dim=1),
                                   data.y)
