"""Every measured number in the prose of a user page comes from its source.

A figure in a sentence ("reaches 90.6%", "1.07 x the time") must be found,
as written or rounded (also as a percentage of a fraction), in the recorded
output of a benchmark the page shows (``literalinclude``) or names by its
command, or in a table generated from the records. Rerunning a record whose
numbers a page quotes makes this test name every sentence that no longer
agrees. Numbers that are not measurements of ours (a paper's figures,
arithmetic, versions, parameter values) are listed below with the reason.

The outputs of gallery examples that pages quote are checked by
``test_examples.py``.
"""

import os
import re
import sys
from pathlib import Path

import pytest

from sklearn_noisy.benchmark.results import read_results, summarise

sys.path.insert(0, os.path.dirname(__file__))
from docs_modules import docs_module  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


RECORDS = docs_module("record_results").RECORDS
USER_PAGES = sorted(
    path for path in [ROOT / "README.rst", *DOCS.glob("*.rst"), *DOCS.glob("user_guide/*.rst")]
    if path.name not in ("contributing.rst", "sg_execution_times.rst"))

#: page -> {number as written: why it is not one of our measurements}
NOT_MEASURED = {
    "README.rst": {"3.10": "the lowest supported Python version"},
    "user_guide/distributed.rst": {"1.16": "the accelerate version whose behaviour is described"},
    "install.rst": {"1.24": "a dependency's lowest version", "1.10": "the same",
                    "0.13": "the same"},
    "user_guide/ccn_test.rst": {
        "0.2212": "the SEAL paper's epsilon on Clothing1M",
        "21249.8": "arithmetic on the paper's epsilon (checked by test_hypothesis)",
        "0.221201": "the same arithmetic"},
    "user_guide/confusion_em.rst": {
        "1.67": "arithmetic: the mean class weight on the paper's Clothing1M table"},
    "user_guide/corruptors.rst": {
        "24.6": "arithmetic: the size of the authors' K x d x K tensor",
        "0.11": "arithmetic: 1/9, an even spread over nine classes",
        "0.36": "arithmetic: 0.4 x 0.9, the other convention's flip rate"},
    "user_guide/recipes.rst": {
        "1.18": "the SLN paper's Table 1", "1.24": "the SLN paper's Table 1",
        "57.11": "the LNL-flywheel paper's Table 7"},
    "user_guide/seal.rst": {"88.5": "the SEAL paper's MNIST figure",
                            "2.2": "arithmetic: one of 45 test samples"},
    "user_guide/flywheel.rst": {"2401.04390": "the paper's arXiv number",
                                "2.2": "arithmetic: one of 45 test samples"},
    "user_guide/large_data.rst": {"4.9": "arithmetic: 100,000 x 3 x 64 x 64 float32 values"},
    "user_guide/sln.rst": {
        "0.55": "arithmetic: the momentum model's weight after 10 updates",
        "0.999": "a parameter value (the momentum model's decay)",
        "0.001": "a parameter value",
        "0.9955": "arithmetic: the warm-up decay after 2,000 updates"},
}

#: page -> {number as written: (a, b)}: a difference of two recorded numbers
#: ("gains 4.5 points" over a table's 69.81 and 74.26); a and b must be in
#: the page's sources and their difference must round to the number.
DERIVED = {
    "benchmark.rst": {"1.2": ("92.93", "91.74"), "4.3": ("74.15", "69.81")},
    "user_guide/noisy_data.rst": {"0.2": ("0.799", "0.605")},
    "user_guide/seal.rst": {"0.5": ("88.7", "88.2"), "0.8": ("85.1", "84.3"),
                            "0.4": ("77.78", "77.41"), "1.6": ("74.40", "72.77")},
    "user_guide/flywheel.rst": {"0.5": ("84.9", "84.4")},
    "user_guide/sln.rst": {"1.2": ("83.15", "82.00"), "1.7": ("83.15", "81.41"),
                           "3.5": ("80.37", "76.85"), "1.9": ("87.63", "85.74"),
                           "2.5": ("82.89", "80.37")},
}

_NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
_BLOCK_START = re.compile(r"\s*\.\. (literalinclude|code-block|code|include|image|figure|"
                          r"csv-table|math)::")


def prose_numbers(text):
    """``(line number, number)`` of the decimals in ``text``'s prose: not in
    literal blocks, directives' content, inline code or math."""
    found, block_indent = [], None
    for number, line in enumerate(text.splitlines(), 1):
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                continue
            block_indent = None
        if line.rstrip().endswith("::") or _BLOCK_START.match(line):
            block_indent = indent
        line = re.sub(r"``[^`]*``|:math:`[^`]*`|`[^`]*<[^>]*>`_", "", line)
        found.extend((number, match) for match in _NUMBER.findall(line))
    return found


def sources_of(page, text, generated):
    """The recorded outputs ``page`` shows or names, and the tables generated
    from the recorded suites (any page may quote those)."""
    flat = re.sub(r"\s+", " ", text)
    sources = []
    for record in RECORDS:
        path = DOCS / "results" / f"{record.name}.txt"
        if not path.exists():
            continue
        output = path.read_text(encoding="utf-8")
        command = output.splitlines()[0].split("python ", 1)[-1].split("  (about")[0].strip()
        if f"results/{record.name}.txt" in text or (command and command in flat):
            sources.append(output)
    sources.extend(path.read_text(encoding="utf-8") for path in generated.glob("*.rst"))
    if "results.csv" in text:
        # "per data set in results.csv": the suite's means per cell, as written
        results, _ = read_results(DOCS / "results" / "accuracy-suite" / "results.csv")
        sources.extend(
            f"{row['dataset']} {row['noise']} {row['method']} {100 * row['accuracy_mean']:.1f}"
            for row in summarise(results, by=("dataset", "noise", "noise_rate", "method")))
    return "\n".join(sources)


def agrees(written, sources):
    """Whether ``written`` is in ``sources`` as it is, rounded, or as a
    percentage of a fraction there."""
    if re.search(rf"(?<![\w.]){re.escape(written)}(?![\d])", sources):
        return True
    decimals = len(written.split(".")[1])
    value = float(written)
    for match in _NUMBER.findall(sources):
        if len(match.split(".")[1]) < decimals:
            continue
        source = float(match)
        if round(source, decimals) == value or round(100 * source, decimals) == value:
            return True
    return False


def difference_agrees(written, pair, sources):
    a, b = pair
    decimals = len(written.split(".")[1])
    return (agrees(a, sources) and agrees(b, sources)
            and abs(abs(float(a) - float(b)) - float(written)) <= 0.5 * 10 ** -decimals + 1e-9)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    docs_module("results_tables").write_all(folder)
    return folder


@pytest.mark.parametrize("page", USER_PAGES, ids=[p.name for p in USER_PAGES])
def test_prose_numbers_come_from_the_records(page, generated):
    text = page.read_text(encoding="utf-8")
    key = str(page.relative_to(DOCS if page.is_relative_to(DOCS) else ROOT))
    allowed = NOT_MEASURED.get(key, {})
    sources = sources_of(page, text, generated)
    derived = DERIVED.get(key, {})
    unsourced = [f"line {line}: {number}" for line, number in prose_numbers(text)
                 if number not in allowed and not agrees(number, sources)
                 and not (number in derived and difference_agrees(number, derived[number],
                                                                  sources))]
    assert not unsourced, (
        f"{key} quotes numbers found in none of the records it shows or names "
        f"(rerun a record? then update the sentence): {unsourced}")


def test_the_check_finds_a_number_that_drifted(generated):
    page = DOCS / "design.rst"
    text = page.read_text(encoding="utf-8")
    sources = sources_of(page, text, generated)
    quoted = [number for _, number in prose_numbers(text) if agrees(number, sources)]
    assert quoted, "design.rst quotes recorded numbers"
    decimals = len(quoted[0].split(".")[1])
    # (a drift can land on another number of the records by chance: the
    # first of these drifts that does not is the one checked)
    drifts = [f"{float(quoted[0]) + offset:.{decimals}f}" for offset in (0.3, 0.7, 1.3)]
    assert any(not agrees(drifted, sources) for drifted in drifts)
