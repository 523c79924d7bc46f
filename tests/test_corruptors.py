"""IDN and CCN label corruptors."""

import copy
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse
from scipy.stats import truncnorm
from skorch.callbacks import Callback
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_noisy import (
    CCNLabelCorruptor,
    CrossEntropyClassifier,
    IDNLabelCorruptor,
    SEALClassifier,
)
from sklearn_noisy.corruptors import CIFAR100_COARSE_LABELS, sample_from_transition, sample_rows


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16).astype(np.float32), y[:600]


def test_idn_prediction_flips_exactly_the_highest_scores(digits):
    X, y = digits
    corruptor = IDNLabelCorruptor(0.3, n_epochs=5, random_state=0)
    X_out, y_noisy = corruptor.fit_resample(X, y)
    assert X_out is X or np.shares_memory(X_out, X)
    mask = corruptor.noise_mask_
    assert mask.sum() == round(0.3 * len(y))
    np.testing.assert_array_equal(mask, y_noisy != y)

    S = corruptor.average_softmax_
    np.testing.assert_allclose(S.sum(axis=1), 1, atol=1e-5)
    others = S.copy()
    others[np.arange(len(y)), y] = -np.inf
    np.testing.assert_allclose(corruptor.noise_scores_, others.max(axis=1))
    # every flipped sample scores at least as high as every kept one
    assert corruptor.noise_scores_[mask].min() >= corruptor.noise_scores_[~mask].max()
    # the wrong label is the most confused other class
    np.testing.assert_array_equal(y_noisy[mask], others.argmax(axis=1)[mask])


def test_idn_prediction_averages_the_softmax_of_every_epoch(digits):
    X, y = digits
    one_epoch = IDNLabelCorruptor(0.2, n_epochs=1, random_state=0).fit(X, y)
    one_epoch.fit_resample(X, y)
    net = CrossEntropyClassifier(max_epochs=1, random_state=0)
    # with one epoch the average is the final network's softmax
    assert one_epoch.average_softmax_.shape == (len(y), 10)
    assert np.all(one_epoch.average_softmax_ >= 0)
    custom = IDNLabelCorruptor(0.2, estimator=net.set_params(max_epochs=2), random_state=0)
    custom.fit_resample(X, y)
    assert net.callbacks is None  # the caller's estimator is cloned, not changed


def test_idn_is_reproducible_and_leaves_y_alone(digits):
    X, y = digits
    y_before = y.copy()
    first = IDNLabelCorruptor(0.2, n_epochs=3, random_state=5).fit_resample(X, y)[1]
    second = IDNLabelCorruptor(0.2, n_epochs=3, random_state=5).fit_resample(X, y)[1]
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(y, y_before)


def test_idn_zero_rate_changes_nothing(digits):
    X, y = digits
    for strategy in ("prediction", "projection"):
        _, y_noisy = IDNLabelCorruptor(0.0, strategy=strategy, n_epochs=1,
                                       random_state=0).fit_resample(X, y)
        np.testing.assert_array_equal(y_noisy, y)


def test_idn_keeps_label_type():
    X, y = make_classification(n_samples=200, n_classes=3, n_informative=4, random_state=0)
    names = np.array(["a", "b", "c"])[y]
    corruptor = IDNLabelCorruptor(0.25, n_epochs=2, random_state=0)
    _, noisy = corruptor.fit_resample(X, names)
    assert noisy.dtype == names.dtype and set(noisy) <= {"a", "b", "c"}
    assert (noisy != names).sum() == 50


