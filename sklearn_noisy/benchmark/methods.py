"""The estimators the benchmark compares, by short name or ``module:Class``."""

import importlib
import importlib.util

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder

from ..confusion_em import ConfusionEMClassifier
from ..cross_entropy import CrossEntropyClassifier
from ..flywheel import FlywheelClassifier
from ..seal import SEALClassifier
from ..sln import SLNClassifier


class CleanLearningReference(ClassifierMixin, BaseEstimator):
    """cleanlab's ``CleanLearning`` around the package's cross-entropy network.

    An external reference point for the benchmark (needs the optional
    ``cleanlab`` package): confident learning finds the label issues with
    cross-validated predictions, removes them and refits the same network
    that :class:`~sklearn_noisy.CrossEntropyClassifier` trains.

    Parameters
    ----------
    random_state : int or None, default=None
    device : str, default='cpu'

    Attributes
    ----------
    clean_learning_ : cleanlab.classification.CleanLearning
    noise_scores_ : ndarray of shape (n_train_samples,)
        ``1 - label_quality``, cleanlab's label quality scores.
    classes_ : ndarray of shape (n_classes,)
    """

    def __init__(self, random_state=None, device="cpu"):
        self.random_state = random_state
        self.device = device

    def fit(self, X, y):
        """Find and drop the label issues, then fit on the rest."""
        from cleanlab.classification import CleanLearning

        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        network = CrossEntropyClassifier(random_state=self.random_state, device=self.device)
        # n_jobs=1: cleanlab's own process pool loses its globals inside the
        # benchmark's joblib workers (NameError), and the cells are already
        # spread over the cores.
        self.clean_learning_ = CleanLearning(
            network, seed=self.random_state, verbose=False,
            find_label_issues_kwargs={"n_jobs": 1})
        self.clean_learning_.fit(X, encoder.transform(y))
        quality = self.clean_learning_.get_label_issues()["label_quality"].to_numpy()
        self.noise_scores_ = 1.0 - quality
        return self

    def predict(self, X):
        """Labels predicted by the network refitted on the kept samples."""
        return self.classes_[self.clean_learning_.predict(X)]


#: short name -> (label in tables, estimator class)
METHODS = {
    "ce": ("CE", CrossEntropyClassifier),
    "seal": ("SEAL", SEALClassifier),
    "sln": ("SLN", SLNClassifier),
    "confusion-em": ("ConfusionEM", ConfusionEMClassifier),
    "flywheel": ("Flywheel", FlywheelClassifier),
    "cleanlab": ("cleanlab", CleanLearningReference),
}


def available_methods():
    """The registered methods whose dependencies are installed."""
    cleanlab_installed = importlib.util.find_spec("cleanlab") is not None
    return [name for name in METHODS if name != "cleanlab" or cleanlab_installed]


def method_label(name):
    """The name of method ``name`` in tables: its label, or the class name."""
    if name in METHODS:
        return METHODS[name][0]
    return name.rpartition(":")[2]


def method_class(name):
    """The estimator class of a registered short name or of ``module:Class``.

    ``module:Class`` imports ``module`` (your own code, as you would import it
    yourself) and takes any scikit-learn classifier from it.
    """
    if name in METHODS:
        return METHODS[name][1]
    module_name, colon, class_name = name.partition(":")
    if not (colon and module_name and class_name):
        raise ValueError(
            f"unknown method {name!r}; choose from {', '.join(METHODS)}, or name a "
            "classifier of your own as module:Class (e.g. mypackage.models:MyClassifier)."
        )
    try:
        estimator_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"method {name!r} cannot be imported: {exc}") from None
    if not (isinstance(estimator_class, type)
            and all(hasattr(estimator_class, attr) for attr in ("fit", "predict", "score"))):
        raise ValueError(
            f"method {name!r} is not a scikit-learn classifier class (with fit, predict "
            "and score)."
        )
    return estimator_class


def make_method(name, random_state, device="cpu"):
    """A fresh estimator of method ``name`` with its default parameters.

    ``random_state`` and ``device`` are passed when the estimator has them.
    """
    estimator_class = method_class(name)
    if name in METHODS:
        return estimator_class(random_state=random_state, device=device)
    estimator = estimator_class()
    settable = estimator.get_params() if hasattr(estimator, "get_params") else {}
    options = {key: value for key, value in
               (("random_state", random_state), ("device", device)) if key in settable}
    return estimator.set_params(**options) if options else estimator
