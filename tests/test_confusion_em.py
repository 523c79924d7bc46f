"""ConfusionEMClassifier: the confusing-instance model's Eq. 8 and 10-12."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from sklearn_noisy import (
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    IDNLabelCorruptor,
    make_pipeline,
)
from sklearn_noisy.confusion_em import EtaUpdate, update_eta
from sklearn_noisy.losses import confusion_em_loss, confusion_posterior

FAST = dict(max_epochs=4, batch_size=32, eta_start_epoch=1, eta_update_every=1,
            random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=200, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    rng = np.random.default_rng(0)
    y_noisy = np.where(rng.random(len(y)) < 0.2, (y + 1) % 3, y)
    return X.astype(np.float32), y_noisy


GIVEN = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
PROBA = torch.tensor([[0.5, 0.3, 0.2], [0.6, 0.3, 0.1]])


def test_predicting_step_is_equation_8():
    q = confusion_posterior(PROBA, GIVEN, torch.tensor([0.3, 0.9]), torch.tensor([0.2, 0.5]))
    # sample 0: h * [(1 - 0.2) e_0 + 0.2 * 0.3 * 1] = h * [0.86, 0.06, 0.06]
    expected_0 = np.array([0.5 * 0.86, 0.3 * 0.06, 0.2 * 0.06])
    # sample 1: h * [0.5 * 0.9 * 1 + 0.5 e_2] = h * [0.45, 0.45, 0.95]
    expected_1 = np.array([0.6 * 0.45, 0.3 * 0.45, 0.1 * 0.95])
    np.testing.assert_allclose(q[0].numpy(), expected_0 / expected_0.sum(), rtol=1e-6)
    np.testing.assert_allclose(q[1].numpy(), expected_1 / expected_1.sum(), rtol=1e-6)


def test_eta_step_is_equations_11_and_12():
    eta, psi = torch.tensor([0.2, 0.5]), torch.tensor([0.3, 0.9])
    q = confusion_posterior(PROBA, GIVEN, psi, eta).numpy()
    eta_np, psi_np = eta.numpy().astype(float), psi.numpy().astype(float)
    direction = 1 + (psi_np * eta_np - eta_np - 1)[:, None] * GIVEN.numpy()
    expected = eta_np + 0.7 * (direction * q).sum(axis=1) / (eta_np + 1e-4)
    update_eta(eta, PROBA, GIVEN, psi, 0.7)
    np.testing.assert_allclose(eta.numpy(), np.clip(expected, 0, 1), rtol=1e-5)


def test_an_eta_at_zero_stays_zero_as_printed():
    eta = torch.zeros(2)
    update_eta(eta, PROBA, GIVEN, torch.tensor([0.3, 0.9]), 0.5)
    assert eta.tolist() == [0.0, 0.0]


def test_eta_floor_is_the_authors_rule_and_lets_eta_leave_zero():
    # the authors' Clothing1M code: log((1 - eta) ytilde + psi eta).clamp(min=1e-5)
    # for q, then a step divided by eta.clamp(min=1e-5)
    eta, psi = torch.tensor([0.0, 0.3]), torch.tensor([0.3, 0.9])
    eta_np, psi_np, given = eta.numpy().astype(float), psi.numpy().astype(float), GIVEN.numpy()
    smoothed = np.maximum((1 - eta_np)[:, None] * given + (eta_np * psi_np)[:, None], 1e-5)
    q = PROBA.numpy() * smoothed
    q /= q.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        confusion_posterior(PROBA, GIVEN, psi, eta, floor=1e-5).numpy(), q, rtol=1e-5)
    direction = 1 + (psi_np * eta_np - eta_np - 1)[:, None] * given
    expected = eta_np + 0.5 * (direction * q).sum(axis=1) / np.maximum(eta_np, 1e-5)
    update_eta(eta, PROBA, GIVEN, psi, 0.5, floor=1e-5)
    np.testing.assert_allclose(eta.numpy(), np.clip(expected, 0, 1), rtol=1e-5)
    assert eta[0].item() > 0


def test_eta_floor_reaches_the_fit(data, monkeypatch):
    floors = []
    original = confusion_posterior

    def recording_posterior(*args, **kwargs):
        floors.append(args[4] if len(args) > 4 else kwargs.get("floor"))
        return original(*args, **kwargs)

    monkeypatch.setattr("sklearn_noisy.losses.confusion_posterior", recording_posterior)
    monkeypatch.setattr("sklearn_noisy.confusion_em.confusion_posterior", recording_posterior)
    X, y = data
    ConfusionEMClassifier(eta_floor=1e-5, **FAST).fit(X, y)
    assert floors and set(floors) == {1e-5}


def test_eta_is_projected_onto_the_unit_interval_and_trusted_stay_zero():
    eta = torch.tensor([0.9, 0.001])
    update_eta(eta, torch.tensor([[0.01, 0.5, 0.49], [0.3, 0.3, 0.4]]), GIVEN,
               torch.tensor([0.3, 0.9]), 100.0, trusted=torch.tensor([False, True]))
    assert eta[0].item() == 1.0
    assert eta[1].item() == 0.0


@pytest.mark.parametrize("start, every, expected", [(10, 5, [10, 15, 20]), (0, 4, [4, 8, 12, 16, 20])])
def test_eta_updates_follow_the_schedule(start, every, expected, monkeypatch):
    updates = []
    monkeypatch.setattr("sklearn_noisy.confusion_em.update_eta",
                        lambda *args, **kwargs: updates.append(len(net.history_)))
    data = SimpleNamespace(X_tensor=torch.zeros(2, 1), y_tensor=torch.tensor([0, 1]),
                           fields={"eta": None, "psi": None})
    net = SimpleNamespace(history_=[], classes_=np.arange(2), eval_proba=lambda X: None)
    callback = EtaUpdate(0.5, start, every)
    for _ in range(22):
        net.history_.append({})
        callback.on_epoch_end(net, dataset_train=data)
    assert updates == expected


def _batch_update(eta, index, trusted=None, epoch=3, start=2):
    """One training batch through EtaUpdate's per-batch hook."""
    callback = EtaUpdate(0.1, start, 5, trusted, per_batch=True)
    callback.on_epoch_begin(None, dataset_train=SimpleNamespace(fields={"eta": eta}))
    psi = torch.tensor([0.0, 0.9, 0.0, 0.3, 0.0])
    batch = ({"X": None, "index": index, "eta": eta[index], "psi": psi[index]},
             torch.tensor([0, 2]))
    net = SimpleNamespace(history_=[{}] * epoch)
    # softmax(log p) = p: the batch's forward pass predicts PROBA
    callback.on_batch_end(net, batch=batch, training=True, y_pred=torch.log(PROBA))
    return eta