def test_idn_accepts_sparse_and_returns_it_unchanged():
    X, y = make_classification(n_samples=120, n_classes=2, random_state=0)
    X_sparse = sparse.csr_matrix(X)
    corruptor = IDNLabelCorruptor(0.2, strategy="projection", random_state=0)
    X_out, y_sparse = corruptor.fit_resample(X_sparse, y)
    assert sparse.issparse(X_out)
    _, y_dense = IDNLabelCorruptor(0.2, strategy="projection", random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(y_sparse, y_dense)


def test_idn_projection_flip_rates_are_truncated_normal_around_the_rate():
    X, y = make_classification(n_samples=20000, n_features=10, n_informative=6,
                               n_classes=4, random_state=0)
    rate = 0.3
    corruptor = IDNLabelCorruptor(rate, strategy="projection", random_state=0)
    corruptor.fit_resample(X, y)
    flip_rates = corruptor.noise_scores_
    assert flip_rates.min() >= 0 and flip_rates.max() <= 1
    # truncation at [0, 1], not [rate, rate + 0.1] (a known bug of a public script)
    assert flip_rates.min() < rate - 0.2 and flip_rates.max() > rate + 0.2
    assert abs(flip_rates.mean() - rate) < 0.005
    assert abs(flip_rates.std() - 0.1) < 0.01
    assert abs(corruptor.noise_rate_ - rate) < 0.015
    # flips depend on the instance: within a class, the wrong label varies
    flipped = corruptor.noise_mask_ & (y == 0)
    assert len(np.unique(corruptor.noisy_labels_[flipped])) == 3


def _projection_with_one_draw(X, y, n_classes, noise_rate, rng):
    """The projection generator as it was before the per-class draws.

    It draws all projections at once as a (K, d, K) array (K^2 d memory); kept
    here as the reference the memory-lean version must reproduce exactly.
    """
    features = X.reshape(len(X), -1).astype(np.float64)
    std = 0.1
    flip_rates = truncnorm(
        (0 - noise_rate) / std, (1 - noise_rate) / std,
        loc=noise_rate, scale=std,
    ).rvs(len(y), random_state=rng)
    projections = rng.standard_normal((n_classes, features.shape[1], n_classes))
    logits = np.empty((len(y), n_classes))
    for label in range(n_classes):
        members = y == label
        logits[members] = features[members] @ projections[label]
    logits[np.arange(len(y)), y] = -np.inf
    logits -= logits.max(axis=1, keepdims=True)
    proba = np.exp(logits)
    proba *= (flip_rates / proba.sum(axis=1))[:, None]
    proba[np.arange(len(y)), y] = 1.0 - flip_rates
    return sample_rows(proba, rng), flip_rates


@pytest.mark.parametrize("seed", [0, 1, 7, 2024])
@pytest.mark.parametrize("n_samples, shape, n_classes", [
    (300, (7,), 3),      # odd d * K: the draws split a pair of normals
    (500, (20,), 11),
    (64, (3,), 2),
    (120, (2, 3, 3), 5),  # images are flattened
])
def test_idn_projection_labels_are_those_of_the_single_draw(seed, n_samples, shape,
                                                            n_classes):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, *shape)).astype(np.float32)
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)
    names = np.array([f"class-{k:02d}" for k in range(n_classes)])
    labels = names[y]

    corruptor = IDNLabelCorruptor(0.35, strategy="projection", random_state=seed)
    _, noisy = corruptor.fit_resample(X, labels)

    expected, flip_rates = _projection_with_one_draw(
        X, y, n_classes, 0.35, np.random.RandomState(seed))
    np.testing.assert_array_equal(noisy, names[expected])
    np.testing.assert_array_equal(corruptor.noise_scores_, flip_rates)
    assert corruptor.noise_mask_.any()


