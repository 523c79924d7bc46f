"""Out-of-fold label-issue search for data whose labels are already noisy.

A model fitted on noisy labels has seen them: a network that memorised a
wrong label agrees with it, so in-sample noise scores miss exactly the
samples one is looking for. :func:`find_label_issues` judges every sample by
a clone of the estimator fitted on the other folds, and thresholds the
scores with confident learning's estimate of how many labels of each class
are wrong (Northcutt, Jiang and Chuang, JAIR 2021), as cleanlab does.
"""

import numbers

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils._optional_dependencies import check_pandas_support
from sklearn.utils._param_validation import (
    HasMethods,
    Integral,
    StrOptions,
    validate_params,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_consistent_length, column_or_1d, indexable
from torch.utils.data import Subset

from ._loading import is_user_dataset
from ._validation import abbreviate, refuse_missing_labels


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "X": ["array-like"],
        "y": ["array-like"],
        "cv": ["cv_object"],
        "filter_by": [StrOptions({"prune_by_class", "predicted_neq_given"})],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=False,
)
def find_label_issues(estimator, X, y, cv=5, *, filter_by="prune_by_class",
                      n_jobs=None, random_state=None):
    """Rank the samples by how likely their given label is wrong, out of fold.

    Every sample is scored by a clone of ``estimator`` fitted on the other
    folds, so a model that memorises its training labels cannot vouch for
    them.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        Any estimator of the package, or any scikit-learn classifier (or
        pipeline ending in one) with ``predict_proba``. It is cloned for
        every fold and left unfitted.
    X : array-like, DataFrame or torch.Tensor of shape (n_samples, ...)
        Whatever ``estimator.fit`` accepts.
    y : array-like of shape (n_samples,)
        Given labels, some of which may be wrong.
    cv : int, cross-validation generator or iterable, default=5
        An int is the number of folds of a shuffled
        :class:`~sklearn.model_selection.StratifiedKFold` seeded by
        ``random_state``; anything else is resolved by
        :func:`~sklearn.model_selection.check_cv`. The test folds must
        partition the samples, and every training part must contain every
        class (a class needs at least two samples).
    filter_by : {'prune_by_class', 'predicted_neq_given'}, \
default='prune_by_class'
        Which samples ``is_label_issue`` flags.

        * ``'prune_by_class'``: confident learning's count. For each given
          class k, the calibrated confident joint estimates how many of its
          samples truly belong to another class; that many samples of class
          k with the highest ``noise_score`` are flagged, except those whose
          given label is still the out-of-fold prediction. This is
          cleanlab's ``filter_by='prune_by_class'`` with the method's own
          noise score for the ranking (cleanlab ranks by ``p(given
          label)``, which is the same ranking for
          :class:`~sklearn_noisy.CrossEntropyClassifier` and plain
          classifiers).
        * ``'predicted_neq_given'``: every sample whose given label is not
          the out-of-fold prediction, the rule of the estimators'
          ``label_issues_``.

        The first flags fewer samples, more of them wrong. Under
        instance-dependent noise confident learning underestimates the
        number of wrong labels, and the second finds more of them (measured
        in :doc:`/user_guide/noisy_data`).
    n_jobs : int or None, default=None
        Folds fitted in parallel through joblib (``None``: one, unless in a
        :func:`joblib.parallel_backend` context, such as ``"dask"``).
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds when ``cv`` is an int. The fits are seeded by
        ``estimator``'s own ``random_state``.

    Returns
    -------
    issues : pandas.DataFrame
        One row per sample, sorted by decreasing ``noise_score`` (ties in
        order of position). Indexed like ``X`` when it is a pandas DataFrame
        or Series (else like ``y`` when that is a Series), so the rows carry
        your sample IDs; otherwise by position in ``X`` (0 .. n-1).
        Columns:

        * ``noise_score`` (float): the estimator's ``noise_scores_`` rule on
          held-out samples, from its ``held_out_noise_scores(X, y)`` method
          when it has one (the last step's, for a Pipeline):
          ``1 - p(given label)`` of the held-out ``predict_proba`` for plain
          classifiers and for
          :class:`~sklearn_noisy.CrossEntropyClassifier`,
          :class:`~sklearn_noisy.SLNClassifier` and
          :class:`~sklearn_noisy.ConfusionEMClassifier`; the largest
          probability of another class for
          :class:`~sklearn_noisy.SEALClassifier` (Eq. 10 without the
          averaging over epochs); the E-step's probability that the label
          is corrupted for :class:`~sklearn_noisy.FlywheelClassifier`.
          Higher means more suspicious.
        * ``is_label_issue`` (bool): see ``filter_by``.
        * ``given_label``: the label in ``y``.
        * ``corrected_label``: the class of highest held-out probability.

        ``issues.attrs["noise_rate"]`` is confident learning's estimate of
        the fraction of wrong labels (the off-diagonal mass of the
        calibrated confident joint), whatever ``filter_by``.

    Raises
    ------
    TypeError
        If ``estimator`` is not a classifier with ``predict_proba``.
    ImportError
        If pandas is not installed.

    See Also
    --------
    cleanlab.filter.find_label_issues : the same search from out-of-fold
        probabilities that you compute yourself.

    Notes
    -----
    Confident learning (Northcutt et al., 2021): with ``t_j`` the mean
    held-out probability of class j over the samples labelled j, a sample
    labelled i is counted in cell (i, j) of the confident joint when its
    probability of class j reaches ``t_j`` (the most probable such j when
    there are several). Each row is rescaled to the number of samples
    labelled i; its off-diagonal sum is the estimated number of wrong labels
    in class i.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_noisy import find_label_issues
    >>> X, y = load_iris(return_X_y=True)
    >>> y[[0, 60, 120]] = [2, 0, 1]
    >>> issues = find_label_issues(LogisticRegression(max_iter=1000), X, y,
    ...                            random_state=0)
    >>> list(issues.columns)
    ['noise_score', 'is_label_issue', 'given_label', 'corrected_label']
    >>> sorted(issues.index[:3])
    [0, 60, 120]
    """
    pandas = check_pandas_support("sklearn_noisy.find_label_issues")
    _check_estimator(estimator)
    refuse_missing_labels(y, "y")
    index = _pandas_index(X, y)
    X, y = indexable(X, y)
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    check_classification_targets(y)
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"y contains only one class ({classes[0]!r}); label issues need at "
            "least two classes.")
    if isinstance(cv, numbers.Integral):
        cv = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    folds = _checked_folds(check_cv(cv, y, classifier=True), X, y, encoded, classes)

    results = Parallel(n_jobs=n_jobs)(
        delayed(_held_out_fold)(estimator, X, y, train, test, classes)
        for train, test in folds
    )
    n_samples = len(y)
    proba = np.empty((n_samples, len(classes)))
    noise_score = np.empty(n_samples)
    for (_, test), (fold_proba, fold_scores) in zip(folds, results):
        proba[test], noise_score[test] = fold_proba, fold_scores

    predicted = proba.argmax(axis=1)
    counts = _wrong_label_counts(proba, encoded, len(classes))
    if filter_by == "prune_by_class":
        is_issue = _prune_by_class(noise_score, encoded, counts)
    else:
        is_issue = np.ones(n_samples, dtype=bool)
    is_issue &= predicted != encoded

    issues = pandas.DataFrame(
        {
            "noise_score": noise_score,
            "is_label_issue": is_issue,
            "given_label": y,
            "corrected_label": classes[predicted],
        },
        index=pandas.RangeIndex(n_samples) if index is None else index,
    )
    issues = issues.iloc[np.argsort(-noise_score, kind="stable")]
    issues.attrs["noise_rate"] = float(counts.sum() / n_samples)
    return issues


