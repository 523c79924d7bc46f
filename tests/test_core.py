"""The shared core, through the public CrossEntropyClassifier."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from skorch.callbacks import Callback
from torch import nn

from sklearn_noisy import CrossEntropyClassifier
from sklearn_noisy.networks import MLP, SmallCNN

FAST = dict(max_epochs=3, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=240, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


def test_trains_on_all_data_without_validation_split(data):
    X, y = data
    clf = CrossEntropyClassifier(max_epochs=2, batch_size=50, random_state=0).fit(X, y)
    assert len(clf.history_) == 2
    assert clf.history_[-1, "train_batch_count"] == 5
    assert sum(clf.history_[-1, "batches", :, "train_batch_size"]) == len(X)
    assert "valid_loss" not in clf.history_[-1]


@pytest.mark.parametrize("convert", [
    lambda X: X,
    lambda X: pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]),
    torch.from_numpy,
])
def test_numpy_dataframe_and_tensor_inputs_agree(data, convert):
    X, y = data
    reference = CrossEntropyClassifier(**FAST).fit(X, y).predict_proba(X)
    clf = CrossEntropyClassifier(**FAST).fit(convert(X), y)
    np.testing.assert_allclose(clf.predict_proba(convert(X)), reference, atol=1e-6)


def _memmap(X, folder):
    path = folder / "X.npy"
    np.save(path, X)
    return np.load(path, mmap_mode="r")


@pytest.mark.parametrize("layout", [
    "reversed rows (negative strides)", "Fortran order", "every other column",
    "read-only memory map"])
def test_any_array_layout_scikit_learn_accepts_gives_the_same_fit(data, layout, tmp_path):
    X, y = data
    wide = np.repeat(X, 2, axis=1)  # its every other column is X
    view, labels, rows = {
        "reversed rows (negative strides)": (X[::-1], y[::-1], slice(None, None, -1)),
        "Fortran order": (np.asfortranarray(X), y, slice(None)),
        "every other column": (wide[:, ::2], y, slice(None)),
        "read-only memory map": (_memmap(X, tmp_path), y, slice(None)),
    }[layout]
    reference = CrossEntropyClassifier(**FAST).fit(X[rows].copy(), y[rows].copy())
    clf = CrossEntropyClassifier(**FAST).fit(view, labels)
    np.testing.assert_array_equal(clf.predict_proba(view), reference.predict_proba(X[rows]))
    if layout.startswith("reversed"):
        from sklearn_noisy import CCNLabelCorruptor, IDNLabelCorruptor
        for corruptor in (IDNLabelCorruptor(0.3, n_epochs=2, random_state=0),
                          IDNLabelCorruptor(0.3, strategy="projection", random_state=0),
                          CCNLabelCorruptor(0.3, random_state=0)):
            _, noisy = clone(corruptor).fit_resample(view, labels)
            _, expected = clone(corruptor).fit_resample(X[rows].copy(), y[rows].copy())
            np.testing.assert_array_equal(noisy, expected)


def test_string_labels_and_classes(data):
    X, y = data
    names = np.array(["cat", "dog", "emu"])[y]
    clf = CrossEntropyClassifier(**FAST).fit(X, names)
    assert list(clf.classes_) == ["cat", "dog", "emu"]
    assert set(clf.predict(X)) <= set(names)
    assert set(clf.corrected_labels_) <= set(names)
    assert clf.predict_proba(X).shape == (len(X), 3)


def test_default_network_follows_the_shape_of_X():
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 20)
    tabular = CrossEntropyClassifier(**FAST).fit(rng.random((40, 6)), y)
    assert isinstance(tabular.module_, MLP)
    for shape in [(40, 8, 8), (40, 3, 8, 8)]:
        images = rng.random(shape).astype(np.float32)
        clf = CrossEntropyClassifier(**FAST).fit(images, y)
        assert isinstance(clf.module_, SmallCNN)
        assert clf.predict(images).shape == (40,)
        with pytest.raises(ValueError, match="shape"):
            clf.predict(rng.random((5, 8, 9)) if len(shape) == 3 else rng.random((5, 3, 8, 9)))


def test_module_class_gets_inferred_sizes_and_routed_parameters(data):
    X, y = data

    class Net(nn.Module):
        def __init__(self, n_features, n_classes, width=4):
            super().__init__()
            self.width = width
            self.layer = nn.Linear(n_features, n_classes)

        def forward(self, X):
            return self.layer(X)

    clf = CrossEntropyClassifier(Net, module__width=7, **FAST).fit(X, y)
    assert clf.module_.width == 7
    assert clf.module_.layer.in_features == 8 and clf.module_.layer.out_features == 3
    assert clf.get_params()["module__width"] == 7
    assert clone(clf).get_params()["module__width"] == 7


def test_default_network_takes_routed_parameters(data):
    X, y = data
    clf = CrossEntropyClassifier(module__hidden_units=(16,), **FAST).fit(X, y)
    assert [m.out_features for m in clf.module_.modules() if isinstance(m, nn.Linear)] == [16, 3]


def test_module_instance_is_copied_not_trained_in_place(data):
    X, y = data
    network = MLP(8, 3)
    before = {k: v.clone() for k, v in network.state_dict().items()}
    clf = CrossEntropyClassifier(network, **FAST).fit(X, y)
    assert clf.module_ is not network
    for key, value in network.state_dict().items():
        assert torch.equal(value, before[key])


def test_unknown_routed_parameter_is_rejected(data):
    X, y = data
    with pytest.raises(ValueError, match="unexpected parameter"):
        CrossEntropyClassifier(modul__width=3, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="Invalid parameter"):
        CrossEntropyClassifier().set_params(not_a_parameter=1)


def test_a_misspelt_parameter_gets_the_closest_name():
    from sklearn_noisy import SEALClassifier

    with pytest.raises(ValueError, match=r"\['n_iteration'\] \(did you mean 'n_iterations'\?\)"):
        SEALClassifier(n_iteration=3).fit(np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"'n_iteration'.*\(did you mean 'n_iterations'\?\)"):
        SEALClassifier().set_params(n_iteration=3)


def test_same_seed_same_predictions_and_global_rng_untouched(data):
    X, y = data
    torch.manual_seed(123)
    np.random.seed(123)
    expected_torch, expected_numpy = torch.rand(3), np.random.rand(3)

    torch.manual_seed(123)
    np.random.seed(123)
    first = CrossEntropyClassifier(**FAST).fit(X, y).predict_proba(X)
    assert torch.equal(torch.rand(3), expected_torch)
    assert np.array_equal(np.random.rand(3), expected_numpy)

    second = CrossEntropyClassifier(**FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other = CrossEntropyClassifier(max_epochs=3, random_state=1).fit(X, y).predict_proba(X)
    assert not np.allclose(first, other)


def test_noise_scores_and_corrected_labels_flag_flipped_labels():
    X, y = make_classification(n_samples=400, n_features=10, n_informative=6,
                               n_classes=2, class_sep=2.5, random_state=0)
    noisy = y.copy()
    flipped = np.arange(0, 400, 10)
    noisy[flipped] = 1 - noisy[flipped]
    clf = CrossEntropyClassifier(max_epochs=5, random_state=0).fit(X, noisy)
    assert clf.noise_scores_.shape == (400,)
    assert np.all((clf.noise_scores_ >= 0) & (clf.noise_scores_ <= 1))
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(
        clf.noise_scores_, 1 - proba[np.arange(400), noisy], atol=1e-5
    )
    np.testing.assert_array_equal(clf.corrected_labels_, clf.predict(X))
    # flipped samples look more suspicious than the rest, and get corrected
    assert clf.noise_scores_[flipped].mean() > 3 * np.delete(clf.noise_scores_, flipped).mean()
    assert (clf.corrected_labels_[flipped] == y[flipped]).mean() > 0.8


@pytest.mark.parametrize("X_bad, y_bad, error, message", [
    (np.array([[0.0, np.nan]] * 10), np.tile([0, 1], 5), ValueError, "NaN"),
    (np.array([[0.0, np.inf]] * 10), np.tile([0, 1], 5), ValueError, "infinity"),
    (np.empty((0, 3)), np.empty(0), ValueError, "0 sample"),
    (np.zeros((10, 3)), np.tile([0, 1], 4), ValueError, "inconsistent numbers of samples"),
    (np.zeros((10, 3)), np.ones(10), ValueError, "only one class"),
    (np.zeros((10, 3)), np.linspace(0, 1, 10), ValueError, "Unknown label type"),
    (sparse.csr_matrix(np.eye(10)), np.tile([0, 1], 5), TypeError, "Sparse data is not supported"),
])
def test_bad_input_gets_a_clear_error(X_bad, y_bad, error, message):
    with pytest.raises(error, match=message):
        CrossEntropyClassifier(**FAST).fit(X_bad, y_bad)


@pytest.mark.parametrize("params, message", [
    ({"max_epochs": 0}, "max_epochs"),
    ({"lr": -1.0}, "lr"),
    ({"batch_size": 0}, "batch_size"),
    ({"device": "tpu"}, "device"),
])
def test_bad_parameters_get_a_clear_error(data, params, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        CrossEntropyClassifier(**params).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error(data):
    X, y = data
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        CrossEntropyClassifier(device="cuda", **FAST).fit(X, y)


def test_callers_arrays_are_not_modified(data):
    X, y = data
    X_before, y_before = X.copy(), y.copy()
    X_tensor = torch.from_numpy(X.copy())
    clf = CrossEntropyClassifier(**FAST).fit(X, y)
    clf.predict(X)
    clf.fit(X_tensor, y)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(X_tensor.numpy(), X_before)


def test_pickle_round_trip_keeps_predictions(data, tmp_path):
    X, y = data
    clf = CrossEntropyClassifier(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.noise_scores_, clf.noise_scores_)
    unfitted = pickle.loads(pickle.dumps(CrossEntropyClassifier(max_epochs=7)))
    assert unfitted.max_epochs == 7


def test_clone_and_params(data):
    clf = CrossEntropyClassifier(max_epochs=4, lr=0.01, optimizer__weight_decay=1e-4)
    params = clone(clf).get_params(deep=False)
    assert params["max_epochs"] == 4 and params["optimizer__weight_decay"] == 1e-4
    X, y = data
    fitted = clf.set_params(max_epochs=2, random_state=0).fit(X, y)
    assert fitted.optimizer_.param_groups[0]["weight_decay"] == 1e-4
    assert len(fitted.history_) == 2


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_cross_validation_and_grid_search(data, n_jobs):
    X, y = data
    scores = cross_val_score(CrossEntropyClassifier(**FAST), X, y, cv=3, n_jobs=n_jobs)
    assert scores.shape == (3,) and np.all(scores > 0.4)
    search = GridSearchCV(
        CrossEntropyClassifier(**FAST),
        {"module__hidden_units": [(8,), (32,)], "lr": [1e-3, 1e-2]},
        cv=2,
        n_jobs=n_jobs,
    ).fit(X, y)
    assert search.best_estimator_.module_.layers[0].out_features in (8, 32)
    assert len(search.cv_results_["params"]) == 4


def test_grid_search_is_the_same_with_one_or_two_jobs(data):
    X, y = data
    grids = [
        GridSearchCV(CrossEntropyClassifier(**FAST), {"lr": [1e-3, 1e-2]}, cv=2,
                     n_jobs=n_jobs).fit(X, y)
        for n_jobs in (1, 2)
    ]
    np.testing.assert_allclose(
        grids[0].cv_results_["mean_test_score"], grids[1].cv_results_["mean_test_score"]
    )


def test_partial_fit_is_not_offered():
    assert not hasattr(CrossEntropyClassifier(), "partial_fit")


def test_digits_clean_accuracy_with_defaults():
    """Issue #2 target (one seed here; benchmarks/bench_core_accuracy.py runs 5)."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    clf = CrossEntropyClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.96


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fit_on_cuda_matches_the_api(data):
    X, y = data
    clf = CrossEntropyClassifier(device="cuda", **FAST).fit(X, y)
    assert next(clf.module_.parameters()).is_cuda
    assert clf.predict_proba(X).shape == (len(X), 3)
    assert clf.noise_scores_.shape == (len(X),)
    # a CUDA tensor as input, and a pickle that loads back
    clf.fit(torch.as_tensor(X, device="cuda"), y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X))


