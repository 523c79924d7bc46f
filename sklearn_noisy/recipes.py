"""The papers' training setups, as estimator parameters.

:func:`~sklearn_noisy.paper_recipe` returns the keyword parameters with which a method's
paper trains on a data set: network, optimizer, learning-rate schedule,
epochs, batch size, augmentation, input normalisation and the method's own
hyperparameters. Pass them to the method's estimator, and add the device::

    SLNClassifier(**paper_recipe("sln", "cifar10", noise="symmetric"), device="cuda")

Every setting is taken from the paper's text; the user guide's recipes page
quotes the sentence behind each one and says what a recipe uses where a
paper gives no value. Settings a paper leaves open stay at the estimator's
defaults. Inputs are expected as the papers feed them to their transforms:
float pixels in [0, 1].
"""

import torch
from skorch.callbacks import LRScheduler

from .augmentations import RandomAffineCutout, RandomCropFlip
from .networks import normalized, preact_resnet18, resnet32, seal_mnist_cnn, wide_resnet

# The SEAL paper's CIFAR-10 normalisation (its Appendix A). The papers give no
# CIFAR-100 or MNIST values; these are the ones of the SLN and SEAL authors'
# code (chenpf1025/SLN dataset.py, chenpf1025/IDN train_mnist.py).
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
CIFAR100_MEAN, CIFAR100_STD = (0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)
MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)

_STATISTICS = {
    "mnist": (MNIST_MEAN, MNIST_STD),
    "cifar10": (CIFAR10_MEAN, CIFAR10_STD),
    "cifar100": (CIFAR100_MEAN, CIFAR100_STD),
}

#: Noise types a recipe can be asked for; SLN's sigma depends on them.
NOISE_TYPES = ("symmetric", "asymmetric", "idn", "open-set")
# The benchmark's names for the same kinds of noise.
_NOISE_ALIASES = {"pair": "asymmetric", "idn-projection": "idn"}


def _sgd(lr, momentum, weight_decay):
    return {"optimizer": torch.optim.SGD, "lr": lr,
            "optimizer__momentum": momentum, "optimizer__weight_decay": weight_decay}


def _schedule(policy, **kwargs):
    return {"callbacks": [("lr_scheduler", LRScheduler(policy=policy, **kwargs))]}


def _network(factory, dataset, *, mean_only=False, **module_params):
    mean, std = _STATISTICS[dataset]
    if mean_only:
        std = (1.0,) * len(mean)
    return {"module": normalized(factory, mean=mean, std=std),
            **{f"module__{name}": value for name, value in module_params.items()}}


def _ce(dataset, noise):
    return _seal_mnist_general() if dataset == "mnist" else _sln_general(dataset)


def _seal_mnist_general():
    """The SEAL paper's MNIST training, shared by SEAL and its baselines."""
    return {
        **_network(seal_mnist_cnn, "mnist"),
        **_sgd(0.01, momentum=0.5, weight_decay=0.0),
        "max_epochs": 50,
        "batch_size": 64,
    }


def _seal(dataset, noise):
    if dataset == "mnist":
        return {**_seal_mnist_general(), "n_iterations": 10}
    return {
        **_network(wide_resnet, "cifar10", depth=28, widen_factor=10),
        **_sgd(0.1, momentum=0.9, weight_decay=5e-4),
        **_schedule(torch.optim.lr_scheduler.MultiStepLR, milestones=[60, 120], gamma=0.2),
        "max_epochs": 150,
        "batch_size": 128,
        "augmentation": RandomCropFlip(padding=4),
        "n_iterations": 3,
    }


def _sln_general(dataset):
    """The SLN paper's training setting, shared by all its CIFAR methods."""
    return {
        **_network(wide_resnet, dataset, depth=28, widen_factor=2),
        **_sgd(0.001, momentum=0.9, weight_decay=5e-4),
        "max_epochs": 300,
        "batch_size": 128,
        "augmentation": RandomCropFlip(padding=4),
    }


# SLN's sigma by data set and noise type (the paper's Section 5.1).
_SLN_SIGMA = {
    "cifar10": {"symmetric": 1.0, "asymmetric": 0.5, "idn": 0.5, "open-set": 0.5},
    "cifar100": {"symmetric": 0.2, "asymmetric": 0.2, "idn": 0.1, "open-set": 0.2},
}


def _sln(dataset, noise):
    if noise is None:
        raise ValueError(
            "the SLN paper tunes sigma per noise type: pass noise= one of "
            f"{', '.join(map(repr, NOISE_TYPES))}.")
    return {**_sln_general(dataset), "sigma": _SLN_SIGMA[dataset][noise],
            "ema_decay": 0.999, "correction_epoch": None}


