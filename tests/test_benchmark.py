"""The benchmark package: method registry, one small run and the table."""

import csv
import dataclasses
import gzip
import json
import pickle
import re

import numpy as np
import pytest

from sklearn_noisy import (
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    SEALClassifier,
    SLNClassifier,
)
from sklearn_noisy.benchmark.datasets import load_dataset
from sklearn_noisy.benchmark.methods import CleanLearningReference, METHODS, make_method
from sklearn_noisy.benchmark.results import format_table, summarise
from sklearn_noisy.benchmark.runner import noisy_split, run_benchmark, run_cell


def test_every_estimator_is_registered_with_its_defaults():
    classes = {cls for _, cls in METHODS.values()}
    assert classes == {CrossEntropyClassifier, SEALClassifier, SLNClassifier,
                       ConfusionEMClassifier, FlywheelClassifier, CleanLearningReference}
    estimator = make_method("confusion-em", random_state=3)
    assert isinstance(estimator, ConfusionEMClassifier)
    assert estimator.random_state == 3 and estimator.eta_lr == ConfusionEMClassifier().eta_lr
    with pytest.raises(ValueError, match="unknown method"):
        make_method("mixup", random_state=0)


def test_small_run_and_aligned_table():
    results = run_benchmark(dataset="wine", noise="symmetric", rates=[0.2], seeds=[0],
                            methods=["ce", "confusion-em"])
    assert [r.method for r in results] == ["CE", "ConfusionEM"]
    assert all(0 <= r.accuracy <= 1 and 0 <= r.detection_auc <= 1 for r in results)
    assert results[0].actual_noise_rate == pytest.approx(0.2, abs=0.1)
    lines = format_table(summarise(results)).splitlines()
    assert len(lines) == 3
    assert not any("±" in line for line in lines[1:])   # one seed: no spread
    assert all(len(line) == len(lines[0]) for line in lines)
    two_seeds = [r for r in results] + [
        dataclasses.replace(r, seed=1, accuracy=r.accuracy / 2) for r in results]
    lines = format_table(summarise(two_seeds)).splitlines()
    assert len({line.index("±") for line in lines[1:]}) == 1
    assert all(len(line) == len(lines[0]) for line in lines)


