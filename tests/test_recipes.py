"""The papers' training setups (sklearn_noisy.recipes)."""

import inspect

import numpy as np
import pytest
import torch
from skorch.callbacks import LRScheduler

from sklearn_noisy import (
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    SEALClassifier,
    SLNClassifier,
    paper_recipe,
)
from sklearn_noisy._checkpoint import fit_fingerprint
from sklearn_noisy.augmentations import RandomCropFlip
from sklearn_noisy.networks import preact_resnet18, resnet32, seal_mnist_cnn, wide_resnet
from sklearn_noisy.recipes import NOISE_TYPES, available_recipes

ESTIMATORS = {"ce": CrossEntropyClassifier, "seal": SEALClassifier, "sln": SLNClassifier,
              "confusion-em": ConfusionEMClassifier, "flywheel": FlywheelClassifier}

ALL_RECIPES = [("ce", "mnist"), ("ce", "cifar10"), ("ce", "cifar100"),
               ("seal", "mnist"), ("seal", "cifar10"),
               ("sln", "cifar10"), ("sln", "cifar100"),
               ("confusion-em", "cifar10"), ("confusion-em", "cifar100"),
               ("flywheel", "cifar10"), ("flywheel", "cifar100")]

# The estimators take `augmentation` once the core has it; until then the
# recipes that use it build but cannot fit.
CORE_HAS_AUGMENTATION = "augmentation" in inspect.signature(CrossEntropyClassifier).parameters
needs_core_augmentation = pytest.mark.skipif(
    not CORE_HAS_AUGMENTATION,
    reason="waits on the estimators' augmentation parameter (core)")


def recipe(method, dataset):
    return paper_recipe(method, dataset, noise="symmetric")


def scheduler(params):
    (name, callback), = params["callbacks"]
    assert name == "lr_scheduler" and isinstance(callback, LRScheduler)
    return callback.policy, callback.kwargs


def test_available_recipes_are_the_papers_settings():
    assert sorted(available_recipes()) == sorted(ALL_RECIPES)


# ----------------------------------------------------------------------
# what each recipe holds: the values of the papers' text
# ----------------------------------------------------------------------
EXPECTED = {
    # (method, dataset): (network, module params, lr, momentum, weight decay,
    #                     epochs, batch size, method parameters)
    ("seal", "mnist"): (seal_mnist_cnn, {}, 0.01, 0.5, 0.0, 50, 64, {"n_iterations": 10}),
    ("seal", "cifar10"): (wide_resnet, {"depth": 28, "widen_factor": 10}, 0.1, 0.9, 5e-4,
                          150, 128, {"n_iterations": 3}),
    ("sln", "cifar10"): (wide_resnet, {"depth": 28, "widen_factor": 2}, 0.001, 0.9, 5e-4,
                         300, 128, {"sigma": 1.0, "ema_decay": 0.999,
                                    "correction_epoch": None}),
    ("sln", "cifar100"): (wide_resnet, {"depth": 28, "widen_factor": 2}, 0.001, 0.9, 5e-4,
                          300, 128, {"sigma": 0.2, "ema_decay": 0.999,
                                     "correction_epoch": None}),
    ("confusion-em", "cifar10"): (resnet32, {}, 0.05, 0.9, 1e-4, 160, 256,
                                  {"eta_init": 0.01, "eta_lr": 0.7, "eta_update": "epoch",
                                   "eta_start_epoch": 35, "eta_update_every": 5}),
    ("confusion-em", "cifar100"): (resnet32, {}, 0.05, 0.9, 1e-4, 160, 256,
                                   {"eta_init": 0.01, "eta_lr": 0.5, "eta_update": "epoch",
                                    "eta_start_epoch": 35, "eta_update_every": 5}),
    ("flywheel", "cifar10"): (preact_resnet18, {}, 0.02, 0.9, 5e-4, 300, 128,
                              {"warmup_epochs": 10, "confidence_weight": 3.0,
                               "contrastive_weight": 0.025}),
    ("ce", "mnist"): (seal_mnist_cnn, {}, 0.01, 0.5, 0.0, 50, 64, {}),
    ("ce", "cifar10"): (wide_resnet, {"depth": 28, "widen_factor": 2}, 0.001, 0.9, 5e-4,
                        300, 128, {}),
}


@pytest.mark.parametrize("key", EXPECTED, ids="-".join)
def test_recipe_values(key):
    network, module_params, lr, momentum, decay, epochs, batch, method = EXPECTED[key]
    params = recipe(*key)
    assert params["module"].network is network
    assert {name[len("module__"):]: value for name, value in params.items()
            if name.startswith("module__")} == module_params
    assert params["optimizer"] is torch.optim.SGD
    assert (params["lr"], params["optimizer__momentum"], params["optimizer__weight_decay"],
            params["max_epochs"], params["batch_size"]) == (lr, momentum, decay, epochs, batch)
    assert {name: params[name] for name in method} == method
    assert "device" not in params


