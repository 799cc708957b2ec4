"""The IDX file reader behind :func:`csoftmax.datasets.read_idx`.

IDX is the format of the MNIST distribution files. The header is read and checked before any
data, and then exactly the bytes it declares (plus one, to detect trailing data) are read,
through a streaming decompressor for gzip: a hostile file costs at most what its header
declares, never its whole or decompressed size.
"""

import math
import os
import stat
import sys
import zlib

import numpy as np

# IDX type codes (third byte of the magic number) -> big-endian element dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"
# zlib's window bits for a gzip wrapper (16 + the 15-bit window).
_GZIP_WBITS = 16 + zlib.MAX_WBITS
# Compressed bytes read first from a gzip file; later reads double up to
# _READ_CHUNK, so a stream is read in a few hundred calls at most.
_FIRST_GZIP_CHUNK = 4096
_READ_CHUNK = 1 << 20

#: Most dimensions an IDX header may declare (NumPy 1.x's limit).
IDX_MAX_NDIM = 32
#: Default limit of :func:`read_idx` on the data size a header declares (4 GiB).
IDX_MAX_BYTES = 1 << 32


def read_idx(path, *, max_bytes=IDX_MAX_BYTES):
    """Read one IDX file, plain or gzip-compressed.

    IDX is the format of the MNIST distribution files: the magic number
    ``0x00 0x00 <type code> <ndim>``, then ``ndim`` big-endian 32-bit sizes,
    then the elements in C order, big-endian.

    The header is read and checked first; then exactly the data it declares
    are read, through a streaming decompressor for gzip, plus one byte to
    detect trailing data. A corrupt or hostile file therefore costs at most
    the memory and time of the data its header declares, never those of the
    whole file or of its decompressed size.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read. Gzip compression is detected from the content, not
        from the file name.
    max_bytes : int, default=IDX_MAX_BYTES
        The largest data size, in bytes, that the header may declare: 4 GiB
        by default (MNIST's training images take 47 MB). A header declaring
        more is refused before any data are read. For this limit, a
        zero-length dimension counts as 1, so that an empty array cannot
        declare sizes whose strides overflow.

    Returns
    -------
    array : ndarray of shape given by the file's header
        A new, writeable array in native byte order. The dtype follows the
        type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
        0x0D float32, 0x0E float64.

    Raises
    ------
    ValueError
        If the file is not valid IDX: the magic number does not start with two
        zero bytes, the type code is unknown, there are no dimensions or more
        than :data:`IDX_MAX_NDIM`, the declared data exceed ``max_bytes``, the
        file is truncated or has trailing bytes, or the gzip stream is corrupt
        (its CRC-32 included) or followed by bytes that are not another gzip
        member (zero padding included, which :mod:`gzip` skips). The message
        names the file.
    TypeError
        If ``max_bytes`` is not an integer.
    OSError
        If the file cannot be opened or read (for example
        :class:`FileNotFoundError`).

    Examples
    --------
    >>> import pathlib, struct, tempfile
    >>> from csoftmax.datasets import read_idx
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     labels = pathlib.Path(tmp) / "labels-idx1-ubyte"
    ...     header = struct.pack(">4BI", 0, 0, 0x08, 1, 3)
    ...     _ = labels.write_bytes(header + bytes([7, 2, 1]))
    ...     read_idx(labels)
    array([7, 2, 1], dtype=uint8)
    """
    return _read_idx(path, max_bytes)


def _read_idx(path, max_bytes, check_header=None):
    """Read the IDX file ``path``; call ``check_header(dtype, shape)`` before its data.

    ``check_header`` lets a caller refuse a file by its header alone (it
    raises ValueError), before the data are read.
    """
    if isinstance(max_bytes, (bool, np.bool_)) or not isinstance(
        max_bytes, (int, np.integer)
    ):
        raise TypeError(f"max_bytes must be an integer, got {max_bytes!r}")
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be at least 0, got {max_bytes}")
    # NumPy cannot index more than sys.maxsize bytes.
    max_bytes = min(int(max_bytes), sys.maxsize)
    path = os.fspath(path)
    with open(path, "rb", buffering=0) as f:
        prefix = _read_exactly(f.read, 2)
        if prefix == _GZIP_MAGIC:
            source = _GunzipReader(f.read, prefix, path)
            file_size = None
        else:
            source = _PrefixedReader(f.read, prefix)
            file_size = _regular_file_size(f)
        dtype, shape = _read_header(source, path, max_bytes)
        if check_header is not None:
            check_header(dtype, shape)
        n_bytes = dtype.itemsize * math.prod(shape)
        header_size = 4 + 4 * len(shape)
        if file_size is not None and file_size != header_size + n_bytes:
            # A plain regular file: its size alone tells, before any reading.
            _raise_wrong_size(path, dtype, shape, n_bytes, file_size - header_size)
        data = _read_exactly(source.read, n_bytes)
        if len(data) < n_bytes:
            _raise_wrong_size(path, dtype, shape, n_bytes, len(data))
        if source.read(1):
            problem = (
                "after the data its header declares"
                if file_size is None
                else "(it grew while being read)"
            )
            raise ValueError(
                f"IDX file {path!r} has trailing bytes {problem}: shape {shape} "
                f"of {dtype.name} needs {n_bytes} data bytes"
            )
    array = np.frombuffer(data, dtype=dtype)  # writeable: data is a bytearray
    if not dtype.isnative:
        array.byteswap(inplace=True)
    return array.view(dtype.newbyteorder("=")).reshape(shape)


