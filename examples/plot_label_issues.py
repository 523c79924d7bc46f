"""
Label issues in data that is already noisy
==========================================

When the noisy labels are all you have, :func:`~sklearn_noisy.find_label_issues`
fits clones of an estimator on 5 folds and judges every sample by a model that
did not see its label. Here the digits' labels were corrupted on purpose (30%
instance-dependent noise), so the result can be checked against the truth,
which the search itself never sees. The :doc:`user guide
</user_guide/noisy_data>` walks through the whole workflow.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_noisy import (
    CrossEntropyClassifier,
    IDNLabelCorruptor,
    SLNClassifier,
    find_label_issues,
)

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)
corruptor = IDNLabelCorruptor(noise_rate=0.3, random_state=0)
_, y_noisy = corruptor.fit_resample(X_train, y_train)
flipped = corruptor.noise_mask_

network = CrossEntropyClassifier(max_epochs=20, random_state=0)
issues = find_label_issues(network, X_train, y_noisy, random_state=0)
print(issues.head(8))

# %%
# The rows are sorted by ``noise_score``, most suspicious first, and indexed by
# the position of the sample in ``X_train``. ``is_label_issue`` flags the
# samples that confident learning counts as mislabelled.
flagged = issues.index[issues["is_label_issue"]]
print(f"estimated noise rate {issues.attrs['noise_rate']:.3f} "
      f"(true {flipped.mean():.3f})")
print(f"flagged {len(flagged)}: {flipped[flagged].mean():.0%} of them flipped, "
      f"{flipped[flagged].sum() / flipped.sum():.0%} of the flips")
print("detection ROC-AUC "
      f"{roc_auc_score(flipped, issues.sort_index()['noise_score']):.3f}")

# %%
# The twelve most suspicious training images, with the given label and the
# out-of-fold prediction; the second line says whether the corruptor had
# flipped the label.
figure, axes = plt.subplots(2, 6, figsize=(9, 3.9))
for axis, (index, row) in zip(axes.flat, issues.head(12).iterrows()):
    axis.imshow(X_train[index].reshape(8, 8), cmap="gray_r")
    axis.set_title(f"given {row['given_label']} -> {row['corrected_label']}\n"
                   f"{'flipped' if flipped[index] else 'not flipped'}",
                   fontsize="small")
    axis.axis("off")
figure.tight_layout()
plt.show()

# %%
# Drop the flagged samples, or give them the suggested label, and refit: the
# same network, and a noise-robust one for the labels that stay wrong. The
# clean test labels are used only to score the fits.
by_position = issues.sort_index()
keep = ~by_position["is_label_issue"].to_numpy()
relabelled = np.where(keep, y_noisy, by_position["corrected_label"].to_numpy())
for final in (network, SLNClassifier(max_epochs=50, random_state=0)):
    for name, X_fit, y_fit in [
        ("the noisy labels", X_train, y_noisy),
        ("flagged samples dropped", X_train[keep], y_noisy[keep]),
        ("flagged samples relabelled", X_train, relabelled),
    ]:
        accuracy = clone(final).fit(X_fit, y_fit).score(X_test, y_test)
        print(f"{type(final).__name__:<22} on {name:<27} clean test accuracy "
              f"{accuracy:.3f}")
