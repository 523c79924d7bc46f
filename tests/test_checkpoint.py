"""SEALClassifier's checkpoints: what identifies one, damaged files, durability."""

import copy
import os
import pickle
import stat
import subprocess
import sys
import threading
import warnings

import joblib
import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, LRScheduler
from skorch.dataset import ValidSplit
from sklearn.datasets import make_classification

from sklearn_noisy import SEALClassifier, _checkpoint
from sklearn_noisy._checkpoint import describe, fit_fingerprint, load_checkpoint, save_checkpoint
from sklearn_noisy.networks import MLP, resnet18

sys.path.insert(0, os.path.dirname(__file__))
from interruptions import MOMENTS, interrupting, patch_targets  # noqa: E402

FAST = dict(n_iterations=1, max_epochs=2, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0)
    return X.astype(np.float32), y


def checkpoints(directory):
    return sorted(directory.glob("seal-*.pt"))


@pytest.fixture
def stages(monkeypatch):
    """Names of the training stages run while the test runs."""
    names = []
    run_stage = SEALClassifier.run_stage

    def recording(self, data, name, **kwargs):
        names.append(name)
        return run_stage(self, data, name, **kwargs)

    monkeypatch.setattr(SEALClassifier, "run_stage", recording)
    return names


# ---------------------------------------------------------------------------
# what identifies a checkpoint
# ---------------------------------------------------------------------------
def seeded_mlp(seed):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return MLP(6, 3, hidden_units=(16,))


def test_module_instances_with_other_weights_do_not_share_a_checkpoint(data, tmp_path):
    X, y = data
    SEALClassifier(seeded_mlp(0), checkpoint_dir=tmp_path, **FAST).fit(X, y)
    other = SEALClassifier(seeded_mlp(1), checkpoint_dir=tmp_path, **FAST).fit(X, y)
    assert len(checkpoints(tmp_path)) == 2
    reference = SEALClassifier(seeded_mlp(1), **FAST).fit(X, y)
    np.testing.assert_allclose(other.predict_proba(X), reference.predict_proba(X), atol=1e-6)


def test_callbacks_are_part_of_the_fingerprint(data, tmp_path):
    X, y = data
    with_schedule = SEALClassifier(
        checkpoint_dir=tmp_path, lr=0.01, optimizer=torch.optim.SGD,
        callbacks=[LRScheduler(policy="StepLR", step_size=1, gamma=0.1)], **FAST)
    with_schedule.fit(X, y)
    plain = SEALClassifier(checkpoint_dir=tmp_path, lr=0.01, optimizer=torch.optim.SGD,
                           **FAST).fit(X, y)
    assert len(checkpoints(tmp_path)) == 2
    reference = SEALClassifier(lr=0.01, optimizer=torch.optim.SGD, **FAST).fit(X, y)
    np.testing.assert_allclose(plain.predict_proba(X), reference.predict_proba(X), atol=1e-6)
    assert not np.allclose(plain.predict_proba(X), with_schedule.predict_proba(X))


def scheduled(step_size):
    return [LRScheduler(policy="StepLR", step_size=step_size)]


@pytest.mark.parametrize("base, change", [
    ({}, {"module": MLP}),
    ({"module": MLP}, {"module": resnet18}),
    ({}, {"module__hidden_units": (8,)}),
    ({}, {"optimizer": torch.optim.SGD}),
    ({}, {"optimizer__weight_decay": 1e-4}),
    ({}, {"callbacks": scheduled(1)}),
    ({"callbacks": scheduled(1)}, {"callbacks": scheduled(2)}),
    ({"callbacks": scheduled(1)}, {"callbacks__lr_scheduler__step_size": 2}),
    ({}, {"train_split": 0.2}),
    ({"train_split": 0.2}, {"train_split": 0.25}),
    ({"train_split": ValidSplit(3)}, {"train_split": ValidSplit(4)}),
    ({}, {"first_loss": "dmi"}),
    ({}, {"reinitialize": False}),
    ({}, {"lr": 0.01}),
    ({}, {"batch_size": 16}),
    ({}, {"max_epochs": 3}),
    ({}, {"random_state": 1}),
])
def test_every_parameter_that_changes_the_result_changes_the_file(data, tmp_path, base, change):
    X, y = data
    params = {**FAST, "checkpoint_dir": tmp_path, **base}
    before = SEALClassifier(**params)._checkpoint_path(X, y)
    assert SEALClassifier(**{**params, **change})._checkpoint_path(X, y) != before


