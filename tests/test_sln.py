"""SLNClassifier: stochastic label noise, momentum model, label correction."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.datasets import make_classification

from sklearn_noisy import CrossEntropyClassifier, SLNClassifier
from sklearn_noisy.sln import LabelCorrection, StochasticLabelNoise, warmed_up_decay

FAST = dict(max_epochs=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=200, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


class TargetSpy(SLNClassifier):
    """Keeps the targets every training loss was computed against, and the
    training-set index of each of their rows."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if training:
            self.seen_targets_.append((X["index"].clone(), X["targets"].detach().clone()))
        return super().get_loss(y_pred, y_true, X=X, training=training)

    def _fit_noisy(self, data):
        self.seen_targets_ = []
        super()._fit_noisy(data)


def _noise(spy, y, step):
    index, targets = spy.seen_targets_[step]
    noise = torch.empty_like(targets)
    noise[index] = targets - torch.nn.functional.one_hot(torch.as_tensor(y)[index], 3).float()
    return noise


def test_without_noise_or_momentum_it_is_cross_entropy(data):
    X, y = data
    sln = SLNClassifier(sigma=0.0, ema_decay=None, correction_epoch=None, **FAST).fit(X, y)
    ce = CrossEntropyClassifier(**FAST).fit(X, y)
    np.testing.assert_allclose(sln.predict_proba(X), ce.predict_proba(X), atol=1e-5)


def test_targets_get_fresh_gaussian_noise_every_step(data):
    X, y = data
    clf = TargetSpy(sigma=0.5, ema_decay=None, correction_epoch=None, max_epochs=2,
                    batch_size=len(X), random_state=0).fit(X, y)
    first, second = _noise(clf, y, 0), _noise(clf, y, 1)
    for noise in (first, second):
        assert abs(noise.mean().item()) < 0.05
        assert noise.std().item() == pytest.approx(0.5, rel=0.1)
    correlation = torch.corrcoef(torch.stack([first.ravel(), second.ravel()]))[0, 1]
    assert abs(correlation.item()) < 0.15


class WeightTrail(Callback):
    """The network's weights after every optimizer step."""

    def initialize(self):
        self.trail = []
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.trail.append([p.detach().clone() for p in net.module_.parameters()])


def test_ema_decay_is_warmed_up():
    # min(ema_decay, (1 + t) / (10 + t)) after t updates
    assert warmed_up_decay(0.999, 0) == pytest.approx(0.1)
    assert warmed_up_decay(0.999, 1) == pytest.approx(2 / 11)
    assert warmed_up_decay(0.999, 10) == pytest.approx(0.55)
    assert warmed_up_decay(0.999, 90) == pytest.approx(0.91)
    assert warmed_up_decay(0.999, 8990) == pytest.approx(0.999)
    assert warmed_up_decay(0.999, 10**6) == 0.999
    assert warmed_up_decay(0.9, 80) == pytest.approx(0.9)
    assert warmed_up_decay(0.9, 81) == 0.9


def test_momentum_model_is_the_exponential_moving_average(data):
    X, y = data
    trail = WeightTrail()
    clf = SLNClassifier(sigma=0.5, ema_decay=0.9, callbacks=[trail], **FAST).fit(X, y)
    # 3 epochs of 7 batches: the first update copies the weights, the
    # update after t earlier ones uses min(0.9, (1 + t) / (10 + t)):
    # 0.182, 0.25, 0.308, ..., 0.9 from t = 80 on (not reached here).
    expected = trail.trail[0]
    for t, weights in enumerate(trail.trail[1:], start=1):
        decay = min(0.9, (1 + t) / (10 + t))
        expected = [decay * e + (1 - decay) * w for e, w in zip(expected, weights)]
    for got, want in zip(clf.module_.parameters(), expected):
        torch.testing.assert_close(got.detach(), want, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(next(clf.module_.parameters()).detach(), trail.trail[-1][0])


def test_without_momentum_the_trained_network_predicts(data):
    X, y = data
    trail = WeightTrail()
    clf = SLNClassifier(ema_decay=None, callbacks=[trail], **FAST).fit(X, y)
    for got, want in zip(clf.module_.parameters(), trail.trail[-1]):
        torch.testing.assert_close(got.detach(), want)


def test_noise_scores_and_corrections_come_from_the_final_model(data):
    X, y = data
    clf = SLNClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(clf.noise_scores_, 1 - proba[np.arange(len(y)), y], atol=1e-6)
    np.testing.assert_array_equal(clf.corrected_labels_, clf.predict(X))


def test_label_correction_mixes_given_labels_and_predictions():
    given = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 0]), 3).float()
    proba = torch.tensor([
        [0.9, 0.05, 0.05],   # agrees, smallest loss -> weight 0 on the label
        [0.6, 0.3, 0.1],
        [0.7, 0.2, 0.1],     # largest loss -> weight 1 on the given label
        [0.5, 0.4, 0.1],
    ])
    loss = -torch.log((proba * given).sum(dim=1))
    weight = (loss - loss.min()) / (loss.max() - loss.min())
    targets = given.clone()
    net = SimpleNamespace(history_=[{}] * 3, eval_proba=lambda X: proba)
    noise = StochasticLabelNoise(0.5, "labels", torch.Generator()).initialize()
    dataset = SimpleNamespace(X_tensor=torch.zeros(4, 2), fields={"targets": targets})

    LabelCorrection(given, 2, noise).on_epoch_begin(net, dataset_train=dataset)

    predicted = torch.nn.functional.one_hot(proba.argmax(dim=1), 3).float()
    torch.testing.assert_close(targets, weight[:, None] * given + (1 - weight[:, None]) * predicted)
    assert not noise.drawing_
    torch.testing.assert_close(targets[2], given[2])
    torch.testing.assert_close(targets[0], predicted[0])


