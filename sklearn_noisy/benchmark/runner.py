"""Corrupt, fit and score: one benchmark cell per (method, noise rate, seed)."""

import time
from dataclasses import asdict, dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from ..corruptors import CCNLabelCorruptor, IDNLabelCorruptor
from .datasets import load_dataset
from .details import MethodDetails, attach_recorders, collect_details, detection_is_defined
from .methods import METHODS, make_method

NOISE_TYPES = ("idn", "idn-projection", "symmetric", "pair")


@dataclass
class CellResult:
    """What one (method, noise rate, seed) run measured."""

    dataset: str
    noise: str
    noise_rate: float
    seed: int
    method: str
    accuracy: float
    fit_seconds: float
    detection_auc: float
    actual_noise_rate: float
    details: MethodDetails | None = field(default=None, repr=False, compare=False)


def make_corruptor(noise, rate, seed, device="cpu"):
    """The corruptor of noise type ``noise`` at ``rate``."""
    if noise == "idn":
        return IDNLabelCorruptor(rate, random_state=seed, device=device)
    if noise == "idn-projection":
        return IDNLabelCorruptor(rate, strategy="projection", random_state=seed)
    if noise in ("symmetric", "pair"):
        return CCNLabelCorruptor(rate, transition=noise, random_state=seed)
    raise ValueError(f"unknown noise {noise!r}; choose from {', '.join(NOISE_TYPES)}.")


@dataclass
class NoisySplit:
    """A train/test split whose training labels were corrupted."""

    X_train: np.ndarray
    y_train: np.ndarray  # the true training labels, for the figures only
    y_noisy: np.ndarray
    noise_mask: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def noisy_split(X, y, noise, rate, seed, device="cpu"):
    """Stratified 70/30 split; the training labels corrupted by ``noise``."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    corruptor = make_corruptor(noise, rate, seed, device)
    _, y_noisy = corruptor.fit_resample(X_train, y_train)
    return NoisySplit(X_train, y_train, y_noisy, corruptor.noise_mask_, X_test, y_test)


def fit_and_score(estimator, split):
    """Fit on the noisy labels of ``split``; score on its clean test part.

    Returns
    -------
    accuracy : float
        Clean test accuracy.
    detection_auc : float
        ROC-AUC of ``noise_scores_`` against the corruptor's noise mask (NaN
        when nothing, or everything, was flipped).
    fit_seconds : float
    """
    start = time.perf_counter()
    estimator.fit(split.X_train, split.y_noisy)
    fit_seconds = time.perf_counter() - start
    mask = split.noise_mask
    auc = (roc_auc_score(mask, estimator.noise_scores_)
           if detection_is_defined(mask) else float("nan"))
    return float(estimator.score(split.X_test, split.y_test)), float(auc), fit_seconds


def run_cell(dataset, X, y, noise, rate, seed, methods, device="cpu", details=False):
    """Corrupt one training split and fit/score every method on it.

    With ``details``, each result also carries what the figures need
    (:class:`~sklearn_noisy.benchmark.details.MethodDetails`).
    """
    split = noisy_split(X, y, noise, rate, seed, device)
    results = []
    for name in methods:
        estimator = make_method(name, seed, device)
        recorder = attach_recorders(estimator) if details else None
        accuracy, auc, fit_seconds = fit_and_score(estimator, split)
        results.append(CellResult(
            dataset, noise, rate, seed, METHODS[name][0], accuracy, fit_seconds, auc,
            float(split.noise_mask.mean()),
            collect_details(estimator, recorder, split) if details else None,
        ))
    return results


def run_benchmark(dataset="digits", noise="idn", rates=(0.1, 0.2, 0.3, 0.4),
                  seeds=range(5), methods=tuple(METHODS), device="cpu", n_jobs=1,
                  progress=None, details=False):
    """Run every (rate, seed) cell of the benchmark.

    Parameters
    ----------
    dataset : str, default="digits"
        A name of :data:`~sklearn_noisy.benchmark.datasets.DATASETS`, or the
        path of an image folder or ``.npz`` file (see
        :func:`~sklearn_noisy.benchmark.datasets.load_dataset`).
    noise : str, default="idn"
        A name of :data:`NOISE_TYPES`.
    rates : sequence of float, default=(0.1, 0.2, 0.3, 0.4)
        Noise rates applied to the training part.
    seeds : iterable of int, default=range(5)
        Seeds of the split, the corruptor and the estimators.
    methods : sequence of str, default=all registered methods
        Short names of :data:`~sklearn_noisy.benchmark.methods.METHODS`.
    device : str, default="cpu"
        Device of the networks.
    n_jobs : int, default=1
        Cells run in that many parallel processes (joblib).
    progress : callable or None, default=None
        Called with 1 after every finished cell (for a progress bar).
    details : bool, default=False
        Keep, for the first seed of every rate, what the figures need: ROC
        curves, SEAL's soft labels per iteration, Flywheel's transition
        matrix and the true one.

    Returns
    -------
    results : list of CellResult
        One per (method, rate, seed).
    """
    X, y = load_dataset(dataset)
    seeds = list(seeds)
    cells = [(rate, seed) for rate in rates for seed in seeds]
    jobs = (delayed(run_cell)(dataset, X, y, noise, rate, seed, methods, device,
                              details and seed == seeds[0])
            for rate, seed in cells)
    results = []
    for cell_results in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
        results.extend(cell_results)
        if progress is not None:
            progress(1)
    return results


def summarise(results):
    """Mean and std per (noise rate, method), as rows of dicts."""
    rows = []
    methods = list(dict.fromkeys(r.method for r in results))  # in the order run
    keys = sorted({(r.noise_rate, r.method) for r in results},
                  key=lambda key: (key[0], methods.index(key[1])))
    for rate, method in keys:
        cell = [r for r in results if r.noise_rate == rate and r.method == method]
        accuracy = np.array([r.accuracy for r in cell])
        rows.append({
            "noise_rate": rate,
            "method": method,
            "accuracy_mean": accuracy.mean(),
            "accuracy_std": accuracy.std(),
            "fit_seconds": float(np.mean([r.fit_seconds for r in cell])),
            "detection_auc": float(np.mean([r.detection_auc for r in cell])),
            "n_seeds": len(cell),
        })
    return rows


def as_records(results):
    """Plain dicts, for CSV or JSON (without the figures' details)."""
    return [{key: value for key, value in asdict(result).items() if key != "details"}
            for result in results]
