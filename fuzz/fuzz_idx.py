"""Coverage-guided fuzzing of the IDX reader (csoftmax.datasets) with atheris.

Every input is written to a file and read with :func:`csoftmax.datasets.read_idx`
or, as a pair of files, with :func:`csoftmax.datasets.load_mnist`. The harness
fails (atheris saves the input and stops) when:

- an exception other than the documented :class:`ValueError` comes out, or a
  ValueError whose message does not name the file;
- the reader accepts a file that a plain reference reader, written from the
  format's definition and decompressing the whole file with zlib, refuses, or
  refuses one that the reference accepts, or returns other values than the
  reference's.

The first input byte picks what is fuzzed: its two low bits the target, the
other six the ``max_bytes`` limit (0: the default, k: ``2**(k - 1)``).

- 0: the rest of the input is the file, as is (plain IDX or gzip);
- 1: the rest, gzip-compressed, so mutations reach the IDX parser through
  the decompressor;
- 2: the rest split in two gzip members at the point given by its first two
  bytes;
- 3: the rest split (first two bytes) into a ``t10k`` images file and labels
  file, read by ``load_mnist(path=folder)``.

Run it with ``fuzz/run.sh idx SECONDS [SEED]``, or directly::

    python fuzz/fuzz_idx.py --write-seeds CORPUS     # the starting corpus
    python fuzz/fuzz_idx.py CORPUS -max_total_time=60 -seed=1

All other arguments go to libFuzzer. :func:`check_input` runs one input
without atheris, which is how the tests replay the seeds.
"""

import gzip
import os
import shutil
import struct
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bytes import harness_main, use_source_tree  # noqa: E402

# Fuzz the csoftmax of this source tree (or FUZZ_CSOFTMAX_ROOT's, which fuzz/run.sh points
# at the sanitized build), not an installed one.
use_source_tree()

_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_CODES = {dtype.newbyteorder("="): code for code, dtype in _DTYPES.items()}
_MAX_NDIM = 32
_DEFAULT_MAX_BYTES = 1 << 32

datasets = None  # csoftmax.datasets, imported by _import_reader
_folder = None  # where the inputs are written


class Invalid(Exception):
    """The reference reader refuses the file."""


def _import_reader(instrument=False):
    global datasets
    if datasets is not None:
        return
    if instrument:
        import atheris

        # Heavy dependencies first, uninstrumented; then the reader, instrumented.
        import sklearn.datasets  # noqa: F401

        import csoftmax  # noqa: F401

        with atheris.instrument_imports(include=["csoftmax._idx", "csoftmax.datasets"]):
            import csoftmax.datasets
    else:
        import csoftmax.datasets
    datasets = csoftmax.datasets


def reference_gunzip(raw):
    """Decompress all the gzip members in ``raw`` at once, strictly."""
    out = []
    while raw:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out.append(decompressor.decompress(raw))
        except zlib.error as exc:
            raise Invalid(f"gzip: {exc}") from None
        if not decompressor.eof:
            raise Invalid("gzip: stream ends early")
        raw = decompressor.unused_data
    return b"".join(out)


def reference_read(raw, max_bytes):
    """The array in the IDX file of bytes ``raw``, by the format's definition."""
    content = reference_gunzip(raw) if raw[:2] == b"\x1f\x8b" else raw
    if len(content) < 4 or content[0] or content[1]:
        raise Invalid("magic")
    type_code, ndim = content[2], content[3]
    if type_code not in _DTYPES:
        raise Invalid("type code")
    if not 1 <= ndim <= _MAX_NDIM or len(content) < 4 + 4 * ndim:
        raise Invalid("dimensions")
    shape = struct.unpack(f">{ndim}I", content[4 : 4 + 4 * ndim])
    dtype = _DTYPES[type_code]
    extent = dtype.itemsize
    for size in shape:
        extent *= max(size, 1)
    if extent > min(max_bytes, sys.maxsize):
        raise Invalid("max_bytes")
    data = content[4 + 4 * ndim :]
    n_items = 1
    for size in shape:
        n_items *= size
    if len(data) != n_items * dtype.itemsize:
        raise Invalid("size")
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def reference_mnist_pair(images_raw, labels_raw):
    """The labels of an MNIST images/labels pair, by load_mnist's rules."""
    images = reference_read(images_raw, _DEFAULT_MAX_BYTES)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise Invalid("images")
    labels = reference_read(labels_raw, _DEFAULT_MAX_BYTES)
    if labels.dtype != np.uint8 or labels.shape != (len(images),):
        raise Invalid("labels")
    if labels.size and labels.max() > 9:
        raise Invalid("label value")
    return images, labels


