"""Image files read with Pillow's PNG and JPEG decoders only.

Pillow's other plugins include some that start external programs (such as
Ghostscript for EPS files), so no file is ever opened with them, whatever
its extension says.
"""

import errno
import os

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
# the only decoders Pillow may use, whatever the file's extension claims
_FORMATS = ("PNG", "JPEG")


def pillow():
    """The ``PIL.Image`` module, or an ImportError saying how to install it."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            "sklearn_noisy.datasets.ImageFolder reads images with Pillow, which is not "
            "installed: pip install Pillow (it also comes with torchvision: "
            "pip install 'sklearn_noisy[vision]').") from error
    return Image


def is_image_file(entry):
    """Whether the ``os.DirEntry`` is a visible file with an image extension."""
    return (not entry.name.startswith(".") and _follows(entry, entry.is_file)
            and os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS)


def is_folder(entry):
    """Whether the ``os.DirEntry`` is a folder, or a link to one."""
    return _follows(entry, entry.is_dir)


def _follows(entry, check):
    try:
        return check()
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise ValueError(
            f"{entry.path} is a symbolic link that leads back to itself (a loop): "
            "remove it or point it at a file or folder.") from None


def open_image(path):
    """Open ``path`` with Pillow's PNG or JPEG decoder and read its pixels.

    Raises
    ------
    ValueError
        Naming the file, if it is missing, unreadable, truncated, not a PNG or
        JPEG image, or too large for Pillow's decompression-bomb limit.
    """
    Image = pillow()
    try:
        image = Image.open(path, formats=_FORMATS)
        try:
            image.load()
        except BaseException:
            image.close()
            raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        raise ValueError(
            f"{path} cannot be read as a PNG or JPEG image: {error}") from error
    return image


def read_header(path):
    """``(width, height), mode`` of an image, from its header only."""
    Image = pillow()
    try:
        with Image.open(path, formats=_FORMATS) as image:
            return image.size, image.mode
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        raise ValueError(
            f"{path} cannot be read as a PNG or JPEG image: {error}") from error
