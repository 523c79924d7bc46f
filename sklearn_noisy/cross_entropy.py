"""Plain cross-entropy training: the baseline every method is compared with."""

import torch

from ._core import NoisyLabelClassifier


class CrossEntropyClassifier(NoisyLabelClassifier):
    """Neural network trained with cross-entropy on the given labels.

    The baseline of the package: it takes the labels at face value. After
    fit it still reports how suspicious each training label looks.

    Parameters
    ----------
    module : None, torch.nn.Module class, factory or instance, default=None
        The network; ``None`` picks an MLP for 2-D X and a small CNN for
        images. A class or factory receives ``n_features``, ``input_shape``
        and ``n_classes`` when it accepts them; an instance is deep-copied at
        every fit. See :mod:`sklearn_noisy.networks`.
    max_epochs : int, default=50
        Passes over the training data.
    batch_size : int, default=64
        Mini-batch size.
    lr : float, default=1e-3
        Learning rate.
    optimizer : torch.optim.Optimizer class, default=torch.optim.Adam
        Further arguments as ``optimizer__name=value``.
    device : str, default='cpu'
        ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks.
    verbose : int, default=0
        Print a line per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout and batch order without touching
        the caller's global random state.
    **kwargs
        Routed skorch parameters: ``module__*``, ``optimizer__*``,
        ``callbacks__*``.

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
    history_ : skorch History
        Per-epoch training record.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_noisy import CrossEntropyClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CrossEntropyClassifier(max_epochs=5, random_state=0).fit(X / 16, y)
    >>> clf.noise_scores_.shape
    (1797,)
    """

    def _fit_noisy(self, X, y):
        given = torch.as_tensor(y, device=X.device)
        self._train(X, given)
        proba = self._proba(X)
        self._set_noise_attributes(
            1.0 - proba.gather(1, given[:, None]).squeeze(1), proba.argmax(dim=1)
        )
