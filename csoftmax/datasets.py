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

import importlib.util
import os
from pathlib import Path

import numpy as np
from sklearn.datasets import fetch_openml, get_data_home
from sklearn.utils import Bunch

from csoftmax._idx import IDX_MAX_BYTES, IDX_MAX_NDIM, _read_idx, read_idx

__all__ = [
    "IDX_MAX_BYTES",
    "IDX_MAX_NDIM",
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

_IMAGE_SHAPE = (28, 28)
_N_PIXELS = 28 * 28

_TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
_TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")



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
        file, if its images are not unsigned bytes of shape
        ``(n_images, 28, 28)`` (checked from the header, before the data are
        read), or if a label is not a digit 0-9 (from a folder or from
        OpenML's cache). The message names the file.
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

    bunch = _load_bunch(path, data_home, _API_NAMES)
    if as_frame:
        _to_frames(bunch)
    if return_X_y:
        return bunch.data, bunch.target
    return bunch


class _Names:
    """How messages name the folder option, for library and command-line users.

    ``folder(path)`` names a folder given through the option, ``env(path)``
    one given through ``CSOFTMAX_MNIST_DIR``, and ``option`` the option in
    advice (``"pass path="``).
    """

    def __init__(self, folder, option):
        self.folder = folder
        self.option = option

    @staticmethod
    def env(folder):
        return f"{MNIST_DIR_ENV}={str(folder)!r}"


_API_NAMES = _Names(lambda folder: f"path={str(folder)!r}", "pass path=")


def _load_bunch(path, data_home, names):
    """Load MNIST as a Bunch from ``path``, ``CSOFTMAX_MNIST_DIR`` or OpenML.

    The work of :func:`load_mnist` without its output options. ``names``
    (a :class:`_Names`) words the messages: :mod:`csoftmax.__main__` passes
    its own, which speak of ``--data-dir``.
    """
    if path is not None:
        bunch = _load_idx_folder(Path(path), names.folder)
    elif os.environ.get(MNIST_DIR_ENV):
        bunch = _load_idx_folder(Path(os.environ[MNIST_DIR_ENV]), names.env)
    else:
        bunch = _load_openml(data_home, names.option)

    n_features = bunch.data.shape[1]
    if n_features != _N_PIXELS:
        raise ValueError(
            f"MNIST from {bunch.source} has {n_features} pixels per image; "
            f"expected {_N_PIXELS} (28x28)"
        )
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


def _load_openml(data_home, option):
    """Load ``mnist_784`` through :func:`sklearn.datasets.fetch_openml`.

    ``option`` names, in the advice of the error when it fails, the way to
    give a folder instead (``"pass path="``).
    """
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
            f"  - set the environment variable {MNIST_DIR_ENV} or {option} to "
            "a folder holding the MNIST IDX files "
            f"{_expected_files_text()};\n"
            "  - connect to the internet so that fetch_openml can download "
            f"mnist_784 into data_home={cache}."
        ) from exc

    n_samples = openml.data.shape[0]
    # ARFF allows quotes around nominal values; the pandas parser keeps them.
    labels = np.char.strip(np.asarray(openml.target, dtype=str), "'\"")
    cache = get_data_home(data_home)
    digits = np.isin(labels, [str(digit) for digit in range(10)])
    if not digits.all():
        bad = np.flatnonzero(~digits)
        raise ValueError(
            f"OpenML mnist_784 in the cache in {cache} holds the label "
            f"{str(labels[bad[0]])!r} at index {bad[0]} ({bad.size} labels in "
            "all are not digits); MNIST labels are the digits 0-9"
        )
    target = labels.astype(np.int64)
    return Bunch(
        data=_scale_pixels(openml.data),
        target=target,
        frame=None,
        feature_names=list(openml.feature_names),
        target_names=list(openml.target_names),
        DESCR=openml.DESCR,
        n_train=min(MNIST_N_TRAIN, n_samples),
        source=(
            f"OpenML mnist_784 version 1 ({openml.url}) via "
            f"sklearn.datasets.fetch_openml, cached in {cache}"
        ),
    )


def _expected_files_text():
    """Name the IDX files a folder needs, and those it may hold, for messages."""
    test, train = ([name + "[.gz]" for name in pair] for pair in (_TEST_FILES, _TRAIN_FILES))
    return (
        f"{' and '.join(test)} (only this test pair is required; "
        f"{' and '.join(train)} add the training split)"
    )


def _subfolders_with_test_pair(folder, limit=3):
    """Up to ``limit`` direct subfolders of ``folder`` that hold the t10k pair."""
    try:
        entries = sorted(entry for entry in folder.iterdir() if entry.is_dir())
    except OSError:
        return []
    found = []
    for entry in entries:
        if all(_find_file(entry, name) is not None for name in _TEST_FILES):
            found.append(entry)
            if len(found) == limit:
                break
    return found


def _find_file(folder, name):
    """Return ``folder/name`` or ``folder/name.gz``, whichever exists, or None."""
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _load_idx_folder(folder, describe):
    """Load the IDX files in ``folder``; ``describe(folder)`` names it in messages."""
    hint = (
        f"{describe(folder)} must name a folder holding the MNIST IDX files "
        f"{_expected_files_text()}"
    )
    if not folder.is_dir():
        raise MNISTUnavailableError(f"{hint}, but it is not a folder.")
    found = {name: _find_file(folder, name) for name in _TRAIN_FILES + _TEST_FILES}
    missing = [name for name in _TEST_FILES if found[name] is None]
    n_train_files = sum(found[name] is not None for name in _TRAIN_FILES)
    if n_train_files == 1:
        missing += [name for name in _TRAIN_FILES if found[name] is None]
    if missing:
        message = f"{hint}, but it lacks {', '.join(missing)} (with or without .gz)."
        subfolders = _subfolders_with_test_pair(folder)
        if subfolders:
            which = ", ".join(repr(sub.name) for sub in subfolders)
            uses = " or ".join(describe(sub) for sub in subfolders)
            if len(subfolders) == 1:
                message += f" Its subfolder {which} holds them: use {uses}."
            else:
                message += f" Its subfolders {which} hold them: use {uses}."
        raise MNISTUnavailableError(message)

    parts = [_read_pair(*(found[name] for name in _TEST_FILES))]
    if n_train_files:
        parts.insert(0, _read_pair(*(found[name] for name in _TRAIN_FILES)))
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
    """Read an images file and its labels file, checked as MNIST.

    Their headers are checked before their data are read: the images must be
    unsigned bytes of shape ``(n_images, 28, 28)``, the labels unsigned bytes
    of shape ``(n_images,)``. The labels must then be digits 0-9.
    """

    def check_images(dtype, shape):
        if dtype != np.uint8 or len(shape) != 3 or shape[1:] != _IMAGE_SHAPE:
            raise ValueError(
                f"IDX file {str(images_path)!r} must hold unsigned-byte 28x28 "
                f"images, of shape (n_images, 28, 28); its header declares "
                f"{dtype.name} data of shape {shape}"
            )

    def check_labels(dtype, shape):
        if dtype != np.uint8 or len(shape) != 1:
            raise ValueError(
                f"IDX file {str(labels_path)!r} must hold unsigned-byte labels "
                f"of shape (n_images,); its header declares {dtype.name} data "
                f"of shape {shape}"
            )
        if shape[0] != n_images:
            raise ValueError(
                f"IDX file {str(labels_path)!r} holds {shape[0]} labels but "
                f"{str(images_path)!r} holds {n_images} images; they must match"
            )

    images = _read_idx(images_path, IDX_MAX_BYTES, check_images)
    n_images = len(images)
    labels = _read_idx(labels_path, IDX_MAX_BYTES, check_labels)
    _check_digits(labels, f"IDX file {str(labels_path)!r}")
    return images, labels


def _check_digits(labels, source):
    """Raise ValueError unless the integer ``labels`` are all digits 0-9."""
    bad = np.flatnonzero((labels < 0) | (labels > 9))
    if bad.size:
        raise ValueError(
            f"{source} holds the label {labels[bad[0]]} at index {bad[0]} "
            f"({bad.size} labels in all are outside 0-9); MNIST labels are "
            "the digits 0-9"
        )


def _to_frames(bunch):
    """Replace ``bunch.data``/``target`` with pandas objects, set ``frame``."""
    import pandas as pd

    bunch.data = pd.DataFrame(bunch.data, columns=bunch.feature_names)
    bunch.target = pd.Series(bunch.target, name=bunch.target_names[0])
    bunch.frame = pd.concat([bunch.data, bunch.target], axis=1)
