"""RandomCropFlip: the CIFAR recipes' random crop after zero padding, and flip."""

import pickle

import pytest
import torch
from torch.nn import functional as F

from sklearn_noisy.augmentations import RandomCropFlip, with_generator


def crops_and_flips(image, padding):
    """Every crop (after zero padding) of ``image`` and its mirror image."""
    _, height, width = image.shape
    padded = F.pad(image, (padding,) * 4)
    windows = []
    for top in range(2 * padding + 1):
        for left in range(2 * padding + 1):
            window = padded[:, top:top + height, left:left + width]
            windows += [window, window.flip(-1)]
    return windows


def test_a_worked_example_on_a_3x3_image():
    X = torch.arange(1.0, 19.0).view(2, 1, 3, 3)
    # The draws of a generator seeded with 0: offsets (rows, cols) [[2, 0],
    # [2, 0]], then flip probabilities [0.3074, 0.6341] (< 0.5 flips).
    augmented = RandomCropFlip(padding=1)(X, generator=torch.Generator().manual_seed(0))
    # Sample 0: rows 1..3 and columns -1..1 of [[1,2,3],[4,5,6],[7,8,9]]
    # (row 3 and column -1 are padding), then mirrored.
    assert augmented[0, 0].tolist() == [[5, 4, 0], [8, 7, 0], [0, 0, 0]]
    # Sample 1: the same window of [[10,11,12],...], not mirrored.
    assert augmented[1, 0].tolist() == [[0, 13, 14], [0, 16, 17], [0, 0, 0]]


def test_every_output_is_a_padded_crop_or_its_mirror_of_its_own_input():
    generator = torch.Generator().manual_seed(1)
    X = torch.rand(32, 3, 8, 8, generator=generator) + 0.5  # no zeros inside
    augmented = RandomCropFlip(padding=2)(X, generator=generator)
    assert augmented.shape == X.shape and augmented.dtype == X.dtype
    for image, output in zip(X, augmented):
        assert any(torch.equal(output, window) for window in crops_and_flips(image, 2))


def test_offsets_and_flips_cover_every_choice_and_differ_between_samples():
    # A one-pixel image shows the window's offset by where the pixel lands.
    X = torch.ones(4000, 1, 1, 3)
    X[:, 0, 0, 0] = 2.0  # marks the left end, to see flips
    augmented = RandomCropFlip(padding=1)(X, generator=torch.Generator().manual_seed(2))
    outcomes = {tuple(row.flatten().tolist()) for row in augmented}
    # Shifts of the row by -1, 0, 1 (and the zero row when shifted out
    # vertically), each as it is and mirrored.
    expected = {(0.0, 0.0, 0.0),
                (2.0, 1.0, 1.0), (1.0, 1.0, 2.0),   # no horizontal shift
                (0.0, 2.0, 1.0), (1.0, 2.0, 0.0),   # shifted right
                (1.0, 1.0, 0.0), (0.0, 1.0, 1.0)}   # shifted left
    assert outcomes == expected
    # Rows fall outside the 1-pixel image for 2 of 3 vertical offsets.
    blank = (augmented.flatten(1) == 0).all(dim=1).float().mean().item()
    assert blank == pytest.approx(2 / 3, abs=0.03)


def test_flip_false_never_mirrors_and_padding_0_with_flip_false_is_identity():
    X = torch.rand(64, 3, 5, 5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(RandomCropFlip(padding=0, flip=False)(X), X)
    mirrored = RandomCropFlip(padding=0, flip=True)(X, generator=torch.Generator().manual_seed(4))
    flipped = (mirrored == X.flip(-1)).flatten(1).all(dim=1)
    kept = (mirrored == X).flatten(1).all(dim=1)
    assert bool((flipped | kept).all()) and 10 < int(flipped.sum()) < 54


def test_images_without_a_channel_axis_keep_their_shape():
    X = torch.rand(6, 7, 9)
    augmented = RandomCropFlip(padding=3)(X, generator=torch.Generator().manual_seed(5))
    assert augmented.shape == (6, 7, 9)
    for image, output in zip(X, augmented):
        assert any(torch.equal(output, window[0])
                   for window in crops_and_flips(image[None], 3))


def test_the_same_generator_seed_gives_the_same_batch():
    X = torch.rand(16, 3, 8, 8)
    first = RandomCropFlip()(X, generator=torch.Generator().manual_seed(7))
    again = RandomCropFlip()(X, generator=torch.Generator().manual_seed(7))
    other = RandomCropFlip()(X, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_it_takes_the_estimators_generator_and_pickles():
    augment = RandomCropFlip(padding=2, flip=False)
    assert repr(augment) == "RandomCropFlip(padding=2, flip=False)"
    bound = with_generator(augment, torch.Generator().manual_seed(0))
    assert bound.keywords == {"generator": bound.keywords["generator"]}
    assert repr(pickle.loads(pickle.dumps(augment))) == repr(augment)


@pytest.mark.parametrize("padding", [-1, 1.5])
def test_a_bad_padding_is_named(padding):
    with pytest.raises(ValueError, match="padding must be a non-negative int"):
        RandomCropFlip(padding=padding)(torch.zeros(2, 1, 4, 4))
