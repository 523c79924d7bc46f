"""Random augmentations of whole batches, on the batch's own device.

Every augmentation is a callable ``augment(X) -> X_augmented`` on a batch
tensor, drawing a different random transformation for every sample in one
vectorised call (no per-sample Python). The package's augmentations take
an optional ``generator``, which the estimators pass from the fit's own
random streams; a user callable without that parameter draws from torch's
global generators, which the estimators seed and restore around a fit, so
fits stay reproducible either way and the caller's random state is left
alone.

An augmentation may also have a ``fit(X)`` method; the estimators call it
once, on a copy, with the whole training tensor (the tabular ones use it to
learn each feature's scale).

Tabular data gets :class:`GaussianJitter`; images ``(n, H, W)`` or
``(n, C, H, W)`` get :class:`RandomShiftFlip` (weak: sub-pixel shifts with
reflected borders, and flips) and :class:`RandomAffineCutout` (strong: a
RandAugment-style mix of geometric and photometric changes plus cutout).
:class:`RandomCropFlip` is the papers' CIFAR augmentation exactly: a random
crop of the zero-padded image, whole pixels only, and a horizontal flip.
"""

import functools
import inspect
import math

import torch
from torch.nn import functional as F

from .networks import with_channel_axis


class GaussianJitter:
    """Gaussian noise scaled to each feature's spread, and feature dropout.

    Parameters
    ----------
    noise_scale : float, default=0.1
        Standard deviation of the added noise, as a fraction of each
        feature's standard deviation in the training data.
    feature_dropout : float, default=0.0
        Probability that a feature of a sample is replaced by the feature's
        training mean.

    Attributes
    ----------
    mean_ : torch.Tensor of shape (n_features,)
    scale_ : torch.Tensor of shape (n_features,)
        Set by :meth:`fit`.
    """

    def __init__(self, noise_scale=0.1, feature_dropout=0.0):
        self.noise_scale = noise_scale
        self.feature_dropout = feature_dropout

    def fit(self, X):
        """Learn each feature's mean and standard deviation from ``X``."""
        flat = X.flatten(1)
        self.mean_ = flat.mean(dim=0)
        self.scale_ = flat.std(dim=0, unbiased=False)
        return self

    def __call__(self, X, generator=None):
        flat = X.flatten(1)
        mean, scale = (
            (self.mean_, self.scale_) if hasattr(self, "scale_")
            else (flat.mean(dim=0), flat.std(dim=0, unbiased=False))
        )
        augmented = flat + self.noise_scale * scale * _draw(torch.randn, flat, generator)
        if self.feature_dropout:
            dropped = _draw(torch.rand, flat, generator) < self.feature_dropout
            augmented = torch.where(dropped, mean.expand_as(flat), augmented)
        return augmented.view_as(X)

    def __repr__(self):
        return (f"GaussianJitter(noise_scale={self.noise_scale}, "
                f"feature_dropout={self.feature_dropout})")


