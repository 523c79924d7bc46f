"""find_label_issues and the estimators' label_issues_."""

import re
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris, make_blobs
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_noisy import (
    CCNLabelCorruptor,
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    SEALClassifier,
    SLNClassifier,
    find_label_issues,
    make_pipeline,
)

SMALL = dict(max_epochs=4, batch_size=32, random_state=0)
ESTIMATORS = [
    CrossEntropyClassifier(**SMALL),
    SEALClassifier(n_iterations=1, **SMALL),
    SLNClassifier(sigma=0.5, **SMALL),
    ConfusionEMClassifier(eta_start_epoch=1, eta_update_every=1, **SMALL),
    FlywheelClassifier(warmup_epochs=2, **SMALL),
]
IDS = [type(estimator).__name__ for estimator in ESTIMATORS]


def blobs(n_samples=150, noise_rate=0.2, cluster_std=1.0, random_state=0):
    """Three separable blobs, float32, with symmetric flips; also the mask."""
    X, y = make_blobs(n_samples=n_samples, centers=[[-5, 0], [5, 0], [0, 8]],
                      cluster_std=cluster_std, random_state=random_state)
    X = X.astype(np.float32)
    if noise_rate == 0:
        return X, y, np.zeros(len(y), dtype=bool)
    corruptor = CCNLabelCorruptor(noise_rate, random_state=random_state)
    _, noisy = corruptor.fit_resample(X, y)
    return X, noisy, corruptor.noise_mask_


def test_data_frame_structure():
    X, y, _ = blobs()
    labels = np.array(["ant", "bee", "cat"])[y]
    issues = find_label_issues(LogisticRegression(), X, labels, random_state=0)
    assert list(issues.columns) == [
        "noise_score", "is_label_issue", "given_label", "corrected_label"]
    assert issues["noise_score"].dtype == np.float64
    assert issues["is_label_issue"].dtype == bool
    assert sorted(issues.index) == list(range(len(y)))
    scores = issues["noise_score"].to_numpy()
    assert np.all(np.diff(scores) <= 0) and np.all((scores >= 0) & (scores <= 1))
    # ties keep the order of position
    for _, tied in issues.groupby("noise_score", sort=False):
        assert list(tied.index) == sorted(tied.index)
    np.testing.assert_array_equal(issues["given_label"], labels[issues.index])
    assert set(issues["corrected_label"]) <= set(labels)
    flagged = issues[issues["is_label_issue"]]
    assert (flagged["given_label"] != flagged["corrected_label"]).all()
    rate = issues.attrs["noise_rate"]
    assert isinstance(rate, float) and 0 <= rate <= 1


def test_plain_classifier_finds_the_flips_and_the_noise_rate():
    X, y, flipped = blobs(n_samples=300, noise_rate=0.2)
    issues = find_label_issues(LogisticRegression(), X, y, random_state=0).sort_index()
    # the blobs are separable: every flip is found, nothing else
    np.testing.assert_array_equal(issues["is_label_issue"], flipped)
    assert issues.attrs["noise_rate"] == pytest.approx(flipped.mean(), abs=0.02)
    top = issues.sort_values("noise_score", ascending=False).index[:flipped.sum()]
    assert flipped[top].all()


def test_clean_data_has_few_issues():
    X, y, _ = blobs(n_samples=300, noise_rate=0, cluster_std=2.0)
    issues = find_label_issues(LogisticRegression(), X, y, random_state=0)
    assert issues["is_label_issue"].sum() <= 3
    assert issues.attrs["noise_rate"] <= 0.01


def test_noise_score_is_one_minus_held_out_proba():
    X, y, _ = blobs()
    folds = list(StratifiedKFold(3).split(X, y))
    estimator = LogisticRegression(C=0.01)
    issues = find_label_issues(estimator, X, y, cv=folds).sort_index()
    for train, test in folds:
        proba = clone(estimator).fit(X[train], y[train]).predict_proba(X[test])
        np.testing.assert_allclose(issues["noise_score"].to_numpy()[test],
                                   1 - proba[np.arange(len(test)), y[test]])
        np.testing.assert_array_equal(issues["corrected_label"].to_numpy()[test],
                                      proba.argmax(axis=1))


