"""The benchmark's matplotlib figures (needs the optional matplotlib).

Every function takes the benchmark's results and a folder, writes one PNG
and returns its path, or None when the results hold nothing to draw.
"""

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; works without a display
    import matplotlib.pyplot as plt

    return plt


def _with_details(results):
    return [r for r in results if r.details is not None]


def plot_accuracy(rows, folder):
    """Clean test accuracy (mean ± std over seeds) against the noise rate."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 4))
    for method in dict.fromkeys(row["method"] for row in rows):
        own = [row for row in rows if row["method"] == method]
        rates = np.array([row["noise_rate"] for row in own])
        mean = 100 * np.array([row["accuracy_mean"] for row in own])
        std = 100 * np.array([row["accuracy_std"] for row in own])
        axis.errorbar(100 * rates, mean, yerr=std, marker="o", capsize=3, label=method)
    axis.set(xlabel="noise rate (%)", ylabel="clean test accuracy (%)",
             title="Accuracy against noise rate")
    axis.grid(alpha=0.3)
    axis.legend()
    return _save(plt, figure, folder, "accuracy_vs_noise_rate.png")


def plot_roc_curves(results, folder):
    """Detection ROC curves of every method's noise scores, one panel per rate."""
    results = _with_details(results)
    if not results:
        return None
    plt = _pyplot()
    rates = sorted({r.noise_rate for r in results})
    # At most two panels a row, so that the legends stay readable when the
    # figure is shown at the width of a page.
    columns = min(2, len(rates))
    rows = -(-len(rates) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 5 * rows),
                                squeeze=False)
    for axis in list(axes.flat)[len(rates):]:
        axis.set_visible(False)
    for axis, rate in zip(axes.flat, rates):
        for result in (r for r in results if r.noise_rate == rate):
            details = result.details
            if details.false_positive_rate is None:
                continue
            axis.plot(details.false_positive_rate, details.true_positive_rate,
                      label=f"{result.method} (AUC {result.detection_auc:.3f})")
        axis.plot([0, 1], [0, 1], color="grey", linestyle=":")
        axis.set(title=f"{rate:.0%} noise, seed {results[0].seed}",
                 xlabel="false positive rate", ylabel="true positive rate")
        axis.legend(loc="lower right")
    return _save(plt, figure, folder, "detection_roc.png")


def plot_seal_distances(results, folder):
    """SEAL's d(soft label, true label) per iteration, clean vs flipped samples.

    The histograms of the SEAL paper's Figure 5, at the highest noise rate:
    ``d = 1 - s[true class]``, the total variation distance between the
    averaged soft label and the one-hot true label.
    """
    results = [r for r in _with_details(results) if r.details.seal_distances]
    if not results:
        return None
    plt = _pyplot()
    result = max(results, key=lambda r: r.noise_rate)
    distances, mask = result.details.seal_distances, result.details.noise_mask
    columns = min(4, len(distances))
    rows = -(-len(distances) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows),
                                squeeze=False, sharex=True)
    bins = np.linspace(0, 1, 21)
    for iteration, (axis, d) in enumerate(zip(axes.flat, distances)):
        axis.hist(d[~mask], bins=bins, alpha=0.6, label="clean labels")
        axis.hist(d[mask], bins=bins, alpha=0.6, label="flipped labels")
        axis.set_title(f"iteration {iteration}", fontsize="small")
    for axis in list(axes.flat)[len(distances):]:
        axis.set_visible(False)
    axes.flat[0].legend(fontsize="small")
    figure.suptitle(f"SEAL: distance of soft labels to the true labels "
                    f"({result.noise_rate:.0%} noise, seed {result.seed})")
    figure.supxlabel("d = 1 - soft label[true class]")
    return _save(plt, figure, folder, "seal_soft_label_distances.png")


def plot_transition(results, folder):
    """Estimated against true transition matrix at the highest noise rate."""
    results = [r for r in _with_details(results) if r.details.transition_estimate is not None]
    if not results:
        return None
    plt = _pyplot()
    result = max(results, key=lambda r: r.noise_rate)
    details = result.details
    error = np.abs(details.transition_estimate - details.transition_truth).mean()
    figure, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    for axis, matrix, title in ((axes[0], details.transition_truth, "true flips"),
                                (axes[1], details.transition_estimate,
                                 f"{result.method} estimate (MAE {error:.3f})")):
        image = axis.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
        axis.set(title=title, xlabel="noisy label", ylabel="true class")
    figure.colorbar(image, ax=axes, shrink=0.8)
    figure.suptitle(f"Transition of the flipped samples ({result.noise_rate:.0%} noise, "
                    f"seed {result.seed})")
    return _save(plt, figure, folder, "transition_matrix.png")


def write_figures(results, rows, folder):
    """Every figure the results allow; returns the paths written."""
    paths = [plot_accuracy(rows, folder), plot_roc_curves(results, folder),
             plot_seal_distances(results, folder), plot_transition(results, folder)]
    return [path for path in paths if path is not None]


def _save(plt, figure, folder, name):
    path = Path(folder) / name
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path