def _read_header(source, path, max_bytes):
    """Read and check the magic number and sizes; return ``(dtype, shape)``."""
    magic_bytes = _read_exactly(source.read, 4)
    if len(magic_bytes) < 4:
        raise ValueError(
            f"IDX file {path!r} is truncated: {len(magic_bytes)} bytes, fewer "
            "than the 4-byte magic number"
        )
    zero0, zero1, type_code, ndim = magic_bytes
    magic = int.from_bytes(magic_bytes, "big")
    if zero0 != 0 or zero1 != 0:
        raise ValueError(
            f"IDX file {path!r} has the magic number 0x{magic:08X}; an IDX file "
            "starts with two zero bytes (0x0000080N for unsigned-byte data)"
        )
    if type_code not in _IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in _IDX_DTYPES)
        raise ValueError(
            f"IDX file {path!r} has the unknown type code 0x{type_code:02X} in "
            f"its magic number 0x{magic:08X}; expected one of {known}"
        )
    if not 1 <= ndim <= IDX_MAX_NDIM:
        raise ValueError(
            f"IDX file {path!r} declares {ndim} dimensions in its magic number "
            f"0x{magic:08X}; expected 1 to {IDX_MAX_NDIM}"
        )
    sizes = _read_exactly(source.read, 4 * ndim)
    if len(sizes) < 4 * ndim:
        raise ValueError(
            f"IDX file {path!r} is truncated: its header needs {4 + 4 * ndim} "
            f"bytes for {ndim} dimensions but the file has {4 + len(sizes)}"
        )
    shape = tuple(int.from_bytes(sizes[i : i + 4], "big") for i in range(0, len(sizes), 4))
    dtype = _IDX_DTYPES[type_code]
    # Python integers do not wrap. Zero-length dimensions count as 1 here:
    # NumPy needs the strides of the other dimensions to fit too.
    extent = dtype.itemsize * math.prod(max(size, 1) for size in shape)
    if extent > max_bytes:
        which = " (counting its zero-length dimensions as 1)" if 0 in shape else ""
        raise ValueError(
            f"IDX file {path!r} declares the shape {shape} of {dtype.name}, "
            f"{extent} bytes of data{which}, more than max_bytes={max_bytes}; "
            "pass a larger max_bytes to read_idx if the file is genuine"
        )
    return dtype, shape


def _raise_wrong_size(path, dtype, shape, expected, actual):
    """Raise the ValueError of a file with ``actual`` data bytes, not ``expected``."""
    problem = "is truncated" if actual < expected else "has trailing bytes"
    raise ValueError(
        f"IDX file {path!r} {problem}: shape {shape} of {dtype.name} needs "
        f"{expected} data bytes but the file has {actual}"
    )


def _regular_file_size(f):
    """The size of the open file ``f`` if it is a regular file, else None."""
    status = os.fstat(f.fileno())
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _read_exactly(read, n_bytes):
    """Call ``read`` until it has given ``n_bytes`` bytes or reports the end.

    Returns a bytearray of at most ``n_bytes`` bytes (fewer at the end of the
    data). The buffer grows as data arrive, so a size that a truncated file
    only declares is never allocated.
    """
    data = bytearray()
    while len(data) < n_bytes:
        chunk = read(min(n_bytes - len(data), _READ_CHUNK))
        if not chunk:
            break
        data += chunk
    return data


class _PrefixedReader:
    """``read(n)`` over the bytes ``prefix`` followed by what ``read`` gives."""

    def __init__(self, read, prefix):
        self._read = read
        self._prefix = bytes(prefix)

    def read(self, n_bytes):
        if self._prefix:
            head, self._prefix = self._prefix[:n_bytes], self._prefix[n_bytes:]
            return head
        return self._read(n_bytes)


class _GunzipReader:
    """``read(n)`` of the data decompressed from a gzip stream, on demand.

    Every call decompresses at most ``n`` bytes and reads compressed input in
    chunks that start small (a few kilobytes) and double up to
    ``_READ_CHUNK``, so that the work done is bounded by what the caller asks
    for, whatever the compression ratio. Consecutive gzip members are one
    stream, as for :mod:`gzip`. Each member's CRC-32 and length are checked
    by zlib when its end is reached. Errors raise ValueError naming ``path``.
    """

    def __init__(self, read, prefix, path):
        self._read = read
        self._path = path
        self._chunk = _FIRST_GZIP_CHUNK
        self._input = bytes(prefix)  # compressed bytes read but not yet fed
        self._decompressor = zlib.decompressobj(_GZIP_WBITS)
        self._n_members = 1

    def read(self, n_bytes):
        d = self._decompressor
        while n_bytes > 0:
            if d.eof:
                rest = d.unused_data or self._read_compressed()
                if not rest:
                    return b""  # the end of the last member, and of the file
                # Another gzip member starts; anything else is corrupt.
                d = self._decompressor = zlib.decompressobj(_GZIP_WBITS)
                self._n_members += 1
                self._input = rest
            if not self._input:
                self._input = d.unconsumed_tail or self._read_compressed()
                if not self._input:
                    raise ValueError(
                        f"IDX file {self._path!r}: corrupt or truncated gzip "
                        "data (the compressed stream ends before its end marker)"
                    )
            try:
                out = d.decompress(self._input, n_bytes)
            except zlib.error as exc:
                member = f" in gzip member {self._n_members}" if self._n_members > 1 else ""
                raise ValueError(
                    f"IDX file {self._path!r}: corrupt or truncated gzip "
                    f"data{member} ({exc})"
                ) from exc
            self._input = b""  # the rest is in d.unconsumed_tail or d.unused_data
            if out:
                return out
        return b""

    def _read_compressed(self):
        chunk = self._read(self._chunk)
        self._chunk = min(2 * self._chunk, _READ_CHUNK)
        return chunk
