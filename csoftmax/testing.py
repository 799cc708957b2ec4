"""Check a hand-written backward pass against finite differences.

:func:`check_vjp` works for any function of NumPy arrays, not only csoftmax's: give it the
forward function, the backward function you wrote for it and an input, and it tells you
whether the two agree, and where they disagree most. This module needs only NumPy.
"""

import numpy as np

__all__ = ["check_vjp", "VJPCheck"]

#: The default relative step: the cube root of float64's machine epsilon (about 6.1e-6),
#: which balances the truncation error of central differences (of order step**2) against
#: their rounding error (of order epsilon / step).
DEFAULT_EPS = float(np.finfo(np.float64).eps ** (1.0 / 3.0))

#: The default tolerance on the worst relative error.
DEFAULT_RTOL = 1e-4

#: An element's error is relative to the larger of its two values and this fraction of the
#: largest finite-difference gradient entry of its input, so that entries that should be 0
#: are judged on the gradient's scale rather than on their own.
FLOOR = 1e-3


class VJPCheck:
    """The result of :func:`check_vjp`: a verdict, the worst element and all the numbers.

    It is true when the check passed, so ``assert check_vjp(...)`` works, and printing it
    gives a one-paragraph report.

    Attributes
    ----------
    passed : bool
        Whether ``rel_error <= rtol``.
    rel_error : float
        The worst relative error over every element of every input (``inf`` when an
        entry is NaN or infinite on one side only).
    argnum : int
        The input (position in the tuple of inputs) holding the worst element.
    index : tuple of int
        The worst element's index in that input.
    analytic : float
        The backward pass's value there.
    numeric : float
        The finite-difference value there.
    analytic_grads, numeric_grads, errors : tuple of ndarray
        Per input: the backward pass's gradient, the finite-difference gradient and the
        relative error of every element (each of the input's shape, float64).
    eps, rtol : float
        The relative step and the tolerance used.
    """

    def __init__(self, *, analytic_grads, numeric_grads, errors, eps, rtol):
        self.analytic_grads = analytic_grads
        self.numeric_grads = numeric_grads
        self.errors = errors
        self.eps = eps
        self.rtol = rtol
        worst = [(-1.0, 0, ())]
        for k, err in enumerate(errors):
            if err.size:
                i = np.unravel_index(int(np.argmax(err)), err.shape)
                worst.append((float(err[i]), k, tuple(int(j) for j in i)))
        self.rel_error, self.argnum, self.index = max(worst, key=lambda w: w[0])
        self.rel_error = max(self.rel_error, 0.0)
        if self.rel_error > 0 or any(e.size for e in errors):
            self.analytic = float(analytic_grads[self.argnum][self.index])
            self.numeric = float(numeric_grads[self.argnum][self.index])
        else:  # no elements at all
            self.analytic = self.numeric = 0.0
        self.passed = bool(self.rel_error <= rtol)

    def __bool__(self):
        return self.passed

    def __str__(self):
        verdict = "PASS" if self.passed else "FAIL"
        sign = "<=" if self.passed else ">"
        where = f"input {self.argnum}, element {self.index}"
        return (
            f"{verdict}: worst relative error {self.rel_error:.2e} {sign} rtol {self.rtol:.0e} "
            f"at {where}: backward gives {self.analytic:.10g}, finite differences "
            f"{self.numeric:.10g}."
        )

    def __repr__(self):
        return (
            f"VJPCheck(passed={self.passed}, rel_error={self.rel_error:.3g}, "
            f"argnum={self.argnum}, index={self.index}, analytic={self.analytic:.10g}, "
            f"numeric={self.numeric:.10g})"
        )


def _as_float64(a, what):
    arr = np.array(a, dtype=np.float64) if not np.iscomplexobj(a) else None
    if arr is None:
        raise TypeError(f"{what} is complex; check_vjp handles real arrays only.")
    return arr


def _forward(forward, inputs):
    y = forward(*(a.copy() for a in inputs))
    return _as_float64(y, "forward's output")