def _affine_resample(X, theta):
    """Resample image batch ``X`` with per-sample 2x3 affine ``theta``."""
    images = with_channel_axis(X)
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    resampled = F.grid_sample(
        images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return resampled.view_as(X)


def _draw(sampler, like, generator, shape=None):
    """``sampler`` (torch.rand or torch.randn) shaped like ``like``."""
    return sampler(like.shape if shape is None else shape, generator=generator,
                   device=like.device, dtype=like.dtype)


def _uniform(n, low, high, like, generator):
    return low + (high - low) * _draw(torch.rand, like, generator, (n,))


def _random_shift(n, max_shift, like, generator):
    """Per-sample (x, y) translations in affine_grid's coordinates.

    Those span [-1, 1], so a shift of ``s`` image sides is ``2 s``.
    """
    return 2 * max_shift * (2 * _draw(torch.rand, like, generator, (n, 2)) - 1)


def _random_flip_sign(n, probability, like, generator):
    flip = _draw(torch.rand, like, generator, (n,)) < probability
    return torch.where(flip, -1.0, 1.0).to(like.dtype)


def with_generator(augment, generator):
    """``augment`` as a one-argument callable drawing from ``generator``.

    The package's augmentations accept a ``generator`` keyword; other
    callables are returned as they are.
    """
    try:
        accepts = "generator" in inspect.signature(augment).parameters
    except (TypeError, ValueError):
        accepts = False
    return functools.partial(augment, generator=generator) if accepts else augment


class RandomShiftFlip:
    """Random translation (a padded random crop) and horizontal flip.

    Parameters
    ----------
    max_shift : float, default=0.125
        Largest shift as a fraction of the image side (4 pixels of 32, the
        CIFAR recipe's padded crop). Borders are reflected.
    flip : bool, default=True
        Flip half of the images left-right. Turn it off for data where
        mirror images mean something else (digits, text).
    """

    def __init__(self, max_shift=0.125, flip=True):
        self.max_shift = max_shift
        self.flip = flip

    def __call__(self, X, generator=None):
        n = len(X)
        theta = torch.zeros(n, 2, 3, device=X.device, dtype=X.dtype)
        theta[:, 0, 0] = _random_flip_sign(n, 0.5 if self.flip else 0.0, X, generator)
        theta[:, 1, 1] = 1.0
        theta[:, :, 2] = _random_shift(n, self.max_shift, X, generator)
        return _affine_resample(X, theta)

    def __repr__(self):
        return f"RandomShiftFlip(max_shift={self.max_shift}, flip={self.flip})"


class RandomCropFlip:
    """Random crop after zero padding, and horizontal flip: the CIFAR recipe.

    Every image is padded with ``padding`` zero pixels on each side and a
    window of its original size is cut out at a random whole-pixel offset,
    then flipped left-right with probability 1/2, as torchvision's
    ``RandomCrop(32, padding=4)`` followed by ``RandomHorizontalFlip()``.
    Unlike :class:`RandomShiftFlip`, which resamples the image at a
    sub-pixel shift and reflects its borders, every output pixel is an input
    pixel or a zero.

    Parameters
    ----------
    padding : int, default=4
        Zero pixels added on each side; offsets run from ``-padding`` to
        ``padding`` in each direction.
    flip : bool, default=True
        Flip half of the images left-right. Turn it off for data where
        mirror images mean something else (digits, text).

    Notes
    -----
    The zeros are zeros of the input: with the papers' normalisation inside
    the network (see :func:`~sklearn_noisy.networks.normalized`) they are
    black pixels, as in torchvision, where the padding happens before the
    normalisation.
    """

    def __init__(self, padding=4, flip=True):
        self.padding = padding
        self.flip = flip

    def __call__(self, X, generator=None):
        if not (isinstance(self.padding, int) and self.padding >= 0):
            raise ValueError(
                f"padding must be a non-negative int; got {self.padding!r}.")
        images = with_channel_axis(X)
        n, channels, height, width = images.shape
        pad = self.padding
        padded = F.pad(images, (pad, pad, pad, pad))
        offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator,
                                device=X.device)
        rows = offsets[:, :1] + torch.arange(height, device=X.device)
        cols = offsets[:, 1:] + torch.arange(width, device=X.device)
        if self.flip:
            flipped = _draw(torch.rand, images, generator, (n, 1)) < 0.5
            cols = torch.where(flipped, cols.flip(1), cols)
        # Two gathers, rows then columns, pick every sample's own window.
        rows = rows[:, None, :, None].expand(n, channels, height, width + 2 * pad)
        cropped = padded.gather(2, rows)
        cols = cols[:, None, None, :].expand(n, channels, height, width)
        return cropped.gather(3, cols).reshape(X.shape)

    def __repr__(self):
        return f"RandomCropFlip(padding={self.padding}, flip={self.flip})"


