"""ImageFolder: a lazy data set over class subfolders of PNG/JPEG files, and the
benchmark's --dataset reading such a folder into arrays."""

import pickle
import sys

import numpy as np
import pytest
import torch

Image = pytest.importorskip("PIL.Image")

from sklearn_noisy import CrossEntropyClassifier  # noqa: E402
from sklearn_noisy.benchmark.datasets import load_dataset  # noqa: E402
from sklearn_noisy.benchmark.image_files import load_image_files  # noqa: E402
from sklearn_noisy.datasets import ImageFolder  # noqa: E402

CLASSES = ("cat", "ant", "bee")  # written unsorted: the class order must not depend on it


def _save(path, pixels):
    Image.fromarray(pixels).save(path, format="PNG" if path.suffix.lower() == ".png"
                                 else "JPEG")


def _image_folder(root, n_per_class=4, shape=(8, 8, 3), ext=".png", seed=0):
    """3 classes x n images of random pixels; returns {path: uint8 pixels}."""
    rng = np.random.default_rng(seed)
    pixels = {}
    for name in CLASSES:
        (root / name).mkdir(parents=True)
        for index in reversed(range(n_per_class)):
            path = root / name / f"img{index}{ext}"
            pixels[path] = rng.integers(0, 256, shape, dtype=np.uint8)
            _save(path, pixels[path])
    return pixels


def _expected(pixels):
    """(C, H, W) float32 in [0, 1] of uint8 (H, W) or (H, W, C) pixels."""
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    return pixels.transpose(2, 0, 1).astype(np.float32) / 255


@pytest.fixture
def folder(tmp_path):
    pixels = _image_folder(tmp_path / "images")
    return tmp_path / "images", pixels


def test_classes_samples_and_targets_are_sorted(folder):
    root, _ = folder
    images = ImageFolder(root)
    assert images.classes == ["ant", "bee", "cat"]
    assert images.class_to_idx == {"ant": 0, "bee": 1, "cat": 2}
    assert len(images) == 12
    assert images.samples == [(str(root / name / f"img{index}.png"), target)
                              for target, name in enumerate(images.classes)
                              for index in range(4)]
    assert images.targets.dtype == np.int64
    np.testing.assert_array_equal(images.targets, np.repeat([0, 1, 2], 4))
    np.testing.assert_array_equal(images.named_targets, np.repeat(["ant", "bee", "cat"], 4))
    with pytest.raises(ValueError, match="read-only"):
        images.targets[0] = 1


def test_items_are_float_tensors_scaled_to_unit_interval(folder):
    root, pixels = folder
    images = ImageFolder(root)
    for index, (path, _) in enumerate(images.samples):
        item = images[index]
        assert isinstance(item, torch.Tensor)
        assert item.dtype == torch.float32 and item.shape == (3, 8, 8)
        assert 0 <= item.min() and item.max() <= 1
        np.testing.assert_array_equal(item.numpy(), _expected(pixels[type(root)(path)]))
    np.testing.assert_array_equal(images[-1].numpy(), images[11].numpy())
    assert len(list(images)) == 12  # iterating stops at the IndexError
    with pytest.raises(IndexError, match="out of range"):
        images[12]
    with pytest.raises(TypeError, match="integers"):
        images[1.0]


def test_jpeg_files_and_extensions_in_any_case(tmp_path):
    _image_folder(tmp_path, n_per_class=2, ext=".jpg")
    smooth = np.tile(np.linspace(0, 255, 8, dtype=np.uint8)[:, None, None], (1, 8, 3))
    for name, pixel_array in (("a.JPG", smooth), ("b.jpeg", smooth), ("c.Jpeg", smooth),
                              ("d.PNG", smooth)):
        _save(tmp_path / "ant" / name, pixel_array)
    for ignored in ("notes.txt", "e.gif", ".hidden.png", "._f.png"):
        (tmp_path / "ant" / ignored).write_bytes(b"not an image")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    _save(tmp_path / ".ipynb_checkpoints" / "x.png", smooth)
    images = ImageFolder(tmp_path)
    assert images.classes == ["ant", "bee", "cat"]
    assert [p.rsplit("/", 1)[-1] for p, _ in images.samples[:6]] == [
        "a.JPG", "b.jpeg", "c.Jpeg", "d.PNG", "img0.jpg", "img1.jpg"]
    for index in range(len(images)):
        item = images[index]
        assert item.shape == (3, 8, 8) and item.dtype == torch.float32
        assert 0 <= item.min() and item.max() <= 1
        with Image.open(images.samples[index][0]) as decoded:
            np.testing.assert_array_equal(item.numpy(), _expected(np.asarray(decoded)))
    # JPEG is lossy, but a smooth gradient comes back close
    np.testing.assert_allclose(images[1].numpy(), _expected(smooth), atol=0.05)