def test_per_batch_eta_step_updates_the_batch_samples_alone():
    eta = torch.tensor([0.01, 0.5, 0.01, 0.2, 0.01])
    _batch_update(eta, torch.tensor([3, 1]))
    # sample 3: label 0, psi 0.3, eta 0.2: q ~ PROBA * [0.86, 0.06, 0.06]
    #   = [0.43, 0.018, 0.012] / 0.46; direction [1 + 0.06 - 0.2 - 1, 1, 1]
    # sample 1: label 2, psi 0.9, eta 0.5: q ~ PROBA * [0.45, 0.45, 0.95]
    #   = [0.27, 0.135, 0.095] / 0.5; direction [1, 1, 1 + 0.45 - 0.5 - 1]
    step_3 = (-0.14 * 0.43 + 0.018 + 0.012) / 0.46 / (0.2 + 1e-4)    # -0.3281
    step_1 = (0.27 + 0.135 - 0.05 * 0.095) / 0.5 / (0.5 + 1e-4)      # 1.6007
    np.testing.assert_allclose(
        eta.numpy(), [0.01, 0.5 + 0.1 * step_1, 0.01, 0.2 + 0.1 * step_3, 0.01], rtol=1e-5)


def test_per_batch_eta_step_keeps_trusted_at_zero_and_waits_for_its_epoch():
    trusted = torch.tensor([False, True, False, False, False])
    eta = _batch_update(torch.tensor([0.01, 0.0, 0.01, 0.2, 0.01]), torch.tensor([3, 1]),
                        trusted=trusted)
    assert eta[1] == 0.0 and eta[3] != 0.2
    # during epoch 2 with eta_start_epoch=2 nothing changes yet
    waiting = _batch_update(torch.tensor([0.01, 0.5, 0.01, 0.2, 0.01]),
                            torch.tensor([3, 1]), epoch=2)
    np.testing.assert_array_equal(waiting.numpy(), np.float32([0.01, 0.5, 0.01, 0.2, 0.01]))


@pytest.mark.parametrize("eta_update, expected", [
    # per batch: every training batch from the epoch after eta_start_epoch
    ("batch", [3] * 7 + [4] * 7),
    # per epoch: after epochs 2 and 4, every sample at once
    ("epoch", [2, 4]),
])
def test_eta_update_modes_in_a_fit(data, eta_update, expected, monkeypatch):
    X, y = data
    clf = ConfusionEMClassifier(**{**FAST, "eta_start_epoch": 2, "eta_update_every": 2,
                                   "eta_update": eta_update})
    epochs = []

    def recording_step(eta, *args, **kwargs):
        epochs.append(len(clf.history_))
        return eta

    monkeypatch.setattr("sklearn_noisy.confusion_em.eta_step", recording_step)
    clf.fit(X, y)
    # 200 samples in batches of 32: 7 batches per epoch
    assert epochs == expected


