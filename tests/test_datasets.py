"""Tests for csoftmax.datasets: the IDX reader and load_mnist.

The OpenML tests run the real ``sklearn.datasets.fetch_openml`` against a
small fake ``mnist_784`` written in its cache layout under ``tmp_path``, with
the network opener replaced by one that fails, so they never go online.
"""

import doctest
import gzip
import hashlib
import json
import re
import struct
import subprocess
import sys
import tracemalloc
import zlib
from urllib.error import URLError

import numpy as np
import pytest
import sklearn.datasets._openml

import csoftmax._idx
import csoftmax.datasets
from csoftmax.datasets import (
    IDX_MAX_NDIM,
    MNIST_N_TRAIN,
    MNISTUnavailableError,
    load_mnist,
    read_idx,
)

IDX_TYPE_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}
TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_bytes(array):
    """Encode ``array`` as the bytes of an IDX file."""
    array = np.asarray(array)
    header = struct.pack(
        f">4B{array.ndim}I",
        0,
        0,
        IDX_TYPE_CODES[array.dtype],
        array.ndim,
        *array.shape,
    )
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, compress=False):
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_mnist_pair(folder, images_name, labels_name, n, rng, compress=False):
    """Write ``n`` random 28x28 images and labels; return them."""
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    suffix = ".gz" if compress else ""
    write_idx(folder / (images_name + suffix), images, compress)
    write_idx(folder / (labels_name + suffix), labels, compress)
    return images, labels


@pytest.fixture
def no_mnist_dir(monkeypatch):
    """Unset CSOFTMAX_MNIST_DIR (the CI script sets it)."""
    monkeypatch.delenv("CSOFTMAX_MNIST_DIR", raising=False)


@pytest.fixture
def network_calls(monkeypatch):
    """Make fetch_openml's opener fail like an offline machine; record URLs."""
    calls = []

    def offline_urlopen(request, *args, **kwargs):
        calls.append(request.full_url)
        raise URLError("network disabled in tests")

    monkeypatch.setattr(sklearn.datasets._openml, "urlopen", offline_urlopen)
    # fetch_openml sleeps between its retries; skip the waiting.
    monkeypatch.setattr(sklearn.datasets._openml.time, "sleep", lambda seconds: None)
    return calls


# --------------------------------------------------------------------------
# read_idx


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        np.array([-128, -1, 0, 127], dtype=np.int8),
        np.array([[-300, 2], [7, 32000]], dtype=np.int16),
        np.array([-(2**31), 2**31 - 1, 5], dtype=np.int32),
        np.array([[0.5, -1e30], [np.inf, 3.25]], dtype=np.float32),
        np.array([1e-300, -2.5, np.pi], dtype=np.float64),
        np.zeros((0, 28, 28), dtype=np.uint8),
    ],
    ids=["uint8-3d", "int8", "int16", "int32", "float32", "float64", "empty"],
)
def test_read_idx_round_trip(tmp_path, array, compress):
    path = write_idx(tmp_path / "data-idx", array, compress)

    result = read_idx(path)

    assert result.dtype == array.dtype
    assert result.dtype.isnative
    assert result.shape == array.shape
    assert result.flags.writeable
    np.testing.assert_array_equal(result, array)


def test_read_idx_accepts_str_and_detects_gzip_by_content(tmp_path):
    labels = np.array([7, 2, 1, 0], dtype=np.uint8)
    # gzip content under a name without ".gz"
    path = write_idx(tmp_path / "labels-idx1-ubyte", labels, compress=True)

    np.testing.assert_array_equal(read_idx(str(path)), labels)


