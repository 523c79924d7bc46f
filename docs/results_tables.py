"""Tables and figures drawn at docs build time from the recorded benchmark runs.

``conf.py`` calls :func:`write_all` before Sphinx reads the pages; it writes
reStructuredText tables and PNG figures into ``docs/_generated/`` (not kept
in git), which the pages include. The numbers come only from the files the
recorded commands wrote (their ``summary.json``, see
``record_results.py``), so the text a page shows cannot drift from the run
it cites.
"""

import re
from pathlib import Path

import numpy as np

from sklearn_noisy.benchmark.results import NOISE_NAMES, read_summary

DOCS = Path(__file__).resolve().parent
RESULTS = DOCS / "results"
GENERATED = DOCS / "_generated"

#: package method label -> the short name of its page's files
METHOD_PAGES = {"SEAL": "seal", "SLN": "sln", "ConfusionEM": "confusion_em",
                "Flywheel": "flywheel"}


def list_table(header, rows, widths=None):
    """A ``list-table`` directive of ``header`` and ``rows`` (lists of text)."""
    lines = [".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {' '.join(map(str, widths))}")
    lines.append("")
    for row in [header, *rows]:
        first, *rest = row
        lines.append(f"   * - {first}")
        lines.extend(f"     - {cell}" for cell in rest)
    return "\n".join(lines) + "\n"


def _pct(value, std=None):
    if value is None or not np.isfinite(value):
        return "-"
    return f"{100 * value:.1f}" + ("" if std is None else f" ± {100 * std:.1f}")


def _auc(value):
    return "-" if value is None or not np.isfinite(value) else f"{value:.3f}"


# ----------------------------------------------------------------------
# the default benchmark run (digits, IDN 10-40%, seeds 0-4)
# ----------------------------------------------------------------------
def digits_method_table(rows, method):
    """CE, cleanlab and ``method`` at every rate of the default run."""
    cell = {(row["noise_rate"], row["method"]): row for row in rows}
    rates = sorted({row["noise_rate"] for row in rows})
    body = []
    for rate in rates:
        ce, own, ref = (cell.get((rate, name)) for name in ("CE", method, "cleanlab"))
        if own is None or ce is None:
            continue
        body.append([f"{rate:.0%}", _pct(ce["accuracy_mean"], ce["accuracy_std"]),
                     _pct(own["accuracy_mean"], own["accuracy_std"]),
                     _points(own["accuracy_mean"] - ce["accuracy_mean"]),
                     _pct(ref["accuracy_mean"]) if ref else "-",
                     _auc(own["detection_auc"]), _auc(ce["detection_auc"]),
                     f"{own['fit_seconds']:.1f} / {ce['fit_seconds']:.1f}"])
    header = ["IDN rate", "CE %", f"{method} %", "gain", "cleanlab %",
              f"{method} AUC", "CE AUC", f"fit s ({method} / CE)"]
    return list_table(header, body)


def digits_table(rows):
    """Every method at every rate of the default run: what the run prints."""
    methods = list(dict.fromkeys(row["method"] for row in rows))
    cell = {(row["noise_rate"], row["method"]): row for row in rows}
    body = [[f"{rate:.0%}", method,
             f"{100 * own['accuracy_mean']:.2f} ± {100 * own['accuracy_std']:.2f}",
             f"{own['fit_seconds']:.2f}", _auc(own["detection_auc"])]
            for rate in sorted({row["noise_rate"] for row in rows})
            for method in methods if (own := cell.get((rate, method))) is not None]
    return list_table(["IDN rate", "method", "accuracy % (mean ± std)", "fit s",
                       "detection AUC"], body)


# ----------------------------------------------------------------------
# the accuracy suite
# ----------------------------------------------------------------------
def suite_means(rows):
    """``(data set, noise, method) -> dict`` of the suite's ``summary.json`` rows.

    The dicts hold the means over seeds (``accuracy``, ``auc``, ``seconds``),
    the accuracy's ``std`` and the noise ``rate``.
    """
    return {(row["dataset"], row["noise"], row["method"]): {
        "accuracy": row["accuracy_mean"], "std": row["accuracy_std"],
        "auc": row["detection_auc"], "rate": row["noise_rate"],
        "seconds": row["fit_seconds"], "n_seeds": row["n_seeds"]} for row in rows}