def _pandas_index(X, y):
    """The index of a DataFrame or Series ``X``, else of a Series ``y``, else None.

    The caller's sample IDs then label the result's rows.
    """
    for data in (X, y):
        if hasattr(data, "iloc") and hasattr(data, "index"):
            return data.index
    return None


def _check_estimator(estimator):
    """Refuse what is not a classifier with predict_proba."""
    if not is_classifier(estimator):
        problem = "is not a classifier"
    elif not hasattr(estimator, "predict_proba"):
        problem = ("has no predict_proba (some classifiers have it behind a "
                   "parameter, such as SVC(probability=True))")
    else:
        return
    raise TypeError(
        "find_label_issues needs a classifier with predict_proba, from which the "
        f"noise scores are computed; {estimator!r} {problem}.")


def _checked_folds(cv, X, y, encoded, classes):
    """The (train, test) index pairs; refuse folds that cannot score every
    sample once against every class."""
    folds = list(cv.split(X, y))
    tested = np.concatenate([test for _, test in folds]) if folds else np.array([], int)
    if len(tested) != len(y) or not np.array_equal(np.sort(tested), np.arange(len(y))):
        raise ValueError(
            "cv must split the samples into test folds that cover every sample "
            "exactly once, a partition such as KFold or StratifiedKFold gives; "
            f"its test folds hold {len(tested)} indices, {len(np.unique(tested))} of "
            f"them distinct, for {len(y)} samples.")
    for number, (train, _) in enumerate(folds):
        missing = np.setdiff1d(np.arange(len(classes)), encoded[train])
        if len(missing):
            raise ValueError(
                f"The training part of fold {number} has no sample of class(es) "
                f"{abbreviate(classes[missing])}, so the held-out samples cannot be "
                "scored against them. Every class needs at least two samples; with "
                "few samples per class use fewer folds.")
    return folds