def _grads_of(result, inputs):
    """backward's result as a tuple of float64 arrays, one per input, shapes checked."""
    n = len(inputs)
    if n == 1 and not isinstance(result, (tuple, list)):
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else "one array"
        raise ValueError(
            f"backward must return one gradient per input ({n}), as a tuple in the inputs' "
            f"order; it returned {got}."
        )
    grads = []
    for k, (g, a) in enumerate(zip(result, inputs)):
        g = _as_float64(g, f"backward's gradient for input {k}")
        if g.shape != a.shape:
            raise ValueError(
                f"backward's gradient for input {k} has shape {g.shape}; expected the "
                f"input's shape {a.shape}."
            )
        grads.append(g)
    return tuple(grads)


def _relative_errors(analytic, numeric):
    both = np.maximum(np.abs(analytic), np.abs(numeric))
    finite = np.isfinite(analytic) & np.isfinite(numeric)
    scale = np.abs(numeric[finite]).max(initial=0.0)
    denom = np.maximum(both, FLOOR * scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.abs(analytic - numeric) / denom
    err[finite & (analytic == numeric)] = 0.0
    # A NaN or infinity on one side only, or infinities that differ, is a failure.
    same_nonfinite = ~finite & ((analytic == numeric) | (np.isnan(analytic) & np.isnan(numeric)))
    err[~finite] = np.inf
    err[same_nonfinite] = 0.0
    return err


def check_vjp(forward, backward, x, *, dy=None, eps=None, rtol=None):
    r"""Compare a hand-written backward pass with central finite differences.

    For a function ``y = forward(*x)`` the backward pass (vector-Jacobian product) maps an
    upstream gradient ``dy = dL/dy`` to ``dL/dx = J^T dy``. Each of its entries is the
    derivative of the scalar ``<dy, forward(*x)>`` with respect to that entry of `x`, which
    central differences estimate in float64, one input element at a time. Any NumPy
    function can be checked, with several inputs too.

    Parameters
    ----------
    forward : callable
        ``forward(*x)`` returns an array (or a scalar, such as a loss). It is called with
        float64 copies of the inputs, ``2 * n`` times for inputs of ``n`` elements in all,
        so keep the inputs small; it must compute in float64 (a float32 forward makes the
        finite differences meaningless).
    backward : callable
        ``backward(dy, *x)`` returns ``d<dy, forward(*x)>/dx``: one array of the input's
        shape, or with several inputs a tuple of arrays, one per input, in order. Arguments that
        are not differentiated (labels, flags) belong inside both functions, for example
        with ``lambda z: loss(z, labels)``. The upstream gradient comes first because the
        inputs are any number; :func:`csoftmax.softmax_vjp` takes its arguments the other
        way round, ``softmax_vjp(y, dy)``, so wrap it as
        ``lambda dy, x: softmax_vjp(softmax(x), dy)``.
    x : array-like or tuple of array-like
        The point at which to check; a tuple means several inputs. Converted to float64.
    dy : array-like of the output's shape, default=None
        The upstream gradient. None uses 1.0 for a scalar output, else standard normal
        values from a fixed seed (a random direction catches more mistakes than ones,
        which for instance hide any error that sums to zero along a softmax row).
    eps : float, default=None
        The relative step: element ``x_i`` moves by ``eps * max(1, |x_i|)`` each way. None
        uses :data:`DEFAULT_EPS` (about 6.1e-6).
    rtol : float, default=None
        The largest relative error that passes. None uses :data:`DEFAULT_RTOL` (1e-4).

    Returns
    -------
    result : VJPCheck
        True if the check passed; ``str(result)`` is a report naming the worst element,
        both values there and the relative error. The gradients and the per-element errors
        are attributes.

    Raises
    ------
    ValueError
        If `dy` does not have the output's shape, or if `backward` does not return one
        array of the right shape per input.

    See Also
    --------
    csoftmax.softmax_vjp, csoftmax.log_softmax_vjp : Backward passes this checks.

    Notes
    -----
    For input ``k`` with analytic gradient ``a`` (from `backward`) and finite-difference
    gradient ``n``, the relative error of an element is

    .. math::

        \frac{|a_i - n_i|}{\max\left(|a_i|, |n_i|, 10^{-3} \max_j |n_j|\right)} ,

    so an entry that should be 0 is judged on the scale of its input's gradient. An entry
    that is NaN or infinite on one side only has error ``inf``. The check passes when the
    worst error over all inputs is at most `rtol`. Central differences with the default
    step are accurate to about 1e-9 relative for smooth functions computed in float64, so
    a correct backward pass is far below the default `rtol` and a wrong one (a missing
    term, a transposed matrix, a factor of N) far above it. Near a kink (``relu`` at 0, a
    ``max`` that changes place) finite differences are not a derivative: check elsewhere.

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> from csoftmax.testing import check_vjp
    >>> z = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    >>> good = lambda g, z: csoftmax.softmax_vjp(csoftmax.softmax(z), g)
    >>> check_vjp(csoftmax.softmax, good, z).passed
    True
    >>> def wrong(g, z):                      # elementwise s(1-s): the diagonal of J only
    ...     s = csoftmax.softmax(z)
    ...     return s * (1 - s) * g
    >>> result = check_vjp(csoftmax.softmax, wrong, z)
    >>> result.passed, result.argnum, result.index
    (False, 0, (1, 0))
    >>> print(result)  # doctest: +ELLIPSIS
    FAIL: worst relative error ... > rtol 1e-04 at input 0, element (1, 0): backward gives ...

    Several inputs: a linear layer ``Z = X @ W + b``, whose backward returns
    ``(dZ W^T, X^T dZ, sum(dZ))``.

    >>> rng = np.random.default_rng(0)
    >>> X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    >>> linear = lambda X, W, b: X @ W + b
    >>> linear_backward = lambda dZ, X, W, b: (dZ @ W.T, X.T @ dZ, dZ.sum(axis=0))
    >>> bool(check_vjp(linear, linear_backward, (X, W, b)))
    True
    """
    single = not isinstance(x, tuple)
    inputs = tuple(_as_float64(a, "x") for a in ((x,) if single else x))
    if not inputs:
        raise ValueError("x holds no inputs; pass an array or a tuple of arrays.")
    eps = DEFAULT_EPS if eps is None else float(eps)
    rtol = DEFAULT_RTOL if rtol is None else float(rtol)
    if not eps > 0:
        raise ValueError(f"eps must be positive; got {eps!r}.")
    if not rtol >= 0:
        raise ValueError(f"rtol must be non-negative; got {rtol!r}.")

    y = _forward(forward, inputs)
    if dy is None:
        dy = np.ones(()) if y.ndim == 0 else np.random.default_rng(0).standard_normal(y.shape)
    dy = _as_float64(dy, "dy")
    if dy.shape != y.shape:
        raise ValueError(f"dy has shape {dy.shape}; it must have the output's shape {y.shape}.")

    analytic = _grads_of(backward(dy.copy(), *(a.copy() for a in inputs)), inputs)

    numeric = []
    for k, a in enumerate(inputs):
        grad = np.empty_like(a)
        point = list(inputs)
        for i in np.ndindex(a.shape):
            h = eps * max(1.0, abs(a[i]))
            plus, minus = a.copy(), a.copy()
            plus[i] += h
            minus[i] -= h
            step = plus[i] - minus[i]  # the step actually taken, after rounding
            point[k] = plus
            y_plus = _forward(forward, point)
            point[k] = minus
            y_minus = _forward(forward, point)
            with np.errstate(invalid="ignore", over="ignore"):
                grad[i] = np.sum(dy * (y_plus - y_minus)) / step
        numeric.append(grad)
    numeric = tuple(numeric)

    errors = tuple(_relative_errors(a, n) for a, n in zip(analytic, numeric))
    return VJPCheck(analytic_grads=analytic, numeric_grads=numeric, errors=errors, eps=eps,
                    rtol=rtol)