def test_filter_by():
    X, y, _ = blobs(n_samples=300, noise_rate=0.3, cluster_std=3.0)
    by_class = find_label_issues(LogisticRegression(), X, y, random_state=0)
    by_argmax = find_label_issues(LogisticRegression(), X, y, random_state=0,
                                  filter_by="predicted_neq_given")
    by_class, by_argmax = by_class.sort_index(), by_argmax.sort_index()
    np.testing.assert_array_equal(
        by_argmax["is_label_issue"],
        by_argmax["given_label"] != by_argmax["corrected_label"])
    assert not (by_class["is_label_issue"] & ~by_argmax["is_label_issue"]).any()
    assert by_class.attrs == by_argmax.attrs


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_package_estimators(estimator):
    X, y, flipped = blobs(n_samples=90)
    issues = find_label_issues(estimator, X, y, cv=3, random_state=0)
    assert sorted(issues.index) == list(range(len(y)))
    scores = issues["noise_score"].to_numpy()
    assert np.all((scores >= 0) & (scores <= 1))
    assert roc_auc_score(flipped, issues.sort_index()["noise_score"]) >= 0.95
    assert not hasattr(estimator, "module_")


def test_image_tensors():
    X, y = load_digits(return_X_y=True)
    images = torch.from_numpy((X[:120] / 16).astype(np.float32).reshape(-1, 1, 8, 8))
    issues = find_label_issues(CrossEntropyClassifier(**SMALL), images, y[:120], cv=3,
                               random_state=0)
    assert sorted(issues.index) == list(range(120))


def assert_held_out_scores_follow_eq_10(estimator):
    """The first fold's scores are SEAL's Eq. 10 on a clone fitted on the rest."""
    X, y, _ = blobs(n_samples=90)
    folds = list(StratifiedKFold(3).split(X, y))
    issues = find_label_issues(estimator, X, y, cv=folds).sort_index()
    train, test = folds[0]
    proba = clone(estimator).fit(X[train], y[train]).predict_proba(X[test])
    proba[np.arange(len(test)), y[test]] = -1
    np.testing.assert_allclose(issues["noise_score"].to_numpy()[test], proba.max(axis=1))


def test_seal_scores_held_out_samples_by_eq_10():
    assert_held_out_scores_follow_eq_10(SEALClassifier(n_iterations=1, **SMALL))


def test_pipeline_ending_in_a_package_estimator_uses_its_rule():
    assert_held_out_scores_follow_eq_10(
        make_pipeline(StandardScaler(), SEALClassifier(n_iterations=1, **SMALL)))


