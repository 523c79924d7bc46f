"""
Flywheel's transition matrix against the truth
==============================================

``FlywheelClassifier`` estimates how the corrupted labels arise:
``transition_matrix_[y, y']`` is the probability that a corrupted sample of
true class ``y`` carries label ``y'``. With class-conditional pair noise the
truth is known: every flipped digit ``k`` is labelled ``k + 1``.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from sklearn_noisy import CCNLabelCorruptor, FlywheelClassifier
from sklearn_noisy.corruptors import empirical_transition_matrix

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
corruptor = CCNLabelCorruptor(0.3, transition="pair", random_state=0)
_, y_noisy = corruptor.fit_resample(X, y)
flipped = corruptor.noise_mask_
truth = empirical_transition_matrix(y[flipped], y_noisy[flipped], 10)

clf = FlywheelClassifier(max_epochs=30, random_state=0).fit(X, y_noisy)
error = np.abs(clf.transition_matrix_ - truth).mean()
print(f"mean absolute error of the estimate: {error:.3f}")
print(f"estimated clean rate gamma: {clf.gamma_:.3f} (truth {1 - flipped.mean():.3f})")
print(f"refurbished labels right: {(clf.corrected_labels_ == y).mean():.1%}")

figure, axes = plt.subplots(1, 2, figsize=(8, 3.8))
for axis, matrix, title in ((axes[0], truth, "true flips"),
                            (axes[1], clf.transition_matrix_, "Flywheel's estimate")):
    axis.imshow(matrix, vmin=0, vmax=1)
    axis.set(title=title, xlabel="given label", ylabel="true class")
figure.tight_layout()
plt.show()
