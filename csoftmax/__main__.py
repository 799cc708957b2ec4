"""The main job: train ``csoftmax.MLPClassifier`` on MNIST and report its speed.

Run it as ``python -m csoftmax`` or with the ``csoftmax`` console script; see
``--help`` for the options. It loads MNIST as
:func:`csoftmax.datasets.load_mnist` does (its messages name ``--data-dir``
rather than ``path=``), trains one epoch per
:meth:`~csoftmax.MLPClassifier.partial_fit` call while it reports the loss,
the validation accuracy and the time of every epoch, then prints the test
accuracy, the fit time and the training throughput. ``--compare-sklearn``
trains scikit-learn's ``MLPClassifier`` the same way on the same data.

MNIST comes from ``--data-dir``, else from the folder named by
``CSOFTMAX_MNIST_DIR``, else from OpenML. A folder given either way that is
missing or lacks the IDX files is an error. :data:`FALLBACK` says when it
trains on scikit-learn's bundled 8x8 digits instead; ``--help`` and the
README's Quick start say the same.
"""

import argparse
import os
import shlex
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

from . import MLPClassifier
from ._cli_plot import _plot_file, _save_plot
from .datasets import MNIST_DIR_ENV, MNISTUnavailableError, _load_bunch, _Names

#: Fraction of the training split held out to report validation accuracy.
VALIDATION_FRACTION = 0.1
#: Fraction used as test set when the data come without a train/test split.
TEST_FRACTION = 0.2

#: When the job trains on another dataset than MNIST: the sentence ``--help``
#: and the README's Quick start both print.
FALLBACK = (
    "Only when neither --data-dir nor CSOFTMAX_MNIST_DIR is set and OpenML can "
    "neither be read from scikit-learn's cache nor downloaded does it train on "
    "scikit-learn's bundled 8x8 digits (load_digits, 1797 images) instead of "
    "MNIST, with a warning on stderr before and after training; --no-fallback "
    "makes that an error."
)
_DIGITS_NAME = "load_digits (scikit-learn's bundled 8x8 digits, 1797 images)"

# Messages about MNIST's folder speak of --data-dir, not of load_mnist's path=.
_CLI_NAMES = _Names(lambda folder: f"--data-dir {shlex.quote(str(folder))}", "pass --data-dir")

_BAR_WIDTH = 30


def main(argv=None, *, prog="csoftmax"):
    """Run the main job.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments without the program name; None reads
        ``sys.argv[1:]``.
    prog : str, default="csoftmax"
        The program name shown by ``--help`` and in usage errors: the console
        script's name, or ``"python -m csoftmax"`` when run as a module.

    Returns
    -------
    exit_code : int
        0 on success, 1 if the folder given by ``--data-dir`` (or by
        ``CSOFTMAX_MNIST_DIR``) is missing, lacks the IDX files or cannot be
        read, if MNIST is unavailable under ``--no-fallback``, or if the plot
        cannot be saved.
        Invalid options exit with status 2 through :mod:`argparse`, before
        any training; so does a ``--plot`` file that cannot be written (its
        folder is missing, matplotlib cannot write its extension, or
        matplotlib is not installed).

    Examples
    --------
    >>> from csoftmax.__main__ import main
    >>> main(["--epochs", "2", "--hidden", "64"])  # doctest: +SKIP
    dataset: OpenML mnist_784 version 1 ...
    ...
    test accuracy: 0.9589
    fit time: ...
    samples/s: ...
    0
    """
    parser = _build_parser(prog)
    args = parser.parse_args(argv)
    plot = _check_plot(parser, args.plot)
    info = _silent if args.quiet else print

    try:
        data = _load_data(args.data_dir, args.seed, info, fallback=not args.no_fallback)
    except (MNISTUnavailableError, ValueError) as exc:
        print(f"error: cannot load MNIST: {exc}", file=sys.stderr)
        return 1
    dtype = np.dtype(args.dtype)
    X_fit, X_val, y_fit, y_val, X_test = _validation_split(data, dtype, args.seed, info)

    classes = np.unique(data.y_train)
    runs = []
    for name, qualified_name, model, shared in _models(args, dtype, X_fit.shape[0]):
        params = _format_params(model, shared)
        info(f"training {qualified_name}({params}) for {_plural(args.epochs, 'epoch')}")
        progress = _Progress(sys.stdout, args.epochs, enabled=not args.quiet)
        run = _train(
            model, name, X_fit, y_fit, (X_val, y_val), classes, args.epochs, progress
        )
        run.test_accuracy = model.score(X_test, data.y_test)
        runs.append(run)

    _report(runs, args.compare_sklearn)
    if data.fallback_reason is not None:
        _warn_fallback(data.fallback_reason, after=True)
    if plot is not None:
        return _save_plot(*plot, runs, data.name)
    return 0


