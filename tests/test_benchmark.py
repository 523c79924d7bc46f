"""The benchmark package: method registry, one small run and the table."""

import pytest

from sklearn_noisy import (
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    SEALClassifier,
    SLNClassifier,
)
from sklearn_noisy.benchmark.__main__ import format_table
from sklearn_noisy.benchmark.methods import METHODS, make_method
from sklearn_noisy.benchmark.runner import run_benchmark, summarise


def test_every_estimator_is_registered_with_its_defaults():
    classes = {cls for _, cls in METHODS.values()}
    assert classes == {CrossEntropyClassifier, SEALClassifier, SLNClassifier,
                       ConfusionEMClassifier}
    estimator = make_method("confusion-em", random_state=3)
    assert isinstance(estimator, ConfusionEMClassifier)
    assert estimator.random_state == 3 and estimator.eta_lr == ConfusionEMClassifier().eta_lr
    with pytest.raises(ValueError, match="unknown method"):
        make_method("mixup", random_state=0)


def test_small_run_and_aligned_table():
    results = run_benchmark(dataset="wine", noise="symmetric", rates=[0.2], seeds=[0],
                            methods=["ce", "confusion-em"])
    assert [r.method for r in results] == ["CE", "ConfusionEM"]
    assert all(0 <= r.accuracy <= 1 and 0 <= r.detection_auc <= 1 for r in results)
    assert results[0].actual_noise_rate == pytest.approx(0.2, abs=0.1)
    lines = format_table(summarise(results)).splitlines()
    assert len(lines) == 3
    assert len({line.index("±") for line in lines[1:]}) == 1
    assert all(len(line) == len(lines[0]) for line in lines)
