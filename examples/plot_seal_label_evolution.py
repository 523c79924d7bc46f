"""
SEAL's label evolution
======================

SEAL retrains the network on the soft labels it averaged over the previous
run's epochs. A callback records the soft labels after every iteration, and we
plot their distance to the true label, ``d = 1 - s[true class]``, separately
for clean and flipped samples: the SEAL paper's Figure 5.

On CIFAR-10 the paper shows the flipped samples' distances shrinking over the
iterations. On digits with instance-dependent noise, where exactly the most
confusable samples are flipped, this short run (4 iterations of 20 epochs)
shows a subtler picture: the clean samples' soft labels soften while the
flipped samples' distances barely move. The printout gives the means.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from sklearn_noisy import IDNLabelCorruptor, SEALClassifier
from sklearn_noisy.benchmark.details import SoftLabelSnapshots

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
corruptor = IDNLabelCorruptor(noise_rate=0.3, random_state=0)
_, y_noisy = corruptor.fit_resample(X, y)
flipped = corruptor.noise_mask_

snapshots = SoftLabelSnapshots()
clf = SEALClassifier(n_iterations=4, max_epochs=20, callbacks=[snapshots], random_state=0)
clf.fit(X, y_noisy)

rows = np.arange(len(y))
figure, axes = plt.subplots(1, len(snapshots.snapshots), figsize=(14, 2.8), sharey=True)
for iteration, (axis, soft) in enumerate(zip(axes, snapshots.snapshots)):
    distance = 1 - soft[rows, y]
    axis.hist(distance[~flipped], bins=20, range=(0, 1), alpha=0.6, label="clean")
    axis.hist(distance[flipped], bins=20, range=(0, 1), alpha=0.6, label="flipped")
    axis.set_title(f"iteration {iteration}")
    print(f"iteration {iteration}: mean distance of flipped samples "
          f"{distance[flipped].mean():.3f}, clean {distance[~flipped].mean():.3f}")
axes[0].legend()
figure.supxlabel("d = 1 - soft label[true class]")
figure.tight_layout()
plt.show()
