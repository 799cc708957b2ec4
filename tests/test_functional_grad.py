"""Tests of ``softmax_jacobian``, ``softmax_vjp`` and ``log_softmax_vjp`` in
:mod:`csoftmax.functional`.

This module proves that they

- agree with references a reader can trust, all computed in float64: the
  closed-form Jacobian ``diag(s) - s s^T`` (itself checked by central finite
  differences), and ``J.T @ g`` for the vector-Jacobian products;
- meet the required accuracy (float32 rtol 2e-5, float64 rtol 1e-10), relative
  to the magnitude of the terms that cancel;
- accept any axis, C/Fortran/strided/non-native-byte-order input, read-only
  and memory-mapped input, ``out=`` and in-place operation, and give the
  promoted dtype of ``y`` and ``dy``;
- follow the row rule and keep the invariants (J symmetric with J @ 1 = 0).

The argument checks of all five functions are proved in ``test_functional.py``.
"""

import math

import numpy as np
import pytest

import csoftmax

from helpers.layouts import LAYOUTS, make_layout
from helpers.numerics import DTYPES, N_THREADS, prob_atol, rtol
from helpers.softmax_reference import (
    GOOD_ROWS,
    NAN_ROWS,
    ROW_RULE_ROWS,
    VJP,
    check_jacobian,
    check_vjp,
    random_logits,
    ref_softmax,
    vjp_inputs,
)

# Every layout but negative strides, for the inputs of the derivative kernels.
GRAD_LAYOUTS = [layout for layout in LAYOUTS if layout != "negative_strides"]


# ---------------------------------------------------------------------------
# softmax_jacobian
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", GRAD_LAYOUTS)
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_jacobian_matches_closed_form(dtype, n_threads, layout, tmp_path):
    base = random_logits((6, 7), dtype, seed=14)
    x = make_layout(base, layout, tmp_path)

    jac = csoftmax.softmax_jacobian(x, n_threads=n_threads)

    assert jac.shape == (6, 7, 7)
    assert jac.dtype.type is np.dtype(dtype).type
    check_jacobian(jac, base, -1, dtype)
    # J is symmetric and J @ 1 = 0 (softmax is invariant to adding a constant)
    j64 = jac.astype(np.float64)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(j64, np.swapaxes(j64, -1, -2), rtol=4 * eps, atol=prob_atol(dtype))
    # sum_j J_ij = s_i (1 - sum_j s_j): within rtol of 0, relative to s_i
    s = ref_softmax(base)
    assert np.all(np.abs(j64.sum(axis=-1)) <= 2 * rtol(dtype) * s + 8 * eps * s + prob_atol(dtype))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
@pytest.mark.parametrize("dtype", DTYPES)
def test_jacobian_every_axis_of_3d(dtype, axis):
    x = random_logits((3, 4, 5), dtype, seed=15)
    jac = csoftmax.softmax_jacobian(x, axis=axis, n_threads=2)
    batch = tuple(n for i, n in enumerate(x.shape) if i != axis % 3)
    c = x.shape[axis]
    assert jac.shape == batch + (c, c)
    check_jacobian(jac, x, axis, dtype)


@pytest.mark.parametrize("n_threads", N_THREADS)
def test_jacobian_central_finite_differences(n_threads):
    # J_ij = d s_i / d x_j, by central differences of the kernel's own float64
    # softmax: truncation error ~h^2 * |s'''| / 6 ~ 1e-11, rounding ~eps/h ~ 1e-11.
    rng = np.random.default_rng(16)
    x = 2.0 * rng.standard_normal((3, 6))
    jac = csoftmax.softmax_jacobian(x, n_threads=n_threads)
    h = 1e-5
    fd = np.empty_like(jac)
    for j in range(x.shape[1]):
        e = np.zeros_like(x)
        e[:, j] = h
        fd[:, :, j] = (csoftmax.softmax(x + e) - csoftmax.softmax(x - e)) / (2 * h)
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_jacobian_row_rule(dtype):
    x = ROW_RULE_ROWS.astype(dtype)
    jac = csoftmax.softmax_jacobian(x)
    assert jac.shape == (8, 5, 5)
    assert np.all(np.isnan(jac[NAN_ROWS]))
    assert not np.any(np.isnan(jac[GOOD_ROWS]))
    check_jacobian(jac[GOOD_ROWS], x[GOOD_ROWS], -1, dtype)
    # a masked entry has s = 0: its row and column of J are exactly 0
    assert np.all(jac[4][[1, 3], :] == 0.0)
    assert np.all(jac[4][:, [1, 3]] == 0.0)
    assert np.all(jac[6] == 0.0)  # s = onehot: diag(s) - s s^T = 0


