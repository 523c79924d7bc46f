"""A torch Dataset as X, inputs of any dtype, precision, augmentation, compile."""

import os
import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from skorch.callbacks import Callback
from torch.utils.data import Dataset, Subset, TensorDataset, random_split

from sklearn_noisy import (
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    SEALClassifier,
    SLNClassifier,
)
from sklearn_noisy._inference import inference_batch_size
from sklearn_noisy.augmentations import RandomShiftFlip


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16).astype(np.float32), y[:600]


class Inputs(Dataset):
    """A lazy Dataset of inputs; counts how often each sample is read."""

    def __init__(self, X):
        self.X = X
        self.reads = np.zeros(len(X), dtype=int)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        self.reads[index] += 1
        return self.X[index]


class Pairs(Inputs):
    def __init__(self, X, y):
        super().__init__(X)
        self.y = y

    def __getitem__(self, index):
        return super().__getitem__(index), self.y[index]


ESTIMATORS = [
    (CrossEntropyClassifier, {}),
    (SEALClassifier, {"n_iterations": 1}),
    (SLNClassifier, {}),
    (ConfusionEMClassifier, {}),
    (FlywheelClassifier, {"warmup_epochs": 1}),
]


@pytest.mark.parametrize("estimator_class, params", ESTIMATORS,
                         ids=[cls.__name__ for cls, _ in ESTIMATORS])
def test_dataset_gives_the_same_fit_as_the_array(digits, estimator_class, params):
    X, y = digits
    in_memory = estimator_class(max_epochs=3, random_state=0, **params).fit(X, y)
    lazy = estimator_class(max_epochs=3, random_state=0, **params).fit(Inputs(X), y)
    np.testing.assert_array_equal(in_memory.predict_proba(X), lazy.predict_proba(Inputs(X)))
    np.testing.assert_array_equal(in_memory.noise_scores_, lazy.noise_scores_)
    np.testing.assert_array_equal(in_memory.corrected_labels_, lazy.corrected_labels_)


def _views(dataset):
    """name -> (view of ``dataset``, the positions of its samples)."""
    halves = random_split(dataset, [0.5, 0.5], generator=torch.Generator().manual_seed(0))
    evens = Subset(dataset, list(range(0, len(dataset), 2)))
    return {
        "Subset": (evens, np.asarray(evens.indices)),
        "random_split": (halves[1], np.asarray(halves[1].indices)),
        "a view of a view": (Subset(evens, [5, 1, 7, 3]), np.asarray(evens.indices)[[5, 1, 7, 3]]),
    }


@pytest.mark.parametrize("estimator_class, params", ESTIMATORS,
                         ids=[cls.__name__ for cls, _ in ESTIMATORS])
def test_views_of_a_dataset_work_like_the_samples_they_select(digits, estimator_class, params):
    X, y = digits
    pairs = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    (name, (view, rows)), *others = _views(pairs).items()
    in_memory = estimator_class(max_epochs=2, random_state=0, **params).fit(X[rows], y[rows])
    lazy = estimator_class(max_epochs=2, random_state=0, **params).fit(view)
    np.testing.assert_array_equal(in_memory.predict_proba(X[rows]), lazy.predict_proba(view))
    np.testing.assert_array_equal(in_memory.noise_scores_, lazy.noise_scores_)
    assert lazy.score(view) == in_memory.score(X[rows], y[rows])
    for name, (other, other_rows) in others:
        np.testing.assert_array_equal(lazy.predict(other), in_memory.predict(X[other_rows]),
                                      err_msg=name)


class Ragged(Dataset):
    """Inputs of 64 features, but sample 7's has 63."""

    def __init__(self, X):
        self.X = X

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        return self.X[index][:63] if index == 7 else self.X[index]


def test_inputs_of_another_shape_are_named(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"Item 7 of the Dataset .* shape \(63,\).* \(64,\)"):
        CrossEntropyClassifier(max_epochs=1, random_state=0).fit(Ragged(X), y)


def test_one_hot_labels_in_a_dataset_are_refused_with_what_to_do(digits):
    X, y = digits
    one_hot_pairs = TensorDataset(torch.from_numpy(X), torch.eye(10)[torch.from_numpy(y)])
    with pytest.raises(ValueError, match=r"Item 0 .* label of shape \(10,\).*argmax"):
        CrossEntropyClassifier(max_epochs=1).fit(one_hot_pairs)


