"""What every fit promises: randomness it owns, atomicity, clear divergence,
registered networks that pickle across devices, early parameter checks."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from joblib import Parallel, delayed
from skorch.callbacks import Callback
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError

from sklearn_noisy import (
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    SEALClassifier,
    SLNClassifier,
)
from sklearn_noisy.exceptions import TrainingDivergedError

ESTIMATORS = {
    "ce-dropout": lambda: CrossEntropyClassifier(module__dropout=0.3, **FAST),
    "seal": lambda: SEALClassifier(n_iterations=1, module__dropout=0.3, **FAST),
    "sln": lambda: SLNClassifier(correction_epoch=2, **FAST),
    "confusion-em": lambda: ConfusionEMClassifier(eta_start_epoch=1, eta_update_every=1,
                                                  **FAST),
    "flywheel": lambda: FlywheelClassifier(warmup_epochs=1, module__dropout=0.3, **FAST),
}
FAST = dict(max_epochs=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=150, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


def _fit_proba(name, X, y):
    return ESTIMATORS[name]().fit(X, y).predict_proba(X)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_same_seed_same_predictions_in_threads_and_processes(data, name):
    X, y = data
    sequential = [_fit_proba(name, X, y) for _ in range(2)]
    threads = Parallel(n_jobs=2, backend="threading")(
        delayed(_fit_proba)(name, X, y) for _ in range(2))
    processes = Parallel(n_jobs=2, backend="loky")(
        delayed(_fit_proba)(name, X, y) for _ in range(2))
    for proba in sequential[1:] + threads + processes:
        np.testing.assert_array_equal(proba, sequential[0])


def test_fits_leave_the_callers_random_state_alone(data):
    X, y = data
    np.random.seed(3)
    torch.manual_seed(3)
    expected_np, expected_torch = np.random.rand(), torch.rand(1)
    np.random.seed(3)
    torch.manual_seed(3)
    for make in ESTIMATORS.values():
        make().fit(X, y)
    assert np.random.rand() == expected_np
    assert torch.equal(torch.rand(1), expected_torch)


def test_unseeded_fits_draw_their_seed_from_numpy(data):
    X, y = data
    np.random.seed(0)
    first = CrossEntropyClassifier(max_epochs=2).fit(X, y).predict_proba(X)
    np.random.seed(0)
    second = CrossEntropyClassifier(max_epochs=2).fit(X, y).predict_proba(X)
    third = CrossEntropyClassifier(max_epochs=2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(second, third)


class FailAtEpoch(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history_) == self.epoch:
            raise RuntimeError("callback failure")


def _state(clf):
    return {
        "labels": clf.classes_.tolist(),
        "proba": clf.predict_proba(np.zeros((2, 8), dtype=np.float32)),
        "weights": [p.detach().clone() for p in clf.module_.parameters()],
        "noise_scores": clf.noise_scores_.copy(),
    }


def _assert_same_state(clf, before):
    after = _state(clf)
    assert after["labels"] == before["labels"]
    np.testing.assert_array_equal(after["proba"], before["proba"])
    np.testing.assert_array_equal(after["noise_scores"], before["noise_scores"])
    for a, b in zip(after["weights"], before["weights"]):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_failed_refit_leaves_the_estimator_as_it_was(data, name):
    X, y = data
    clf = ESTIMATORS[name]().fit(X, y)
    before = _state(clf)
    # A later fit on other labels that fails in a callback mid-training.
    clf.set_params(callbacks=[FailAtEpoch(2)])
    with pytest.raises(RuntimeError, match="callback failure"):
        clf.fit(X, np.array(["a", "b", "c"])[y])
    _assert_same_state(clf, before)
    assert clf.callbacks_ is not None and clf.predict(X).dtype == y.dtype


def test_a_refit_with_bad_input_found_late_leaves_the_estimator_as_it_was(data):
    X, y = data
    clf = ConfusionEMClassifier(eta_start_epoch=1, **FAST).fit(X, y)
    before = _state(clf)
    with pytest.raises(ValueError, match="psi"):
        clf.fit(X, 1 - (y > 0), psi=np.full(3, 0.5))
    _assert_same_state(clf, before)


def test_a_failed_first_fit_leaves_the_estimator_unfitted(data):
    X, y = data
    clf = CrossEntropyClassifier(callbacks=[FailAtEpoch(1)], **FAST)
    with pytest.raises(RuntimeError):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize("make, stage", [
    (lambda: CrossEntropyClassifier(optimizer=torch.optim.SGD, lr=1e30, **FAST), "training"),
    (lambda: SEALClassifier(n_iterations=1, optimizer=torch.optim.SGD, lr=1e30, **FAST),
     "iteration 0"),
    (lambda: FlywheelClassifier(warmup_epochs=1, optimizer=torch.optim.SGD, lr=1e30, **FAST),
     "training"),
])
def test_a_diverging_fit_raises_and_names_stage_and_epoch(data, make, stage):
    X, y = data
    clf = make()
    with pytest.raises(TrainingDivergedError, match=rf"stage '{stage}'.*epoch \d+.*lower"):
        clf.fit(X * 1e3, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_confusion_em_with_zero_class_weights_is_refused_before_training(data):
    X, y = data
    with pytest.raises(ValueError, match="positive"):
        ConfusionEMClassifier(class_weight={0: 0.0, 1: 0.0, 2: 0.0}, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="not classes"):
        ConfusionEMClassifier(class_weight={7: 2.0}, **FAST).fit(X, y)


@pytest.mark.parametrize("params, message", [
    ({"optimizer": torch.optim.LBFGS}, "closure"),
    ({"optimizer": dict}, "Optimizer class"),
])
def test_unusable_optimizers_are_refused_before_any_data_work(params, message):
    with pytest.raises(ValueError, match=message):
        CrossEntropyClassifier(**params).fit(np.zeros((4, 2)), [0, 1, 0, 1])


def test_flywheel_warm_up_longer_than_training_is_refused_with_the_constraints():
    clf = FlywheelClassifier(warmup_epochs=5, max_epochs=5)
    with pytest.raises(ValueError, match="warmup_epochs"):
        clf.fit(np.full((4, 2), np.nan), [0, 1, 0, 1])   # before looking at X


def test_flywheel_networks_are_registered_with_skorch(data):
    X, y = data
    clf = FlywheelClassifier(warmup_epochs=1, **FAST).fit(X, y)
    assert {"module_", "main_network_", "optimizer_", "main_optimizer_"} <= set(
        clf.cuda_dependent_attributes_)
    assert "main_network" in clf._modules and "main_optimizer" in clf._optimizers
    # skorch's loop trains f: its learnable parameters, those a gradient
    # callback sees, are f's (g's have no gradient then), as its optimizer's.
    f_params = {id(p) for p in clf.module_.parameters()}
    assert {id(p) for _, p in clf.get_all_learnable_params()} == f_params
    assert all(id(p) in f_params for group in clf.optimizer_.param_groups
               for p in group["params"])


def _tag_as_cuda(monkeypatch):
    monkeypatch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")


def test_cuda_tagging_really_breaks_a_plain_tensor(monkeypatch):
    with monkeypatch.context() as patch:
        _tag_as_cuda(patch)
        payload = pickle.dumps(torch.ones(3))
    with pytest.raises(RuntimeError, match="CUDA"):
        pickle.loads(payload)


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a CPU-only machine")
@pytest.mark.parametrize("name", ESTIMATORS)
def test_fitted_on_cuda_loads_on_a_cpu_only_machine(data, name, monkeypatch):
    X, y = data
    clf = ESTIMATORS[name]().fit(X, y)
    expected = clf.predict_proba(X)
    clf.set_params(device="cuda")
    with monkeypatch.context() as patch:
        _tag_as_cuda(patch)
        payload = pickle.dumps(clf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # skorch's DeviceWarning
        loaded = pickle.loads(payload)
    assert str(loaded.device) == "cpu"
    np.testing.assert_allclose(loaded.predict_proba(X), expected, atol=1e-6)


SMALL_X = np.random.default_rng(0).random((4, 3)).astype(np.float32)
SMALL_Y = [0, 1, 0, 1]


@pytest.mark.parametrize("make, X, error, message", [
    (lambda: CrossEntropyClassifier(max_epochs=1), np.zeros((4, 1, 0)), ValueError,
     "every axis"),
    (lambda: CrossEntropyClassifier(max_epochs=1, batch_size=1), np.random.rand(4, 1, 1),
     ValueError, "batch_size=1"),
    (lambda: CrossEntropyClassifier(max_epochs=1, callbacks=[5]), SMALL_X, ValueError,
     "callbacks"),
    (lambda: CrossEntropyClassifier(max_epochs=1, callbacks=[("x", "progress")]), SMALL_X,
     ValueError, "callbacks"),
    (lambda: CrossEntropyClassifier(torch.nn.Linear(7, 2), max_epochs=1), SMALL_X,
     ValueError, "cannot process samples of shape"),
    (lambda: SEALClassifier(torch.nn.Linear(3, 5), max_epochs=1, n_iterations=1), SMALL_X,
     ValueError, "one logit per class"),
    (lambda: FlywheelClassifier(lambda: 5, max_epochs=2, warmup_epochs=1), SMALL_X,
     TypeError, "not a torch.nn.Module"),
    (lambda: CrossEntropyClassifier(torch.nn.Identity, max_epochs=1), SMALL_X, ValueError,
     "no trainable parameters"),
    (lambda: CrossEntropyClassifier(max_epochs=1, train_split=lambda *a: 5), SMALL_X,
     ValueError, "train_split"),
    (lambda: CrossEntropyClassifier(max_epochs=1), np.full((4, 3), 1e300), ValueError,
     "float32 range"),
])
def test_input_the_networks_cannot_use_is_refused_clearly(make, X, error, message):
    with pytest.raises(error, match=message):
        make().fit(X, SMALL_Y)


def test_prediction_input_beyond_float32_is_refused():
    clf = CrossEntropyClassifier(max_epochs=1).fit(SMALL_X, SMALL_Y)
    with pytest.raises(ValueError, match="float32 range"):
        clf.predict_proba(np.full((1, 3), 1e300))


def test_non_numeric_psi_is_named():
    with pytest.raises(ValueError, match="psi must hold numbers"):
        ConfusionEMClassifier(max_epochs=1).fit(SMALL_X, SMALL_Y, psi=["a"] * 4)
