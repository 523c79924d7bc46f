"""Data sets the benchmark can run on."""

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_classification
from sklearn.preprocessing import StandardScaler

DATASETS = ("digits", "wine", "breast_cancer", "synthetic")


def load_dataset(name, n_samples=2000):
    """Return ``(X, y)`` as float32 features and integer labels.

    Parameters
    ----------
    name : {"digits", "wine", "breast_cancer", "synthetic"}
        ``digits`` is scaled to [0, 1] (X / 16) as in the digits-IDN
        protocol; ``wine`` and ``breast_cancer`` are standardised;
        ``synthetic`` is ``make_classification`` with 20 features, 10
        informative, 4 classes and ``n_samples`` rows.
    n_samples : int, default=2000
        Size of ``synthetic``.
    """
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return (X / 16).astype(np.float32), y
    if name in ("wine", "breast_cancer"):
        loader = load_wine if name == "wine" else load_breast_cancer
        X, y = loader(return_X_y=True)
        return StandardScaler().fit_transform(X).astype(np.float32), y
    if name == "synthetic":
        X, y = make_classification(n_samples=n_samples, n_features=20, n_informative=10,
                                   n_classes=4, random_state=0)
        return X.astype(np.float32), y
    raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}.")
