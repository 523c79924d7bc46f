"""Command line of the benchmark: ``python -m sklearn_noisy.benchmark``."""

import argparse
import csv
import json
import sys
from pathlib import Path

from .datasets import DATASETS
from .methods import METHODS, available_methods
from .runner import NOISE_TYPES, as_records, run_benchmark, summarise


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_noisy.benchmark",
        description="Compare noisy-label methods: corrupt the training labels, "
                    "fit each method, score it on clean test labels.",
    )
    parser.add_argument("--dataset", default="digits",
                        help=f"one of {', '.join(DATASETS)} (synthetic:N for N samples), "
                             "or the path of an MNIST/CIFAR folder (torchvision's on-disk "
                             "format) or an .npz file")
    parser.add_argument("--noise", default="idn", choices=NOISE_TYPES)
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.4])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--methods", nargs="+", default=available_methods(),
                        choices=list(METHODS),
                        help="default: all (cleanlab when it is installed)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="(rate, seed) cells run in parallel processes; default: one "
                             "per CPU core on the CPU (each fit then uses one thread, "
                             "which is faster for these small networks), 1 on a GPU")
    parser.add_argument("--quick", action="store_true",
                        help="two rates (0.2, 0.4) and one seed")
    parser.add_argument("--output", type=Path, default=Path("benchmark-results"),
                        help="folder for results.csv, summary.json and the figures")
    args = parser.parse_args(argv)
    if args.quick:
        args.rates, args.seeds = [0.2, 0.4], [0]
    if args.n_jobs is None:
        args.n_jobs = -1 if args.device == "cpu" else 1
    return args


def _progress_bar(total):
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is an optional extra
        return None, None
    bar = tqdm(total=total, desc="benchmark cells", file=sys.stderr)
    return bar, bar.update


def format_table(rows):
    """The results table as text."""
    width = max([len("method"), *(len(row["method"]) for row in rows)])
    lines = [f"{'noise':>6} {'method':<{width}} {'accuracy (mean ± std)':>22} "
             f"{'fit s':>7} {'detection AUC':>14}"]
    for row in rows:
        lines.append(
            f"{row['noise_rate']:>6.0%} {row['method']:<{width}} "
            f"{100 * row['accuracy_mean']:>14.2f} ± {100 * row['accuracy_std']:>5.2f} "
            f"{row['fit_seconds']:>7.2f} {row['detection_auc']:>14.3f}"
        )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    bar, progress = _progress_bar(len(args.rates) * len(args.seeds))
    results = run_benchmark(args.dataset, args.noise, args.rates, args.seeds,
                            args.methods, args.device, args.n_jobs, progress,
                            details=True)
    if bar is not None:
        bar.close()
    rows = summarise(results)
    print(f"dataset={args.dataset} noise={args.noise} seeds={args.seeds}")
    print(format_table(rows))
    args.output.mkdir(parents=True, exist_ok=True)
    records = as_records(results)
    with open(args.output / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    (args.output / "summary.json").write_text(json.dumps(rows, indent=2))
    _write_figures(results, rows, args.output)
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
