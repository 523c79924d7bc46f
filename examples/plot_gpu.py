"""
Running on a GPU
================

Pass ``device="cuda"``: the training data is copied to the GPU once, batches
are drawn there, and predictions come back as NumPy arrays. This example falls
back to the CPU where no GPU is available, so it runs anywhere.
"""

import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_noisy import IDNLabelCorruptor, SLNClassifier

device = "cuda" if torch.cuda.is_available() else "cpu"
X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                    random_state=0)
# The instance-dependent corruptor trains a network too; it takes the device.
corruptor = IDNLabelCorruptor(noise_rate=0.3, device=device, random_state=0)
_, y_noisy = corruptor.fit_resample(X_train, y_train)

start = time.perf_counter()
clf = SLNClassifier(max_epochs=30, device=device, random_state=0).fit(X_train, y_noisy)
print(f"fitted on {device} in {time.perf_counter() - start:.1f} s; "
      f"clean test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# Inputs may also be tensors that already live on the device.
X_test_device = torch.as_tensor(X_test, device=device)
print(clf.predict(X_test_device)[:10], y_test[:10])