def test_learning_rate_schedules():
    assert scheduler(recipe("seal", "cifar10")) == (
        torch.optim.lr_scheduler.MultiStepLR, {"milestones": [60, 120], "gamma": 0.2})
    assert scheduler(recipe("confusion-em", "cifar10")) == (
        torch.optim.lr_scheduler.StepLR, {"step_size": 40, "gamma": 0.1})
    assert scheduler(recipe("flywheel", "cifar100")) == (
        torch.optim.lr_scheduler.CosineAnnealingLR, {"T_max": 300})
    # constant learning rates: SEAL on MNIST, SLN and its CE baseline
    for key in [("seal", "mnist"), ("sln", "cifar10"), ("ce", "cifar100"), ("ce", "mnist")]:
        assert "callbacks" not in recipe(*key)


def test_normalisation_statistics():
    seal = recipe("seal", "cifar10")["module"]
    assert (seal.mean, seal.std) == ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))
    sln = recipe("sln", "cifar100")["module"]
    assert (sln.mean, sln.std) == ((0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761))
    # ConfusionEM subtracts the mean only
    confusion = recipe("confusion-em", "cifar10")["module"]
    assert (confusion.mean, confusion.std) == ((0.4914, 0.4822, 0.4465), (1.0, 1.0, 1.0))
    assert recipe("seal", "mnist")["module"].mean == (0.1307,)


def test_cifar_recipes_crop_and_flip_and_mnist_recipes_do_not_augment():
    for method, dataset in available_recipes():
        params = recipe(method, dataset)
        name = "weak_augmentation" if method == "flywheel" else "augmentation"
        if dataset == "mnist":
            assert "augmentation" not in params
        else:
            augmentation = params[name]
            assert isinstance(augmentation, RandomCropFlip)
            assert (augmentation.padding, augmentation.flip) == (4, True)


@pytest.mark.parametrize("dataset, noise, sigma", [
    ("cifar10", "symmetric", 1.0), ("cifar10", "asymmetric", 0.5), ("cifar10", "idn", 0.5),
    ("cifar10", "open-set", 0.5), ("cifar10", "pair", 0.5), ("cifar10", "idn-projection", 0.5),
    ("cifar100", "symmetric", 0.2), ("cifar100", "asymmetric", 0.2), ("cifar100", "idn", 0.1),
])
def test_sln_sigma_follows_the_noise_type(dataset, noise, sigma):
    assert paper_recipe("sln", dataset, noise=noise)["sigma"] == sigma


def test_noise_is_required_by_sln_only_and_checked_everywhere():
    with pytest.raises(ValueError, match="pass noise= one of 'symmetric', 'asymmetric'"):
        paper_recipe("sln", "cifar10")
    for noise in NOISE_TYPES:
        with_noise = paper_recipe("seal", "cifar10", noise=noise)
        assert with_noise.keys() == paper_recipe("seal", "cifar10").keys()
        assert "sigma" not in paper_recipe("ce", "cifar10", noise=noise)
    with pytest.raises(ValueError, match="unknown noise 'uniform'; choose from 'symmetric'"):
        paper_recipe("seal", "mnist", noise="uniform")


def test_unknown_methods_and_data_sets_list_what_exists():
    with pytest.raises(ValueError, match="no recipe for method 'dividemix'; the methods with "
                                         "recipes are 'ce', 'seal', 'sln', 'confusion-em', "
                                         "'flywheel'"):
        paper_recipe("dividemix", "cifar10")
    with pytest.raises(ValueError, match=r"the 'seal' recipes cover 'mnist', 'cifar10', "
                                         r"not 'cifar100'\. All recipes .*\(flywheel, cifar100\)"):
        paper_recipe("seal", "cifar100")
    with pytest.raises(ValueError, match="the 'sln' recipes cover 'cifar10', 'cifar100', "
                                         "not 'mnist'"):
        paper_recipe("sln", "mnist", noise="symmetric")


def test_every_call_builds_fresh_objects():
    for method, dataset in available_recipes():
        first, second = recipe(method, dataset), recipe(method, dataset)
        assert first.keys() == second.keys()
        for name, value in first.items():
            if not isinstance(value, (type, str, int, float, type(None))):
                assert value is not second[name], (method, dataset, name)
        if "callbacks" in first:
            first["callbacks"][0][1].set_params(policy=torch.optim.lr_scheduler.ConstantLR)
            assert second["callbacks"][0][1].policy is not torch.optim.lr_scheduler.ConstantLR
        for name in ("augmentation", "weak_augmentation"):
            if name in first:
                first[name].padding = 0
                assert second[name].padding == 4