def test_find_label_issues_takes_a_dataset_like_its_array(digits):
    from sklearn_noisy import find_label_issues

    X, y = digits
    pairs = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    estimator = CrossEntropyClassifier(max_epochs=2, random_state=0)
    lazy = find_label_issues(estimator, pairs, y, cv=2, random_state=0).sort_index()
    array = find_label_issues(estimator, X, y, cv=2, random_state=0).sort_index()
    # float32 evaluation passes for a Dataset, float64 for small arrays
    np.testing.assert_allclose(lazy["noise_score"], array["noise_score"], atol=1e-6)
    assert (lazy["corrected_label"] == array["corrected_label"]).all()


def test_dataset_of_pairs_needs_no_y_and_scores_against_its_labels(digits):
    X, y = digits
    pairs = Pairs(X, y)
    clf = CrossEntropyClassifier(max_epochs=3, random_state=0).fit(pairs)
    reference = CrossEntropyClassifier(max_epochs=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict(pairs), reference.predict(X))
    assert clf.score(pairs) == reference.score(X, y)
    tensors = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    assert clf.score(tensors) == reference.score(X, y)


def test_a_targets_attribute_spares_reading_every_sample(digits):
    X, y = digits
    pairs = Pairs(X, y)
    pairs.targets = list(y)
    clf = CrossEntropyClassifier(max_epochs=1, random_state=0)
    clf.fit(pairs)
    # One epoch of training plus the pass for the noise scores (and item 0
    # once for the sample shape): no extra pass for the labels.
    assert pairs.reads.max() <= 3
    np.testing.assert_array_equal(clf.classes_, np.unique(y))


def test_dataset_samples_are_loaded_once_per_pass(digits):
    X, y = digits
    data = Inputs(X)
    CrossEntropyClassifier(max_epochs=2, random_state=0).fit(data, y)
    expected = np.full(len(X), 3)  # two epochs and the noise-score pass
    expected[0] += 1  # the shape probe
    np.testing.assert_array_equal(data.reads, expected)


def test_loader_parameters_are_routed_and_workers_give_the_same_fit(digits):
    X, y = digits
    single = CrossEntropyClassifier(max_epochs=1, random_state=0).fit(Inputs(X), y)
    workers = CrossEntropyClassifier(
        max_epochs=1, random_state=0, iterator_train__num_workers=1,
        iterator_valid__num_workers=1).fit(Inputs(X), y)
    assert workers.get_params()["iterator_train__num_workers"] == 1
    np.testing.assert_array_equal(single.predict_proba(X), workers.predict_proba(X))


@pytest.mark.parametrize("dataset, y, message", [
    (Inputs(np.zeros((0, 4), dtype=np.float32)), [], "empty Dataset"),
    (Inputs(np.zeros((5, 4), dtype=np.float32)), [0, 1], "5 samples but y has 2"),
    (Inputs(np.zeros((5, 4), dtype=np.float32)), None, r"\(input, label\) pairs"),
    (Inputs(np.array([["a"], ["b"]], dtype=object)), [0, 1], "numeric"),
])
def test_bad_datasets_are_refused_with_a_clear_message(dataset, y, message):
    clf = CrossEntropyClassifier(max_epochs=1)
    with pytest.raises(ValueError, match=message):
        clf.fit(dataset, y)
    assert not hasattr(clf, "module_")


def test_reserved_loader_arguments_and_wrong_shapes_are_refused(digits):
    X, y = digits
    with pytest.raises(ValueError, match="batch_size"):
        CrossEntropyClassifier(max_epochs=1, iterator_train__batch_size=8).fit(Inputs(X), y)
    clf = CrossEntropyClassifier(max_epochs=1, random_state=0).fit(Inputs(X), y)
    with pytest.raises(ValueError, match="shape"):
        clf.predict(Inputs(X[:, :10]))


def test_train_split_and_validation_scores_work_on_a_dataset(digits):
    X, y = digits
    clf = CrossEntropyClassifier(max_epochs=2, random_state=0, train_split=0.2)
    clf.fit(Inputs(X), y)
    reference = CrossEntropyClassifier(max_epochs=2, random_state=0, train_split=0.2)
    reference.fit(X, y)
    assert clf.history_[-1, "valid_acc"] == reference.history_[-1, "valid_acc"]


class Bag(torch.nn.Module):
    """A bag-of-tokens text classifier."""

    def __init__(self, n_classes, vocabulary=50):
        super().__init__()
        self.embedding = torch.nn.EmbeddingBag(vocabulary, 16)
        self.output = torch.nn.Linear(16, n_classes)

    def forward(self, X):
        return self.output(self.embedding(X))


