"""Learning from noisy labels with scikit-learn compatible PyTorch estimators."""

from .confusion_em import ConfusionEMClassifier
from .corruptors import CCNLabelCorruptor, IDNLabelCorruptor
from .cross_entropy import CrossEntropyClassifier
from .flywheel import FlywheelClassifier
from .hypothesis import CCNTestResult, ccn_hypothesis_test
from .label_issues import find_label_issues
from .pipeline import Pipeline, make_pipeline
from .recipes import paper_recipe
from .seal import SEALClassifier
from .sln import SLNClassifier
from ._version import __version__


__all__ = [
    "CCNLabelCorruptor",
    "IDNLabelCorruptor",
    "CrossEntropyClassifier",
    "ConfusionEMClassifier",
    "FlywheelClassifier",
    "SEALClassifier",
    "SLNClassifier",
    "ccn_hypothesis_test",
    "CCNTestResult",
    "paper_recipe",
    "find_label_issues",
    "Pipeline",
    "make_pipeline",
]
