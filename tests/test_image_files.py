"""The image-file loader: real formats load, anything it cannot read faithfully is refused."""

import codecs
import gzip
import os
import pickle
import re
import struct

import numpy as np
import pytest

from sklearn_noisy.benchmark.image_files import UnsafePickleError, load_image_files


def _write_idx(path, array, type_code=0x08, compress=False):
    array = np.asarray(array)
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8 if type_code == 0x08 else ">i2").tobytes()
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


def _mnist_folder(folder, n_train=6, n_test=4, labels=True, test_labels=True):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    images = rng.integers(0, 256, (n_train + n_test, 28, 28))
    _write_idx(folder / "train-images-idx3-ubyte", images[:n_train])
    _write_idx(folder / "t10k-images-idx3-ubyte", images[n_train:])
    if labels:
        _write_idx(folder / "train-labels-idx1-ubyte", np.arange(n_train) % 3)
    if test_labels:
        _write_idx(folder / "t10k-labels-idx1-ubyte", np.arange(n_test) % 3)
    return images


class _Python2Pickler(pickle._Pickler):
    """Writes str and bytes as Python 2 byte strings, as the original CIFAR archives do."""

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_byte_string(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = dispatch[bytes] = _save_byte_string

    def save_global(self, obj, name=None):
        module = obj.__module__.replace("numpy._core", "numpy.core")  # Python 2's numpy
        self.write(pickle.GLOBAL + f"{module}\n{obj.__qualname__}\n".encode())
        self.memoize(obj)


def _dump(path, batch, style):
    with open(path, "wb") as handle:
        if style == "python2":
            _Python2Pickler(handle, protocol=2).dump(batch)
        else:
            pickle.dump(batch, handle, protocol=style)


@pytest.mark.parametrize("style", ["python2", 2, pickle.HIGHEST_PROTOCOL])
@pytest.mark.parametrize("keys", [bytes, str])
def test_cifar10_folder_in_the_real_format_loads(tmp_path, style, keys):
    key = (lambda name: name.encode()) if keys is bytes else (lambda name: name)
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data = rng.integers(0, 256, (18, 3072), dtype=np.uint8)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for i, name in enumerate(names):
        _dump(folder / name, {key("batch_label"): key(name), key("data"): data[3 * i:3 * i + 3],
                              key("labels"): [int(v) for v in np.arange(3 * i, 3 * i + 3) % 10],
                              key("filenames"): [key("a.png")] * 3}, style)
    X, y = load_image_files(tmp_path)
    assert X.shape == (18, 3, 32, 32) and X.dtype == np.float32
    np.testing.assert_array_equal(X * np.float32(255), data.reshape(18, 3, 32, 32))
    np.testing.assert_array_equal(y, np.arange(18) % 10)
    assert y.dtype == np.int64


@pytest.mark.parametrize("style", ["python2", 2, pickle.HIGHEST_PROTOCOL])
def test_cifar100_folder_in_the_real_format_loads(tmp_path, style):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    data = rng.integers(0, 256, (5, 3072), dtype=np.uint8)
    _dump(folder / "train", {b"data": data[:3], b"fine_labels": [99, 0, 42],
                             b"coarse_labels": [1, 2, 3]}, style)
    _dump(folder / "test", {b"data": data[3:], b"fine_labels": [7, 8],
                            b"coarse_labels": [4, 5]}, style)
    for path in (tmp_path, folder):
        X, y = load_image_files(path)
        assert X.shape == (5, 3, 32, 32)
        np.testing.assert_array_equal(X * np.float32(255), data.reshape(5, 3, 32, 32))
        np.testing.assert_array_equal(y, [99, 0, 42, 7, 8])


class _CreatesFile:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


class _RunsShell:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _OddCodec:
    def __reduce__(self):
        return codecs.encode, ("text", "rot13")


@pytest.mark.parametrize("payload, refused", [
    (_CreatesFile, "io.open"), (_RunsShell, "system"), (lambda marker: _OddCodec(), "rot13")])
@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_cifar_batch_that_would_run_code_is_refused(tmp_path, payload, refused, protocol):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    marker = tmp_path / "pwned"
    batch = folder / "data_batch_1"
    with open(batch, "wb") as handle:
        pickle.dump({b"data": payload(marker), b"labels": [0]}, handle, protocol=protocol)
    with pytest.raises(UnsafePickleError, match=re.escape(str(batch))) as error:
        load_image_files(tmp_path)
    assert refused in str(error.value)
    assert isinstance(error.value, ValueError)
    assert isinstance(error.value, pickle.UnpicklingError)
    assert not marker.exists()


@pytest.mark.parametrize("batch, message", [
    ([1, 2, 3], "not a CIFAR batch dict"),
    ({b"data": np.zeros((2, 3072), np.uint8)}, "no 'labels' entry"),
    ({b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]}, "3072 pixels"),
    ({b"data": np.zeros((2, 3072), np.int64), b"labels": [0, 1]}, "int64 pixels"),
])
def test_malformed_cifar_batches_are_refused(tmp_path, batch, message):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    with open(folder / "data_batch_1", "wb") as handle:
        pickle.dump(batch, handle)
    with pytest.raises(ValueError, match=message) as error:
        load_image_files(tmp_path)
    assert str(folder / "data_batch_1") in str(error.value)


