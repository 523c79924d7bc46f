"""Accuracy suite: do the methods' defaults hold on data nobody tuned them to?

The methods' defaults were first chosen on digits as 64 tabular features
(through the MLP), wine, breast cancer and a 4-class synthetic set. This
suite scores them on six data sets: digits and generated shapes as images,
through the default CNN; iris; a 6-class synthetic set; and wine and breast
cancer, the only other real classification sets scikit-learn ships.
``select_defaults.py`` chooses the defaults on the same six by leaving one
data set out, so that each choice is also scored on a data set it was not
made on:

=================  =====  =======  ==========  ===============================
data set           n      classes  X           origin
=================  =====  =======  ==========  ===============================
digits-image       1797   10       1 x 8 x 8   real (scikit-learn's digits)
shapes-image       900    6        1 x 12 x 12 generated (:func:`make_shapes`)
synthetic          2500   6        20          generated (make_classification)
breast-cancer      569    2        30          real (scikit-learn)
wine               178    3        13          real (scikit-learn)
iris               150    3        4           real (scikit-learn)
=================  =====  =======  ==========  ===============================

Every split is the benchmark's: stratified 70/30 by seed; tabular features
are standardised with a scaler fit on the training part, images are in
[0, 1]; the training labels are corrupted, the test labels stay clean.
Noise: IDN ``strategy="prediction"`` 40% on every data set; IDN
``"projection"`` 40%, symmetric 40% and pair 30% on digits-image,
breast-cancer, wine and iris (with two classes, pair noise is symmetric
noise). Seeds 0-1 on the three larger data sets, 0-2 on the others. Every
method runs with its defaults, and cleanlab's ``CleanLearning`` as the
reference. A fit records the clean test accuracy, the ROC-AUC of
``noise_scores_`` against the corruptor's ``noise_mask_`` and the fit
seconds. The tables show, per data set, methods against noise (mean ± std
over seeds); the summary counts the cells each method wins against CE and
against cleanlab.

Every finished fit is appended at once to ``results.csv`` in the output
folder (the benchmark command line's format, with the method's label
carrying any ``--set-params``); ``--resume`` skips the fits that file holds,
so an interrupted run continues where it stopped and a run with
``--set-params`` reuses the defaults' fits. ``select_defaults.py`` reads and
extends the same file.

Run (about 50 minutes on 2 otherwise idle cores: 5,600 CPU seconds of
fits, two thirds of them on digits-image; ``--quick``, about 2 minutes,
checks the machinery on three data sets cut to 300 samples)::

    OMP_NUM_THREADS=1 python benchmarks/bench_accuracy_suite.py [--quick] [--resume]
    # a grid setting through the same suite, next to the defaults:
    OMP_NUM_THREADS=1 python benchmarks/bench_accuracy_suite.py --resume \\
        --set-params "sln:sigma=0.5,optimizer=SGD,lr=0.05,optimizer__momentum=0.9"
"""

import argparse
import ast
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.model_selection import train_test_split

from sklearn_noisy.benchmark.interruption import (
    INTERRUPTED,
    Interrupted,
    output_lock,
    raise_interrupted,
    sigint_deferred,
    sigint_handled_by,
    stop_worker_processes,
)
from sklearn_noisy.benchmark.methods import METHODS, available_methods, make_method
from sklearn_noisy.benchmark.results import (
    NOISE_SHORT_NAMES,
    RESULTS_FILE,
    CellResult,
    append_results,
    cell_key,
    dropped_lines_message,
    format_clock,
    results_to_resume,
    summarise,
    write_summary,
)
from sklearn_noisy.benchmark.runner import fit_and_score, noisy_split

DEFAULT_OUTPUT = Path("benchmark-results") / "accuracy-suite"


