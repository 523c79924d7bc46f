"""FlywheelClassifier: the two EM cycles of LNL-flywheel and its augmentations."""

import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_noisy import CCNLabelCorruptor, FlywheelClassifier
from sklearn_noisy._random import FitRandomness
from sklearn_noisy.augmentations import (
    GaussianJitter,
    RandomAffineCutout,
    RandomShiftFlip,
    default_augmentations,
)
from sklearn_noisy.flywheel import (
    EMCycles,
    _clean_log_odds,
    _corrupted_transition,
    confidence_regulariser,
    nt_xent_loss,
)

FAST = dict(max_epochs=6, warmup_epochs=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    """Four well separated blobs with 30% pair noise (class k -> k + 1)."""
    X, y = make_blobs(n_samples=400, centers=4, n_features=6, cluster_std=1.0,
                      random_state=0)
    corruptor = CCNLabelCorruptor(0.3, transition="pair", random_state=0)
    _, y_noisy = corruptor.fit_resample(X, y)
    return X.astype(np.float32), y, y_noisy, corruptor.noise_mask_


@pytest.fixture(scope="module")
def fitted(data):
    X, _, y_noisy, _ = data
    return FlywheelClassifier(**FAST).fit(X, y_noisy)


# ----------------------------------------------------------------------
# the equations
# ----------------------------------------------------------------------
def test_e_step_is_equation_4():
    main_proba = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    given = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    epsilon = torch.tensor([0.2, 0.5])
    gamma = 0.6
    clean = torch.sigmoid(_clean_log_odds(main_proba, given, gamma, epsilon)).numpy()
    expected = [0.6 * 0.7 / (0.6 * 0.7 + 0.4 * 0.2), 0.6 * 0.1 / (0.6 * 0.1 + 0.4 * 0.5)]
    np.testing.assert_allclose(clean, expected, rtol=1e-6)


def test_transition_of_the_corrupted_part_is_equation_14():
    # f's beliefs about the true class, the corrupted weight q(s=0), labels
    proba = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0],
                          [0.0, 1.0, 0.0]])
    corrupted = torch.tensor([1.0, 0.5, 1.0, 0.5])
    given = torch.eye(3)[[1, 2, 0, 1]]
    # class 0: weight 1 to label 1 and 0.25 to label 2; class 1: 0.25 to
    # label 2 and 0.5 to its own label 1; class 2: 1 to label 0
    paper = _corrupted_transition(proba, corrupted, given, diagonal=True).numpy()
    np.testing.assert_allclose(paper, [[0, 0.8, 0.2], [0, 2 / 3, 1 / 3], [1, 0, 0]],
                               rtol=1e-6)
    # without the diagonal class 1 keeps only its 0.25 to label 2
    zeroed = _corrupted_transition(proba, corrupted, given).numpy()
    np.testing.assert_allclose(zeroed, [[0, 0.8, 0.2], [0, 0, 1], [1, 0, 0]], rtol=1e-6)


# Two classes, three samples: labels, the corrupted weights q(s=0), f before
# (the targets' fbar) and after its epoch.
GIVEN_2 = torch.eye(2)[[0, 1, 1]]
CORRUPTED_2 = torch.tensor([0.5, 1.0, 0.2])
F_BEFORE = torch.tensor([[0.8, 0.2], [0.6, 0.4], [0.1, 0.9]])
F_AFTER = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8]])


def _epsilon_after_one_cycle_epoch(diagonal):
    cycles = EMCycles(GIVEN_2, _identity_augment, _identity_augment,
                      FitRandomness(0, torch.device("cpu")), 2, contrastive_weight=0.0,
                      mixup_alpha=0.0, estimate_epsilon=True,
                      transition_diagonal=diagonal).initialize()
    cycles.clean_, cycles.f_previous_ = 1 - CORRUPTED_2, F_BEFORE
    net = SimpleNamespace(history_=[{}] * 3, eval_proba=lambda X: F_AFTER,
                          train_main_epoch=lambda *args: None)
    data = SimpleNamespace(X_tensor=torch.zeros(3, 1), y_tensor=torch.tensor([0, 1, 1]))
    cycles.on_epoch_end(net, dataset_train=data)
    return cycles.epsilon_.numpy()


def _identity_augment(X):
    return X