def test_transform_is_applied_to_each_item(folder):
    root, _ = folder
    seen = []

    def transform(image):
        seen.append(image)
        return image.mean(dim=0) * 2

    images = ImageFolder(root, transform=transform)
    item = images[3]
    assert len(seen) == 1 and seen[0].shape == (3, 8, 8) and seen[0].dtype == torch.float32
    torch.testing.assert_close(item, seen[0].mean(dim=0) * 2)
    torch.testing.assert_close(item, ImageFolder(root)[3].mean(dim=0) * 2)
    with pytest.raises(TypeError, match="callable"):
        ImageFolder(root, transform="resize")


def test_images_are_read_when_accessed(folder, monkeypatch):
    root, _ = folder
    opened = []
    real_open = Image.open

    def counting_open(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    images = ImageFolder(root)
    assert opened == []
    images[5]
    assert opened == [images.samples[5][0]]

    # a file replaced after construction is read as it is now
    path = type(root)(images.samples[0][0])
    _save(path, np.full((8, 8, 3), 255, dtype=np.uint8))
    assert torch.equal(images[0], torch.ones(3, 8, 8))


def test_greyscale_mode(tmp_path):
    rgb = _image_folder(tmp_path / "rgb", n_per_class=1)
    grey = _image_folder(tmp_path / "grey", n_per_class=1, shape=(8, 8))
    for path, item in zip(rgb, [ImageFolder(tmp_path / "rgb", mode="L")[i]
                                for i in (2, 0, 1)]):
        assert item.shape == (1, 8, 8) and item.dtype == torch.float32
        expected = np.asarray(Image.fromarray(rgb[path]).convert("L"))
        np.testing.assert_array_equal(item.numpy(), _expected(expected))
    for path, item in zip(grey, [ImageFolder(tmp_path / "grey")[i] for i in (2, 0, 1)]):
        assert item.shape == (3, 8, 8)  # "RGB" by default: three equal channels
        np.testing.assert_array_equal(item.numpy(), _expected(np.stack([grey[path]] * 3, -1)))
    with pytest.raises(ValueError, match="mode must be 'RGB' or 'L'"):
        ImageFolder(tmp_path / "rgb", mode="RGBA")


def test_sixteen_bit_png_is_scaled_not_clipped(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    pixels = (np.arange(64).reshape(8, 8) * 1000).astype(np.uint16)
    Image.fromarray(pixels).save(tmp_path / "a" / "deep.png")
    _save(tmp_path / "b" / "flat.png", np.zeros((8, 8), np.uint8))
    expected = pixels.astype(np.float32) / 65535
    np.testing.assert_allclose(ImageFolder(tmp_path, mode="L")[0][0].numpy(), expected,
                               rtol=1e-6)
    np.testing.assert_allclose(ImageFolder(tmp_path)[0].numpy(), np.stack([expected] * 3),
                               rtol=1e-6)


def test_size_resizes_every_image(tmp_path):
    _image_folder(tmp_path, n_per_class=1, shape=(8, 8, 3))
    _save(tmp_path / "ant" / "wide.png", np.zeros((5, 12, 3), np.uint8))
    images = ImageFolder(tmp_path, size=(4, 6))
    assert {tuple(images[i].shape) for i in range(len(images))} == {(3, 4, 6)}
    assert ImageFolder(tmp_path, mode="L", size=(16, 16))[0].shape == (1, 16, 16)
    for size in [4, (4,), (0, 4), (4.0, 4), "44"]:
        with pytest.raises(ValueError, match="size must be None or"):
            ImageFolder(tmp_path, size=size)


def test_dataloader_and_pickle(folder):
    root, _ = folder
    images = pickle.loads(pickle.dumps(ImageFolder(root)))
    batches = list(torch.utils.data.DataLoader(images, batch_size=5))
    assert [tuple(batch.shape) for batch in batches] == [(5, 3, 8, 8), (5, 3, 8, 8),
                                                         (2, 3, 8, 8)]


def test_arrays_for_the_estimators(folder):
    root, _ = folder
    images = ImageFolder(root, mode="L")
    X = np.stack([images[i].numpy() for i in range(len(images))])
    y = images.targets
    assert X.shape == (12, 1, 8, 8)
    model = CrossEntropyClassifier(max_epochs=2, random_state=0).fit(X, y)
    assert model.predict(X).shape == (12,)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])


@pytest.mark.parametrize("layout, message", [
    ({}, "no class subfolders .it is empty"),
    ({"loose.png": "png"}, "no class subfolders .it holds 1 image but no subfolders"),
    ({"readme.txt": "text", ".hidden/x.png": "png"}, "no class subfolders .it holds no sub"),
])
def test_root_without_class_folders_is_refused(tmp_path, layout, message):
    for name, kind in layout.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        if kind == "png":
            _save(tmp_path / name, np.zeros((2, 2), np.uint8))
        else:
            (tmp_path / name).write_text("x")
    with pytest.raises(ValueError, match=message):
        ImageFolder(tmp_path)


