"""Corrupt, fit and score: one benchmark cell per (method, noise rate, seed)."""

import time
from dataclasses import asdict, dataclass

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from ..corruptors import CCNLabelCorruptor, IDNLabelCorruptor
from .datasets import load_dataset
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


def make_corruptor(noise, rate, seed, device="cpu"):
    """The corruptor of noise type ``noise`` at ``rate``."""
    if noise == "idn":
        return IDNLabelCorruptor(rate, random_state=seed, device=device)
    if noise == "idn-projection":
        return IDNLabelCorruptor(rate, strategy="projection", random_state=seed)
    if noise in ("symmetric", "pair"):
        return CCNLabelCorruptor(rate, transition=noise, random_state=seed)
    raise ValueError(f"unknown noise {noise!r}; choose from {', '.join(NOISE_TYPES)}.")


def _noisy_split(X, y, noise, rate, seed, device):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    corruptor = make_corruptor(noise, rate, seed, device)
    _, y_noisy = corruptor.fit_resample(X_train, y_train)
    return X_train, y_noisy, corruptor.noise_mask_, X_test, y_test


def run_cell(dataset, X, y, noise, rate, seed, methods, device="cpu"):
    """Corrupt one training split and fit/score every method on it."""
    X_train, y_noisy, mask, X_test, y_test = _noisy_split(X, y, noise, rate, seed, device)
    results = []
    for name in methods:
        estimator = make_method(name, seed, device)
        start = time.perf_counter()
        estimator.fit(X_train, y_noisy)
        fit_seconds = time.perf_counter() - start
        auc = (roc_auc_score(mask, estimator.noise_scores_)
               if 0 < mask.sum() < len(mask) else float("nan"))
        results.append(CellResult(
            dataset, noise, rate, seed, METHODS[name][0],
            float(estimator.score(X_test, y_test)), fit_seconds, float(auc),
            float(mask.mean()),
        ))
    return results


def run_benchmark(dataset="digits", noise="idn", rates=(0.1, 0.2, 0.3, 0.4),
                  seeds=range(5), methods=tuple(METHODS), device="cpu", n_jobs=1,
                  progress=None):
    """Run every (rate, seed) cell of the benchmark.

    Parameters
    ----------
    dataset : str, default="digits"
        A name of :data:`~sklearn_noisy.benchmark.datasets.DATASETS`.
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

    Returns
    -------
    results : list of CellResult
        One per (method, rate, seed).
    """
    X, y = load_dataset(dataset)
    cells = [(rate, seed) for rate in rates for seed in seeds]
    jobs = (delayed(run_cell)(dataset, X, y, noise, rate, seed, methods, device)
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
    keys = sorted({(r.noise_rate, r.method) for r in results})
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
    """Plain dicts, for CSV or JSON."""
    return [asdict(result) for result in results]
