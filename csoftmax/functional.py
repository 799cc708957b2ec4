"""Softmax, log-softmax, their Jacobian and vector-Jacobian products.

Every function validates its arguments here, brings the reduction axis last in a
C-contiguous float32/float64 array (copying only when needed), and makes one call into the
C kernels with the GIL released.
"""

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from csoftmax import _core
from csoftmax._utils import check_n_threads, check_real, result_dtype

__all__ = ["softmax", "log_softmax", "softmax_jacobian", "softmax_vjp", "log_softmax_vjp"]


def _rows(x, axis, dtype):
    """View of x with `axis` last, as a C-contiguous (n_rows, n_cols) array of `dtype`."""
    moved = np.moveaxis(x, axis, -1)
    return np.ascontiguousarray(moved, dtype=dtype).reshape(_as_rows(moved.shape))


def _as_rows(shape):
    """(n_rows, n_cols) for an array whose last axis is the softmax axis."""
    return (int(np.prod(shape[:-1], dtype=np.int64)), shape[-1])


def _check_out(out, shape, dtype):
    if not isinstance(out, np.ndarray):
        raise ValueError(f"out must be a NumPy array; got {type(out).__name__}.")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}; expected {shape}.")
    if out.dtype != dtype:
        raise ValueError(f"out has dtype {out.dtype}; expected {dtype}.")
    if not out.flags.writeable:
        raise ValueError("out is read-only; pass a writeable array.")


def _run(kernel, inputs, axis, out, n_threads):
    """Apply a row kernel to `inputs` (same shape) along `axis`; returns the result."""
    dtype = result_dtype(*inputs)
    x = inputs[0]
    if out is not None:
        _check_out(out, x.shape, dtype)
    n_threads = check_n_threads(n_threads)
    if x.ndim == 0:
        rows = [np.ascontiguousarray(a, dtype=dtype).reshape(1, 1) for a in inputs]
        res = np.empty((1, 1), dtype=dtype)
        kernel(*rows, res, n_threads)
        if out is None:
            return res.reshape(())
        out[...] = res.reshape(())
        return out
    axis = normalize_axis_index(axis, x.ndim)
    # Write straight into `out` when its moved view is C-contiguous and does not partly
    # overlap the input (exact aliasing, out is x, is supported by the kernels).
    target = None
    if out is not None:
        moved_out = np.moveaxis(out, axis, -1)
        if moved_out.flags.c_contiguous:
            target = moved_out.reshape(_as_rows(moved_out.shape))
    rows = [_rows(a, axis, dtype) for a in inputs]
    if target is not None:
        for r in rows:
            if np.may_share_memory(r, target) and not (
                r.ctypes.data == target.ctypes.data and r.strides == target.strides
            ):
                target = None
                break
    res = target if target is not None else np.empty(rows[0].shape, dtype=dtype)
    if res.size:
        kernel(*rows, res, n_threads)
    if out is None:
        return np.moveaxis(res.reshape(np.moveaxis(x, axis, -1).shape), -1, axis)
    if target is None:
        np.moveaxis(out, axis, -1)[...] = res.reshape(np.moveaxis(out, axis, -1).shape)
    return out


def softmax(x, axis=-1, *, out=None, n_threads=None):
    """Softmax along an axis, ``exp(x - max) / sum(exp(x - max))``.

    Parameters
    ----------
    x : array-like
        Logits. float32 and float64 are computed natively and preserved; other real dtypes
        (ints, bool, float16) are computed in float64.
    axis : int, default=-1
        Axis along which the probabilities sum to 1.
    out : ndarray, optional
        Where to write the result: same shape as `x`, the result dtype, writeable. It may be
        `x` itself (in place).
    n_threads : int, default=None
        OpenMP threads. None uses all usable cores (respecting OMP_NUM_THREADS and
        threadpoolctl); -1 is all cores, -2 all but one. Results do not depend on it.

    Returns
    -------
    s : ndarray of the same shape as `x`
        Probabilities. A 0-d input gives 1.0.

    Notes
    -----
    The row maximum is subtracted before exponentiating, so logits of any magnitude are
    safe, and sums accumulate in double. An entry of -inf means "masked" and gets
    probability exactly 0. A row that is entirely -inf, or holds +inf or NaN, has no defined
    softmax and becomes NaN (as in PyTorch and SciPy); other rows are unaffected.

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> csoftmax.softmax(np.array([1.0, 2.0, 3.0])).round(4)
    array([0.09  , 0.2447, 0.6652])
    >>> csoftmax.softmax(np.array([0.0, -np.inf]))
    array([1., 0.])
    """
    x = check_real(x, "x")
    return _run(_core.softmax, (x,), axis, out, n_threads)


def log_softmax(x, axis=-1, *, out=None, n_threads=None):
    """Log of the softmax along an axis, ``(x - max) - log(sum(exp(x - max)))``.

    Parameters
    ----------
    x : array-like
        Logits (see :func:`softmax` for dtypes).
    axis : int, default=-1
        Axis along which the softmax is normalised.
    out : ndarray, optional
        Where to write the result (may be `x`).
    n_threads : int, default=None
        OpenMP threads (see :func:`softmax`).

    Returns
    -------
    log_s : ndarray of the same shape as `x`
        Log-probabilities. A 0-d input gives 0.0.

    Notes
    -----
    Computed with log-sum-exp, never as ``log(softmax(x))``: a probability that underflows
    to 0 still has its exact, finite log. -inf entries give -inf; undefined rows (see
    :func:`softmax`) give NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> csoftmax.log_softmax(np.array([0.0, -1000.0]))
    array([    0., -1000.])
    """
    x = check_real(x, "x")
    return _run(_core.log_softmax, (x,), axis, out, n_threads)


