"""Scale-out: GridSearchCV and find_label_issues on a dask.distributed cluster
through joblib."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from sklearn_noisy import (
    CrossEntropyClassifier,
    IDNLabelCorruptor,
    SLNClassifier,
    find_label_issues,
    make_pipeline,
)

distributed = pytest.importorskip("dask.distributed")


def test_grid_search_on_a_local_cluster_scores_like_n_jobs_1():
    X, y = make_classification(n_samples=240, n_features=10, n_informative=6,
                               n_classes=3, random_state=0)
    X = X.astype(np.float32)
    pipeline = make_pipeline(
        IDNLabelCorruptor(0.2, random_state=0),
        SLNClassifier(max_epochs=8, random_state=0),
    )
    grid = {"slnclassifier__sigma": [0.2, 1.0]}
    serial = GridSearchCV(pipeline, grid, cv=2, n_jobs=1).fit(X, y)

    # Estimators reach the workers pickled: unfitted ones carry their
    # parameters and no network, optimizer or device state.
    shipped = pickle.loads(pickle.dumps(pipeline))
    assert shipped.get_params()["slnclassifier__sigma"] == 1.0
    assert not hasattr(shipped[-1], "module_") and not hasattr(shipped[-1], "optimizer_")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with joblib.parallel_backend("dask"):
            on_cluster = GridSearchCV(pipeline, grid, cv=2, n_jobs=-1).fit(X, y)
        workers_used = client.run(lambda: True)
    assert len(workers_used) == 2
    np.testing.assert_array_equal(on_cluster.cv_results_["mean_test_score"],
                                  serial.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(on_cluster.cv_results_["split0_test_score"],
                                  serial.cv_results_["split0_test_score"])
    assert on_cluster.best_params_ == serial.best_params_


def test_find_label_issues_on_a_local_cluster_equals_n_jobs_1():
    X, y = make_classification(n_samples=150, n_features=8, n_informative=5,
                               n_classes=3, random_state=0)
    X = X.astype(np.float32)
    network = CrossEntropyClassifier(max_epochs=3, random_state=0)
    serial = find_label_issues(network, X, y, cv=3, random_state=0)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        with joblib.parallel_backend("dask"):
            on_cluster = find_label_issues(network, X, y, cv=3, random_state=0, n_jobs=-1)
    pd.testing.assert_frame_equal(on_cluster, serial)
