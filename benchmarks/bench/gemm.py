"""The floor set by the matrix products alone, in float32 NumPy (the same BLAS the MLPs use).

One training epoch of a 784-h-k network costs, per minibatch ``X_b`` of ``b`` rows, the
forward products ``X_b @ W1`` and ``H @ W2`` and the backward ``H.T @ D2`` (dW2),
``D2 @ W2.T`` (dH) and ``X_b.T @ D1`` (dW1); nothing else of an epoch (activations, the
loss, the optimizer) is counted. Prediction costs ``relu(X @ W1) @ W2``.
"""

import numpy as np
from threadpoolctl import threadpool_limits

from bench.timing import measure


def _weights(n_features, n_hidden, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    scale = np.float32(0.05)
    return (rng.standard_normal((n_features, n_hidden), dtype=np.float32) * scale,
            rng.standard_normal((n_hidden, n_classes), dtype=np.float32) * scale)


def epoch_products(X, n_hidden, n_classes, batch_size=200):
    """A function running the 5 products of every minibatch of one epoch over ``X``."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    W1, W2 = _weights(X.shape[1], n_hidden, n_classes)
    H = np.empty((batch_size, n_hidden), np.float32)
    D1 = np.empty_like(H)
    D2 = np.empty((batch_size, n_classes), np.float32)
    dW1, dW2 = np.empty_like(W1), np.empty_like(W2)

    def epoch():
        for start in range(0, len(X), batch_size):
            Xb = X[start:start + batch_size]
            h, d1, d2 = H[:len(Xb)], D1[:len(Xb)], D2[:len(Xb)]
            np.matmul(Xb, W1, out=h)
            np.matmul(h, W2, out=d2)
            np.matmul(h.T, d2, out=dW2)
            np.matmul(d2, W2.T, out=d1)
            np.matmul(Xb.T, d1, out=dW1)

    return epoch


def epoch_seconds(X, n_hidden, n_classes, repeats, n_threads=None):
    """:class:`~bench.timing.Timing` of :func:`epoch_products` with ``n_threads`` for BLAS."""
    epoch = epoch_products(X, n_hidden, n_classes)
    with threadpool_limits(limits=n_threads):
        return measure(epoch, repeats)


def predict_products(X, n_hidden, n_classes):
    """A function computing ``relu(X @ W1) @ W2`` in float32 into preallocated arrays."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    W1, W2 = _weights(X.shape[1], n_hidden, n_classes)
    H = np.empty((len(X), n_hidden), np.float32)
    Z = np.empty((len(X), n_classes), np.float32)

    def predict():
        np.matmul(X, W1, out=H)
        np.maximum(H, 0, out=H)
        np.matmul(H, W2, out=Z)

    return predict
