"""Plain cross-entropy training: the baseline every method is compared with."""

from ._core import NoisyLabelClassifier
from ._docstrings import fill_docstring


@fill_docstring()
class CrossEntropyClassifier(NoisyLabelClassifier):
    """Neural network trained with cross-entropy on the given labels.

    The baseline of the package: it takes the labels at face value. After
    fit it still reports how suspicious each training label looks.

    Parameters
    ----------
    {shared_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen at fit.
    module_ : torch.nn.Module
        The trained network.
    noise_scores_ : ndarray of shape (n_train_samples,)
        ``1 - p(given label | x)`` under the final network: higher means the
        given label is more likely wrong.
    corrected_labels_ : ndarray of shape (n_train_samples,)
        The final network's prediction for each training sample.
    {label_issues}
    history_ : skorch History
        Per-epoch training record.
    stage_histories_ : list of (str, skorch History)
        One entry, ``("training", history_)``.

    Notes
    -----
    Training stages: one, ``"training"``; user callbacks see ``module_``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_noisy import CrossEntropyClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CrossEntropyClassifier(max_epochs=5, random_state=0).fit(X / 16, y)
    >>> clf.noise_scores_.shape
    (1797,)
    """

    def _fit_noisy(self, data):
        self.run_stage(data, "training")
        proba = self.eval_proba(data.X)
        self._set_noise_attributes(
            1.0 - proba.gather(1, data.y[:, None]).squeeze(1), proba.argmax(dim=1),
            data.y)