def test_truncated_pickle_is_refused(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]})
    (folder / "data_batch_1").write_bytes(data[:100])
    with pytest.raises(ValueError, match="data_batch_1 is not a readable CIFAR batch"):
        load_image_files(tmp_path)


def test_cifar_float_pixels_within_0_1_are_kept(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data = np.random.default_rng(0).random((2, 3072))
    with open(folder / "data_batch_1", "wb") as handle:
        pickle.dump({b"data": data, b"labels": [0, 1]}, handle)
    X, _ = load_image_files(tmp_path)
    np.testing.assert_array_equal(X, data.astype(np.float32).reshape(2, 3, 32, 32))
    with open(folder / "data_batch_1", "wb") as handle:
        pickle.dump({b"data": data * 255, b"labels": [0, 1]}, handle)
    with pytest.raises(ValueError, match="X / 255"):
        load_image_files(tmp_path)


@pytest.mark.parametrize("labels, message", [
    ([0, 0.5, 1, 1], "labels must be integers; got 0.5"),
    ([0, np.nan, 1, 1], "NaN"),
    ([0, 1, 1], "4 images but 3 labels"),
    (["cat", "dog", "cat", "dog"], "LabelEncoder"),
    (np.eye(4), r"one-hot labels"),
])
def test_npz_labels_that_cannot_be_read_faithfully_are_refused(tmp_path, labels, message):
    path = tmp_path / "a.npz"
    np.savez(path, X=np.zeros((4, 8, 8), np.uint8), y=labels)
    with pytest.raises(ValueError, match=message) as error:
        load_image_files(path)
    assert str(path) in str(error.value)


def test_npz_integer_valued_float_and_column_labels_are_accepted(tmp_path):
    np.savez(tmp_path / "a.npz", X=np.zeros((3, 8, 8), np.uint8), y=[1.0, 2.0, 0.0])
    assert load_image_files(tmp_path / "a.npz")[1].tolist() == [1, 2, 0]
    np.savez(tmp_path / "b.npz", x_train=np.zeros((3, 8, 8), np.uint8), y_train=[[1], [2], [0]])
    assert load_image_files(tmp_path / "b.npz")[1].tolist() == [1, 2, 0]


def test_npz_with_test_images_but_no_test_labels_is_refused(tmp_path):
    np.savez(tmp_path / "a.npz", x_train=np.zeros((3, 8, 8), np.uint8), y_train=[0, 1, 0],
             x_test=np.zeros((1, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="only one of 'x_test' and 'y_test'"):
        load_image_files(tmp_path / "a.npz")


def test_npz_that_is_not_a_zip_is_refused(tmp_path):
    (tmp_path / "a.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="a.npz cannot be read as an .npz file"):
        load_image_files(tmp_path / "a.npz")


@pytest.mark.parametrize("images, message", [
    (np.full((2, 8, 8), 200.0), "float pixels from 200.0 to 200.0.*X / 255"),
    (np.full((2, 8, 8), -0.5), "float pixels from -0.5"),
    (np.full((2, 8, 8), 3, np.int16), "int16 pixels.*astype\\(np.uint8\\)"),
    (np.full((2, 8, 8), np.nan), "NaN pixels"),
    (np.full((2, 8, 8), np.inf), "to inf"),
])
def test_npz_pixels_outside_the_rule_are_refused(tmp_path, images, message):
    np.savez(tmp_path / "a.npz", X=images, y=[0, 1])
    with pytest.raises(ValueError, match=message):
        load_image_files(tmp_path / "a.npz")


def test_npz_pixels_follow_one_rule(tmp_path):
    floats = np.random.default_rng(0).random((2, 8, 8)).astype(np.float64)
    np.savez(tmp_path / "a.npz", x_train=floats, y_train=[0, 1],
             x_test=np.full((1, 8, 8), 255, np.uint8), y_test=[1])
    X, _ = load_image_files(tmp_path / "a.npz")
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X[:2, 0], floats.astype(np.float32))
    np.testing.assert_array_equal(X[2], 1.0)


def test_mnist_folder_without_labels_names_the_missing_file(tmp_path):
    _mnist_folder(tmp_path / "MNIST" / "raw", labels=False)
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte .*is missing"):
        load_image_files(tmp_path)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    _write_idx(tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte", np.arange(6) % 3)
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte .*is missing"):
        load_image_files(tmp_path)


def test_mnist_plain_and_gz_copies_in_one_folder_load_once(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    images = _mnist_folder(raw)
    for name in os.listdir(raw):  # torchvision keeps the downloaded .gz next to each file
        _write_idx(raw / name, np.zeros((1, 28, 28)) if "images" in name else [0],
                   compress=True)
    X, y = load_image_files(tmp_path)
    assert X.shape == (10, 1, 28, 28)
    np.testing.assert_array_equal(X[:, 0] * np.float32(255), images)


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:-5], "truncated or damaged"),
    (lambda data: data + b"\x00", "truncated or damaged"),
    (lambda data: b"\x00\x00\x09" + data[3:], "not an unsigned-byte IDX file"),
    (lambda data: data[:6], "broken IDX header"),
])
def test_damaged_idx_files_are_refused(tmp_path, damage, message):
    _mnist_folder(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=message) as error:
        load_image_files(tmp_path)
    assert str(path) in str(error.value)


def test_truncated_gz_idx_file_is_refused(tmp_path):
    _mnist_folder(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(path.read_bytes())[:50])
    path.unlink()
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz cannot be read"):
        load_image_files(tmp_path)


def test_a_gz_idx_file_is_never_decompressed_beyond_its_header(tmp_path):
    import tracemalloc

    _mnist_folder(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    header = path.read_bytes()[:16]  # 6 images of 28 x 28 announced
    # 64 MB of zeros behind it compress to about 64 kB
    bomb = gzip.compress(header + bytes(6 * 28 * 28) + bytes(64 << 20), compresslevel=9)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(bomb)
    path.unlink()
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"announces shape \(6, 28, 28\).* more bytes"):
            load_image_files(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


@pytest.mark.parametrize("extra, shape", [(1 << 20, (4, 4)), (0, (4096, 4096))])
def test_an_npz_member_unlike_its_header_is_refused_before_loading(tmp_path, extra, shape):
    import io
    import zipfile

    def member(array, shape, extra):
        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
        return buffer.getvalue() + array.astype("<f4").tobytes() + bytes(extra)

    path = tmp_path / "data.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("X.npy", member(np.zeros((4, 4)), shape, extra))
        archive.writestr("y.npy", member(np.zeros(4), (4,), 0))
    with pytest.raises(ValueError, match=r"X.npy declares an array of shape .* damaged"):
        load_image_files(path)


def test_idx_images_and_labels_of_different_lengths_are_refused(tmp_path):
    _mnist_folder(tmp_path)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", [0, 1])
    with pytest.raises(ValueError, match="6 images but 2 labels"):
        load_image_files(tmp_path)


def test_non_byte_idx_files_are_refused(tmp_path):
    _mnist_folder(tmp_path)
    _write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((6, 28, 28)), type_code=0x0B)
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        load_image_files(tmp_path)


def test_folder_with_several_data_sets_lists_them(tmp_path):
    _mnist_folder(tmp_path / "MNIST" / "raw")
    _mnist_folder(tmp_path / "FashionMNIST" / "raw")
    with pytest.raises(ValueError, match="several data sets") as error:
        load_image_files(tmp_path)
    message = str(error.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert str(tmp_path / "FashionMNIST" / "raw") in message
    assert "--dataset" in message
    assert load_image_files(tmp_path / "FashionMNIST")[0].shape == (10, 1, 28, 28)

    for folder in ("cifar-10-batches-py", "cifar-100-python"):
        (tmp_path / "cifar" / folder).mkdir(parents=True)
        with open(tmp_path / "cifar" / folder / "train", "wb") as handle:
            pickle.dump({b"data": np.zeros((1, 3072), np.uint8), b"fine_labels": [0]}, handle)
    (tmp_path / "cifar" / "cifar-10-batches-py" / "train").rename(
        tmp_path / "cifar" / "cifar-10-batches-py" / "data_batch_1")
    with pytest.raises(ValueError, match="CIFAR-10 batches.*\n.*CIFAR-100 batches"):
        load_image_files(tmp_path / "cifar")
    with pytest.raises(ValueError, match="CIFAR-100 batches(.|\n)*MNIST IDX files"):
        load_image_files(tmp_path)


@pytest.mark.parametrize("files", [
    [], ["readme.txt"], ["data_batch_1.bin", "test_batch.bin"]])
def test_folder_with_nothing_readable_says_what_was_expected(tmp_path, files):
    for name in files:
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(ValueError, match="no MNIST IDX files.*CIFAR-10 batches.*found under"):
        load_image_files(tmp_path)


def test_cifar_folder_with_only_a_test_batch_is_refused(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as handle:
        pickle.dump({b"data": np.zeros((1, 3072), np.uint8), b"labels": [0]}, handle)
    with pytest.raises(ValueError, match="holds only test_batch, no training batch"):
        load_image_files(tmp_path)


def _idx_header(*shape):
    return bytes([0, 0, 8, len(shape)]) + b"".join(size.to_bytes(4, "big") for size in shape)


def test_npz_parts_of_different_image_shapes_name_the_file(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, x_train=np.zeros((2, 3, 3), np.uint8), y_train=[0, 1],
             x_test=np.zeros((2, 4, 4), np.uint8), y_test=[0, 1])
    with pytest.raises(ValueError, match=re.escape(
            f"different image shapes (channels, height, width): {path} (x_train, y_train): "
            f"(1, 3, 3); {path} (x_test, y_test): (1, 4, 4)")):
        load_image_files(path)


def test_npz_path_holding_a_plain_npy_array_is_refused(tmp_path):
    path = tmp_path / "a.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.zeros((2, 3, 3), np.uint8))
    with pytest.raises(ValueError, match=re.escape(f"{path} is a .npy array, not an .npz "
                                                   "archive")):
        load_image_files(path)


def test_corrupt_gzip_stream_is_refused_naming_the_file(tmp_path):
    _mnist_folder(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    zipped = gzip.compress(path.read_bytes())
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(
        zipped[:10] + b"\xff" * 8 + zipped[18:])  # a broken deflate block, not truncation
    path.unlink()
    with pytest.raises(ValueError, match=re.escape(
            f"{path}.gz cannot be read: its compressed data is corrupt")):
        load_image_files(tmp_path)


def test_idx_header_whose_shape_overflows_int64_is_refused(tmp_path):
    # 65536**4 = 2**64 wraps around to 0 in int64: np.prod would call it empty
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_header(65536, 65536, 65536, 65536))
    _write_idx(tmp_path / "train-labels-idx1-ubyte", [0])
    with pytest.raises(ValueError, match=re.escape(
            f"{tmp_path / 'train-images-idx3-ubyte'} is truncated or damaged: its header "
            f"announces shape (65536, 65536, 65536, 65536) ({2**64} bytes) but 0 bytes")):
        load_image_files(tmp_path)


@pytest.mark.parametrize("images", [
    np.zeros((2, 0, 3), np.float32),  # numpy's zero-size reduction error before
    np.zeros((2, 3, 0), np.uint8),  # accepted before
    np.zeros((2, 0, 2, 2), np.uint8),
])
def test_images_without_pixels_are_refused(tmp_path, images):
    path = tmp_path / "a.npz"
    np.savez(path, X=images, y=[0, 1])
    with pytest.raises(ValueError, match=re.escape(f"{path} (X, y): images of shape ") +
                       r".*hold no pixel; images need at least one pixel"):
        load_image_files(path)


def test_mnist_images_without_pixels_are_refused(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_header(2, 0, 28))
    _write_idx(tmp_path / "train-labels-idx1-ubyte", [0, 1])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*hold no pixel"):
        load_image_files(tmp_path)


def test_uint64_labels_beyond_int64_are_refused(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, X=np.zeros((2, 2, 2), np.uint8), y=np.array([1, 2**63 + 5], np.uint64))
    with pytest.raises(ValueError, match=re.escape(f"{path} (X, y): labels must fit int64; "
                                                   f"got {2**63 + 5} (uint64)")):
        load_image_files(path)
    np.savez(path, X=np.zeros((2, 2, 2), np.uint8), y=np.array([1, 2**63 - 1], np.uint64))
    assert load_image_files(path)[1].tolist() == [1, 2**63 - 1]


def test_a_path_too_long_for_the_file_system_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is not a usable path: File name too long"):
        load_image_files(tmp_path / ("a" * 300))