def test_integer_token_ids_reach_an_embedding_bag():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 50, size=(300, 12))
    labels = (tokens < 25).sum(axis=1) > 6
    clf = CrossEntropyClassifier(module=Bag, max_epochs=20, lr=1e-2, random_state=0)
    clf.fit(tokens, labels)
    assert clf.input_dtype_ == torch.int64
    assert clf.score(tokens, labels) > 0.9
    assert clf.score(torch.from_numpy(tokens), labels) == clf.score(tokens, labels)
    lazy = CrossEntropyClassifier(module=Bag, max_epochs=20, lr=1e-2, random_state=0)
    lazy.fit(Inputs(tokens), labels)
    np.testing.assert_array_equal(lazy.predict_proba(tokens), clf.predict_proba(tokens))


@pytest.mark.parametrize("X", [
    np.zeros((4, 3), dtype=np.int64),
    np.zeros((4, 3), dtype=np.float16),
    torch.zeros((4, 3), dtype=torch.bfloat16),
], ids=["int64", "float16", "bfloat16"])
def test_default_networks_get_float32_inputs(X):
    clf = CrossEntropyClassifier(max_epochs=1, random_state=0).fit(X, [0, 1, 0, 1])
    assert clf.input_dtype_ == torch.float32
    assert clf.predict_proba(X).shape == (4, 2)


class GradientNorms(Callback):
    def initialize(self):
        self.norms = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.norms.append(float(torch.cat(
            [p.grad.flatten() for _, p in named_parameters]).norm()))


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_reduced_precision_trains_and_callbacks_see_true_gradients(digits, precision):
    X, y = digits
    norms = {}
    for name in ("float32", precision):
        recorder = GradientNorms()
        clf = CrossEntropyClassifier(max_epochs=3, random_state=0, precision=name,
                                     callbacks=[recorder]).fit(X, y)
        norms[name] = np.median(recorder.norms)
        assert clf.score(X, y) > 0.8
        assert clf.predict_proba(X).dtype == np.float64
    # float16's loss scaling (2**16) is undone before callbacks read gradients.
    assert norms[precision] == pytest.approx(norms["float32"], rel=0.5)


def test_reduced_precision_runs_flywheels_second_network(digits):
    X, y = digits
    clf = FlywheelClassifier(max_epochs=3, warmup_epochs=1, precision="float16",
                             random_state=0).fit(X, y)
    assert np.isfinite(clf.noise_scores_).all()


class CountingShift(RandomShiftFlip):
    """Counts its calls in a class attribute: the estimator augments a copy."""

    total_calls = 0

    def __call__(self, X, generator=None):
        type(self).total_calls += 1
        return super().__call__(X, generator=generator)


def test_augmentation_applies_to_training_batches_only_and_is_seeded(digits):
    X, y = digits
    images = X.reshape(-1, 1, 8, 8)
    CountingShift.total_calls = 0
    clf = CrossEntropyClassifier(max_epochs=2, random_state=0, batch_size=100,
                                 augmentation=CountingShift()).fit(images, y)
    assert CountingShift.total_calls == 2 * 6  # 6 batches of 100 per epoch
    clf.predict(images)
    assert CountingShift.total_calls == 12
    again = CrossEntropyClassifier(max_epochs=2, random_state=0, batch_size=100,
                                   augmentation=CountingShift()).fit(images, y)
    np.testing.assert_array_equal(clf.predict_proba(images), again.predict_proba(images))
    plain = CrossEntropyClassifier(max_epochs=2, random_state=0, batch_size=100).fit(images, y)
    assert not np.array_equal(clf.predict_proba(images), plain.predict_proba(images))


def test_flywheel_takes_its_augmentation_as_weak_augmentation(digits):
    X, y = digits
    with pytest.raises(ValueError, match="weak_augmentation"):
        FlywheelClassifier(augmentation=RandomShiftFlip(), max_epochs=2,
                           warmup_epochs=1).fit(X.reshape(-1, 1, 8, 8), y)


