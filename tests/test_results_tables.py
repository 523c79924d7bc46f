"""The docs' generated tables say what the recorded runs hold.

``docs/results_tables.py`` draws the method pages' and the choosing page's
tables from ``docs/results/``; these tests recompute a few cells from the
recorded rows and compare them with what the tables print.
"""

import os
import re
import sys

import numpy as np
import pytest

from sklearn_noisy.benchmark.results import read_results, read_summary

sys.path.insert(0, os.path.dirname(__file__))
from docs_modules import docs_module  # noqa: E402

results_tables = docs_module("results_tables")


def rows_of(table):
    """The rows of a ``list-table`` directive, as lists of cell texts."""
    rows, row = [], None
    for line in table.splitlines():
        if line.startswith("   * - "):
            row = [line[len("   * - "):]]
            rows.append(row)
        elif line.startswith("     - "):
            row.append(line[len("     - "):])
    return rows


@pytest.fixture(scope="module")
def suite():
    """The suite's fits as recorded, one row per fit."""
    results, dropped = read_results(results_tables.RESULTS / "accuracy-suite" / "results.csv")
    assert dropped == []
    return results


@pytest.fixture(scope="module")
def means():
    return results_tables.suite_means(read_summary(results_tables.RESULTS / "accuracy-suite"))


def test_digits_table_holds_the_default_runs_rows():
    summary = read_summary(results_tables.RESULTS / "digits-idn")
    header, *body = rows_of(results_tables.digits_method_table(summary, "SEAL"))
    assert header[:3] == ["IDN rate", "CE %", "SEAL %"]
    assert [row[0] for row in body] == ["10%", "20%", "30%", "40%"]
    cell = {(r["noise_rate"], r["method"]): r for r in summary}
    for row in body:
        rate = int(row[0].rstrip("%")) / 100
        seal, ce = cell[rate, "SEAL"], cell[rate, "CE"]
        assert row[2] == f"{100 * seal['accuracy_mean']:.1f} ± {100 * seal['accuracy_std']:.1f}"
        gain = float(row[3])
        assert gain == pytest.approx(100 * (seal["accuracy_mean"] - ce["accuracy_mean"]), abs=0.051)


def test_the_full_digits_table_is_the_runs_text_as_a_table():
    summary = read_summary(results_tables.RESULTS / "digits-idn")
    header, *body = rows_of(results_tables.digits_table(summary))
    assert header == ["IDN rate", "method", "accuracy % (mean ± std)", "fit s",
                      "detection AUC"]
    assert len(body) == len(summary) == 24
    # the recorded text prints the same cells, in the same order
    text = (results_tables.RESULTS / "digits-idn.txt").read_text(encoding="utf-8")
    printed = [line.split() for line in text.splitlines() if line[:6].strip().endswith("%")]
    assert [[rate, method, f"{mean} ± {std}", seconds, auc]
            for rate, method, mean, _, std, seconds, auc in printed] == body


def test_the_suites_tables_per_data_set_hold_every_cell(suite, means):
    datasets = list(dict.fromkeys(r.dataset for r in suite))
    text = results_tables.suite_dataset_tables(means, datasets)
    assert text.count(".. rubric::") == len(datasets)
    wine = text[text.index(".. rubric:: wine"):].split(".. rubric::")[1]
    header, *body = rows_of(wine)
    assert header[0] == "method" and header[-1] == "fit s"
    ce = dict(zip(header, body[0]))
    cell = means["wine", "symmetric", "CE"]
    assert body[0][0] == "CE" and ce["symmetric 40%"] == (
        f"{100 * cell['accuracy']:.1f} ± {100 * cell['std']:.1f} ({cell['auc']:.3f})")


def test_suite_gains_are_method_minus_cross_entropy(suite, means):
    datasets = list(dict.fromkeys(r.dataset for r in suite))
    header, *body = rows_of(results_tables.suite_method_table(means, datasets, "Flywheel"))
    assert header[0] == "data set" and body[-1][0] == "**mean**"
    gains = []
    for row in body[:-1]:
        runs = {m: [r.accuracy for r in suite if (r.dataset, r.noise, r.method)
                    == (row[0], "idn", m)] for m in ("CE", "Flywheel")}
        assert len(runs["Flywheel"]) == len(runs["CE"]) >= 2  # seeds
        gains.append(100 * (np.mean(runs["Flywheel"]) - np.mean(runs["CE"])))
        assert float(row[4]) == pytest.approx(gains[-1], abs=0.051)
    assert float(body[-1][4].strip("*")) == pytest.approx(np.mean(gains), abs=0.051)


def test_overview_brackets_hold_the_worst_data_set(suite, means):
    datasets = list(dict.fromkeys(r.dataset for r in suite))
    gains_table, _ = results_tables.suite_overview(means, datasets, ["SEAL"])
    (seal,) = rows_of(gains_table)[1:]
    mean, worst = map(float, re.fullmatch(r"([+-][\d.]+) \[([+-][\d.]+)\]", seal[1]).groups())
    idn = [means[d, "idn", "SEAL"]["accuracy"] - means[d, "idn", "CE"]["accuracy"]
           for d in datasets]
    assert mean == pytest.approx(100 * np.mean(idn), abs=0.051)
    assert worst == pytest.approx(100 * min(idn), abs=0.051)