def test_epsilon_takes_t_c_from_f_before_and_f_after_its_update():
    # counts[y, y'] = sum_i q(s_i=0) f_before(x_i)[y] [label_i = y']:
    # [[0.5 * 0.8, 1.0 * 0.6 + 0.2 * 0.1], [0.5 * 0.2, 1.0 * 0.4 + 0.2 * 0.9]]
    # = [[0.4, 0.62], [0.1, 0.58]]; rows normalised by 1.02 and 0.68.
    t = np.array([[0.4 / 1.02, 0.62 / 1.02], [0.1 / 0.68, 0.58 / 0.68]])
    # epsilon_i = sum_y f_after(x_i)[y] T_c[y, label_i]
    expected = [0.9 * t[0, 0] + 0.1 * t[1, 0],   # 0.3676
                0.3 * t[0, 1] + 0.7 * t[1, 1],   # 0.7794
                0.2 * t[0, 1] + 0.8 * t[1, 1]]   # 0.8039
    np.testing.assert_allclose(_epsilon_after_one_cycle_epoch(True), expected,
                               rtol=1e-5)
    # Zeroed diagonal: T_c = [[0, 1], [1, 0]], so epsilon_i = f_after(x_i)[other class].
    np.testing.assert_allclose(_epsilon_after_one_cycle_epoch(False),
                               [0.1, 0.3, 0.2], rtol=1e-5)


def test_confidence_regulariser_is_equation_9():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    marginal = torch.tensor([0.5, 0.3, 0.2])
    log_proba = torch.log(torch.softmax(logits, dim=1) + 1e-8)
    expected = (log_proba * marginal).sum(dim=1).mean()
    assert torch.isclose(confidence_regulariser(logits, marginal), expected)
    # minimising it makes predictions confident
    confident = torch.tensor([[20.0, 0.0, 0.0], [0.0, 20.0, 0.0]])
    assert confidence_regulariser(confident, marginal) < confidence_regulariser(
        logits, marginal)


def test_contrastive_loss_is_nt_xent():
    torch.manual_seed(0)
    z1, z2 = torch.randn(4, 5), torch.randn(4, 5)
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    similarity = (z @ z.T / 0.5).numpy()
    losses = []
    for i in range(8):
        partner = (i + 4) % 8
        others = [j for j in range(8) if j != i]
        losses.append(-similarity[i, partner] + np.log(np.exp(similarity[i, others]).sum()))
    np.testing.assert_allclose(float(nt_xent_loss(z1, z2, 0.5)), np.mean(losses), rtol=1e-5)
    # two views that agree score lower than two that do not
    assert nt_xent_loss(z1, z1, 0.5) < nt_xent_loss(z1, z2, 0.5)


# ----------------------------------------------------------------------
# the fitted estimator
# ----------------------------------------------------------------------
def test_attributes_are_consistent(data, fitted):
    X, _, y_noisy, _ = data
    clf = fitted
    n, k = len(X), len(clf.classes_)
    assert clf.clean_proba_.shape == clf.noise_scores_.shape == clf.epsilon_.shape == (n,)
    assert np.all((clf.clean_proba_ >= 0) & (clf.clean_proba_ <= 1))
    np.testing.assert_allclose(clf.noise_scores_, 1 - clf.clean_proba_, atol=1e-12)
    assert clf.gamma_ == pytest.approx(clf.clean_proba_.mean())
    transition = clf.transition_matrix_
    assert transition.shape == (k, k)
    assert np.all(np.diag(transition) == 0)
    assert np.all(np.isclose(transition.sum(axis=1), 1) | (transition.sum(axis=1) == 0))
    # Eq. 11 under the final networks, with f on the unaugmented data
    given = np.eye(k)[np.searchsorted(clf.classes_, y_noisy)]
    clean = clf.clean_proba_[:, None]
    expected = clean * given + (1 - clean) * clf.predict_proba(X)
    np.testing.assert_allclose(clf.refurbished_proba_, expected, atol=1e-5)
    np.testing.assert_array_equal(
        clf.refurbished_labels_, clf.classes_[clf.refurbished_proba_.argmax(axis=1)])
    np.testing.assert_array_equal(clf.corrected_labels_, clf.refurbished_labels_)


def test_prediction_uses_the_auxiliary_network_alone(data, fitted):
    X = data[0]
    with torch.no_grad():
        logits = fitted.module_.eval()(torch.as_tensor(X))
    np.testing.assert_allclose(
        fitted.predict_proba(X), torch.softmax(logits.double(), dim=1).numpy(), atol=1e-6)
    assert fitted.main_network_ is not fitted.module_


def test_it_finds_the_flipped_samples_and_the_pair_transition(data):
    X, y, y_noisy, mask = data
    clf = FlywheelClassifier(random_state=0).fit(X, y_noisy)
    assert roc_auc_score(mask, clf.noise_scores_) > 0.9
    assert np.mean(clf.corrected_labels_ == y) > 0.9
    # pair noise: every row's mass sits on the next class
    np.testing.assert_array_equal(clf.transition_matrix_.argmax(axis=1), [1, 2, 3, 0])
    assert clf.score(X, y) > 0.9