@pytest.mark.parametrize("change", [
    {"n_iterations": 5}, {"verbose": 1}, {"device": "cpu:0"}, {"checkpoint_dir": "elsewhere"},
])
def test_parameters_that_do_not_change_the_result_keep_the_file(data, tmp_path, change):
    X, y = data
    base = SEALClassifier(checkpoint_dir=tmp_path, **FAST)._checkpoint_path(X, y)
    changed = SEALClassifier(**{**FAST, "checkpoint_dir": tmp_path, **change})
    assert changed._checkpoint_path(X, y).name == base.name


def test_classes_and_functions_are_described_by_qualified_name():
    assert describe(MLP) == "sklearn_noisy.networks.MLP"
    assert describe(resnet18) == "sklearn_noisy.networks.resnet18"
    assert describe(torch.optim.SGD) == "torch.optim.sgd.SGD"
    assert describe(print) == "builtins.print"


# Built from scratch in this process and in a fresh one: every object here
# has a repr holding a memory address (a function, a partial, skorch's
# ValidSplit and Checkpoint), or is a module with weights.
_PARAMS = """
import functools, torch
from skorch.callbacks import Checkpoint, EarlyStopping, LRScheduler
from skorch.dataset import ValidSplit
from sklearn_noisy.networks import MLP, build_network, resnet18
torch.manual_seed(0)
params = {
    "module": resnet18,
    "pretrained": MLP(6, 3, hidden_units=(4,)),
    "partial": functools.partial(build_network, MLP),
    "optimizer": torch.optim.SGD,
    "callbacks": [LRScheduler(policy=torch.optim.lr_scheduler.StepLR, step_size=1),
                  ("stop", EarlyStopping(patience=2)), Checkpoint()],
    "train_split": ValidSplit(3, stratified=True),
    "module__hidden_units": (8, 8),
    "lr": 0.1,
}
"""


