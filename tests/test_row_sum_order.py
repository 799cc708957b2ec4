"""The order of a wide row's normaliser, bit for bit.

``src_c/cs_simd.h`` and ``src_c/kernels/vec.h`` define how a row's sum of exponentials is
formed: element j goes to the double lane j % TW (TW = 16 for float32, 8 for float64), the
lanes are summed in blocks of 128 steps of TW elements, each finished block is folded to 8
lanes (float32: lanes l and l + 8 added) and merged into a pairwise tree as a binary
counter adds 1, the elements after the last full step go into the last block, and the tree
and the lanes are folded in a fixed order. This module rebuilds that sum in NumPy from the
kernels' own exponentials (read out exactly through ``log_softmax_vjp``) and checks that
``softmax`` is exactly e_j * (1 / S) on every SIMD path (float32 rounds 1 / S to float, so
a change of order shows in float64, where every bit of S counts). The rows put lanes whose
exponential is not normal (underflow, -inf) at the start of a block, in the middle of one
and in the tail, where the kernels leave their fast loop for the general one.
"""

import numpy as np
import pytest

import csoftmax
from helpers.simd import runnable_paths

BLOCK = 128  # CS_SUM_BLOCK


def _fold8(v):
    """CS_FOLD8 (src_c/cs_common.h)."""
    return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]))


def _reference_sum(e, tw):
    """The documented sum of the row e (float64 values of the kernels' exponentials)."""
    n = e.size
    full = n - n % tw
    levels, mask = {}, 0

    def fold(acc):
        return acc[:8] + acc[8:] if tw == 16 else acc + 0.0

    acc = np.zeros(tw)
    for step, j in enumerate(range(0, full, tw)):
        if step and step % BLOCK == 0:  # a new block starts: merge the last one
            block, i = fold(acc), 0
            while (mask >> i) & 1:
                block = levels[i] + block
                mask &= ~(1 << i)
                i += 1
            levels[i], mask = block, mask | (1 << i)
            acc = np.zeros(tw)
        acc = acc + e[j:j + tw]
    for j in range(full, n):
        acc[j % tw] += e[j]
    last = fold(acc)
    i = 0
    while mask >> i:
        if (mask >> i) & 1:
            last = levels[i] + last
        i += 1
    return _fold8(last)


def _kernel_exp(y):
    """exp(y) as the kernels compute it: log_softmax_vjp of [y, 0] with dy = [0, ..., -1]
    is dy - exp(y) * sum(dy) = [exp(y), 0], exactly."""
    yy = np.append(y, y.dtype.type(0))[None, :]
    dy = np.zeros_like(yy)
    dy[0, -1] = -1
    return csoftmax.log_softmax_vjp(yy, dy)[0, :-1]


def _rows(dtype):
    tw = 16 if dtype == np.float32 else 8
    block = BLOCK * tw
    rng = np.random.default_rng(3)
    low = dtype(-1e4)  # exp underflows to 0: outside the fast loop's range
    for n, spots in [(3 * block + 5, [block]), (3 * block + 5, [2 * block]),
                     (3 * block + 5, [0]), (2 * block + tw + 3, [block + tw // 2]),
                     (2 * block + tw + 3, [2 * block + tw + 1]), (4 * block, []),
                     (5 * block + 1, [])]:
        x = rng.normal(scale=8.0, size=n).astype(dtype)  # e spans 2^-90 .. 1: inexact sums
        x[spots] = low
        yield x
        if spots:
            x = x.copy()
            x[spots] = -np.inf
            yield x


@pytest.mark.parametrize("path", runnable_paths())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wide_row_normaliser_is_summed_in_the_documented_order(path, dtype):
    tw = 16 if dtype == np.float32 else 8
    previous = csoftmax.simd_backend()
    csoftmax.set_simd_backend(path)
    try:
        for x in _rows(dtype):
            y = x - x.max()
            e = _kernel_exp(y)
            s = _reference_sum(e.astype(np.float64), tw)
            expected = e * dtype(1.0 / s)
            got = csoftmax.softmax(x[None, :])[0]
            np.testing.assert_array_equal(got, expected)
            inplace = x[None, :].copy()
            csoftmax.softmax(inplace, out=inplace)
            np.testing.assert_array_equal(inplace[0], expected)
    finally:
        csoftmax.set_simd_backend(previous)
