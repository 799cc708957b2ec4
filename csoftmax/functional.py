"""Softmax, log-softmax, their Jacobian and vector-Jacobian products.

Every function validates its arguments here, brings the reduction axis last in a
C-contiguous float32/float64 array (copying only when needed), and makes one call into the
C kernels with the GIL released.
"""

import numpy as np

from csoftmax import _core
from csoftmax._utils import (
    RowLayout,
    c_array,
    check_n_threads,
    check_out,
    check_real,
    check_where,
    direct_target,
    normalize_axes,
    result_dtype,
    zero_d_axis,
)

__all__ = ["softmax", "log_softmax", "softmax_jacobian", "softmax_vjp", "log_softmax_vjp"]

#: The largest result, in bytes, :func:`softmax_jacobian` allocates itself (1 GiB). A
#: larger Jacobian is refused with an error naming its size; pass ``out=`` to go beyond.
JACOBIAN_MAX_BYTES = 1 << 30


def _run(op, x, dy, axis, out, n_threads, where=None):
    """Apply the row kernel `op` (_core.ROW_*) to x (and dy, for a VJP) along `axis`; the
    one path of the row operations, and where their arguments are validated.

    The thread count is resolved first; arrays already in the kernel's layout (the common
    call: C-contiguous float arrays, last axis, see _core.rows) go to the kernel as they
    are, checked in C. Anything else is validated and brought into that layout here, then
    handed to the same entry.
    """
    n_threads = check_n_threads(n_threads)
    res = _core.rows(op, x, dy, out, axis, n_threads, where)
    if res is not None:
        return res
    inputs = (check_real(x, "x"),) if dy is None else _check_pair(x, dy)
    dtype = result_dtype(*inputs)
    x = inputs[0]
    if out is not None:
        check_out(out, x.shape, dtype)
    if where is not None:
        where = check_where(where, x.shape)
    # softmax_vjp checks y to the rounding of its own dtype (a float16 y is coarser)
    y_eps = float(np.finfo(x.dtype).eps) if x.dtype.kind == "f" else 0.0
    if x.ndim == 0:
        if not zero_d_axis(axis):
            normalize_axes(axis, 0)  # raises the usual AxisError
        rows = [c_array(a, dtype).reshape(1, 1) for a in inputs]
        mask = None if where is None else np.array(where).reshape(1, 1)
        res = _kernel_rows(op, rows, np.empty((1, 1), dtype=dtype), n_threads, mask, y_eps)
        if out is None:
            return res.reshape(())
        out[...] = res.reshape(())
        return out
    layout = RowLayout(x.shape, normalize_axes(axis, x.ndim))
    rows = [layout.rows(a, dtype) for a in inputs]
    # Write straight into `out` when its rows view is C-contiguous and does not partly
    # overlap the input (exact aliasing, out is x, is supported by the kernels).
    target = direct_target(out, layout, dtype, rows)
    res = target if target is not None else np.empty(rows[0].shape, dtype=dtype)
    mask = None if where is None else layout.rows(where, bool)
    if mask is not None and np.may_share_memory(mask, res):
        mask = mask.copy()  # the kernel reads the mask while it writes res
    if res.size:
        _kernel_rows(op, rows, res, n_threads, mask, y_eps)
    if out is None:
        return layout.unrows(res)
    if target is None:
        layout.move(out)[...] = res.reshape(layout.moved_shape)
    return out


def _kernel_rows(op, rows, res, n_threads, mask, y_eps):
    """_core.rows on arrays _run brought into the kernel's layout."""
    dy = rows[1] if len(rows) > 1 else None
    if _core.rows(op, rows[0], dy, res, -1, n_threads, mask, y_eps) is None:
        raise RuntimeError("csoftmax: prepared rows are not in the kernel's layout")
    return res