@pytest.mark.parametrize(
    "content, match",
    [
        (b"\x01\x02\x08\x01" + struct.pack(">I", 1) + b"\x05", "magic number"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x05", "unknown type code"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
    ],
    ids=["bad-magic", "bad-type-code", "no-dimensions"],
)
def test_read_idx_rejects_bad_magic(tmp_path, content, match):
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(content)

    with pytest.raises(ValueError, match=match) as excinfo:
        read_idx(path)
    assert str(path) in str(excinfo.value)


def test_read_idx_rejects_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are not the pixels you are looking for")

    with pytest.raises(ValueError, match="magic number 0x74686573"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize(
    "n_bytes", [2, 6, -1], ids=["in-magic", "in-header", "in-data"]
)
def test_read_idx_rejects_truncated_file(tmp_path, n_bytes, compress):
    full = idx_bytes(np.ones((3, 28, 28), dtype=np.uint8))
    data = full[:n_bytes]
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(gzip.compress(data) if compress else data)

    with pytest.raises(ValueError, match="is truncated") as excinfo:
        read_idx(path)
    assert str(path) in str(excinfo.value)


def test_read_idx_rejects_truncated_gzip_stream(tmp_path):
    compressed = gzip.compress(idx_bytes(np.arange(1000, dtype=np.int32)))
    path = tmp_path / "data-idx1-int.gz"
    path.write_bytes(compressed[: len(compressed) // 2])

    with pytest.raises(ValueError, match="corrupt or truncated gzip") as excinfo:
        read_idx(path)
    assert str(path) in str(excinfo.value)


def test_read_idx_rejects_trailing_bytes(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.zeros(4, dtype=np.uint8)) + b"\x00")

    with pytest.raises(ValueError, match="trailing bytes"):
        read_idx(path)


def idx_header(type_code, shape):
    """The bytes of an IDX header declaring ``shape``."""
    return struct.pack(f">4B{len(shape)}I", 0, 0, type_code, len(shape), *shape)


def test_read_idx_dimensions_that_wrap_in_int64(tmp_path):
    # 2**16 ** 4 = 2**64 is 0 in int64 arithmetic: a header-only file then
    # looked consistent, and NumPy failed later with "cannot reshape".
    shape = (2**16,) * 4
    path = tmp_path / "wrap-idx4-ubyte"
    path.write_bytes(idx_header(0x08, shape))

    with pytest.raises(ValueError) as excinfo:
        read_idx(path)

    message = str(excinfo.value)
    assert str(path) in message
    assert f"declares the shape {shape} of uint8, {2**64} bytes of data" in message
    assert "more than max_bytes=4294967296" in message


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_read_idx_huge_dimensions_give_a_positive_byte_count(tmp_path, compress):
    shape = (2**31 + 1, 2**31 + 1, 3)
    path = tmp_path / "huge-idx3-ubyte"
    content = idx_header(0x0E, shape) + bytes(64)
    path.write_bytes(gzip.compress(content) if compress else content)

    with pytest.raises(ValueError) as excinfo:
        read_idx(path)

    message = str(excinfo.value)
    assert str(path) in message
    assert f"{8 * (2**31 + 1) ** 2 * 3} bytes of data" in message
    assert not re.search(r"-\d", message.replace(str(path), ""))


def test_read_idx_empty_array_with_huge_dimensions(tmp_path):
    # No data, but NumPy could not form the strides of the other dimensions.
    path = tmp_path / "empty-idx3-ubyte"
    path.write_bytes(idx_header(0x08, (0, 2**32 - 1, 2**32 - 1)))

    with pytest.raises(ValueError, match="counting its zero-length dimensions as 1"):
        read_idx(path)


@pytest.mark.parametrize("ndim", [33, 255])
def test_read_idx_rejects_too_many_dimensions(tmp_path, ndim):
    path = tmp_path / "many-idx-ubyte"
    path.write_bytes(idx_header(0x08, (1,) * ndim) + b"\x07")

    with pytest.raises(ValueError) as excinfo:
        read_idx(path)

    message = str(excinfo.value)
    assert str(path) in message
    assert f"declares {ndim} dimensions" in message
    assert f"expected 1 to {IDX_MAX_NDIM}" in message


def test_read_idx_reads_the_most_dimensions(tmp_path):
    array = np.arange(2, dtype=np.int16).reshape((2,) + (1,) * (IDX_MAX_NDIM - 1))
    path = write_idx(tmp_path / "deep-idx-short", array)

    np.testing.assert_array_equal(read_idx(path), array)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_read_idx_max_bytes(tmp_path, compress):
    array = np.arange(25, dtype=np.int32)  # 100 data bytes
    path = write_idx(tmp_path / "data-idx1-int", array, compress)

    np.testing.assert_array_equal(read_idx(path, max_bytes=100), array)
    with pytest.raises(ValueError, match=r"400 bytes of data|100 bytes of data"):
        read_idx(path, max_bytes=99)


@pytest.mark.parametrize(
    "max_bytes, error", [("100", TypeError), (1.5, TypeError), (True, TypeError), (-1, ValueError)]
)
def test_read_idx_rejects_bad_max_bytes(tmp_path, max_bytes, error):
    path = write_idx(tmp_path / "data-idx1-ubyte", np.zeros(3, dtype=np.uint8))

    with pytest.raises(error, match="max_bytes"):
        read_idx(path, max_bytes=max_bytes)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_read_idx_truncated_file_allocates_only_what_it_holds(tmp_path, compress):
    # The header declares 2 GiB; the file holds 10 data bytes.
    content = idx_header(0x08, (2**31,)) + bytes(10)
    path = tmp_path / "short-idx1-ubyte"
    path.write_bytes(gzip.compress(content) if compress else content)

    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="is truncated") as excinfo:
            read_idx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert str(path) in str(excinfo.value)
    assert f"needs {2**31} data bytes but the file has 10" in str(excinfo.value)
    assert peak < 2**20


def test_read_idx_reads_concatenated_gzip_members(tmp_path):
    # gzip treats consecutive members as one stream; so does read_idx.
    data = idx_bytes(np.arange(300, dtype=np.int16))
    path = tmp_path / "members-idx1-short.gz"
    path.write_bytes(b"".join(gzip.compress(data[i : i + 7]) for i in range(0, len(data), 7)))

    np.testing.assert_array_equal(read_idx(path), np.arange(300, dtype=np.int16))


@pytest.mark.parametrize(
    "suffix, match",
    [
        (gzip.compress(b"\x00"), "trailing bytes after the data its header declares"),
        (b"not gzip", "corrupt or truncated gzip data in gzip member 2"),
    ],
    ids=["more-data", "garbage"],
)
def test_read_idx_rejects_data_after_the_gzip_stream(tmp_path, suffix, match):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(4, dtype=np.uint8))) + suffix)

    with pytest.raises(ValueError, match=match) as excinfo:
        read_idx(path)
    assert str(path) in str(excinfo.value)