def softmax_jacobian(x, axis=-1, *, n_threads=None):
    """Jacobian of the softmax, ``J = diag(s) - s s^T`` for every slice along `axis`.

    Parameters
    ----------
    x : array-like
        Logits (see :func:`softmax` for dtypes).
    axis : int, default=-1
        Axis of the softmax.
    n_threads : int, default=None
        OpenMP threads (see :func:`softmax`).

    Returns
    -------
    J : ndarray of shape ``batch + (C, C)``
        ``batch`` is the shape of `x` without `axis` and C its length along `axis`;
        ``J[..., i, j] = ds_i / dx_j = s_i (delta_ij - s_j)``. A 0-d input gives 0.0.

    Notes
    -----
    The derivative of softmax is a full matrix, not the elementwise ``s * (1 - s)``, which is
    only its diagonal. J is symmetric and its rows sum to 0. Building J costs O(C^2) per row;
    to backpropagate, use :func:`softmax_vjp`, which costs O(C). The diagonal entry of a
    probability above 1/2 is computed as ``s_i * sum_{j != i} s_j``, which keeps full
    relative accuracy when s_i is close to 1.

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> csoftmax.softmax_jacobian(np.array([0.0, 0.0]))
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    x = check_real(x, "x")
    dtype = result_dtype(x)
    n_threads = check_n_threads(n_threads)
    if x.ndim == 0:
        return np.zeros((), dtype=dtype)
    axis = normalize_axis_index(axis, x.ndim)
    moved_shape = np.moveaxis(x, axis, -1).shape
    rows = _rows(x, axis, dtype)
    n_cols = rows.shape[1]
    out = np.empty((rows.shape[0], n_cols, n_cols), dtype=dtype)
    if out.size:
        _core.softmax_jacobian(rows, out, n_threads)
    return out.reshape(moved_shape[:-1] + (n_cols, n_cols))


def _check_pair(y, dy):
    y = check_real(y, "y")
    dy = check_real(dy, "dy")
    if dy.shape != y.shape:
        raise ValueError(f"dy has shape {dy.shape}; it must match y's shape {y.shape}.")
    return y, dy


def softmax_vjp(y, dy, axis=-1, *, out=None, n_threads=None):
    """Vector-Jacobian product of the softmax: ``y * (dy - sum(dy * y))``.

    Parameters
    ----------
    y : array-like
        The forward output, ``softmax(x, axis)``.
    dy : array-like of the same shape as `y`
        Upstream gradient d(loss)/d(y).
    axis : int, default=-1
        Axis of the softmax.
    out : ndarray, optional
        Where to write d(loss)/d(x); may be `y` or `dy`.
    n_threads : int, default=None
        OpenMP threads (see :func:`softmax`).

    Returns
    -------
    dx : ndarray of the same shape as `y`
        ``J^T dy`` for each slice, which equals ``J dy`` (the JVP) because J is symmetric.
        float32 only when both `y` and `dy` are float32.

    Notes
    -----
    With ``J = diag(y) - y y^T``, ``J^T dy = y * dy - y (y . dy)``: O(C) per row instead of
    the O(C^2) of forming J.

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> y = csoftmax.softmax(np.array([1.0, 2.0, 3.0]))
    >>> dy = np.array([1.0, 0.0, 0.0])
    >>> np.allclose(csoftmax.softmax_vjp(y, dy), csoftmax.softmax_jacobian([1.0, 2.0, 3.0]).T @ dy)
    True
    """
    y, dy = _check_pair(y, dy)
    return _run(_core.softmax_vjp, (y, dy), axis, out, n_threads)


def log_softmax_vjp(y, dy, axis=-1, *, out=None, n_threads=None):
    """Vector-Jacobian product of the log-softmax: ``dy - exp(y) * sum(dy)``.

    Parameters
    ----------
    y : array-like
        The forward output, ``log_softmax(x, axis)``.
    dy : array-like of the same shape as `y`
        Upstream gradient d(loss)/d(y).
    axis : int, default=-1
        Axis of the softmax.
    out : ndarray, optional
        Where to write d(loss)/d(x); may be `y` or `dy`.
    n_threads : int, default=None
        OpenMP threads (see :func:`softmax`).

    Returns
    -------
    dx : ndarray of the same shape as `y`

    Notes
    -----
    The Jacobian of log-softmax is ``I - 1 s^T``, so its transpose applied to dy is
    ``dy - s * sum(dy)`` with ``s = exp(y)``.

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> y = csoftmax.log_softmax(np.array([0.0, 0.0]))
    >>> csoftmax.log_softmax_vjp(y, np.array([1.0, 0.0]))
    array([ 0.5, -0.5])
    """
    y, dy = _check_pair(y, dy)
    return _run(_core.log_softmax_vjp, (y, dy), axis, out, n_threads)
