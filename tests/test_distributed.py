"""One fit over two processes (torchrun, gloo, CPU) equals the one-process fit.

``tests/distributed_fits.py`` runs in both processes; here every fit is made
again in this one process and compared.
"""

import importlib.util
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).parent))
import distributed_fits  # noqa: E402

from sklearn_noisy._distributed import World, fitting_in  # noqa: E402

pytestmark = [
    pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                       reason="needs torch.distributed with gloo"),
    # one worker runs the module, so its two processes start once
    pytest.mark.xdist_group("distributed"),
]

SCRIPT = Path(__file__).parent / "distributed_fits.py"
TOLERANCE = 1e-5


def run_two_processes(folder, *args):
    """Run the script in two processes; the folder its fits were saved in.

    A failed run is tried once more, in a fresh folder: the launcher's
    rendezvous port can be taken by another program between its choice and
    its use (and the second try must not resume from the first one's SEAL
    checkpoint); once, on a loaded machine, a process aborted without a
    traceback ("terminate called without an active exception"), which 30
    runs with and without load did not repeat. A failure of the fits
    themselves repeats. A first failure is reported as a warning.
    """
    environment = {**os.environ, "OMP_NUM_THREADS": "1",
                   "PYTHONPATH": os.pathsep.join(sys.path)}
    failures = []
    for attempt in (1, 2):
        output = folder / f"attempt{attempt}"
        output.mkdir()
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   "--nproc_per_node", "2", str(SCRIPT), str(output), *args]
        result = subprocess.run(command, env=environment, capture_output=True, text=True,
                                timeout=300)
        if result.returncode == 0:
            if failures:
                # not a failure of the fits, but not to pass unseen either
                warnings.warn("the first two-process run failed:\n" + failures[0])
            return output
        failures.append(f"run {attempt}:\n" + result.stdout[-3000:] + result.stderr[-5000:])
    pytest.fail("\n".join(failures))


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """The folder of the two processes' fits."""
    return run_two_processes(tmp_path_factory.mktemp("distributed"))


@pytest.fixture(scope="module")
def one_process():
    X, y = distributed_fits.data()
    fits = {}
    for name, (cls, params) in distributed_fits.CONFIGS.items():
        clf = cls(**distributed_fits.COMMON, **params).fit(X, y)
        fits[name] = distributed_fits.fitted_arrays(clf, X)
    for name, (cls, params) in distributed_fits.BATCHNORM_CONFIGS.items():
        clf = cls(**distributed_fits.COMMON, **params).fit(X, y)
        fits[name] = distributed_fits.fitted_arrays(clf, X)
    seal = distributed_fits.CONFIGS["seal"][0]
    clf = seal(**{**distributed_fits.COMMON, "n_iterations": 2}).fit(X, y)
    fits["seal-resumed"] = distributed_fits.fitted_arrays(clf, X)
    return fits


def ranks(folder, name):
    return [dict(np.load(folder / f"{name}-rank{rank}.npz")) for rank in (0, 1)]


def assert_same_fit(first, second):
    """Both processes hold the same fitted estimator (each its own batch shares)."""
    for key in first:
        if key not in ("batch_sizes", "valid_rows_scored"):
            np.testing.assert_array_equal(first[key], second[key], err_msg=key)


def assert_one_process_fit(first, second, reference):
    """Both processes hold the same fit, the one-process fit ``reference``, and
    each trained on its half of every batch."""
    assert_same_fit(first, second)
    assert largest_difference(first, reference) < TOLERANCE
    assert (set(first["batch_sizes"]),
            set(second["batch_sizes"])) == halves(reference["batch_sizes"])