def _confusion_em(dataset, noise):
    return {
        **_network(resnet32, dataset, mean_only=True),
        **_sgd(0.05, momentum=0.9, weight_decay=1e-4),
        **_schedule(torch.optim.lr_scheduler.StepLR, step_size=40, gamma=0.1),
        "max_epochs": 160,
        "batch_size": 256,
        "augmentation": RandomCropFlip(padding=4),
        "eta_init": 0.01,
        "eta_lr": {"cifar10": 0.7, "cifar100": 0.5}[dataset],
        # "updated every 5 epochs from the 35th epoch" (its implementation
        # details), rather than Algorithm 1's step after every batch.
        "eta_update": "epoch",
        "eta_start_epoch": 35,
        "eta_update_every": 5,
    }


def _flywheel(dataset, noise):
    return {
        **_network(preact_resnet18, dataset),
        **_sgd(0.02, momentum=0.9, weight_decay=5e-4),
        **_schedule(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=300),
        "max_epochs": 300,
        "batch_size": 128,
        # The method augments its own batches: weak copies train both
        # networks and feed the E-step, strong ones the contrastive loss.
        "weak_augmentation": RandomCropFlip(padding=4),
        "strong_augmentation": RandomAffineCutout(),
        "warmup_epochs": 10,
        "confidence_weight": 3.0,
        "contrastive_weight": 0.025,
    }


_BUILDERS = {"ce": _ce, "seal": _seal, "sln": _sln, "confusion-em": _confusion_em,
             "flywheel": _flywheel}

_DATASETS = {
    "ce": ("mnist", "cifar10", "cifar100"),
    "seal": ("mnist", "cifar10"),
    "sln": ("cifar10", "cifar100"),
    "confusion-em": ("cifar10", "cifar100"),
    "flywheel": ("cifar10", "cifar100"),
}


def available_recipes():
    """The ``(method, dataset)`` pairs that :func:`paper_recipe` knows.

    Returns
    -------
    recipes : tuple of (str, str)
    """
    return tuple((method, dataset) for method, datasets in _DATASETS.items()
                 for dataset in datasets)


def paper_recipe(method, dataset, *, noise=None):
    """Estimator parameters of a paper's training setup.

    Parameters
    ----------
    method : {'ce', 'seal', 'sln', 'confusion-em', 'flywheel'}
        As named by the benchmark: the estimator is
        :class:`~sklearn_noisy.CrossEntropyClassifier`,
        :class:`~sklearn_noisy.SEALClassifier`,
        :class:`~sklearn_noisy.SLNClassifier`,
        :class:`~sklearn_noisy.ConfusionEMClassifier` or
        :class:`~sklearn_noisy.FlywheelClassifier`. ``'ce'`` is the
        cross-entropy baseline trained as in the SEAL paper on MNIST and as
        in the SLN paper on CIFAR-10 and CIFAR-100.
    dataset : {'mnist', 'cifar10', 'cifar100'}
        Where the paper gives a setup for it (see :func:`available_recipes`).
    noise : {'symmetric', 'asymmetric', 'idn', 'open-set'} or None, default=None
        The kind of label noise, for methods whose paper sets a
        hyperparameter by it: required for ``'sln'`` (its sigma). The
        benchmark's ``'pair'`` and ``'idn-projection'`` count as
        ``'asymmetric'`` and ``'idn'``. Other methods accept and ignore it.

    Returns
    -------
    params : dict
        Keyword parameters for the method's estimator, built afresh on every
        call (no callback or augmentation is shared between two recipes).
        No ``device``: add ``device='cuda'`` yourself.

    Raises
    ------
    ValueError
        For a method, data set or noise type without a recipe, listing the
        ones there are; for ``'sln'`` without ``noise``.

    Examples
    --------
    >>> from sklearn_noisy import SEALClassifier
    >>> from sklearn_noisy.recipes import paper_recipe
    >>> recipe = paper_recipe("seal", "mnist")
    >>> recipe["lr"], recipe["optimizer__momentum"], recipe["max_epochs"]
    (0.01, 0.5, 50)
    >>> clf = SEALClassifier(**recipe, random_state=0)
    """
    if method not in _DATASETS:
        raise ValueError(
            f"no recipe for method {method!r}; the methods with recipes are "
            f"{', '.join(map(repr, _DATASETS))}.")
    if dataset not in _DATASETS[method]:
        raise ValueError(
            f"the {method!r} recipes cover {', '.join(map(repr, _DATASETS[method]))}, "
            f"not {dataset!r}. All recipes (method, dataset): "
            f"{', '.join(f'({m}, {d})' for m, d in available_recipes())}.")
    if noise is not None:
        noise = _NOISE_ALIASES.get(noise, noise)
        if noise not in NOISE_TYPES:
            raise ValueError(
                f"unknown noise {noise!r}; choose from "
                f"{', '.join(map(repr, NOISE_TYPES + tuple(_NOISE_ALIASES)))}.")
    return _BUILDERS[method](dataset, noise)
