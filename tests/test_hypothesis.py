"""ccn_hypothesis_test: Theorem 1 of the SEAL paper."""

import math
import sys

import numpy as np
import pytest

from sklearn_noisy import CCNLabelCorruptor, ccn_hypothesis_test

M2 = np.array([[0.8, 0.2], [0.3, 0.7]])


def _labels_with_errors(n_samples, n_errors):
    y_noisy = np.tile([0, 1], n_samples // 2)
    y_pred = y_noisy.copy()
    y_pred[:n_errors] = 1 - y_pred[:n_errors]
    return y_noisy, y_pred


def test_clothing1m_arithmetic():
    # The paper's Clothing1M figures: epsilon = 0.2212 (rounded) on
    # m = 500,000 samples bounds the p-value below 10^-21250. Here the
    # smallest possible error under M2 with equal priors is 0.25, and
    # 14,395 errors in 500,000 give epsilon = 0.25 - 0.02879 = 0.22121.
    y_noisy, y_pred = _labels_with_errors(500_000, 14_395)
    result = ccn_hypothesis_test(y_noisy, y_pred, M2, class_prior=[0.5, 0.5])
    assert result.n_samples == 500_000
    assert result.min_ccn_error == pytest.approx(0.25)
    assert result.validation_error == pytest.approx(0.02879)
    assert result.epsilon == pytest.approx(0.22121)
    assert round(result.epsilon, 4) == 0.2212
    assert result.log10_p_value_bound < -21250
    assert result.log10_p_value_bound == pytest.approx(
        -2 * 500_000 * result.epsilon**2 / math.log(10))
    assert result.p_value_bound == 0.0  # exp(-48,934) underflows


def test_epsilon_exactly_0_2212_is_at_the_papers_bound():
    # Taken literally, epsilon = 0.2212 gives 10^-21249.8: the paper's
    # "< 10^-21250" holds for its unrounded epsilon (>= 0.221201).
    exponent = -2 * 500_000 * 0.2212**2 / math.log(10)
    assert exponent == pytest.approx(-21249.8, abs=0.05)


def test_small_sample_bound_is_exp_of_minus_2_m_epsilon_squared():
    y_noisy, y_pred = _labels_with_errors(100, 10)
    result = ccn_hypothesis_test(y_noisy, y_pred, M2, class_prior=[0.5, 0.5])
    assert result.epsilon == pytest.approx(0.25 - 0.10)
    assert result.p_value_bound == pytest.approx(math.exp(-2 * 100 * 0.15**2))
    assert result.log10_p_value_bound == pytest.approx(math.log10(result.p_value_bound))


def test_no_evidence_against_ccn_gives_a_vacuous_bound():
    y_noisy, y_pred = _labels_with_errors(100, 40)
    result = ccn_hypothesis_test(y_noisy, y_pred, M2, class_prior=[0.5, 0.5])
    assert result.epsilon < 0
    assert result.p_value_bound == 1.0 and result.log10_p_value_bound == 0.0


def test_class_prior_is_estimated_from_the_noisy_labels():
    # Clean prior (0.7, 0.3) seen through M2: noisy frequencies M2^T w.
    rng = np.random.default_rng(0)
    y_clean = (rng.random(200_000) < 0.3).astype(int)
    corruptor = CCNLabelCorruptor(transition=M2, random_state=0)
    _, y_noisy = corruptor.fit_resample(np.zeros((len(y_clean), 1)), y_clean)
    estimated = ccn_hypothesis_test(y_noisy, y_clean, M2)
    given = ccn_hypothesis_test(y_noisy, y_clean, M2, class_prior=[0.7, 0.3])
    assert estimated.min_ccn_error == pytest.approx(given.min_ccn_error, abs=0.01)
    # Predicting the clean labels cannot beat the CCN bound on CCN data.
    assert given.epsilon < 0.01


def test_string_labels_index_the_matrix_in_sorted_order():
    y_noisy = np.array(["cat", "dog"] * 50)
    y_pred = y_noisy.copy()
    as_strings = ccn_hypothesis_test(y_noisy, y_pred, M2, class_prior=[0.5, 0.5])
    as_integers = ccn_hypothesis_test((y_noisy == "dog").astype(int), (y_pred == "dog").astype(int),
                                      M2, class_prior=[0.5, 0.5])
    assert as_strings == as_integers


@pytest.mark.parametrize("kwargs, message", [
    ({"transition_matrix": np.ones((2, 3)) / 3}, "square"),
    ({"transition_matrix": np.array([[0.5, 0.4], [0.3, 0.7]])}, "sum to 1"),
    ({"transition_matrix": np.array([[1.2, -0.2], [0.3, 0.7]])}, "probabilities"),
    ({"class_prior": [0.2, 0.2]}, "class_prior"),
    ({"y_pred": np.zeros(5, dtype=int)}, "inconsistent"),
    ({"y_noisy": np.array(["a", "b", "c", "a"] * 25),
      "y_pred": np.array(["a", "b", "c", "a"] * 25)}, "distinct values"),
])
def test_bad_input_is_refused(kwargs, message):
    arguments = dict(y_noisy=np.tile([0, 1], 50), y_pred=np.tile([0, 1], 50),
                     transition_matrix=M2)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ccn_hypothesis_test(**arguments)


def test_labels_of_different_types_are_refused():
    y_noisy = np.tile([0, 1], 50)
    with pytest.raises(ValueError, match=r"y_noisy holds number labels \[0, 1\] but "
                                         r"y_pred holds string labels \['0', '1'\]"):
        ccn_hypothesis_test(y_noisy, y_noisy.astype(str), M2)


def test_a_label_set_mixing_types_is_refused():
    y_noisy = np.array([0, "1"] * 50, dtype=object)
    with pytest.raises(ValueError, match=r"y_noisy mixes label types \(number, string\)"):
        ccn_hypothesis_test(y_noisy, np.tile([0, 1], 50), M2)


def test_disjoint_label_sets_are_refused():
    # Both label sets index a 4-class matrix, yet no prediction can be right.
    y_noisy = np.tile([0, 1], 50)
    with pytest.raises(ValueError, match=r"share no label: y_noisy has \[0, 1\], "
                                         r"y_pred has \[2, 3\]"):
        ccn_hypothesis_test(y_noisy, y_noisy + 2, np.full((4, 4), 0.25))


def test_long_label_sets_are_abbreviated_in_the_message():
    y_noisy = np.arange(20)
    with pytest.raises(ValueError, match=r"\[0, 1, 2, 3, 4, \.\.\., 19\] \(20 in all\)"):
        ccn_hypothesis_test(y_noisy, y_noisy + 20, np.eye(40))


def test_a_predicted_class_absent_from_the_held_out_labels_is_accepted():
    # A small validation set may miss a class the classifier does predict.
    y_noisy = np.tile([0, 1], 50)
    y_pred = y_noisy.copy()
    y_pred[:10] = 2
    M3 = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    result = ccn_hypothesis_test(y_noisy, y_pred, M3)
    assert result.validation_error == pytest.approx(0.1)


@pytest.mark.parametrize("without_pandas", [False, True])
@pytest.mark.parametrize("y_noisy, y_pred, name", [
    (np.array([0, None, 1, 0] * 25), np.tile([0, 1], 50), "y_noisy"),
    (np.array(["a", "b"] * 50), np.array(["a", None] * 50), "y_pred"),
    (np.tile([0, 1], 50), np.array([0.0, np.nan] * 50), "y_pred"),
])
def test_missing_labels_are_named(y_noisy, y_pred, name, without_pandas, monkeypatch):
    if without_pandas:
        monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ValueError, match=rf"{name} contains \d+ missing label\(s\) "
                                         r"\(None or NaN\) at position\(s\) \[1, "):
        ccn_hypothesis_test(y_noisy, y_pred, M2)


