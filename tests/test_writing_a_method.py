"""The contributor guide's worked example of a new method works as it says."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_noisy import CCNLabelCorruptor, find_label_issues

sys.path.insert(0, os.path.dirname(__file__))
from docs_modules import docs_module  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "writing_a_method.py"


@pytest.fixture(scope="module")
def example():
    return docs_module("writing_a_method")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0)
    _, y_noisy = CCNLabelCorruptor(noise_rate=0.3, random_state=0).fit_resample(
        X_train, y_train)
    return X_train, X_test, y_noisy, y_train != y_noisy, y_test


def test_the_example_is_about_fifty_lines():
    code = [line for line in EXAMPLE.read_text().splitlines() if line.strip()]
    assert len(code) <= 60


def test_the_example_method_learns_and_scores_its_labels(example, digits, one_thread):
    X_train, X_test, y_noisy, flipped, y_test = digits
    clf = example.BootstrapClassifier(max_epochs=20, random_state=0).fit(X_train, y_noisy)
    assert clf.score(X_test, y_test) > 0.9
    assert roc_auc_score(flipped, clf.noise_scores_) > 0.9
    assert clf.label_issues_.sum() > 0.5 * flipped.sum()
    # the targets moved away from the given labels: the callback ran
    assert clf.history_[-1, "train_loss"] > 0.05
    again = clone(clf)
    assert again.get_params(deep=False) == clf.get_params(deep=False)
    assert again.fit(X_train, y_noisy).predict_proba(X_test).tolist() == (
        clf.predict_proba(X_test).tolist())


def test_the_example_method_is_validated_and_finds_label_issues(example, digits, one_thread):
    X_train, _, y_noisy, flipped, _ = digits
    with pytest.raises(ValueError, match="beta"):
        example.BootstrapClassifier(beta=2.0).fit(X_train, y_noisy)
    with pytest.raises(ValueError, match="unexpected parameter"):
        example.BootstrapClassifier(betta=0.5).fit(X_train, y_noisy)
    issues = find_label_issues(
        example.BootstrapClassifier(max_epochs=10, random_state=0), X_train, y_noisy, cv=2)
    assert roc_auc_score(flipped, issues.sort_index()["noise_score"]) > 0.85
