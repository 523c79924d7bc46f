"""skorch's own callbacks on every estimator: one lifecycle per training stage.

Each test asserts the callback's effect, for all five estimators.
"""

import pickle
import sys

import numpy as np
import pytest
import torch
from skorch.callbacks import (
    BatchScoring,
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    GradientNormClipping,
    LoadInitState,
    LRScheduler,
    ProgressBar,
)
from skorch.dataset import ValidSplit
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV

from sklearn_noisy import (
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    SEALClassifier,
    SLNClassifier,
)

EPOCHS = 4
ESTIMATORS = {
    "ce": (CrossEntropyClassifier, {}),
    "seal": (SEALClassifier, {"n_iterations": 1}),
    "sln": (SLNClassifier, {"correction_epoch": 2}),
    "confusion-em": (ConfusionEMClassifier, {"eta_start_epoch": 1, "eta_update_every": 1}),
    "flywheel": (FlywheelClassifier, {"warmup_epochs": 2}),
}
# The documented fitted attributes of every estimator.
FITTED = {
    "ce": [],
    "seal": ["soft_labels_", "iteration_history_"],
    "sln": [],
    "confusion-em": ["psi_", "eta_", "posterior_"],
    "flywheel": ["main_network_", "clean_proba_", "gamma_", "epsilon_",
                 "transition_matrix_", "refurbished_proba_", "refurbished_labels_"],
}
COMMON_FITTED = ["classes_", "module_", "noise_scores_", "corrected_labels_", "label_issues_",
                 "history_", "stage_histories_"]
STAGES = {"ce": 1, "seal": 2, "sln": 1, "confusion-em": 2, "flywheel": 1}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=150, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


def make(name, **params):
    cls, own = ESTIMATORS[name]
    return cls(**{"max_epochs": EPOCHS, "batch_size": 32, "random_state": 0, **own, **params})


def assert_fitted(clf, name, n_samples):
    for attribute in COMMON_FITTED + FITTED[name]:
        assert hasattr(clf, attribute), attribute
    assert clf.noise_scores_.shape == (n_samples,)
    assert clf.corrected_labels_.shape == (n_samples,)
    assert clf.label_issues_.shape == (n_samples,)


class Lifecycle(Callback):
    """Counts the notifications; its state spans stages, so it lives in __init__."""

    def __init__(self):
        self.counts = {}
        self.initializations = 0

    def initialize(self):
        self.initializations += 1
        return self

    def _count(self, event):
        self.counts[event] = self.counts.get(event, 0) + 1

    def on_train_begin(self, net, **kwargs):
        self._count("train_begin")

    def on_train_end(self, net, **kwargs):
        self._count("train_end")

    def on_epoch_begin(self, net, **kwargs):
        self._count("epoch_begin")

    def on_epoch_end(self, net, **kwargs):
        self._count("epoch_end")


@pytest.mark.parametrize("name", ESTIMATORS)
def test_one_lifecycle_per_stage(data, name):
    X, y = data
    lifecycle = Lifecycle()
    clf = make(name, callbacks=[lifecycle]).fit(X, y)
    stages = STAGES[name]
    assert len(clf.stage_histories_) == stages
    assert clf.stage_histories_[-1][1] is clf.history_
    assert lifecycle.initializations == stages
    assert lifecycle.counts == {
        "train_begin": stages, "train_end": stages,
        "epoch_begin": stages * EPOCHS, "epoch_end": stages * EPOCHS,
    }
    assert len(clf.history_) == EPOCHS
    # Method callbacks belong to the fit, not to the fitted estimator.
    assert [name for name, _ in clf.callbacks_][-2:] == ["Lifecycle", "print_log"]


def _halving(lr, epochs):
    return [lr * 0.5**epoch for epoch in range(epochs)]


@pytest.mark.parametrize("name", ESTIMATORS)
def test_lr_scheduler_steps_every_stage_from_the_start(data, name):
    X, y = data
    scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    clf = make(name, lr=0.01, callbacks=[scheduler]).fit(X, y)
    for _, history in clf.stage_histories_:
        np.testing.assert_allclose(history[:, "event_lr"], _halving(0.01, EPOCHS))


@pytest.mark.parametrize("reinitialize", [True, False])
def test_seal_restarts_the_schedule_in_every_iteration(data, reinitialize):
    X, y = data
    scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    clf = make("seal", n_iterations=2, reinitialize=reinitialize, lr=0.01,
               callbacks=[scheduler]).fit(X, y)
    assert len(clf.stage_histories_) == 3
    for _, history in clf.stage_histories_:
        np.testing.assert_allclose(history[:, "event_lr"], _halving(0.01, EPOCHS))


