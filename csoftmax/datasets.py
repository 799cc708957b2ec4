"""MNIST loading: scikit-learn's OpenML cache or local IDX files.

:func:`load_mnist` returns MNIST as float32 pixels in [0, 1] and int64 labels.
It reads, in this order of preference:

1. the folder given as ``path=``;
2. else the folder named by the environment variable ``CSOFTMAX_MNIST_DIR``;
3. else ``mnist_784`` (version 1) from OpenML through
   :func:`sklearn.datasets.fetch_openml`, which caches the download in
   scikit-learn's ``data_home``.

A folder holds the classic IDX files ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
``t10k-labels-idx1-ubyte``, each optionally gzip-compressed (``.gz``).
Fashion-MNIST uses the same names and format, so it loads the same way.
:func:`read_idx` reads one such file.
"""

import gzip
import importlib.util
import os
import zlib
from pathlib import Path

import numpy as np
from sklearn.datasets import fetch_openml, get_data_home
from sklearn.utils import Bunch

__all__ = [
    "MNIST_DIR_ENV",
    "MNIST_N_TEST",
    "MNIST_N_TRAIN",
    "MNISTUnavailableError",
    "load_mnist",
    "read_idx",
]

#: Rows of MNIST that form the conventional training split (they come first).
MNIST_N_TRAIN = 60000
#: Rows of MNIST that form the conventional test split (they come last).
MNIST_N_TEST = 10000

#: Environment variable naming a folder of MNIST IDX files.
MNIST_DIR_ENV = "CSOFTMAX_MNIST_DIR"

_N_PIXELS = 28 * 28

_TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
_TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

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


class MNISTUnavailableError(OSError):
    """No source could provide MNIST.

    Raised by :func:`load_mnist` when the folder given as ``path=`` or by
    ``CSOFTMAX_MNIST_DIR`` does not hold the IDX files, or when
    :func:`sklearn.datasets.fetch_openml` can neither find ``mnist_784`` in
    its cache nor download it (no network). The message says how to fix it.

    It subclasses :class:`OSError`, so ``except OSError`` catches it too;
    catch ``MNISTUnavailableError`` to react to a missing dataset only, for
    example to fall back to a smaller bundled dataset. A file that exists but
    is not valid IDX raises :class:`ValueError` instead.
    """