# ---------------------------------------------------------------------------
# softmax_vjp / log_softmax_vjp
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", GRAD_LAYOUTS)
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(VJP))
def test_vjp_matches_J_T_g(name, dtype, n_threads, axis, layout, tmp_path):
    x = random_logits((8, 9), dtype, seed=17)
    y0, dy0 = vjp_inputs(name, x, dtype, axis)
    y = make_layout(y0, layout, tmp_path, "y")
    dy = make_layout(dy0, layout, tmp_path, "dy")

    result = VJP[name](y, dy, axis=axis, n_threads=n_threads)

    assert result.shape == x.shape
    assert result.dtype.type is np.dtype(dtype).type
    check_vjp(name, result, y0, dy0, axis, dtype)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(dy, dy0)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(VJP))
def test_vjp_every_axis_of_3d(name, dtype, axis):
    x = random_logits((3, 4, 5), dtype, seed=18)
    y, dy = vjp_inputs(name, x, dtype, axis)
    result = VJP[name](y, dy, axis=axis, n_threads=2)
    assert result.shape == x.shape
    check_vjp(name, result, y, dy, axis, dtype)


@pytest.mark.parametrize("target", ["fresh", "y", "dy"])
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(VJP))
def test_vjp_out_and_in_place(name, dtype, n_threads, target):
    x = random_logits((7, 10), dtype, seed=19)
    y0, dy0 = vjp_inputs(name, x, dtype, -1)
    y, dy = y0.copy(), dy0.copy()
    out = {"fresh": np.full(x.shape, np.nan, dtype=dtype), "y": y, "dy": dy}[target]

    result = VJP[name](y, dy, out=out, n_threads=n_threads)

    assert result is out
    check_vjp(name, out, y0, dy0, -1, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_vjp_wide_rows(dtype):
    x = random_logits((2, 50_000), dtype, seed=20)
    for name, fn in VJP.items():
        y, dy = vjp_inputs(name, x, dtype, -1)
        check_vjp(name, fn(y, dy, n_threads=2), y, dy, -1, dtype)


def test_softmax_vjp_agrees_with_kernel_jacobian():
    # the VJP of the softmax kernel equals contracting its Jacobian with dy
    rng = np.random.default_rng(21)
    x = rng.standard_normal((5, 6))
    dy = rng.standard_normal((5, 6))
    y = csoftmax.softmax(x)
    jac = csoftmax.softmax_jacobian(x)
    np.testing.assert_allclose(
        csoftmax.softmax_vjp(y, dy), np.einsum("nij,ni->nj", jac, dy), rtol=1e-10, atol=1e-15
    )


@pytest.mark.parametrize(
    "y_dtype, dy_dtype, expected",
    [
        (np.float32, np.float32, np.float32),
        (np.float32, np.float64, np.float64),
        (np.float64, np.float32, np.float64),
        (np.float64, np.float64, np.float64),
        (np.float32, np.int64, np.float64),
        (np.float16, np.float32, np.float64),
    ],
)
@pytest.mark.parametrize("name", list(VJP))
def test_vjp_result_dtype(name, y_dtype, dy_dtype, expected):
    x = random_logits((4, 5), np.float64, seed=22)
    y, _ = vjp_inputs(name, x, np.float64, -1)
    y = y.astype(y_dtype)
    dy = np.arange(20).reshape(4, 5).astype(dy_dtype)
    result = VJP[name](y, dy)
    assert result.dtype == expected
    check_vjp(name, result, y, dy, -1, np.dtype(expected))


@pytest.mark.parametrize("n", [100, 1000, 5000])
def test_jacobian_diagonal_of_a_dominant_probability_is_accurate(n):
    """For s_b > 1/2 the diagonal s_b (1 - s_b) is computed from the exponentials, so it stays
    within a few ulp of the correctly rounded value however long the row."""
    rng = np.random.default_rng(n)
    worst = 0.0
    for _ in range(5):
        x = rng.normal(size=n)
        x[0] = 3.0 + np.log(n) + rng.uniform(0, 3)  # s_0 between about 0.9 and 0.999
        e = np.exp(x - x.max())
        total, rest = math.fsum(e), math.fsum(e[1:])
        true = (e[0] / total) * (rest / total)
        J = csoftmax.softmax_jacobian(x)
        worst = max(worst, abs(J[0, 0] - true) / np.spacing(true))
    assert worst <= 4, worst
