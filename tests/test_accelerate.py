"""skorch's AccelerateMixin composes with every estimator (one process; the
fit over two processes is in test_distributed)."""

from types import SimpleNamespace

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


@pytest.mark.parametrize("accelerator, params, match", [
    ({"mixed_precision": "fp16"}, {}, "cannot train in float16"),
    ({}, {"precision": "float16"}, "cannot train in float16"),
    ({"gradient_accumulation_steps": 2}, {}, "cannot accumulate gradients over 2"),
])
def test_what_the_mixin_cannot_run_is_refused_before_training(data, accelerator, params,
                                                              match):
    # (accelerate keeps one state per process: a stand-in carries the settings)
    settings = {"mixed_precision": "no", "gradient_accumulation_steps": 1, **accelerator}
    Accelerated = type("AcceleratedCE", (AccelerateMixin, CrossEntropyClassifier), {})
    clf = Accelerated(accelerator=SimpleNamespace(device="cpu", device_placement=True,
                                                  **settings),
                      max_epochs=1, **params)
    with pytest.raises(ValueError, match=match):
        clf.fit(*data)
    assert not hasattr(clf, "module_")


def test_a_loss_accelerate_cannot_prepare_on_cpu_processes_is_explained(data, monkeypatch):
    # accelerate 1.16 on CPU processes wraps the loss in DistributedDataParallel,
    # which raises; the estimator says what to do instead
    Accelerated = type("AcceleratedCE", (AccelerateMixin, CrossEntropyClassifier), {})

    def initialize(self):
        raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                           "have any parameter that requires a gradient.")

    monkeypatch.setattr(Accelerated, "initialize", initialize)
    clf = Accelerated(accelerator=accelerate.Accelerator(cpu=True), max_epochs=1)
    with pytest.raises(NotImplementedError, match="without the mixin under torchrun"):
        clf.fit(*data)