def halves(sizes):
    """The two processes' shares of batches of ``sizes``: the first gets the odd sample."""
    return {(size + 1) // 2 for size in sizes}, {size // 2 for size in sizes}


def largest_difference(fit, reference):
    """The largest difference over the arrays both fits compare (not the history)."""
    keys = [key for key in reference
            if key not in ("batch_sizes", "train_loss", "valid_batch_sizes",
                           "valid_rows_scored")]
    return max(float(np.max(np.abs(fit[key].astype(float) - reference[key])))
               for key in keys)


FITS = [*distributed_fits.CONFIGS, "seal-resumed",
        *(f"{name}-dataset" for name in distributed_fits.DATASET_CONFIGS)]


@pytest.mark.parametrize("name", FITS)
def test_two_processes_fit_what_one_process_fits(two_processes, one_process, name):
    first, second = ranks(two_processes, name)
    reference = one_process[name.removesuffix("-dataset")]
    # both processes hold the same fitted estimator ...
    assert_same_fit(first, second)
    # ... which is the one-process fit, up to the order of float sums
    assert largest_difference(first, reference) < TOLERANCE
    # (a resumed fit records only the stages it trained)
    trained = len(first["train_loss"])
    np.testing.assert_allclose(first["train_loss"], reference["train_loss"][-trained:],
                               atol=TOLERANCE)
    # each trained on its half of every epoch's samples (151: 76 and 75)
    whole = set(reference["batch_sizes"])
    assert whole == {151} or name == "seal-validation"  # (121 under train_split=0.2)
    assert (set(first["batch_sizes"]), set(second["batch_sizes"])) == halves(whole)
    if "valid_batch_sizes" in reference:
        # ... and scored its half of the validation part (31 samples: 16 and
        # 15), whose whole batches both histories record
        np.testing.assert_array_equal(first["valid_batch_sizes"],
                                      reference["valid_batch_sizes"])
        whole = set(reference["valid_batch_sizes"])
        assert whole == {31}
        assert (set(first["valid_rows_scored"]),
                set(second["valid_rows_scored"])) == halves(whole)


@pytest.mark.parametrize("name", [*distributed_fits.CONFIGS, "seal-resumed"])
def test_with_accelerate_two_processes_fit_what_one_process_fits(two_processes, one_process,
                                                                 name):
    # skorch's AccelerateMixin wraps the networks in DistributedDataParallel;
    # the fit keeps summing the gradients itself, weighted by shares (and a
    # SEAL checkpoint holds the network, not its wrapper)
    pytest.importorskip("accelerate")
    assert_one_process_fit(*ranks(two_processes, f"accelerate-{name}"), one_process[name])


@pytest.mark.parametrize("name", distributed_fits.BATCHNORM_CONFIGS)
def test_with_accelerate_and_batchnorm_every_process_ends_with_the_same_network(
        two_processes, name):
    pytest.importorskip("accelerate")
    first, second = ranks(two_processes, f"accelerate-{name}")
    assert_same_fit(first, second)


@pytest.mark.parametrize("name", distributed_fits.BATCHNORM_CONFIGS)
def test_with_batchnorm_every_process_ends_with_the_first_ones_statistics(two_processes,
                                                                          one_process, name):
    # Each process's BatchNorm statistics come from its shares of the
    # batches; validation and the end of the fit use the first process's
    # (epoch_buffers: the statistics as each validation batch begins, one
    # batch an epoch) ...
    first, second = ranks(two_processes, name)
    if "valid_loss" in first:
        assert len(first["epoch_buffers"]) >= distributed_fits.COMMON["max_epochs"]
    assert_same_fit(first, second)
    # ... so the processes agree, on a fit that is not the one-process fit
    assert largest_difference(first, one_process[name]) > 100 * TOLERANCE


@pytest.mark.parametrize("name", distributed_fits.BATCHNORM_CONFIGS)
def test_with_syncbatchnorm_two_processes_fit_what_one_process_fits(two_processes,
                                                                    one_process, name):
    # Where torch runs SyncBatchNorm (here its statistics are computed on the
    # CPU as on a GPU), the networks' BatchNorm layers become SyncBatchNorm,
    # which normalise each process's share with the whole batch's statistics
    first, second = ranks(two_processes, f"synchronised-{name}")
    # (Flywheel's two networks have one each)
    assert first["synchronised_layers"] == (2 if name.startswith("flywheel") else 1)
    assert_one_process_fit(first, second, one_process[name])


@pytest.mark.parametrize("name", distributed_fits.BATCHNORM_CONFIGS)
def test_with_accelerate_and_syncbatchnorm_two_processes_fit_what_one_process_fits(
        two_processes, one_process, name):
    pytest.importorskip("accelerate")
    assert_one_process_fit(*ranks(two_processes, f"accelerate-synchronised-{name}"),
                           one_process[name])


@pytest.mark.parametrize("name", distributed_fits.REFUSED_CONFIGS)
def test_batches_that_leave_a_cpu_process_one_sample_for_batchnorm_are_refused(
        two_processes, name):
    # by both processes alike, so none waits for the other
    for rank in (0, 1):
        refusal = (two_processes / f"{name}-rank{rank}.txt").read_text()
        assert "a training batch of 3 samples (batch_size=37) leaves a process fewer " \
               "than two" in refusal
        # (g's batches keep the last one whatever drop_last)
        assert ("drop_last" in refusal) == (not name.startswith("flywheel"))


def test_batchnorm1d_of_each_cpu_process_needs_two_samples_of_every_batch(monkeypatch):
    from sklearn_noisy import _core
    X, y = distributed_fits.data()
    clf = distributed_fits.CrossEntropyClassifier(
        module=distributed_fits.batchnorm_network, max_epochs=1, random_state=0).fit(X, y)
    clf._check_batchnorm_shares([3])  # one process: its batches are whole
    with fitting_in(World(0, 2)):
        clf._check_batchnorm_shares([32, 4])
        with pytest.raises(ValueError, match="a training batch of 3 samples"):
            clf._check_batchnorm_shares([32, 3])
    with fitting_in(World(0, 4)):
        with pytest.raises(ValueError, match="batch of 6 samples .* at least 8"):
            clf._check_batchnorm_shares([6, 6, 7])
        # a BatchNorm2d normalises over the pixels too: one image is enough ...
        clf.input_shape_ = (1, 4, 4)
        clf.module_ = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
        clf._check_batchnorm_shares([6, 6, 7])
        # ... unless its maps are 1x1
        clf.module_ = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 4), torch.nn.BatchNorm2d(2))
        with pytest.raises(ValueError, match="batch of 6 samples"):
            clf._check_batchnorm_shares([6, 6, 7])
        assert clf.module_.training  # (as before the check's probe)
        # and where SyncBatchNorm runs, the statistics are the whole batch's
        monkeypatch.setattr(_core, "syncs_batchnorm", lambda device: True)
        clf._check_batchnorm_shares([6, 6, 7])


