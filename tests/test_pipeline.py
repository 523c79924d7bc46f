"""Corruptors inside imbalanced-learn pipelines: only training folds are corrupted."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, cross_val_score

import sklearn_noisy
from sklearn_noisy import (
    CCNLabelCorruptor,
    CrossEntropyClassifier,
    IDNLabelCorruptor,
    Pipeline,
    SEALClassifier,
    SLNClassifier,
    make_pipeline,
)


class LabelRecorder(ClassifierMixin, BaseEstimator):
    """Predicts the majority class and remembers the labels it was given."""

    def fit(self, X, y):
        self.fit_labels_ = np.array(y, copy=True)
        self.classes_, counts = np.unique(y, return_counts=True)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y, sample_weight=None):
        LabelRecorder.scored_labels.append(np.array(y, copy=True))
        return super().score(X, y)


def test_pipelines_are_imbalanced_learn_ones():
    from imblearn import pipeline

    assert issubclass(sklearn_noisy.Pipeline, pipeline.Pipeline)
    pipe = sklearn_noisy.make_pipeline(sklearn_noisy.CrossEntropyClassifier())
    assert type(pipe) is sklearn_noisy.Pipeline


def test_only_training_labels_are_corrupted():
    X, y = make_classification(n_samples=100, random_state=0)
    LabelRecorder.scored_labels = []
    pipe = make_pipeline(CCNLabelCorruptor(0.4, random_state=0), LabelRecorder())
    pipe.fit(X, y)
    assert (pipe[-1].fit_labels_ != y).sum() > 20
    pipe.score(X, y)
    # if the corruptor ran at score time, the scored labels would differ from y
    np.testing.assert_array_equal(LabelRecorder.scored_labels[-1], y)
    np.testing.assert_array_equal(pipe.predict(X), np.full(100, pipe[-1].classes_[0]))


def test_cross_validation_scores_held_out_folds_on_clean_labels():
    X, y = make_classification(n_samples=90, random_state=0)
    LabelRecorder.scored_labels = []
    pipe = Pipeline([("noise", CCNLabelCorruptor(0.4, random_state=0)),
                     ("clf", LabelRecorder())])
    cross_val_score(pipe, X, y, cv=3)
    scored = np.sort(np.concatenate(LabelRecorder.scored_labels))
    np.testing.assert_array_equal(scored, np.sort(y))


@pytest.mark.parametrize("corruptor", [
    IDNLabelCorruptor(0.3, n_epochs=3, random_state=0),
    CCNLabelCorruptor(0.3, transition="pair", random_state=0),
])
def test_grid_search_over_noise_pipeline(corruptor):
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4,
                               n_classes=3, random_state=0)
    pipe = make_pipeline(corruptor, CrossEntropyClassifier(max_epochs=3, random_state=0))
    search = GridSearchCV(pipe, {"crossentropyclassifier__lr": [1e-3, 1e-2]}, cv=2,
                          n_jobs=2).fit(X, y)
    assert 0 <= search.best_score_ <= 1


def test_grid_search_over_sln_sigma_with_idn_in_the_pipeline():
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4,
                               n_classes=3, random_state=0)
    pipe = make_pipeline(IDNLabelCorruptor(0.3, n_epochs=3, random_state=0),
                         SLNClassifier(max_epochs=3, random_state=0))
    search = GridSearchCV(pipe, {"slnclassifier__sigma": [0.1, 0.5]}, cv=2).fit(X, y)
    assert search.best_params_["slnclassifier__sigma"] in (0.1, 0.5)
    assert search.best_estimator_[-1].sigma == search.best_params_["slnclassifier__sigma"]


def test_seal_in_a_pipeline_reports_on_the_corrupted_training_labels():
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4,
                               n_classes=3, random_state=0)
    pipe = make_pipeline(CCNLabelCorruptor(0.3, random_state=0),
                         SEALClassifier(n_iterations=1, max_epochs=3, random_state=0))
    pipe.fit(X, y)
    seal = pipe[-1]
    assert seal.soft_labels_.shape == (len(X), 3)
    assert len(seal.noise_scores_) == len(X)


def test_a_pipeline_says_where_its_last_steps_attributes_are():
    from sklearn.datasets import load_iris
    from sklearn.model_selection import GridSearchCV

    from sklearn_noisy import CrossEntropyClassifier, IDNLabelCorruptor, make_pipeline

    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(IDNLabelCorruptor(noise_rate=0.2, random_state=0),
                         CrossEntropyClassifier(max_epochs=2, random_state=0))
    search = GridSearchCV(pipe, {"crossentropyclassifier__lr": [1e-3]}, cv=2)
    search.fit(X.astype("float32"), y)
    with pytest.raises(AttributeError, match=r"best_estimator_\[-1\]\.noise_scores_"):
        search.best_estimator_.noise_scores_
    assert search.best_estimator_[-1].noise_scores_.shape == (len(y),)
    assert not hasattr(pipe, "noise_scores_")  # unfitted: a plain AttributeError
    assert search.best_estimator_.classes_.tolist() == [0, 1, 2]