def test_soft_label_correction_mixes_in_the_predictions():
    given = torch.nn.functional.one_hot(torch.tensor([0, 1, 2]), 3).float()
    proba = torch.tensor([[0.8, 0.1, 0.1], [0.5, 0.25, 0.25], [0.2, 0.6, 0.2]])
    # losses -log(0.8), -log(0.25), -log(0.2): weights 0, w, 1 with
    # w = log(0.8 / 0.25) / log(0.8 / 0.2)
    w = np.log(0.8 / 0.25) / np.log(4.0)
    targets = given.clone()
    net = SimpleNamespace(history_=[{}] * 3, eval_proba=lambda X: proba)
    dataset = SimpleNamespace(X_tensor=torch.zeros(3, 2), fields={"targets": targets})

    noise = StochasticLabelNoise(0.5, "labels", torch.Generator()).initialize()
    LabelCorrection(given, 2, noise, correction="soft").on_epoch_begin(
        net, dataset_train=dataset)

    np.testing.assert_allclose(targets.numpy(), [
        [0.8, 0.1, 0.1],
        [(1 - w) * 0.5, w + (1 - w) * 0.25, (1 - w) * 0.25],
        [0.0, 0.0, 1.0],
    ], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("reference", ["given", "corrected"])
def test_label_correction_weights_by_the_loss_against_its_reference(reference):
    given = torch.nn.functional.one_hot(torch.tensor([0, 1, 2]), 3).float()
    # the previous epoch's corrected targets
    previous = torch.tensor([[0.2, 0.8, 0.0], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    proba = torch.tensor([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.4, 0.2, 0.4]])
    against = given if reference == "given" else previous
    loss = -(against * torch.log(proba)).sum(dim=1)
    weight = ((loss - loss.min()) / (loss.max() - loss.min()))[:, None]
    targets = previous.clone()
    net = SimpleNamespace(history_=[{}] * 4, eval_proba=lambda X: proba)
    dataset = SimpleNamespace(X_tensor=torch.zeros(3, 2), fields={"targets": targets})

    noise = StochasticLabelNoise(0.0, "labels", torch.Generator()).initialize()
    LabelCorrection(given, 2, noise, correction="soft",
                    reference=reference).on_epoch_begin(net, dataset_train=dataset)

    torch.testing.assert_close(targets, weight * given + (1 - weight) * proba)


def test_label_correction_waits_for_its_epoch():
    given = torch.eye(3)
    targets = given.clone()
    net = SimpleNamespace(history_=[{}] * 2)
    noise = StochasticLabelNoise(0.5, "labels", torch.Generator()).initialize()
    dataset = SimpleNamespace(X_tensor=torch.zeros(3, 2), fields={"targets": targets})
    LabelCorrection(given, 2, noise).on_epoch_begin(net, dataset_train=dataset)
    assert noise.drawing_
    torch.testing.assert_close(targets, given)


def test_correction_turns_the_noise_off_and_changes_targets(data):
    X, y = data
    clf = TargetSpy(sigma=0.5, correction_epoch=2, max_epochs=3, batch_size=len(X),
                    random_state=0).fit(X, y)
    late = clf.seen_targets_[-1][1]
    # After correction the targets are convex mixtures of one-hot rows.
    assert torch.all(late >= 0) and torch.allclose(late.sum(dim=1), torch.ones(len(X)))
    assert torch.any(clf.seen_targets_[0][1] < 0)
    assert torch.any((late > 0) & (late < 1))


class GradientNorms(Callback):
    def initialize(self):
        self.norms = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.norms.append(
            torch.sqrt(sum((p.grad**2).sum() for _, p in named_parameters)).item())


@pytest.mark.parametrize("noise_on", ["outputs", "parameters"])
def test_gradient_noise_variants(data, noise_on):
    X, y = data
    norms = {}
    for sigma in (0.0, 50.0):
        recorder = GradientNorms()
        SLNClassifier(sigma=sigma, noise_on=noise_on, ema_decay=None, correction_epoch=None,
                      callbacks=[recorder], max_epochs=1, batch_size=len(X),
                      random_state=0).fit(X, y)
        norms[sigma] = recorder.norms[0]
    # Same network and batch: only the added noise can change the gradient.
    assert norms[50.0] > 5 * norms[0.0]


def test_gradient_noise_without_sigma_is_plain_training(data):
    X, y = data
    reference = SLNClassifier(sigma=0.0, ema_decay=None, **FAST).fit(X, y)
    for noise_on in ("outputs", "parameters"):
        clf = SLNClassifier(sigma=0.0, ema_decay=None, noise_on=noise_on, **FAST).fit(X, y)
        np.testing.assert_allclose(clf.predict_proba(X), reference.predict_proba(X), atol=1e-6)


def test_same_seed_same_model_and_global_rng_untouched(data):
    X, y = data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = SLNClassifier(**FAST).fit(X, y).predict_proba(X)
    torch.testing.assert_close(torch.rand(3), expected)
    second = SLNClassifier(**FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("params, message", [
    ({"sigma": -0.1}, "sigma"),
    ({"ema_decay": 1.0}, "ema_decay"),
    ({"correction_epoch": -1}, "correction_epoch"),
    ({"noise_on": "weights"}, "noise_on"),
    ({"correction": "one-hot"}, "correction"),
    ({"correction": None}, "correction"),
])
def test_invalid_parameters(data, params, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        SLNClassifier(**params).fit(X, y)