def test_half_precision_tensors_are_accepted(data):
    X, y = data
    for dtype in (torch.bfloat16, torch.float16):
        clf = CrossEntropyClassifier(**FAST).fit(torch.as_tensor(X).to(dtype), y)
        assert clf.predict(torch.as_tensor(X).to(dtype)).shape == y.shape


def test_missing_labels_are_named(data):
    X, y = data
    labels = np.array(["a", "b", "c"], dtype=object)[y]
    labels[[4, 9]] = None
    with pytest.raises(ValueError, match=r"2 missing label\(s\).*\[4, 9\]"):
        CrossEntropyClassifier(**FAST).fit(X, labels)


class BatchNormMLP(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, n_classes))

    def forward(self, X):
        return self.layers(X)


def test_a_trailing_batch_of_one_sample_joins_the_batch_before(data):
    X, y = data
    n = 2 * 32 + 1
    clf = CrossEntropyClassifier(BatchNormMLP, batch_size=32, **FAST).fit(X[:n], y[:n])
    sizes = clf.history_[-1, "batches", :, "train_batch_size"]
    assert sizes == [32, 33] and sum(sizes) == n


def test_repr_shows_the_changed_parameters_fitted_or_not(data):
    from sklearn_noisy import SEALClassifier

    clf = SEALClassifier(n_iterations=1, max_epochs=2)
    assert repr(clf) == "SEALClassifier(max_epochs=2, n_iterations=1)"
    X, y = data
    assert repr(clf.fit(X, y)) == "SEALClassifier(max_epochs=2, n_iterations=1)"
    assert repr(CrossEntropyClassifier(module__dropout=0.2)) == (
        "CrossEntropyClassifier(module__dropout=0.2)")


