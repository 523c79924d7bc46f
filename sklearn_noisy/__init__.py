"""Learning from noisy labels with scikit-learn compatible PyTorch estimators."""

from imblearn.pipeline import Pipeline, make_pipeline

from .corruptors import CCNLabelCorruptor, IDNLabelCorruptor
from .cross_entropy import CrossEntropyClassifier

__version__ = "0.1.0.dev0"

__all__ = [
    "CCNLabelCorruptor",
    "IDNLabelCorruptor",
    "CrossEntropyClassifier",
    "Pipeline",
    "make_pipeline",
]
