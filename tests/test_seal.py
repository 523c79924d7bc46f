"""SEALClassifier: Algorithm 2 of the SEAL paper, checkpoints and L_DMI."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.datasets import make_classification

from sklearn_noisy import CrossEntropyClassifier, SEALClassifier
from sklearn_noisy.losses import dmi_loss

FAST = dict(max_epochs=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=200, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    rng = np.random.default_rng(0)
    flipped = rng.random(len(y)) < 0.2
    y_noisy = np.where(flipped, (y + 1) % 3, y)
    return X.astype(np.float32), y_noisy


class RecordTraining(Callback):
    """Keeps what every training run started from and what it recorded."""

    def __init__(self):
        self.targets, self.start_weights, self.epoch_proba = [], [], []

    def initialize(self):
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.start_weights.append(
            [p.detach().clone() for p in net.module_.parameters()])
        self.epoch_proba.append([])

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if len(net.history_) == 1:
            # What the stage trains against: its soft targets, else the labels.
            self.targets.append(
                dataset_train.fields.get("targets", dataset_train.y_tensor).clone())

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        self.epoch_proba[-1].append(net.eval_proba(dataset_train.X_tensor).clone())


def test_iteration_zero_is_cross_entropy_training(data):
    X, y = data
    seal = SEALClassifier(n_iterations=0, **FAST).fit(X, y)
    ce = CrossEntropyClassifier(**FAST).fit(X, y)
    np.testing.assert_allclose(seal.predict_proba(X), ce.predict_proba(X), atol=1e-6)


def test_soft_labels_are_epoch_averages_and_feed_the_next_iteration(data):
    X, y = data
    recorder = RecordTraining()
    clf = SEALClassifier(n_iterations=2, callbacks=[recorder], **FAST).fit(X, y)

    assert len(recorder.targets) == 3
    np.testing.assert_array_equal(recorder.targets[0].numpy(), y)
    for iteration in range(2):
        average = torch.stack(recorder.epoch_proba[iteration]).mean(dim=0)
        torch.testing.assert_close(recorder.targets[iteration + 1], average)
    final_average = torch.stack(recorder.epoch_proba[2]).mean(dim=0).double().numpy()
    np.testing.assert_allclose(clf.soft_labels_, final_average, atol=1e-6)
    np.testing.assert_allclose(clf.soft_labels_.sum(axis=1), 1, atol=1e-5)


def test_noise_scores_follow_equation_10(data):
    X, y = data
    clf = SEALClassifier(n_iterations=1, **FAST).fit(X, y)
    others = clf.soft_labels_.copy()
    others[np.arange(len(y)), y] = -np.inf
    np.testing.assert_allclose(clf.noise_scores_, others.max(axis=1), atol=1e-6)
    np.testing.assert_array_equal(
        clf.corrected_labels_, clf.classes_[clf.soft_labels_.argmax(axis=1)])


def test_iteration_history(data):
    X, y = data
    clf = SEALClassifier(n_iterations=2, first_loss="dmi", **FAST).fit(X, y)
    history = clf.iteration_history_
    assert [entry["iteration"] for entry in history] == [0, 1, 2]
    assert [entry["loss"] for entry in history] == ["dmi", "soft_cross_entropy",
                                                    "soft_cross_entropy"]
    # The DMI iteration is a cross-entropy run followed by an L_DMI run.
    assert len(history[0]["train_loss"]) == 2 * FAST["max_epochs"]
    assert all(len(entry["train_loss"]) == FAST["max_epochs"] for entry in history[1:])
    assert all(0 <= entry["agreement"] <= 1 and entry["seconds"] > 0 for entry in history)
    assert isinstance(clf.criterion_, torch.nn.CrossEntropyLoss)


@pytest.mark.parametrize("reinitialize", [True, False])
def test_iterations_start_fresh_or_continue(data, reinitialize):
    X, y = data
    recorder = RecordTraining()

    class EndWeights(Callback):
        # Initialised at every stage: state that spans stages lives in __init__.
        def __init__(self):
            self.weights = []

        def on_train_end(self, net, **kwargs):
            self.weights.append([p.detach().clone() for p in net.module_.parameters()])

    end = EndWeights()
    SEALClassifier(n_iterations=1, reinitialize=reinitialize,
                   callbacks=[recorder, end], **FAST).fit(X, y)
    continued = all(
        torch.equal(a, b) for a, b in zip(end.weights[0], recorder.start_weights[1]))
    assert continued is not reinitialize


def test_dmi_loss_of_confident_correct_predictions():
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    logits = 50.0 * torch.nn.functional.one_hot(labels, 3).float()
    # Y^T P is diag(2, 2, 2), so the loss is -log(8 + epsilon).
    expected = -np.log(8 + 1e-3)
    assert dmi_loss(logits, labels).item() == pytest.approx(expected, rel=1e-5)


class CrashAfterEpochs(Callback):
    """Breaks the fit (like a lost machine) after a number of epochs."""

    def __init__(self, n_epochs):
        self.n_epochs = n_epochs
        self.seen = 0

    def initialize(self):
        return self

    def on_epoch_end(self, net, **kwargs):
        self.seen += 1
        if self.seen == self.n_epochs:
            raise ConnectionError("lost the machine")


class CountRuns(Callback):
    def __init__(self):
        self.runs = 0

    def initialize(self):
        return self

    def on_train_begin(self, net, **kwargs):
        self.runs += 1


@pytest.mark.parametrize("reinitialize", [True, False])
def test_interrupted_fit_resumes_after_last_finished_iteration(
        data, tmp_path, monkeypatch, reinitialize):
    X, y = data
    params = dict(n_iterations=3, reinitialize=reinitialize, **FAST)
    reference = SEALClassifier(**params).fit(X, y)

    # Broken in the middle of iteration 2 (epochs 7-9). Callbacks are part of
    # the checkpoint's fingerprint, so the crash comes from outside them.
    stop = CrashAfterEpochs(2 * FAST["max_epochs"] + 2)
    monkeypatch.setattr(SEALClassifier, "on_epoch_end",
                        lambda self, net, **kwargs: stop.on_epoch_end(net))
    with pytest.raises(ConnectionError):
        SEALClassifier(checkpoint_dir=tmp_path, **params).fit(X, y)
    monkeypatch.undo()
    (checkpoint,) = tmp_path.glob("seal-*.pt")
    saved = torch.load(checkpoint, weights_only=True)
    assert len(saved["history"]) == 2

    resumed = SEALClassifier(checkpoint_dir=tmp_path, **params).fit(X, y)
    # Iterations 2 and 3 only.
    assert [name for name, _ in resumed.stage_histories_] == ["iteration 2", "iteration 3"]
    np.testing.assert_allclose(resumed.soft_labels_, reference.soft_labels_, atol=1e-6)
    np.testing.assert_allclose(resumed.predict_proba(X), reference.predict_proba(X), atol=1e-6)
    assert [e["iteration"] for e in resumed.iteration_history_] == [0, 1, 2, 3]


def _ctrl_c_at(monkeypatch, stage_name, batch):
    """Ctrl-C (a KeyboardInterrupt) after training batch ``batch`` of a stage.

    Raised by the net's own batch hook: callbacks count in a checkpoint's
    fingerprint.
    """
    state = {"stage": None, "batches": 0}
    run_stage = SEALClassifier.run_stage

    def tracking(self, data, name, **kwargs):
        state.update(stage=name, batches=0)
        return run_stage(self, data, name, **kwargs)

    def on_batch_end(self, net, training=False, **kwargs):
        if training and state["stage"] == stage_name:
            state["batches"] += 1
            if state["batches"] == batch:
                raise KeyboardInterrupt

    monkeypatch.setattr(SEALClassifier, "run_stage", tracking)
    monkeypatch.setattr(SEALClassifier, "on_batch_end", on_batch_end)


@pytest.mark.parametrize("stage, batch", [
    ("iteration 0", 1),   # the first epoch of the fit
    ("iteration 1", 2),   # the first epoch of an iteration
    ("iteration 1", 9),   # a later epoch
])
def test_ctrl_c_inside_an_iteration_is_never_checkpointed_as_finished(
        data, tmp_path, monkeypatch, stage, batch):
    X, y = data
    params = dict(n_iterations=2, **FAST)
    reference = SEALClassifier(**params).fit(X, y)

    _ctrl_c_at(monkeypatch, stage, batch)
    cut = SEALClassifier(checkpoint_dir=tmp_path, **params).fit(X, y)
    monkeypatch.undo()
    # The stage ended early and the fit went on, as documented.
    assert [name for name, _ in cut.stage_histories_] == [
        "iteration 0", "iteration 1", "iteration 2"]
    assert np.isfinite(cut.soft_labels_).all()
    finished = 0 if stage == "iteration 0" else 1
    checkpoints = list(tmp_path.glob("seal-*.pt"))
    assert len(checkpoints) == min(finished, 1)
    if checkpoints:
        saved = torch.load(checkpoints[0], weights_only=True)
        assert len(saved["history"]) == finished

    resumed = SEALClassifier(checkpoint_dir=tmp_path, **params).fit(X, y)
    np.testing.assert_allclose(resumed.soft_labels_, reference.soft_labels_, atol=1e-6)
    np.testing.assert_allclose(resumed.predict_proba(X), reference.predict_proba(X), atol=1e-6)


def test_finished_checkpoint_is_reused_and_extended(data, tmp_path):
    X, y = data
    first = SEALClassifier(n_iterations=1, checkpoint_dir=tmp_path, **FAST).fit(X, y)

    again = SEALClassifier(n_iterations=1, checkpoint_dir=tmp_path, **FAST).fit(X, y)
    assert again.stage_histories_ == []
    np.testing.assert_allclose(again.predict_proba(X), first.predict_proba(X), atol=1e-6)

    longer = SEALClassifier(n_iterations=2, checkpoint_dir=tmp_path, **FAST).fit(X, y)
    assert [name for name, _ in longer.stage_histories_] == ["iteration 2"]
    reference = SEALClassifier(n_iterations=2, **FAST).fit(X, y)
    np.testing.assert_allclose(longer.soft_labels_, reference.soft_labels_, atol=1e-6)


def test_checkpoints_of_other_data_or_parameters_are_not_used(data, tmp_path):
    X, y = data
    SEALClassifier(n_iterations=1, checkpoint_dir=tmp_path, **FAST).fit(X, y)
    counter = CountRuns()
    SEALClassifier(n_iterations=1, checkpoint_dir=tmp_path, callbacks=[counter],
                   **FAST).fit(X[:150], y[:150])
    assert counter.runs == 2
    SEALClassifier(n_iterations=1, checkpoint_dir=tmp_path, callbacks=[counter],
                   **{**FAST, "lr": 0.01}).fit(X, y)
    assert counter.runs == 4
    assert len(list(tmp_path.glob("seal-*.pt"))) == 3


def test_shorter_fit_does_not_replace_a_longer_checkpoint(data, tmp_path):
    X, y = data
    SEALClassifier(n_iterations=2, checkpoint_dir=tmp_path, **FAST).fit(X, y)
    shorter = SEALClassifier(n_iterations=1, checkpoint_dir=tmp_path, **FAST).fit(X, y)
    assert len(shorter.iteration_history_) == 2
    (checkpoint,) = tmp_path.glob("seal-*.pt")
    assert len(torch.load(checkpoint, weights_only=True)["history"]) == 3


@pytest.mark.parametrize("params, message", [
    ({"n_iterations": -1}, "n_iterations"),
    ({"first_loss": "mae"}, "first_loss"),
    ({"reinitialize": "yes"}, "reinitialize"),
])
def test_invalid_parameters(data, params, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        SEALClassifier(**params).fit(X, y)


def test_dmi_iteration_does_not_diverge_when_a_batch_collapses_to_one_class():
    # scikit-learn's check data: the L_DMI network soon predicts one class for
    # whole batches; a singular joint matrix used to turn the weights into NaN.
    from sklearn.utils.estimator_checks import check_fit_check_is_fitted

    check_fit_check_is_fitted("SEALClassifier", SEALClassifier(
        first_loss="dmi", max_epochs=20, n_iterations=1, reinitialize=False))
