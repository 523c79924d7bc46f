"""How the feature scale changes the projection IDN generator.

``IDNLabelCorruptor(strategy="projection")`` moves a flipped label of class
``c`` to class ``k`` with probability ``softmax_k(x W_c)``: the larger the
features, the larger the logits and the more the flips of a class pile onto
one other class. On digits (seeds 0-4, noise_rate 0.4) this prints, for X in
[0, 1] (X / 16), standardised X, the raw 0-16 pixel values and pixels on a
0-255 scale (as the authors' loaders feed them): the mean flip rate, and per class
the share of its flips that go to its most frequent wrong label, averaged
over classes (0.11 would be flips spread evenly over the 9 other classes),
and the mean over samples of the probability that a flip goes to the
sample's likeliest wrong class (again 0.11 for an even spread; 1 puts all
of it on one class).
It also prints the mean flip rate at noise_rate 0.05 next to the truncated
normal's analytic mean.

Run: ``python benchmarks/bench_projection_scale.py`` (seconds).
"""

import numpy as np
from scipy.special import softmax
from scipy.stats import truncnorm
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sklearn_noisy import IDNLabelCorruptor


def likeliest_wrong_class_probability(X, y, seed):
    """Mean over samples of the largest ``softmax_k(x W_c)`` over the other
    classes, for projections drawn from the generator's distribution."""
    rng = np.random.default_rng(seed)
    n_classes = len(np.unique(y))
    top = np.empty(len(y))
    for c in range(n_classes):
        members = y == c
        logits = X[members] @ rng.standard_normal((X.shape[1], n_classes))
        logits[:, c] = -np.inf
        top[members] = softmax(logits, axis=1).max(axis=1)
    return float(top.mean())


def top_target_share(y, y_noisy):
    shares = []
    for c in np.unique(y):
        wrong = y_noisy[(y == c) & (y_noisy != y)]
        if len(wrong):
            shares.append(np.bincount(wrong).max() / len(wrong))
    return float(np.mean(shares))


def main():
    X, y = load_digits(return_X_y=True)
    scales = {"X / 16 (in [0, 1])": X / 16,
              "standardised": StandardScaler().fit_transform(X),
              "raw 0-16": X.astype(float),
              "0-255 (X * 255 / 16)": X * 255 / 16}
    print("features              flip rate   flips to the top wrong class   "
          "p(likeliest wrong class)")
    for label, features in scales.items():
        rates, shares, tops = [], [], []
        for seed in range(5):
            corruptor = IDNLabelCorruptor(0.4, strategy="projection", random_state=seed)
            _, y_noisy = corruptor.fit_resample(features, y)
            rates.append(corruptor.noise_rate_)
            shares.append(top_target_share(y, y_noisy))
            tops.append(likeliest_wrong_class_probability(features, y, seed))
        print(f"{label:<22}{np.mean(rates):9.3f}   {np.mean(shares):28.3f}   "
              f"{np.mean(tops):22.3f}")
    rates = [IDNLabelCorruptor(0.05, strategy="projection", random_state=seed)
             .fit_resample(X / 16, y)[1] != y for seed in range(5)]
    a, b = (0 - 0.05) / 0.1, (1 - 0.05) / 0.1
    print(f"noise_rate=0.05: mean flip rate {np.mean(rates):.3f}, "
          f"truncated normal's mean {truncnorm.mean(a, b, loc=0.05, scale=0.1):.3f}")


if __name__ == "__main__":
    main()
