"""Softmax fused with cross-entropy: loss and gradient from the logits in one pass."""

import numbers

import numpy as np

from csoftmax import _core
from csoftmax._utils import (
    RowLayout,
    c_array,
    check_n_threads,
    check_out,
    check_real,
    direct_target,
    normalize_axes,
    result_dtype,
)

__all__ = ["cross_entropy"]


def _class_axis(logits, axis):
    if logits.ndim == 0:
        raise ValueError("logits must have a class axis; got a 0-d array.")
    if isinstance(axis, tuple) or axis is None:
        raise ValueError(
            f"cross_entropy takes one class axis (an int); got axis={axis!r}. Move or reshape "
            "the classes into one axis first."
        )
    if logits.ndim == 1 and axis == 1:
        return 0  # a single sample, as PyTorch takes (C,) logits
    return normalize_axes(axis, logits.ndim)[0]


def _check_labels(target, n_classes, ignore_index):
    """Integer class labels as a flat int64 array; ignore_index is allowed among them."""
    if target.dtype.kind == "b":
        raise TypeError("target is boolean; pass integer class indices or class probabilities.")
    if target.dtype.kind == "f":
        if not np.all(np.isfinite(target)) or np.any(target != np.floor(target)):
            raise ValueError(
                "target holds non-integral class labels; pass integer class indices, or class "
                "probabilities of the logits' shape."
            )
    labels = c_array(target, np.int64).reshape(-1)
    valid = (labels >= 0) & (labels < n_classes)
    if ignore_index is not None:
        valid |= labels == ignore_index
    if not valid.all():
        bad = labels[~valid]
        raise ValueError(
            f"target holds labels outside [0, {n_classes})"
            + ("" if ignore_index is None else f" other than ignore_index={ignore_index}")
            + f": min {bad.min()}, max {bad.max()}."
        )
    return labels


def _check_target(target, logits_shape, axis, hard_shape):
    """Whether `target` holds labels (True) or probabilities (False), checking its shape."""
    if target.dtype.kind not in "biuf":
        raise TypeError(f"target must hold numbers; got dtype {target.dtype}.")
    if target.shape == hard_shape:
        return True
    if target.shape == logits_shape:
        return False
    if (
        target.ndim == len(logits_shape)
        and target.shape[axis] == 1
        and target.shape[:axis] + target.shape[axis + 1:] == hard_shape
    ):
        raise ValueError(
            f"target has shape {target.shape}: class labels must have shape {hard_shape}, the "
            "logits' shape without the class axis. Pass target.ravel() (or np.squeeze(target, "
            f"axis={axis})); class probabilities must have the logits' shape {logits_shape}."
        )
    raise ValueError(
        f"target has shape {target.shape}; expected class labels of shape {hard_shape} or "
        f"class probabilities of the logits' shape {logits_shape}."
    )


def _non_negative(w, name):
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} holds NaN or infinite values; weights must be finite.")
    if np.any(w < 0):
        raise ValueError(f"{name} holds negative values; weights must be non-negative.")
    return w


def _check_weights(weight, sample_weight, n_classes, hard_shape, reduction):
    """Class weights as float64 (n_classes,), sample weights as float64 over positions;
    both finite and non-negative, and sample weights not all zero for the mean."""
    if weight is not None:
        weight = check_real(weight, "weight")
        if weight.shape != (n_classes,):
            raise ValueError(f"weight has shape {weight.shape}; expected ({n_classes},), one "
                             "weight per class.")
        weight = _non_negative(c_array(weight, np.float64), "weight")
    if sample_weight is not None:
        sample_weight = check_real(sample_weight, "sample_weight")
        try:
            sample_weight = np.broadcast_to(sample_weight, hard_shape)
        except ValueError:
            raise ValueError(
                f"sample_weight has shape {sample_weight.shape}; expected {hard_shape} (one "
                "weight per sample), or a shape that broadcasts to it."
            ) from None
        sample_weight = c_array(sample_weight, np.float64).reshape(-1)
        _non_negative(sample_weight, "sample_weight")
        if reduction == "mean" and sample_weight.size and not sample_weight.any():
            raise ValueError("sample_weight: weights sum to zero, can't be normalized.")
    return weight, sample_weight


