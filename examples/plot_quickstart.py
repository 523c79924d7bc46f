"""
Quickstart: corrupt, fit, score
===============================

Corrupt the training labels of scikit-learn's digits with instance-dependent
noise inside an imbalanced-learn pipeline, fit the cross-entropy baseline on
the noisy labels and score it on clean held-out labels. The corruptor is a
``fit_resample`` step, so cross-validation corrupts only the training folds.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score, train_test_split

from sklearn_noisy import CrossEntropyClassifier, IDNLabelCorruptor, make_pipeline

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)

pipe = make_pipeline(
    IDNLabelCorruptor(noise_rate=0.3, random_state=0),
    CrossEntropyClassifier(max_epochs=30, random_state=0),
)
scores = cross_val_score(pipe, X, y, cv=3)
print(f"accuracy on clean held-out folds: {scores.mean():.3f} ± {scores.std():.3f}")

# %%
# Which training labels look wrong? The corruptor records what it flipped;
# the classifier's ``noise_scores_`` rank the training samples.
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                    random_state=0)
corruptor = IDNLabelCorruptor(noise_rate=0.3, random_state=0)
_, y_noisy = corruptor.fit_resample(X_train, y_train)
clf = CrossEntropyClassifier(max_epochs=30, random_state=0).fit(X_train, y_noisy)
auc = roc_auc_score(corruptor.noise_mask_, clf.noise_scores_)
print(f"flipped labels: {corruptor.noise_mask_.sum()}, detection ROC-AUC: {auc:.3f}")
print(f"clean test accuracy: {clf.score(X_test, y_test):.3f}")
