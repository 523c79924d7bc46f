"""Data sets read from files: a folder of images sorted into class subfolders.

:class:`ImageFolder` is a small implementation of its own rather than a subclass
of ``torchvision.datasets.ImageFolder``, for three reasons:

* torchvision is an optional extra of this package; the class only needs Pillow
  (which comes with torchvision, and with matplotlib), so it works without it;
* an item is the image tensor alone. torchvision's items are ``(image, label)``
  pairs, whereas the estimators here take the images as ``X`` and the labels as a
  separate ``y`` (``folder.targets``), as scikit-learn does;
* the checks stay in our hands: an empty class folder, a misplaced root or a file
  that is not a PNG or JPEG image gives an error naming the folder or the file, and
  only Pillow's PNG and JPEG decoders are ever used, whatever a file's extension
  says (Pillow's other plugins include some that start external programs, such as
  Ghostscript for EPS files).

It keeps torchvision's conventions where they matter to users: classes are the
sorted subfolder names, numbered in that order, and EXIF orientation tags are
ignored. It differs in three ways: ``transform`` receives the image as a float32
tensor, not as a Pillow image (so that every item is built the same way, and
tensor transforms such as torchvision's ``v2`` ones apply); hidden folders
(``.ipynb_checkpoints``) are skipped; and only the images directly inside each
class folder are read, so that pointing at a folder one level too high (``data/``
instead of ``data/train/``) is an error rather than a data set whose classes are
``train`` and ``val``.
"""

import operator
import os
from pathlib import Path

import numpy as np
import torch

from ._images import is_folder, is_image_file, open_image, pillow

_MODES = ("RGB", "L")
# Pillow opens 16-bit greyscale PNG files in one of these modes; converting them to
# "L" or "RGB" would clip every value above 255 instead of scaling it
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")