def test_idn_projection_memory_is_linear_in_the_classes():
    n_samples, n_features, n_classes = 300, 500, 100
    rng = np.random.RandomState(0)
    X = rng.standard_normal((n_samples, n_features))
    y = np.arange(n_samples) % n_classes
    corruptor = IDNLabelCorruptor(0.3, strategy="projection", random_state=0)
    tracemalloc.start()
    try:
        corruptor.fit_resample(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    all_projections = n_classes * n_features * n_classes * 8  # 40 MB
    # X as float64, one (d, K) projection and a few (n, K) arrays: about 3 MB
    linear = 8 * (n_samples * n_features + n_features * n_classes
                  + 6 * n_samples * n_classes)
    assert peak < 2 * linear < all_projections / 4


def test_ccn_uniform_resamples_over_all_classes():
    n_classes, rate = 10, 0.6
    y = np.repeat(np.arange(n_classes), 10000)
    corruptor = CCNLabelCorruptor(rate, transition="uniform", random_state=0)
    _, noisy = corruptor.fit_resample(np.zeros((len(y), 1)), y)
    expected = (1 - rate) * np.eye(n_classes) + rate / n_classes
    np.testing.assert_allclose(corruptor.transition_, expected)
    np.testing.assert_allclose(corruptor.transition_matrix_, expected, atol=0.02)
    changed = rate * (n_classes - 1) / n_classes  # 0.54, not 0.6
    # binomial standard error of the fraction is about 0.0016
    assert abs(corruptor.noise_rate_ - changed) < 0.006
    assert abs((noisy != y).mean() - rate) > 0.05
    np.testing.assert_allclose(corruptor.noise_scores_, changed)


def test_ccn_uniform_accepts_a_rate_of_one():
    n_classes = 4
    y = np.repeat(np.arange(n_classes), 20000)
    corruptor = CCNLabelCorruptor(1.0, transition="uniform", random_state=0)
    _, noisy = corruptor.fit_resample(np.zeros((len(y), 1)), y)
    np.testing.assert_allclose(corruptor.transition_, np.full((4, 4), 0.25))
    assert abs(corruptor.noise_rate_ - 0.75) < 0.01
    # every true class is spread over all classes, its own included
    np.testing.assert_allclose(corruptor.transition_matrix_, 0.25, atol=0.015)


@pytest.mark.parametrize("transition", [
    "symmetric", "pair", "cifar10", {0: 1}, [[0.0, 1.0], [1.0, 0.0]],
])
def test_ccn_rate_of_one_is_for_uniform_only(transition):
    with pytest.raises(InvalidParameterError, match="uniform"):
        CCNLabelCorruptor(1.0, transition=transition).fit_resample(
            np.zeros((10, 1)), np.tile([0, 1], 5))
    with pytest.raises(InvalidParameterError, match="noise_rate"):
        CCNLabelCorruptor(1.01, transition="uniform").fit_resample(
            np.zeros((10, 1)), np.tile([0, 1], 5))


# The CIFAR-100 ``meta`` file's fine_label_names and coarse_label_names, and
# the superclass listing of https://www.cs.toronto.edu/~kriz/cifar.html:
# an independent check of the index table in the code.
CIFAR100_FINE_NAMES = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy "
    "bridge bus butterfly camel can castle caterpillar cattle chair chimpanzee "
    "clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant "
    "flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower "
    "leopard lion lizard lobster man maple_tree motorcycle mountain mouse "
    "mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree "
    "plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea "
    "seal shark shrew skunk skyscraper snail snake spider squirrel streetcar "
    "sunflower sweet_pepper table tank telephone television tiger tractor train "
    "trout tulip turtle wardrobe whale willow_tree wolf woman worm"
).split()
CIFAR100_SUPERCLASSES = {
    "aquatic_mammals": "beaver dolphin otter seal whale",
    "fish": "aquarium_fish flatfish ray shark trout",
    "flowers": "orchid poppy rose sunflower tulip",
    "food_containers": "bottle bowl can cup plate",
    "fruit_and_vegetables": "apple mushroom orange pear sweet_pepper",
    "household_electrical_devices": "clock keyboard lamp telephone television",
    "household_furniture": "bed chair couch table wardrobe",
    "insects": "bee beetle butterfly caterpillar cockroach",
    "large_carnivores": "bear leopard lion tiger wolf",
    "large_man-made_outdoor_things": "bridge castle house road skyscraper",
    "large_natural_outdoor_scenes": "cloud forest mountain plain sea",
    "large_omnivores_and_herbivores": "camel cattle chimpanzee elephant kangaroo",
    "medium_mammals": "fox porcupine possum raccoon skunk",
    "non-insect_invertebrates": "crab lobster snail spider worm",
    "people": "baby boy girl man woman",
    "reptiles": "crocodile dinosaur lizard snake turtle",
    "small_mammals": "hamster mouse rabbit shrew squirrel",
    "trees": "maple_tree oak_tree palm_tree pine_tree willow_tree",
    "vehicles_1": "bicycle bus motorcycle pickup_truck train",
    "vehicles_2": "lawn_mower rocket streetcar tank tractor",
}