def test_missing_root_and_file_root_are_refused(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        ImageFolder(tmp_path / "nowhere")
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(ValueError, match="is a file"):
        ImageFolder(tmp_path / "file.png")


def test_class_folders_without_images_are_named(tmp_path):
    _image_folder(tmp_path, n_per_class=1)
    (tmp_path / "empty").mkdir()
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / ".DS_Store").write_bytes(b"x")
    (tmp_path / "gifs").mkdir()
    (tmp_path / "gifs" / "a.gif").write_bytes(b"GIF89a")
    (tmp_path / "nested" / "inner").mkdir(parents=True)
    _save(tmp_path / "nested" / "inner" / "x.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError) as error:
        ImageFolder(tmp_path)
    message = str(error.value)
    assert f"{tmp_path / 'empty'} is empty" in message
    assert f"{tmp_path / 'hidden'} holds only hidden files" in message
    assert f"{tmp_path / 'gifs'} holds no PNG or JPEG image (1 other entry, e.g. a.gif)" in message
    assert f"{tmp_path / 'nested'} holds only subfolders (inner)" in message


@pytest.mark.parametrize("where", ["root/loop", "root/ant/loop.png"])
def test_a_symbolic_link_loop_is_named(tmp_path, where):
    _image_folder(tmp_path, n_per_class=1)
    link = tmp_path / where.removeprefix("root/")
    link.symlink_to(link)
    with pytest.raises(ValueError, match="symbolic link that leads back to itself") as error:
        ImageFolder(tmp_path)
    assert str(link) in str(error.value)


@pytest.mark.parametrize("content", [
    b"", b"not an image at all",
    "truncated png",
    "gif named png",
])
def test_unreadable_image_is_named_when_accessed(folder, content):
    root, _ = folder
    images = ImageFolder(root)
    path = type(root)(images.samples[6][0])
    if content == "truncated png":
        content = path.read_bytes()[:60]
    elif content == "gif named png":  # only the PNG and JPEG decoders are used
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(path, format="GIF")
        content = path.read_bytes()
    path.write_bytes(content)
    images[5]  # the others still load
    with pytest.raises(ValueError, match=f"{path} cannot be read as a PNG or JPEG image"):
        images[6]


def test_deleted_image_is_named_when_accessed(folder):
    root, _ = folder
    images = ImageFolder(root)
    path = type(root)(images.samples[0][0])
    path.unlink()
    with pytest.raises(ValueError, match=f"{path} cannot be read"):
        images[0]


def test_without_pillow_the_error_says_how_to_install_it(folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match="pip install Pillow"):
        ImageFolder(folder[0])


def test_benchmark_loads_an_image_folder(folder):
    root, _ = folder
    images = ImageFolder(root)
    expected = np.stack([images[i].numpy() for i in range(len(images))])
    for X, y in (load_image_files(root), load_dataset(str(root))):
        assert X.dtype == np.float32 and X.shape == (12, 3, 8, 8)
        assert 0 <= X.min() and X.max() <= 1
        np.testing.assert_array_equal(X, expected)
        np.testing.assert_array_equal(y, np.repeat([0, 1, 2], 4))


def test_benchmark_keeps_greyscale_folders_to_one_channel(tmp_path):
    _image_folder(tmp_path, shape=(6, 7))
    X, y = load_image_files(tmp_path)
    assert X.shape == (12, 1, 6, 7) and X.dtype == np.float32
    np.testing.assert_array_equal(X, np.stack(
        [item.numpy() for item in ImageFolder(tmp_path, mode="L")]))
    # one colour image makes the whole folder RGB
    _save(tmp_path / "ant" / "colour.png", np.zeros((6, 7, 3), np.uint8))
    assert load_image_files(tmp_path)[0].shape == (13, 3, 6, 7)


def test_benchmark_refuses_images_of_different_sizes(folder):
    root, _ = folder
    odd = root / "bee" / "odd.png"
    _save(odd, np.zeros((16, 12, 3), np.uint8))
    with pytest.raises(ValueError, match="2 different sizes") as error:
        load_image_files(root)
    message = str(error.value)
    assert "8x8 (12 images" in message and f"16x12 (1 image, e.g. {odd})" in message
    assert "resize" in message and "size=(32, 32)" in message


def test_benchmark_names_an_unreadable_image(folder):
    root, _ = folder
    bad = root / "cat" / "img2.png"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match=f"{bad} cannot be read as a PNG or JPEG image"):
        load_image_files(root)


def test_benchmark_still_refuses_several_data_sets(folder):
    root, _ = folder
    (root / "MNIST" / "raw").mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (root / "MNIST" / "raw" / name).write_bytes(b"")
    with pytest.raises(ValueError, match="several data sets") as error:
        load_image_files(root)
    assert str(root / "MNIST" / "raw") in str(error.value)
    assert "PNG/JPEG images in class subfolders" in str(error.value)


def test_benchmark_refuses_a_folder_one_level_too_high(tmp_path):
    _image_folder(tmp_path / "train")
    with pytest.raises(ValueError, match="not a folder of class subfolders holding PNG/JPEG"):
        load_dataset(str(tmp_path))