def test_the_papers_transition_counts_the_diagonal(data):
    X, _, y_noisy, _ = data
    clf = FlywheelClassifier(transition_diagonal=True, **FAST).fit(X, y_noisy)
    assert np.all(np.diag(clf.transition_matrix_) > 0)
    assert np.all(np.isclose(clf.transition_matrix_.sum(axis=1), 1))


def test_fixed_epsilon_ablation_keeps_one_over_k(data):
    X, _, y_noisy, _ = data
    clf = FlywheelClassifier(estimate_epsilon=False, **FAST).fit(X, y_noisy)
    np.testing.assert_allclose(clf.epsilon_, 0.25)


class CountingAugmentation:
    """Adds nothing; records the batches it was called with."""

    def __init__(self):
        self.calls = []
        self.fitted_on = None

    def fit(self, X):
        self.fitted_on = X.shape
        return self

    def __call__(self, X):
        assert isinstance(X, torch.Tensor) and X.device.type == "cpu"
        self.calls.append(X.shape)
        return X


def test_user_augmentations_get_device_batches_and_are_fitted_on_a_copy(data):
    X, _, y_noisy, _ = data
    weak, strong = CountingAugmentation(), CountingAugmentation()
    clf = FlywheelClassifier(weak_augmentation=weak, strong_augmentation=strong, **FAST)
    clf.fit(X, y_noisy)
    # the caller's objects are left alone; the estimator used copies
    assert weak.calls == strong.calls == [] and weak.fitted_on is None
    assert clf.weak_augmentation is weak


def test_switched_off_parts_are_not_run(data, monkeypatch):
    X, _, y_noisy, _ = data
    calls = []

    def strong(X_batch):
        calls.append(len(X_batch))
        return X_batch

    FlywheelClassifier(strong_augmentation=strong, **FAST).fit(X, y_noisy)
    assert calls, "the contrastive loss uses the strong augmentation"
    calls.clear()
    FlywheelClassifier(strong_augmentation=strong, contrastive_weight=0, **FAST).fit(
        X, y_noisy)
    assert calls == []
    regulariser_calls = []
    monkeypatch.setattr("sklearn_noisy.flywheel.confidence_regulariser",
                        lambda *args: regulariser_calls.append(1) or torch.tensor(0.0))
    FlywheelClassifier(confidence_weight=0, **FAST).fit(X, y_noisy)
    assert regulariser_calls == []
    FlywheelClassifier(**FAST).fit(X, y_noisy)
    assert regulariser_calls


def test_main_network_trains_on_unaugmented_data_unless_asked(data):
    X, _, y_noisy, _ = data
    calls = {}
    for main_augmentation in (None, "weak"):
        batches = []

        def weak(X_batch):
            batches.append(len(X_batch))
            return X_batch

        FlywheelClassifier(weak_augmentation=weak, main_augmentation=main_augmentation,
                           **FAST).fit(X, y_noisy)
        calls[main_augmentation] = len(batches)
    # 'weak' adds one call per batch of g: 13 batches of 32 (the last one
    # 16) in each of the 6 epochs.
    assert calls["weak"] - calls[None] == FAST["max_epochs"] * 13


@pytest.mark.parametrize("params, message", [
    ({"transition_diagonal": "yes"}, "transition_diagonal"),
    ({"main_augmentation": "strong"}, "main_augmentation"),
    ({"main_augmentation": True}, "main_augmentation"),
])
def test_invalid_variant_parameters(data, params, message):
    X, _, y_noisy, _ = data
    with pytest.raises(ValueError, match=message):
        FlywheelClassifier(**{**FAST, **params}).fit(X, y_noisy)


def test_ablations_change_the_fit(data, fitted):
    X, _, y_noisy, _ = data
    for params in ({"confidence_weight": 0}, {"contrastive_weight": 0}, {"mixup_alpha": 0},
                   {"transition_diagonal": True}, {"main_augmentation": "weak"}):
        other = FlywheelClassifier(**{**FAST, **params}).fit(X, y_noisy)
        assert not np.allclose(other.predict_proba(X), fitted.predict_proba(X))


def test_reproducible_and_leaves_global_state_alone(data, fitted):
    X, _, y_noisy, _ = data
    torch.manual_seed(123)
    np.random.seed(123)
    expected_torch, expected_numpy = torch.rand(1), np.random.rand()
    torch.manual_seed(123)
    np.random.seed(123)
    again = FlywheelClassifier(**FAST).fit(X, y_noisy)
    assert torch.rand(1) == expected_torch and np.random.rand() == expected_numpy
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(again.clean_proba_, fitted.clean_proba_)


def test_pickle_and_clone(data, fitted):
    X = data[0]
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    assert clone(fitted).get_params()["warmup_epochs"] == FAST["warmup_epochs"]