def _batch_lengths_as_before(n_samples, batch_size, drop_last, world_size):
    """The batches of ShuffledBatches as it cut them before batch_lengths."""
    batches = list(torch.arange(n_samples).split(batch_size))
    if drop_last and len(batches[-1]) < batch_size:
        batches.pop()
    elif len(batches) > 1 and len(batches[-1]) < max(2, world_size):
        batches[-2:] = [torch.cat(batches[-2:])]
    return [len(batch) for batch in batches]


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_the_batches_are_cut_as_before(world_size):
    from sklearn_noisy._data import ShuffledBatches, TrainingData
    with fitting_in(World(0, world_size)):
        for n_samples in range(1, 30):
            data = TrainingData(torch.zeros(n_samples, 2), torch.zeros(n_samples, dtype=torch.long),
                                np.zeros(n_samples))
            for batch_size in range(1, 9):
                for drop_last in (False, True):
                    if drop_last and n_samples < batch_size:
                        continue
                    batches = ShuffledBatches(data, batch_size, torch.Generator(),
                                              drop_last=drop_last)
                    expected = _batch_lengths_as_before(n_samples, batch_size, drop_last,
                                                        world_size)
                    assert batches.batch_lengths() == expected
                    assert len(batches) == len(expected)


def test_the_first_process_alone_writes_the_checkpoint(two_processes):
    files = list((two_processes / "checkpoints").glob("*.pt"))
    assert len(files) == 1


def test_a_method_can_refuse_to_spread_a_fit():
    class NotSpread(distributed_fits.CrossEntropyClassifier):
        supports_data_parallel = False

    with pytest.raises(NotImplementedError, match="cannot yet spread one fit over the 2"):
        NotSpread()._check_data_parallel(World(0, 2))
    NotSpread()._check_data_parallel(World())


def test_a_validation_batch_of_fewer_rows_than_processes_is_scored_whole():
    # Every process scores it, with no collective (none is initialised here:
    # a gather would raise); an empty share would break a network that
    # reshapes by the batch's length, on some processes only.
    X, y = distributed_fits.data()
    clf = distributed_fits.CrossEntropyClassifier(max_epochs=1, random_state=0).fit(X, y)
    clf.history_.new_epoch()
    clf.history_.new_batch()
    inputs = {"X": torch.as_tensor(X[:1])}
    with fitting_in(World(0, 3)):
        step = clf.validation_step((inputs, torch.as_tensor(y[:1])))
    np.testing.assert_allclose(step["y_pred"].softmax(dim=1).numpy(),
                               clf.predict_proba(X[:1]), atol=1e-6)
    assert clf.history_[-1, "batches", -1, "valid_rows_scored"] == 1