# ----------------------------------------------------------------------
# the command line: table, results and figures
# ----------------------------------------------------------------------
def test_command_line_writes_results_and_every_figure(tmp_path, capsys):
    from sklearn_noisy.benchmark.__main__ import main

    output = tmp_path / "out"
    main(["--dataset", "wine", "--rates", "0.2", "0.4", "--seeds", "0", "--methods",
          "ce", "seal", "flywheel", "--output", str(output)])
    printed = capsys.readouterr().out
    for method in ("CE", "SEAL", "Flywheel"):
        assert method in printed
    with open(output / "results.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 6
    summary = json.loads((output / "summary.json").read_text())
    assert {row["method"] for row in summary} == {"CE", "SEAL", "Flywheel"}
    for name in ("accuracy_vs_noise_rate", "detection_roc", "seal_soft_label_distances",
                 "transition_matrix"):
        assert (output / f"{name}.png").stat().st_size > 1000


def test_details_hold_what_the_figures_draw():
    results = run_benchmark(dataset="wine", noise="pair", rates=[0.3], seeds=[1, 2],
                            methods=["seal", "flywheel"], details=True)
    first, later = [r for r in results if r.seed == 1], [r for r in results if r.seed == 2]
    assert all(r.details is None for r in later)
    seal, flywheel = first
    assert len(seal.details.seal_distances) == SEALClassifier().n_iterations + 1
    distances = seal.details.seal_distances[-1]
    assert np.all((distances >= 0) & (distances <= 1))
    assert flywheel.details.transition_estimate.shape == (3, 3)
    # pair noise: every flipped sample of class k carries label k + 1
    np.testing.assert_allclose(flywheel.details.transition_truth, np.roll(np.eye(3), 1, axis=1))
    assert flywheel.details.true_positive_rate[-1] == 1.0


# ----------------------------------------------------------------------
# image files in torchvision's on-disk formats
# ----------------------------------------------------------------------
def _write_idx(path, array, compress):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_idx_folder(tmp_path, compress):
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    train, test = rng.integers(0, 256, (6, 28, 28)), rng.integers(0, 256, (4, 28, 28))
    _write_idx(raw / "train-images-idx3-ubyte", train, compress)
    _write_idx(raw / "train-labels-idx1-ubyte", np.arange(6) % 3, compress)
    _write_idx(raw / "t10k-images-idx3-ubyte", test, compress)
    _write_idx(raw / "t10k-labels-idx1-ubyte", np.arange(4) % 3, compress)
    X, y = load_dataset(str(tmp_path))
    assert X.shape == (10, 1, 28, 28) and X.dtype == np.float32
    np.testing.assert_allclose(X[:6, 0] * 255, train, rtol=1e-6)
    np.testing.assert_array_equal(y, np.r_[np.arange(6) % 3, np.arange(4) % 3])


def test_cifar10_and_cifar100_batches(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    images = rng.integers(0, 256, (5, 3072), dtype=np.uint8)
    for name, rows in (("data_batch_1", slice(0, 2)), ("data_batch_2", slice(2, 4)),
                       ("test_batch", slice(4, 5))):
        with open(folder / name, "wb") as handle:
            pickle.dump({b"data": images[rows], b"labels": list(range(5))[rows]}, handle)
    X, y = load_dataset(str(tmp_path))
    assert X.shape == (5, 3, 32, 32)
    np.testing.assert_allclose(X[3] * 255, images[3].reshape(3, 32, 32), rtol=1e-6)
    np.testing.assert_array_equal(y, np.arange(5))

    folder = tmp_path / "other" / "cifar-100-python"
    folder.mkdir(parents=True)
    for name in ("train", "test"):
        with open(folder / name, "wb") as handle:
            pickle.dump({b"data": images[:2], b"fine_labels": [7, 42]}, handle)
    X, y = load_dataset(str(tmp_path / "other"))
    assert X.shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(y, [7, 42, 7, 42])


def test_npz_files_channels_last_and_keras_names(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", X=images, y=[0, 1, 0, 1])
    X, y = load_dataset(str(tmp_path / "a.npz"))
    assert X.shape == (4, 3, 8, 8)
    np.testing.assert_allclose(X[1] * 255, images[1].transpose(2, 0, 1), rtol=1e-6)
    np.savez(tmp_path / "b.npz", x_train=images[:3, ..., 0], y_train=[0, 1, 0],
             x_test=images[3:, ..., 0], y_test=[1])
    X, y = load_dataset(str(tmp_path / "b.npz"))
    assert X.shape == (4, 1, 8, 8)
    np.testing.assert_array_equal(y, [0, 1, 0, 1])
    np.savez(tmp_path / "c.npz", images=images)
    with pytest.raises(ValueError, match="must hold arrays"):
        load_dataset(str(tmp_path / "c.npz"))


def test_tabular_features_are_standardised_on_the_training_part_only(monkeypatch):
    X, y = load_dataset("wine")
    assert np.abs(X.mean(axis=0)).max() > 1  # as the data set comes
    split = noisy_split(X, y, "symmetric", 0.2, seed=0, standardise=True)
    assert split.X_train.dtype == split.X_test.dtype == np.float32
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(split.X_train.std(axis=0), 1, atol=1e-4)
    # the test part went through the training part's scaling, not its own
    assert np.abs(split.X_test.mean(axis=0)).max() > 0.05
    seen = []
    monkeypatch.setattr("sklearn_noisy.benchmark.runner.noisy_split",
                        lambda *args, **kwargs: seen.append(kwargs) or split)
    monkeypatch.setattr("sklearn_noisy.benchmark.runner.fit_and_score",
                        lambda estimator, split: (1.0, 0.5, 0.0))
    for dataset in ("wine", "digits"):
        run_cell(dataset, X, y, "symmetric", 0.2, 0, ["ce"])
    assert [kwargs["standardise"] for kwargs in seen] == [True, False]


def test_synthetic_data_of_any_size():
    X, y = load_dataset("synthetic:300")
    assert X.shape == (300, 20) and set(y) == {0, 1, 2, 3}
    assert len(load_dataset("synthetic")[0]) == 2000
    with pytest.raises(ValueError, match="synthetic:N"):
        load_dataset("synthetic:many")


@pytest.mark.parametrize("name", ["synthetic:\u00b2", "synthetic:\u0663\u0660",
                                  "synthetic: 30", "synthetic:19"])
def test_synthetic_size_must_be_ascii_digits(name):
    # "\u00b2" (superscript two) passes str.isdigit() but not int()
    with pytest.raises(ValueError, match=re.escape(f"{name!r}: write the size of the "
                                                   "synthetic data set as synthetic:N")):
        load_dataset(name)


@pytest.mark.parametrize("name", ["a" * 300, "x" * 5000 + ".npz"])
def test_a_name_too_long_for_the_file_system_is_refused(name):
    with pytest.raises(ValueError, match=re.escape(f"{name[:40]}") +
                       r".*\(\d+ characters\) is neither a known dataset \(digits, wine, "
                       r"breast_cancer, synthetic\) nor a usable path: File name too long"):
        load_dataset(name)


def test_unknown_dataset_names_the_choices(tmp_path):
    with pytest.raises(ValueError, match="digits, wine"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="no MNIST IDX files"):
        load_dataset(str(tmp_path))


def test_benchmark_runs_on_image_files(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    images = rng.integers(0, 100, (60, 8, 8), dtype=np.uint8)
    images[y == 1, :, :4] += 150
    np.savez(tmp_path / "images.npz", X=images, y=y)
    results = run_benchmark(dataset=str(tmp_path / "images.npz"), noise="symmetric",
                            rates=[0.2], seeds=[0], methods=["ce"])
    assert results[0].accuracy > 0.8


def test_cleanlab_reference_when_installed():
    pytest.importorskip("cleanlab")
    results = run_benchmark(dataset="wine", noise="symmetric", rates=[0.3], seeds=[0],
                            methods=["cleanlab"])
    assert results[0].method == "cleanlab"
    assert results[0].detection_auc > 0.7