@pytest.mark.parametrize("transition_matrix, class_prior, message", [
    (np.eye(2), ["a", "b"], r"class_prior must be 2 non-negative probabilities .*<U1"),
    (np.eye(2), [None, None], r"class_prior must be .*it holds None"),
    ([[1.0], [0.5, 0.5]], None, r"transition_matrix must be .*numpy cannot read it"),
    ([["a", "b"], ["c", "d"]], None, r"transition_matrix must be .*not real numbers"),
    (None, None, r"transition_matrix must be .*it holds None"),
])
def test_arrays_that_are_not_real_numbers_are_named(transition_matrix, class_prior,
                                                     message):
    with pytest.raises(ValueError, match=message):
        ccn_hypothesis_test([0, 1], [0, 1], transition_matrix, class_prior=class_prior)


def test_a_prior_that_cannot_be_estimated_is_refused():
    # Every row sends its class to label 1, yet y_noisy holds label 0 only:
    # under this matrix the noisy labels cannot occur, the non-negative
    # least-squares prior is w = 0 and min_ccn_error would be 0 / 0 (NaN).
    degenerate = [[0.0, 1.0], [0.0, 1.0]]
    with pytest.raises(ValueError, match=r"class_prior cannot be estimated .*columns "
                                         r"\[0\] of transition_matrix.*are all zero.*pass "
                                         r"class_prior"):
        ccn_hypothesis_test([0, 0], [0, 0], degenerate)
    # with the prior given, or with a label the matrix can produce, it is defined
    given = ccn_hypothesis_test([0, 0], [0, 0], degenerate, class_prior=[0.5, 0.5])
    assert given.min_ccn_error == 0.0 and given.epsilon == 0.0
    estimated = ccn_hypothesis_test([0, 1], [0, 1], degenerate)
    assert math.isfinite(estimated.epsilon) and estimated.min_ccn_error == 0.0


def test_the_prior_estimate_is_the_nonnegative_least_squares_one():
    from scipy.optimize import nnls

    from sklearn_noisy.hypothesis import _estimate_class_prior

    rng = np.random.RandomState(0)
    fallbacks = 0
    for _ in range(200):
        n_classes = rng.randint(2, 30)
        transition = (0.4 * rng.dirichlet(np.full(n_classes, 0.3), size=n_classes)
                      + 0.6 * np.eye(n_classes))
        noisy = rng.randint(0, n_classes, rng.randint(n_classes, 300))
        frequencies = np.bincount(noisy, minlength=n_classes) / len(noisy)
        expected, _ = nnls(transition.T, frequencies)
        fallbacks += np.linalg.solve(transition.T, frequencies).min() < 0
        np.testing.assert_allclose(_estimate_class_prior(noisy, transition),
                                   expected / expected.sum(), atol=1e-12)
    assert 0 < fallbacks < 200  # both the single solve and nnls were needed
