"""Softmax fused with cross-entropy: loss and gradient from the logits in one pass."""

import numbers

import numpy as np

from csoftmax import _core
from csoftmax._utils import check_n_threads, check_real, result_dtype

__all__ = ["cross_entropy"]


def _check_target(target, n_samples, n_classes, dtype):
    """Integer labels as int64, or probabilities as a C-contiguous array of `dtype`."""
    target = np.asarray(target)
    if target.dtype.kind not in "biuf":
        raise TypeError(f"target must hold numbers; got dtype {target.dtype}.")
    if target.ndim == 1:
        if target.shape[0] != n_samples:
            raise ValueError(
                f"target has {target.shape[0]} labels but logits has {n_samples} rows."
            )
        if target.dtype.kind == "f":
            if not np.all(np.isfinite(target)) or np.any(target != np.floor(target)):
                raise ValueError(
                    "target holds non-integral class labels; pass integer class indices of "
                    "shape (n_samples,) or class probabilities of shape (n_samples, n_classes)."
                )
        elif target.dtype.kind == "b":
            raise TypeError(
                "target is boolean; pass integer class indices or class probabilities."
            )
        if target.size and (target.min() < 0 or target.max() >= n_classes):
            raise ValueError(
                f"target holds labels outside [0, {n_classes}): "
                f"min {target.min()}, max {target.max()}."
            )
        return np.ascontiguousarray(target, dtype=np.int64), True
    if target.ndim == 2:
        if target.shape != (n_samples, n_classes):
            raise ValueError(
                f"target has shape {target.shape}; class probabilities must have the "
                f"logits' shape {(n_samples, n_classes)}."
            )
        return np.ascontiguousarray(target, dtype=dtype), False
    raise ValueError(
        f"target must be 1-D class indices or 2-D class probabilities; got {target.ndim}-D."
    )


def cross_entropy(
    logits,
    target,
    *,
    sample_weight=None,
    label_smoothing=0.0,
    reduction="mean",
    return_grad=False,
    n_threads=None,
):
    """Cross-entropy of softmax(logits) against a target, with its gradient, fused.

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)
        Unnormalised scores. float32 and float64 are computed natively and preserved;
        other real dtypes are computed in float64. -inf masks a class.
    target : array-like of shape (n_samples,) or (n_samples, n_classes)
        Integer class indices in ``[0, n_classes)`` (floats with integral values are
        accepted), or class probabilities (for example one-hot rows).
    sample_weight : array-like of shape (n_samples,), default=None
        Per-sample weights ``w``.
    label_smoothing : float in [0, 1], default=0.0
        Mixes the target with the uniform distribution, ``(1 - eps) t + eps / n_classes``,
        as PyTorch does.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"``: ``sum(w * l) / sum(w)`` (the plain mean without weights; NaN for no
        samples); ``"sum"``: ``sum(w * l)``; ``"none"``: the per-sample ``w * l``.
    return_grad : bool, default=False
        Also return d(loss)/d(logits), computed in the same pass.
    n_threads : int, default=None
        OpenMP threads (see :func:`csoftmax.softmax`). Results do not depend on it.

    Returns
    -------
    loss : float32/float64 scalar, or ndarray of shape (n_samples,) for ``"none"``
    grad : ndarray of shape (n_samples, n_classes)
        Only with ``return_grad=True``. For ``"none"``, row i is the gradient of the i-th
        returned loss, ``w_i (softmax(z_i) * sum(t_i) - t_i)``.

    Notes
    -----
    Per sample, ``l = -sum_j t_j log_softmax(z)_j`` with ``log_softmax(z) = (z - max z) -
    log sum exp(z - max z)``: the logits are never turned into probabilities and back, so
    the loss stays finite and exact where ``log(softmax(z))`` would give -inf. Terms with
    ``t_j = 0`` contribute 0 even where ``z_j = -inf``. For hard labels and the mean, the
    gradient is ``(softmax(z) - onehot(y)) / N``.

    A row of logits that is entirely -inf, or holds +inf or NaN, gives a NaN loss and NaN
    gradient row.

    Examples
    --------
    >>> import numpy as np
    >>> import csoftmax
    >>> z = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 1000.0]])
    >>> loss, grad = csoftmax.cross_entropy(z, [0, 0], return_grad=True)
    >>> round(float(loss), 6)
    500.084738
    >>> grad.round(4)
    array([[-0.0596,  0.0576,  0.0212],
           [-0.5   ,  0.    ,  0.5   ]])
    """
    logits = check_real(logits, "logits")
    if logits.ndim != 2:
        raise ValueError(
            f"logits must be 2-D of shape (n_samples, n_classes); got {logits.ndim}-D."
        )
    n_samples, n_classes = logits.shape
    if n_samples and not n_classes:
        raise ValueError("logits has no classes (n_classes == 0).")
    if reduction not in _core.REDUCTIONS:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none'; got {reduction!r}.")
    if (
        isinstance(label_smoothing, (bool, np.bool_))
        or not isinstance(label_smoothing, numbers.Real)
        or not 0.0 <= label_smoothing <= 1.0
    ):
        raise ValueError(f"label_smoothing must be a float in [0, 1]; got {label_smoothing!r}.")
    n_threads = check_n_threads(n_threads)
    dtype = result_dtype(logits)
    target, hard = _check_target(target, n_samples, n_classes, dtype)
    if sample_weight is not None:
        sample_weight = check_real(sample_weight, "sample_weight")
        if sample_weight.shape != (n_samples,):
            raise ValueError(
                f"sample_weight has shape {sample_weight.shape}; expected ({n_samples},)."
            )
        sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)

    logits = np.ascontiguousarray(logits, dtype=dtype)
    loss_rows = np.empty(n_samples, dtype=np.float64)
    grad = np.empty((n_samples, n_classes), dtype=dtype) if return_grad else None
    if n_samples:
        kernel = _core.cross_entropy_hard if hard else _core.cross_entropy_soft
        loss = kernel(
            logits, target, sample_weight, float(label_smoothing),
            _core.REDUCTIONS[reduction], loss_rows, grad, n_threads,
        )
    else:
        loss = np.nan if reduction == "mean" else 0.0
    if reduction == "none":
        loss = loss_rows.astype(dtype)
    else:
        loss = dtype.type(loss)
    return (loss, grad) if return_grad else loss