def test_cifar100_coarse_table_matches_the_superclasses():
    coarse = np.asarray(CIFAR100_COARSE_LABELS)
    assert coarse.shape == (100,)
    assert sorted(CIFAR100_FINE_NAMES) == CIFAR100_FINE_NAMES
    assert len(CIFAR100_FINE_NAMES) == 100
    np.testing.assert_array_equal(np.bincount(coarse), np.full(20, 5))
    # coarse_label_names are alphabetical too
    for index, name in enumerate(sorted(CIFAR100_SUPERCLASSES)):
        fine_labels = np.flatnonzero(coarse == index)
        members = {CIFAR100_FINE_NAMES[fine] for fine in fine_labels}
        assert members == set(CIFAR100_SUPERCLASSES[name].split()), name


def test_ccn_cifar100_superclass_flips_to_the_next_class_of_the_superclass():
    rate = 0.4
    y = np.repeat(np.arange(100), 400)
    corruptor = CCNLabelCorruptor(rate, transition="cifar100-superclass",
                                  random_state=0)
    _, noisy = corruptor.fit_resample(np.zeros((len(y), 1)), y)
    T = corruptor.transition_
    np.testing.assert_allclose(np.diag(T), 1 - rate)
    np.testing.assert_allclose(T.sum(axis=1), 1)
    targets = (T - np.diag(np.diag(T))).argmax(axis=1)
    np.testing.assert_allclose(T[np.arange(100), targets], rate)
    coarse = np.asarray(CIFAR100_COARSE_LABELS)
    for superclass in range(20):
        members = np.flatnonzero(coarse == superclass)
        # sorted members, each to the next, the last back to the first
        np.testing.assert_array_equal(targets[members], np.roll(members, -1))
    # e.g. people: baby -> boy -> girl -> man -> woman -> baby
    people = [CIFAR100_FINE_NAMES.index(name)
              for name in ("baby", "boy", "girl", "man", "woman")]
    assert [CIFAR100_FINE_NAMES[targets[k]] for k in people] == [
        "boy", "girl", "man", "woman", "baby"]
    changed = noisy != y
    assert abs(changed.mean() - rate) < 0.01
    np.testing.assert_array_equal(coarse[noisy], coarse[y])
    np.testing.assert_array_equal(noisy[changed], targets[y[changed]])


@pytest.mark.parametrize("labels", [
    np.arange(10), np.arange(99), np.arange(1, 101), np.arange(200),
])
def test_ccn_cifar100_superclass_needs_the_100_cifar100_labels(labels):
    y = np.repeat(labels, 2)
    corruptor = CCNLabelCorruptor(0.4, transition="cifar100-superclass")
    message = f"100 CIFAR-100 fine labels.*got {len(labels)} classes"
    with pytest.raises(ValueError, match=message):
        corruptor.fit_resample(np.zeros((len(y), 1)), y)