def _check_plot(parser, path):
    """The (file, format) --plot will write, checked before any training; None without."""
    if path is None:
        return None
    try:
        plot = _plot_file(path)
    except ImportError:
        parser.error(
            "argument --plot: needs matplotlib, which is not installed "
            "(pip install matplotlib)"
        )
    except ValueError as exc:
        parser.error(f"argument --plot: {exc}")
    if not Path(plot[0]).resolve().parent.is_dir():
        parser.error(f"argument --plot: the folder of {path} does not exist")
    return plot


def _validation_split(data, dtype, seed, info):
    """The stratified training/validation split of the training rows, and the test rows."""
    X_fit, X_val, y_fit, y_val = train_test_split(
        data.X_train.astype(dtype, copy=False),
        data.y_train,
        test_size=VALIDATION_FRACTION,
        stratify=data.y_train,
        random_state=seed,
    )
    X_test = data.X_test.astype(dtype, copy=False)
    info(
        f"train: {X_fit.shape[0]} x {X_fit.shape[1]}, "
        f"validation: {X_val.shape[0]} x {X_val.shape[1]}, "
        f"test: {X_test.shape[0]} x {X_test.shape[1]} ({dtype.name})"
    )
    return X_fit, X_val, y_fit, y_val, X_test


def _models(args, dtype, n_fit):
    """(name, qualified name, estimator, shared parameters) of each model to train."""
    # Each epoch is a partial_fit call, and the estimators clip a batch size
    # larger than the data with a warning per call: clip it here, once.
    batch_size = min(args.batch_size, n_fit)
    if batch_size < args.batch_size:
        print(
            f"warning: --batch-size {args.batch_size} is larger than the "
            f"{n_fit} training images, so every epoch is one batch of "
            f"{batch_size}",
            file=sys.stderr,
        )
    shared = {
        "hidden_layer_sizes": args.hidden,
        "batch_size": batch_size,
        "learning_rate_init": args.learning_rate,
        "random_state": args.seed,
    }
    models = [
        (
            "csoftmax",
            "csoftmax.MLPClassifier",
            MLPClassifier(**shared, dtype=dtype.type, n_threads=args.n_threads),
            shared,
        )
    ]
    if args.compare_sklearn:
        models.append(
            (
                "scikit-learn",
                "sklearn.neural_network.MLPClassifier",
                SklearnMLPClassifier(**shared),
                shared,
            )
        )
    return models


def _report(runs, compare_sklearn):
    for run in runs:
        prefix = "" if run is runs[0] else f"{run.name} "
        print(f"{prefix}test accuracy: {run.test_accuracy:.4f}")
        decimals = 1 if run.fit_time >= 1 else 2
        print(f"{prefix}fit time: {run.fit_time:.{decimals}f} s")
        print(f"{prefix}samples/s: {run.samples_per_second:.0f}")
    if compare_sklearn:
        speed_up = runs[1].fit_time / runs[0].fit_time
        print(f"speed-up: {speed_up:.2f}x (scikit-learn fit time / csoftmax fit time)")