# ----------------------------------------------------------------------
# data
# ----------------------------------------------------------------------
def make_shapes(n_samples=900, size=12, noise=0.25, random_state=0):
    """Noisy grey images of six shapes at random places, sizes and brightness.

    Classes: 0 disc, 1 ring, 2 square outline, 3 plus, 4 diagonal cross,
    5 triangle. Each image has one shape of radius 2.5-4 pixels placed inside
    the frame, brightness 0.5-1, plus Gaussian pixel noise of standard
    deviation ``noise``.

    Returns
    -------
    X : ndarray of shape (n_samples, 1, size, size), float32
    y : ndarray of shape (n_samples,)
    """
    rng = np.random.default_rng(random_state)
    y = rng.permutation(np.arange(n_samples) % 6)
    largest = 4.0
    radius = rng.uniform(2.5, largest, n_samples)[:, None, None]
    centre = rng.uniform(largest, size - 1 - largest, (n_samples, 2))
    rows, cols = np.mgrid[0:size, 0:size].astype(float)
    dy = rows[None] - centre[:, 0, None, None]
    dx = cols[None] - centre[:, 1, None, None]
    distance, box = np.hypot(dx, dy), np.maximum(np.abs(dx), np.abs(dy))
    thin = 0.6
    masks = (
        distance <= radius,
        np.abs(distance - radius) <= thin,
        (box <= radius) & (box >= radius - 2 * thin),
        (box <= radius) & (np.minimum(np.abs(dx), np.abs(dy)) <= thin),
        (box <= radius) & (np.abs(np.abs(dx) - np.abs(dy)) <= thin),
        (np.abs(dy) <= radius) & (np.abs(dx) <= (dy + radius) / 2),
    )
    shapes = np.choose(y[:, None, None], masks).astype(float)
    brightness = rng.uniform(0.5, 1.0, n_samples)[:, None, None]
    X = brightness * shapes + noise * rng.standard_normal(shapes.shape)
    return X[:, None].astype(np.float32), y


def _digits_image():
    X, y = load_digits(return_X_y=True)
    return (X / 16).reshape(-1, 1, 8, 8).astype(np.float32), y


def _synthetic():
    # flip_y=0: make_classification's default flips 1% of the labels, which
    # would leave noise in the clean test labels
    X, y = make_classification(n_samples=2500, n_features=20, n_informative=10,
                               n_redundant=4, n_classes=6, flip_y=0.0, random_state=0)
    return X, y


def _bundled(loader):
    return lambda: loader(return_X_y=True)


ALL_NOISES = ("idn", "idn-projection", "symmetric", "pair")


@dataclass(frozen=True)
class SuiteDataset:
    """One data set of the suite: how to load it and which cells it gets."""

    load: Callable  # () -> (X, y), tabular X not yet standardised
    image: bool
    real: bool
    seeds: tuple
    noises: tuple = ("idn",)


#: name -> SuiteDataset
DATASETS = {
    "digits-image": SuiteDataset(_digits_image, image=True, real=True, seeds=(0, 1),
                                 noises=ALL_NOISES),
    "shapes-image": SuiteDataset(make_shapes, image=True, real=False, seeds=(0, 1)),
    "synthetic": SuiteDataset(_synthetic, image=False, real=False, seeds=(0, 1)),
    "breast-cancer": SuiteDataset(_bundled(load_breast_cancer), image=False, real=True,
                                  seeds=(0, 1, 2), noises=ALL_NOISES),
    "wine": SuiteDataset(_bundled(load_wine), image=False, real=True, seeds=(0, 1, 2),
                         noises=ALL_NOISES),
    "iris": SuiteDataset(_bundled(load_iris), image=False, real=True, seeds=(0, 1, 2),
                         noises=ALL_NOISES),
}

#: noise type of the benchmark's runner -> the rate the suite applies
NOISE_RATES = {"idn": 0.4, "idn-projection": 0.4, "symmetric": 0.4, "pair": 0.3}

QUICK = {"datasets": ("digits-image", "breast-cancer", "wine"), "max_samples": 300,
         "noises": ("idn", "symmetric"), "seeds": (0,)}


