"""
Finding mislabeled samples
==========================

After ``fit`` every estimator ranks its training samples by ``noise_scores_``
(higher: the given label is more likely wrong) and proposes
``corrected_labels_``. Here the truth is known, because the labels were
corrupted on purpose, so we can see how well the ranking finds the flips and
how often the corrections are right.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from sklearn_noisy import IDNLabelCorruptor, SEALClassifier

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
corruptor = IDNLabelCorruptor(noise_rate=0.3, random_state=0)
_, y_noisy = corruptor.fit_resample(X, y)
flipped = corruptor.noise_mask_

clf = SEALClassifier(n_iterations=3, max_epochs=20, random_state=0).fit(X, y_noisy)
order = np.argsort(clf.noise_scores_)[::-1]
print(f"detection ROC-AUC: {roc_auc_score(flipped, clf.noise_scores_):.3f}")
for top in (50, 200, int(flipped.sum())):
    print(f"flipped among the {top} most suspicious: {flipped[order[:top]].mean():.0%}")
changed = clf.corrected_labels_ != y_noisy
print(f"labels the model would change: {changed.sum()}, "
      f"of which right: {(clf.corrected_labels_[changed] == y[changed]).mean():.0%}")

# %%
# The twelve most suspicious training images, with the given label and the
# model's correction.
figure, axes = plt.subplots(2, 6, figsize=(9, 3.6))
for axis, index in zip(axes.flat, order[:12]):
    axis.imshow(X[index].reshape(8, 8), cmap="gray_r")
    axis.set_title(f"given {y_noisy[index]} -> {clf.corrected_labels_[index]}",
                   fontsize="small")
    axis.axis("off")
figure.tight_layout()
plt.show()