def _build_parser(prog):
    """Return the :class:`argparse.ArgumentParser` of the main job."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Train csoftmax.MLPClassifier (Adam) on MNIST, one epoch at a time, "
            "and report the test accuracy, the fit time and the throughput. "
            "MNIST comes from --data-dir, else from the folder in "
            "CSOFTMAX_MNIST_DIR, else from OpenML through scikit-learn's "
            "fetch_openml cache. A folder that is missing or lacks the IDX "
            "files is an error. " + FALLBACK
        ),
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help=(
            "folder of MNIST-format IDX files (t10k-images-idx3-ubyte[.gz], "
            "t10k-labels-idx1-ubyte[.gz] and optionally the train-* pair)"
        ),
    )
    parser.add_argument(
        "--no-fallback",
        action="store_true",
        help=(
            "exit with an error when MNIST is unavailable instead of training "
            "on scikit-learn's bundled 8x8 digits"
        ),
    )
    parser.add_argument(
        "--plot",
        metavar="FILE.png",
        help=(
            "save the loss and validation-accuracy curves (needs matplotlib); "
            "the extension picks the format, .png is added to a name without one"
        ),
    )
    _add_training_options(parser)
    parser.add_argument(
        "--compare-sklearn",
        action="store_true",
        help=(
            "also train scikit-learn's MLPClassifier with the same parameters "
            "on the same data and print the speed-up"
        ),
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print only notices and the final results",
    )
    return parser


def _add_training_options(parser):
    """The options of the training run: epochs, network, optimizer, dtype, threads, seed."""
    parser.add_argument(
        "--epochs", type=_positive_int, default=20, help="epochs (default: 20)"
    )
    parser.add_argument(
        "--hidden",
        type=_hidden_layer_sizes,
        default=(100,),
        metavar="SIZES",
        help="hidden layer sizes, comma-separated, e.g. 256,128 (default: 100)",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=200,
        help=(
            "minibatch size, at most the number of training images "
            "(default: 200)"
        ),
    )
    parser.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=1e-3,
        help="Adam's initial learning rate (default: 0.001)",
    )
    parser.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        default="float32",
        help="floating-point type to train in (default: float32)",
    )
    parser.add_argument(
        "--n-threads",
        type=_n_threads,
        default=None,
        metavar="N",
        help=(
            "threads for csoftmax; -1 all cores, -2 all but one "
            "(default: all usable cores)"
        ),
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the data splits, weights and shuffling (default: 0)",
    )


def _positive_int(text):
    """Parse an integer >= 1 for argparse."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text):
    """Parse a finite float > 0 for argparse."""
    value = float(text)
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _n_threads(text):
    """Parse a non-zero integer thread count for argparse."""
    value = int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0 (use -1 for all cores)")
    return value


def _hidden_layer_sizes(text):
    """Parse ``"256,128"`` into ``(256, 128)`` for argparse."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 256,128, got {text!r}"
        )
    return sizes


def _silent(*args, **kwargs):
    """Print nothing (``print`` under ``--quiet``)."""


@dataclass
class _Data:
    """The train/test split the job uses and the name of its dataset."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    #: Why MNIST was unavailable, when the data are load_digits instead.
    fallback_reason: Exception | None = None


def _load_data(data_dir, seed, info, *, fallback=True):
    """Load MNIST (or load_digits when MNIST is unavailable) and split it.

    Raises :class:`MNISTUnavailableError` when a folder was given, as
    ``data_dir`` or through ``CSOFTMAX_MNIST_DIR``, or when ``fallback`` is
    False; only without either folder does a missing MNIST fall back to
    ``load_digits``, with a warning.
    """
    try:
        with warnings.catch_warnings():
            # fetch_openml warns on every retry; the final error says it all.
            warnings.filterwarnings(
                "ignore", message="A network error occurred", category=UserWarning
            )
            mnist = _load_bunch(data_dir, None, _CLI_NAMES)
    except MNISTUnavailableError as exc:
        if data_dir is not None or os.environ.get(MNIST_DIR_ENV) or not fallback:
            raise
        _warn_fallback(exc, after=False)
        info(f"dataset: {_DIGITS_NAME}")
        digits = load_digits()
        X = (digits.data / 16).astype(np.float32)
        data = _split(_DIGITS_NAME, X, digits.target, seed, info)
        data.fallback_reason = exc
        return data

    info(f"dataset: {mnist.source}")
    X, y, n_train = mnist.data, mnist.target, mnist.n_train
    if 0 < n_train < len(X):
        return _Data(mnist.source, X[:n_train], y[:n_train], X[n_train:], y[n_train:])
    available = "a test set" if n_train == 0 else "a training set"
    info(f"Only {available} is available (n_train={n_train}), so it is split.")
    return _split(mnist.source, X, y, seed, info)


def _warn_fallback(reason, *, after):
    """Say on stderr, before and after training, that the data are not MNIST."""
    if after:
        print(
            f"warning: these results are for {_DIGITS_NAME}, not MNIST, which "
            "was unavailable (see the warning before training); pass "
            "--no-fallback to make that an error.",
            file=sys.stderr,
        )
        return
    print(
        f"warning: MNIST is unavailable, so this run trains on {_DIGITS_NAME} "
        "instead: its accuracy and speed are not MNIST's. Pass --no-fallback "
        "to make this an error.\n"
        f"warning: why MNIST is unavailable: {reason}",
        file=sys.stderr,
    )