def softmax(x, axis=-1, *, where=None, out=None, n_threads=None):
    r"""Softmax along an axis, ``exp(x - max) / sum(exp(x - max))``.

    Parameters
    ----------
    x : array-like
        Logits. float32 and float64 are computed natively and preserved; other real dtypes
        (ints, bool, float16) are computed in float64.
    axis : int, tuple of ints or None, default=-1
        Axis along which the probabilities sum to 1. A tuple normalises over those axes
        together and None over all elements, as in :func:`scipy.special.softmax`. Note the
        defaults differ: SciPy's ``axis=None`` normalises a 2-D array as a whole, this
        function's ``axis=-1`` normalises each row (as PyTorch's ``dim=-1`` and JAX's).
    where : array-like of bool, optional
        The elements that take part, as in ``jax.nn.softmax(x, axis, where=where)``;
        broadcast to `x`'s shape by NumPy's rules. The max and the sum of each slice run
        over its elements that take part; the others get exactly 0, whatever their value
        (NaN and inf too). A slice with none taking part is 0 everywhere, where ``-inf``
        logits would give NaN. An all-True mask gives the bits of no mask. The mask is read
        in the kernel's passes over `x` (narrow rows then take the row loop).
    out : ndarray, optional
        Where to write the result: same shape as `x`, writeable, of the result dtype or a
        wider float dtype (computed in the result dtype, then cast). It may be `x` itself
        (in place).
    n_threads : int, default=None
        OpenMP threads. None uses all usable cores (respecting OMP_NUM_THREADS and
        threadpoolctl); -1 is all cores, -2 all but one. Results do not depend on it.

    Returns
    -------
    s : ndarray of the same shape as `x`
        Probabilities. A 0-d input gives a 0-d array holding 1.0 (SciPy gives a NumPy
        scalar; both compute and compare alike, and ``float(s)`` converts either).

    Raises
    ------
    TypeError
        If `x` does not hold real numbers (strings, complex or object arrays), or if
        `axis` or `n_threads` is not an integer (or, for `axis`, a tuple of them or None),
        or if `where` is not an array of bools.
    ValueError
        If `axis` is an empty tuple or repeats an axis; if `out` is not a writeable
        ndarray of `x`'s shape and of the result dtype or a wider float dtype; if
        `n_threads` is 0; if `where` does not broadcast to `x`'s shape.
    numpy.exceptions.AxisError
        If `axis` is out of bounds for `x`. It is a subclass of ValueError (and of
        IndexError), as NumPy raises it.

    See Also
    --------
    log_softmax : Its log, computed without forming the probabilities.
    softmax_vjp : Backpropagate through it.
    scipy.special.softmax : The same function in SciPy.

    Notes
    -----
    For each slice :math:`x` along `axis`, with :math:`m = \max_k x_k`,

    .. math::

        \operatorname{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_k e^{x_k - m}}
        = \frac{e^{x_i}}{\sum_k e^{x_k}} .

    The maximum is subtracted before exponentiating, so logits of any magnitude are
    safe, and sums accumulate in double. An entry of -inf means "masked" and gets
    probability exactly 0. A row that is entirely -inf, or holds +inf or NaN, has no defined
    softmax and becomes NaN (as in PyTorch and SciPy); other rows are unaffected. This shifted
    algorithm is analysed in [1]_: a probability whose logit lies d below the row maximum is
    accurate to about d/2 ulp, from the rounding of ``x - max``.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing the
       log-sum-exp and softmax functions", IMA Journal of Numerical Analysis 41(4),
       2311-2330, 2021. doi:10.1093/imanum/draa038

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> csoftmax.softmax(np.array([1.0, 2.0, 3.0])).round(4)
    array([0.09  , 0.2447, 0.6652])
    >>> csoftmax.softmax(np.array([0.0, -np.inf]))
    array([1., 0.])

    A mask leaves elements out; a row with none left is 0, not NaN:

    >>> csoftmax.softmax(np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]),
    ...                  where=np.array([[True, True, False], [False, False, False]]))
    array([[0.26894142, 0.73105858, 0.        ],
           [0.        , 0.        , 0.        ]])

    The axis decides what sums to 1. Along the last axis (the default), each row:

    >>> x = np.array([[1.0, 0.5, 0.2, 3.0],
    ...               [1.0, -1.0, 7.0, 3.0],
    ...               [2.0, 12.0, 13.0, 3.0]])
    >>> s = csoftmax.softmax(x)
    >>> s.round(3)
    array([[0.106, 0.064, 0.048, 0.782],
           [0.002, 0.   , 0.979, 0.018],
           [0.   , 0.269, 0.731, 0.   ]])
    >>> s.sum(axis=1)
    array([1., 1., 1.])

    Along the first axis, each column:

    >>> csoftmax.softmax(x, axis=0).round(3)
    array([[0.212, 0.   , 0.   , 0.333],
           [0.212, 0.   , 0.002, 0.333],
           [0.576, 1.   , 0.998, 0.333]])

    Over the whole array (``axis=None``), or over several axes together (a tuple):

    >>> m = csoftmax.softmax(x, axis=None)
    >>> m.round(3)
    array([[0.   , 0.   , 0.   , 0.   ],
           [0.   , 0.   , 0.002, 0.   ],
           [0.   , 0.268, 0.73 , 0.   ]])
    >>> float(m.sum())
    1.0
    >>> csoftmax.softmax(np.zeros((2, 3, 4)), axis=(1, 2)).sum(axis=(1, 2))
    array([1., 1.])
    """
    return _run(_core.ROW_SOFTMAX, x, None, axis, out, n_threads, where)