def test_parallel_folds_give_the_same_result():
    X, y, _ = blobs()
    serial = find_label_issues(LogisticRegression(), X, y, random_state=0)
    # threads: a process pool would spend most of the test importing torch
    with joblib.parallel_backend("threading"):
        parallel = find_label_issues(LogisticRegression(), X, y, random_state=0, n_jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_inputs_are_not_modified():
    X, y, _ = blobs()
    frame, series = pd.DataFrame(X), pd.Series(y, name="label")
    frame_copy, series_copy = frame.copy(), series.copy()
    X_copy, y_copy = X.copy(), y.copy()
    estimator = CrossEntropyClassifier(**SMALL)
    params = estimator.get_params(deep=False)
    find_label_issues(estimator, X, y, cv=3, random_state=0)
    find_label_issues(LogisticRegression(), frame, series, random_state=0)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    pd.testing.assert_frame_equal(frame, frame_copy)
    pd.testing.assert_series_equal(series, series_copy)
    assert estimator.get_params(deep=False) == params and not hasattr(estimator, "module_")


@pytest.mark.parametrize("estimator, words", [
    (SVC(), "has no predict_proba"),
    (LinearRegression(), "is not a classifier"),
])
def test_refuses_estimators_without_predict_proba(estimator, words):
    X, y, _ = blobs()
    with pytest.raises(TypeError, match=words):
        find_label_issues(estimator, X, y)


def test_refuses_bad_input():
    X, y, _ = blobs()
    with pytest.raises(ValueError, match="filter_by"):
        find_label_issues(LogisticRegression(), X, y, filter_by="margin")
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        find_label_issues(LogisticRegression(), X, y[:-1])
    with pytest.raises(ValueError, match="only one class"):
        find_label_issues(LogisticRegression(), X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="missing label"):
        find_label_issues(LogisticRegression(), X, np.where(y == 0, None, y))
    lonely = y.copy()
    lonely[0] = 7
    with pytest.raises(ValueError, match=r"training part of fold \d has no sample of class"):
        find_label_issues(LogisticRegression(), X, lonely, cv=KFold(3))
    half = [(np.arange(75), np.arange(75, 150))]
    with pytest.raises(ValueError, match="cover every sample exactly once"):
        find_label_issues(LogisticRegression(), X, y, cv=half)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_label_issues_attribute(estimator):
    X, y, _ = blobs(n_samples=90, noise_rate=0.3)
    labels = np.array(["ant", "bee", "cat"])[y]
    fitted = clone(estimator).fit(X, labels)
    assert fitted.label_issues_.dtype == bool
    np.testing.assert_array_equal(fitted.label_issues_, fitted.corrected_labels_ != labels)


def test_docstring_example():
    import doctest

    from sklearn_noisy import label_issues

    assert doctest.testmod(label_issues).failed == 0


def run_user_guide_page(name, min_blocks):
    """Run the Python blocks of ``docs/user_guide/<name>`` in order, in one
    namespace, as a reader would; return the namespace."""
    page = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / name
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", page.read_text())
    assert len(blocks) >= min_blocks
    namespace = {}
    for block in blocks:
        code = "\n".join(line[3:] for line in block.splitlines())
        exec(compile(code, str(page), "exec"), namespace)
    return namespace


def test_user_guide_page_runs():
    """The Python blocks of docs/user_guide/noisy_data.rst, in order, in one
    namespace, as a reader would run them."""
    pytest.importorskip("cleanlab")
    namespace = run_user_guide_page("noisy_data.rst", min_blocks=6)
    issues, flags = namespace["issues"], namespace["cleanlab_flags"]
    assert issues.attrs["noise_rate"] > 0.05
    assert len(flags) == len(issues)
    assert len(namespace["label_issues"]) == len(issues)


def test_without_pandas_the_error_says_so():
    # in a fresh interpreter: scikit-learn's own checks look pandas up in
    # sys.modules once it has been imported, as it has been here
    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn_noisy import find_label_issues\n"
        "try:\n"
        "    find_label_issues(LogisticRegression(), [[0.0], [1.0]] * 5, [0, 1] * 5)\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True,
                               text=True, timeout=300,
                               cwd=Path(__file__).resolve().parents[1])
    assert "find_label_issues requires pandas" in completed.stdout, completed.stderr


def test_the_rows_carry_the_callers_sample_ids():
    X, y = load_iris(return_X_y=True)
    y[[0, 60, 120]] = [2, 0, 1]
    ids = [f"flower-{i}" for i in range(len(y))]
    frame = pd.DataFrame(X, index=ids)
    issues = find_label_issues(LogisticRegression(max_iter=1000), frame, y, random_state=0)
    assert sorted(issues.index[:3]) == ["flower-0", "flower-120", "flower-60"]
    mine = issues.loc[ids]  # back in the order of the data
    np.testing.assert_array_equal(mine["given_label"], y)
    # the same ranking as for the bare array, whose rows are positions
    positions = find_label_issues(LogisticRegression(max_iter=1000), X, y, random_state=0)
    assert list(issues.index) == [ids[i] for i in positions.index]
    # a Series of labels lends its index when X has none
    by_label = find_label_issues(LogisticRegression(max_iter=1000), X,
                                 pd.Series(y, index=ids), random_state=0)
    assert list(by_label.index) == list(issues.index)


def test_csv_walkthrough_runs(tmp_path, monkeypatch):
    """The Python blocks of docs/user_guide/csv_walkthrough.rst, in order, in one
    namespace, in a folder of their own (they write a CSV file)."""
    monkeypatch.chdir(tmp_path)
    namespace = run_user_guide_page("csv_walkthrough.rst", min_blocks=7)
    issues, data = namespace["issues"], namespace["data"]
    assert issues.index.name == "image_id" and set(issues.index) == set(data.index)
    truth, labels = namespace["truth"], namespace["labels"]
    # relabelling by ID leaves fewer wrong labels than it found
    assert (namespace["relabelled"] != truth).mean() < (labels != truth).mean()
    assert namespace["noise_scores"].index.equals(data.index)