def test_training_loss_is_soft_cross_entropy_against_q(data):
    X, y = data
    clf = ConfusionEMClassifier(**FAST).fit(X, y)
    indices = torch.tensor([0, 3, 7, 11, 19])
    psi = torch.as_tensor(clf.psi_, dtype=torch.float32)[indices]
    eta = torch.as_tensor(clf.eta_, dtype=torch.float32)[indices]
    labels = torch.as_tensor(y)[indices]
    logits = torch.randn(5, 3)
    batch = {"X": None, "index": indices, "psi": psi, "eta": eta}
    loss = clf.get_loss(logits, labels, X=batch, training=True)
    log_proba = torch.log_softmax(logits, dim=1)
    q = confusion_posterior(log_proba.exp(), torch.nn.functional.one_hot(labels, 3).float(),
                            psi, eta)
    torch.testing.assert_close(loss, -(q * log_proba).sum(dim=1).mean())
    torch.testing.assert_close(
        loss, confusion_em_loss(logits, torch.nn.functional.one_hot(labels, 3).float(), psi, eta))


def test_psi_comes_from_a_naive_network_like_cross_entropy(data):
    X, y = data
    clf = ConfusionEMClassifier(**FAST).fit(X, y)
    naive = CrossEntropyClassifier(max_epochs=4, batch_size=32, random_state=0).fit(X, y)
    expected = naive.predict_proba(X)[np.arange(len(y)), y]
    np.testing.assert_allclose(clf.psi_, expected, atol=1e-5)


class CountRuns(Callback):
    def initialize(self):
        self.runs = getattr(self, "runs", 0)
        return self

    def on_train_begin(self, net, **kwargs):
        self.runs += 1


def test_given_psi_skips_the_naive_network_and_trusted_samples_stay_clean(data):
    X, y = data
    counter = CountRuns()
    psi = np.linspace(0.1, 0.9, len(y))
    trusted = np.zeros(len(y), dtype=bool)
    trusted[:50] = True
    clf = ConfusionEMClassifier(callbacks=[counter], **FAST).fit(X, y, psi=psi, trusted=trusted)
    assert counter.runs == 1
    np.testing.assert_allclose(clf.psi_, psi, rtol=1e-6)
    assert np.all(clf.eta_[:50] == 0)
    assert np.any(clf.eta_[50:] != FAST.get("eta_init", 0.01))


def test_attributes_and_noise_scores(data):
    X, y = data
    clf = ConfusionEMClassifier(**FAST).fit(X, y)
    n = len(y)
    assert clf.eta_.shape == clf.psi_.shape == (n,)
    assert np.all((clf.eta_ >= 0) & (clf.eta_ <= 1))
    np.testing.assert_allclose(clf.posterior_.sum(axis=1), 1, atol=1e-6)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(clf.noise_scores_, 1 - proba[np.arange(n), y], atol=1e-6)
    np.testing.assert_array_equal(clf.corrected_labels_, clf.posterior_.argmax(axis=1))


def test_without_eta_steps_eta_keeps_its_initial_value(data):
    X, y = data
    clf = ConfusionEMClassifier(**{**FAST, "eta_lr": 0.0, "eta_init": 0.3}).fit(X, y)
    np.testing.assert_allclose(clf.eta_, 0.3, rtol=1e-6)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 5.0}])
def test_class_weights_change_the_fit(data, class_weight):
    X, y = data
    plain = ConfusionEMClassifier(**FAST).fit(X, y).predict_proba(X)
    weighted = ConfusionEMClassifier(class_weight=class_weight, **FAST).fit(X, y)
    assert not np.allclose(weighted.predict_proba(X), plain)


@pytest.mark.parametrize("params", [{"eta_update": "step"}, {"eta_update": None}])
def test_invalid_eta_update_is_refused(data, params):
    X, y = data
    with pytest.raises(ValueError, match="eta_update"):
        ConfusionEMClassifier(**{**FAST, **params}).fit(X, y)


@pytest.mark.parametrize("kwargs, message", [
    ({"psi": np.full(10, 0.5)}, "one value per training sample"),
    ({"psi": np.full(200, 1.5)}, "probabilities"),
    ({"trusted": np.zeros(200)}, "boolean"),
])
def test_bad_fit_arguments_are_refused(data, kwargs, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        ConfusionEMClassifier(**FAST).fit(X, y, **kwargs)


def test_grid_search_over_eta_in_a_pipeline_with_idn(data):
    X, y = data
    pipe = make_pipeline(IDNLabelCorruptor(0.3, n_epochs=3, random_state=0),
                         ConfusionEMClassifier(**FAST))
    grid = {"confusionemclassifier__eta_lr": [0.1, 0.7],
            "confusionemclassifier__eta_init": [0.01, 0.1]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert set(search.best_params_) == set(grid)
    assert len(search.cv_results_["mean_test_score"]) == 4
