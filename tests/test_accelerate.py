"""skorch's AccelerateMixin composes with every estimator (one process; the
fit over two processes is in test_distributed)."""

import numpy as np
import pytest
from sklearn.base import clone

accelerate = pytest.importorskip("accelerate")
from skorch.hf import AccelerateMixin  # noqa: E402

from sklearn_noisy import (  # noqa: E402
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    SEALClassifier,
    SLNClassifier,
)

ESTIMATORS = {
    CrossEntropyClassifier: {},
    SEALClassifier: {"n_iterations": 1},
    SLNClassifier: {"correction_epoch": 2},
    ConfusionEMClassifier: {"eta_start_epoch": 1},
    FlywheelClassifier: {"warmup_epochs": 1},
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 6)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_an_accelerated_estimator_fits_as_the_estimator(cls, data):
    # as skorch's docs write it: the mixin first, device=None
    Accelerated = type(f"Accelerated{cls.__name__}", (AccelerateMixin, cls), {})
    X, y = data
    params = {"max_epochs": 3, "batch_size": 32, "random_state": 0, **ESTIMATORS[cls]}
    accelerated = Accelerated(accelerator=accelerate.Accelerator(cpu=True), **params)
    assert accelerated.get_params()["device"] is None
    copy = clone(accelerated)
    assert set(copy.get_params()) == set(accelerated.get_params())
    accelerated.fit(X, y)
    plain = cls(**params).fit(X, y)
    np.testing.assert_allclose(accelerated.predict_proba(X), plain.predict_proba(X),
                               atol=1e-6)
    np.testing.assert_allclose(accelerated.noise_scores_, plain.noise_scores_, atol=1e-6)