def _mean_weights(labels, ignore_index, weight, sample_weight):
    """The weights, with the sample weights (else the class weights) scaled by a power of two
    when the mean's divisor D (see cross_entropy) is subnormal: the kernel multiplies by 1 / D,
    which overflows there, giving an infinite or NaN gradient. Scaling every weight of one kind
    by 2**k changes neither the mean nor its gradient, and is exact."""
    w = 1.0 if sample_weight is None else sample_weight
    if labels is None:  # probabilities: D = sum(w)
        divisor = float(np.sum(w))
    else:
        kept = labels != ignore_index if ignore_index is not None else slice(None)
        # mode='clip': labels another thread rewrites after their check change this sum,
        # never where it reads (the kernel checks its own copy of them)
        c = 1.0 if weight is None else np.take(weight, labels[kept], mode="clip")
        divisor = float(np.sum(np.broadcast_to(w, labels.shape)[kept] * c))
    if not 0.0 < divisor < 2.0**-1000:
        return weight, sample_weight
    k = -int(np.frexp(divisor)[1])  # divisor * 2**k is in [0.5, 1)
    with np.errstate(over="ignore"):
        scaled = np.ldexp(sample_weight if sample_weight is not None else weight, k)
    if not np.all(np.isfinite(scaled)):  # a weight too large to scale: leave them
        return weight, sample_weight
    return (weight, scaled) if sample_weight is not None else (scaled, sample_weight)


def _kernel_ignore_index(ignore_index):
    """The kernel's int64 ignore_index for checked labels (no label can equal one beyond
    int64, so that one ignores nothing)."""
    if ignore_index is None or not -2**63 <= int(ignore_index) < 2**63:
        return _core.NO_IGNORE
    return int(ignore_index)


def _check_options(label_smoothing, reduction, ignore_index):
    if reduction not in _core.REDUCTIONS:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none'; got {reduction!r}.")
    if (
        isinstance(label_smoothing, (bool, np.bool_))
        or not isinstance(label_smoothing, numbers.Real)
        or not 0.0 <= label_smoothing <= 1.0
    ):
        raise ValueError(f"label_smoothing must be a float in [0, 1]; got {label_smoothing!r}.")
    if ignore_index is not None and (
        isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index, numbers.Integral)
    ):
        raise TypeError(f"ignore_index must be an int or None; got {ignore_index!r}.")