# ----------------------------------------------------------------------
# every recipe fits
# ----------------------------------------------------------------------
def images(dataset, n_samples, seed=0):
    rng = np.random.default_rng(seed)
    shape = (1, 28, 28) if dataset == "mnist" else (3, 32, 32)
    n_classes = 100 if dataset == "cifar100" else 10
    X = rng.random((n_samples, *shape), dtype=np.float32)
    return X, rng.integers(0, n_classes, n_samples)


def check_fitted_as_the_recipe_says(clf, params):
    optimizer = clf.optimizer_.param_groups[0]
    assert isinstance(clf.optimizer_, torch.optim.SGD)
    assert (optimizer["momentum"], optimizer["weight_decay"]) == (
        params["optimizer__momentum"], params["optimizer__weight_decay"])
    assert clf.module_.normalize.mean.flatten().tolist() == pytest.approx(
        params["module"].mean)
    if "callbacks" in params:
        assert "event_lr" in clf.history_[-1]


# One epoch on 256 samples takes 1 to 16 s on one CPU thread for these.
@pytest.mark.parametrize("method, dataset", [
    ("ce", "mnist"), ("seal", "mnist"),
    pytest.param("ce", "cifar10", marks=needs_core_augmentation),
    pytest.param("ce", "cifar100", marks=needs_core_augmentation),
    pytest.param("sln", "cifar10", marks=needs_core_augmentation),
    pytest.param("sln", "cifar100", marks=needs_core_augmentation),
    pytest.param("confusion-em", "cifar10", marks=needs_core_augmentation),
    pytest.param("confusion-em", "cifar100", marks=needs_core_augmentation),
])
def test_recipe_fits_one_epoch_on_256_samples(method, dataset):
    X, y = images(dataset, 256)
    params = {**recipe(method, dataset), "max_epochs": 1}
    clf = ESTIMATORS[method](**params, random_state=0).fit(X, y)
    check_fitted_as_the_recipe_says(clf, params)
    assert clf.predict(X[:5]).shape == (5,)
    if method == "seal":
        assert len(clf.iteration_history_) == params["n_iterations"] + 1


@needs_core_augmentation
def test_seal_cifar10_recipe_fits_with_a_narrower_wide_resnet():
    # WRN-28-10 takes about 6 minutes per epoch on 256 samples on one CPU
    # thread: here WRN-10-1 runs the recipe's three iterations, and the
    # full-size network one optimizer step below.
    X, y = images("cifar10", 256)
    params = {**recipe("seal", "cifar10"), "max_epochs": 1,
              "module__depth": 10, "module__widen_factor": 1}
    clf = SEALClassifier(**params, random_state=0).fit(X, y)
    check_fitted_as_the_recipe_says(clf, params)
    assert len(clf.iteration_history_) == 4


def test_seal_cifar10_recipe_network_takes_a_training_step():
    params = recipe("seal", "cifar10")
    network = params["module"]((3, 32, 32), 10, depth=params["module__depth"],
                               widen_factor=params["module__widen_factor"])
    assert sum(p.numel() for p in network.parameters()) == 36_479_194
    optimizer = params["optimizer"](
        network.parameters(), lr=params["lr"], momentum=params["optimizer__momentum"],
        weight_decay=params["optimizer__weight_decay"])
    X = params["augmentation"](torch.rand(2, 3, 32, 32),
                               generator=torch.Generator().manual_seed(0))
    before = network.network.fc.weight.detach().clone()
    torch.nn.functional.cross_entropy(network(X), torch.tensor([0, 1])).backward()
    optimizer.step()
    assert not torch.equal(before, network.network.fc.weight)


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100"])
def test_flywheel_recipe_fits_a_warm_up_epoch_and_a_cycle(dataset):
    # PreAct ResNet-18 twice, with the cycle's extra passes, takes about
    # 2.5 minutes per epoch on 256 samples on one CPU thread; 16 samples
    # make one batch per epoch. The paper's 10 warm-up epochs need more
    # than one epoch in all.
    X, y = images(dataset, 16)
    params = {**recipe("flywheel", dataset), "max_epochs": 2, "warmup_epochs": 1}
    clf = FlywheelClassifier(**params, random_state=0).fit(X, y)
    check_fitted_as_the_recipe_says(clf, params)
    assert clf.main_network_.normalize.mean.flatten().tolist() == pytest.approx(
        params["module"].mean)
    assert clf.clean_proba_.shape == (16,)


def test_recipes_have_stable_checkpoint_fingerprints():
    # SEAL names its checkpoints by a hash of its parameters: two fresh copies
    # of a recipe must hash alike (a resumed fit finds its checkpoint), and
    # different recipes differently.
    X, y = images("mnist", 8)
    fingerprints = {}
    for key in available_recipes():
        fingerprint = fit_fingerprint(X, y, recipe(*key))
        assert fingerprint == fit_fingerprint(X, y, recipe(*key))
        fingerprints[key] = fingerprint
    assert len(set(fingerprints.values())) == len(fingerprints)
