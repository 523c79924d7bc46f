"""The benchmark outputs the docs quote are recorded, and the records are sound.

``docs/record_results.py`` lists the recorded commands; each one's output is
``docs/results/<name>.txt``, whose first line is ``$ <command>``, and the pages
show it with ``literalinclude``. No benchmark runs here.
"""

import ast
import importlib
import importlib.util
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from docs_modules import docs_module  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


RECORDS = docs_module("record_results").RECORDS
BY_NAME = {record.name: record for record in RECORDS}
RESULTS = DOCS / "results"

#: pages and the folder their relative include paths start from; CONTRIBUTING.rst
#: is read through docs/contributing.rst, so its paths start from docs/
PAGES = {page: page.parent for page in [*DOCS.glob("*.rst"), *DOCS.glob("user_guide/*.rst")]}
PAGES[ROOT / "CONTRIBUTING.rst"] = DOCS
INCLUDE = re.compile(r"^(?P<indent> *)\.\. literalinclude:: (?P<path>\S*results/\S+)\n"
                     r"(?P<options>(?:(?P=indent)   :[\w-]+:.*\n)*)", re.MULTILINE)
#: what a page may show of a record: nothing else changes the text shown
SHOWN_OPTIONS = {"language", "start-after", "start-at", "end-before", "end-at", "lines"}
#: benchmark bookkeeping that user docs never show
BOOKKEEPING = re.compile(r"\btarget\b|\bMISSED\b", re.IGNORECASE)


def includes():
    """``(page, line number, included file, options)`` of every include of a record."""
    found = []
    for page, base in PAGES.items():
        text = page.read_text(encoding="utf-8")
        for match in INCLUDE.finditer(text):
            path = match["path"]
            target = DOCS / path[1:] if path.startswith("/") else base / path
            options = dict(re.match(r"\s*:([\w-]+):\s*(.*)", line).groups()
                           for line in match["options"].splitlines())
            line = text.count("\n", 0, match.start()) + 1
            found.append((page.relative_to(ROOT), line, target.resolve(), options))
    return found


INCLUDES = includes()


def test_record_names_are_unique():
    assert len(BY_NAME) == len(RECORDS)


def test_every_result_file_has_a_record():
    orphans = sorted(path.stem for path in RESULTS.glob("*.txt") if path.stem not in BY_NAME)
    assert not orphans, f"docs/results/ files without a Record: {orphans}"


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.name)
def test_record_file_starts_with_its_command(record):
    path = ROOT / record.path
    assert path.is_file(), f"{record.path} is missing: run make docs-results RECORDS={record.name}"
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == f"$ {record.command}"


def _script(record):
    """``(path of the script or module file, its arguments)``."""
    if record.args[0] == "-m":
        module = ROOT / record.args[1].replace(".", "/")
        return (module / "__main__.py" if module.is_dir() else module.with_suffix(".py"),
                list(record.args[2:]))
    return ROOT / record.args[0], list(record.args[1:])


def _string_constants(path, seen=None):
    """The string literals of a benchmark script and of the scripts it imports."""
    seen = set() if seen is None else seen
    seen.add(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    strings = {node.value for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    for node in ast.walk(tree):
        names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module
                 else [alias.name for alias in node.names] if isinstance(node, ast.Import)
                 else [])
        for name in names:
            sibling = path.parent / f"{name}.py"
            if sibling.is_file() and sibling not in seen:
                strings |= _string_constants(sibling, seen)
    return strings


def _parts(path):
    """The keys of the script's module-level ``PARTS`` dict, or None."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
                and any(getattr(target, "id", None) == "PARTS" for target in node.targets)):
            return {key.value for key in node.value.keys}
    return None


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _setting(spec):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module("bench_accuracy_suite").parse_setting(spec)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.name)
def test_record_command_is_accepted_by_its_script(record):
    script, args = _script(record)
    assert script.is_file(), f"{record.name}: {script.relative_to(ROOT)} does not exist"
    if record.output is not None:
        assert str(record.output) in args, "the output folder is the command's --output"
    functions = {node.name for node in ast.parse(script.read_text(encoding="utf-8")).body
                 if isinstance(node, ast.FunctionDef)}
    if "build_parser" in functions:  # the script's own parser
        module = ".".join(script.relative_to(ROOT).with_suffix("").parts)
        parser = importlib.import_module(module).build_parser()
        try:
            parser.parse_args(args)
        except SystemExit:
            pytest.fail(f"{record.name}: {script.relative_to(ROOT)} refuses {' '.join(args)}")
        return
    # no parser to call without running the script: every option and value must
    # be one the script (or a script it imports) spells out
    strings = _string_constants(script)
    option = None
    for arg in args:
        if arg.startswith("--"):
            option = arg.split("=")[0]
            assert option in strings, f"{record.name}: {script.name} has no {option}"
        elif option == "--output" or _is_number(arg):
            continue
        elif option == "--settings":
            # METHOD:param=value,...: a setting the suite can make an estimator of
            _setting(arg).make(random_state=0)
        else:
            assert arg in strings, f"{record.name}: {script.name} knows no {option} {arg}"
    parts = _parts(script)
    if "--part" in args:
        # a PARTS dict of run_parts, or the parser's own choices
        known = strings if parts is None else {*parts, "all"}
        assert args[args.index("--part") + 1] in known, f"{record.name}: no such part"


@pytest.mark.parametrize("include", INCLUDES, ids=lambda include: f"{include[0]}:{include[1]}")
def test_docs_include_records(include):
    page, line, target, options = include
    where = f"{page}:{line}"
    assert target.is_file(), f"{where}: {target} does not exist"
    assert target.parent == RESULTS.resolve() and target.stem in BY_NAME, (
        f"{where}: {target.name} is not a record's file")
    assert options.get("language") == "none", f"{where}: give :language: none"
    assert set(options) <= SHOWN_OPTIONS, f"{where}: options {set(options) - SHOWN_OPTIONS}"
    shown = _shown_lines(target, options, where)
    assert shown, f"{where}: shows nothing of {target.name}"
    assert not BOOKKEEPING.search("".join(shown)), f"{where}: shows target bookkeeping"


def _shown_lines(path, options, where):
    """The lines Sphinx shows for ``options``, through its own start and end filters."""
    code = pytest.importorskip("sphinx.directives.code")
    reader = code.LiteralIncludeReader(path, options,
                                       SimpleNamespace(source_encoding="utf-8-sig"))
    lines = reader.read_file(path)
    try:
        lines = reader.end_filter(reader.start_filter(lines))
    except ValueError as exc:
        pytest.fail(f"{where}: {exc}")
    if "lines" in options:
        wanted = _line_numbers(options["lines"], len(lines))
        assert wanted and max(wanted) < len(lines), (
            f"{where}: :lines: {options['lines']} goes past the {len(lines)} lines selected")
        lines = [lines[index] for index in wanted]
    return lines


def _line_numbers(spec, total):
    """0-based indices of a ``:lines:`` spec such as ``1,3,5-7,9-``."""
    indices = []
    for part in spec.split(","):
        first, _, last = part.strip().partition("-")
        start = int(first) if first else 1
        end = (int(last) if last else total) if "-" in part else start
        indices.extend(range(start - 1, end))
    return indices


def test_the_docs_include_records():
    assert INCLUDES, "no page includes a record: is the INCLUDE pattern out of date?"
