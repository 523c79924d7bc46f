"""
Tuning SLN's sigma and ConfusionEM's eta_lr with GridSearchCV
=============================================================

The corruptor sits in an imbalanced-learn pipeline, so every cross-validation
split corrupts its training folds only and scores on clean held-out labels: the
search picks the parameter that copes best with the noise, not the one that best
reproduces it. (Short trainings and two folds keep this example quick; use
the estimators' default epochs and more folds for a real search.)
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from sklearn_noisy import (
    ConfusionEMClassifier,
    IDNLabelCorruptor,
    SLNClassifier,
    make_pipeline,
)

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)

sln_search = GridSearchCV(
    make_pipeline(IDNLabelCorruptor(noise_rate=0.3, random_state=0),
                  SLNClassifier(max_epochs=20, random_state=0)),
    {"slnclassifier__sigma": [0.2, 0.5, 1.0]},
    cv=2,
).fit(X, y)
for sigma, score in zip(sln_search.cv_results_["param_slnclassifier__sigma"],
                        sln_search.cv_results_["mean_test_score"]):
    print(f"SLN sigma={sigma}: clean accuracy {score:.3f}")

# %%
# The same for ConfusionEM's eta step size (the paper's alpha_1).
em_search = GridSearchCV(
    make_pipeline(IDNLabelCorruptor(noise_rate=0.3, random_state=0),
                  ConfusionEMClassifier(max_epochs=20, random_state=0)),
    {"confusionemclassifier__eta_lr": [0.05, 0.5]},
    cv=2,
).fit(X, y)
print("best:", em_search.best_params_, f"{em_search.best_score_:.3f}")
