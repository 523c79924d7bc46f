"""Default networks and the optional torchvision backbone."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from sklearn_noisy import CrossEntropyClassifier
from sklearn_noisy.networks import MLP, SmallCNN, default_network, resnet18


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