@pytest.mark.parametrize("transition, expected", [
    ("symmetric", np.array([[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]])),
    ("uniform", 0.6 * np.eye(3) + 0.4 / 3),
    ("pair", np.array([[0.6, 0.4, 0.0], [0.0, 0.6, 0.4], [0.4, 0.0, 0.6]])),
    ({0: 2}, np.array([[0.6, 0.0, 0.4], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])),
    (np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.1, 0.1, 0.8]]),
     np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.1, 0.1, 0.8]])),
])
def test_ccn_follows_its_transition_matrix(transition, expected):
    y = np.repeat([0, 1, 2], 20000)
    corruptor = CCNLabelCorruptor(0.4, transition=transition, random_state=0)
    _, noisy = corruptor.fit_resample(np.zeros((len(y), 2)), y)
    np.testing.assert_allclose(corruptor.transition_, expected)
    np.testing.assert_allclose(corruptor.transition_matrix_, expected, atol=0.015)
    np.testing.assert_allclose(corruptor.noise_scores_, 1 - expected[y, y])
    np.testing.assert_array_equal(corruptor.noise_mask_, noisy != y)


def test_ccn_cifar10_flips():
    y = np.repeat(np.arange(10), 2000)
    corruptor = CCNLabelCorruptor(0.4, transition="cifar10", random_state=0)
    _, noisy = corruptor.fit_resample(np.zeros((len(y), 1)), y)
    T = corruptor.transition_
    for source, target in {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}.items():
        assert T[source, target] == pytest.approx(0.4)
    for kept in (0, 1, 6, 7, 8):
        assert T[kept, kept] == 1.0
        assert np.all(noisy[y == kept] == kept)
    with pytest.raises(ValueError, match="cifar10"):
        CCNLabelCorruptor(0.4, transition="cifar10").fit_resample(
            np.zeros((30, 1)), np.repeat([0, 1, 2], 10))


def test_ccn_passes_any_X_through():
    y = np.tile([0, 1], 10)
    X = np.array([["a", np.nan]] * 20, dtype=object)
    X_out, _ = CCNLabelCorruptor(0.3, random_state=0).fit_resample(X, y)
    assert X_out is X or np.shares_memory(X_out, X)
    images = np.zeros((20, 3, 4, 4), dtype=np.float32)
    images_out, _ = CCNLabelCorruptor(0.3, random_state=0).fit_resample(images, y)
    assert images_out.shape == images.shape


@pytest.mark.parametrize("corruptor, message", [
    (CCNLabelCorruptor(1.0), "noise_rate"),
    (CCNLabelCorruptor(-0.1), "noise_rate"),
    (IDNLabelCorruptor(1.5), "noise_rate"),
    (IDNLabelCorruptor(0.2, strategy="confusion"), "strategy"),
    (CCNLabelCorruptor(0.2, transition="diagonal"), "transition"),
    (CCNLabelCorruptor(transition=[[0.5, 0.4], [0.0, 1.0]]), "sum to 1"),
    (CCNLabelCorruptor(transition=[[1.5, -0.5], [0.0, 1.0]]), ">= 0"),
    (CCNLabelCorruptor(transition=np.eye(3)), "shape"),
    (CCNLabelCorruptor(transition={0: 7}), "not classes"),
    # matrices and dicts that numpy or a dict lookup cannot use: the message
    # names transition (these raised numpy's or Python's own errors before)
    (CCNLabelCorruptor(transition=[[1.0], [0.5, 0.5]]),
     r"transition must be .*numpy cannot read it as an array"),
    (CCNLabelCorruptor(transition=[["a", "b"], ["c", "d"]]),
     r"transition must be .*holds <U1 values, not real numbers"),
    (CCNLabelCorruptor(transition=[[None, None], [None, None]]),
     r"transition must be .*not all real numbers: it holds None"),
    (CCNLabelCorruptor(transition=[[1j, 0], [0, 1]]), r"transition must be .*complex"),
    (CCNLabelCorruptor(transition=np.ones((2, 2, 1)) / 2),
     r"transition must be .*shape \(2, 2, 1\)"),
    (CCNLabelCorruptor(transition={0: [1]}),
     r"transition must map each label to one label .*got \[1\] \(list\) for label 0"),
])
def test_bad_parameters_get_a_clear_error(corruptor, message):
    with pytest.raises(ValueError, match=message):
        corruptor.fit_resample(np.zeros((10, 2)), np.tile([0, 1], 5))


