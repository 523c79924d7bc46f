"""The estimators the benchmark compares, by short name."""

from ..confusion_em import ConfusionEMClassifier
from ..cross_entropy import CrossEntropyClassifier
from ..seal import SEALClassifier
from ..sln import SLNClassifier

#: short name -> (label in tables, estimator class)
METHODS = {
    "ce": ("CE", CrossEntropyClassifier),
    "seal": ("SEAL", SEALClassifier),
    "sln": ("SLN", SLNClassifier),
    "confusion-em": ("ConfusionEM", ConfusionEMClassifier),
}


def make_method(name, random_state, device="cpu"):
    """A fresh estimator of method ``name`` with its default parameters."""
    try:
        _, estimator_class = METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown method {name!r}; choose from {', '.join(METHODS)}."
        ) from None
    return estimator_class(random_state=random_state, device=device)