def test_fingerprint_is_the_same_in_a_new_process():
    X, y = np.arange(12.0).reshape(4, 3), np.array([0, 1, 0, 1])
    namespace = {}
    exec(_PARAMS, namespace)
    here = fit_fingerprint(X, y, namespace["params"])
    script = _PARAMS + (
        "import numpy as np\n"
        "from sklearn_noisy._checkpoint import fit_fingerprint\n"
        "X, y = np.arange(12.0).reshape(4, 3), np.array([0, 1, 0, 1])\n"
        "print(fit_fingerprint(X, y, params))\n")
    there = subprocess.run([sys.executable, "-c", script], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert there == here


def test_module_instance_is_described_by_architecture_and_weights():
    assert describe(seeded_mlp(0)) == describe(seeded_mlp(0))
    assert describe(seeded_mlp(0)) != describe(seeded_mlp(1))
    assert describe(seeded_mlp(0)) != describe(MLP(6, 3, hidden_units=(17,)))


def test_containers_are_described_item_by_item():
    class Config:  # default repr, holding a memory address
        def __init__(self, size):
            self.size = size

    assert describe({"b": 1, "a": [Config(2)]}) == describe({"a": (Config(2),), "b": 1})
    assert describe([Config(2)]) != describe([Config(3)])
    assert describe({"x", "y"}) == describe({"y", "x"})


class HoldsALock(Callback):
    def __init__(self):
        self.lock = threading.Lock()


@pytest.mark.parametrize("params, match", [
    ({"module": lambda n_features, n_classes: MLP(n_features, n_classes)},
     r"'module'.*lambda"),
    ({"callbacks": [HoldsALock()]}, r"'callbacks'.*memory address"),
])
def test_parameter_that_cannot_be_fingerprinted_is_refused_before_training(
        data, tmp_path, stages, params, match):
    X, y = data
    clf = SEALClassifier(checkpoint_dir=tmp_path, **FAST, **params)
    with pytest.raises(ValueError, match=match) as error:
        clf.fit(X, y)
    assert "checkpoint_dir=None" in str(error.value)
    assert stages == []
    # Without checkpoint_dir the same parameter is fine.
    SEALClassifier(**FAST, **params).fit(X, y)


@pytest.mark.parametrize("random_state", [None, np.random.RandomState(0)])
def test_unseeded_fits_never_use_checkpoints(data, tmp_path, random_state):
    X, y = data
    params = {**FAST, "random_state": random_state, "checkpoint_dir": tmp_path}
    with pytest.warns(UserWarning, match="checkpoint_dir is ignored") as record:
        first = SEALClassifier(**params).fit(X, y)
    assert sum("checkpoint_dir" in str(w.message) for w in record) == 1
    with pytest.warns(UserWarning, match="checkpoint_dir is ignored"):
        second = SEALClassifier(**params).fit(X, y)
    assert checkpoints(tmp_path) == []
    assert not np.allclose(first.soft_labels_, second.soft_labels_)


def test_seeded_fit_does_not_warn(data, tmp_path):
    X, y = data
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        SEALClassifier(checkpoint_dir=tmp_path, **FAST).fit(X, y)
    assert not [w for w in record if "checkpoint_dir" in str(w.message)]
    assert len(checkpoints(tmp_path)) == 1


# ---------------------------------------------------------------------------
# resuming
# ---------------------------------------------------------------------------
class MachineLost(Exception):
    pass


@pytest.mark.parametrize("with_callbacks", [False, True])
def test_resumed_fit_equals_an_uninterrupted_one(data, tmp_path, monkeypatch, with_callbacks):
    X, y = data
    # The same callback objects in every fit: what a fit leaves in them must
    # not change the fingerprint.
    callbacks = [LRScheduler(policy="StepLR", step_size=1)] if with_callbacks else None

    def make(**params):
        return SEALClassifier(callbacks=callbacks, **{**FAST, "n_iterations": 3, **params})

    reference = make().fit(X, y)
    run_stage = SEALClassifier.run_stage

    def lost_after_iteration_1(self, data, name, **kwargs):
        if name == "iteration 2":
            raise MachineLost
        return run_stage(self, data, name, **kwargs)

    monkeypatch.setattr(SEALClassifier, "run_stage", lost_after_iteration_1)
    with pytest.raises(MachineLost):
        make(checkpoint_dir=tmp_path).fit(X, y)
    monkeypatch.undo()

    resumed = make(checkpoint_dir=tmp_path).fit(X, y)
    assert [name for name, _ in resumed.stage_histories_] == ["iteration 2", "iteration 3"]
    np.testing.assert_allclose(resumed.soft_labels_, reference.soft_labels_, atol=1e-6)
    np.testing.assert_allclose(resumed.predict_proba(X), reference.predict_proba(X), atol=1e-6)


# ---------------------------------------------------------------------------
# damaged and foreign files
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def written(data, tmp_path_factory):
    """A real checkpoint: its file name and contents."""
    directory = tmp_path_factory.mktemp("written")
    SEALClassifier(checkpoint_dir=directory, **FAST).fit(*data)
    (path,) = checkpoints(directory)
    return path.name, path.read_bytes()


class RunsCode:
    def __reduce__(self):
        return (os.system, ("touch ran-code",))


def foreign_dict(path, written_bytes):
    torch.save({"x": 1}, path)


def wrong_weights(path, written_bytes):
    state = torch.load(path, weights_only=True)
    state["module"] = {"layers.0.weight": torch.zeros(2, 2)}
    torch.save(state, path)


@pytest.mark.parametrize("damage, reason", [
    (lambda path, good: path.write_bytes(good[: len(good) // 2]), "cannot be read"),
    (lambda path, good: path.write_bytes(b""), "cannot be read"),
    # torch reads some truncations as an invalid argument (an OSError)
    (lambda path, good: path.write_bytes(good[:4102]), "cannot be read"),
    (lambda path, good: path.write_text("not a checkpoint\n"), "cannot be read"),
    (lambda path, good: torch.save([1, 2], path), "holds a list"),
    (foreign_dict, "has no 'seed', 'soft_labels', 'history', 'module', 'file_name' entry"),
    (lambda path, good: path.write_bytes(pickle.dumps(RunsCode())), "could run code"),
    (wrong_weights, "weights do not fit"),
], ids=["truncated", "empty", "truncated-more", "text", "list", "foreign-dict", "runs-code",
        "wrong-weights"])
def test_damaged_checkpoint_is_named_with_how_to_discard_it(
        data, tmp_path, written, stages, monkeypatch, damage, reason):
    X, y = data
    monkeypatch.chdir(tmp_path)
    name, good = written
    path = tmp_path / name
    path.write_bytes(good)
    damage(path, good)
    with pytest.raises(ValueError, match=reason) as error:
        SEALClassifier(checkpoint_dir=tmp_path, **FAST).fit(X, y)
    message = str(error.value)
    assert str(path) in message and "Delete the file to start this fit afresh" in message
    assert stages == []
    assert not (tmp_path / "ran-code").exists()

    path.unlink()
    SEALClassifier(checkpoint_dir=tmp_path, **FAST).fit(X, y)
    assert checkpoints(tmp_path) == [path]


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------
def test_checkpoint_is_synced_before_the_rename(tmp_path, monkeypatch):
    events = []
    fsync, replace = os.fsync, os.replace

    def recording_fsync(handle):
        mode = os.fstat(handle).st_mode
        events.append(("fsync dir" if stat.S_ISDIR(mode) else "fsync file",
                       os.fstat(handle).st_size))
        fsync(handle)

    def recording_replace(source, target):
        events.append(("replace", os.path.getsize(source)))
        replace(source, target)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    path = tmp_path / "seal-x.pt"
    state = {"weights": torch.arange(1000.0), "history": [{"loss": 1.0}]}
    save_checkpoint(path, state)

    size = path.stat().st_size
    assert [kind for kind, _ in events] == ["fsync file", "replace", "fsync dir"]
    assert events[0][1] == events[1][1] == size
    loaded = torch.load(path, weights_only=True)
    torch.testing.assert_close(loaded["weights"], state["weights"])
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("error, message", [
    (OSError("disk full"), "disk full"),
    # torch's serialiser reports a failed write as its own internal error
    (RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos"),
     "cannot write the checkpoint .*seal-x.pt.*Is the disk full"),
])
def test_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch, error, message):
    path = tmp_path / "seal-x.pt"
    save_checkpoint(path, {"history": [1]})

    def broken_save(state, file):
        file.write(b"partial")
        raise error

    monkeypatch.setattr(_checkpoint.torch, "save", broken_save)
    with pytest.raises(OSError, match=message):
        save_checkpoint(path, {"history": [1, 2]})
    monkeypatch.undo()
    assert load_checkpoint(path, ["history"]) == {"history": [1]}
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("moment", MOMENTS)
def test_ctrl_c_while_a_checkpoint_is_written(data, tmp_path, monkeypatch, moment):
    """Ctrl-C between stages stops the fit, which leaves the estimator as it
    was; the previous checkpoint, or the complete new one, is what a resumed
    fit continues from, and it gives the uninterrupted fit's model."""
    X, y = data
    params = {**FAST, "n_iterations": 2}
    reference = SEALClassifier(**params).fit(X, y)
    writes = []

    def second_write():  # the checkpoint of iteration 1
        writes.append(1)
        return len(writes) == 2

    for owner, name, where in patch_targets(_checkpoint):
        if where == moment:
            monkeypatch.setattr(owner, name,
                                interrupting(moment, getattr(owner, name), second_write))
    estimator = SEALClassifier(checkpoint_dir=tmp_path, **params)
    with pytest.raises(KeyboardInterrupt):
        estimator.fit(X, y)
    monkeypatch.undo()

    assert not hasattr(estimator, "module_")
    (path,) = list(tmp_path.iterdir())  # no temporary file is left behind
    finished = 2 if moment == "after the rename" else 1
    saved = load_checkpoint(path, ["history"])
    assert len(saved["history"]) == finished
    resumed = SEALClassifier(checkpoint_dir=tmp_path, **params).fit(X, y)
    assert len(resumed.stage_histories_) == 3 - finished
    np.testing.assert_allclose(resumed.soft_labels_, reference.soft_labels_, atol=1e-6)
    np.testing.assert_allclose(resumed.predict_proba(X), reference.predict_proba(X), atol=1e-6)


def test_a_checkpoint_copied_under_another_fits_name_is_refused(data, tmp_path):
    X, y = data
    SEALClassifier(checkpoint_dir=tmp_path, **FAST).fit(X, y)
    (first,) = checkpoints(tmp_path)
    SEALClassifier(checkpoint_dir=tmp_path, **{**FAST, "lr": 0.0123}).fit(X, y)
    (second,) = set(checkpoints(tmp_path)) - {first}
    second.write_bytes(first.read_bytes())
    with pytest.raises(ValueError, match="written as .*renamed or copied") as error:
        SEALClassifier(checkpoint_dir=tmp_path, **{**FAST, "lr": 0.0123}).fit(X, y)
    assert str(second) in str(error.value)


def test_directory_under_a_file_is_refused_before_training(data, tmp_path, stages):
    X, y = data
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    directory = blocker / "checkpoints"
    with pytest.raises(ValueError, match="checkpoint_dir .*a-file/checkpoints.* cannot be used"):
        SEALClassifier(checkpoint_dir=directory, **FAST).fit(X, y)
    assert stages == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="file permissions are not enforced for root")
def test_read_only_directory_is_refused_before_training(data, tmp_path, stages):
    X, y = data
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="read-only.* cannot be used"):
            SEALClassifier(checkpoint_dir=directory, **FAST).fit(X, y)
    finally:
        directory.chmod(0o700)
    assert stages == []
    assert list(directory.iterdir()) == []


def test_missing_directory_is_created(data, tmp_path):
    X, y = data
    directory = tmp_path / "new" / "checkpoints"
    SEALClassifier(checkpoint_dir=directory, **FAST).fit(X, y)
    assert len(checkpoints(directory)) == 1
    assert [p.name for p in directory.iterdir()] == [checkpoints(directory)[0].name]



# ---------------------------------------------------------------------------
# what a description covers
# ---------------------------------------------------------------------------
def _image_folder(root):
    from PIL import Image

    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for index in range(2):
            pixels = np.full((4, 4, 3), 60 * index + (name == "b") * 100, dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{index}.png")
    return root


def _digest(value):
    # what a checkpoint's name is made of (a description may hold arrays)
    return joblib.hash(describe(value))


def _halve(X):
    return X / 2


def _double(X):
    return X * 2


def test_an_image_folder_is_described_by_its_files_and_its_transform(tmp_path):
    from PIL import Image

    from sklearn_noisy.datasets import ImageFolder

    root = _image_folder(tmp_path / "images")
    first = _digest(ImageFolder(root, transform=_halve))
    assert _digest(ImageFolder(root, transform=_halve)) == first
    assert _digest(ImageFolder(root, transform=_double)) != first
    # a file replaced by another image of the same name: same count, same repr
    Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(root / "a" / "0.png")
    os.utime(root / "a" / "0.png", ns=(1, 1))
    assert _digest(ImageFolder(root, transform=_halve)) != first
    # a file renamed
    renamed = _digest(ImageFolder(root, transform=_halve))
    (root / "b" / "1.png").rename(root / "b" / "2.png")
    assert _digest(ImageFolder(root, transform=_halve)) != renamed


class Scaled(torch.nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)
        self.scale = scale

    def forward(self, X):
        return self.linear(X) * self.scale


def test_a_module_is_described_with_the_plain_attributes_forward_reads():
    torch.manual_seed(0)
    module = Scaled(1.0)
    other = copy.deepcopy(module)
    other.scale = 1000.0
    assert describe(module) == describe(copy.deepcopy(module))
    assert describe(module) != describe(other)


class Wrapper:
    """A transform that wraps a function, with a repr that does not show it."""

    def __init__(self, function):
        self.function = function

    def __call__(self, X):
        return self.function(X)

    def __repr__(self):
        return "Wrapper()"


def test_a_lambda_inside_an_object_is_refused_where_it_sits():
    with pytest.raises(ValueError, match=r"a lambda \(at \[0\]\.function\)"):
        describe([Wrapper(lambda X: X * 2)])
    assert _digest(Wrapper(_double)) != _digest(Wrapper(_halve))


def test_functions_made_in_a_loop_are_told_apart_by_their_defaults():
    made = []
    for factor in (2, 3):
        def scale(X, factor=factor):
            return X * factor
        made.append(scale)
    assert _digest(made[0]) != _digest(made[1])
    assert _digest(made[0]) == _digest(made[0])


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_torchvision_lambdas_are_refused(version):
    transforms = pytest.importorskip(
        "torchvision.transforms" if version == "v1" else "torchvision.transforms.v2")
    with pytest.raises(ValueError, match="a lambda"):
        describe(transforms.Lambda(lambda X: X * 2))
    assert (describe(transforms.Compose([transforms.Lambda(_double)]))
            != describe(transforms.Compose([transforms.Lambda(_halve)])))

