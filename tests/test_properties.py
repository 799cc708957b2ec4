"""Property-based tests: the identities of softmax, its derivatives and the fused
cross-entropy, on inputs hypothesis draws, shrinks and remembers.

Inputs cover extreme magnitudes (up to 1e4, beyond float32's exp range), -inf masks, one-
column and empty shapes and arbitrary strides (a transposed or strided view, with NaN in
the gaps that the kernels must never read). Identities are checked to tolerances scaled by
dtype; results across n_threads and SIMD paths must be identical, where NaN equals NaN
whatever its sign bit (the sign of a NaN is not specified: the portable path may give -NaN
where a vector path gives +NaN).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import csoftmax

from helpers.numerics import log_atol, prob_atol, rtol
from helpers.xent_reference import numeric_grad, ref_cross_entropy_nd

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
DTYPES = st.sampled_from([np.float32, np.float64])
MAGNITUDE = st.sampled_from([1.0, 30.0, 1e4])


@st.composite
def logits(draw, min_rows=1, max_rows=5, min_cols=1, max_cols=40, masks=True):
    """A (rows, cols) array, possibly a strided view with NaN in the gaps."""
    dtype = draw(DTYPES)
    rows = draw(st.integers(min_rows, max_rows))
    cols = draw(st.integers(min_cols, max_cols))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(MAGNITUDE)
    rng = np.random.default_rng(seed)
    x = (scale * rng.standard_normal((rows, cols))).astype(dtype)
    if masks and cols > 1 and draw(st.booleans()):
        mask = rng.random((rows, cols)) < 0.3
        mask[np.arange(rows), rng.integers(0, cols, rows)] = False  # every row keeps one
        x[mask] = -np.inf
    layout = draw(st.sampled_from(["c", "fortran", "strided"]))
    if layout == "fortran":
        x = np.asfortranarray(x)
    elif layout == "strided":
        big = np.full((rows * 2, cols * 3), np.nan, dtype=dtype)
        big[::2, ::3] = x
        x = big[::2, ::3]
    return x


def _tol(dtype, scale=1.0):
    return dict(rtol=rtol(dtype), atol=prob_atol(dtype) * scale)


@SETTINGS
@given(logits(), st.floats(-50, 50))
def test_rows_sum_to_one_and_shift_invariance(x, shift):
    s = csoftmax.softmax(x)
    np.testing.assert_allclose(s.sum(axis=-1, dtype=np.float64), 1.0,
                               rtol=0, atol=x.shape[1] * 4 * np.finfo(x.dtype).eps)
    assert np.all(s[np.isneginf(x)] == 0)
    shifted = csoftmax.softmax((x.astype(np.float64) + shift).astype(x.dtype))
    assume(np.all(np.isfinite(x) | np.isneginf(x)))
    # the shift itself is rounded in the input dtype: compare within that rounding
    tol = np.abs(shift) * np.finfo(x.dtype).eps * 4 + prob_atol(x.dtype)
    np.testing.assert_allclose(shifted, s, rtol=rtol(x.dtype) + tol, atol=tol)


@SETTINGS
@given(logits())
def test_exp_of_log_softmax_is_softmax(x):
    s = csoftmax.softmax(x)
    ls = csoftmax.log_softmax(x)
    np.testing.assert_allclose(np.exp(ls.astype(np.float64)), s, **_tol(x.dtype))
    np.testing.assert_allclose(ls[np.isneginf(x)], -np.inf)


@SETTINGS
@given(logits(max_cols=25), st.integers(0, 2**32 - 1))
def test_vjp_is_jacobian_transpose_product_and_jacobian_identities(x, seed):
    g = np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)
    s = csoftmax.softmax(x)
    J = csoftmax.softmax_jacobian(x).astype(np.float64)
    np.testing.assert_allclose(J, np.swapaxes(J, -1, -2), rtol=0, atol=0)  # symmetric
    # rows sum to 0 up to the rounding of their n entries (each rounded in the dtype)
    eps = np.finfo(x.dtype).eps
    bound = 2 * x.shape[1] * eps * np.abs(J).max(axis=-1) + prob_atol(x.dtype)
    assert np.all(np.abs(J.sum(axis=-1)) <= bound)
    # The VJP's input is the rounded output y: compare with J(y)^T g for that same y, in
    # float64 (J from y differs from J from x where y rounds 1 - y_i away, as it must).
    vjp = csoftmax.softmax_vjp(s, g)
    y, g64 = s.astype(np.float64), g.astype(np.float64)
    expected = y * g64 - y * np.sum(y * g64, axis=-1, keepdims=True)
    scale = np.abs(g64).max() * 4 * np.finfo(x.dtype).eps
    np.testing.assert_allclose(vjp, expected, rtol=10 * rtol(x.dtype), atol=scale)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(2, 6), st.integers(0, 2**32 - 1),
       st.sampled_from(["mean", "sum"]), st.booleans(), st.booleans(),
       st.sampled_from([0.0, 0.15]), st.booleans())
def test_cross_entropy_gradient_matches_finite_differences(n, c, seed, reduction, hard,
                                                          weighted, smoothing, class_weighted):
    rng = np.random.default_rng(seed)
    z = 3 * rng.standard_normal((n, c))
    target = rng.integers(0, c, n) if hard else rng.dirichlet(np.ones(c), n)
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    if weighted:
        kw["sample_weight"] = rng.uniform(0.1, 2.0, n)
    if class_weighted:
        kw["weight"] = rng.uniform(0.1, 2.0, c)
    loss, grad = csoftmax.cross_entropy(z, target, return_grad=True, **kw)
    np.testing.assert_allclose(loss, ref_cross_entropy_nd(z, target, **kw), rtol=1e-12)
    numeric = numeric_grad(lambda v: ref_cross_entropy_nd(v, target, **kw), z)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def _every_backend():
    names = []
    previous = csoftmax.simd_backend()
    for name in ("portable", "avx2", "avx512"):
        try:
            csoftmax.set_simd_backend(name)
            names.append(name)
        except ValueError:
            pass
    csoftmax.set_simd_backend(previous)
    return names


@pytest.fixture(scope="module")
def backends():
    previous = csoftmax.simd_backend()
    yield _every_backend()
    csoftmax.set_simd_backend(previous)


@SETTINGS
@given(x=logits(max_rows=40, max_cols=300, masks=True))
def test_identical_for_every_thread_count_and_simd_path(backends, x):
    """Bitwise, NaN equal to NaN whatever its sign."""
    labels = np.zeros(x.shape[0], dtype=np.int64)
    results = []
    try:
        for name in backends:
            csoftmax.set_simd_backend(name)
            for n_threads in (1, 2):
                s = csoftmax.softmax(x, n_threads=n_threads)
                ls = csoftmax.log_softmax(x, n_threads=n_threads)
                loss, grad = csoftmax.cross_entropy(x, labels, reduction="none",
                                                    return_grad=True, n_threads=n_threads)
                results.append((s, ls, loss, grad))
    finally:
        csoftmax.set_simd_backend("auto")
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b, equal_nan=True)


@SETTINGS
@given(st.sampled_from([(0, 5), (3, 0), (0, 0), (4, 1), (1, 1)]), DTYPES)
def test_empty_and_one_column_shapes(shape, dtype):
    x = np.zeros(shape, dtype=dtype)
    s = csoftmax.softmax(x)
    assert s.shape == shape and s.dtype == dtype
    if shape[1] == 1 and shape[0]:
        assert np.all(s == 1) and np.all(csoftmax.log_softmax(x) == 0)
        assert np.all(csoftmax.softmax_jacobian(x) == 0)
    if shape[0] and shape[1]:
        loss, grad = csoftmax.cross_entropy(x, np.zeros(shape[0], int), return_grad=True)
        assert np.isfinite(loss) and grad.shape == shape