def test_compiled_networks_fit_and_pickle(digits):
    X, y = digits
    clf = CrossEntropyClassifier(max_epochs=2, random_state=0, compile=True,
                                 compile__backend="eager").fit(X, y)
    plain = CrossEntropyClassifier(max_epochs=2, random_state=0).fit(X, y)
    assert isinstance(clf.module_, torch._dynamo.eval_frame.OptimizedModule)
    np.testing.assert_allclose(clf.predict_proba(X), plain.predict_proba(X), atol=1e-5)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_channels_last_gives_the_same_predictions(digits):
    X, y = digits
    images = X.reshape(-1, 1, 8, 8)
    nhwc = CrossEntropyClassifier(max_epochs=2, random_state=0, channels_last=True)
    nchw = CrossEntropyClassifier(max_epochs=2, random_state=0, channels_last=False)
    # The same computation in another layout: only float rounding differs,
    # accumulated over two epochs of training.
    np.testing.assert_allclose(nhwc.fit(images, y).predict_proba(images),
                               nchw.fit(images, y).predict_proba(images), atol=1e-2)
    assert next(nhwc.module_.parameters()).dim() == 4
    assert next(nhwc.module_.parameters()).is_contiguous(memory_format=torch.channels_last)


def test_inference_batches_are_smaller_for_images_on_the_cpu():
    assert inference_batch_size("cpu", (64,)) == 1024
    assert inference_batch_size("cpu", (3, 32, 32)) == 128


def test_seal_checkpoints_identify_a_dataset_by_its_attributes(digits, tmp_path):
    X, y = digits
    params = dict(n_iterations=1, max_epochs=2, random_state=0, checkpoint_dir=tmp_path)
    first = SEALClassifier(**params).fit(Inputs(X), y)
    assert len(list(tmp_path.iterdir())) == 1
    resumed = SEALClassifier(**params).fit(Inputs(X), y)
    np.testing.assert_array_equal(first.predict_proba(X), resumed.predict_proba(X))
    SEALClassifier(**params).fit(Inputs(X[::-1].copy()), y[::-1])
    assert len(list(tmp_path.iterdir())) == 2


def _record_worker(path):
    def init(worker_id):
        with open(path, "a") as file:
            file.write(f"{os.getpid()}\n")
    return init


def test_a_fit_keeps_one_set_of_loader_workers_and_stops_them_at_its_end(digits, tmp_path):
    # SEAL makes a training pass and an evaluation pass per epoch: without
    # kept workers each of those 2 x 3 x 2 passes would start its own.
    X, y = digits
    started = tmp_path / "workers.txt"
    SEALClassifier(
        n_iterations=1, max_epochs=3, random_state=0,
        iterator_train__num_workers=1, iterator_train__worker_init_fn=_record_worker(started),
        iterator_valid__num_workers=1, iterator_valid__worker_init_fn=_record_worker(started),
    ).fit(Inputs(X), y)
    pids = [int(line) for line in started.read_text().split()]
    assert len(pids) == 2  # one training and one in-order loader, one worker each
    for pid in pids:
        with pytest.raises(ProcessLookupError):  # stopped and reaped
            os.kill(pid, 0)


def test_drop_last_gives_every_training_batch_the_same_shape(digits):
    X, y = digits
    for data in (X, Inputs(X)):
        clf = CrossEntropyClassifier(max_epochs=2, batch_size=128, random_state=0,
                                     iterator_train__drop_last=True).fit(data, y)
        sizes = clf.history_[:, "batches", :, "train_batch_size"]
        assert all(size == 128 for epoch in sizes for size in epoch)
        assert [len(epoch) for epoch in sizes] == [len(X) // 128] * 2
    with pytest.raises(ValueError, match="no batch"):
        CrossEntropyClassifier(max_epochs=1, batch_size=1000,
                               iterator_train__drop_last=True).fit(X, y)
    with pytest.raises(ValueError, match="True or False"):
        CrossEntropyClassifier(max_epochs=1, iterator_train__drop_last="yes").fit(X, y)


def test_drop_last_lets_a_compiled_network_train_on_one_batch_shape(digits):
    # 600 samples in batches of 64 end with a batch of 24: a second shape,
    # for which torch.compile compiles the network (and the loss) again.
    X, y = digits
    compiled_for = []

    def recording_backend(graph, example_inputs):
        batch = next(x for x in example_inputs if isinstance(x, torch.Tensor))
        compiled_for.append(int(batch.shape[0]))
        return graph.forward

    class ShapesAtEpochEnd(Callback):
        def on_epoch_end(self, net, **kwargs):
            self.shapes = set(compiled_for)

    for drop_last, expected in [(True, {64}), (False, {64, 24})]:
        torch._dynamo.reset()
        compiled_for.clear()
        seen = ShapesAtEpochEnd()
        CrossEntropyClassifier(max_epochs=2, random_state=0, compile=True,
                               compile__backend=recording_backend, callbacks=[seen],
                               iterator_train__drop_last=drop_last).fit(X, y)
        assert seen.shapes == expected
