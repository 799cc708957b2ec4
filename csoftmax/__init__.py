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
import os

# The OpenMP runtime reads how long idle threads spin once, when the extension loads it.
# GNU OpenMP's default (a few hundred thousand spins, milliseconds) keeps the cores busy
# after every kernel, and another pool on the same cores (OpenBLAS's, or another process)
# then waits for a time slice, many times the work it waits on.
# Sleeping at once (OMP_WAIT_POLICY=PASSIVE) costs a wake-up at every parallel step of a
# training batch instead. csoftmax's threads spin for about 20,000 rounds (tens of
# microseconds, enough to bridge the steps of a batch), unless the user chose a policy.
# The environment is put back, so child processes and other libraries do not inherit it.
_SPIN_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
_SPIN_CHOSEN = any(name in os.environ for name in _SPIN_VARIABLES)
if not _SPIN_CHOSEN:
    os.environ["GOMP_SPINCOUNT"] = "20000"
try:
    from csoftmax import _core  # noqa: F401  (the compiled kernels)
except ImportError as exc:  # pragma: no cover - depends on how the package was installed
    raise ImportError(
        "csoftmax's compiled extension is missing here. In a source checkout, build it "
        "in place with `pip install -e .` (or `python setup.py build_ext --inplace`); an "
        "installed csoftmax is shadowed when Python runs from the source folder."
    ) from exc
finally:
    if not _SPIN_CHOSEN:
        del os.environ["GOMP_SPINCOUNT"]

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
