"""The data the training sections use: Fashion-MNIST, or scikit-learn's digits when quick."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """float32 features in [0, 1] and int64 labels, split into training and test rows."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_classes(self):
        return int(self.y_train.max()) + 1

    @property
    def description(self):
        return (f"{self.name} ({len(self.y_train):,} training rows, {len(self.y_test):,} "
                "test rows)")

    def layers(self, *hidden):
        """The network's layer sizes as text: ``784-100-10``."""
        return "-".join(map(str, (self.X_train.shape[1], *hidden, self.n_classes)))

    def head(self, n_rows):
        """The first ``n_rows`` training rows (all the test rows)."""
        return Dataset(self.name, self.X_train[:n_rows], self.y_train[:n_rows], self.X_test,
                       self.y_test)


def fashion_mnist(folder):
    """Fashion-MNIST's 60,000 training and 10,000 test images, or None without the folder."""
    from csoftmax.datasets import MNISTUnavailableError, load_mnist

    try:
        bunch = load_mnist(path=folder, return_X_y=False)
    except MNISTUnavailableError as exc:
        print(f"Fashion-MNIST not found: {exc}")
        return None
    n = bunch.n_train
    if n == 0:
        print(f"{folder} holds no training split (train-*-idx files)")
        return None
    return Dataset("Fashion-MNIST", bunch.data[:n], bunch.target[:n],
                   bunch.data[n:], bunch.target[n:])


def digits():
    """scikit-learn's bundled 8x8 digits (1,797 images): the quick run's data, read at once."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    n = 1200
    return Dataset("scikit-learn's 8x8 digits", X[:n], y[:n].astype(np.int64), X[n:],
                   y[n:].astype(np.int64))


def tile(X, y, n_rows):
    """``X`` and ``y`` repeated to ``n_rows`` rows: more data of the same difficulty."""
    reps = -(-n_rows // len(y))
    return np.tile(X, (reps, 1))[:n_rows], np.tile(y, reps)[:n_rows]
