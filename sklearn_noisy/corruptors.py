"""Label-noise simulation as imbalanced-learn ``fit_resample`` steps.

Inside an imbalanced-learn :class:`~imblearn.pipeline.Pipeline` a sampler runs
only when the pipeline is fitted, so in cross-validation only the training
folds get corrupted and the held-out folds are scored on their clean labels.
``fit_resample`` returns the caller's X itself; only y changes, and it comes
back in the caller's container (a pandas y keeps its index).
"""

import numbers
import sys

import numpy as np
from imblearn.base import BaseSampler
from imblearn.utils import check_sampling_strategy, check_target_type
from scipy import sparse
from scipy.stats import truncnorm
from sklearn.base import _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ._core import NoisyLabelClassifier
from ._random import draw_seed
from ._recording import EpochSoftmaxAverage
from .cross_entropy import CrossEntropyClassifier
from ._docstrings import fill_docstring
from ._validation import abbreviate, as_real_array, refuse_missing_labels, to_host

#: CIFAR-10 class-conditional flips of the SLN and GCE papers
#: (airplane 0, automobile 1, bird 2, cat 3, deer 4, dog 5, frog 6, horse 7,
#: ship 8, truck 9): truck -> automobile, bird -> airplane, deer -> horse,
#: cat <-> dog.
CIFAR10_FLIPS = {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}

#: Superclass (coarse label, 0-19) of each CIFAR-100 fine label 0-99, as the
#: dataset pairs them (``fine_labels`` and ``coarse_labels`` of the python
#: version, https://www.cs.toronto.edu/~kriz/cifar.html); indices follow
#: ``fine_label_names`` and ``coarse_label_names`` of its ``meta`` file, both
#: alphabetical (fine: apple, aquarium_fish, baby, ...; coarse:
#: aquatic_mammals, fish, flowers, ...). Each superclass has 5 fine labels.
CIFAR100_COARSE_LABELS = (
    4, 1, 14, 8, 0, 6, 7, 7, 18, 3,
    3, 14, 9, 18, 7, 11, 3, 9, 7, 11,
    6, 11, 5, 10, 7, 6, 13, 15, 3, 15,
    0, 11, 1, 10, 12, 14, 16, 9, 11, 5,
    5, 19, 8, 8, 15, 13, 14, 17, 18, 10,
    16, 4, 17, 4, 2, 0, 17, 4, 18, 17,
    10, 3, 2, 12, 12, 16, 12, 1, 9, 19,
    2, 10, 0, 1, 16, 12, 9, 13, 15, 13,
    16, 19, 2, 4, 6, 19, 5, 5, 8, 19,
    18, 1, 2, 15, 6, 0, 17, 8, 14, 13,
)


def cifar100_superclass_flips():
    """Each CIFAR-100 fine label mapped to the next one of its superclass.

    Within a superclass the five fine labels are taken in increasing order
    and the last one goes to the first (circularly).

    Returns
    -------
    flips : dict of int to int
        ``{fine_label: next_fine_label}`` for the 100 fine labels.
    """
    coarse = np.asarray(CIFAR100_COARSE_LABELS)
    flips = {}
    for superclass in range(coarse.max() + 1):
        members = np.flatnonzero(coarse == superclass).tolist()
        flips.update(zip(members, members[1:] + members[:1]))
    return flips


def empirical_transition_matrix(y_true, y_noisy, n_classes):
    """Row-normalised counts of (true class, noisy label) pairs.

    Parameters
    ----------
    y_true, y_noisy : ndarray of int in ``0 .. n_classes - 1``
        True classes and noisy labels of the same samples, such as a
        corruptor's input and output restricted to ``noise_mask_``.
    n_classes : int
        Number of classes K.

    Returns
    -------
    matrix : ndarray of shape (n_classes, n_classes)
        Row ``i`` is the distribution of noisy labels among samples of true
        class ``i`` (a row of zeros for a class with no sample).
    """
    # One K x K array, counted and normalised in place: memory O(K^2 + n).
    pairs = np.asarray(y_true, dtype=np.int64) * n_classes + np.asarray(y_noisy)
    counts = np.bincount(pairs, weights=np.ones(len(pairs)), minlength=n_classes ** 2)
    matrix = counts.astype(np.float64, copy=False).reshape(n_classes, n_classes)
    matrix /= np.maximum(matrix.sum(axis=1, keepdims=True), 1.0)
    return matrix


