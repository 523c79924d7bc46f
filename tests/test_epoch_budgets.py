"""Epoch-count parameters given as fractions of max_epochs: every estimator
fits at any budget with its defaults, and no step is silently switched off."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_noisy import (
    CCNLabelCorruptor,
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    SEALClassifier,
    SLNClassifier,
)
from sklearn_noisy import sln
from sklearn_noisy._validation import resolve_epochs

BUDGETS = (2, 10, 20)


@pytest.fixture(scope="module")
def data():
    X, y = make_blobs(n_samples=120, centers=3, n_features=4, random_state=0)
    _, y_noisy = CCNLabelCorruptor(0.3, random_state=0).fit_resample(X, y)
    return X.astype(np.float32), y_noisy


@pytest.mark.parametrize("fraction, max_epochs, expected", [
    (0.4, 50, 20), (0.4, 2, 1), (0.4, 10, 4), (0.1, 50, 5), (0.1, 2, 1),
    (0.5, 100, 50), (0.5, 3, 2), (0.99, 10, 9), (0.01, 500, 5), (0.5, 1, 1), (0.001, 100, 1),
])
def test_a_fraction_resolves_to_an_epoch_before_the_last(fraction, max_epochs, expected):
    assert resolve_epochs(fraction, max_epochs) == expected


def test_an_int_is_an_epoch_count():
    assert resolve_epochs(7, 5) == 7
    assert resolve_epochs(np.int64(3), 50) == 3


@pytest.mark.parametrize("estimator, name", [
    (FlywheelClassifier, "warmup_epochs"),
    (SLNClassifier, "correction_epoch"),
    (ConfusionEMClassifier, "eta_start_epoch"),
])
@pytest.mark.parametrize("value", [1.0, 1.5, 20.0, -0.2, "0.4"])
def test_a_value_neither_epochs_nor_fraction_is_refused(data, estimator, name, value):
    X, y = data
    with pytest.raises(InvalidParameterError, match=name):
        estimator(**{name: value, "max_epochs": 2}).fit(X, y)


@pytest.mark.parametrize("max_epochs", BUDGETS)
def test_defaults_fit_at_any_budget_with_every_step_on(data, max_epochs, monkeypatch):
    corrections = []

    class CountedCorrection(sln.LabelCorrection):
        def on_epoch_begin(self, net, **kwargs):
            if len(net.history_) - 1 >= self.correction_epoch:
                corrections.append(len(net.history_))
            return super().on_epoch_begin(net, **kwargs)

    monkeypatch.setattr(sln, "LabelCorrection", CountedCorrection)
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is switched off with a warning either
        fitted = [clf.fit(X, y) for clf in (
            CrossEntropyClassifier(max_epochs=max_epochs, random_state=0),
            SEALClassifier(n_iterations=1, max_epochs=max_epochs, random_state=0),
            SLNClassifier(max_epochs=max_epochs, random_state=0),
            ConfusionEMClassifier(max_epochs=max_epochs, random_state=0),
            FlywheelClassifier(max_epochs=max_epochs, random_state=0))]
    for clf in fitted:
        assert len(clf.history_) == max_epochs, type(clf).__name__
    _, _, _, confusion_em, flywheel = fitted
    # SLN corrected the labels in its last epoch at least
    assert corrections and corrections[-1] == max_epochs
    # only eta's update moves it away from eta_init
    assert not np.allclose(confusion_em.eta_, confusion_em.eta_init)
    # epsilon starts at 1/K and only an EM cycle (Eq. 14) moves it
    assert not np.allclose(flywheel.epsilon_, 1 / 3)


def test_fractions_keep_the_chosen_defaults_at_the_default_budget():
    # the defaults were chosen as epoch counts at each estimator's default budget
    for estimator, name, epochs in [(FlywheelClassifier, "warmup_epochs", 20),
                                    (SLNClassifier, "correction_epoch", 50),
                                    (ConfusionEMClassifier, "eta_start_epoch", 5)]:
        params = estimator().get_params()
        assert resolve_epochs(params[name], params["max_epochs"]) == epochs


@pytest.mark.parametrize("estimator, name, consequence", [
    (SLNClassifier, "correction_epoch", "never corrected"),
    (ConfusionEMClassifier, "eta_start_epoch", "never updated"),
])
def test_an_int_never_reached_warns(data, estimator, name, consequence):
    X, y = data
    with pytest.warns(UserWarning, match=f"{name}=5 .*{consequence}"):
        estimator(**{name: 5, "max_epochs": 3}, random_state=0).fit(X, y)


def test_flywheel_needs_two_epochs(data):
    X, y = data
    with pytest.raises(ValueError, match="max_epochs >= 2"):
        FlywheelClassifier(max_epochs=1).fit(X, y)