def test_a_parallel_step_sums_the_scaled_gradients_before_unscaling(monkeypatch):
    # float16's overflow check then sees every process's gradients, so the
    # processes skip a step together or not at all
    from sklearn_noisy import _fit_loop
    from sklearn_noisy._distributed import Shard
    X, y = distributed_fits.data()
    clf = distributed_fits.CrossEntropyClassifier(max_epochs=1, precision="float16",
                                                  random_state=0).fit(X, y)
    calls = []
    monkeypatch.setattr(_fit_loop, "sum_gradients", lambda *args: calls.append("sum"))
    monkeypatch.setattr(_fit_loop, "batch_share", lambda inputs, shard: shard.share)
    monkeypatch.setattr(clf.loss_scaler_, "unscale", lambda optimizer: calls.append("unscale"))
    rows = torch.arange(8)
    inputs = {"X": torch.as_tensor(X[:8]), "index": rows, "shard": Shard(0, 8, 16, rows)}
    clf.train_step((inputs, torch.as_tensor(y[:8])))
    assert calls == ["sum", "unscale"]


def test_buffers_of_several_dtypes_are_broadcast_in_place(tmp_path):
    # one process group of one process: the broadcast leaves the values, and
    # must take every buffer whatever its dtype or grad flag
    from sklearn_noisy._distributed import broadcast_buffers
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}",
                            rank=0, world_size=1)
    try:
        network = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
        network(torch.randn(8, 3))
        network.register_buffer("tracked", torch.ones(2, requires_grad=True))
        before = {name: buffer.clone() for name, buffer in network.named_buffers()}
        assert len({buffer.dtype for buffer in before.values()}) == 2
        broadcast_buffers(network)
        for name, buffer in network.named_buffers():
            assert torch.equal(buffer, before[name]), name
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("control, name", distributed_fits.NEGATIVE_CONTROLS)
def test_the_comparison_catches_a_broken_synchronisation(two_processes, one_process,
                                                         control, name):
    first, _ = ranks(two_processes, control)
    assert largest_difference(first, one_process[name]) > 100 * TOLERANCE


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available() or torch.cuda.device_count() < 2
                    or not dist.is_nccl_available(), reason="needs two CUDA GPUs and NCCL")
def test_two_gpus_fit_what_one_gpu_fits(tmp_path):
    # (on GPUs the BatchNorm configurations train with SyncBatchNorm)
    output = run_two_processes(tmp_path, "cuda")
    X, y = distributed_fits.data()
    for name, (cls, params) in {**distributed_fits.CONFIGS,
                                **distributed_fits.BATCHNORM_CONFIGS}.items():
        first, second = ranks(output, name)
        one_gpu = cls(**{**distributed_fits.COMMON, "device": "cuda:0"}, **params).fit(X, y)
        # CUDA kernels may sum in any order, in one process too
        assert largest_difference(first, distributed_fits.fitted_arrays(one_gpu, X)) < 1e-4
        assert largest_difference(first, second) == 0
        if importlib.util.find_spec("accelerate") is not None:
            accelerated, _ = ranks(output, f"accelerate-{name}")
            assert largest_difference(
                accelerated, distributed_fits.fitted_arrays(one_gpu, X)) < 1e-4


def test_the_epoch_benchmark_spreads_its_fits_over_processes():
    script = Path(__file__).parents[1] / "benchmarks" / "bench_epoch_time.py"
    command = [sys.executable, str(script), "--samples", "16", "--methods", "ce", "flywheel",
               "--nproc", "2"]
    for attempt in (1, 2):
        # (once more if torchrun's rendezvous port was taken, as above)
        result = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": "1"},
                                capture_output=True, text=True, timeout=300)
        if result.returncode == 0 or attempt == 2:
            break
        warnings.warn("the first two-process run failed:\n" + result.stderr[-5000:])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "processes: 2" in result.stdout
    assert "WRN-28-2" in result.stdout and "flywheel" in result.stdout.split("\n", 2)[2]