def sample_rows(proba, rng):
    """Draw one column index per row of the row-stochastic ``proba``."""
    cumulative = proba.cumsum(axis=1)
    draws = rng.random_sample(len(proba)) * cumulative[:, -1]
    return np.minimum((cumulative < draws[:, None]).sum(axis=1), proba.shape[1] - 1)


def sample_from_transition(matrix, y, rng):
    """For every label ``y[i]``, draw a column of row ``y[i]`` of ``matrix``.

    The same draws as ``sample_rows(matrix[y], rng)``, in O(n + K) memory
    beside the K x K matrix instead of O(n K): the samples are taken class by
    class, each class's row cumulated once.
    """
    draws = rng.random_sample(len(y))
    noisy = np.empty(len(y), dtype=np.intp)
    order = np.argsort(y, kind="stable")
    starts = np.searchsorted(y[order], np.arange(len(matrix) + 1))
    for label in range(len(matrix)):
        members = order[starts[label]:starts[label + 1]]
        if len(members):
            cumulative = matrix[label].cumsum()
            noisy[members] = np.searchsorted(
                cumulative, draws[members] * cumulative[-1], side="left")
    return np.minimum(noisy, matrix.shape[1] - 1)


def refuse_unless_one_vs_all(encoding):
    """A 2-D ``y`` is a one-vs-all encoding only with one 1 and 0s in each row.

    scikit-learn takes any 2-D array of two distinct values for an indicator
    matrix; its rows would be read as ``argmax`` classes and returned as 0/1.
    """
    encoding = np.asarray(encoding)
    one_hot_rows = np.isin(encoding, (0, 1)).all(axis=1) & (encoding.sum(axis=1) == 1)
    if not one_hot_rows.all():
        rows = np.flatnonzero(~one_hot_rows)
        raise ValueError(
            f"y has {encoding.shape[1]} columns, but row(s) {abbreviate(rows)} are "
            "not a one-vs-all encoding (one 1 and 0 elsewhere). Pass the labels "
            "as one column.")


def _like_caller_labels(y_noisy, y):
    """Put the noisy labels in the container of the caller's ``y``.

    A pandas Series or DataFrame keeps its index, name or columns and dtypes
    (so ``X.join(y_noisy)`` aligns); a list gives a list (imbalanced-learn's
    contract); anything else gives ``y_noisy``, an ndarray of y's dtype.
    """
    pandas = sys.modules.get("pandas")
    if isinstance(y, list):
        return y_noisy.tolist()
    if pandas is not None and isinstance(y, pandas.Series):
        return pandas.Series(y_noisy, index=y.index, name=y.name, dtype=y.dtype)
    if pandas is not None and isinstance(y, pandas.DataFrame):
        frame = pandas.DataFrame(
            y_noisy.reshape(len(y), -1), index=y.index, columns=y.columns
        )
        return frame.astype(y.dtypes)
    return y_noisy