def suite_method_table(means, datasets, method):
    """``method`` against CE and cleanlab at IDN 40% on every data set of the suite."""
    body = []
    gains = []
    for dataset in datasets:
        ce, own, ref = (means.get((dataset, "idn", name)) for name in ("CE", method, "cleanlab"))
        if ce is None or own is None:
            continue
        gains.append(own["accuracy"] - ce["accuracy"])
        body.append([dataset, _pct(ce["accuracy"]), _pct(ref["accuracy"]) if ref else "-",
                     _pct(own["accuracy"], own["std"]), _points(gains[-1]),
                     _auc(own["auc"])])
    body.append(["**mean**", _pct(np.mean([means[d, "idn", "CE"]["accuracy"]
                                           for d in datasets if (d, "idn", method) in means])),
                 "", "", f"**{_points(np.mean(gains))}**", ""])
    return list_table(["data set", "CE %", "cleanlab %", f"{method} %", "gain over CE",
                       f"{method} AUC"], body)


def suite_dataset_tables(means, datasets):
    """One table per data set: every method under every noise type, as the
    suite prints it (accuracy mean ± std over seeds, detection AUC, fit s)."""
    labels = noise_labels(means)
    methods = list(dict.fromkeys(method for (_, _, method) in means))
    parts = []
    for dataset in datasets:
        noises = [noise for noise in labels if (dataset, noise, "CE") in means]
        body = []
        for method in methods:
            cells = [means.get((dataset, noise, method)) for noise in noises]
            if all(cell is None for cell in cells):
                continue
            seconds = np.mean([cell["seconds"] for cell in cells if cell is not None])
            body.append([method, *(f"{_pct(cell['accuracy'], cell['std'])} ({_auc(cell['auc'])})"
                                   if cell else "-" for cell in cells), f"{seconds:.1f}"])
        n_seeds = max(means[dataset, noise, "CE"]["n_seeds"] for noise in noises)
        parts.append(f".. rubric:: {dataset} (accuracy % over {n_seeds} seeds, "
                     "detection AUC in brackets)\n\n"
                     + list_table(["method", *(labels[noise] for noise in noises),
                                   "fit s"], body))
    return "\n".join(parts)


def noise_labels(means):
    """Noise type -> its column label ("IDN 40%"), for the types ``means`` holds."""
    rates = {noise: cell["rate"] for (_, noise, _), cell in means.items()}
    return {noise: f"{name} {rates[noise]:.0%}" for noise, name in NOISE_NAMES.items()
            if noise in rates}


def suite_overview(means, datasets, methods):
    """Per method and noise type: mean gain over CE [worst data set], mean AUC [lowest].

    Also the median fit-time multiple of CE's, over every cell of the method.
    """
    labels = noise_labels(means)
    header = ["method", *labels.values(), "fit time / CE's"]
    gains_body, auc_body = [], []
    for method in methods:
        gain_cells, auc_cells, multiples = [], [], []
        for noise in labels:
            cells = [d for d in datasets if (d, noise, method) in means
                     and (d, noise, "CE") in means]
            gains = [means[d, noise, method]["accuracy"] - means[d, noise, "CE"]["accuracy"]
                     for d in cells]
            aucs = [means[d, noise, method]["auc"] for d in cells]
            multiples += time_multiples(means, datasets, noise, method)
            gain_cells.append(f"{_points(np.mean(gains))} [{_points(min(gains))}]"
                              if gains else "-")
            auc_cells.append(f"{np.nanmean(aucs):.2f} [{np.nanmin(aucs):.2f}]"
                             if aucs else "-")
        multiple = f"{np.median(multiples):.1f}" if multiples else "-"
        gains_body.append([method, *gain_cells, multiple])
        auc_body.append([method, *auc_cells, multiple])
    return list_table(header, gains_body), list_table(header, auc_body)


def _points(fraction):
    points = round(100 * fraction, 1)
    return f"{points + 0.0:+.1f}"  # + 0.0: no "-0.0"


def time_multiples(means, datasets, noise, method):
    """``method``'s fit seconds over CE's, per data set."""
    return [means[d, noise, method]["seconds"] / means[d, noise, "CE"]["seconds"]
            for d in datasets if (d, noise, method) in means and (d, noise, "CE") in means]


