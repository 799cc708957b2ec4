"""cross_entropy keeps its relative accuracy for small losses: a confidently right row's loss
``log(1 + sum_{j != y} exp(z_j - z_y))`` is computed as ``log1p`` of the other terms.

Checked against Python's ``decimal`` at 60 digits, in float32 and float64, on every SIMD
path, for narrow and wide rows, with and without the gradient (the kernel then reuses the
exponentials it stored, or forms them again), down to losses of 1e-20.
"""

from decimal import Decimal, getcontext

import numpy as np
import pytest

import csoftmax
from helpers.simd import runnable_paths


def _confident_rows(n, dtype, lo, rows, seed):
    """Rows whose label (column `seed % n`) holds the max, 0, with losses from 10**lo to 1.
    (With z_y = 0 every z_j - z_y is exact: what is measured is the loss's own rounding.)"""
    rng = np.random.default_rng(seed)
    label = seed % n
    loss = 10.0 ** rng.uniform(lo, 0, rows)
    z = np.log(np.expm1(loss) / (n - 1))[:, None] + rng.uniform(-1, 0, (rows, n))
    z[:, label] = 0.0
    return z.astype(dtype), np.full(rows, label, dtype=np.int64)


def _exact_losses(z, y):
    getcontext().prec = 60
    out = []
    for row, label in zip(z, y):
        zy = Decimal(float(row[label]))
        out.append(float(sum((Decimal(float(v)) - zy).exp() for v in row).ln()))
    return np.array(out)


@pytest.mark.parametrize("path", runnable_paths())
@pytest.mark.parametrize("n", [10, 100])
@pytest.mark.parametrize("dtype, lo, max_ulp", [(np.float64, -20, 8), (np.float32, -16, 2)])
def test_small_losses_stay_accurate_to_a_few_ulp(path, n, dtype, lo, max_ulp):
    z, y = _confident_rows(n, dtype, lo, rows=300, seed=n + 7)
    assert np.all(z.argmax(axis=1) == y)
    exact = _exact_losses(z, y)
    assert exact.min() < 10.0 ** (lo + 1) and exact.max() > 0.1
    previous = csoftmax.simd_backend()
    csoftmax.set_simd_backend(path)
    try:
        plain = csoftmax.cross_entropy(z, y, reduction="none")
        with_grad, _ = csoftmax.cross_entropy(z, y, reduction="none", return_grad=True)
    finally:
        csoftmax.set_simd_backend(previous)
    spacing = np.spacing(exact.astype(dtype)).astype(np.float64)
    for got in (plain, with_grad):
        ulp = np.abs(got.astype(np.float64) - exact) / spacing
        assert ulp.max() <= max_ulp, (float(ulp.max()), float(exact[ulp.argmax()]))
    assert plain.tobytes() == with_grad.tobytes()


def test_label_smoothing_and_class_weights_keep_their_definition():
    """The log1p form replaces only log(s) of rows whose label holds the max; the smoothed and
    weighted losses still equal their float64 formulas."""
    z, y = _confident_rows(10, np.float64, -12, rows=50, seed=3)
    weight = np.linspace(0.5, 2.0, 10)
    exact = _exact_losses(z, y)
    logp = z - (z[np.arange(len(y)), y] + exact)[:, None]  # log softmax, lse = z_y + loss
    got = csoftmax.cross_entropy(z, y, reduction="none", label_smoothing=0.1)
    np.testing.assert_allclose(got, -(0.9 * logp[np.arange(len(y)), y] + 0.01 * logp.sum(1)),
                               rtol=1e-13)
    got = csoftmax.cross_entropy(z, y, reduction="none", weight=weight)
    np.testing.assert_allclose(got, weight[y] * exact, rtol=1e-13)