def _check_transition_structure(transition):
    """What can be checked of ``transition`` without the classes of y.

    A string was checked by the parameter constraints. A dict must map
    labels to labels (its values must be hashable, as its keys are); whether
    they are classes of y is checked later. A matrix must be a square 2-D
    array of finite, non-negative numbers whose rows sum to 1; its size is
    checked against the classes of y later.

    Returns
    -------
    matrix : ndarray of float64, or None for a string or a dict.
    """
    if isinstance(transition, str):
        return None
    if isinstance(transition, dict):
        for source, target in transition.items():
            try:
                hash(target)
            except TypeError:
                raise ValueError(
                    f"transition must map each label to one label "
                    f"({{source_label: target_label}}); got {target!r} "
                    f"({type(target).__name__}) for label {source!r}."
                ) from None
        return None
    values, problem = as_real_array(to_host(transition))
    if problem is None and (values.ndim != 2 or values.shape[0] != values.shape[1]):
        problem = f"it has shape {values.shape}"
    if problem is not None:
        raise ValueError(
            "transition must be one of 'symmetric', 'uniform', 'pair', 'cifar10', "
            "'cifar100-superclass', a dict {source_label: target_label} or a square "
            "(n_classes, n_classes) row-stochastic matrix of numbers; the matrix "
            f"given cannot be used: {problem}."
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(
            "transition matrix entries must be finite and >= 0; got "
            f"{abbreviate(values[~(np.isfinite(values) & (values >= 0))])}."
        )
    sums = values.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-6):
        raise ValueError(
            "every row of the transition matrix must sum to 1; row sums are "
            f"{abbreviate(np.round(sums, 6))}."
        )
    return values


class _PackageClassifier(HasMethods):
    """Parameter constraint: one of the package's classifiers.

    A HasMethods subclass only because scikit-learn's validation takes its
    own constraint types; the test is ``isinstance``, not duck typing.
    """

    def __init__(self):
        super().__init__(["fit", "predict_proba"])

    def is_satisfied_by(self, val):
        return isinstance(val, NoisyLabelClassifier)

    def __str__(self):
        return (
            "one of sklearn_noisy's classifiers (a NoisyLabelClassifier such as "
            "CrossEntropyClassifier, whose skorch training loop records the "
            "softmax of every epoch; other scikit-learn classifiers are not "
            "supported)"
        )


class _LabelCorruptor(BaseSampler):
    """Shared bookkeeping of the corruptors (not for direct use).

    Subclasses implement ``_validate_X_y(X, y)`` (``validate_data`` with their
    requirements on X) and ``_corrupt(X, y, classes, rng)``: ``y`` holds
    indices into the sorted ``classes``; it returns the noisy labels as such
    indices and per-sample noise scores (or None).
    """

    # imbalanced-learn's bookkeeping: the corruptors never add or remove rows.
    _sampling_type = "bypass"
    sampling_strategy = "auto"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y):
        """Corrupt the labels; X is returned as given.

        Parameters
        ----------
        X : array-like, DataFrame, sparse matrix or torch.Tensor of shape \
                (n_samples, ...)
            Features; never modified, and returned as the same object.
        y : array-like of shape (n_samples,)
            Clean labels, or their one-vs-all encoding (n_samples, n_classes).
            Never modified.

        Returns
        -------
        X : object
            The caller's ``X`` itself (``result[0] is X``).
        y_noisy : Series, DataFrame, list or ndarray of shape (n_samples,)
            The noisy labels, in the caller's container: a pandas Series or
            DataFrame ``y`` gives one with the same index, name or columns and
            dtype, so it aligns with X; a list gives a list; any other ``y``
            (ndarray, torch tensor, tuple) gives an ndarray of y's dtype. A
            one-vs-all ``y`` gives a one-vs-all encoding.
        """
        X_valid, y_valid, one_vs_all = self._check_X_y(X, y)
        self.sampling_strategy_ = check_sampling_strategy(
            self.sampling_strategy, y_valid, self._sampling_type
        )
        _, y_noisy = self._fit_resample(X_valid, y_valid)
        if one_vs_all:
            encoding = np.asarray(to_host(y))
            y_noisy = np.eye(encoding.shape[1], dtype=encoding.dtype)[y_noisy]
        return X, _like_caller_labels(y_noisy, y)

    def _check_X_y(self, X, y, accept_sparse=None):
        # Validation works on host copies when needed: what fit_resample
        # returns is always the caller's own X.
        y = to_host(y)
        refuse_missing_labels(y, "y")
        check_classification_targets(y)
        encoding = y
        y, one_vs_all = check_target_type(y, indicate_one_vs_all=True)
        if one_vs_all:
            refuse_unless_one_vs_all(encoding)
        X, y = self._validate_X_y(to_host(X), y)
        return X, y, one_vs_all

    def _fit_resample(self, X, y):
        classes, y_indices = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{self.__class__.__name__} needs samples of at least 2 classes "
                f"to flip labels between, but y contains only one class: "
                f"{classes[0]!r}."
            )
        rng = check_random_state(self.random_state)
        noisy_indices, noise_scores = self._corrupt(X, y_indices, classes, rng)

        y_noisy = np.array(y, copy=True)
        y_noisy[...] = classes[noisy_indices]
        self.classes_ = classes
        self.noisy_labels_ = y_noisy
        self.noise_mask_ = noisy_indices != y_indices
        self.noise_rate_ = float(self.noise_mask_.mean())
        self.transition_matrix_ = empirical_transition_matrix(
            y_indices, noisy_indices, len(classes)
        )
        if noise_scores is not None:
            self.noise_scores_ = np.asarray(noise_scores, dtype=np.float64)
        return X, y_noisy