def plot_gain_against_time(means, datasets, methods, path):
    """Mean gain over CE against the median fit-time multiple, per method and noise."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    labels = noise_labels(means)
    markers = dict(zip(labels, "osD^"))
    colours = dict(zip(methods, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    figure, axis = plt.subplots(figsize=(7.5, 4.2))
    for noise in labels:
        for method in methods:
            gains = [means[d, noise, method]["accuracy"] - means[d, noise, "CE"]["accuracy"]
                     for d in datasets if (d, noise, method) in means]
            if gains:
                multiple = np.median(time_multiples(means, datasets, noise, method))
                axis.scatter(multiple, 100 * np.mean(gains), marker=markers[noise],
                             color=colours[method], s=55)
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.set_xscale("log")
    axis.set_xticks([1, 2, 3, 5, 10, 20, 50])
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}x"))
    axis.xaxis.set_minor_formatter(FuncFormatter(lambda value, _: ""))
    axis.set_xlim(left=1)
    axis.set(xlabel="fit time / cross-entropy's fit time (median over data sets)",
             ylabel="accuracy gain over cross-entropy\n(points, mean over data sets)")
    axis.grid(alpha=0.3, which="both")
    method_legend = axis.legend(
        handles=[Line2D([], [], marker="o", linestyle="", color=colours[m], label=m)
                 for m in methods],
        title="method", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    axis.add_artist(method_legend)
    axis.legend(handles=[Line2D([], [], marker=markers[n], linestyle="", color="grey",
                                label=label) for n, label in labels.items()],
                title="noise", fontsize="small", loc="lower left", bbox_to_anchor=(1.01, 0))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# ----------------------------------------------------------------------
# seconds per epoch on a GPU (benchmarks/bench_epoch_time.py)
# ----------------------------------------------------------------------
_EPOCH_ROW = re.compile(
    r"^(?P<method>[\w-]+) +(?P<network>.+?) +(?P<batch>\d+) +(?P<seconds>[\d.]+) +"
    r"(?P<images>\d+) +(?P<hours>[\d.]+) h +(?P<paper>.*)$")
_PAPER = re.compile(r"(?P<seconds>[\d.]+) \((?P<source>.*)\): (?P<times>[\d.]+)x faster here")


def epoch_time_table(text):
    """The rows of a ``bench_epoch_time.py`` output as a table, after its
    command and settings and before its explanation of the columns."""
    lines = text.splitlines()
    command = lines[0].removeprefix("$ ")
    settings = lines[1]
    rows = []
    for line in lines[3:]:
        match = _EPOCH_ROW.match(line)
        if not match:
            continue
        paper = _PAPER.match(match["paper"])
        rows.append([match["method"], match["network"], match["batch"], match["seconds"],
                     match["images"], f"{match['hours']} h",
                     f"{paper['seconds']} ({paper['source']})" if paper else "-",
                     f"{paper['times']}x" if paper else "-"])
    header = ["method", "network", "batch", "s/epoch", "images/s", "whole recipe",
              "the paper's s/epoch", "faster"]
    notes = [line for line in lines if line.startswith("s/epoch:")]
    return (f"Output of ``{command}`` ({settings}):\n\n" + list_table(header, rows)
            + "".join(f"\n{note}\n" for note in notes))


# ----------------------------------------------------------------------
def _write(folder, name, text):
    path = folder / name
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_all(folder=GENERATED):
    """Write every generated table and figure into ``folder``."""
    folder.mkdir(exist_ok=True)
    rows = read_summary(RESULTS / "digits-idn")
    for method, page in METHOD_PAGES.items():
        _write(folder, f"digits_idn_{page}.rst", digits_method_table(rows, method))
    _write(folder, "digits_idn.rst", digits_table(rows))

    suite = read_summary(RESULTS / "accuracy-suite")
    means = suite_means(suite)
    datasets = list(dict.fromkeys(row["dataset"] for row in suite))
    methods = list(METHOD_PAGES)
    for method, page in METHOD_PAGES.items():
        _write(folder, f"suite_{page}.rst", suite_method_table(means, datasets, method))
    gains, aucs = suite_overview(means, datasets, [*methods, "cleanlab"])
    _write(folder, "suite_datasets.rst", suite_dataset_tables(means, datasets))
    _write(folder, "suite_gains.rst", gains)
    _write(folder, "suite_aucs.rst", aucs)
    plot_gain_against_time(means, datasets, [*methods, "cleanlab"],
                           folder / "gain_against_fit_time.png")

    for name in ("epoch-time-cuda", "epoch-time-cuda-compiled"):
        text = (RESULTS / f"{name}.txt").read_text(encoding="utf-8")
        _write(folder, f"{name.replace('-', '_')}.rst", epoch_time_table(text))


if __name__ == "__main__":
    write_all()