def _held_out_fold(estimator, X, y, train, test, classes):
    """Fit a clone on ``train``; probabilities (columns in ``classes``
    order) and noise scores of the ``test`` samples."""
    model = clone(estimator).fit(_rows(X, train), y[train])
    X_test, given = _rows(X, test), y[test]
    proba = np.asarray(model.predict_proba(X_test), dtype=np.float64)
    model_classes = np.asarray(getattr(model, "classes_", classes))
    if (proba.shape != (len(test), len(classes))
            or not np.array_equal(np.sort(model_classes), classes)):
        raise ValueError(
            f"{type(model).__name__}.predict_proba returned shape {proba.shape} with "
            f"classes_ {model_classes!r}; expected one column for each of the "
            f"{len(classes)} classes of y.")
    proba = proba[:, np.argsort(np.searchsorted(classes, model_classes))]
    rule_owner, X_rule = model, X_test
    if isinstance(model, Pipeline):
        rule_owner = model.steps[-1][1]
    rule = getattr(rule_owner, "held_out_noise_scores", None)
    if rule is None:
        scores = 1.0 - proba[np.arange(len(test)), np.searchsorted(classes, given)]
    else:
        if rule_owner is not model:
            X_rule = model[:-1].transform(X_test)
        scores = np.asarray(rule(X_rule, given), dtype=np.float64)
    return proba, scores


def _rows(X, indices):
    """The samples ``indices`` of X; a view for a torch Dataset (which
    scikit-learn's indexing would read as an array of items)."""
    if is_user_dataset(X):
        return Subset(X, np.asarray(indices).tolist())
    return _safe_indexing(X, indices)


def _wrong_label_counts(proba, labels, n_classes):
    """Confident learning's estimated number of wrong labels per given class.

    Off-diagonal row sums of the confident joint calibrated to the label
    counts (Northcutt et al., 2021, Eq. 2 and 3).
    """
    thresholds = np.array([
        proba[labels == k, k].mean() for k in range(n_classes)])
    # cleanlab's tolerance, so that a probability equal to its class's
    # threshold up to rounding counts as confident
    confident = proba >= thresholds - 1e-6
    n_confident = confident.sum(axis=1)
    guess = np.where(n_confident > 1, proba.argmax(axis=1), confident.argmax(axis=1))
    counted = n_confident > 0
    joint = np.zeros((n_classes, n_classes))
    np.add.at(joint, (labels[counted], guess[counted]), 1)
    # cleanlab keeps at least one sample on the diagonal, so that a class
    # whose confident samples all look mislabelled is not emptied
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    label_counts = np.bincount(labels, minlength=n_classes)
    off_diagonal = joint.sum(axis=1) - joint.diagonal()
    return np.rint(off_diagonal / joint.sum(axis=1) * label_counts).astype(int)


def _prune_by_class(noise_score, labels, counts):
    """Flag, in each given class, its ``counts`` samples of highest score."""
    flagged = np.zeros(len(labels), dtype=bool)
    for k, count in enumerate(counts):
        members = np.flatnonzero(labels == k)
        order = np.argsort(-noise_score[members], kind="stable")
        flagged[members[order[:count]]] = True
    return flagged