def log_softmax(x, axis=-1, *, where=None, out=None, n_threads=None):
    r"""Log of the softmax along an axis, ``(x - max) - log(sum(exp(x - max)))``.

    Parameters
    ----------
    x : array-like
        Logits (see :func:`softmax` for dtypes).
    axis : int, tuple of ints or None, default=-1
        Axis along which the softmax is normalised (see :func:`softmax`).
    where : array-like of bool, optional
        The elements that take part (see :func:`softmax`); the others get -inf, as in
        ``jax.nn.log_softmax``, and a slice with none taking part is -inf everywhere.
    out : ndarray, optional
        Where to write the result (may be `x`).
    n_threads : int, default=None
        OpenMP threads (see :func:`softmax`).

    Returns
    -------
    log_s : ndarray of the same shape as `x`
        Log-probabilities. A 0-d input gives a 0-d array holding 0.0.

    Raises
    ------
    TypeError
        If `x` does not hold real numbers (strings, complex or object arrays), or if
        `axis` or `n_threads` is not an integer (or, for `axis`, a tuple of them or None),
        or if `where` is not an array of bools.
    ValueError
        If `axis` is an empty tuple or repeats an axis; if `out` is not a writeable
        ndarray of `x`'s shape and of the result dtype or a wider float dtype; if
        `n_threads` is 0; if `where` does not broadcast to `x`'s shape.
    numpy.exceptions.AxisError
        If `axis` is out of bounds for `x`. It is a subclass of ValueError (and of
        IndexError), as NumPy raises it.

    See Also
    --------
    log_softmax_vjp : Backpropagate through it.
    csoftmax.cross_entropy : The loss computed from it, fused with its gradient.

    Notes
    -----
    For each slice :math:`x` along `axis`, with :math:`m = \max_k x_k`,

    .. math::

        \log \operatorname{softmax}(x)_i = x_i - \operatorname{lse}(x),
        \qquad \operatorname{lse}(x) = m + \log \sum_k e^{x_k - m} ,

    the log-sum-exp :math:`\operatorname{lse}(x) = \log \sum_k e^{x_k}`, whose gradient is
    the softmax. It is never computed as ``log(softmax(x))``: a probability that underflows
    to 0 still has its finite log, accurate to a few ulp of ``max(1, |value|)`` [1]_. -inf
    entries give -inf; undefined rows (see :func:`softmax`) give NaN.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing the
       log-sum-exp and softmax functions", IMA Journal of Numerical Analysis 41(4),
       2311-2330, 2021. doi:10.1093/imanum/draa038

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> csoftmax.log_softmax(np.array([0.0, -1000.0]))
    array([    0., -1000.])

    Along the last axis (the default) or the first:

    >>> x = np.array([[1.0, 0.5, 0.2, 3.0],
    ...               [1.0, -1.0, 7.0, 3.0],
    ...               [2.0, 12.0, 13.0, 3.0]])
    >>> csoftmax.log_softmax(x).round(3)
    array([[ -2.245,  -2.745,  -3.045,  -0.245],
           [ -6.021,  -8.021,  -0.021,  -4.021],
           [-11.313,  -1.313,  -0.313, -10.313]])
    >>> np.exp(csoftmax.log_softmax(x, axis=0)).sum(axis=0)
    array([1., 1., 1., 1.])

    Over the whole array, every entry is shifted by the same log-sum-exp:

    >>> (x - csoftmax.log_softmax(x, axis=None)).round(3)
    array([[13.315, 13.315, 13.315, 13.315],
           [13.315, 13.315, 13.315, 13.315],
           [13.315, 13.315, 13.315, 13.315]])
    """
    return _run(_core.ROW_LOG_SOFTMAX, x, None, axis, out, n_threads, where)