class RandomAffineCutout:
    """Strong augmentation: random affine, brightness, contrast and cutout.

    Each sample gets its own rotation, shear, scale, translation and flip,
    then brightness and contrast changes, then a square cut out at a random
    place, in the spirit of RandAugment's mixed operations at random
    magnitudes.

    Parameters
    ----------
    max_rotation : float, default=30
        Degrees.
    max_shear : float, default=0.3
    scale_range : tuple of float, default=(0.8, 1.2)
    max_shift : float, default=0.125
        Fraction of the image side.
    flip : bool, default=True
    max_brightness : float, default=0.3
        Largest added offset, as a fraction of each image's value range.
    contrast_range : tuple of float, default=(0.6, 1.4)
    cutout : float, default=0.5
        Side of the cut-out square as a fraction of the image side.
    """

    def __init__(self, max_rotation=30.0, max_shear=0.3, scale_range=(0.8, 1.2),
                 max_shift=0.125, flip=True, max_brightness=0.3,
                 contrast_range=(0.6, 1.4), cutout=0.5):
        self.max_rotation = max_rotation
        self.max_shear = max_shear
        self.scale_range = scale_range
        self.max_shift = max_shift
        self.flip = flip
        self.max_brightness = max_brightness
        self.contrast_range = contrast_range
        self.cutout = cutout

    def __call__(self, X, generator=None):
        images = with_channel_axis(X)
        theta = self._theta(images, generator)
        augmented = self._photometric(_affine_resample(images, theta), generator)
        return self._cut_out(augmented, generator).view_as(X)

    def _theta(self, images, generator):
        n = len(images)
        angle = _uniform(n, -1, 1, images, generator) * math.radians(self.max_rotation)
        shear = _uniform(n, -self.max_shear, self.max_shear, images, generator)
        scale = _uniform(n, *self.scale_range, images, generator)
        flip = _random_flip_sign(n, 0.5 if self.flip else 0.0, images, generator)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.zeros(n, 2, 3, device=images.device, dtype=images.dtype)
        theta[:, 0, 0] = flip * cos
        theta[:, 0, 1] = -sin + shear * cos
        theta[:, 1, 0] = flip * sin
        theta[:, 1, 1] = cos + shear * sin
        theta[:, :, 2] = _random_shift(n, self.max_shift, images, generator)
        return theta

    def _photometric(self, images, generator):
        n = len(images)
        low = images.amin(dim=(1, 2, 3), keepdim=True)
        high = images.amax(dim=(1, 2, 3), keepdim=True)
        mean = images.mean(dim=(1, 2, 3), keepdim=True)
        contrast = _uniform(n, *self.contrast_range, images, generator).view(n, 1, 1, 1)
        brightness = self.max_brightness * _uniform(
            n, -1, 1, images, generator).view(n, 1, 1, 1)
        return (mean + contrast * (images - mean) + brightness * (high - low))

    def _cut_out(self, images, generator):
        n, _, height, width = images.shape
        rows = torch.arange(height, device=images.device)
        cols = torch.arange(width, device=images.device)
        centre_row = (_draw(torch.rand, images, generator, (n,)) * height).long()
        centre_col = (_draw(torch.rand, images, generator, (n,)) * width).long()
        half_height = max(1, round(self.cutout * height / 2))
        half_width = max(1, round(self.cutout * width / 2))
        inside_rows = (rows[None, :] - centre_row[:, None]).abs() < half_height
        inside_cols = (cols[None, :] - centre_col[:, None]).abs() < half_width
        inside = inside_rows[:, None, :, None] & inside_cols[:, None, None, :]
        return images.masked_fill(inside, 0.0)

    def __repr__(self):
        return "RandomAffineCutout()"


def default_augmentations(n_input_dims):
    """The (weak, strong) pair used for ``'auto'``, by the rank of a sample.

    Parameters
    ----------
    n_input_dims : int
        1 for tabular samples, 2 or 3 for images ``(H, W)`` / ``(C, H, W)``.
    """
    if n_input_dims == 1:
        return GaussianJitter(0.1), GaussianJitter(0.3, feature_dropout=0.2)
    return RandomShiftFlip(), RandomAffineCutout()
