"""
A grid search on a Dask cluster
===============================

joblib's ``dask`` backend sends ``GridSearchCV``'s fits to a
``dask.distributed`` cluster. Here the cluster is a local one with two worker
processes; on a real cluster, pass ``Client`` your scheduler's address instead
(see the "Scaling out" page). The scores equal those of ``n_jobs=1``, because
every fit is seeded by its ``random_state``.
"""

import logging

import joblib
import numpy as np
from dask.distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from sklearn_noisy import IDNLabelCorruptor, SLNClassifier, make_pipeline

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
pipe = make_pipeline(IDNLabelCorruptor(noise_rate=0.3, random_state=0),
                     SLNClassifier(max_epochs=20, random_state=0))
search = GridSearchCV(pipe, {"slnclassifier__sigma": [0.5, 1.0]}, cv=2, n_jobs=-1)

if __name__ == "__main__":  # worker processes re-import this file
    # silence_logs: only errors from the cluster's own logging (not the
    # routine notices of worker processes being stopped at the end).
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        print(f"a local cluster of {len(client.scheduler_info()['workers'])} workers")
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
    for sigma, score in zip(search.cv_results_["param_slnclassifier__sigma"],
                            search.cv_results_["mean_test_score"]):
        print(f"sigma={sigma}: clean accuracy {score:.3f}")