def softmax_jacobian(x, axis=-1, *, out=None, n_threads=None):
    r"""Jacobian of the softmax, ``J = diag(s) - s s^T`` for every slice along `axis`.

    Parameters
    ----------
    x : array-like
        Logits (see :func:`softmax` for dtypes).
    axis : int, tuple of ints or None, default=-1
        Axis of the softmax (see :func:`softmax`); with several axes, the C entries of a
        slice are those axes flattened in C order, in the order given.
    out : ndarray of shape ``batch + (C, C)``, optional
        Where to write J (see :func:`softmax` for its dtype); must not overlap `x`.
    n_threads : int, default=None
        OpenMP threads (see :func:`softmax`).

    Returns
    -------
    J : ndarray of shape ``batch + (C, C)``
        ``batch`` is the shape of `x` without `axis` and C its length along `axis`;
        ``J[..., i, j] = ds_i / dx_j = s_i (delta_ij - s_j)``. A 0-d input gives 0.0.

    Raises
    ------
    ValueError
        When J would take more than ``JACOBIAN_MAX_BYTES`` (1 GiB) and `out` is not given:
        J grows as C^2 per slice, and :func:`softmax_vjp` gives ``J^T g`` without it. Also
        for the invalid `axis`, `out` and `n_threads` values :func:`softmax` refuses.
    TypeError, numpy.exceptions.AxisError
        As :func:`softmax`.

    See Also
    --------
    softmax_vjp : ``J^T g`` in O(C) per row, without forming J.

    Notes
    -----
    With :math:`s = \operatorname{softmax}(x)` and :math:`\delta_{ij}` the Kronecker delta,

    .. math::

        J_{ij} = \frac{\partial s_i}{\partial x_j} = s_i (\delta_{ij} - s_j),
        \qquad J = \operatorname{diag}(s) - s s^\top .

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
        if not zero_d_axis(axis):
            normalize_axes(axis, 0)  # the AxisError or TypeError softmax gives
        if out is None:
            return np.zeros((), dtype=dtype)
        check_out(out, (), dtype)
        out[...] = 0
        return out
    layout = RowLayout(x.shape, normalize_axes(axis, x.ndim))
    n = layout.n_cols
    shape = layout.batch_shape + (n, n)
    if out is not None:
        check_out(out, shape, dtype)
    else:
        nbytes = layout.n_rows * n * n * dtype.itemsize
        if nbytes > JACOBIAN_MAX_BYTES:
            raise ValueError(
                f"softmax_jacobian: the {dtype} Jacobian of shape {shape} would take "
                f"{nbytes / 2**30:.1f} GiB, more than the {JACOBIAN_MAX_BYTES / 2**30:g} GiB "
                "limit (csoftmax.functional.JACOBIAN_MAX_BYTES). Use softmax_vjp, which gives "
                "J.T @ g without forming J, or pass out= to allocate it yourself."
            )
    rows = layout.rows(x, dtype)
    direct = (
        out is not None and out.dtype == dtype and out.flags.c_contiguous and out.flags.aligned
        and not np.may_share_memory(out, rows)
    )
    res = (np.asarray(out).reshape(layout.n_rows, n, n) if direct
           else np.empty((layout.n_rows, n, n), dtype))
    if res.size:
        _core.softmax_jacobian(rows, res, n_threads)
    if out is None:
        return res.reshape(shape)
    if not direct:
        out[...] = res.reshape(shape)
    return out


def _check_pair(y, dy):
    y = check_real(y, "y")
    dy = check_real(dy, "dy")
    if dy.shape != y.shape:
        raise ValueError(f"dy has shape {dy.shape}; it must match y's shape {y.shape}.")
    return y, dy


def softmax_vjp(y, dy, axis=-1, *, where=None, out=None, n_threads=None):
    r"""Vector-Jacobian product of the softmax: ``y * (dy - sum(dy * y))``.

    Parameters
    ----------
    y : array-like
        The forward output, ``softmax(x, axis)`` (not the logits `x`: see Raises).
    dy : array-like of the same shape as `y`
        Upstream gradient d(loss)/d(y).
    axis : int, tuple of ints or None, default=-1
        Axis of the softmax (see :func:`softmax`).
    where : array-like of bool, optional
        The mask the forward call took (see :func:`softmax`): the sum runs over the
        elements that take part, and the others get a gradient of exactly 0.
    out : ndarray, optional
        Where to write d(loss)/d(x) (see :func:`softmax`); may be `y` or `dy`.
    n_threads : int, default=None
        OpenMP threads (see :func:`softmax`).

    Returns
    -------
    dx : ndarray of the same shape as `y`
        ``J^T dy`` for each slice, which equals ``J dy`` (the JVP) because J is symmetric.
        float32 only when both `y` and `dy` are float32.

    Raises
    ------
    TypeError
        If `y` or `dy` does not hold real numbers, or if `axis` or `n_threads` is not an
        integer (or, for `axis`, a tuple of them or None), or if `where` is not an array of
        bools.
    ValueError
        If `y` cannot be a softmax output, as when it is given the logits: a slice (of the
        elements `where` keeps) with an entry below ``-tol`` or a sum more than ``tol``
        from 1 (or, with `where`, from 0), ``tol = (C + 8) * eps`` for slices of C
        elements and eps the machine epsilon of `y`'s dtype (at least that of the result
        dtype); slices holding NaN are let through. The check runs in the kernel's pass
        over `y`; `out` may have been written when it raises. Also if `dy` does not have
        `y`'s shape; if `axis` is an empty tuple or repeats an axis; if `out` is not a
        writeable ndarray of `y`'s shape and of the result dtype or a wider float dtype; if
        `n_threads` is 0; if `where` does not broadcast to `y`'s shape.
    numpy.exceptions.AxisError
        If `axis` is out of bounds for `y` (a subclass of ValueError).

    See Also
    --------
    softmax_jacobian : The matrix J itself.
    csoftmax.testing.check_vjp : Check a backward pass against finite differences.

    Notes
    -----
    With :math:`J = \operatorname{diag}(y) - y y^\top`, for each slice

    .. math::

        J^\top dy = y \odot dy - y \, \langle y, dy \rangle
        = y \odot \big(dy - \langle y, dy \rangle\big) ,

    O(C) per row instead of the O(C^2) of forming J.

    The forward output comes first and the upstream gradient second, as in thinc's
    ``backprop_softmax(Y, dY)``; :func:`csoftmax.testing.check_vjp` calls the backward
    pass it checks the other way round, ``backward(dy, *x)``, so wrap this function as
    ``lambda dy, x: softmax_vjp(softmax(x), dy)``.

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> y = csoftmax.softmax(np.array([1.0, 2.0, 3.0]))
    >>> dy = np.array([1.0, 0.0, 0.0])
    >>> np.allclose(csoftmax.softmax_vjp(y, dy), csoftmax.softmax_jacobian([1.0, 2.0, 3.0]).T @ dy)
    True
    """
    return _run(_core.ROW_SOFTMAX_VJP, y, dy, axis, out, n_threads, where)


def log_softmax_vjp(y, dy, axis=-1, *, where=None, out=None, n_threads=None):
    r"""Vector-Jacobian product of the log-softmax: ``dy - exp(y) * sum(dy)``.

    Parameters
    ----------
    y : array-like
        The forward output, ``log_softmax(x, axis)``. Unlike :func:`softmax_vjp`, it is
        not checked: the kernel's first pass reads `dy` alone, and a check of
        ``logsumexp(y) == 0`` would take a pass of its own.
    dy : array-like of the same shape as `y`
        Upstream gradient d(loss)/d(y).
    axis : int, tuple of ints or None, default=-1
        Axis of the softmax (see :func:`softmax`).
    where : array-like of bool, optional
        The mask the forward call took (see :func:`softmax`): the sum runs over the
        elements that take part, and the others get a gradient of exactly 0.
    out : ndarray, optional
        Where to write d(loss)/d(x) (see :func:`softmax`); may be `y` or `dy`.
    n_threads : int, default=None
        OpenMP threads (see :func:`softmax`).

    Returns
    -------
    dx : ndarray of the same shape as `y`

    Raises
    ------
    TypeError
        If `y` or `dy` does not hold real numbers, or if `axis` or `n_threads` is not an
        integer (or, for `axis`, a tuple of them or None), or if `where` is not an array of
        bools.
    ValueError
        If `dy` does not have `y`'s shape; if `axis` is an empty tuple or repeats an
        axis; if `out` is not a writeable ndarray of `y`'s shape and of the result dtype
        or a wider float dtype; if `n_threads` is 0; if `where` does not broadcast to
        `y`'s shape.
    numpy.exceptions.AxisError
        If `axis` is out of bounds for `y` (a subclass of ValueError).

    See Also
    --------
    softmax_vjp : The same for the softmax.

    Notes
    -----
    The Jacobian of log-softmax is :math:`I - \mathbf{1} s^\top`, so with
    :math:`s = e^{y}` for each slice

    .. math::

        (I - \mathbf{1} s^\top)^\top dy = dy - s \sum_j dy_j .

    Arguments come in the order of :func:`softmax_vjp`.

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> y = csoftmax.log_softmax(np.array([0.0, 0.0]))
    >>> csoftmax.log_softmax_vjp(y, np.array([1.0, 0.0]))
    array([ 0.5, -0.5])
    """
    return _run(_core.ROW_LOG_SOFTMAX_VJP, y, dy, axis, out, n_threads, where)
