"""csoftmax: exact, fast softmax kernels for backpropagation, and an MLPClassifier.

The kernels (C with OpenMP and run-time SIMD dispatch) cover softmax, log-softmax, the
softmax Jacobian, vector-Jacobian products and the fused softmax + cross-entropy loss and
gradient. ``MLPClassifier`` is a drop-in replacement for scikit-learn's, trained by them.
"""

from csoftmax._utils import set_simd_backend, simd_backend
from csoftmax.functional import (
    log_softmax,
    log_softmax_vjp,
    softmax,
    softmax_jacobian,
    softmax_vjp,
)
from csoftmax.losses import cross_entropy
from csoftmax.neural_network import MLPClassifier
from csoftmax import datasets

__version__ = "0.1.0"

__all__ = [
    "softmax",
    "log_softmax",
    "softmax_jacobian",
    "softmax_vjp",
    "log_softmax_vjp",
    "cross_entropy",
    "MLPClassifier",
    "datasets",
    "simd_backend",
    "set_simd_backend",
]