class ImageFolder(torch.utils.data.Dataset):
    """Images sorted into one subfolder per class, read when an item is accessed.

    The layout is ``root/<class name>/<image>``: every subfolder of ``root`` is a
    class, named after the folder, and holds that class's ``.png``, ``.jpg`` and
    ``.jpeg`` files (extensions in any case) directly. Classes are numbered in the
    sorted order of their names, and each class's files are taken in the sorted
    order of their names, so the order of the samples is the same on every machine.
    Names starting with a dot (hidden files and folders) and files with other
    extensions are ignored; images in subfolders of a class folder are not read.

    Constructing the data set only lists the files. Each image is opened when its
    item is accessed, with Pillow's PNG or JPEG decoder whatever the file's
    extension, converted to ``mode`` and, with ``size``, resized. The item
    ``folder[i]`` is the image alone, a float32 tensor of shape (C, H, W) with
    pixels in [0, 1] (C is 3 in ``"RGB"`` mode, 1 in ``"L"`` mode); its label is
    ``folder.targets[i]``. A file that cannot be read as a PNG or JPEG image
    raises :class:`ValueError` naming it when its item is accessed.

    Parameters
    ----------
    root : str or path-like
        The folder holding the class subfolders.
    transform : callable, default=None
        Called on every item, the float32 tensor described above; its return
        value becomes the item. For example
        ``torchvision.transforms.v2.Normalize(mean, std)`` or a function of your
        own.
    mode : {"RGB", "L"}, default="RGB"
        ``"RGB"`` gives three channels, ``"L"`` one (greyscale). Greyscale images
        in ``"RGB"`` mode get three equal channels; colour images in ``"L"`` mode
        are converted with Pillow's luminance formula. Transparency is dropped.
    size : tuple of (int, int), default=None
        ``(height, width)`` to resize every image to, with bilinear interpolation
        (antialiased when shrinking). ``None`` keeps each image's own size.

    Attributes
    ----------
    root : pathlib.Path
        The folder given.
    classes : list of str
        The class names: the sorted names of the class subfolders.
    class_to_idx : dict of str to int
        Each class name's index in ``classes``.
    samples : list of (str, int)
        Every image's path and class index, in the order of the items.
    targets : ndarray of int64, shape (n_samples,)
        The class index of every sample, read-only; pass it as ``y``.
    named_targets : ndarray of str, shape (n_samples,)
        The class name of every sample, ``classes[targets]``.

    Raises
    ------
    ValueError
        If ``root`` is not a folder, has no class subfolders, or a class subfolder
        holds no PNG or JPEG image; or if ``mode`` or ``size`` is invalid.
    TypeError
        If ``transform`` is neither callable nor None.
    ImportError
        If Pillow is not installed.

    See Also
    --------
    sklearn_noisy.benchmark.image_files.load_image_files : Loads such a folder
        into arrays for the benchmark.

    Notes
    -----
    Pixels are 8-bit in most PNG and JPEG files and are divided by 255; 16-bit
    greyscale PNG files are divided by 65535. EXIF orientation tags are ignored,
    as in torchvision: pixels are taken as stored.

    Examples
    --------
    >>> from sklearn_noisy.datasets import ImageFolder
    >>> folder = ImageFolder("photos")  # doctest: +SKIP
    >>> folder.classes  # doctest: +SKIP
    ['cat', 'dog']
    >>> folder[0].shape, folder.targets[0]  # doctest: +SKIP
    (torch.Size([3, 64, 64]), 0)
    """

    def __init__(self, root, transform=None, *, mode="RGB", size=None):
        pillow()
        if mode not in _MODES:
            raise ValueError(f"mode must be 'RGB' or 'L'; got {mode!r}.")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable or None; got {transform!r}.")
        self.root = Path(root)
        self.transform = transform
        self.mode = mode
        self.size = self._check_size(size)
        self.classes, self.samples = self._find_samples(self.root)
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}
        targets = np.array([target for _, target in self.samples], dtype=np.int64)
        # samples and targets must keep agreeing
        targets.setflags(write=False)
        self.targets = targets

    @staticmethod
    def _check_size(size):
        if size is None:
            return None
        try:
            height, width = size
            valid = all(operator.index(side) > 0 for side in (height, width))
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise ValueError(
                f"size must be None or (height, width), two positive integers; got {size!r}.")
        return operator.index(height), operator.index(width)

    @staticmethod
    def _find_samples(root):
        if not root.is_dir():
            problem = "is a file" if root.exists() else "does not exist"
            raise ValueError(f"{root} is not a folder: it {problem}.")
        with os.scandir(root) as entries:
            entries = sorted(entries, key=lambda entry: entry.name)
        class_folders = [entry for entry in entries
                         if not entry.name.startswith(".") and is_folder(entry)]
        if not class_folders:
            loose = sum(is_image_file(entry) for entry in entries)
            found = (f"it holds {loose} image{'s' * (loose > 1)} but no subfolders" if loose
                     else "it is empty" if not entries else "it holds no subfolders")
            raise ValueError(
                f"{root} has no class subfolders ({found}): put each class's images "
                "in a subfolder named after the class, root/<class name>/<image>.")
        samples, empty = [], []
        for index, folder in enumerate(class_folders):
            with os.scandir(folder.path) as files:
                files = sorted(files, key=lambda entry: entry.name)
            images = [file.path for file in files if is_image_file(file)]
            if not images:
                empty.append((folder.path, files))
            samples.extend((path, index) for path in images)
        if empty:
            raise ValueError(
                f"{root}: every subfolder is a class and must hold PNG or JPEG images "
                "(.png, .jpg, .jpeg) directly, but "
                + "; ".join(_describe_empty(path, files) for path, files in empty)
                + ". Remove these folders, or point root at the folder whose subfolders "
                "are the classes.")
        return [folder.name for folder in class_folders], samples

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        """Read image ``index``.

        Parameters
        ----------
        index : int
            Negative indices count from the end.

        Returns
        -------
        image : torch.Tensor of float32, shape (C, H, W)
            Pixels scaled to [0, 1]; C is 3 in ``"RGB"`` mode and 1 in ``"L"``
            mode. With a ``transform``, whatever it returns for this tensor.

        Raises
        ------
        ValueError
            Naming the file, if it cannot be read as a PNG or JPEG image.
        """
        try:
            index = operator.index(index)
        except TypeError:
            raise TypeError(
                f"ImageFolder indices must be integers; got {type(index).__name__}.") from None
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for {len(self)} images.")
        image = self._load(self.samples[index][0])
        return image if self.transform is None else self.transform(image)

    def _load(self, path):
        Image = pillow()
        resample = getattr(Image, "Resampling", Image).BILINEAR
        with open_image(path) as image:
            sixteen_bit = image.mode in _SIXTEEN_BIT_MODES
            image = image.convert("F" if sixteen_bit else self.mode)
        if self.size is not None:
            image = image.resize(self.size[::-1], resample=resample)
        pixels = np.asarray(image, dtype=np.float32)
        if sixteen_bit:
            pixels = np.clip(pixels / 65535, 0, 1)
            if self.mode == "RGB":
                pixels = np.repeat(pixels[..., None], 3, axis=-1)
        else:
            pixels /= 255
        tensor = torch.from_numpy(np.ascontiguousarray(pixels))
        return tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1).contiguous()

    @property
    def named_targets(self):
        """The class name of every sample, ``classes[targets]``."""
        return np.asarray(self.classes)[self.targets]

    def __repr__(self):
        return (f"{type(self).__name__}({str(self.root)!r}: {len(self)} images, "
                f"{len(self.classes)} classes, mode={self.mode!r}, size={self.size!r})")


def _describe_empty(path, files):
    others = [file.name for file in files if not file.name.startswith(".")]
    folders = [file.name for file in files if not file.name.startswith(".") and is_folder(file)]
    if not others:
        return f"{path} holds only hidden files" if files else f"{path} is empty"
    if folders and len(folders) == len(others):
        listed = ", ".join(folders[:3]) + (", ..." if len(folders) > 3 else "")
        return f"{path} holds only subfolders ({listed})"
    entries = "1 other entry" if len(others) == 1 else f"{len(others)} other entries"
    return f"{path} holds no PNG or JPEG image ({entries}, e.g. {others[0]})"