@fill_docstring()
class IDNLabelCorruptor(_LabelCorruptor):
    """Instance-dependent label noise.

    ``strategy="prediction"`` is Algorithm 1 of Chen et al., "Beyond
    Class-Conditional Assumption: A Primary Attempt to Combat
    Instance-Dependent Label Noise" (AAAI 2021): a network is trained on the
    clean labels for ``n_epochs``; after every epoch its eval-mode softmax on
    the training set is recorded and the records are averaged into ``S``.
    The mislabeling score of sample ``i`` is ``N(x_i) = max_{{k != y_i}} S_ik``;
    exactly ``round(noise_rate * n_samples)`` samples with the highest scores
    get the label ``argmax_{{k != y_i}} S_ik`` (ties go to the lower index).
    Samples the network keeps confusing are the ones mislabeled, as a human
    annotator would.

    ``strategy="projection"`` is the part-dependent generator of Xia et al.
    (NeurIPS 2020), used by the LNL-flywheel and CORES papers: a flip rate per
    sample drawn from ``N(noise_rate, 0.1^2)`` truncated to ``[0, 1]``, a
    random projection ``W_c`` (entries from ``N(0, 1)``) per class; the label
    of a sample of class ``c`` stays with probability ``1 - flip rate`` and
    otherwise moves to class ``k != c`` with probability
    ``softmax_k(x W_c)`` over the other classes. Near the bounds the
    truncation shifts the mean flip rate (0.101 for ``noise_rate=0.05``);
    ``noise_rate=0`` flips nothing. Where a flip goes depends on the feature
    scale: the larger the features, the closer ``softmax(x W_c)`` comes to
    one-hot (on digits, the likeliest wrong class gets on average 0.73 of a
    flip's probability for X in [0, 1], 0.86 for standardised X and 0.98 for
    the raw pixel values; see the user guide). The projections are drawn one class at a
    time, so memory grows as ``K * d + n * K`` (K classes, d features, n
    samples), not ``K^2 * d``; the time is dominated by drawing the
    ``K^2 * d`` normal entries (3.1e9 for K=1000, d=3072: minutes).

    Parameters
    ----------
    noise_rate : float in [0, 1), default=0.2
        Fraction of labels to corrupt (for ``"projection"``, the mean of the
        per-sample flip rates).
    strategy : {{"prediction", "projection"}}, default="prediction"
        How the wrong labels are chosen.
    n_epochs : int, default=20
        Epochs ``T`` of the network of ``"prediction"``. The paper states no
        ``T`` for MNIST; 20 is the default of the authors' official MNIST
        script (enough to fit clean MNIST).
    estimator : classifier of this package or None, default=None
        The network of ``"prediction"``; ``None`` uses
        ``CrossEntropyClassifier(max_epochs=n_epochs)`` (an MLP for 2-D X, a
        small CNN for images; not the paper's exact network). Any of the
        package's classifiers (a ``NoisyLabelClassifier`` such as
        :class:`~sklearn_noisy.CrossEntropyClassifier`) is accepted, because
        ``S`` is recorded by a callback in their skorch training loop (it
        averages the epochs after the network's last initialisation, so for
        a method that re-initialises it between stages, the last stage). Other
        scikit-learn classifiers raise ``InvalidParameterError``. A given
        estimator is cloned and trained for its own ``max_epochs``.
    device : str, default='cpu'
        Device of the default network.
    {corruptor_random_state}

    {corruptor_attributes}
    noise_scores_ : ndarray of shape (n_samples,)
        ``"prediction"``: the mislabeling score ``N(x_i)``; ``"projection"``:
        the sample's flip rate.
    average_softmax_ : ndarray of shape (n_samples, n_classes)
        ``"prediction"`` only: the averaged softmax ``S``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_noisy import IDNLabelCorruptor
    >>> X, y = load_digits(return_X_y=True)
    >>> corruptor = IDNLabelCorruptor(noise_rate=0.3, n_epochs=5, random_state=0)
    >>> X_same, y_noisy = corruptor.fit_resample(X / 16, y)
    >>> int(corruptor.noise_mask_.sum())
    539
    """

    _parameter_constraints = {
        "noise_rate": [Interval(numbers.Real, 0, 1, closed="left")],
        "strategy": [StrOptions({"prediction", "projection"})],
        "n_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "estimator": [_PackageClassifier(), None],
        "device": [str],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        noise_rate=0.2,
        *,
        strategy="prediction",
        n_epochs=20,
        estimator=None,
        device="cpu",
        random_state=None,
    ):
        self.noise_rate = noise_rate
        self.strategy = strategy
        self.n_epochs = n_epochs
        self.estimator = estimator
        self.device = device
        self.random_state = random_state

    def _validate_X_y(self, X, y):
        return validate_data(self, X, y, reset=True, allow_nd=True,
                             accept_sparse=["csr", "csc"],
                             dtype=[np.float64, np.float32])

    def _corrupt(self, X, y, classes, rng):
        # The noise depends on the features through dense computations; the
        # caller still gets X back exactly as given.
        if sparse.issparse(X):
            X = X.toarray()
        if self.strategy == "projection":
            return self._corrupt_by_projection(X, y, len(classes), rng)
        return self._corrupt_by_prediction(X, y, rng)

    def _corrupt_by_prediction(self, X, y, rng):
        if self.estimator is None:
            network = CrossEntropyClassifier(max_epochs=self.n_epochs, device=self.device)
        else:
            network = clone(self.estimator)
        if network.get_params().get("random_state", 0) is None:
            network.set_params(random_state=draw_seed(rng))
        recorder = EpochSoftmaxAverage()
        network.set_params(
            callbacks=[*(network.callbacks or []), ("idn_softmax_average", recorder)]
        )
        network.fit(X, y)
        average = recorder.average_.cpu().double().numpy()
        self.average_softmax_ = average

        others = average.copy()
        others[np.arange(len(y)), y] = -np.inf
        candidates = others.argmax(axis=1)
        scores = others.max(axis=1)
        n_flip = int(round(self.noise_rate * len(y)))
        # highest score first; among equal scores the lower index first
        flipped = np.lexsort((np.arange(len(y)), -scores))[:n_flip]
        noisy = y.copy()
        noisy[flipped] = candidates[flipped]
        return noisy, scores

    def _corrupt_by_projection(self, X, y, n_classes, rng):
        features = X.reshape(len(X), -1).astype(np.float64)
        if self.noise_rate == 0:
            return y.copy(), np.zeros(len(y))
        std = 0.1
        # truncnorm takes its bounds in standard deviations from loc
        flip_rates = truncnorm(
            (0 - self.noise_rate) / std, (1 - self.noise_rate) / std,
            loc=self.noise_rate, scale=std,
        ).rvs(len(y), random_state=rng)
        # One (d, K) projection at a time, in class order: RandomState fills
        # a (K, d, K) draw in C order from one stream, so these K draws give
        # the same numbers, and the same labels, as the single draw of
        # earlier versions, without its K^2 d memory.
        logits = np.empty((len(y), n_classes))
        for label in range(n_classes):
            projection = rng.standard_normal((features.shape[1], n_classes))
            members = y == label
            logits[members] = features[members] @ projection
        logits[np.arange(len(y)), y] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        proba *= (flip_rates / proba.sum(axis=1))[:, None]
        proba[np.arange(len(y)), y] = 1.0 - flip_rates
        return sample_rows(proba, rng), flip_rates

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


