"""A float64 NumPy statement of the cross-entropy that csoftmax.cross_entropy computes.

PyTorch's semantics (torch.nn.functional.cross_entropy), written out plainly: class axis,
per-class ``weight``, ``ignore_index``, ``label_smoothing`` and the three reductions, plus
csoftmax's per-sample ``sample_weight``. Slow and obvious on purpose: it is the oracle.
"""

import numpy as np
import scipy.special


def ref_cross_entropy_nd(z, target, axis=1, weight=None, sample_weight=None, ignore_index=-100,
                      label_smoothing=0.0, reduction="mean"):
    """Loss in float64; `target` holds labels (logits' shape without `axis`) or
    probabilities (logits' shape)."""
    z = np.moveaxis(np.asarray(z, dtype=np.float64), axis, -1)
    n_classes = z.shape[-1]
    positions = z.shape[:-1]
    logp = scipy.special.log_softmax(z, axis=-1)
    c = np.ones(n_classes) if weight is None else np.asarray(weight, dtype=np.float64)
    eps = label_smoothing
    target = np.asarray(target)
    if target.shape == positions:  # labels
        keep = target != ignore_index
        y = np.where(keep, target, 0).astype(np.int64)
        onehot = np.eye(n_classes)[y]
        t = (1 - eps) * c[y][..., None] * onehot + eps / n_classes * c
        t = t * keep[..., None]
        divisor_terms = c[y] * keep
    else:  # probabilities
        t = c * ((1 - eps) * np.moveaxis(target.astype(np.float64), axis, -1) + eps / n_classes)
        divisor_terms = np.ones(positions)
    terms = np.where(t == 0, 0.0, -t * np.where(t == 0, 0.0, logp))
    per = terms.sum(axis=-1)
    w = np.ones(positions) if sample_weight is None else np.broadcast_to(
        np.asarray(sample_weight, dtype=np.float64), positions)
    per = w * per
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    return per.sum() / (w * divisor_terms).sum()


def numeric_grad(f, z, h=1e-6):
    """Central differences of the scalar f at z (float64)."""
    z = np.array(z, dtype=np.float64)
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        old = z[idx]
        z[idx] = old + h
        up = f(z)
        z[idx] = old - h
        down = f(z)
        z[idx] = old
        g[idx] = (up - down) / (2 * h)
    return g