def cross_entropy(
    logits,
    target,
    *,
    axis=1,
    weight=None,
    sample_weight=None,
    ignore_index=-100,
    label_smoothing=0.0,
    reduction="mean",
    return_grad=False,
    out=None,
    n_threads=None,
):
    r"""Cross-entropy of softmax(logits) against a target, with its gradient, fused.

    The semantics are those of :func:`torch.nn.functional.cross_entropy` (class axis 1,
    ``weight``, ``ignore_index``, ``label_smoothing``, ``reduction``), computed from the
    logits in one pass, with the gradient from the same pass.

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes) or (n_samples, n_classes, d1, ...)
        Unnormalised scores. float32 and float64 are computed natively and preserved;
        other real dtypes are computed in float64. -inf masks a class. 1-D logits of shape
        (n_classes,) are a single sample.
    target : array-like
        Class labels of the logits' shape without the class axis, ``(n_samples, d1, ...)``,
        integers in ``[0, n_classes)`` (floats with integral values are accepted) or equal
        to `ignore_index`; or class probabilities of the logits' shape (for example
        one-hot rows).
    axis : int, default=1
        The class axis (1-D logits use axis 0).
    weight : array-like of shape (n_classes,), default=None
        Per-class weights ``c`` (finite, non-negative), as PyTorch's ``weight``: a label
        y's loss is weighted by
        ``c[y]`` (smoothing terms by ``c[j]``), and the mean over labels divides by
        ``sum(c[y_i])``. With probabilities, ``t_j`` becomes ``c_j t_j`` and the mean
        divides by the number of samples.
    sample_weight : array-like, default=None
        Per-sample weights ``w``, of the labels' shape (or broadcastable to it): finite and
        non-negative, and not all zero for the mean.
    ignore_index : int or None, default=-100
        Labels equal to it give zero loss and zero gradient and do not count in the mean,
        as in PyTorch. None ignores nothing. Not used with probabilities.
    label_smoothing : float in [0, 1], default=0.0
        Mixes the target with the uniform distribution, ``(1 - eps) t + eps / n_classes``,
        as PyTorch does.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"``: ``sum(w * l) / D`` with D the sum of ``w * c[y]`` over the labels not
        ignored (``sum(w)`` for probabilities; the plain mean without weights; NaN when D is
        0); ``"sum"``: ``sum(w * l)``; ``"none"``: the per-sample ``w * l``, of the labels'
        shape.
    return_grad : bool, default=False
        Also return d(loss)/d(logits), computed in the same pass.
    out : ndarray of the logits' shape, optional
        Where to write the gradient (with ``return_grad=True``): writeable, of the result
        dtype or a wider float dtype; it may not be the logits.
    n_threads : int, default=None
        OpenMP threads (see :func:`csoftmax.softmax`). Results do not depend on it.

    Returns
    -------
    loss : float32/float64 scalar, or ndarray of the labels' shape for ``"none"``
    grad : ndarray of the logits' shape
        Only with ``return_grad=True``. For ``"none"``, each sample's slice is the gradient
        of its own returned loss, ``w (softmax(z) * sum(t') - t')``.

    Raises
    ------
    TypeError
        If `logits`, `weight` or `sample_weight` does not hold real numbers; if `target`
        is boolean or does not hold numbers; if `axis`, `ignore_index` or `n_threads` is
        not an integer.
    ValueError
        If `logits` is 0-d or has no classes; if `axis` is a tuple or None; if `target`
        has neither the labels' shape nor the logits'; if a label is outside
        ``[0, n_classes)`` (other than `ignore_index`) or not integral; if `weight` is not
        of shape (n_classes,), or a weight is negative, NaN or infinite; if `sample_weight`
        does not broadcast to the labels' shape, or sums to 0 with ``reduction="mean"``; if
        `reduction` or `label_smoothing` is not one of the values above; if `out` is given
        without ``return_grad=True`` or is not a writeable ndarray of the logits' shape and
        of the result dtype or a wider float dtype; if `n_threads` is 0.
    numpy.exceptions.AxisError
        If `axis` is out of bounds for `logits` (a subclass of ValueError).

    See Also
    --------
    csoftmax.log_softmax : The log-probabilities the loss is computed from.
    torch.nn.functional.cross_entropy : The semantics followed.

    Notes
    -----
    Per sample, with :math:`t'` the target after class weights and smoothing,

    .. math::

        \ell = -\sum_j t'_j \log \operatorname{softmax}(z)_j, \qquad
        \log \operatorname{softmax}(z)_j = (z_j - \max z) - \log \sum_k e^{z_k - \max z} :

    the logits are never turned into probabilities and back, so the loss stays finite where
    ``log(softmax(z))`` would give -inf. When the label holds the row's maximum (a
    confidently right sample, hard labels), ``log sum_k e^{z_k - z_y}`` is computed as
    ``log1p`` of the other terms, so a small loss keeps its relative accuracy: measured
    against 60-digit ``decimal`` arithmetic for losses from 1e-20 to 1 (1e-16 to 1 in
    float32; 4,000 rows whose differences ``z_j - z_y`` are exact in the dtype), within 2
    ulp for 10 classes and 7 ulp for 100 in float64, below 1 ulp in float32 (``log(sum)``
    would be off by 1e8 ulp at a loss of 1e-8). On every path the loss also carries the
    rounding of ``z_j - max z`` in the input's dtype (about d/2 ulp for a logit d below
    the max; with the label's logit near 40 and the others near 0, some 25-30 ulp of a
    small float64 loss).
    Terms with ``t'_j = 0`` contribute 0 even where ``z_j = -inf``; label smoothing
    gives every class a positive target, so a -inf (masked) class then makes the loss
    infinite, as in PyTorch.

    The gradient of sample n is

    .. math::

        \frac{\partial L}{\partial z_n}
        = \frac{w_n}{D} \Big(\operatorname{softmax}(z_n) \sum_j t'_{nj} - t'_n\Big),

    with D the divisor of the reduction (1 for ``"sum"``). Without weights, with targets
    that sum to 1 (labels, smoothed or not, or probabilities) and with the mean, it is the
    familiar :math:`(\operatorname{softmax}(z) - t) / N`.

    A sample whose logits are entirely -inf, or hold +inf or NaN, gives a NaN loss and NaN
    gradient (unless its label is ignored). The log-sum-exp with the maximum subtracted is
    the algorithm analysed in [1]_.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing the
       log-sum-exp and softmax functions", IMA Journal of Numerical Analysis 41(4),
       2311-2330, 2021. doi:10.1093/imanum/draa038

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> z = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 1000.0]])
    >>> loss, grad = csoftmax.cross_entropy(z, [0, 0], return_grad=True)
    >>> round(float(loss), 6)
    500.084923
    >>> grad.round(4)                                   # (softmax(z) - onehot(y)) / 2
    array([[-0.0781,  0.0571,  0.021 ],
           [-0.5   ,  0.    ,  0.5   ]])

    Segmentation-shaped input, with a class weight and an ignored pixel:

    >>> z = np.zeros((1, 3, 2, 2))                      # (N, C, H, W)
    >>> y = np.array([[[0, 1], [2, -100]]])             # (N, H, W)
    >>> bool(np.isclose(csoftmax.cross_entropy(z, y, weight=[1.0, 2.0, 1.0]), np.log(3)))
    True
    """
    n_threads = check_n_threads(n_threads)
    options = (axis, ignore_index, label_smoothing, reduction)
    if weight is None and sample_weight is None:  # the common call may be in the layout
        res = _core.cross_entropy(logits, target, None, None, options, return_grad, out,
                                  n_threads)
        if res is not None:
            return res
    logits = check_real(logits, "logits")
    axis = _class_axis(logits, axis)
    _check_options(label_smoothing, reduction, ignore_index)
    n_classes = logits.shape[axis]
    layout = RowLayout(logits.shape, (axis,))
    if layout.n_rows and not n_classes:
        raise ValueError("logits has no classes (its class axis has length 0).")
    dtype = result_dtype(logits)
    target = np.asarray(target)
    hard = _check_target(target, logits.shape, axis, layout.batch_shape)
    weight, sample_weight = _check_weights(weight, sample_weight, n_classes, layout.batch_shape,
                                           reduction)
    if out is not None:
        if not return_grad:
            raise ValueError("out= receives the gradient: pass return_grad=True as well.")
        check_out(out, logits.shape, dtype)
    if not layout.n_rows:
        loss = dtype.type(np.nan if reduction == "mean" else 0.0)
        if reduction == "none":
            loss = np.empty(layout.batch_shape, dtype=dtype)
        if not return_grad:
            return loss
        return loss, (np.empty(logits.shape, dtype=dtype) if out is None else out)

    rows = layout.rows(logits, dtype)
    eps = float(label_smoothing)
    if hard:
        target = _check_labels(target, n_classes, ignore_index)
        options = (1, _kernel_ignore_index(ignore_index), eps, reduction)
    else:
        target = layout.rows(target, dtype)
        if weight is not None:  # c_j ((1 - eps) t_j + eps / C), smoothing folded in
            target = (weight * ((1.0 - eps) * target + eps / n_classes)).astype(dtype)
            weight, eps = None, 0.0
        options = (1, 0, eps, reduction)
    if reduction == "mean" and (weight is not None or sample_weight is not None):
        weight, sample_weight = _mean_weights(target if hard else None, ignore_index, weight,
                                              sample_weight)
    grad = None
    if return_grad:
        grad = direct_target(out, layout, dtype, [])
        if grad is not None and any(np.may_share_memory(grad, a) for a in
                                    (rows, target, weight, sample_weight) if a is not None):
            grad = None  # the kernel reads every input after writing the gradient
    res = _core.cross_entropy(rows, target, weight, sample_weight, options, return_grad, grad,
                              n_threads)
    if res is None:
        raise ValueError("cross_entropy: the kernel refused the checked labels (were they "
                         "changed during the call?)")
    loss, grad = res if return_grad else (res, None)
    if reduction == "none":
        loss = loss.reshape(layout.batch_shape)
    if not return_grad:
        return loss
    if out is None:
        return loss, layout.unrows(grad)
    if not np.may_share_memory(grad, out):
        layout.move(out)[...] = grad.reshape(layout.moved_shape)
    return loss, out