def test_warmup_must_leave_room_for_cycles(data):
    X, _, y_noisy, _ = data
    with pytest.raises(ValueError, match="warmup_epochs"):
        FlywheelClassifier(max_epochs=5, warmup_epochs=5).fit(X, y_noisy)


def test_images_get_image_augmentations():
    rng = np.random.default_rng(0)
    X = rng.random((60, 8, 8)).astype(np.float32)
    y = np.repeat([0, 1, 2], 20)
    X[y == 1, :4] += 1.0
    X[y == 2, 4:] += 1.0
    clf = FlywheelClassifier(max_epochs=3, warmup_epochs=1, random_state=0).fit(X, y)
    assert clf.predict_proba(X).shape == (60, 3)
    weak, strong = default_augmentations(2)
    assert isinstance(weak, RandomShiftFlip) and isinstance(strong, RandomAffineCutout)


# ----------------------------------------------------------------------
# augmentations
# ----------------------------------------------------------------------
def test_gaussian_jitter_scales_with_each_feature():
    torch.manual_seed(0)
    X = torch.randn(5000, 2) * torch.tensor([1.0, 100.0])
    jitter = GaussianJitter(0.1).fit(X)
    noise = jitter(X) - X
    np.testing.assert_allclose(noise.std(dim=0).numpy(), [0.1, 10.0], rtol=0.05)
    dropped = GaussianJitter(0.0, feature_dropout=0.5).fit(X)(X)
    replaced = dropped != X
    assert 0.45 < replaced.float().mean() < 0.55
    np.testing.assert_allclose(dropped[replaced[:, 0], 0].numpy(), float(X[:, 0].mean()),
                               rtol=1e-5)


def test_shift_and_flip_are_per_sample():
    torch.manual_seed(0)
    X = torch.rand(200, 3, 8, 8)
    unchanged = RandomShiftFlip(max_shift=0.0, flip=False)(X)
    torch.testing.assert_close(unchanged, X)
    flipped = RandomShiftFlip(max_shift=0.0, flip=True)(X)
    mirrored = torch.isclose(flipped, X.flip(-1), atol=1e-5).flatten(1).all(dim=1)
    same = torch.isclose(flipped, X, atol=1e-5).flatten(1).all(dim=1)
    assert torch.all(mirrored | same)
    assert 70 < int(mirrored.sum()) < 130


def test_strong_augmentation_keeps_the_shape_and_cuts_out_a_square():
    torch.manual_seed(0)
    X = torch.rand(16, 8, 8) + 1.0  # (n, H, W), strictly positive
    augmented = RandomAffineCutout()(X)
    assert augmented.shape == X.shape
    assert torch.all((augmented == 0).flatten(1).sum(dim=1) >= 4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fit_on_cuda_with_image_augmentations():
    rng = np.random.default_rng(0)
    X = rng.random((64, 3, 8, 8)).astype(np.float32)
    y = np.repeat([0, 1], 32)
    X[y == 1, 0] += 1.0
    clf = FlywheelClassifier(max_epochs=4, warmup_epochs=2, device="cuda", random_state=0)
    clf.fit(X, y)
    assert next(clf.module_.parameters()).is_cuda
    assert next(clf.main_network_.parameters()).is_cuda
    assert clf.predict_proba(X).shape == (64, 2)
    again = FlywheelClassifier(max_epochs=4, warmup_epochs=2, device="cuda", random_state=0)
    # Some CUDA kernels sum in a varying order (test_cuda_recipes.py shows
    # identical fits in PyTorch's deterministic mode).
    np.testing.assert_allclose(again.fit(X, y).clean_proba_, clf.clean_proba_, atol=1e-3)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X))


def test_pair_noise_with_mild_mixup_finds_the_true_classes(one_thread):
    """The "Flywheel regression" under 40% pair noise was not a defect.

    Bisecting 91.15% -> 79.67% (digits, 40% pair noise, 10 warm-up epochs,
    seeds 0-4) lands on dc52f9b ("one skorch lifecycle per training
    stage"), which drew MixUp, augmentations, batch orders and g's
    initialisation from new random streams. With every draw fixed, the
    commit and its parent compute identical losses and predictions; with
    mixup_alpha=4 the outcome is bimodal (95-97% or 77-86% per fit), and
    other draws give b863528 88.2-88.8% and today's code 85.7-86.5%. What
    this guards is the documented remedy: with mixup_alpha=0.2 the two
    hardest splits (seeds 0 and 4) find the true classes.
    """
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    for seed in (0, 4):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=seed)
        _, y_noisy = CCNLabelCorruptor(0.4, transition="pair",
                                       random_state=seed).fit_resample(X_train, y_train)
        clf = FlywheelClassifier(warmup_epochs=10, mixup_alpha=0.2, random_state=seed)
        assert clf.fit(X_train, y_noisy).score(X_test, y_test) >= 0.93, seed