def _plural(count, noun):
    """``"1 epoch"``, ``"2 epochs"``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _split(name, X, y, seed, info):
    """Split ``X, y`` into stratified, seeded train and test parts."""
    info(
        f"Using a stratified {1 - TEST_FRACTION:.0%}/{TEST_FRACTION:.0%} "
        f"train/test split of its {len(X)} images (seed {seed})."
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_FRACTION, stratify=y, random_state=seed
    )
    return _Data(name, X_train, y_train, X_test, y_test)


def _format_params(model, shared):
    """Return ``"name=value, ..."`` for the parameters the job sets."""
    names = list(shared)
    names += [name for name in ("dtype", "n_threads") if name in model.get_params()]
    params = model.get_params()
    return ", ".join(f"{name}={_format_value(params[name])}" for name in names)


def _format_value(value):
    """Return ``value`` as it would be written in Python code."""
    if isinstance(value, type) and issubclass(value, np.generic):
        return f"np.{value.__name__}"
    return repr(value)


@dataclass
class _Run:
    """What one model's training produced."""

    name: str
    n_samples: int
    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    fit_time: float = 0.0
    test_accuracy: float = float("nan")

    @property
    def samples_per_second(self):
        """Training samples processed per second of fit time."""
        return self.n_samples * len(self.loss_curve) / self.fit_time


def _train(model, name, X, y, validation, classes, n_epochs, progress):
    """Train ``model`` for ``n_epochs`` epochs, one ``partial_fit`` each, scoring it on
    ``validation`` (``(X_val, y_val)``) after each.

    Each ``partial_fit`` call runs one shuffled epoch and keeps the Adam state
    of the previous calls, so the loop trains like ``fit`` with
    ``max_iter=n_epochs``, except that the shuffled orders differ and ``fit``'s
    stop on a loss plateau does not apply. Unlike ``fit`` with
    ``warm_start=True, max_iter=1``, it neither restarts Adam every epoch nor
    warns ``ConvergenceWarning`` every epoch. Only ``partial_fit`` counts
    towards the fit time, not the validation scoring.
    """
    run = _Run(name, n_samples=len(X))
    progress.start()
    for epoch in range(1, n_epochs + 1):
        start = time.perf_counter()
        model.partial_fit(X, y, classes=classes)
        seconds = time.perf_counter() - start
        run.fit_time += seconds
        run.loss_curve.append(model.loss_)
        run.validation_scores.append(model.score(*validation))
        progress.epoch(epoch, model.loss_, run.validation_scores[-1], seconds)
    return run


class _Progress:
    """Report epochs as plain lines, with a progress bar on a terminal.

    On an interactive terminal a bar below the epoch lines is redrawn after
    every epoch; otherwise (pipes, files, captured output) only the lines are
    written, so logs stay clean.
    """

    def __init__(self, stream, n_epochs, *, enabled):
        self.stream = stream
        self.n_epochs = n_epochs
        self.enabled = enabled
        self.interactive = enabled and stream.isatty()
        self.elapsed = 0.0

    def start(self):
        """Show the empty bar before the first epoch."""
        if self.interactive:
            self.stream.write(self._bar(0))
            self.stream.flush()

    def epoch(self, epoch, loss, validation_accuracy, seconds):
        """Report one finished epoch."""
        if not self.enabled:
            return
        self.elapsed += seconds
        width = len(str(self.n_epochs))
        line = (
            f"epoch {epoch:>{width}}/{self.n_epochs}  loss {loss:.4f}  "
            f"validation accuracy {validation_accuracy:.4f}  {seconds:.2f} s\n"
        )
        if self.interactive:
            # Replace the bar by the epoch line, then redraw the bar below.
            line = (
                "\r\x1b[K" + line + (self._bar(epoch) if epoch < self.n_epochs else "")
            )
        self.stream.write(line)
        self.stream.flush()

    def _bar(self, done):
        """Return the bar after ``done`` epochs, with the time left."""
        filled = round(_BAR_WIDTH * done / self.n_epochs)
        bar = "#" * filled + "." * (_BAR_WIDTH - filled)
        text = f"[{bar}] {done}/{_plural(self.n_epochs, 'epoch')}"
        if done:
            remaining = self.elapsed / done * (self.n_epochs - done)
            text += f", about {remaining:.0f} s left"
        return text


if __name__ == "__main__":
    sys.exit(main(prog="python -m csoftmax"))
