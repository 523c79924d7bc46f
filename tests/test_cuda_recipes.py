"""The papers' recipes on CUDA: reduced precision, CUDA graphs, channels-last, Dataset input
with loader workers, and a fitted estimator unpickled on a machine without CUDA.

Every test needs a CUDA device and is skipped without one.
"""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from sklearn_noisy import (
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    paper_recipe,
)

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def cifar_shaped(n_samples, seed=0):
    """Random CIFAR-shaped images whose two classes differ in brightness."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n_samples // 2)
    X = rng.random((n_samples, 3, 32, 32), dtype=np.float32) * 0.5
    X[y == 1] += 0.5
    return X, y


class CifarPairs(Dataset):
    """(image, label) pairs read one at a time, as from files."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        return torch.from_numpy(self.X[index]), int(self.y[index])


# The CE recipe (WRN-28-2) at a larger learning rate separates the two
# brightness classes in three epochs (on the CPU: train loss 0.55, 0.10,
# 0.01 and accuracy 1.0, in float32 and bfloat16 alike). SLN's recipe would
# predict with its momentum model, which after 12 steps is still close to
# the initial network.
def fast_ce():
    return {**paper_recipe("ce", "cifar10"), "max_epochs": 3, "lr": 0.05}


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_a_recipe_fits_in_reduced_precision(precision):
    X, y = cifar_shaped(512)
    clf = CrossEntropyClassifier(**fast_ce(), precision=precision, device="cuda",
                                 random_state=0).fit(X, y)
    losses = clf.history_[:, "train_loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    # weights, and so the pickled network, stay float32 under autocast
    assert next(clf.module_.parameters()).dtype == torch.float32
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64 and np.isfinite(proba).all()
    assert clf.score(X, y) > 0.9


def test_a_recipe_compiled_into_cuda_graphs_fits_like_the_eager_recipe():
    # compile__mode="reduce-overhead" replays every training step as a CUDA
    # graph, which reuses its output memory at the next step: each batch's
    # loss must be copied before the epoch's losses reach the host, or every
    # batch of an epoch would show the last batch's loss.
    X, y = cifar_shaped(512)
    settings = {**fast_ce(), "precision": "bfloat16", "device": "cuda",
                "random_state": 0, "iterator_train__drop_last": True,
                "optimizer__fused": True}
    eager = CrossEntropyClassifier(**settings).fit(X, y)
    graphs = CrossEntropyClassifier(**settings, compile=True,
                                    compile__mode="reduce-overhead").fit(X, y)
    eager_losses = [b["train_loss"] for batches in eager.history_[:, "batches"]
                    for b in batches]
    graph_losses = [b["train_loss"] for batches in graphs.history_[:, "batches"]
                    for b in batches]
    assert len(set(graph_losses)) == len(graph_losses) == 12
    # the first steps, before rounding differences grow, agree closely
    np.testing.assert_allclose(graph_losses[:4], eager_losses[:4], rtol=0.05)
    assert graphs.score(X, y) > 0.9


def test_channels_last_networks_predict_as_the_contiguous_network():
    X, y = cifar_shaped(512)
    params = {**paper_recipe("confusion-em", "cifar10"), "max_epochs": 2}
    clf = ConfusionEMClassifier(**params, channels_last=True, device="cuda",
                                random_state=0).fit(X, y)
    convolution = clf.module_.network.features[0].weight
    assert convolution.is_contiguous(memory_format=torch.channels_last)
    # The fitted network on plain NCHW inputs, outside the estimator.
    network = clf.module_.eval()
    with torch.no_grad():
        logits = network(torch.as_tensor(X, device="cuda"))
    np.testing.assert_allclose(
        clf.predict_proba(X), torch.softmax(logits.double(), dim=1).cpu().numpy(),
        atol=1e-4)
    # "auto" picks channels-last for images on CUDA
    auto = ConfusionEMClassifier(**{**params, "max_epochs": 1}, device="cuda",
                                 random_state=0).fit(X[::2], y[::2])
    assert auto.module_.network.features[0].weight.is_contiguous(
        memory_format=torch.channels_last)


def test_a_dataset_loaded_by_two_workers_trains_a_recipe():
    X, y = cifar_shaped(512)
    clf = CrossEntropyClassifier(**fast_ce(), device="cuda", random_state=0,
                                 iterator_train__num_workers=2,
                                 iterator_valid__num_workers=2).fit(CifarPairs(X, y))
    assert list(clf.classes_) == [0, 1]
    assert clf.noise_scores_.shape == (len(X),)
    from_dataset = clf.predict_proba(CifarPairs(X, y))
    np.testing.assert_allclose(from_dataset, clf.predict_proba(X), atol=1e-5)
    assert clf.score(X, y) > 0.9


def test_a_fit_on_cuda_unpickles_and_predicts_without_cuda(tmp_path):
    X, y = cifar_shaped(256)
    params = {**paper_recipe("flywheel", "cifar10"), "max_epochs": 2, "warmup_epochs": 1}
    clf = FlywheelClassifier(**params, device="cuda", random_state=0).fit(X, y)
    assert next(clf.main_network_.parameters()).is_cuda
    (tmp_path / "fitted.pkl").write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "proba.npy", clf.predict_proba(X))
    script = (
        "import pickle, sys, warnings\n"
        "import numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        "folder = sys.argv[1]\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    clf = pickle.loads(open(folder + '/fitted.pkl', 'rb').read())\n"
        "assert any('CUDA' in str(w.message) for w in caught), caught\n"
        "for network in (clf.module_, clf.main_network_):\n"
        "    assert next(network.parameters()).device.type == 'cpu'\n"
        "    assert network.normalize.mean.device.type == 'cpu'\n"
        "X = np.load(folder + '/X.npy')\n"
        "np.testing.assert_allclose(clf.predict_proba(X), np.load(folder + '/proba.npy'),\n"
        "                           atol=1e-4)\n"
        "clf.predict(X[:3])\n"
    )
    # The child imports this package as the tests do; it sees no CUDA device.
    environment = {**os.environ, "CUDA_VISIBLE_DEVICES": "",
                   "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)],
                            env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


DETERMINISTIC_FITS = """
import sys
import numpy as np, torch
from sklearn_noisy import FlywheelClassifier
torch.use_deterministic_algorithms(True)
rng = np.random.default_rng(0)
X = rng.random((64, 3, 8, 8)).astype(np.float32)
y = np.repeat([0, 1], 32)
X[y == 1, 0] += 1.0
fits = [FlywheelClassifier(max_epochs=4, warmup_epochs=2, device="cuda",
                           random_state=0).fit(X, y) for _ in range(2)]
np.testing.assert_array_equal(fits[0].clean_proba_, fits[1].clean_proba_)
np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
"""


def test_fits_are_identical_on_cuda_in_pytorchs_deterministic_mode():
    # Without it, cuDNN's and the scatter kernels' sums may run in another
    # order from one fit to the next (the docs say so).
    environment = {**os.environ, "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
                   "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-c", DETERMINISTIC_FITS], env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