def read_idx(path):
    """Read one IDX file, plain or gzip-compressed.

    IDX is the format of the MNIST distribution files: the magic number
    ``0x00 0x00 <type code> <ndim>``, then ``ndim`` big-endian 32-bit sizes,
    then the elements in C order, big-endian.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read. Gzip compression is detected from the content, not
        from the file name.

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
        zero bytes, the type code is unknown, there are no dimensions, the file
        is truncated or has trailing bytes, or the gzip stream is corrupt.
        The message names the file.
    OSError
        If the file cannot be opened (for example :class:`FileNotFoundError`).

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
    path = os.fspath(path)
    with open(path, "rb") as f:
        compressed = f.read(2) == _GZIP_MAGIC
        f.seek(0)
        if compressed:
            try:
                with gzip.GzipFile(fileobj=f, mode="rb") as gz:
                    content = gz.read()
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                raise ValueError(
                    f"IDX file {path!r}: corrupt or truncated gzip data ({exc})"
                ) from exc
        else:
            content = f.read()
    return _parse_idx(content, path)


def _parse_idx(content, path):
    """Decode the bytes ``content`` of the IDX file ``path`` into an array."""
    if len(content) < 4:
        raise ValueError(
            f"IDX file {path!r} is truncated: {len(content)} bytes, fewer than "
            "the 4-byte magic number"
        )
    zero0, zero1, type_code, ndim = content[:4]
    magic = int.from_bytes(content[:4], "big")
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
    if ndim == 0:
        raise ValueError(
            f"IDX file {path!r} declares 0 dimensions in its magic number "
            f"0x{magic:08X}; expected at least 1"
        )
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise ValueError(
            f"IDX file {path!r} is truncated: its header needs {header_size} "
            f"bytes for {ndim} dimensions but the file has {len(content)}"
        )
    shape = tuple(
        int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    dtype = _IDX_DTYPES[type_code]
    expected = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    actual = len(content) - header_size
    if actual != expected:
        problem = "is truncated" if actual < expected else "has trailing bytes"
        raise ValueError(
            f"IDX file {path!r} {problem}: shape {shape} of {dtype.name} needs "
            f"{expected} data bytes but the file has {actual}"
        )
    data = np.frombuffer(content, dtype=dtype, offset=header_size)
    return data.astype(dtype.newbyteorder("=")).reshape(shape)


def load_mnist(*, data_home=None, as_frame=False, return_X_y=True, path=None):
    """Load MNIST as float32 pixels in [0, 1] and int64 labels.

    The data come from the first source that applies:

    1. ``path``, a folder of IDX files;
    2. else the folder named by the environment variable
       ``CSOFTMAX_MNIST_DIR`` (ignored when empty);
    3. else :func:`sklearn.datasets.fetch_openml` with ``"mnist_784"``,
       version 1, which downloads it once into scikit-learn's cache in
       ``data_home`` and reads it from there afterwards.

    OpenML's ``mnist_784`` holds all 70,000 images: the first 60,000 rows are
    the conventional training split (:data:`MNIST_N_TRAIN`) and the last
    10,000 the test split (:data:`MNIST_N_TEST`).

    A folder must hold ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte``, and may hold ``train-images-idx3-ubyte`` and
    ``train-labels-idx1-ubyte``; each file may also be gzip-compressed with a
    ``.gz`` suffix (the uncompressed file is used when both exist). The
    training rows come first, then the test rows, and ``n_train`` says where
    the test rows start. When only the ``t10k`` pair is present there is no
    training split: ``n_train`` is 0 and ``source`` says so. Any folder of
    MNIST-format files loads this way, Fashion-MNIST included.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        scikit-learn's dataset cache folder, passed to
        :func:`~sklearn.datasets.fetch_openml`. None uses
        :func:`sklearn.datasets.get_data_home`. Unused when the data come from
        a folder of IDX files.
    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame with float32 columns
        ``pixel1`` ... ``pixel784``, ``target`` an int64 Series named
        ``"class"`` and ``frame`` the DataFrame of both, as
        :func:`~sklearn.datasets.fetch_openml` returns them. Requires pandas.
    return_X_y : bool, default=True
        If True, return ``(data, target)`` instead of a Bunch.
    path : str or os.PathLike, default=None
        Folder of IDX files to read instead of using OpenML. Takes precedence
        over ``CSOFTMAX_MNIST_DIR``.

    Returns
    -------
    data : ndarray of shape (n_samples, 784), dtype float32, or DataFrame
        Pixel intensities divided by 255, rows of 28x28 images in C order.
        ``n_samples`` is 70,000 for the full MNIST.
    target : ndarray of shape (n_samples,), dtype int64, or Series
        The digit labels 0-9.
    bunch : :class:`~sklearn.utils.Bunch`
        Returned when ``return_X_y=False``, with the attributes:

        - ``data``, ``target``: as above;
        - ``frame``: DataFrame with ``data`` and ``target``, or None unless
          ``as_frame=True``;
        - ``feature_names``: list of str, ``["pixel1", ..., "pixel784"]``;
        - ``target_names``: list of str, ``["class"]``;
        - ``DESCR``: str, description of the dataset;
        - ``n_train``: int, the number of leading rows that form the training
          split (60,000 for the full MNIST; the remaining rows are the test
          split);
        - ``source``: str, where the data came from.

    Raises
    ------
    MNISTUnavailableError
        If the folder from ``path`` or ``CSOFTMAX_MNIST_DIR`` lacks the IDX
        files, or if ``fetch_openml`` can neither use its cache nor download
        (offline). The message lists what to do.
    ValueError
        If an IDX file is corrupt, truncated or inconsistent with its partner
        file (the message names the file), or if the data are not 28x28
        images of 784 pixels.
    TypeError
        If ``as_frame`` or ``return_X_y`` is not a bool.
    ImportError
        If ``as_frame=True`` and pandas is not installed.

    See Also
    --------
    read_idx : Read one IDX file.
    sklearn.datasets.fetch_openml : The OpenML loader used by default.

    Examples
    --------
    Load the full dataset from OpenML (the first call downloads it):

    >>> from csoftmax.datasets import MNIST_N_TRAIN, load_mnist
    >>> X, y = load_mnist()  # doctest: +SKIP
    >>> X.shape, X.dtype, y[:5]  # doctest: +SKIP
    ((70000, 784), dtype('float32'), array([5, 0, 4, 1, 9]))
    >>> X_train, X_test = X[:MNIST_N_TRAIN], X[MNIST_N_TRAIN:]  # doctest: +SKIP

    Load a folder of IDX files, here one holding only the test set:

    >>> mnist = load_mnist(path="data/mnist", return_X_y=False)  # doctest: +SKIP
    >>> mnist.data.shape, mnist.n_train  # doctest: +SKIP
    ((10000, 784), 0)
    """
    for name, value in (("as_frame", as_frame), ("return_X_y", return_X_y)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool, got {value!r}")
    if as_frame:
        _require_pandas()

    if path is not None:
        bunch = _load_idx_folder(Path(path), "path")
    elif os.environ.get(MNIST_DIR_ENV):
        bunch = _load_idx_folder(Path(os.environ[MNIST_DIR_ENV]), MNIST_DIR_ENV)
    else:
        bunch = _load_openml(data_home)

    n_features = bunch.data.shape[1]
    if n_features != _N_PIXELS:
        raise ValueError(
            f"MNIST from {bunch.source} has {n_features} pixels per image; "
            f"expected {_N_PIXELS} (28x28)"
        )
    if as_frame:
        _to_frames(bunch)
    if return_X_y:
        return bunch.data, bunch.target
    return bunch


def _has_pandas():
    """Return whether pandas can be imported, without importing it."""
    return importlib.util.find_spec("pandas") is not None


def _require_pandas():
    """Raise ImportError naming ``as_frame`` when pandas is missing."""
    if not _has_pandas():
        raise ImportError(
            "as_frame=True requires pandas; install it (pip install pandas) or "
            "use as_frame=False"
        )


def _scale_pixels(pixels):
    """Return ``pixels`` (values 0-255) as a new float32 array divided by 255."""
    X = np.array(pixels, dtype=np.float32)
    X /= np.float32(255)
    return X


def _load_openml(data_home):
    """Load ``mnist_784`` through :func:`sklearn.datasets.fetch_openml`."""
    if _has_pandas():
        # The "pandas" parser is much faster on MNIST than "liac-arff". Its
        # columns are positional: 784 pixels, then the "class" label. Reading
        # the pixels as float32 halves the memory of the default int64, and
        # reading the label as text avoids a categorical column: pandas >= 3
        # gives it integer categories, on which scikit-learn 1.9's pandas
        # parser fails.
        dtypes = dict.fromkeys(range(_N_PIXELS), np.float32)
        dtypes[_N_PIXELS] = str
        parser_options = {"parser": "pandas", "read_csv_kwargs": {"dtype": dtypes}}
    else:
        parser_options = {"parser": "liac-arff"}
    try:
        openml = fetch_openml(
            "mnist_784",
            version=1,
            data_home=data_home,
            as_frame=False,
            **parser_options,
        )
    except OSError as exc:
        cache = get_data_home(data_home)
        raise MNISTUnavailableError(
            "sklearn.datasets.fetch_openml could not load 'mnist_784' from its "
            f"cache in {cache} nor download it ({exc}). "
            "To fix this, do one of:\n"
            f"  - set the environment variable {MNIST_DIR_ENV} or pass path= to "
            "a folder holding the MNIST IDX files "
            f"{_expected_files_text()};\n"
            "  - connect to the internet so that fetch_openml can download "
            f"mnist_784 into data_home={cache}."
        ) from exc

    n_samples = openml.data.shape[0]
    # ARFF allows quotes around nominal values; the pandas parser keeps them.
    labels = np.char.strip(np.asarray(openml.target, dtype=str), "'\"")
    return Bunch(
        data=_scale_pixels(openml.data),
        target=labels.astype(np.int64),
        frame=None,
        feature_names=list(openml.feature_names),
        target_names=list(openml.target_names),
        DESCR=openml.DESCR,
        n_train=min(MNIST_N_TRAIN, n_samples),
        source=(
            f"OpenML mnist_784 version 1 ({openml.url}) via "
            f"sklearn.datasets.fetch_openml, cached in {get_data_home(data_home)}"
        ),
    )


def _expected_files_text():
    """Name the IDX files a folder needs, and those it may hold, for messages."""
    test, train = ([name + "[.gz]" for name in pair] for pair in (_TEST_FILES, _TRAIN_FILES))
    return (
        f"{' and '.join(test)} (only this test pair is required; "
        f"{' and '.join(train)} add the training split)"
    )


def _find_file(folder, name):
    """Return ``folder/name`` or ``folder/name.gz``, whichever exists, or None."""
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _load_idx_folder(folder, origin):
    """Load the IDX files in ``folder``; ``origin`` names where it came from."""
    hint = (
        f"{origin}={str(folder)!r} must name a folder holding the MNIST IDX "
        f"files {_expected_files_text()}"
    )
    if not folder.is_dir():
        raise MNISTUnavailableError(f"{hint}, but it is not a folder.")
    found = {name: _find_file(folder, name) for name in _TRAIN_FILES + _TEST_FILES}
    missing = [name for name in _TEST_FILES if found[name] is None]
    n_train_files = sum(found[name] is not None for name in _TRAIN_FILES)
    if n_train_files == 1:
        missing += [name for name in _TRAIN_FILES if found[name] is None]
    if missing:
        raise MNISTUnavailableError(
            f"{hint}, but it lacks {', '.join(missing)} (with or without .gz)."
        )

    parts = [_read_pair(*(found[name] for name in _TEST_FILES))]
    if n_train_files:
        parts.insert(0, _read_pair(*(found[name] for name in _TRAIN_FILES)))
    shapes = {images.shape[1:] for images, _ in parts}
    if len(shapes) > 1:
        raise ValueError(
            f"IDX files in {str(folder)!r} mix image sizes {sorted(shapes)}: "
            "the train and t10k images must have the same size"
        )

    images = np.concatenate([images for images, _ in parts])
    labels = np.concatenate([labels for _, labels in parts])
    n_train = len(parts[0][0]) if n_train_files else 0
    n_test = len(images) - n_train
    n_pixels = images.shape[1] * images.shape[2]
    used = ", ".join(found[name].name for name in found if found[name] is not None)
    if n_train:
        split = f"{n_train} training images, then {n_test} test images"
    else:
        split = (
            f"test set only ({n_test} images from the t10k files; no training "
            "split, n_train=0)"
        )
    return Bunch(
        data=_scale_pixels(images.reshape(len(images), n_pixels)),
        target=labels.astype(np.int64),
        frame=None,
        feature_names=[f"pixel{i}" for i in range(1, n_pixels + 1)],
        target_names=["class"],
        DESCR=(
            f"MNIST-format IDX files read from {folder}: {used}.\n\n"
            f"{split}. Pixels are float32 intensities divided by 255; labels "
            "are int64. The first n_train rows form the training split and "
            "the remaining rows the test split."
        ),
        n_train=n_train,
        source=f"IDX files in {folder}: {split}",
    )


def _read_pair(images_path, labels_path):
    """Read and check an images file and its labels file."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"IDX file {str(images_path)!r} must hold unsigned-byte images of "
            f"shape (n_images, rows, columns); got {images.dtype.name} data of "
            f"shape {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"IDX file {str(labels_path)!r} must hold unsigned-byte labels of "
            f"shape (n_images,); got {labels.dtype.name} data of shape "
            f"{labels.shape}"
        )
    if len(labels) != len(images):
        raise ValueError(
            f"IDX file {str(labels_path)!r} holds {len(labels)} labels but "
            f"{str(images_path)!r} holds {len(images)} images; they must match"
        )
    return images, labels


def _to_frames(bunch):
    """Replace ``bunch.data``/``target`` with pandas objects, set ``frame``."""
    import pandas as pd

    bunch.data = pd.DataFrame(bunch.data, columns=bunch.feature_names)
    bunch.target = pd.Series(bunch.target, name=bunch.target_names[0])
    bunch.frame = pd.concat([bunch.data, bunch.target], axis=1)
