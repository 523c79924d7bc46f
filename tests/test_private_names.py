"""Methods, callbacks, benchmarks and docs use only public names of other modules.

A method builds on the public extension points of :mod:`sklearn_noisy.base`
(``run_stage``, ``eval_proba``, ``held_out_noise_scores``, ``TrainingData``
fields), so the core can change its private parts without breaking them.
Checked on the source: no ``from module import _name`` of the package, no
import of a ``_``-prefixed module from outside the package, and no
``obj._name`` on anything but ``self``, ``cls`` or ``super()``.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sklearn_noisy"
OUTSIDE = [ROOT / "benchmarks", ROOT / "examples", ROOT / "docs"]

# scikit-learn's parameter validation, which its developer guide asks
# third-party estimators to extend: subclasses add to the base class's
# constraints, and a script checks a setting before it fits.
SKLEARN_DEVELOPER_API = {"_parameter_constraints", "_validate_params"}


def python_files():
    files = sorted(PACKAGE.rglob("*.py"))
    for folder in OUTSIDE:
        files += sorted(path for path in folder.rglob("*.py") if "_build" not in path.parts)
    return files


def is_private(name):
    return name.startswith("_") and not name.startswith("__")


def third_party_aliases(tree):
    """Names bound by imports of modules that are not the package's."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update((alias.asname or alias.name).split(".")[0] for alias in node.names
                           if not alias.name.startswith("sklearn_noisy"))
        elif isinstance(node, ast.ImportFrom) and not node.level and not (
                node.module or "").startswith("sklearn_noisy"):
            aliases.update(alias.asname or alias.name for alias in node.names)
    return aliases


def root_name(node):
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def private_uses(path):
    """(line, what) of every use of another module's private name in ``path``."""
    tree = ast.parse(path.read_text())
    inside = PACKAGE in path.parents
    foreign = third_party_aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (
                node.level or (node.module or "").startswith("sklearn_noisy")):
            module = node.module or ""
            if not inside and any(is_private(part) for part in module.split(".")):
                yield node.lineno, f"imports the private module {module}"
            for alias in node.names:
                if is_private(alias.name):
                    yield node.lineno, f"imports {alias.name} from {module or '.'}"
        elif isinstance(node, ast.Import) and not inside:
            for alias in node.names:
                if any(is_private(part) for part in alias.name.split(".")):
                    yield node.lineno, f"imports the private module {alias.name}"
        elif isinstance(node, ast.Attribute) and is_private(node.attr):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
                    and owner.func.id in ("super", "type")):
                continue
            if root_name(owner) in foreign or node.attr in SKLEARN_DEVELOPER_API:
                continue
            yield node.lineno, f"uses {ast.unparse(node)}"


@pytest.mark.parametrize("path", python_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_private_name_of_another_module(path):
    uses = [f"{path.relative_to(ROOT)}:{line}: {what}" for line, what in private_uses(path)]
    assert not uses, "\n".join(uses)


def test_the_check_finds_what_it_looks_for(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        "from sklearn_noisy._core import NoisyLabelClassifier\n"
        "from sklearn_noisy.datasets import _pillow\n"
        "import torch\n"
        "def hook(net, X):\n"
        "    torch._foreach_lerp_\n"
        "    return net._proba(X)\n")
    found = [what for _, what in private_uses(script)]
    assert found == ["imports the private module sklearn_noisy._core",
                     "imports _pillow from sklearn_noisy.datasets",
                     "uses net._proba"]