def test_one_scheduler_schedules_both_flywheel_networks(data):
    X, y = data

    class MainLR(Callback):
        def __init__(self):
            self.lrs = []

        def on_epoch_end(self, net, **kwargs):
            self.lrs.append(net.main_optimizer_.param_groups[0]["lr"])

    main_lr = MainLR()
    scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    fly = make("flywheel", lr=0.01, callbacks=[main_lr, scheduler]).fit(X, y)
    ce = make("ce", lr=0.01, callbacks=[LRScheduler(policy="StepLR", step_size=1,
                                                    gamma=0.5)]).fit(X, y)
    np.testing.assert_allclose(fly.history_[:, "event_lr"], ce.history_[:, "event_lr"])
    # g trains at the end of each epoch at the learning rate f had in it.
    np.testing.assert_allclose(main_lr.lrs, fly.history_[:, "event_lr"])


def _stopper():
    # "Improving" would need the loss to drop by 99% in one epoch.
    return EarlyStopping(monitor="train_loss", patience=1, threshold=0.99)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_early_stopping_ends_the_stage_and_fit_returns_a_fitted_estimator(data, name):
    X, y = data
    clf = make(name, callbacks=[_stopper()]).fit(X, y)
    assert_fitted(clf, name, len(y))
    for _, history in clf.stage_histories_:
        assert len(history) == 2
    assert clf.predict(X).shape == y.shape


def test_flywheel_stopped_inside_its_warm_up_is_fitted(data):
    X, y = data
    clf = make("flywheel", max_epochs=8, warmup_epochs=5, callbacks=[_stopper()]).fit(X, y)
    assert len(clf.history_) == 2
    assert_fitted(clf, "flywheel", len(y))
    assert np.all(np.isfinite(clf.clean_proba_))


@pytest.mark.parametrize("name", ["ce", "flywheel"])
def test_early_stopping_inside_grid_search(data, name):
    X, y = data
    search = GridSearchCV(make(name, callbacks=[_stopper()]), {"lr": [1e-3, 1e-2]}, cv=2)
    search.fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_epoch_and_batch_scoring_record_in_history(data, name):
    X, y = data
    clf = make(name, callbacks=[
        EpochScoring("accuracy", on_train=True, name="train_acc", use_caching=False),
        EpochScoring("accuracy", on_train=True, name="cached_acc"),
        BatchScoring("accuracy", on_train=True, name="batch_acc"),
    ]).fit(X, y)
    for key in ("train_acc", "cached_acc", "batch_acc"):
        scores = clf.history_[:, key]
        assert len(scores) == EPOCHS
        assert all(0 <= score <= 1 for score in scores)


def test_training_scores_use_the_given_labels(data):
    X, y = data
    labels = np.array(["cat", "dog", "eel"])[y]
    clf = make("ce", callbacks=[
        EpochScoring("accuracy", on_train=True, name="train_acc", use_caching=False),
    ]).fit(X, labels)
    assert clf.history_[-1, "train_acc"] == pytest.approx(
        accuracy_score(labels, clf.predict(X)))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_checkpoint_and_load_init_state(data, name, tmp_path):
    X, y = data
    checkpoint = Checkpoint(monitor="train_loss_best", dirname=str(tmp_path))
    make(name, callbacks=[checkpoint]).fit(X, y)
    assert (tmp_path / "params.pt").exists() and (tmp_path / "history.json").exists()

    resumed = make(name, callbacks=[LoadInitState(
        Checkpoint(monitor="train_loss_best", dirname=str(tmp_path)))]).fit(X, y)
    # The loaded history continues: its epochs come before this stage's.
    assert len(resumed.history_) > EPOCHS


@pytest.mark.parametrize("name", ESTIMATORS)
def test_progress_bar_and_print_log(data, name, capsys):
    X, y = data
    make(name, verbose=1, callbacks=[ProgressBar()]).fit(X, y)
    captured = capsys.readouterr()
    assert "train_loss" in captured.out
    assert "it/s" in captured.err or "s/it" in captured.err


