"""Benchmark results: one record per fit, kept in a CSV file, and their summaries.

The command line, the accuracy suite, the default selection and the docs'
tables all read and write results through this module: a run appends each
finished cell to ``results.csv`` at once (so an interrupted run keeps it), a
resumed run reads the file back and runs only the cells it lacks, and the
summaries group the records by any of their fields.
"""

import csv
import io
import json
import math
import os
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from .._validation import abbreviate
from .details import MethodDetails
from .interruption import sigint_deferred

RESULTS_FILE = "results.csv"
SUMMARY_FILE = "summary.json"

#: noise type -> how tables name it, and in narrow columns
NOISE_NAMES = {"idn": "IDN", "idn-projection": "IDN projection",
               "symmetric": "symmetric", "pair": "pair"}
NOISE_SHORT_NAMES = {"idn": "IDN-pred", "idn-projection": "IDN-proj",
                     "symmetric": "symm", "pair": "pair"}


@dataclass
class CellResult:
    """What one fit of one method on one (data set, noise, rate, seed) measured."""

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


#: the columns of :func:`as_records`, in order
RECORD_FIELDS = tuple(f.name for f in fields(CellResult) if f.name != "details")


def cell_key(result):
    """What identifies a cell in results.csv."""
    return (result.dataset, result.noise, result.noise_rate, result.seed, result.method)


def as_records(results):
    """Plain dicts, for CSV or JSON (without the figures' details)."""
    return [{key: value for key, value in asdict(result).items() if key != "details"}
            for result in results]


def from_records(records):
    """The :class:`CellResult` of each record (as read back from a CSV file).

    Raises ValueError when a record lacks a field or holds a value of the
    wrong type.
    """
    types = {f.name: f.type for f in fields(CellResult)}
    results = []
    for record in records:
        values = {}
        for name in RECORD_FIELDS:
            value = record.get(name)
            if value is None:
                raise ValueError(f"missing {name!r} in {record}.")
            values[name] = types[name](value) if types[name] in (int, float) else value
        results.append(CellResult(**values))
    return results


# ----------------------------------------------------------------------
# results.csv
# ----------------------------------------------------------------------
def read_results(path):
    """The results in ``path``, and the numbers of its unusable lines.

    A last line without its newline (a write cut short) and rows that do
    not parse are unusable; the cells they held run again. Line numbers
    count the header as line 1. Raises ValueError, naming the file, when
    its header is not the benchmark's.
    """
    if not path.exists():
        return [], []
    # utf-8-sig: a file saved by a spreadsheet program may start with a BOM
    text = path.read_text(encoding="utf-8-sig")
    if not text.strip():
        return [], []
    dropped = []
    if not text.endswith("\n"):
        text = text[:text.rfind("\n") + 1]
        dropped.append(text.count("\n") + 1)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if tuple(reader.fieldnames or ()) != RECORD_FIELDS:
        raise ValueError(f"{path} has the columns {', '.join(reader.fieldnames or ())} "
                         f"on line 1, not the benchmark's ({', '.join(RECORD_FIELDS)}).")
    results = []
    try:
        for row in reader:
            try:
                results.extend(from_records([row]))
            except (TypeError, ValueError):
                dropped.append(reader.line_num)
    except csv.Error as error:  # e.g. a field longer than csv's limit
        raise ValueError(f"{path}, line {reader.line_num}: {error}.") from None
    return results, sorted(dropped)


def results_to_resume(path):
    """The usable results of ``path``, which is rewritten without its unusable lines.

    Returns
    -------
    results : list of CellResult
    dropped : list of int
        The numbers of the lines left out (their cells run again).
    """
    results, dropped = read_results(path)
    if dropped:
        rewrite_results(path, results)
    return results, dropped


def dropped_lines_message(path, dropped):
    """What a resumed run says about the lines of ``path`` it left out."""
    return (f"{path}: left out line(s) {abbreviate(dropped)}, cut short or unreadable; "
            "their cells run again.")


def append_results(path, results):
    """Append ``results`` to the CSV file ``path`` and sync it to disk.

    The header goes first when the file is new or empty.
    """
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(_csv_text(results, header=new))
        handle.flush()
        os.fsync(handle.fileno())
    if new:
        _fsync_folder(path.parent)


def rewrite_results(path, results):
    """Replace ``path`` by a CSV file of ``results`` (atomically)."""
    partial = path.with_name(path.name + ".partial")
    with sigint_deferred():
        with open(partial, "w", encoding="utf-8", newline="") as handle:
            handle.write(_csv_text(results, header=True))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        _fsync_folder(path.parent)


def _csv_text(results, header):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RECORD_FIELDS, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(as_records(results))
    return buffer.getvalue()


def _fsync_folder(folder):
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # folders cannot be opened on Windows
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# ----------------------------------------------------------------------
# summaries
# ----------------------------------------------------------------------
def summarise(results, by=("noise_rate", "method")):
    """Mean and spread over seeds of the results that share the fields ``by``.

    Returns
    -------
    rows : list of dict
        One per group, in the order the groups first appear: the fields
        ``by`` (and ``noise_rate``), ``n_seeds``, ``accuracy_mean``,
        ``accuracy_std`` (over seeds, numpy's population std),
        ``detection_auc`` and ``fit_seconds`` (means).
    """
    groups = {}
    for result in results:
        groups.setdefault(tuple(getattr(result, name) for name in by), []).append(result)
    rows = []
    for key, group in groups.items():
        accuracy = np.array([r.accuracy for r in group])
        rows.append({
            **dict(zip(by, key)), "noise_rate": group[0].noise_rate,
            "n_seeds": len(group),
            "accuracy_mean": float(accuracy.mean()), "accuracy_std": float(accuracy.std()),
            "detection_auc": float(np.mean([r.detection_auc for r in group])),
            "fit_seconds": float(np.mean([r.fit_seconds for r in group])),
        })
    return rows


def format_table(rows):
    """Rows of :func:`summarise` by noise rate and method, as a text table."""
    width = max([len("method"), *(len(row["method"]) for row in rows)])
    lines = [f"{'noise':>6} {'method':<{width}} {'accuracy (mean ± std)':>22} "
             f"{'fit s':>7} {'detection AUC':>14}"]
    for row in rows:
        # One seed has no spread to show.
        spread = (f"± {100 * row['accuracy_std']:>5.2f}" if row.get("n_seeds", 2) > 1
                  else " " * 7)
        lines.append(
            f"{row['noise_rate']:>6.0%} {row['method']:<{width}} "
            f"{100 * row['accuracy_mean']:>14.2f} {spread} "
            f"{row['fit_seconds']:>7.2f} {row['detection_auc']:>14.3f}"
        )
    return "\n".join(lines)


def strict_json(value):
    """``value`` with NaN and infinities as None and numpy scalars as Python ones."""
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_summary(folder, rows):
    """Write the summary ``rows`` to ``folder/summary.json`` (strict JSON)."""
    (folder / SUMMARY_FILE).write_text(
        json.dumps(strict_json(rows), indent=2, allow_nan=False) + "\n")


def read_summary(folder):
    """The summary rows of ``folder/summary.json``; an undefined AUC is NaN."""
    rows = json.loads((folder / SUMMARY_FILE).read_text())
    for row in rows:
        if row.get("detection_auc") is None:
            row["detection_auc"] = float("nan")
    return rows


def format_clock(seconds):
    """A duration as ``"15 min 04 s"``."""
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"
