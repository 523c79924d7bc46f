"""Corrupt, fit and score: one benchmark cell per (method, noise rate, seed)."""

import time
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ..corruptors import CCNLabelCorruptor, IDNLabelCorruptor
from .datasets import STANDARDISED, load_dataset
from .details import attach_recorders, collect_details, detection_is_defined
from .interruption import raise_interrupted, sigint_handled_by
from .methods import METHODS, make_method, method_label
from .results import CellResult

NOISE_TYPES = ("idn", "idn-projection", "symmetric", "pair")


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


def noisy_split(X, y, noise, rate, seed, device="cpu", standardise=False):
    """Stratified 70/30 split; the training labels corrupted by ``noise``.

    With ``standardise``, the features are standardised with the training
    part's means and deviations before the corruptor sees them (IDN
    "prediction" trains a network on them). The features come back as
    float32.
    """
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    if standardise:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
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
        when nothing, or everything, was flipped, or when the estimator has
        no ``noise_scores_``).
    fit_seconds : float
    """
    start = time.perf_counter()
    estimator.fit(split.X_train, split.y_noisy)
    fit_seconds = time.perf_counter() - start
    mask = split.noise_mask
    scores = getattr(estimator, "noise_scores_", None)
    auc = (roc_auc_score(mask, scores)
           if scores is not None and detection_is_defined(mask) else float("nan"))
    return float(estimator.score(split.X_test, split.y_test)), float(auc), fit_seconds


def run_cell(dataset, X, y, noise, rate, seed, methods, device="cpu", details=False):
    """Corrupt one training split and fit/score every method on it.

    With ``details``, each result also carries what the figures need
    (:class:`~sklearn_noisy.benchmark.details.MethodDetails`).
    """
    split = noisy_split(X, y, noise, rate, seed, device,
                        standardise=dataset in STANDARDISED)
    results = []
    for name in methods:
        estimator = make_method(name, seed, device)
        recorder = attach_recorders(estimator) if details else None
        accuracy, auc, fit_seconds = fit_and_score(estimator, split)
        results.append(CellResult(
            dataset, noise, rate, seed, method_label(name), accuracy, fit_seconds, auc,
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
        One per (method, rate, seed), by rate, then seed, then method.

    Raises
    ------
    Interrupted
        On Ctrl-C (a BaseException, as KeyboardInterrupt is).
    """
    X, y = load_dataset(dataset)
    rates, seeds = list(rates), list(seeds)
    cells = [(rate, seed, list(methods)) for rate in rates for seed in seeds]
    keep_details = {(rate, seeds[0]) for rate in rates} if details and seeds else ()
    results = []
    for cell_results in run_cells(dataset, X, y, noise, cells, device, n_jobs,
                                  keep_details):
        results.extend(cell_results)
        if progress is not None:
            progress(1)
    return in_cell_order(results, rates, seeds)


def run_cells(dataset, X, y, noise, cells, device="cpu", n_jobs=1, details=()):
    """Run ``cells``; yield each one's results as soon as it finishes.

    Parameters
    ----------
    dataset : str
        The data set's name, copied into the results.
    X, y : ndarray
        The data set, as :func:`~sklearn_noisy.benchmark.datasets.load_dataset`
        returns it.
    noise : str
        A name of :data:`NOISE_TYPES`.
    cells : iterable of (rate, seed, methods)
        One corrupted split each, on which every method of ``methods`` is fit.
    device : str, default="cpu"
    n_jobs : int, default=1
        Cells run in that many parallel processes (joblib).
    details : collection of (rate, seed), default=()
        The cells whose results keep what the figures need.

    Yields
    ------
    cell_results : list of CellResult
        One cell's results, in the order the cells finish (not the order
        given when ``n_jobs`` > 1).

    Raises
    ------
    Interrupted
        On Ctrl-C during a cell, in this process or a worker; no half-trained
        cell is yielded.
    """
    jobs = (delayed(_run_cell_interruptibly)(dataset, X, y, noise, rate, seed, methods,
                                             device, (rate, seed) in details)
            for rate, seed, methods in cells)
    yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs)


def _run_cell_interruptibly(*args):
    with sigint_handled_by(raise_interrupted):
        return run_cell(*args)


def in_cell_order(results, rates, seeds):
    """``results`` sorted by rate, then seed, in the order given (stable)."""
    rank = {(rate, seed): index
            for index, (rate, seed) in enumerate((r, s) for r in rates for s in seeds)}
    return sorted(results, key=lambda r: rank.get((r.noise_rate, r.seed), len(rank)))
