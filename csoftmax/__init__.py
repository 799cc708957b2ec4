"""csoftmax: fast, accurate softmax kernels for backpropagation, and an MLPClassifier.

The kernels (C with OpenMP and run-time SIMD dispatch) cover softmax, log-softmax, the
softmax Jacobian, vector-Jacobian products and the fused softmax + cross-entropy loss and
gradient. ``MLPClassifier`` is a drop-in replacement for scikit-learn's, trained by them.

``import csoftmax`` loads only NumPy and the compiled kernels: ``MLPClassifier`` and
``datasets``, which need scikit-learn, are imported on first use. ``csoftmax.testing``
(:func:`~csoftmax.testing.check_vjp`, a gradient checker for hand-written backward passes)
needs only NumPy.
"""

import importlib

# The kernels' threads are csoftmax's own (src_c/cs_parallel_pool.h): they sleep after a
# few tens of microseconds idle, whatever OMP_WAIT_POLICY or GOMP_SPINCOUNT say, so the
# OpenMP runtime's settings, which other libraries share, are left as the user set them.
try:
    from csoftmax import _core  # noqa: F401  (the compiled kernels)
except ImportError as exc:  # pragma: no cover - depends on how the package was installed
    raise ImportError(
        "csoftmax's compiled extension is missing here. In a source checkout, build it "
        "in place with `pip install -e .` (or `python setup.py build_ext --inplace`); an "
        "installed csoftmax is shadowed when Python runs from the source folder."
    ) from exc

from csoftmax._utils import apply_simd_environment, set_simd_backend, simd_backend
from csoftmax.functional import (
    log_softmax,
    log_softmax_vjp,
    softmax,
    softmax_jacobian,
    softmax_vjp,
)
from csoftmax.losses import cross_entropy
from csoftmax import testing  # noqa: E402  (NumPy only)

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
    "testing",
    "simd_backend",
    "set_simd_backend",
]

# Loaded on first use (PEP 562), so that the kernels do not pay for importing scikit-learn.
_LAZY = {"MLPClassifier": "csoftmax.neural_network", "datasets": None}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'csoftmax' has no attribute {name!r}")
    module = importlib.import_module(f"csoftmax.{name}" if _LAZY[name] is None else _LAZY[name])
    value = module if _LAZY[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


apply_simd_environment()