def dataset_label(name, max_samples=None):
    """The data set's name in results.csv: ``name[n=N]`` when subsampled."""
    subsampled = max_samples is not None and max_samples < _size(name)
    return f"{name}[n={max_samples}]" if subsampled else name


_SIZES = {}


def _size(name):
    if name not in _SIZES:
        _SIZES[name] = len(DATASETS[name].load()[1])
    return _SIZES[name]


def load_suite_dataset(name, max_samples=None):
    """``(X, y)`` of data set ``name``, a stratified subsample of ``max_samples``."""
    X, y = DATASETS[name].load()
    if max_samples is not None and max_samples < len(y):
        X, _, y, _ = train_test_split(X, y, train_size=max_samples, stratify=y,
                                      random_state=0)
    return X, y


def suite_split(name, noise, seed, max_samples=None, device="cpu"):
    """The benchmark's 70/30 split with corrupted training labels.

    Tabular features are standardised on the training part before the
    corruptor sees them (IDN "prediction" trains a network on them).
    """
    X, y = load_suite_dataset(name, max_samples)
    return noisy_split(X, y, noise, NOISE_RATES[noise], seed, device,
                       standardise=not DATASETS[name].image)


def cell_means(cells, seeds, measure):
    """``(data set, noise, means)`` for each ``(data set, noise)`` cell: the
    mean over ``seeds`` of the numbers ``measure(split, seed)`` returns on
    the cell's split (for the benchmarks that look into single cells)."""
    for dataset, noise in cells:
        rows = [measure(suite_split(dataset, noise, seed), seed) for seed in seeds]
        yield dataset, noise, np.mean(rows, axis=0)


# ----------------------------------------------------------------------
# methods and their settings
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """A method with some parameters changed from its defaults.

    ``params`` holds ``(name, text)`` pairs sorted by name; the text is what
    the user wrote, parsed by :func:`parse_value` when the estimator is made.
    """

    method: str
    params: tuple = ()

    @property
    def label(self):
        """The method's name in tables and results.csv, e.g. ``SLN[sigma=0.5]``."""
        base = METHODS[self.method][0]
        if not self.params:
            return base
        return f"{base}[{','.join(f'{key}={text}' for key, text in self.params)}]"

    def make(self, random_state, device="cpu"):
        """A fresh estimator of the method with these parameters."""
        estimator = make_method(self.method, random_state, device)
        if self.params:
            estimator.set_params(**{key: parse_value(text) for key, text in self.params})
        return estimator


def parse_value(text):
    """A parameter value from the command line.

    A Python literal (``0.5``, ``None``, ``(128, 128)``, ``'dmi'``), a
    ``torch.optim`` optimizer by name (``SGD``, ``torch.optim.AdamW``), or
    else the text itself (``dmi``).
    """
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    name = text.removeprefix("torch.optim.")
    optimizer = getattr(torch.optim, name, None)
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        return optimizer
    return text


def parse_setting(spec):
    """``"method:param=value,param=value"`` as a :class:`Setting`.

    A comma separates two parameters only when a ``name=`` follows it, so
    values such as ``(128, 128)`` keep theirs. Raises ValueError on an
    unknown method, a malformed spec, or parameters the estimator rejects.
    """
    method, colon, rest = spec.partition(":")
    method = method.strip()
    if method not in METHODS:
        raise ValueError(f"{spec!r}: unknown method {method!r}; choose from "
                         f"{', '.join(METHODS)}.")
    if not colon or not rest.strip():
        raise ValueError(f"{spec!r}: write method:param=value[,param=value...].")
    params = {}
    for item in re.split(r",(?=\s*\w+\s*=)", rest):
        key, equals, text = item.partition("=")
        key, text = key.strip(), text.strip()
        if not (equals and key.isidentifier() and text):
            raise ValueError(f"{spec!r}: {item.strip()!r} is not param=value.")
        params[key] = text
    setting = Setting(method, tuple(sorted(params.items())))
    try:
        setting.make(0)._validate_params()
    except Exception as exc:  # set_params' ValueError, sklearn's InvalidParameterError
        raise ValueError(f"{spec!r}: {exc}") from None
    return setting


# ----------------------------------------------------------------------
# running the fits
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class Fit:
    """One method setting on one corrupted split: one row of results.csv."""

    dataset: str
    noise: str
    seed: int
    setting: Setting
    max_samples: int | None = None

    @property
    def key(self):
        """The fit's :func:`~sklearn_noisy.benchmark.results.cell_key`."""
        return (dataset_label(self.dataset, self.max_samples), self.noise,
                NOISE_RATES[self.noise], self.seed, self.setting.label)

    @property
    def split_key(self):
        return self.dataset, self.noise, self.seed, self.max_samples


def plan_fits(datasets, noises, seeds, settings, max_samples=None):
    """Every fit of the grid, in the order of ``DATASETS``.

    ``noises`` and ``seeds`` (None: each data set's own) restrict the data
    sets' cells; a noise a data set does not list is skipped.
    """
    fits = []
    for name in DATASETS:
        if name not in datasets:
            continue
        spec = DATASETS[name]
        for noise in spec.noises:
            if noises is not None and noise not in noises:
                continue
            for seed in spec.seeds if seeds is None else seeds:
                fits.extend(Fit(name, noise, seed, setting, max_samples)
                            for setting in settings)
    return fits


def training_epochs(setting):
    """Rough cost of a fit in epochs over the training part (for ordering the fits).

    SEAL trains ``n_iterations + 1`` networks and records their softmax
    every epoch (about 1.5 networks' work each), ConfusionEM two (the naive
    one and the main one), Flywheel two networks with augmented copies
    (about four networks' work), and cleanlab five cross-validation folds
    of four fifths plus the refit.
    """
    if setting.method == "cleanlab":
        return 5 * make_method("ce", 0).max_epochs
    estimator = setting.make(0)
    networks = {"seal": 1.5 * (getattr(estimator, "n_iterations", 0) + 1),
                "confusion-em": 2, "flywheel": 4}.get(setting.method, 1)
    return networks * estimator.max_epochs


def _costliest_first(fits):
    epochs = {setting: training_epochs(setting)
              for setting in dict.fromkeys(fit.setting for fit in fits)}

    def cost(fit):
        size = _size(fit.dataset) if fit.max_samples is None else fit.max_samples
        # a sample costs the small CNN about four times what it costs the MLP
        return epochs[fit.setting] * size * (4 if DATASETS[fit.dataset].image else 1)
    return sorted(fits, key=cost, reverse=True)


def _split_interruptibly(split_key, device):
    with sigint_handled_by(raise_interrupted):
        dataset, noise, seed, max_samples = split_key
        return split_key, suite_split(dataset, noise, seed, max_samples, device)


def _fit_interruptibly(fit, split, device):
    """The fit's CellResult, and the CPU seconds of its process (fit and scoring).

    The CPU seconds tell the fit's cost apart from time lost to other
    processes on a busy machine.
    """
    with sigint_handled_by(raise_interrupted):
        estimator = fit.setting.make(fit.seed, device)
        cpu_start = time.process_time()
        accuracy, auc, seconds = fit_and_score(estimator, split)
        cpu_seconds = time.process_time() - cpu_start
        dataset, noise, rate, seed, method = fit.key
        return CellResult(dataset, noise, rate, seed, method, accuracy, seconds, auc,
                          float(split.noise_mask.mean())), cpu_seconds


def run_fits(fits, results_path, n_jobs=-1, device="cpu", log=None):
    """Run ``fits``; append each result to ``results_path`` as soon as it is done.

    The corrupted splits are made first (in parallel: IDN "prediction"
    trains a network), then the fits run costliest first.

    Returns
    -------
    results : list of CellResult
        In the order the fits finished.
    """
    if not fits:
        return []
    log = log or sys.stderr
    start = time.perf_counter()
    split_keys = list(dict.fromkeys(fit.split_key for fit in fits))
    splits = dict(Parallel(n_jobs=n_jobs)(
        delayed(_split_interruptibly)(key, device) for key in split_keys))
    print(f"{len(splits)} corrupted splits made in "
          f"{format_clock(time.perf_counter() - start)}", file=log, flush=True)
    jobs = (delayed(_fit_interruptibly)(fit, splits[fit.split_key], device)
            for fit in _costliest_first(fits))
    results, cpu_total = [], 0.0
    for result, cpu_seconds in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs):
        with sigint_deferred():  # a signal cannot cut the line short
            append_results(results_path, [result])
        results.append(result)
        cpu_total += cpu_seconds
        print(f"[{len(results):>4}/{len(fits)} {format_clock(time.perf_counter() - start)}] "
              f"{result.dataset} {NOISE_SHORT_NAMES[result.noise]} seed {result.seed} "
              f"{result.method}: {100 * result.accuracy:.1f}% AUC "
              f"{result.detection_auc:.3f} (fit {result.fit_seconds:.1f} s, "
              f"CPU {cpu_seconds:.1f} s)", file=log, flush=True)
    print(f"{len(results)} fits: {sum(r.fit_seconds for r in results):.0f} s of fitting, "
          f"{cpu_total:.0f} CPU s; wall clock {format_clock(time.perf_counter() - start)}",
          file=log, flush=True)
    return results


def gather(fits, results_path, resume, n_jobs=-1, device="cpu", log=None):
    """The results of ``fits``: those in ``results_path`` (with ``resume``), the rest run.

    Returns
    -------
    results : list of CellResult
        In the order of ``fits``.
    n_reused : int
        How many of them came from ``results_path``.
    """
    log = log or sys.stderr
    old, dropped = results_to_resume(results_path) if resume else ([], [])
    if dropped:
        print(dropped_lines_message(results_path, dropped), file=log)
    done = {cell_key(result): result for result in old}
    todo = [fit for fit in fits if fit.key not in done]
    print(f"{len(fits) - len(todo)} of {len(fits)} fits already in {results_path}, "
          f"{len(todo)} to run", file=log, flush=True)
    for result in run_fits(todo, results_path, n_jobs, device, log):
        done[cell_key(result)] = result
    return [done[fit.key] for fit in fits], len(fits) - len(todo)


def gather_or_exit(fits, output, resume, n_jobs=-1, device="cpu", then="add --resume"):
    """:func:`gather` for a command line: one run per output folder at a time.

    Ctrl-C or SIGTERM stops the fits and the worker processes, says where
    the finished fits are and exits with 130 or 143; a second run into
    ``output`` while this one runs exits with an error.
    """
    results_path = output / RESULTS_FILE
    try:
        with output_lock(output), sigint_handled_by(raise_interrupted):
            return gather(fits, results_path, resume, n_jobs, device)
    except FileExistsError as exc:
        sys.exit(f"argument --output: {exc}")
    except (Interrupted, KeyboardInterrupt) as stop:
        stop_worker_processes()
        print(f"interrupted: the finished fits are in {results_path}; {then} to run "
              "the others.", file=sys.stderr)
        sys.exit(stop.exit_status if isinstance(stop, Interrupted) else INTERRUPTED)


# ----------------------------------------------------------------------
# tables
# ----------------------------------------------------------------------
def format_dataset_table(rows, dataset):
    """Methods x noise for one data set: accuracy mean ± std (%), AUC, fit s."""
    rows = [row for row in rows if row["dataset"] == dataset]
    noises = list(dict.fromkeys(row["noise"] for row in rows))
    methods = list(dict.fromkeys(row["method"] for row in rows))
    cell = {(row["method"], row["noise"]): row for row in rows}
    width = max(len("method"), *(len(method) for method in methods))
    seeds = sorted({row["n_seeds"] for row in rows})
    heads = [f"{NOISE_SHORT_NAMES[n]} {NOISE_RATES[n]:.0%}" for n in noises]
    lines = [f"== {dataset}: test accuracy % (mean ± std over seeds, "
             f"{'/'.join(map(str, seeds))} per cell), detection AUC, mean fit seconds ==",
             f"{'method':<{width}} " + " ".join(f"{head:^19}" for head in heads)
             + f" {'fit s':>7}"]
    for method in methods:
        entries, seconds = [], []
        for noise in noises:
            row = cell.get((method, noise))
            if row is None:
                entries.append(f"{'-':^19}")
                continue
            seconds.append(row["fit_seconds"])
            # one seed has no spread to show
            spread = (f"± {100 * row['accuracy_std']:4.1f}" if row["n_seeds"] > 1
                      else " " * 6)
            text = f"{100 * row['accuracy_mean']:5.1f} {spread} {_auc(row['detection_auc'])}"
            entries.append(f"{text:^19}")
        lines.append(f"{method:<{width}} " + " ".join(entries)
                     + f" {np.mean(seconds):>7.1f}")
    return "\n".join(lines)


def _auc(value):
    return f"{value:.2f}" if np.isfinite(value) else "  - "


def format_wins(rows, references=("CE", "cleanlab")):
    """Per method: in how many (data set, noise) cells it beats each reference."""
    accuracy = {(r["dataset"], r["noise"], r["method"]): r["accuracy_mean"] for r in rows}
    auc = {(r["dataset"], r["noise"], r["method"]): r["detection_auc"] for r in rows}
    methods = [method for method in dict.fromkeys(r["method"] for r in rows)
               if method not in references]
    if not methods:
        return ""
    width = max(len("method"), *(len(method) for method in methods))
    lines = ["== wins (mean accuracy over seeds; ties within 0.5 points count as neither) ==",
             f"{'method':<{width}} " + " ".join(
                 f"{'vs ' + ref + ' W-T-L (mean Δ)':>28}" for ref in references)
             + f" {'AUC vs cleanlab W-L':>20}"]
    for method in methods:
        entries = []
        for reference in references:
            deltas = [100 * (value - accuracy[d, n, reference])
                      for (d, n, m), value in accuracy.items()
                      if m == method and (d, n, reference) in accuracy]
            if not deltas:
                entries.append(f"{'-':>28}")
                continue
            deltas = np.array(deltas)
            wins, losses = int((deltas > 0.5).sum()), int((deltas < -0.5).sum())
            entries.append(f"{wins:>3}-{len(deltas) - wins - losses}-{losses} of "
                           f"{len(deltas):<3} ({deltas.mean():+5.1f} pts)".rjust(28))
        pairs = [(value, auc[d, n, "cleanlab"]) for (d, n, m), value in auc.items()
                 if m == method and (d, n, "cleanlab") in auc
                 and np.isfinite(value) and np.isfinite(auc[d, n, "cleanlab"])]
        auc_entry = (f"{sum(a > b for a, b in pairs)}-{sum(a < b for a, b in pairs)} of "
                     f"{len(pairs)}" if pairs else "-")
        lines.append(f"{method:<{width}} " + " ".join(entries) + f" {auc_entry:>20}")
    return "\n".join(lines)


def report(results, output, log=None):
    """Print one table per data set and the wins; write summary.json."""
    log = log or sys.stdout
    rows = summarise(results, by=("dataset", "noise", "method"))
    for dataset in dict.fromkeys(row["dataset"] for row in rows):
        print(format_dataset_table(rows, dataset), file=log)
        print(file=log)
    wins = format_wins(rows)
    if wins:
        print(wins, file=log)
    write_summary(output, rows)
    return rows


# ----------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------
def add_data_arguments(parser):
    """The options the suite shares with ``select_defaults.py``: which cells, where."""
    parser.add_argument("--quick", action="store_true",
                        help=f"data sets {', '.join(QUICK['datasets'])}, subsampled to "
                             f"{QUICK['max_samples']} samples, noises "
                             f"{', '.join(QUICK['noises'])}, seed 0 (a few minutes)")
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=None,
                        help="a subset of the data sets (default: all)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="seeds (default: each data set's, 0-1 or 0-2)")
    parser.add_argument("--max-samples", type=int, default=None,
                        help="stratified subsample of every data set (its name in "
                             "results.csv becomes name[n=N])")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"folder of {RESULTS_FILE} and summary.json "
                             f"(default: {DEFAULT_OUTPUT})")
    parser.add_argument("--n-jobs", type=int, default=-1,
                        help="fits in parallel processes (default: one per CPU core)")
    parser.add_argument("--device", default="cpu")
    return parser


def check_data_arguments(parser, args):
    """Apply ``--quick``; check the numbers and the output folder."""
    if args.quick:
        for key, value in QUICK.items():
            if getattr(args, key, None) is None:
                setattr(args, key, value)
    args.datasets = tuple(args.datasets or DATASETS)
    if args.seeds is not None and any(seed < 0 for seed in args.seeds):
        parser.error("argument --seeds: give seeds >= 0.")
    if args.max_samples is not None and args.max_samples < 50:
        parser.error("argument --max-samples: give 50 or more.")
    if args.n_jobs == 0:
        parser.error("argument --n-jobs: 0 processes run nothing.")
    if args.output.exists() and not args.output.is_dir():
        parser.error(f"argument --output: {args.output} is a file; give a folder.")


def main(argv=None):
    parser = add_data_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--noises", nargs="+", choices=list(NOISE_RATES), default=None,
                        help="a subset of the noise types (default: each data set's)")
    parser.add_argument("--resume", action="store_true",
                        help=f"reuse the fits already in the output folder's {RESULTS_FILE}")
    parser.add_argument("--methods", nargs="*", default=available_methods(),
                        choices=list(METHODS),
                        help="methods run with their defaults (default: all); give "
                             "--methods with no name to run only --set-params settings")
    parser.add_argument("--set-params", action="append", default=[], metavar="SPEC",
                        help="a method setting to run too, as "
                             "method:param=value[,param=value...], e.g. "
                             "'seal:n_iterations=5' or 'sln:sigma=0.5,optimizer=SGD,"
                             "lr=0.05,optimizer__momentum=0.9'; repeat for more")
    args = parser.parse_args(argv)
    check_data_arguments(parser, args)
    settings = [Setting(name) for name in dict.fromkeys(args.methods)]
    for spec in args.set_params:
        try:
            settings.append(parse_setting(spec))
        except ValueError as exc:
            parser.error(f"argument --set-params: {exc}")
    settings = list(dict.fromkeys(settings))
    if not settings:
        parser.error("no methods: give --methods or --set-params.")
    results_path = args.output / RESULTS_FILE
    if not args.resume and results_path.exists() and results_path.stat().st_size > 0:
        parser.error(f"argument --output: {args.output} already holds results "
                     f"({results_path}). Add --resume to reuse them, or give another "
                     "--output folder.")
    args.output.mkdir(parents=True, exist_ok=True)
    fits = plan_fits(args.datasets, args.noises, args.seeds, settings, args.max_samples)
    start = time.perf_counter()
    results, n_before = gather_or_exit(fits, args.output, args.resume, args.n_jobs,
                                       args.device)
    print(f"suite: {len(fits)} fits ({n_before} of them from earlier runs), "
          f"{format_clock(time.perf_counter() - start)} wall clock")
    report(results, args.output)
    print(f"results written to {args.output}/")
    return results


if __name__ == "__main__":
    main()
