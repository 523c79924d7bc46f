"""scikit-learn's and imbalanced-learn's check suites over every public estimator."""

from imblearn.utils.estimator_checks import (
    parametrize_with_checks as parametrize_with_sampler_checks,
)
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_noisy import (
    CCNLabelCorruptor,
    ConfusionEMClassifier,
    CrossEntropyClassifier,
    FlywheelClassifier,
    IDNLabelCorruptor,
    SEALClassifier,
    SLNClassifier,
)

CLASSIFIERS = [
    CrossEntropyClassifier(),
    SEALClassifier(n_iterations=1),
    SEALClassifier(n_iterations=1, first_loss="dmi", reinitialize=False, max_epochs=20),
    SLNClassifier(),
    SLNClassifier(correction_epoch=30, noise_on="outputs", max_epochs=60),
    ConfusionEMClassifier(),
    ConfusionEMClassifier(class_weight="balanced", eta_update_every=1),
    FlywheelClassifier(),
    FlywheelClassifier(estimate_epsilon=False, contrastive_weight=0, confidence_weight=0,
                       mixup_alpha=0, weak_augmentation=None),
]

# Short trainings must pass too: a user's first try is often a few epochs.
SHORT_TRAININGS = [
    CrossEntropyClassifier(max_epochs=10),
    SEALClassifier(n_iterations=2, max_epochs=10),
    SLNClassifier(max_epochs=10),
    ConfusionEMClassifier(max_epochs=10),
    FlywheelClassifier(max_epochs=10, warmup_epochs=2),
]

# imbalanced-learn's checks compare two fit_resample calls: seed them.
CORRUPTORS = [
    IDNLabelCorruptor(random_state=0),
    IDNLabelCorruptor(strategy="projection", random_state=0),
    CCNLabelCorruptor(random_state=0),
    CCNLabelCorruptor(transition="pair", random_state=0),
]


@parametrize_with_checks(CLASSIFIERS + SHORT_TRAININGS + CORRUPTORS)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


@parametrize_with_sampler_checks(CORRUPTORS)
def test_imbalanced_learn_sampler_checks(estimator, check):
    check(estimator)