@fill_docstring()
class CCNLabelCorruptor(_LabelCorruptor):
    """Class-conditional label noise: the flip depends on the class only.

    Each sample of class ``i`` gets the label ``j`` with probability
    ``T[i, j]`` of a transition matrix ``T`` (rows and columns in the order of
    the sorted classes).

    "Symmetric" noise has two conventions in the literature. Here
    ``"symmetric"`` moves a changed label to one of the *other* K - 1 classes
    (the SLN paper's "to other classes"), so ``noise_rate`` is the flip rate.
    ``"uniform"`` resamples a fraction ``noise_rate`` of the labels over *all*
    K classes, the true one included (the DivideMix convention, and the
    LNL-flywheel paper's: labels flipped "evenly to all possible classes"), so
    only ``noise_rate * (K - 1) / K`` of the labels actually change.

    Parameters
    ----------
    noise_rate : float, default=0.2
        In [0, 1) for every transition but ``"uniform"``, where 1 (every label
        redrawn uniformly) is allowed too. For ``"uniform"`` the fraction of
        labels resampled; otherwise the probability that a label is changed
        (not used with a matrix).
    transition : str, dict or array-like of shape (n_classes, n_classes), \
            default="symmetric"
        - ``"symmetric"``: changed with probability ``noise_rate``, to any
          other class uniformly: ``T = (1 - r) I + r / (K - 1) (1 - I)``;
        - ``"uniform"``: resampled with probability ``noise_rate`` over all
          classes, the true one included: ``T = (1 - r) I + r / K``;
        - ``"pair"``: each class to the next one, the last to the first (the
          SLN paper's CIFAR-100 asymmetric noise, "each class into the next
          class circularly");
        - ``"cifar10"``: the CIFAR-10 flips of the SLN and GCE papers (truck
          -> automobile, bird -> airplane, deer -> horse, cat <-> dog) on
          classes 0-9; the other classes keep their labels;
        - ``"cifar100-superclass"``: the CIFAR-100 asymmetric noise that flips
          each class to the next one of its superclass, circularly (20
          superclasses of 5 fine labels, taken in increasing fine-label
          order; the table is ``CIFAR100_COARSE_LABELS`` of this module).
          Needs exactly the 100 classes 0-99 of CIFAR-100's fine labels. Many
          public scripts instead flip within blocks of five consecutive fine
          labels (0-4, 5-9, ...), which are not superclasses since the fine
          labels are sorted alphabetically; that is a different matrix;
        - a dict ``{{source_label: target_label}}``: each listed class moves to
          its target with probability ``noise_rate``;
        - a K x K row-stochastic matrix of real numbers, used as given.

        A dict whose values are not labels, or a matrix that is not a square
        array of finite non-negative numbers with rows summing to 1, raises
        ``ValueError`` when ``fit_resample`` starts; labels that are not
        classes of y, or a matrix that is not K x K, once y is known.
    {corruptor_random_state}

    {corruptor_attributes}
    noise_scores_ : ndarray of shape (n_samples,)
        The probability ``1 - T[y_i, y_i]`` that the sample's label was
        changed.
    transition_ : ndarray of shape (n_classes, n_classes)
        The transition matrix that was sampled from.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_noisy import CCNLabelCorruptor
    >>> y = np.repeat([0, 1, 2], 100)
    >>> corruptor = CCNLabelCorruptor(0.4, transition="pair", random_state=0)
    >>> _, y_noisy = corruptor.fit_resample(np.zeros((300, 1)), y)
    >>> corruptor.transition_matrix_.round(1)
    array([[0.6, 0.4, 0. ],
           [0. , 0.6, 0.4],
           [0.4, 0. , 0.6]])
    """

    _parameter_constraints = {
        # 1 itself is allowed for "uniform" only (_validate_params).
        "noise_rate": [Interval(numbers.Real, 0, 1, closed="both")],
        "transition": [
            StrOptions({"symmetric", "uniform", "pair", "cifar10",
                        "cifar100-superclass"}),
            dict,
            "array-like",
        ],
        "random_state": ["random_state"],
    }

    def __init__(self, noise_rate=0.2, *, transition="symmetric", random_state=None):
        self.noise_rate = noise_rate
        self.transition = transition
        self.random_state = random_state

    def _validate_params(self):
        super()._validate_params()
        uniform = isinstance(self.transition, str) and self.transition == "uniform"
        if self.noise_rate == 1 and not uniform:
            raise InvalidParameterError(
                "The 'noise_rate' parameter of CCNLabelCorruptor must be in "
                "[0, 1) unless transition='uniform' (which allows 1: every "
                f"label redrawn over all classes); got noise_rate={self.noise_rate!r} "
                f"with transition={self.transition!r}."
            )

        _check_transition_structure(self.transition)

    def _validate_X_y(self, X, y):
        # X only travels through, so any X a pipeline can carry is accepted.
        return validate_data(self, X, y, reset=True, accept_sparse=True, dtype=None,
                             allow_nd=True, ensure_all_finite=False)

    def _transition(self, classes):
        n_classes = len(classes)
        rate = self.noise_rate
        transition = self.transition
        if isinstance(transition, str):
            if transition == "symmetric":
                matrix = np.full((n_classes, n_classes), rate / (n_classes - 1))
                np.fill_diagonal(matrix, 1 - rate)
                return matrix
            if transition == "uniform":
                return (1 - rate) * np.eye(n_classes) + rate / n_classes
            if transition == "pair":
                matrix = (1 - rate) * np.eye(n_classes)
                matrix[np.arange(n_classes), (np.arange(n_classes) + 1) % n_classes] += rate
                return matrix
            if transition == "cifar100-superclass":
                if n_classes != 100 or not np.array_equal(classes, np.arange(100)):
                    listed = classes.tolist()
                    shown = listed if n_classes <= 20 else (
                        f"{listed[:5]} ... {listed[-5:]}")
                    raise ValueError(
                        "transition='cifar100-superclass' needs the 100 CIFAR-100 "
                        f"fine labels 0-99 in y; got {n_classes} classes: {shown}."
                    )
                transition = cifar100_superclass_flips()
            else:
                if n_classes != 10 or not np.array_equal(classes, np.arange(10)):
                    raise ValueError(
                        "transition='cifar10' needs the CIFAR-10 labels 0-9; got "
                        f"classes {list(classes)}."
                    )
                transition = CIFAR10_FLIPS
        if isinstance(transition, dict):
            position = {label: index for index, label in enumerate(classes.tolist())}
            unknown = [k for k in [*transition, *transition.values()] if k not in position]
            if unknown:
                raise ValueError(
                    f"transition maps labels {unknown} that are not classes of y "
                    f"({abbreviate(classes)})."
                )
            matrix = np.eye(n_classes)
            for source, target in transition.items():
                if source != target:
                    matrix[position[source], position[source]] = 1 - rate
                    matrix[position[source], position[target]] = rate
            return matrix
        matrix = _check_transition_structure(transition)
        if matrix.shape != (n_classes, n_classes):
            raise ValueError(
                f"transition matrix must have shape ({n_classes}, {n_classes}) for "
                f"the {n_classes} classes of y; got {matrix.shape}."
            )
        return matrix

    def _corrupt(self, X, y, classes, rng):
        matrix = self._transition(classes)
        self.transition_ = matrix
        return sample_from_transition(matrix, y, rng), 1.0 - matrix[y, y]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags
