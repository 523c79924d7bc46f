"""Command line of the benchmark: ``python -m sklearn_noisy.benchmark``.

A cell is one method fit on one (noise rate, seed) split. Every argument is
checked, and the data set loaded, before the first fit; a wrong one is an
argparse error (exit status 2). Each finished split's cells are appended to
``results.csv`` in the output folder at once, so an interrupted run keeps
them, and ``--resume`` runs only the cells that file does not hold yet.
Ctrl-C (SIGINT) or SIGTERM stops the run, and its worker processes, with
exit status 130 or 143 and prints the command that resumes it. A second
run into the same output folder is refused while the first one runs.
"""

import argparse
import os
import shlex
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from .datasets import DATASETS, check_splittable, load_dataset
from .interruption import (
    Interrupted,
    output_lock,
    sigint_deferred,
    sigint_recorded,
    stop_worker_processes,
)
from .methods import METHODS, available_methods, method_class, method_label
from .results import (
    RESULTS_FILE,
    append_results,
    cell_key,
    dropped_lines_message,
    format_clock,
    format_table,
    read_results,
    rewrite_results,
    summarise,
    write_summary,
)
from .runner import NOISE_TYPES, run_cells

CONSOLE_SCRIPT = "sklearn-noisy-benchmark"


def build_parser():
    """The command line's argument parser (without the checks of :func:`check_args`)."""
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description="Compare noisy-label methods: corrupt the training labels, "
                    "fit each method, score it on clean test labels.",
    )
    parser.add_argument("--dataset", default="digits",
                        help=f"one of {', '.join(DATASETS)} (synthetic:N for N samples), "
                             "or the path of an MNIST/CIFAR folder (torchvision's on-disk "
                             "format) or an .npz file")
    parser.add_argument("--noise", default="idn", choices=NOISE_TYPES)
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4],
                        help="noise rates in [0, 1)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                        help="seeds >= 0 of the split, the corruptor and the methods")
    parser.add_argument("--methods", nargs="+", default=available_methods(),
                        help=f"{', '.join(METHODS)}, or module:Class for a scikit-learn "
                             "classifier of your own (its noise_scores_ give the "
                             "detection AUC when it has them); default: all "
                             "(cleanlab when it is installed)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="(rate, seed) splits run in parallel processes; default: one "
                             "per CPU core on the CPU (each fit then uses one thread, "
                             "which is faster for these small networks), 1 on a GPU")
    parser.add_argument("--quick", action="store_true",
                        help="two rates (0.2, 0.4) and one seed")
    parser.add_argument("--output", type=Path, default=Path("benchmark-results"),
                        help="folder for results.csv, summary.json and the figures; "
                             "results.csv grows cell by cell during the run")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run: skip the cells (dataset, "
                             "noise, rate, seed, method) already in the output folder's "
                             "results.csv; the table covers old and new cells")
    return parser


def parse_args(argv=None):
    """The arguments, checked by :func:`check_args` (argparse errors exit with 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    return args


def check_args(parser, args):
    """Check what can be checked without the data; fill in the defaults.

    ``--quick`` replaces the rates and seeds, ``--n-jobs`` gets its default,
    repeated rates, seeds and methods count once. Calls ``parser.error``
    (exit status 2) on a noise rate outside [0, 1), a negative seed, a
    method whose package is missing, ``--n-jobs 0``, a device torch does not
    have, an ``--output`` that is a file, or an output folder that already
    holds results when ``--resume`` is not given.
    """
    if args.quick:
        args.rates, args.seeds = [0.2, 0.4], [0]
    for rate in args.rates:
        if not 0 <= rate < 1:  # NaN fails too
            parser.error(f"argument --rates: {rate:g} is not a noise rate in [0, 1).")
    for seed in args.seeds:
        if not 0 <= seed < 2**32:
            parser.error(f"argument --seeds: {seed} is not a seed; give integers from 0 "
                         f"to {2**32 - 1}.")
    args.rates = list(dict.fromkeys(args.rates))
    args.seeds = list(dict.fromkeys(args.seeds))
    args.methods = list(dict.fromkeys(args.methods))
    for name in args.methods:
        if name not in METHODS:
            try:
                method_class(name)
            except ValueError as exc:
                parser.error(f"argument --methods: {exc}")
    missing = [name for name in args.methods
               if name in METHODS and name not in available_methods()]
    if missing:
        parser.error(f"argument --methods: {', '.join(missing)} needs the cleanlab "
                     "package (pip install 'sklearn_noisy[benchmark]').")
    if args.n_jobs == 0:
        parser.error("argument --n-jobs: 0 processes run nothing; give a number of "
                     "processes, or -1 for one per CPU core.")
    if args.n_jobs is None:
        args.n_jobs = -1 if args.device == "cpu" else 1
    _check_device(parser, args.device)
    output = args.output
    if output.exists() and not output.is_dir():
        parser.error(f"argument --output: {output} is a file; give a folder.")
    results = output / RESULTS_FILE
    if not args.resume and results.exists() and results.stat().st_size > 0:
        parser.error(f"argument --output: {output} already holds the results of a run "
                     f"({results}). Add --resume to continue that run, or give another "
                     "--output folder.")


def _check_device(parser, device):
    from .._validation import check_device

    try:
        check_device(device)
    except (ValueError, RuntimeError) as exc:
        parser.error(f"argument --device: {exc}")


def load_checked_dataset(parser, name):
    """``load_dataset(name)``; ``parser.error`` when it cannot be read or split."""
    try:
        X, y = load_dataset(name)
    except ValueError as exc:
        parser.error(f"argument --dataset: {exc}")
    except Exception as exc:  # unreadable files fail in many ways (OSError, pickle, ...)
        parser.error(f"argument --dataset: cannot read {name!r}: "
                     f"{type(exc).__name__}: {exc}")
    try:
        check_splittable(y)
    except ValueError as exc:
        parser.error(f"argument --dataset: {name!r}: {exc}")
    return X, y


# ----------------------------------------------------------------------
# output
# ----------------------------------------------------------------------
def _progress_bar(total):
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is an optional extra
        return None, None
    bar = tqdm(total=total, desc="benchmark cells", file=sys.stderr)
    return bar, bar.update


def resume_command(argv):
    """The command line that resumes a run started with ``argv``."""
    argv = [*argv, *([] if "--resume" in argv else ["--resume"])]
    return shlex.join([sys.executable, "-m", "sklearn_noisy.benchmark", *argv])


def _prepare_output(parser, args):
    """Create the output folder; returns the folders it created (deepest first)."""
    created = [folder for folder in (args.output, *args.output.parents)
               if not folder.exists()]
    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"argument --output: cannot create the folder {args.output}: "
                     f"{exc.strerror or exc}.")
    if not os.access(args.output, os.W_OK | os.X_OK):
        parser.error(f"argument --output: cannot write into {args.output}.")
    return created


def program_name():
    """How the user started the benchmark: the console script or ``python -m``."""
    if Path(sys.argv[0]).name == CONSOLE_SCRIPT:
        return CONSOLE_SCRIPT
    return "python -m sklearn_noisy.benchmark"


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    created = _prepare_output(parser, args)
    try:
        X, y = load_checked_dataset(parser, args.dataset)
    except SystemExit:
        for folder in created:  # leave no empty folders behind
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    with ExitStack() as stack:
        try:
            stack.enter_context(output_lock(args.output))
        except FileExistsError as exc:
            parser.error(f"argument --output: {exc}")
        _run(parser, args, argv, X, y)


def _run(parser, args, argv, X, y):
    """Read what a resumed run keeps, run the other cells, report."""
    results_path = args.output / RESULTS_FILE
    try:
        old, dropped = read_results(results_path) if args.resume else ([], [])
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        parser.error(f"argument --resume: cannot continue from {results_path}: {exc} "
                     "Give another --output folder.")

    labels = [method_label(name) for name in args.methods]
    grid = {(args.dataset, args.noise, rate, seed, label): index for index, (rate, seed, label)
            in enumerate((r, s, m) for r in args.rates for s in args.seeds for m in labels)}
    done = {cell_key(result): result for result in old if cell_key(result) in grid}
    cells = []
    for rate in args.rates:
        for seed in args.seeds:
            todo = [name for name, label in zip(args.methods, labels)
                    if (args.dataset, args.noise, rate, seed, label) not in done]
            if todo:
                cells.append((rate, seed, todo))
    n_todo = len(grid) - len(done)
    if args.resume:
        print(f"resuming: {len(done)} of {len(grid)} cells already in {results_path}, "
              f"{n_todo} to run")

    keep_details = {(rate, args.seeds[0]) for rate in args.rates}
    start = time.perf_counter()
    new = []
    interrupted = []
    try:
        with sigint_recorded(interrupted):
            if dropped:
                rewrite_results(results_path, old)
                print(dropped_lines_message(results_path, dropped), file=sys.stderr)
            bar, progress = _progress_bar(n_todo) if n_todo else (None, None)
            try:
                for cell_results in run_cells(args.dataset, X, y, args.noise, cells,
                                              args.device, args.n_jobs, keep_details):
                    with sigint_deferred(interrupted):  # Ctrl-C cannot cut a cell's rows
                        append_results(results_path, cell_results)
                        new.extend(cell_results)
                        if progress is not None:
                            progress(len(cell_results))
            finally:
                if bar is not None:
                    bar.close()
            results = sorted([*done.values(), *new], key=lambda r: grid[cell_key(r)])
            elapsed = format_clock(time.perf_counter() - start)
            print(f"{len(new)} cell{'s' * (len(new) != 1)} run in {elapsed}")
            _report(args, results, n_without_details=sum(
                (args.dataset, args.noise, rate, seed, label) in done
                for rate, seed in keep_details for label in labels))
    except Exception as exc:
        # Ctrl-C on a terminal reaches the worker processes too; what reaches
        # this process first may be a worker's failure rather than the signal.
        if not interrupted:
            raise
        _interrupted(argv, results_path, len(done) + len(new), len(grid),
                     Interrupted(interrupted[-1]), exc)
    except Interrupted as stop:
        _interrupted(argv, results_path, len(done) + len(new), len(grid), stop)
    except KeyboardInterrupt:
        _interrupted(argv, results_path, len(done) + len(new), len(grid), Interrupted())


def _interrupted(argv, results_path, n_done, n_cells, stop, error=None):
    stop_worker_processes()
    if error is not None:
        print(f"({type(error).__name__} after the signal: {error})", file=sys.stderr)
    print(f"interrupted: {n_done} of {n_cells} cells are in {results_path}. "
          f"To run the others:\n  {resume_command(argv)}", file=sys.stderr)
    sys.exit(stop.exit_status)


def _report(args, results, n_without_details=0):
    """Print the table; write summary.json and the figures."""
    methods = list(dict.fromkeys(result.method for result in results))
    rows = sorted(summarise(results, by=("noise_rate", "method")),
                  key=lambda row: (row["noise_rate"], methods.index(row["method"])))
    print(f"dataset={args.dataset} noise={args.noise} seeds={args.seeds}")
    print(format_table(rows))
    write_summary(args.output, rows)
    _write_figures(results, rows, args.output)
    if n_without_details:
        print(f"note: the ROC, SEAL and transition figures draw the seed {args.seeds[0]} "
              f"cells of this run only; {n_without_details} of them ran before "
              "--resume and are left out.", file=sys.stderr)
    print(f"results written to {args.output}/")


def _write_figures(results, rows, folder):
    try:
        from .figures import write_figures
        paths = write_figures(results, rows, folder)
    except ImportError:  # matplotlib is an optional extra
        print("matplotlib is not installed: no figures (pip install "
              "'sklearn_noisy[benchmark]').", file=sys.stderr)
        return
    for path in paths:
        print(f"figure: {path}")


if __name__ == "__main__":
    main()