def _same_array(result, expected):
    """Equal shape, native dtype of the same kind, and the same bytes."""
    if not isinstance(result, np.ndarray) or result.shape != expected.shape:
        return False
    if not result.dtype.isnative or result.dtype != expected.dtype.newbyteorder("="):
        return False
    if not result.flags.writeable or not result.flags.c_contiguous:
        return False
    return result.astype(expected.dtype).tobytes() == expected.tobytes()


def _split(payload):
    point = int.from_bytes(payload[:2].ljust(2, b"\0"), "big")
    rest = payload[2:]
    point = point % (len(rest) + 1)
    return rest[:point], rest[point:]


def _write(path, content):
    with open(path, "wb") as f:
        f.write(content)
    return str(path)


def check_input(data):
    """Run one fuzzer input; raise AssertionError on a finding."""
    global _folder
    _import_reader()
    if _folder is None:
        base = "/dev/shm" if os.path.isdir("/dev/shm") else None
        _folder = Path(tempfile.mkdtemp(prefix="csoftmax-fuzz-", dir=base))
    if not data:
        return
    selector, payload = data[0], bytes(data[1:])
    target, limit = selector & 3, selector >> 2
    max_bytes = _DEFAULT_MAX_BYTES if limit == 0 else 1 << (limit - 1)

    if target == 3:
        _check_mnist_pair(*_split(payload))
        return
    if target == 0:
        raw = payload
    elif target == 1:
        raw = gzip.compress(payload, mtime=0)
    else:
        raw = b"".join(gzip.compress(part, mtime=0) for part in _split(payload))
    path = _write(_folder / "data-idx", raw)
    try:
        expected = reference_read(raw, max_bytes)
    except Invalid as exc:
        expected = exc
    try:
        result = datasets.read_idx(path, max_bytes=max_bytes)
    except ValueError as exc:
        assert path in str(exc), f"the message does not name the file: {exc}"
        assert isinstance(expected, Invalid), (
            f"read_idx refused a file the reference reads: {exc}"
        )
        return
    assert not isinstance(expected, Invalid), (
        f"read_idx accepted a file the reference refuses ({expected})"
    )
    assert _same_array(result, expected), "read_idx returned other values"


def _check_mnist_pair(images_raw, labels_raw):
    folder = _folder / "mnist"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    images_path = _write(folder / "t10k-images-idx3-ubyte", images_raw)
    labels_path = _write(folder / "t10k-labels-idx1-ubyte", labels_raw)
    try:
        expected = reference_mnist_pair(images_raw, labels_raw)
    except Invalid as exc:
        expected = exc
    try:
        X, y = datasets.load_mnist(path=folder)
    except ValueError as exc:
        message = str(exc)
        assert images_path in message or labels_path in message, (
            f"the message names neither file: {message}"
        )
        assert isinstance(expected, Invalid), (
            f"load_mnist refused a pair the reference reads: {message}"
        )
        return
    assert not isinstance(expected, Invalid), (
        f"load_mnist accepted a pair the reference refuses ({expected})"
    )
    images, labels = expected
    assert X.dtype == np.float32 and X.shape == (len(images), 784)
    assert np.array_equal(X, images.reshape(len(images), 784) / np.float32(255))
    assert y.dtype == np.int64 and np.array_equal(y, labels)


def _idx(array):
    array = np.asarray(array)
    header = struct.pack(
        f">4B{array.ndim}I", 0, 0, _TYPE_CODES[array.dtype], array.ndim, *array.shape
    )
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def seeds():
    """A small starting corpus: valid files of every type, plain and gzip."""
    rng = np.random.default_rng(0)
    arrays = [
        np.array([7, 2, 1, 0, 4], dtype=np.uint8),
        np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        np.array([-3, 0, 5], dtype=np.int8),
        np.array([[-300, 2], [7, 32000]], dtype=np.int16),
        np.array([-(2**31), 5], dtype=np.int32),
        np.array([0.5, -np.inf], dtype=np.float32),
        np.array([[1e-300, np.nan]], dtype=np.float64),
        np.zeros((0, 28, 28), dtype=np.uint8),
    ]
    found = []
    for array in arrays:
        content = _idx(array)
        found += [b"\x00" + content, b"\x00" + gzip.compress(content, mtime=0)]
        found += [b"\x01" + content, b"\x02" + b"\x00\x05" + content]
    images = rng.integers(0, 256, size=(2, 28, 28), dtype=np.uint8)
    images[:, :20] = 0  # compressible, to leave room for mutations
    labels = np.array([3, 9], dtype=np.uint8)
    images_gz = gzip.compress(_idx(images), mtime=0)
    found.append(b"\x03" + len(images_gz).to_bytes(2, "big") + images_gz + _idx(labels))
    return found


def main(argv):
    return harness_main(argv, seeds, check_input, lambda: _import_reader(instrument=True))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
