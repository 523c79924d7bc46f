"""The API reference (docs/api.rst) documents every public name and method.

Every name of ``sklearn_noisy.__all__``, every name the gallery examples import
from the package, and every public method of the public classes must be
documented there, so that a user never meets an undocumented name.
"""

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import sklearn_noisy

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = (ROOT / "docs" / "api.rst").read_text()
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

# The methods of scikit-learn's and imbalanced-learn's estimator API. A public
# class of the package that has one of them documents it.
ESTIMATOR_API = ("fit", "fit_resample", "predict", "predict_proba", "predict_log_proba",
                 "decision_function", "transform", "fit_transform", "score",
                 "get_params", "set_params")

DIRECTIVE = re.compile(
    r"^\.\. (autoclass|autofunction|automodule|py:class|py:function):: "
    r"([\w.]+)[^\n]*\n((?:[ \t]+\S[^\n]*\n)*)",
    flags=re.MULTILINE)


def resolve(path):
    """The object that the dotted ``path`` names."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(path)


def directives():
    """(kind, dotted path, list of :members: names or None) of each directive."""
    for kind, path, options in DIRECTIVE.findall(API_PAGE):
        members = re.search(r":members:([^:]*)", options)
        names = None
        if members:
            names = [name for name in re.split(r"[\s,]+", members.group(1)) if name]
        yield kind, path, names


def documented_objects():
    """id -> dotted path of every object the page documents."""
    documented = {}
    for kind, path, members in directives():
        obj = resolve(path)
        if kind == "automodule":
            for name in members or ():
                documented[id(getattr(obj, name))] = f"{path}.{name}"
        else:
            documented[id(obj)] = path
    return documented


PY_CLASS = re.compile(r"^\.\. py:class:: ([\w.]+)[^\n]*\n((?:[ \t]+[^\n]*\n|\n)*)",
                      flags=re.MULTILINE)


def class_members():
    """Dotted class path -> the members listed for it (automodule lists count, and
    the ``py:method`` entries of a hand-written ``py:class``)."""
    listed = {path: re.findall(r"\.\. py:method:: (\w+)\(", body)
              for path, body in PY_CLASS.findall(API_PAGE)}
    for kind, path, members in directives():
        if kind == "autoclass":
            listed[path] = members or []
        elif kind == "automodule":
            module = resolve(path)
            for name in members or ():
                if inspect.isclass(getattr(module, name)):
                    listed[f"{path}.{name}"] = "all"
    return listed


def example_imports():
    """(example file, dotted name) of every name an example takes from the package."""
    for example in EXAMPLES:
        tree = ast.parse(example.read_text())
        module_aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "sklearn_noisy"):
                for alias in node.names:
                    path = f"{node.module}.{alias.name}"
                    if inspect.ismodule(resolve(path)):
                        module_aliases[alias.asname or alias.name] = path
                    else:
                        yield example.name, path
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("sklearn_noisy"):
                        module_aliases[alias.asname or alias.name] = alias.name
        # Names used through an imported module: networks.MLP, ...
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in module_aliases):
                path = f"{module_aliases[node.value.id]}.{node.attr}"
                if not inspect.ismodule(resolve(path)):
                    yield example.name, path


def public_methods(cls):
    """The public methods a user of ``cls`` calls.

    Those of the estimator API (for estimators and samplers), and any other public method that the package
    adds (not overrides of skorch's, scikit-learn's or PyTorch's hooks, which
    their own references document). Methods hidden from instances
    (``partial_fit``) do not count.
    """
    methods = set()
    is_estimator = hasattr(cls, "fit") or hasattr(cls, "fit_resample")
    for name in dir(cls):
        if name.startswith("_"):
            continue
        attribute = inspect.getattr_static(cls, name)
        if not isinstance(attribute, (staticmethod, classmethod)) and not inspect.isfunction(
                attribute):
            continue
        if name in ESTIMATOR_API and is_estimator:
            methods.add(name)
            continue
        inherited = any(name in vars(base) for base in cls.__mro__
                        if not base.__module__.startswith("sklearn_noisy"))
        if not inherited:
            methods.add(name)
    return {name for name in methods if _visible(cls, name)}


def _visible(cls, name):
    # available_if hides a method by raising AttributeError on access.
    try:
        instance = cls()
    except TypeError:
        return True
    return hasattr(instance, name)


PUBLIC_CLASSES = sorted(
    path for path in class_members()
    if path.startswith("sklearn_noisy") and inspect.isclass(resolve(path))
)


@pytest.mark.parametrize("name", sklearn_noisy.__all__)
def test_public_name_in_api_reference(name):
    """An autodoc directive or, for imbalanced-learn's re-exports, a py:class or
    py:function entry, so that the name gets its own target in the docs."""
    directive = (r"^\.\. (autoclass|autofunction|py:class|py:function):: "
                 rf"sklearn_noisy\.{name}(\(|$)")
    assert re.search(directive, API_PAGE, flags=re.MULTILINE)


def test_every_name_imported_by_an_example_is_documented():
    documented = documented_objects()
    imports = list(example_imports())
    assert imports, "no example imports anything from sklearn_noisy"
    missing = [f"{example}: {path}" for example, path in imports
               if id(resolve(path)) not in documented]
    assert not missing, "undocumented names used by examples:\n" + "\n".join(missing)


def test_every_estimator_in_all_has_its_methods_listed():
    """The classes of ``__all__`` list their methods explicitly, so that skorch's
    many inherited methods stay out of the reference."""
    listed = class_members()
    for name in sklearn_noisy.__all__:
        obj = getattr(sklearn_noisy, name)
        own = inspect.isclass(obj) and obj.__module__.startswith("sklearn_noisy")
        if own and public_methods(obj):
            assert isinstance(listed.get(f"sklearn_noisy.{name}"), list), name


@pytest.mark.parametrize("path", PUBLIC_CLASSES)
def test_public_methods_are_in_the_reference(path):
    cls = resolve(path)
    listed = class_members()[path]
    if listed == "all":
        # automodule documents every public method with a docstring.
        listed = [name for name in public_methods(cls) if getattr(cls, name).__doc__]
    missing = sorted(public_methods(cls) - set(listed))
    documented_elsewhere = {
        name for name in missing
        if re.search(rf"``{name}\(", API_PAGE)  # described in prose next to the class
    }
    assert not set(missing) - documented_elsewhere, f"{path}: add {missing} to :members:"


@pytest.mark.parametrize("path", PUBLIC_CLASSES)
def test_listed_methods_exist_and_have_docstrings(path):
    cls = resolve(path)
    listed = class_members()[path]
    if listed == "all":
        return
    for name in listed:
        method = getattr(cls, name)
        assert inspect.getdoc(method), f"{path}.{name} has no docstring"


def test_the_checks_see_the_methods_users_call():
    """Guard the rules above: they find the methods the user guide relies on."""
    assert {"fit", "predict", "predict_proba", "score", "get_params",
            "set_params"} <= public_methods(sklearn_noisy.ConfusionEMClassifier)
    assert "partial_fit" not in public_methods(sklearn_noisy.SEALClassifier)
    assert "fit_resample" in public_methods(sklearn_noisy.IDNLabelCorruptor)
    assert ("plot_flywheel_transition.py", "sklearn_noisy.corruptors."
            "empirical_transition_matrix") in set(example_imports())
