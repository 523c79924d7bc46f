"""Default networks, the optional torchvision backbone and the papers' networks."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from sklearn_noisy import CrossEntropyClassifier
from sklearn_noisy._checkpoint import describe
from sklearn_noisy.networks import (
    MLP,
    Normalize,
    SmallCNN,
    build_network,
    default_network,
    normalized,
    preact_resnet18,
    resnet18,
    resnet32,
    seal_mnist_cnn,
    wide_resnet,
)


def test_default_networks_output_logits_of_the_right_shape():
    assert default_network((5,), 3)(torch.zeros(4, 5)).shape == (4, 3)
    assert isinstance(default_network((8, 8), 3), SmallCNN)
    assert default_network((8, 8), 3)(torch.zeros(4, 8, 8)).shape == (4, 3)
    assert default_network((3, 9, 7), 2)(torch.zeros(4, 3, 9, 7)).shape == (4, 2)
    assert isinstance(default_network((5,), 3), MLP)
    with pytest.raises(ValueError, match="4-D"):
        default_network((1, 2, 3, 4), 2)


def test_resnet18_backbone_trains_through_the_estimator():
    pytest.importorskip("torchvision")
    rng = np.random.default_rng(0)
    X = rng.random((16, 3, 8, 8)).astype(np.float32)
    y = np.tile([0, 1], 8)
    clf = CrossEntropyClassifier(resnet18, max_epochs=1, batch_size=8, random_state=0)
    clf.fit(X, y)
    assert clf.predict_proba(X).shape == (16, 2)
    gray = CrossEntropyClassifier(resnet18, max_epochs=1, random_state=0)
    assert gray.fit(X[:, 0], y).predict(X[:, 0]).shape == (16,)


def test_package_imports_without_torchvision():
    code = (
        "import sys; sys.modules['torchvision'] = None\n"
        "import sklearn_noisy\n"
        "from sklearn_noisy.networks import resnet18\n"
        "try:\n    resnet18((3, 8, 8), 2)\nexcept ImportError as e:\n"
        "    assert 'torchvision' in str(e)\nelse:\n    raise SystemExit(1)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def n_parameters(network):
    return sum(parameter.numel() for parameter in network.parameters())


@pytest.mark.parametrize("factory, kwargs, expected", [
    (wide_resnet, {}, 36.5e6),
    (wide_resnet, {"widen_factor": 2}, 1.47e6),
    (preact_resnet18, {}, 11.17e6),
    (resnet32, {}, 0.46e6),
])
def test_cifar_networks_have_the_papers_parameter_counts(factory, kwargs, expected):
    network = factory(input_shape=(3, 32, 32), n_classes=10, **kwargs)
    assert n_parameters(network) == pytest.approx(expected, rel=0.01)


def test_seal_mnist_cnn_has_the_papers_parameter_count():
    # 520 + 25,050 + 400,500 + 5,010
    assert n_parameters(seal_mnist_cnn(input_shape=(1, 28, 28), n_classes=10)) == 431_080


# Small WRN variants keep the forward passes fast; the 28-10 count is above.
PAPER_FACTORIES = [
    (wide_resnet, {"depth": 10, "widen_factor": 1}),
    (wide_resnet, {"depth": 16, "widen_factor": 2, "dropout": 0.3}),
    (preact_resnet18, {}),
    (resnet32, {}),
    (seal_mnist_cnn, {}),
]


@pytest.mark.parametrize("factory, kwargs", PAPER_FACTORIES)
@pytest.mark.parametrize("input_shape, batch_shape, n_classes", [
    ((3, 32, 32), (2, 3, 32, 32), 10),
    ((1, 28, 28), (2, 1, 28, 28), 7),
    ((28, 28), (2, 28, 28), 3),
])
def test_papers_networks_output_logits_through_build_network(
        factory, kwargs, input_shape, batch_shape, n_classes):
    network = build_network(factory, input_shape, n_classes, dict(kwargs))
    network.eval()
    with torch.no_grad():
        logits = network(torch.randn(batch_shape))
    assert logits.shape == (2, n_classes)
    assert torch.isfinite(logits).all()


def test_seal_mnist_cnn_adapts_its_linear_layer_to_the_image_size():
    network = seal_mnist_cnn((3, 32, 32), 10)
    assert n_parameters(network) == 431_080 + 2 * 25 * 20 + 450 * 500
    with pytest.raises(ValueError, match="16x16"):
        seal_mnist_cnn((1, 15, 15), 10)


@pytest.mark.parametrize("depth", [27, 30, 4])
def test_wide_resnet_refuses_a_depth_that_is_not_6n_plus_4(depth):
    with pytest.raises(ValueError, match="6n"):
        wide_resnet((3, 32, 32), 10, depth=depth)


# ----------------------------------------------------------------------
# normalized: a fixed input normalisation in front of a network
# ----------------------------------------------------------------------
def test_normalize_standardises_each_channel():
    layer = Normalize(mean=(1.0, 2.0), std=(2.0, 4.0))
    X = torch.tensor([[[[3.0]], [[10.0]]]])  # (1, 2, 1, 1)
    assert layer(X).flatten().tolist() == [1.0, 2.0]
    assert Normalize(0.5, 0.25)(torch.full((1, 3, 3), 1.0)).unique().tolist() == [2.0]
    assert set(layer.state_dict()) == {"mean", "std"}
    assert not list(layer.parameters())


@pytest.mark.parametrize("mean, std, message", [
    ((0.5, 0.5), (1.0,), "one value per channel"),
    ((), (), "one value per channel"),
    ((0.5,), (0.0,), "every std must be positive"),
])
def test_normalize_refuses_bad_statistics(mean, std, message):
    with pytest.raises(ValueError, match=message):
        Normalize(mean, std)
    with pytest.raises(ValueError, match=message):
        normalized(wide_resnet, mean, std)


def test_normalized_networks_see_normalised_inputs_with_routed_parameters():
    factory = normalized(wide_resnet, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    network = build_network(factory, (3, 32, 32), 10, {"depth": 10, "widen_factor": 1})
    inner = build_network(wide_resnet, (3, 32, 32), 10, {"depth": 10, "widen_factor": 1})
    inner.load_state_dict(network.network.state_dict())
    X = torch.rand(4, 3, 32, 32)
    network.eval(), inner.eval()
    torch.testing.assert_close(network(X), inner((X - 0.5) / 0.25))
    assert sum(p.numel() for p in network.parameters()) == sum(
        p.numel() for p in inner.parameters())
    assert repr(factory) == ("normalized(sklearn_noisy.networks.wide_resnet, "
                             "mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))")


def test_normalized_refuses_module_instances():
    with pytest.raises(TypeError, match="nn.Sequential"):
        normalized(MLP(4, 2), mean=(0.0,), std=(1.0,))


def test_the_fitted_network_normalises_at_predict_too_and_pickles():
    rng = np.random.default_rng(0)
    X = rng.random((32, 1, 8, 8)).astype(np.float32)
    y = np.repeat([0, 1], 16)
    factory = normalized(SmallCNN, mean=(0.5,), std=(0.2,))
    clf = CrossEntropyClassifier(factory, max_epochs=1, batch_size=16,
                                 random_state=0).fit(X, y)
    inner = clf.module_.network.eval()
    with torch.no_grad():
        expected = torch.softmax(inner((torch.as_tensor(X) - 0.5) / 0.2).double(), dim=1)
    np.testing.assert_allclose(clf.predict_proba(X), expected.numpy(), atol=1e-6)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.module_.normalize.std.flatten().tolist() == [pytest.approx(0.2)]


def test_checkpoint_descriptions_tell_normalized_networks_apart():
    base = describe(normalized(wide_resnet, mean=(0.5,), std=(0.25,)))
    assert base == describe(normalized(wide_resnet, mean=(0.5,), std=(0.25,)))
    assert base != describe(normalized(wide_resnet, mean=(0.4,), std=(0.25,)))
    assert base != describe(normalized(resnet32, mean=(0.5,), std=(0.25,)))

    def widened(widen_factor):
        def factory(input_shape, n_classes):
            return wide_resnet(input_shape, n_classes, widen_factor=widen_factor)
        return factory

    # Closures of the same name differ by what they captured.
    assert describe(normalized(widened(1), (0.5,), (0.25,))) != describe(
        normalized(widened(2), (0.5,), (0.25,)))
    with pytest.raises(ValueError, match="lambda"):
        describe(normalized(lambda input_shape, n_classes: None, (0.5,), (0.25,)))


def test_an_image_recipe_on_flattened_images_says_to_reshape_them():
    from sklearn_noisy import SEALClassifier, paper_recipe

    X = np.random.RandomState(0).rand(20, 784).astype(np.float32)
    y = np.arange(20) % 10
    with pytest.raises(ValueError, match=r"samples have shape \(784,\).*X\.reshape"):
        SEALClassifier(**paper_recipe("seal", "mnist")).fit(X, y)