def test_malformed_transition_is_refused_before_the_data_is_read():
    # what can be checked without y's classes is checked first
    with pytest.raises(ValueError, match="transition must be"):
        CCNLabelCorruptor(transition=[[1.0], [0.5, 0.5]]).fit_resample(
            np.zeros((4, 1)), [0, 0, 0, 0])


def test_object_and_tensor_transition_matrices_are_accepted():
    y = np.tile([0, 1], 50)
    for matrix in (np.array([[1, 0], [0.5, 0.5]], dtype=object),
                   torch.tensor([[1.0, 0.0], [0.5, 0.5]]), [[True, False], [False, True]]):
        corruptor = CCNLabelCorruptor(transition=matrix, random_state=0)
        corruptor.fit_resample(np.zeros((100, 1)), y)
        np.testing.assert_allclose(corruptor.transition_, np.asarray(matrix, dtype=float))


@pytest.mark.parametrize("corruptor", [
    IDNLabelCorruptor(0.2, n_epochs=1), CCNLabelCorruptor(0.2)
])
@pytest.mark.parametrize("X_bad, y_bad, message", [
    (np.zeros((0, 2)), np.zeros(0), "0 sample"),
    (np.zeros((10, 2)), np.zeros(10), "class"),
    (np.zeros((10, 2)), np.tile([0, 1], 4), "inconsistent"),
    (np.zeros((10, 2)), np.linspace(0, 1, 10), "Unknown label type"),
])
def test_bad_input_gets_a_clear_error(corruptor, X_bad, y_bad, message):
    with pytest.raises(ValueError, match=message):
        corruptor.fit_resample(X_bad, y_bad)


def test_idn_rejects_non_finite_features():
    with pytest.raises(ValueError, match="NaN"):
        IDNLabelCorruptor(0.2).fit_resample(np.full((10, 2), np.nan), np.tile([0, 1], 5))


# One of each code path: training a network, projecting X, ignoring X.
CORRUPTORS = {
    "idn-prediction": lambda: IDNLabelCorruptor(0.3, n_epochs=1, random_state=0),
    "idn-projection": lambda: IDNLabelCorruptor(0.3, strategy="projection", random_state=0),
    "ccn": lambda: CCNLabelCorruptor(0.3, random_state=0),
}


def _small_data(n_samples=40):
    X, y = make_classification(n_samples=n_samples, n_features=4, n_informative=3,
                               n_redundant=0, random_state=0)
    return X, y


X_CONTAINERS = {
    "int-ndarray": lambda X: np.round(X * 10).astype(np.int64),
    "float32-ndarray": lambda X: X.astype(np.float32),
    "dataframe": lambda X: pd.DataFrame(X, columns=list("abcd"),
                                        index=np.arange(100, 100 + len(X))),
    "tensor": lambda X: torch.tensor(X, dtype=torch.float32),
    "list": lambda X: X.tolist(),
}


@pytest.mark.parametrize("container", X_CONTAINERS)
@pytest.mark.parametrize("corruptor", CORRUPTORS)
def test_fit_resample_returns_the_callers_X_itself(corruptor, container):
    X, y = _small_data()
    X_given = X_CONTAINERS[container](X)
    X_out, _ = CORRUPTORS[corruptor]().fit_resample(X_given, y)
    assert X_out is X_given


