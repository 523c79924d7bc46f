"""A test of the class-conditional noise (CCN) assumption (Theorem 1 of SEAL).

Under CCN, a noisy label depends on the true class only, through a
transition matrix ``M`` (rows: true class, columns: noisy label). Then no
classifier can agree with noisy labels more often than
``sum_p w_p max_q M_pq``, with ``w`` the clean class prior. A classifier whose
error on held-out noisy labels is lower than ``1 - sum_p w_p max_q M_pq`` by
``epsilon > 0`` makes CCN unlikely: by Hoeffding's inequality the
probability of that under CCN is at most ``exp(-2 m epsilon^2)`` for ``m``
validation samples.
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls
from sklearn.utils import check_consistent_length, column_or_1d

from ._validation import abbreviate, as_real_array, refuse_missing_labels


@dataclass(frozen=True)
class CCNTestResult:
    """The outcome of :func:`ccn_hypothesis_test`.

    Attributes
    ----------
    epsilon : float
        ``min_ccn_error - validation_error``; positive values are evidence
        against class-conditional noise.
    p_value_bound : float
        ``exp(-2 m epsilon^2)`` when ``epsilon > 0``, else 1. It underflows
        to 0.0 for large ``m``; read ``log10_p_value_bound`` then.
    log10_p_value_bound : float
        ``-2 m epsilon^2 / ln 10`` when ``epsilon > 0``, else 0.
    validation_error : float
        The classifier's error rate on the noisy validation labels.
    min_ccn_error : float
        ``1 - sum_p w_p max_q M_pq``: the lowest error any classifier can
        have on noisy labels if the noise is class-conditional with ``M``.
    n_samples : int
        ``m``, the number of validation samples.
    """

    epsilon: float
    p_value_bound: float
    log10_p_value_bound: float
    validation_error: float
    min_ccn_error: float
    n_samples: int


def ccn_hypothesis_test(y_noisy, y_pred, transition_matrix, class_prior=None):
    """Bound the p-value of the class-conditional noise hypothesis.

    Theorem 1 of Chen et al. (AAAI 2021). ``y_pred`` must come from a
    classifier that was not trained on these validation samples.

    Parameters
    ----------
    y_noisy : array-like of shape (n_samples,)
        Noisy labels of held-out validation samples.
    y_pred : array-like of shape (n_samples,)
        The classifier's predictions for the same samples.
    transition_matrix : array-like of shape (n_classes, n_classes)
        Estimated CCN transition matrix ``M``: ``M[p, q]`` is the probability
        that a sample of true class ``p`` is labelled ``q``; rows sum to 1.
        Labels that are integers in ``[0, n_classes)`` index it directly;
        other labels must take exactly ``n_classes`` values, which index it
        in sorted order (as ``classes_`` of the package's estimators).
        ``y_noisy`` and ``y_pred`` must hold labels of one type (numbers or
        strings) and share at least one label; ``y_pred`` may predict a class
        that is absent from the held-out ``y_noisy``.
    class_prior : array-like of shape (n_classes,) or None, default=None
        Clean class prior ``w``. When None it is estimated from ``y_noisy``:
        the noisy label frequencies are ``M^T w``, solved for ``w >= 0`` by
        non-negative least squares and normalised (a ``ValueError`` when the
        solution is ``w = 0``, see Raises).

    Returns
    -------
    result : CCNTestResult
        ``epsilon``, ``p_value_bound``, ``log10_p_value_bound`` and the
        quantities they come from.

    Raises
    ------
    ValueError
        If a label is missing (None or NaN), if ``y_noisy`` and ``y_pred``
        mix numbers and strings or share no label (every prediction would
        count as an error), if the labels or ``class_prior`` do not fit
        ``transition_matrix``, if ``transition_matrix`` or ``class_prior`` is
        not an array of real numbers, or if ``class_prior`` is None and it
        cannot be estimated: when every label of ``y_noisy`` has an all-zero
        column in ``transition_matrix`` (probability 0 under it), the
        non-negative least-squares estimate is ``w = 0`` and the bound is
        undefined; pass ``class_prior`` then.

    References
    ----------
    P. Chen, J. Ye, G. Chen, J. Zhao, P.-A. Heng. "Beyond Class-Conditional
    Assumption: A Primary Attempt to Combat Instance-Dependent Label Noise."
    AAAI 2021, Theorem 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_noisy import ccn_hypothesis_test
    >>> M = np.array([[0.8, 0.2], [0.2, 0.8]])
    >>> y_noisy = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0])
    >>> result = ccn_hypothesis_test(y_noisy, y_noisy, M)
    >>> round(result.epsilon, 3)
    0.2
    """
    y_noisy = column_or_1d(y_noisy)
    y_pred = column_or_1d(y_pred)
    check_consistent_length(y_noisy, y_pred)
    if len(y_noisy) == 0:
        raise ValueError("y_noisy and y_pred are empty; the test needs samples.")
    _check_label_sets(y_noisy, y_pred)
    transition = _check_transition_matrix(transition_matrix)
    n_classes = len(transition)
    noisy_indices = _noisy_label_indices(y_noisy, y_pred, n_classes)
    if class_prior is None:
        class_prior = _estimate_class_prior(noisy_indices, transition)
    else:
        class_prior = _check_class_prior(class_prior, n_classes)

    n_samples = len(y_noisy)
    validation_error = float(np.mean(y_noisy != y_pred))
    min_ccn_error = float(1.0 - class_prior @ transition.max(axis=1))
    epsilon = min_ccn_error - validation_error
    if epsilon > 0:
        exponent = -2.0 * n_samples * epsilon**2
        p_value_bound, log10_p_value_bound = math.exp(exponent), exponent / math.log(10)
    else:
        p_value_bound, log10_p_value_bound = 1.0, 0.0
    return CCNTestResult(
        epsilon=epsilon,
        p_value_bound=p_value_bound,
        log10_p_value_bound=log10_p_value_bound,
        validation_error=validation_error,
        min_ccn_error=min_ccn_error,
        n_samples=n_samples,
    )


def _label_kind(labels, name):
    """``"number"`` or ``"string"``: what the labels are, refusing a mixture."""
    if labels.dtype.kind in "biuf":
        return "number"
    if labels.dtype.kind in "US":
        return "string"
    kinds = {
        "string" if isinstance(label, str)
        else "number" if isinstance(label, numbers.Number)
        else type(label).__name__
        for label in labels
    }
    if len(kinds) != 1:
        raise ValueError(
            f"{name} mixes label types ({', '.join(sorted(kinds))}); use one type, "
            "e.g. convert every label with str() or int()."
        )
    return kinds.pop()


def _check_label_sets(y_noisy, y_pred):
    # A prediction never equals a label of another type or outside y_noisy's
    # label set; the test would then report an error rate of 1 without a
    # word. A predicted class absent from a small held-out set is legitimate,
    # so only disjoint sets are refused.
    refuse_missing_labels(y_noisy, "y_noisy")
    refuse_missing_labels(y_pred, "y_pred")
    noisy_kind, pred_kind = _label_kind(y_noisy, "y_noisy"), _label_kind(y_pred, "y_pred")
    if noisy_kind != pred_kind:
        raise ValueError(
            f"y_noisy holds {noisy_kind} labels {abbreviate(np.unique(y_noisy))} but "
            f"y_pred holds {pred_kind} labels {abbreviate(np.unique(y_pred))}; a "
            f"{pred_kind} never equals a {noisy_kind}, so every prediction would count "
            "as an error. Give both in the same type."
        )
    noisy_classes, pred_classes = np.unique(y_noisy), np.unique(y_pred)
    if not np.isin(pred_classes, noisy_classes).any():
        raise ValueError(
            f"y_noisy and y_pred share no label: y_noisy has "
            f"{abbreviate(noisy_classes)}, y_pred has {abbreviate(pred_classes)}, "
            "so every prediction would count as an error. y_pred must use the "
            "labels of y_noisy (for instance, predictions of a classifier "
            "trained on such labels, decoded with its classes_)."
        )


def _real_array(value, name, expected):
    """``value`` as a float64 ndarray, or a ValueError naming ``name``."""
    values, problem = as_real_array(value)
    if problem is not None:
        raise ValueError(f"{name} must be {expected}; {problem}.")
    return values


def _check_transition_matrix(transition_matrix):
    transition = _real_array(
        transition_matrix, "transition_matrix",
        "a square (n_classes, n_classes) matrix of probabilities")
    if transition.ndim != 2 or transition.shape[0] != transition.shape[1]:
        raise ValueError(
            "transition_matrix must be a square (n_classes, n_classes) matrix; "
            f"got shape {transition.shape}."
        )
    if (
        not np.all(np.isfinite(transition))
        or np.any(transition < 0)
        or not np.allclose(transition.sum(axis=1), 1.0, atol=1e-6)
    ):
        raise ValueError(
            "transition_matrix must hold probabilities whose rows sum to 1."
        )
    return transition


def _noisy_label_indices(y_noisy, y_pred, n_classes):
    # y_pred takes part in checking the labels against the matrix only.
    labels = np.concatenate([y_noisy, y_pred])
    if np.issubdtype(labels.dtype, np.integer) and labels.min() >= 0 and labels.max() < n_classes:
        return y_noisy.astype(np.intp)
    classes = np.unique(labels)
    if len(classes) != n_classes:
        raise ValueError(
            f"The labels take {len(classes)} distinct values but transition_matrix "
            f"has {n_classes} classes; use integer labels 0..{n_classes - 1} or "
            "exactly one value per class."
        )
    return np.searchsorted(classes, y_noisy)


def _estimate_class_prior(noisy_indices, transition):
    n_classes = len(transition)
    noisy_prior = np.bincount(noisy_indices, minlength=n_classes) / len(noisy_indices)
    prior = _exact_nonnegative_solution(transition.T, noisy_prior)
    if prior is None:
        prior, _ = nnls(transition.T, noisy_prior)
    total = prior.sum()
    if not total > 0:
        # nnls gives w = 0 exactly when M @ noisy_prior = 0: every label seen
        # in y_noisy has an all-zero column in M, i.e. probability 0 under M
        # whatever the clean prior. min_ccn_error would be 0 / 0.
        seen = np.flatnonzero(noisy_prior).tolist()
        raise ValueError(
            "class_prior cannot be estimated from y_noisy: the columns "
            f"{abbreviate(seen)} of transition_matrix, which y_noisy's labels index, "
            "are all zero, so under this matrix (rows: true class, columns: noisy "
            "label) none of the observed noisy labels can occur and no class prior "
            "w >= 0 explains their frequencies. Check transition_matrix, or pass "
            "class_prior (the clean class prior) explicitly."
        )
    return prior / total


def _exact_nonnegative_solution(matrix, target):
    """``w >= 0`` with ``matrix @ w = target``, by one solve, or None.

    Such a w is the least-squares solution under ``w >= 0`` that ``nnls``
    would find after many active-set steps (each O(K^3): 4 s at K = 2,000);
    the solve is one O(K^3) factorisation.
    """
    try:
        solution = np.linalg.solve(matrix, target)
    except np.linalg.LinAlgError:  # a singular matrix: leave it to nnls
        return None
    residual = np.abs(matrix @ solution - target).max()
    if solution.min() < 0 or not residual <= 1e-12:
        return None
    return solution


def _check_class_prior(class_prior, n_classes):
    prior = _real_array(class_prior, "class_prior",
                        f"{n_classes} non-negative probabilities summing to 1")
    if prior.shape != (n_classes,) or np.any(prior < 0) or not np.isclose(prior.sum(), 1.0):
        raise ValueError(
            f"class_prior must be {n_classes} non-negative probabilities summing to 1."
        )
    return prior