def test_a_dict_as_X_is_refused_with_what_to_pass(data):
    X, y = data
    columns = {f"f{i}": X[:, i] for i in range(X.shape[1])}
    with pytest.raises(TypeError, match=r"X is a dict .*pandas.DataFrame\(X\)"):
        CrossEntropyClassifier(**FAST).fit(columns, y)
    clf = CrossEntropyClassifier(**FAST).fit(pd.DataFrame(columns), y)
    with pytest.raises(TypeError, match="X is a dict"):
        clf.predict(columns)


def _first_two_features(X):
    return X[:, :2]


def _to_numpy(X):
    return X.numpy()


@pytest.mark.parametrize("augmentation, returned", [
    (_first_two_features, r"a tensor of shape \(\d+, 2\)"), (_to_numpy, "ndarray")])
def test_an_augmentation_that_changes_the_batch_is_named(data, augmentation, returned):
    X, y = data
    with pytest.raises(ValueError, match=rf"augmentation=.* shape \(\d+, 8\).* {returned}"):
        CrossEntropyClassifier(augmentation=augmentation, **FAST).fit(X, y)


class _KeepValidationPredictions(Callback):
    def initialize(self):
        self.kept = []
        return self

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if not training:
            self.kept.append(y_pred)


class _StaticOutputs(CrossEntropyClassifier):
    """Validation predictions in one buffer that every step overwrites, as a
    network compiled into CUDA graphs returns them."""

    def validation_step(self, batch, **fit_params):
        step = super().validation_step(batch, **fit_params)
        if not hasattr(self, "static_"):
            self.static_ = torch.empty_like(step["y_pred"])
        return {**step, "y_pred": self.static_.copy_(step["y_pred"])}


@pytest.mark.parametrize("compile", [False, True])
def test_callbacks_keep_predictions_that_no_later_compiled_step_overwrites(compile):
    # skorch's scoring keeps every batch's predictions until the epoch
    # ends; under compile the loop hands callbacks a copy of them
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    keep = _KeepValidationPredictions()
    extra = {"compile__backend": "eager"} if compile else {}
    _StaticOutputs(max_epochs=2, random_state=0, train_split=0.5, compile=compile,
                   callbacks=[("keep", keep)], **extra).fit(X, y)
    first, second = keep.kept
    # without the copy both epochs' predictions are the one buffer
    assert (first is second) != compile