@pytest.mark.parametrize("corruptor", CORRUPTORS)
def test_pandas_labels_keep_their_index_name_and_dtype(corruptor):
    X, y = _small_data()
    index = np.arange(100, 100 + len(X))[::-1]
    X_frame = pd.DataFrame(X, columns=list("abcd"), index=index)
    y_series = pd.Series(y.astype(np.int32), index=index, name="label")

    _, y_noisy = CORRUPTORS[corruptor]().fit_resample(X_frame, y_series)
    assert isinstance(y_noisy, pd.Series)
    assert y_noisy.name == "label" and y_noisy.dtype == np.int32
    pd.testing.assert_index_equal(y_noisy.index, y_series.index)
    joined = X_frame.join(y_noisy)
    assert joined["label"].notna().all()
    _, y_plain = CORRUPTORS[corruptor]().fit_resample(X, y)
    np.testing.assert_array_equal(joined["label"].to_numpy(), y_plain)

    y_frame = y_series.to_frame()
    _, y_noisy_frame = CORRUPTORS[corruptor]().fit_resample(X_frame, y_frame)
    pd.testing.assert_frame_equal(y_noisy_frame, y_noisy.to_frame())


def test_categorical_and_string_series_keep_their_dtype():
    X, y = _small_data()
    names = np.array(["cat", "dog"])[y]
    index = pd.Index([f"id{i}" for i in range(len(y))])
    for labels in (pd.Series(names, index=index, dtype="category"),
                   pd.Series(names, index=index, dtype="string")):
        _, y_noisy = CCNLabelCorruptor(0.3, random_state=0).fit_resample(X, labels)
        assert y_noisy.dtype == labels.dtype
        pd.testing.assert_index_equal(y_noisy.index, index)
        assert (y_noisy != labels).sum() > 0


def test_other_labels_come_back_as_an_ndarray_of_their_dtype():
    X, y = _small_data()
    corruptor = CCNLabelCorruptor(0.3, random_state=0)
    expected = corruptor.fit_resample(X, y)[1]
    for labels in (y.astype(np.int32), torch.tensor(y), tuple(y.tolist())):
        _, y_noisy = CCNLabelCorruptor(0.3, random_state=0).fit_resample(X, labels)
        assert isinstance(y_noisy, np.ndarray)
        assert y_noisy.dtype == np.asarray(labels).dtype
        np.testing.assert_array_equal(y_noisy, expected)
    # imbalanced-learn's contract for lists, checked by its estimator checks
    _, y_list = CCNLabelCorruptor(0.3, random_state=0).fit_resample(X, y.tolist())
    assert y_list == expected.tolist()


def test_one_vs_all_labels_come_back_in_their_encoding():
    X, y = _small_data()
    for n_classes in (2, 3):
        labels = y % n_classes
        one_vs_all = np.eye(n_classes, dtype=np.int32)[labels]
        corruptor = CCNLabelCorruptor(0.3, random_state=0)
        _, y_noisy = corruptor.fit_resample(X, one_vs_all)
        assert y_noisy.shape == one_vs_all.shape and y_noisy.dtype == np.int32
        np.testing.assert_array_equal(y_noisy.argmax(axis=1), corruptor.noisy_labels_)


def test_two_columns_that_are_not_one_vs_all_are_refused():
    X, y = _small_data()
    labels = y % 2
    big = np.where(np.eye(2, dtype=bool)[labels], 2**40, -(2**40))
    empty_row = np.eye(2, dtype=np.int64)[labels]
    empty_row[3] = 0
    for encoding, row in ((big, 0), (empty_row, 3)):
        with pytest.raises(ValueError, match=rf"row\(s\) \[{row}.*one-vs-all"):
            CCNLabelCorruptor(0.3, random_state=0).fit_resample(X, encoding)


@pytest.mark.parametrize("corruptor", CORRUPTORS)
def test_the_callers_data_is_never_modified(corruptor):
    X, y = _small_data()
    inputs = [
        (X.astype(np.float32), y.copy()),
        (pd.DataFrame(X, columns=list("abcd")), pd.Series(y, name="label")),
        (torch.tensor(X, dtype=torch.float32), torch.tensor(y)),
        (X.tolist(), y.tolist()),
    ]
    for X_given, y_given in inputs:
        before = copy.deepcopy((X_given, y_given))
        CORRUPTORS[corruptor]().fit_resample(X_given, y_given)
        for given, kept in zip((X_given, y_given), before):
            np.testing.assert_array_equal(np.asarray(given), np.asarray(kept))


