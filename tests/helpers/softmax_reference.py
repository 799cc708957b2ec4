"""Float64 references for :mod:`csoftmax.functional` and the checks built on them.

The references are :func:`scipy.special.softmax` and
:func:`scipy.special.log_softmax` with the csoftmax row rule applied explicitly,
the closed-form Jacobian ``diag(s) - s s^T``, and ``J.T @ g`` for the
vector-Jacobian products. Each check compares a kernel result against them at
the accuracy of :mod:`helpers.numerics`.
"""

import numpy as np
import scipy.special

import csoftmax
from .numerics import assert_close_scaled, log_atol, prob_atol, rtol

FORWARD = {"softmax": csoftmax.softmax, "log_softmax": csoftmax.log_softmax}
VJP = {"softmax_vjp": csoftmax.softmax_vjp, "log_softmax_vjp": csoftmax.log_softmax_vjp}


def nan_rows(x64, axis):
    """Mask (keepdims) of the rows the row rule turns into NaN."""
    all_neg_inf = np.all(x64 == -np.inf, axis=axis, keepdims=True)
    poisoned = np.any(np.isnan(x64) | (x64 == np.inf), axis=axis, keepdims=True)
    return all_neg_inf | poisoned


def ref_softmax(x, axis=-1):
    """scipy.special.softmax in float64, with the row rule applied explicitly."""
    x64 = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        s = scipy.special.softmax(x64, axis=axis)
    return np.where(nan_rows(x64, axis), np.nan, s)


def ref_log_softmax(x, axis=-1):
    """scipy.special.log_softmax in float64, with the row rule applied explicitly.

    (scipy leaves -inf beside a +inf in a row; the csoftmax rule makes the whole
    row NaN, as PyTorch does.)
    """
    x64 = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        ls = scipy.special.log_softmax(x64, axis=axis)
    return np.where(nan_rows(x64, axis), np.nan, ls)


def ref_jacobian(x, axis=-1):
    """Closed-form Jacobian diag(s) - s s^T of the float64 reference softmax.

    Returns ``(J, scale)`` of shape batch + (C, C), where ``scale`` is the
    magnitude of the terms, diag(s) + s s^T, used for a componentwise tolerance.
    """
    s = np.moveaxis(ref_softmax(x, axis), axis, -1)
    eye = np.eye(s.shape[-1])
    outer = s[..., :, None] * s[..., None, :]
    diag = s[..., :, None] * eye
    return diag - outer, np.abs(diag) + np.abs(outer)


def ref_softmax_vjp(y, dy, axis=-1):
    """J.T @ dy with J = diag(y) - y y^T built from y cast to float64.

    Returns ``(vjp, scale)``; scale = |y| (|dy| + sum|dy| |y|) bounds the terms
    that cancel.
    """
    y64 = np.moveaxis(np.asarray(y, dtype=np.float64), axis, -1)
    g = np.moveaxis(np.asarray(dy, dtype=np.float64), axis, -1)
    if y64.shape[-1] <= 512:
        jac = y64[..., :, None] * np.eye(y64.shape[-1]) - y64[..., :, None] * y64[..., None, :]
        vjp = np.einsum("...ij,...i->...j", jac, g)  # (J.T @ g)_j = sum_i J_ij g_i
    else:  # wide rows: the same product without materialising C x C blocks
        vjp = y64 * g - y64 * np.sum(y64 * g, axis=-1, keepdims=True)
    scale = np.abs(y64) * (np.abs(g) + np.sum(np.abs(g) * np.abs(y64), axis=-1, keepdims=True))
    return np.moveaxis(vjp, -1, axis), np.moveaxis(scale, -1, axis)


def ref_log_softmax_vjp(y, dy, axis=-1):
    """J.T @ dy with J_ij = d log_softmax_i / d x_j = delta_ij - s_j, s = exp(y).

    Returns ``(vjp, scale)``; scale = |dy| + s sum|dy|.
    """
    s = np.exp(np.moveaxis(np.asarray(y, dtype=np.float64), axis, -1))
    g = np.moveaxis(np.asarray(dy, dtype=np.float64), axis, -1)
    if s.shape[-1] <= 512:
        jac = np.eye(s.shape[-1]) - s[..., None, :]
        vjp = np.einsum("...ij,...i->...j", jac, g)
    else:  # wide rows: the same product without materialising C x C blocks
        vjp = g - s * np.sum(g, axis=-1, keepdims=True)
    scale = np.abs(g) + s * np.sum(np.abs(g), axis=-1, keepdims=True)
    return np.moveaxis(vjp, -1, axis), np.moveaxis(scale, -1, axis)


# Quantities that cancel (Jacobian entries s_i - s_i^2, VJP terms
# dy - sum(dy * y)) are checked relative to the magnitude of the terms that
# cancel ("componentwise relative error"): |actual - ref| <= rtol * scale + tiny.


def check_forward(name, actual, x, axis, dtype):
    """Compare a softmax/log_softmax result against the float64 reference."""
    if name == "softmax":
        np.testing.assert_allclose(actual, ref_softmax(x, axis), rtol=rtol(dtype), atol=prob_atol(dtype))
    else:
        n_classes = np.shape(x)[axis] if np.ndim(x) else 1
        np.testing.assert_allclose(
            actual, ref_log_softmax(x, axis), rtol=rtol(dtype), atol=log_atol(dtype, n_classes)
        )


def check_jacobian(actual, x, axis, dtype):
    ref, scale = ref_jacobian(x, axis)
    assert_close_scaled(actual, ref, rtol(dtype) * scale + prob_atol(dtype))


def check_vjp(name, actual, y, dy, axis, dtype):
    ref_fn = ref_softmax_vjp if name == "softmax_vjp" else ref_log_softmax_vjp
    ref, scale = ref_fn(y, dy, axis)
    assert_close_scaled(actual, ref, rtol(dtype) * scale + prob_atol(dtype))


def random_logits(shape, dtype, seed=0, scale=3.0):
    """Normal logits, rounded to ``dtype`` (references then use those values)."""
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal(shape)).astype(dtype)


def vjp_inputs(name, x, dtype, axis, seed=1):
    """(y, dy) for a VJP: y is the float64 reference forward output cast to dtype."""
    rng = np.random.default_rng(seed)
    fwd = ref_softmax if name == "softmax_vjp" else ref_log_softmax
    y = fwd(x, axis).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    return y, dy


# Rows for the row rule: a row that is all -inf, or contains +inf or NaN,
# becomes NaN and no other row is affected; other -inf entries get probability
# exactly 0.
INF, NAN = np.inf, np.nan
ROW_RULE_ROWS = np.array(
    [
        [0.5, -1.0, 2.0, 0.0, 1.5],  # 0 ordinary
        [-INF, -INF, -INF, -INF, -INF],  # 1 all -inf      -> NaN
        [0.0, INF, 1.0, -2.0, 3.0],  # 2 contains +inf  -> NaN
        [1.0, 2.0, NAN, 0.0, -1.0],  # 3 contains NaN   -> NaN
        [1.0, -INF, 2.0, -INF, 0.5],  # 4 masked entries -> exactly 0 / -inf
        [-INF, INF, -INF, 0.0, 1.0],  # 5 +inf and -inf  -> NaN
        [-INF, -INF, 3.0, -INF, -INF],  # 6 a single finite entry -> exactly 1 / 0
        [-2.0, 0.0, 1.0, 2.0, -0.5],  # 7 ordinary
    ]
)
NAN_ROWS = [1, 2, 3, 5]
GOOD_ROWS = [0, 4, 6, 7]