def test_read_idx_checks_the_gzip_crc(tmp_path):
    compressed = bytearray(gzip.compress(idx_bytes(np.arange(50, dtype=np.uint8))))
    compressed[-8] ^= 0x01  # the CRC-32 of the trailer
    path = tmp_path / "crc-idx1-ubyte.gz"
    path.write_bytes(bytes(compressed))

    with pytest.raises(ValueError, match="corrupt or truncated gzip data") as excinfo:
        read_idx(path)
    assert str(path) in str(excinfo.value)


def write_gzip_bomb(path, header, n_zero_bytes):
    """Write ``header`` then ``n_zero_bytes`` zeros, gzip-compressed, streaming."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    with open(path, "wb") as f:
        f.write(compressor.compress(header))
        for _ in range(n_zero_bytes // len(zeros)):
            f.write(compressor.compress(zeros))
        f.write(compressor.flush())


GZIP_BOMB_CHILD = """
import builtins, json, sys, time, tracemalloc
import csoftmax._idx
import csoftmax.datasets

class CountingFile:
    def __init__(self, f):
        self.f, self.n_read = f, 0
    def read(self, n=-1):
        data = self.f.read(n)
        self.n_read += len(data)
        return data
    def __getattr__(self, name):
        return getattr(self.f, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.f.close()

opened = []
def counting_open(*args, **kwargs):
    opened.append(CountingFile(builtins.open(*args, **kwargs)))
    return opened[-1]

csoftmax._idx.open = counting_open
tracemalloc.start()
start = time.perf_counter()
try:
    csoftmax.datasets.read_idx(sys.argv[1])
    error = None
except ValueError as exc:
    error = str(exc)
seconds = time.perf_counter() - start
print(json.dumps({"error": error, "seconds": seconds,
                  "peak": tracemalloc.get_traced_memory()[1],
                  "n_read": [f.n_read for f in opened]}))
"""


def test_read_idx_rejects_a_gzip_bomb_after_a_few_kilobytes(tmp_path):
    # A header declaring 3 images, then 256 MiB of zeros: about 1 MB of
    # gzip. Reading the whole stream took memory and time in proportion to
    # its decompressed size; now the reader stops one byte past the data the
    # header declares.
    path = tmp_path / "bomb-idx3-ubyte.gz"
    write_gzip_bomb(path, idx_header(0x08, (3, 28, 28)), 256 << 20)
    assert path.stat().st_size < 4 << 20

    completed = subprocess.run(
        [sys.executable, "-c", GZIP_BOMB_CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["error"] is not None
    assert str(path) in report["error"]
    assert "trailing bytes" in report["error"]
    assert report["n_read"] and sum(report["n_read"]) <= 8192
    assert report["peak"] < 1 << 20
    assert report["seconds"] < 5  # milliseconds when the machine is idle


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent-idx1-ubyte")


def test_docstring_examples_run():
    for module in (csoftmax.datasets, csoftmax._idx):
        result = doctest.testmod(module, raise_on_error=False)
        assert result.attempted > 0, module.__name__
        assert result.failed == 0, module.__name__


# --------------------------------------------------------------------------
# load_mnist from IDX folders


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_load_mnist_folder_train_then_test(tmp_path, compress, no_mnist_dir):
    rng = np.random.default_rng(0)
    train = write_mnist_pair(tmp_path, TRAIN_IMAGES, TRAIN_LABELS, 6, rng, compress)
    test = write_mnist_pair(tmp_path, TEST_IMAGES, TEST_LABELS, 4, rng, compress)

    mnist = load_mnist(path=tmp_path, return_X_y=False)

    images = np.concatenate([train[0], test[0]]).reshape(10, 784)
    expected = images.astype(np.float32) / np.float32(255)
    assert mnist.data.dtype == np.float32
    assert mnist.data.shape == (10, 784)
    np.testing.assert_array_equal(mnist.data, expected)
    assert mnist.target.dtype == np.int64
    np.testing.assert_array_equal(mnist.target, np.concatenate([train[1], test[1]]))
    assert mnist.n_train == 6
    assert mnist.frame is None
    assert mnist.feature_names == [f"pixel{i}" for i in range(1, 785)]
    assert mnist.target_names == ["class"]
    assert str(tmp_path) in mnist.source
    assert str(tmp_path) in mnist.DESCR


def test_load_mnist_folder_pixel_scaling(tmp_path, no_mnist_dir):
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    images[0, 0, 0] = 255
    images[1, 27, 27] = 51
    write_idx(tmp_path / TEST_IMAGES, images)
    write_idx(tmp_path / TEST_LABELS, np.array([3, 9], dtype=np.uint8))

    X, y = load_mnist(path=tmp_path)

    assert X[0, 0] == 1.0
    assert X[1, 783] == np.float32(0.2)
    assert X.sum() == np.float32(1.2)
    np.testing.assert_array_equal(y, [3, 9])


def test_load_mnist_folder_test_set_only(tmp_path, no_mnist_dir):
    rng = np.random.default_rng(1)
    images, labels = write_mnist_pair(tmp_path, TEST_IMAGES, TEST_LABELS, 5, rng)

    mnist = load_mnist(path=str(tmp_path), return_X_y=False)

    assert mnist.n_train == 0
    assert mnist.data.shape == (5, 784)
    np.testing.assert_array_equal(mnist.target, labels)
    assert "test set only" in mnist.source
    assert "n_train=0" in mnist.source


def test_load_mnist_prefers_uncompressed_file(tmp_path, no_mnist_dir):
    write_idx(tmp_path / TEST_IMAGES, np.full((1, 28, 28), 255, np.uint8))
    write_idx(tmp_path / (TEST_IMAGES + ".gz"), np.zeros((1, 28, 28), np.uint8), True)
    write_idx(tmp_path / TEST_LABELS, np.array([4], dtype=np.uint8))

    X, _ = load_mnist(path=tmp_path)

    assert X.min() == 1.0


def test_load_mnist_reads_environment_variable(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    env_dir = tmp_path / "env"
    arg_dir = tmp_path / "arg"
    env_dir.mkdir()
    arg_dir.mkdir()
    _, env_labels = write_mnist_pair(env_dir, TEST_IMAGES, TEST_LABELS, 3, rng)
    _, arg_labels = write_mnist_pair(arg_dir, TEST_IMAGES, TEST_LABELS, 7, rng)
    monkeypatch.setenv("CSOFTMAX_MNIST_DIR", str(env_dir))

    _, y_env = load_mnist()
    _, y_arg = load_mnist(path=arg_dir)

    np.testing.assert_array_equal(y_env, env_labels)
    np.testing.assert_array_equal(y_arg, arg_labels)


def test_load_mnist_as_frame_from_folder(tmp_path, no_mnist_dir):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    images, labels = write_mnist_pair(tmp_path, TEST_IMAGES, TEST_LABELS, 4, rng)

    mnist = load_mnist(path=tmp_path, as_frame=True, return_X_y=False)
    X, y = load_mnist(path=tmp_path, as_frame=True)

    assert isinstance(mnist.data, pd.DataFrame)
    assert isinstance(mnist.target, pd.Series)
    assert list(mnist.data.columns) == [f"pixel{i}" for i in range(1, 785)]
    assert (mnist.data.dtypes == np.float32).all()
    assert mnist.target.name == "class"
    assert mnist.target.dtype == np.int64
    assert mnist.frame.shape == (4, 785)
    assert list(mnist.frame.columns[-1:]) == ["class"]
    np.testing.assert_array_equal(mnist.target, labels)
    np.testing.assert_array_equal(
        mnist.data.to_numpy(), images.reshape(4, 784) / np.float32(255)
    )
    pd.testing.assert_frame_equal(X, mnist.data)
    pd.testing.assert_series_equal(y, mnist.target)


def test_load_mnist_wrong_label_count(tmp_path, no_mnist_dir):
    write_idx(tmp_path / TEST_IMAGES, np.zeros((3, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / TEST_LABELS, np.zeros(2, dtype=np.uint8))

    with pytest.raises(ValueError, match="holds 2 labels but .* holds 3 images"):
        load_mnist(path=tmp_path)


def test_load_mnist_labels_in_images_file(tmp_path, no_mnist_dir):
    write_idx(tmp_path / TEST_IMAGES, np.zeros(3, dtype=np.uint8))
    write_idx(tmp_path / TEST_LABELS, np.zeros(3, dtype=np.uint8))

    with pytest.raises(ValueError, match=TEST_IMAGES + ".*unsigned-byte 28x28 images"):
        load_mnist(path=tmp_path)


@pytest.mark.parametrize(
    "shape", [(3, 1, 784), (3, 784, 1), (3, 8, 8), (3, 784), (3, 28, 28, 1)]
)
def test_load_mnist_rejects_images_not_28_by_28(tmp_path, shape, no_mnist_dir):
    # The header alone decides: the data are absent, and the error is not
    # that the file is truncated.
    header = struct.pack(f">4B{len(shape)}I", 0, 0, 0x08, len(shape), *shape)
    (tmp_path / TEST_IMAGES).write_bytes(header)
    write_idx(tmp_path / TEST_LABELS, np.zeros(3, dtype=np.uint8))

    with pytest.raises(ValueError) as excinfo:
        load_mnist(path=tmp_path)

    message = str(excinfo.value)
    assert str(tmp_path / TEST_IMAGES) in message
    assert f"of shape (n_images, 28, 28); its header declares uint8 data of shape {shape}" in message


def test_load_mnist_rejects_non_uint8_images(tmp_path, no_mnist_dir):
    write_idx(tmp_path / TEST_IMAGES, np.zeros((2, 28, 28), dtype=np.float32))
    write_idx(tmp_path / TEST_LABELS, np.zeros(2, dtype=np.uint8))

    with pytest.raises(ValueError, match="header declares float32 data of shape"):
        load_mnist(path=tmp_path)


def test_load_mnist_rejects_mixed_image_sizes(tmp_path, no_mnist_dir):
    write_idx(tmp_path / TRAIN_IMAGES, np.zeros((2, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / TRAIN_LABELS, np.zeros(2, dtype=np.uint8))
    write_idx(tmp_path / TEST_IMAGES, np.zeros((2, 14, 56), dtype=np.uint8))
    write_idx(tmp_path / TEST_LABELS, np.zeros(2, dtype=np.uint8))

    with pytest.raises(ValueError, match=TEST_IMAGES + ".*28x28 images"):
        load_mnist(path=tmp_path)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_load_mnist_rejects_labels_above_9(tmp_path, compress, no_mnist_dir):
    write_idx(tmp_path / TEST_IMAGES, np.zeros((4, 28, 28), dtype=np.uint8))
    labels = tmp_path / (TEST_LABELS + (".gz" if compress else ""))
    write_idx(labels, np.array([3, 10, 9, 255], dtype=np.uint8), compress)

    with pytest.raises(ValueError) as excinfo:
        load_mnist(path=tmp_path)

    message = str(excinfo.value)
    assert f"IDX file {str(labels)!r} holds the label 10 at index 1" in message
    assert "(2 labels in all are outside 0-9)" in message


def test_load_mnist_rejects_non_uint8_labels(tmp_path, no_mnist_dir):
    write_idx(tmp_path / TEST_IMAGES, np.zeros((2, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / TEST_LABELS, np.array([-1, 3], dtype=np.int8))

    with pytest.raises(ValueError, match=TEST_LABELS + ".*unsigned-byte labels"):
        load_mnist(path=tmp_path)


def test_load_mnist_label_count_checked_from_the_header(tmp_path, no_mnist_dir):
    write_idx(tmp_path / TEST_IMAGES, np.zeros((3, 28, 28), dtype=np.uint8))
    # A header declaring 5 labels and no data: the count is wrong before
    # the file is found truncated.
    (tmp_path / TEST_LABELS).write_bytes(struct.pack(">4BI", 0, 0, 0x08, 1, 5))

    with pytest.raises(ValueError, match="holds 5 labels but .* holds 3 images"):
        load_mnist(path=tmp_path)


def test_load_mnist_corrupt_file_names_it(tmp_path, no_mnist_dir):
    write_idx(tmp_path / TEST_IMAGES, np.zeros((3, 28, 28), dtype=np.uint8))
    (tmp_path / TEST_LABELS).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x03\x01")

    with pytest.raises(ValueError, match=TEST_LABELS + ".* is truncated"):
        load_mnist(path=tmp_path)


@pytest.mark.parametrize(
    "present, missing",
    [
        ([], [TEST_IMAGES, TEST_LABELS]),
        ([TEST_IMAGES], [TEST_LABELS]),
        ([TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES], [TRAIN_LABELS]),
        ([TRAIN_IMAGES, TRAIN_LABELS], [TEST_IMAGES, TEST_LABELS]),
    ],
    ids=["empty", "no-test-labels", "lone-train-images", "train-only"],
)
def test_load_mnist_folder_missing_files(tmp_path, present, missing, no_mnist_dir):
    for name in present:
        shape = (1, 28, 28) if "images" in name else (1,)
        write_idx(tmp_path / name, np.zeros(shape, dtype=np.uint8))

    with pytest.raises(MNISTUnavailableError) as excinfo:
        load_mnist(path=tmp_path)

    message = str(excinfo.value)
    assert message.startswith(f"path={str(tmp_path)!r}")
    assert "lacks " + ", ".join(missing) + " (with or without .gz)" in message
    assert isinstance(excinfo.value, OSError)


def test_load_mnist_suggests_subfolders_that_hold_the_files(tmp_path, no_mnist_dir):
    rng = np.random.default_rng(8)
    for name in ("mnist", "fashion-mnist"):
        (tmp_path / name).mkdir()
        write_mnist_pair(tmp_path / name, TEST_IMAGES, TEST_LABELS, 2, rng, True)
    (tmp_path / "other").mkdir()

    with pytest.raises(MNISTUnavailableError) as excinfo:
        load_mnist(path=tmp_path)

    fashion, mnist = tmp_path / "fashion-mnist", tmp_path / "mnist"
    assert str(excinfo.value).endswith(
        "(with or without .gz). Its subfolders 'fashion-mnist', 'mnist' hold them: "
        f"use path={str(fashion)!r} or path={str(mnist)!r}."
    )


def test_load_mnist_bad_environment_variable_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CSOFTMAX_MNIST_DIR", str(tmp_path / "nowhere"))

    with pytest.raises(
        MNISTUnavailableError, match="CSOFTMAX_MNIST_DIR=.*not a folder"
    ):
        load_mnist()


@pytest.mark.parametrize("name", ["as_frame", "return_X_y"])
def test_load_mnist_rejects_non_bool_flags(tmp_path, name):
    with pytest.raises(TypeError, match=f"{name} must be a bool"):
        load_mnist(path=tmp_path, **{name: "yes"})


# --------------------------------------------------------------------------
# load_mnist through sklearn.datasets.fetch_openml (no network)

OPENML_DATA_ID = 554
OPENML_FILE_ID = 52667


def write_fake_openml_mnist(data_home, n_samples, rng, quote="", labels=None):
    """Write a small ``mnist_784`` version 1 into fetch_openml's cache.

    ``quote`` surrounds the labels in the ARFF data, as ARFF allows.
    ``labels``, if given, replaces the random labels.

    The layout mirrors the OpenML URLs that fetch_openml requests, under
    ``<data_home>/openml/openml.org/``, each file gzip-compressed.
    Returns the pixel values (uint8) and labels (int) written.
    """
    root = data_home / "openml" / "openml.org"
    pixels = rng.integers(0, 256, size=(n_samples, 784))
    if labels is None:
        labels = rng.integers(0, 10, size=n_samples)
    pixels[0, :3] = [0, 255, 128]

    lines = ["@RELATION mnist_784", ""]
    lines += [f"@ATTRIBUTE pixel{i} NUMERIC" for i in range(1, 785)]
    lines += ["@ATTRIBUTE class {0,1,2,3,4,5,6,7,8,9}", "", "@DATA"]
    lines += [
        ",".join(map(str, row)) + f",{quote}{label}{quote}"
        for row, label in zip(pixels, labels, strict=True)
    ]
    arff = ("\n".join(lines) + "\n").encode()
    url = f"https://api.openml.org/data/v1/download/{OPENML_FILE_ID}/mnist_784.arff"

    def feature(index, name, data_type, is_target, **extra):
        return {
            "index": str(index),
            "name": name,
            "data_type": data_type,
            "is_target": is_target,
            "is_ignore": "false",
            "is_row_identifier": "false",
            "number_of_missing_values": "0",
            **extra,
        }

    features = [feature(i - 1, f"pixel{i}", "numeric", "false") for i in range(1, 785)]
    features.append(
        feature(
            784,
            "class",
            "nominal",
            "true",
            nominal_value=[str(d) for d in range(10)],
        )
    )
    description = {
        "id": str(OPENML_DATA_ID),
        "name": "mnist_784",
        "version": "1",
        "description": "Fake MNIST for csoftmax's tests.",
        "format": "ARFF",
        "url": url,
        "file_id": str(OPENML_FILE_ID),
        "default_target_attribute": "class",
        "status": "active",
        "md5_checksum": hashlib.md5(arff).hexdigest(),
    }
    api = "api/v1/json/data"
    documents = {
        f"{api}/list/data_name/mnist_784/limit/2/data_version/1": {
            "data": {
                "dataset": [
                    {
                        "did": OPENML_DATA_ID,
                        "name": "mnist_784",
                        "version": 1,
                        "status": "active",
                        "format": "ARFF",
                    }
                ]
            }
        },
        f"{api}/{OPENML_DATA_ID}": {"data_set_description": description},
        f"{api}/features/{OPENML_DATA_ID}": {"data_features": {"feature": features}},
        f"{api}/qualities/{OPENML_DATA_ID}": {
            "data_qualities": {
                "quality": [{"name": "NumberOfInstances", "value": f"{n_samples}.0"}]
            }
        },
    }
    files = {name: json.dumps(doc).encode() for name, doc in documents.items()}
    files[f"data/v1/download/{OPENML_FILE_ID}/mnist_784.arff"] = arff
    for name, content in files.items():
        path = root / (name + ".gz")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(content))
    return pixels, labels


@pytest.mark.parametrize("quote", ["", "'", '"'], ids=["bare", "single", "double"])
def test_load_mnist_openml_from_cache(tmp_path, quote, network_calls, no_mnist_dir):
    rng = np.random.default_rng(4)
    pixels, labels = write_fake_openml_mnist(tmp_path, 12, rng, quote)

    mnist = load_mnist(data_home=tmp_path, return_X_y=False)
    X, y = load_mnist(data_home=str(tmp_path))

    assert network_calls == []
    assert mnist.data.dtype == np.float32
    assert mnist.data.shape == (12, 784)
    np.testing.assert_array_equal(mnist.data, pixels.astype(np.float32) / 255)
    assert mnist.data[0, :3].tolist() == [0.0, 1.0, np.float32(128 / 255)]
    assert mnist.target.dtype == np.int64
    np.testing.assert_array_equal(mnist.target, labels)
    # a 12-row stand-in has no test rows; the real one has MNIST_N_TRAIN
    assert mnist.n_train == 12 < MNIST_N_TRAIN
    assert mnist.frame is None
    assert mnist.feature_names == [f"pixel{i}" for i in range(1, 785)]
    assert mnist.target_names == ["class"]
    assert "Fake MNIST for csoftmax's tests." in mnist.DESCR
    assert "OpenML mnist_784" in mnist.source
    assert str(tmp_path) in mnist.source
    np.testing.assert_array_equal(X, mnist.data)
    np.testing.assert_array_equal(y, mnist.target)


def test_load_mnist_openml_as_frame(tmp_path, network_calls, no_mnist_dir):
    pd = pytest.importorskip("pandas")
    pixels, labels = write_fake_openml_mnist(tmp_path, 5, np.random.default_rng(5))

    X, y = load_mnist(data_home=tmp_path, as_frame=True)

    assert network_calls == []
    assert isinstance(X, pd.DataFrame)
    assert X.shape == (5, 784)
    assert (X.dtypes == np.float32).all()
    assert isinstance(y, pd.Series)
    assert y.name == "class"
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_array_equal(X.to_numpy(), pixels.astype(np.float32) / 255)


@pytest.mark.parametrize("quote", ["", "'"], ids=["bare", "single"])
def test_load_mnist_openml_without_pandas(
    tmp_path, quote, network_calls, no_mnist_dir, monkeypatch
):
    # Without pandas, fetch_openml's "liac-arff" parser reads the same file.
    monkeypatch.setattr(csoftmax.datasets, "_has_pandas", lambda: False)
    rng = np.random.default_rng(6)
    pixels, labels = write_fake_openml_mnist(tmp_path, 6, rng, quote)

    X, y = load_mnist(data_home=tmp_path)

    assert network_calls == []
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, pixels.astype(np.float32) / 255)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)
    with pytest.raises(ImportError, match="as_frame=True requires pandas"):
        load_mnist(data_home=tmp_path, as_frame=True)


@pytest.mark.parametrize("bad_label", ["12", "x"])
def test_load_mnist_openml_rejects_labels_that_are_not_digits(
    tmp_path, bad_label, network_calls, no_mnist_dir
):
    labels = ["3", "1", bad_label, "4"]
    write_fake_openml_mnist(tmp_path, 4, np.random.default_rng(7), labels=labels)

    with pytest.raises(ValueError) as excinfo:
        load_mnist(data_home=tmp_path)

    message = str(excinfo.value)
    assert network_calls == []
    assert f"OpenML mnist_784 in the cache in {tmp_path}" in message
    assert f"holds the label {bad_label!r} at index 2" in message
    assert "MNIST labels are the digits 0-9" in message


@pytest.mark.filterwarnings("ignore:A network error occurred:UserWarning")
def test_load_mnist_offline_says_what_to_do(tmp_path, network_calls, no_mnist_dir):
    with pytest.raises(MNISTUnavailableError) as excinfo:
        load_mnist(data_home=tmp_path)

    assert network_calls, "fetch_openml should have tried to download"
    assert isinstance(excinfo.value, OSError)
    assert isinstance(excinfo.value.__cause__, URLError)
    message = str(excinfo.value)
    assert "network disabled in tests" in message
    assert "set the environment variable CSOFTMAX_MNIST_DIR" in message
    assert "pass path=" in message
    assert (
        f"{TEST_IMAGES}[.gz] and {TEST_LABELS}[.gz] (only this test pair is "
        f"required; {TRAIN_IMAGES}[.gz] and {TRAIN_LABELS}[.gz] add the "
        "training split)" in message
    )
    assert "connect to the internet" in message
    assert f"data_home={tmp_path}" in message


# --------------------------------------------------------------------------
# real data (skipped when ../shared/data is absent)


def test_load_mnist_real_test_set(mnist_dir):
    mnist = load_mnist(path=mnist_dir, return_X_y=False)

    assert mnist.data.shape == (10000, 784)
    assert mnist.data.dtype == np.float32
    assert mnist.data.min() == 0.0
    assert mnist.data.max() == 1.0
    assert mnist.target.dtype == np.int64
    assert np.bincount(mnist.target).tolist() == MNIST_TEST_COUNTS
    assert mnist.n_train == 0


def test_load_fashion_mnist_real(fashion_mnist_dir):
    mnist = load_mnist(path=fashion_mnist_dir, return_X_y=False)
    X, y = mnist.data, mnist.target

    assert X.shape == (70000, 784)
    assert X.dtype == np.float32
    assert X.min() == 0.0
    assert X.max() == 1.0
    assert mnist.n_train == 60000
    assert np.bincount(y[:60000]).tolist() == [6000] * 10
    assert np.bincount(y[60000:]).tolist() == [1000] * 10