@pytest.mark.parametrize("estimator", [
    LogisticRegression(), "CrossEntropyClassifier", CrossEntropyClassifier,
])
def test_idn_estimator_must_be_a_classifier_of_the_package(estimator):
    corruptor = IDNLabelCorruptor(0.2, estimator=estimator)
    with pytest.raises(InvalidParameterError, match="sklearn_noisy's classifiers"):
        corruptor.fit_resample(*_small_data())


def test_idn_accepts_any_classifier_of_the_package():
    X, y = _small_data()
    network = SEALClassifier(n_iterations=1, max_epochs=2, random_state=0)
    corruptor = IDNLabelCorruptor(0.25, estimator=network, random_state=0)
    _, y_noisy = corruptor.fit_resample(X, y)
    assert (y_noisy != y).sum() == 10
    np.testing.assert_allclose(corruptor.average_softmax_.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("labels", [
    [0, None, 1, 0, 1, 1],
    ["a", None, "b", "a", "b", "b"],
    np.array([0.0, 1.0, np.nan, 1.0, 0.0, 1.0]),
    pd.Series(["a", "b", None, "a", "b", "b"], dtype="string"),
])
def test_missing_labels_are_named(labels):
    with pytest.raises(ValueError, match=r"missing label\(s\) \(None or NaN\)"):
        CCNLabelCorruptor(0.2).fit_resample(np.zeros((6, 1)), labels)


class CtrlCAtBatch(Callback):
    """Ctrl-C (a KeyboardInterrupt) after training batch ``batch``."""

    def __init__(self, batch):
        self.batch = batch

    def initialize(self):
        self.seen_ = 0
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.seen_ += 1
            if self.seen_ == self.batch:
                raise KeyboardInterrupt


def test_ctrl_c_in_the_first_epoch_of_the_idn_network_averages_what_it_trained():
    X, y = _small_data()
    network = CrossEntropyClassifier(max_epochs=3, batch_size=16, random_state=0,
                                     callbacks=[CtrlCAtBatch(1)])
    corruptor = IDNLabelCorruptor(0.3, estimator=network, random_state=0)
    _, y_noisy = corruptor.fit_resample(X, y)
    # the network after one batch, as the stage left it, stands for the average
    assert corruptor.average_softmax_.shape == (len(y), len(np.unique(y)))
    np.testing.assert_allclose(corruptor.average_softmax_.sum(axis=1), 1, rtol=1e-5)
    assert corruptor.noise_mask_.sum() == round(0.3 * len(y))


@pytest.mark.parametrize("n_classes", [2, 7, 300])
def test_class_by_class_sampling_draws_what_row_by_row_sampling_draws(n_classes):
    rng = np.random.RandomState(n_classes)
    matrix = rng.dirichlet(np.full(n_classes, 0.3), size=n_classes)
    y = rng.randint(0, n_classes, size=2000)
    np.testing.assert_array_equal(
        sample_from_transition(matrix, y, np.random.RandomState(1)),
        sample_rows(matrix[y], np.random.RandomState(1)))


def test_class_conditional_noise_with_thousands_of_classes_needs_memory_of_two_k_by_k():
    import tracemalloc

    n_classes, n_samples = 3000, 15000
    y = np.arange(n_samples) % n_classes
    X = np.zeros((n_samples, 1), dtype=np.float32)
    square = n_classes ** 2 * 8  # one K x K matrix of float64: 72 MB
    tracemalloc.start()
    try:
        corruptor = CCNLabelCorruptor(0.4, random_state=0)
        corruptor.fit_resample(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the transition matrix and the empirical one; not a row per sample (n x K)
    assert peak < 2.5 * square
    assert corruptor.transition_matrix_.shape == (n_classes, n_classes)
    assert abs(corruptor.noise_rate_ - 0.4) < 0.02
