"""csoftmax: exact, fast softmax kernels for backpropagation, and an MLPClassifier.

The kernels (C with OpenMP and run-time SIMD dispatch) cover softmax, log-softmax, the
softmax Jacobian, vector-Jacobian products and the fused softmax + cross-entropy loss and
gradient. ``MLPClassifier`` is a drop-in replacement for scikit-learn's, trained by them.
"""

try:
    from csoftmax import _mlp, _softmax, _xent  # noqa: F401  (the compiled kernels)
except ImportError as exc:  # pragma: no cover - depends on how the package was installed
    raise ImportError(
        "csoftmax's compiled extensions are missing here. In a source checkout, build them "
        "in place with `pip install -e .` (or `python setup.py build_ext --inplace`); an "
        "installed csoftmax is shadowed when Python runs from the source folder."
    ) from exc

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