class StartWeights(Callback):
    def __init__(self):
        self.weights = []

    def on_train_begin(self, net, **kwargs):
        self.weights.append([p.detach().clone() for p in net.module_.parameters()])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_gradient_norm_clipping_clips_the_predicting_network(data, name):
    X, y = data
    start = StartWeights()
    clf = make(name, optimizer=torch.optim.SGD, lr=0.1, callbacks=[
        start, GradientNormClipping(gradient_clip_value=1e-12)]).fit(X, y)
    # With every gradient clipped to nothing, SGD leaves the network as the
    # last stage started it.
    for got, initial in zip(clf.module_.parameters(), start.weights[-1]):
        torch.testing.assert_close(got.detach(), initial, atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_train_split_records_validation_scores(data, name):
    X, y = data
    clf = make(name, train_split=0.2).fit(X, y)
    for key in ("valid_loss", "valid_acc"):
        assert len(clf.history_[:, key]) == EPOCHS
    # Noise scores still cover every sample passed to fit.
    assert_fitted(clf, name, len(y))
    assert sum(clf.history_[-1, "batches", :, "train_batch_size"]) == 120


def test_valid_scores_without_caching_equal_the_cached_ones(data):
    # skorch's scoring without caching indexes the validation part itself
    # (scikit-learn's _safe_indexing), which once failed on tensor indices
    X, y = data
    cached = make("ce", train_split=0.2).fit(X, y)
    uncached = make("ce", train_split=0.2, callbacks__valid_acc__use_caching=False).fit(X, y)
    assert uncached.history_[:, "valid_acc"] == cached.history_[:, "valid_acc"]


def test_one_split_serves_every_stage_and_defaults_of_skorch_callbacks_work(data, tmp_path):
    X, y = data

    class ValidIndices(Callback):
        def __init__(self):
            self.seen = []

        def on_train_begin(self, net, **kwargs):
            self.started = True

        def on_epoch_end(self, net, dataset_valid=None, **kwargs):
            self.seen.append(tuple(np.asarray(dataset_valid.indices)))

    indices = ValidIndices()
    clf = make("seal", train_split=ValidSplit(5), callbacks=[
        indices, EarlyStopping(), Checkpoint(dirname=str(tmp_path))]).fit(X, y)
    assert len(set(indices.seen)) == 1 and len(indices.seen[0]) == 30
    assert (tmp_path / "params.pt").exists()
    assert "valid_loss_best" in clf.history_[-1]


@pytest.mark.parametrize("train_split", [0.0, 1.0, "half"])
def test_bad_train_split_is_refused(data, train_split):
    X, y = data
    with pytest.raises(ValueError, match="train_split"):
        make("ce", train_split=train_split).fit(X, y)


class LossTypes(Callback):
    """Records, at each batch's start, what the history holds for the batch before."""

    def initialize(self):
        self.seen = []
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        batches = net.history_[-1]["batches"]
        if training and len(batches) > 1:
            self.seen.append(type(batches[-2]["train_loss"]))


class ReadsLoss(Callback):
    def on_batch_end(self, net, **kwargs):
        self.last = net.history_[-1]["batches"][-1]["train_loss"]


class InterruptAtBatch(Callback):
    """Ctrl-C as the ``batch``-th batch of an epoch starts."""

    def __init__(self, batch):
        self.batch = batch

    def on_batch_begin(self, net, training=False, **kwargs):
        if training and len(net.history_[-1]["batches"]) == self.batch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("name", ESTIMATORS)
def test_batch_losses_reach_the_host_once_per_epoch_unless_a_callback_reads_them(data, name):
    # A device-to-host copy per batch stalls a GPU; the history still ends
    # with skorch's floats.
    X, y = data
    types = LossTypes()
    clf = make(name, batch_size=32, callbacks=[("types", types)]).fit(X, y)
    assert set(types.seen) == {torch.Tensor}
    assert all(type(loss) is float for loss in clf.history_[:, "batches", :, "train_loss"][-1])
    reads = ReadsLoss()
    clf = make(name, batch_size=32, callbacks=[("types", types), ("reads", reads)]).fit(X, y)
    assert set(types.seen) == {float} and type(reads.last) is float


def test_an_interrupted_epoch_leaves_floats_in_the_history(data):
    X, y = data
    clf = make("ce", batch_size=32, callbacks=[("stop", InterruptAtBatch(3))]).fit(X, y)
    losses = [batch["train_loss"] for batch in clf.history_[-1]["batches"] if batch]
    assert len(losses) == 2 and all(type(loss) is float for loss in losses)


def test_an_unpickled_lr_scheduler_steps_the_unpickled_optimizer(data):
    # pickled apart, the scheduler would step a copy of the optimizer (and a
    # CUDA fit's copy would not load on a machine without CUDA)
    X, y = data
    clf = make("ce", callbacks=[("lr", LRScheduler("StepLR", step_size=1))]).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    callback = dict(restored.callbacks_)["lr"]
    assert callback.lr_scheduler_.optimizer is restored.optimizer_
    assert restored.callbacks[0][1] is callback  # skorch initialised it in place
    assert restored.cuda_dependent_attributes_ == clf.cuda_dependent_attributes_


def test_only_a_plateau_scheduler_stepped_per_batch_needs_each_batch_loss(data):
    from sklearn_noisy._fit_loop import reads_batch_losses
    assert not reads_batch_losses(LRScheduler("StepLR", step_size=1, step_every="batch"))
    assert not reads_batch_losses(LRScheduler("ReduceLROnPlateau"))  # per epoch
    assert reads_batch_losses(LRScheduler("ReduceLROnPlateau", monitor="train_loss",
                                          step_every="batch"))
    # and such a scheduler gets it
    X, y = data
    make("ce", callbacks=[("lr", LRScheduler("ReduceLROnPlateau", monitor="train_loss",
                                             step_every="batch"))]).fit(X, y)


def test_a_verbose_fit_names_each_stage_and_colours_only_a_terminal(data, capsys,
                                                                     monkeypatch):
    X, y = data
    make("seal", verbose=1, max_epochs=2).fit(X, y)
    out = capsys.readouterr().out
    assert "SEALClassifier: iteration 0, 2 epochs" in out
    assert "SEALClassifier: iteration 1, 2 epochs" in out
    assert "Re-initializing" not in out and "\x1b[" not in out  # captured: not a tty
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    make("ce", verbose=1, max_epochs=2).fit(X, y)
    assert "\x1b[" in capsys.readouterr().out
