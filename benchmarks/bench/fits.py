"""Timed fits of the three MLPs the suite compares, with the same parameters.

``MLPClassifier(hidden_layer_sizes=(100,))`` with Adam (learning rate 1e-3), minibatches of
200, ``alpha=1e-4`` and ``tol=0`` (every epoch runs) for csoftmax and scikit-learn, and
:class:`bench.torch_mlp.TorchMLPClassifier` with the same for PyTorch.
"""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLP
from threadpoolctl import threadpool_limits

import csoftmax
from bench.timing import timed
from bench.torch_mlp import TorchMLPClassifier

COMMON = dict(hidden_layer_sizes=(100,), solver="adam", batch_size=200, alpha=1e-4,
              learning_rate_init=1e-3, tol=0.0, random_state=0)


def estimator(library, torch=None, *, n_threads=None, **params):
    """An unfitted MLP of ``library`` ("csoftmax", "scikit-learn" or "PyTorch")."""
    params = {**COMMON, **params}
    if library == "csoftmax":
        return csoftmax.MLPClassifier(n_threads=n_threads, **params)
    if library == "scikit-learn":
        return SklearnMLP(**params)
    if library == "PyTorch":
        return TorchMLPClassifier(torch, n_threads=n_threads, **params)
    raise ValueError(f"unknown library {library!r}")


def fit(est, X, y, n_threads=None):
    """Fit ``est`` with BLAS and OpenMP limited to ``n_threads`` (None: no limit)."""
    with warnings.catch_warnings(), threadpool_limits(limits=n_threads):
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few epochs do not converge
        return est.fit(X, y)


def epoch_seconds(est, X, y, n_threads=None):
    """Fit ``est`` on ``X, y``; the wall-clock seconds per epoch."""
    seconds = timed(lambda: fit(est, X, y, n_threads))
    return seconds / est.n_iter_
