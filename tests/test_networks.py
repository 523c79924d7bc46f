"""Default networks, the optional torchvision backbone and the papers' networks."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from sklearn_noisy import CrossEntropyClassifier
from sklearn_noisy.networks import (
    MLP,
    SmallCNN,
    build_network,
    default_network,
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
