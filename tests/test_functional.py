"""Tests of ``softmax`` and ``log_softmax`` in :mod:`csoftmax.functional`, and of
the argument checks of all five functions.

This module proves that ``softmax`` and ``log_softmax``

- agree with references a reader can trust, computed in float64:
  :func:`scipy.special.softmax` and :func:`scipy.special.log_softmax`;
- meet the required accuracy: float32 within rtol 2e-5 of a float64 reference
  computed from the same float32 values, float64 within rtol 1e-10;
- accept any axis, C/Fortran/strided/negative-stride/non-native-byte-order
  input, read-only and memory-mapped input, ``out=`` and in-place operation,
  empty and 0-d arrays, and compute integer/bool/float16 input in float64;
- follow the row rule: a row that is all -inf, or contains +inf or NaN, becomes
  NaN and no other row is affected; other -inf entries get probability exactly 0;
- keep the invariants (shift invariance, rows sum to 1, exp(log_softmax) equals
  softmax);

and that ``softmax``, ``log_softmax``, ``softmax_jacobian``, ``softmax_vjp`` and
``log_softmax_vjp`` reject every bad input with the documented exception,
naming the argument.

The Jacobian and the vector-Jacobian products are proved in
``test_functional_grad.py``; bitwise equality across ``n_threads`` and thread
safety in ``test_concurrency.py``; SIMD-path agreement in ``test_build.py``.
"""

import math

import numpy as np
import pytest
import scipy.special
from numpy.exceptions import AxisError

import csoftmax

from helpers.layouts import LAYOUTS, make_layout
from helpers.numerics import DTYPES, N_THREADS, log_atol, prob_atol, rtol
from helpers.simd import runnable_paths
from helpers.softmax_reference import (
    FORWARD,
    GOOD_ROWS,
    INF,
    NAN_ROWS,
    ROW_RULE_ROWS,
    VJP,
    check_forward,
    check_jacobian,
    random_logits,
)


# ---------------------------------------------------------------------------
# softmax / log_softmax against scipy
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_matches_scipy(name, dtype, n_threads, axis, layout, tmp_path):
    base = random_logits((13, 17), dtype, seed=3)
    x = make_layout(base, layout, tmp_path)
    before = np.array(x, copy=True)

    result = FORWARD[name](x, axis=axis, n_threads=n_threads)

    assert isinstance(result, np.ndarray)
    assert result.shape == base.shape
    assert result.dtype.type is np.dtype(dtype).type
    check_forward(name, result, base, axis, dtype)
    np.testing.assert_array_equal(x, before, err_msg="input was modified")


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_every_axis_of_3d(name, dtype, n_threads, axis):
    x = random_logits((4, 5, 6), dtype, seed=4)
    result = FORWARD[name](x, axis=axis, n_threads=n_threads)
    assert result.shape == x.shape
    assert result.dtype == dtype
    check_forward(name, result, x, axis, dtype)


def test_default_axis_is_last():
    x = random_logits((4, 5, 6), np.float64, seed=5)
    np.testing.assert_array_equal(csoftmax.softmax(x), csoftmax.softmax(x, axis=-1))
    np.testing.assert_array_equal(csoftmax.log_softmax(x), csoftmax.log_softmax(x, axis=2))
    check_forward("softmax", csoftmax.softmax(x), x, -1, np.float64)


@pytest.mark.parametrize("out_layout", ["C", "fortran", "strided"])
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_out_given(name, dtype, n_threads, axis, out_layout, tmp_path):
    x = random_logits((9, 11), dtype, seed=6)
    out = make_layout(np.full(x.shape, np.nan, dtype=dtype), out_layout, tmp_path, "out")

    result = FORWARD[name](x, axis=axis, out=out, n_threads=n_threads)

    assert result is out
    check_forward(name, out, x, axis, dtype)


@pytest.mark.parametrize("layout", ["C", "fortran", "strided"])
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_in_place(name, dtype, n_threads, axis, layout, tmp_path):
    original = random_logits((9, 11), dtype, seed=7)
    x = make_layout(original, layout, tmp_path)

    result = FORWARD[name](x, axis=axis, out=x, n_threads=n_threads)

    assert result is x
    check_forward(name, x, original, axis, dtype)


@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_logits_of_plus_minus_1e4(name, dtype, n_threads):
    rng = np.random.default_rng(8)
    signs = rng.choice([-1.0, 1.0], size=(20, 9))
    x = (1e4 * signs + rng.standard_normal((20, 9))).astype(dtype)
    special = np.array(
        [[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4 - 1.0, 1e4 - 2.0], [-1e4, 1e4, 1e4]]
    )
    result = FORWARD[name](x, n_threads=n_threads)
    assert np.all(np.isfinite(result))
    check_forward(name, result, x, -1, dtype)

    xs = special.astype(dtype)
    result = FORWARD[name](xs, n_threads=n_threads)
    assert np.all(np.isfinite(result))
    check_forward(name, result, xs, -1, dtype)


# ---------------------------------------------------------------------------
# Row rule: non-finite input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_row_rule(name, dtype, n_threads, axis):
    rows = ROW_RULE_ROWS.astype(dtype)
    x = rows if axis == 1 else np.ascontiguousarray(rows.T)

    result = FORWARD[name](x, axis=axis, n_threads=n_threads)
    r = result if axis == 1 else result.T  # rows back on axis 0

    assert np.all(np.isnan(r[NAN_ROWS])), "rows all -inf / with +inf / with NaN must be NaN"
    assert not np.any(np.isnan(r[GOOD_ROWS])), "other rows must not be affected"
    check_forward(name, r[GOOD_ROWS], rows[GOOD_ROWS], 1, dtype)
    if name == "softmax":
        assert np.all(r[4, [1, 3]] == 0.0), "-inf entries get probability exactly 0"
        np.testing.assert_array_equal(r[6], [0.0, 0.0, 1.0, 0.0, 0.0])
        np.testing.assert_allclose(r[4].sum(dtype=np.float64), 1.0, rtol=rtol(dtype))
    else:
        assert np.all(r[4, [1, 3]] == -np.inf), "-inf entries get log-probability exactly -inf"
        np.testing.assert_array_equal(r[6], [-INF, -INF, 0.0, -INF, -INF])


# ---------------------------------------------------------------------------
# Invariants
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shift", [-1e4, -3.5, 1024.0, 1e4])
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FORWARD))
def test_shift_invariance(name, dtype, n_threads, shift):
    rng = np.random.default_rng(9)
    # multiples of 1/8 in [-8, 8]: x + shift is exact in float32 and float64,
    # so the shifted input represents exactly the same softmax.
    x = (rng.integers(-64, 65, size=(12, 10)) / 8).astype(dtype)
    shifted = (x + dtype(shift)).astype(dtype)
    np.testing.assert_array_equal(shifted - dtype(shift), x)  # the shift is exact

    a = FORWARD[name](x, n_threads=n_threads)
    b = FORWARD[name](shifted, n_threads=n_threads)
    atol = prob_atol(dtype) if name == "softmax" else log_atol(dtype, x.shape[-1])
    np.testing.assert_allclose(b, a, rtol=rtol(dtype), atol=atol)
    check_forward(name, b, x, -1, dtype)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_rows_sum_to_one_and_exp_log_softmax_is_softmax(dtype, n_threads, axis):
    x = random_logits((30, 40), dtype, seed=10, scale=5.0)
    s = csoftmax.softmax(x, axis=axis, n_threads=n_threads)
    ls = csoftmax.log_softmax(x, axis=axis, n_threads=n_threads)

    assert np.all((s >= 0) & (s <= 1))
    assert np.all(ls <= 0)
    # each entry is within rtol of the truth, so the sum is within rtol of 1
    np.testing.assert_allclose(s.sum(axis=axis, dtype=np.float64), 1.0, rtol=0, atol=rtol(dtype))
    # exp amplifies an absolute error d in log_softmax into a relative error d;
    # that error is at most rtol * |ls| + log_atol.
    rel = rtol(dtype) * (1 + np.max(np.abs(ls))) + log_atol(dtype, x.shape[axis]) + rtol(dtype)
    np.testing.assert_allclose(np.exp(ls.astype(np.float64)), s, rtol=rel, atol=prob_atol(dtype))


def test_log_softmax_keeps_precision_of_a_dominant_class():
    # log_softmax([0, -30])[0] = -log1p(exp(-30)) = -9.357622968839e-14.
    # log(softmax) would give exactly 0 in float32; the kernel must not.
    x = np.array([[0.0, -30.0]])
    expected = -np.log1p(np.exp(-30.0))
    ls = csoftmax.log_softmax(x)
    np.testing.assert_allclose(ls[0, 0], expected, rtol=0, atol=log_atol(np.float64, 2))
    assert ls[0, 0] < 0
    np.testing.assert_allclose(ls[0, 1], -30.0 + expected, rtol=1e-15)


# ---------------------------------------------------------------------------
# Wide rows
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FORWARD))
def test_wide_rows_50000_classes(name, dtype, n_threads, axis):
    x = random_logits((3, 50_000), dtype, seed=11, scale=4.0)
    x[1, 123] = 40.0  # one row with a dominant class
    x[2, ::7] = -np.inf  # masked entries in a wide row
    if axis == 0:
        x = x.T  # a strided column of length 50,000
    result = FORWARD[name](x, axis=axis, n_threads=n_threads)
    check_forward(name, result, x, axis, dtype)
    if name == "softmax":
        np.testing.assert_allclose(result.sum(axis=axis, dtype=np.float64), 1.0, rtol=0, atol=rtol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_wide_row_100000_classes_accumulates_accurately(dtype):
    # 100,000 terms of about 0.9: a naive float32 running sum drifts by ~1e-3;
    # the issue requires rows of 100,000 classes to stay within tolerance.
    rng = np.random.default_rng(12)
    x = rng.uniform(-0.2, 0.0, size=(2, 100_000)).astype(dtype)
    x[:, 0] = 0.0
    for name, fn in FORWARD.items():
        check_forward(name, fn(x), x, -1, dtype)


# ---------------------------------------------------------------------------
# Empty, 0-d and non-float input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("shape", [(0, 5), (5, 0)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_arrays(dtype, shape, axis):
    x = np.empty(shape, dtype=dtype)
    for fn in FORWARD.values():
        r = fn(x, axis=axis)
        assert r.shape == shape and r.dtype == dtype
    for fn in VJP.values():
        r = fn(x, np.empty(shape, dtype=dtype), axis=axis)
        assert r.shape == shape and r.dtype == dtype
    batch = tuple(n for i, n in enumerate(shape) if i != axis % 2)
    c = shape[axis]
    jac = csoftmax.softmax_jacobian(x, axis=axis)
    assert jac.shape == batch + (c, c) and jac.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.float16, np.bool_])
def test_zero_d_input(dtype):
    x = np.array(3, dtype=dtype)
    expected_dtype = dtype if dtype in (np.float32, np.float64) else np.float64
    s = csoftmax.softmax(x)
    ls = csoftmax.log_softmax(x)
    jac = csoftmax.softmax_jacobian(x)
    for r, value in [(s, 1.0), (ls, 0.0), (jac, 0.0)]:
        assert np.shape(r) == ()
        assert np.asarray(r).dtype == expected_dtype
        assert r == value


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_d_non_finite_is_nan(dtype, value):
    x = np.array(value, dtype=dtype)
    assert np.isnan(csoftmax.softmax(x))
    assert np.isnan(csoftmax.log_softmax(x))


NON_FLOAT_DTYPES = [np.int8, np.uint8, np.int32, np.int64, np.bool_, np.float16]


@pytest.mark.parametrize("dtype", NON_FLOAT_DTYPES)
def test_other_real_dtypes_are_computed_in_float64(dtype):
    rng = np.random.default_rng(13)
    if dtype is np.bool_:
        x = rng.integers(0, 2, size=(6, 7)).astype(bool)
    elif dtype is np.float16:
        x = (3 * rng.standard_normal((6, 7))).astype(np.float16)
    else:
        x = rng.integers(0, 20, size=(6, 7)).astype(dtype)
    x64 = x.astype(np.float64)

    for name, fn in FORWARD.items():
        r = fn(x)
        assert r.dtype == np.float64, name
        check_forward(name, r, x64, -1, np.float64)
        out = np.empty(x.shape, dtype=np.float64)
        assert fn(x, out=out) is out
        check_forward(name, out, x64, -1, np.float64)
    jac = csoftmax.softmax_jacobian(x)
    assert jac.dtype == np.float64
    check_jacobian(jac, x64, -1, np.float64)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


BAD_DTYPE_INPUTS = {
    "complex": np.ones((3, 4), dtype=np.complex128),
    "object": np.ones((3, 4), dtype=object),
    "str": np.array([["a", "b"], ["c", "d"]]),
}


@pytest.mark.parametrize("kind", list(BAD_DTYPE_INPUTS))
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmax_jacobian"])
def test_forward_rejects_non_real_dtypes(name, kind):
    fn = getattr(csoftmax, name)
    with pytest.raises(TypeError, match=r"\bx\b"):
        fn(BAD_DTYPE_INPUTS[kind])


@pytest.mark.parametrize("kind", list(BAD_DTYPE_INPUTS))
@pytest.mark.parametrize("name", list(VJP))
def test_vjp_rejects_non_real_dtypes(name, kind):
    bad = BAD_DTYPE_INPUTS[kind]
    good = np.full(bad.shape, 0.25)
    with pytest.raises(TypeError, match=r"\by\b"):
        VJP[name](bad, good)
    with pytest.raises(TypeError, match=r"\bdy\b"):
        VJP[name](good, bad)


def _call(name, x, **kwargs):
    if name in VJP:
        width = x.shape[-1] if x.ndim else 1  # a 0-d softmax output is 1
        return VJP[name](np.full(x.shape, 1 / width, dtype=x.dtype), x, **kwargs)
    return getattr(csoftmax, name)(x, **kwargs)


ALL_NAMES = ["softmax", "log_softmax", "softmax_jacobian", "softmax_vjp", "log_softmax_vjp"]
OUT_NAMES = ["softmax", "log_softmax", "softmax_vjp", "log_softmax_vjp"]


@pytest.mark.parametrize("name", OUT_NAMES)
def test_out_wrong_shape_dtype_or_read_only(name):
    x = random_logits((4, 6), np.float64, seed=23)
    with pytest.raises(ValueError, match="out"):
        _call(name, x, out=np.empty((4, 5)))
    with pytest.raises(ValueError, match="out"):
        _call(name, x, out=np.empty((6, 4)))
    with pytest.raises(ValueError, match="out has dtype float32; expected float64"):
        _call(name, x, out=np.empty((4, 6), dtype=np.float32))
    with pytest.raises(ValueError, match="out has dtype float32; expected float64"):
        _call(name, x.astype(np.int64), out=np.empty((4, 6), dtype=np.float32))
    read_only = np.empty((4, 6))
    read_only.setflags(write=False)
    with pytest.raises(ValueError, match="out"):
        _call(name, x, out=read_only)


@pytest.mark.parametrize("axis", [2, -3, 10, 2**63, -(2**70), (0, 2**64)])
@pytest.mark.parametrize("name", ALL_NAMES)
def test_axis_out_of_range(name, axis):
    x = random_logits((4, 6), np.float64, seed=24)
    with pytest.raises(AxisError, match="axis"):
        _call(name, x, axis=axis)
    with pytest.raises(AxisError, match="axis"):  # a NumPy integer on a 0-d input
        _call(name, np.float64(1.0), axis=np.int64(3))
    # beyond a C long too (NumPy's own check raises OverflowError there), 0-d included
    if not isinstance(axis, tuple) and abs(axis) > 2**62:
        with pytest.raises(AxisError, match="axis"):
            _call(name, np.float64(1.0), axis=axis)
        with pytest.raises(AxisError, match="axis"):
            csoftmax.cross_entropy(x, np.zeros(4, dtype=np.int64), axis=axis)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_n_threads_validation(name):
    x = random_logits((4, 6), np.float64, seed=25)
    with pytest.raises(ValueError, match="n_threads"):
        _call(name, x, n_threads=0)
    for bad in [1.5, "2"]:
        with pytest.raises(TypeError, match="n_threads"):
            _call(name, x, n_threads=bad)
    # None, -1 and -2 (count back as in joblib) and more threads than cores are valid
    reference = _call(name, x, n_threads=1)
    for ok in [None, -1, -2, 5]:
        np.testing.assert_array_equal(_call(name, x, n_threads=ok), reference)


@pytest.mark.parametrize("name", list(VJP))
def test_vjp_shape_mismatch(name):
    y = np.full((4, 6), 1 / 6)
    for dy in [np.zeros((4, 5)), np.zeros((6, 4)), np.zeros((4, 6, 1)), np.zeros(6)]:
        with pytest.raises(ValueError, match="dy"):
            VJP[name](y, dy)


# ---------------------------------------------------------------------------
# axis=None and tuples of axes, out= of a wider dtype, the Jacobian's out= and size limit
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, (0, 2), (2, 0), (-1, 1), (0, 1, 2)])
def test_axis_none_and_tuples_match_scipy(dtype, axis):
    x = random_logits((3, 4, 5), dtype, seed=41)
    for name, ref in [("softmax", scipy.special.softmax),
                      ("log_softmax", scipy.special.log_softmax)]:
        got = getattr(csoftmax, name)(x, axis=axis)
        assert got.dtype == dtype and got.shape == x.shape
        np.testing.assert_allclose(got, ref(x.astype(np.float64), axis=axis),
                                   rtol=rtol(dtype), atol=prob_atol(dtype))
    s = csoftmax.softmax(x, axis=axis)
    g = random_logits((3, 4, 5), dtype, seed=42)
    dot = np.sum(g.astype(np.float64) * s, axis=axis, keepdims=True)
    np.testing.assert_allclose(csoftmax.softmax_vjp(s, g, axis=axis), s * (g - dot),
                               rtol=rtol(dtype), atol=prob_atol(dtype))


def test_axis_of_the_wrong_kind_is_refused_clearly():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="names no axis"):
        csoftmax.softmax(x, axis=())
    with pytest.raises(TypeError, match="axis must be an int, a tuple of ints or None"):
        csoftmax.softmax(x, axis=1.0)
    with pytest.raises(ValueError, match="repeated axis"):
        csoftmax.softmax(x, axis=(1, -1))
    with pytest.raises(AxisError):
        csoftmax.log_softmax(x, axis=(0, 2))


@pytest.mark.parametrize("name", OUT_NAMES)
def test_out_of_a_wider_float_dtype_is_filled_as_numpy_ufuncs_do(name):
    x = random_logits((4, 6), np.float32, seed=29)
    expected = _call(name, x)
    out = np.full((6, 4), np.nan).T  # float64, and not C-contiguous
    assert _call(name, x, out=out) is out
    np.testing.assert_array_equal(out, expected.astype(np.float64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, -1, (0, 2), None])
def test_jacobian_takes_any_axis_and_out(dtype, axis):
    x = random_logits((2, 3, 4), dtype, seed=31)
    J = csoftmax.softmax_jacobian(x, axis=axis)
    layout_axes = (axis,) if isinstance(axis, int) else (axis or (0, 1, 2))
    moved = np.moveaxis(x, layout_axes, range(-len(layout_axes), 0))
    rows = moved.reshape(-1, int(np.prod([x.shape[a] for a in layout_axes])))
    s = scipy.special.softmax(rows.astype(np.float64), axis=-1)
    ref = np.einsum("ri,ij->rij", s, np.eye(s.shape[1])) - s[:, :, None] * s[:, None, :]
    assert J.shape == moved.shape[:-len(layout_axes)] + (rows.shape[1],) * 2
    np.testing.assert_allclose(J.reshape(ref.shape), ref, rtol=rtol(dtype),
                               atol=prob_atol(dtype))
    out = np.empty(J.shape, dtype=dtype)
    assert csoftmax.softmax_jacobian(x, axis=axis, out=out) is out
    np.testing.assert_array_equal(out, J)
    wide = np.empty(J.shape[::-1], dtype=np.float64).T  # wider dtype, not C-contiguous
    csoftmax.softmax_jacobian(x, axis=axis, out=wide)
    np.testing.assert_array_equal(wide, J.astype(np.float64))
    with pytest.raises(ValueError, match="out has shape"):
        csoftmax.softmax_jacobian(x, axis=axis, out=np.empty(J.shape + (1,), dtype))


def test_jacobian_refuses_a_result_past_the_limit_and_names_its_size():
    x = np.zeros((10, 20000), dtype=np.float32)  # 16 GB of Jacobian
    with pytest.raises(ValueError, match=r"shape \(10, 20000, 20000\) would take 14.9 GiB.*"
                                         r"softmax_vjp"):
        csoftmax.softmax_jacobian(x)
    small = np.zeros((3, 4), np.float32)
    np.testing.assert_array_equal(
        csoftmax.softmax_jacobian(small, out=np.empty((3, 4, 4), np.float32)),
        csoftmax.softmax_jacobian(small))


def test_long_rows_are_normalised_to_the_last_ulp():
    """The normaliser of a row of 2 million float64 logits is summed pairwise over blocks:
    the probabilities still sum to 1 within a few ulp (a plain running sum drifts to tens)."""
    x = np.random.default_rng(0).normal(size=2_000_000)
    s = csoftmax.softmax(x)
    assert abs(math.fsum(s) - 1.0) <= 4 * np.spacing(1.0)
    e = np.exp(x - x.max())
    log_s_true = math.log(math.fsum(e))
    log_s = -csoftmax.log_softmax(x)[np.argmax(x)]
    assert abs(log_s - log_s_true) <= 2 * np.spacing(log_s_true)


@pytest.mark.parametrize("path", runnable_paths())
@pytest.mark.parametrize("dtype, lo, hi", [(np.float32, -110, 90), (np.float64, -750, 712)])
def test_exp_is_within_one_ulp_on_every_path(path, dtype, lo, hi):
    """The kernels' exp, read out exactly: log_softmax_vjp of the row [a, 0] with dy = [0, -1]
    is dy - exp(y) * sum(dy) = [exp(a), 0]. Checked against long double from underflow
    (subnormal results included) to overflow, and on [-5, 0] where softmax spends its time."""
    rng = np.random.default_rng(7)
    a = np.concatenate([rng.uniform(lo, hi, 100_000), rng.uniform(-5, 0, 100_000),
                        np.linspace(lo, hi, 20_001)]).astype(dtype)
    y = np.stack([a, np.zeros_like(a)], axis=1)
    dy = np.zeros_like(y)
    dy[:, 1] = -1
    previous = csoftmax.simd_backend()
    csoftmax.set_simd_backend(path)
    try:
        got = csoftmax.log_softmax_vjp(y, dy)[:, 0]
        special = csoftmax.log_softmax_vjp(
            np.array([[np.nan, 0], [-np.inf, 0], [np.inf, 0]], dtype),
            np.array([[0, -1]] * 3, dtype))[:, 0]
    finally:
        csoftmax.set_simd_backend(previous)
    ref = np.exp(a.astype(np.longdouble))
    with np.errstate(over="ignore"):
        ref_rounded = ref.astype(dtype)
    inside = np.isfinite(ref_rounded) & (ref_rounded > 0)
    assert inside.sum() > 200_000
    ulps = np.abs(got[inside] - ref[inside]) / np.spacing(ref_rounded[inside]).astype(np.longdouble)
    assert ulps.max() < 1.0, float(ulps.max())
    # beyond the range: exactly 0 or inf, as the correctly rounded result is
    np.testing.assert_array_equal(got[~inside], ref_rounded[~inside])
    assert np.isnan(special[0]) and special[1] == 0 and special[2] == np.inf


@pytest.mark.parametrize("path", runnable_paths())
def test_log_of_the_normaliser_is_within_one_ulp_on_every_path(path):
    """The kernels' log, read out exactly: a row of n zeros has the normaliser n, and its
    float64 log_softmax is -log(n). Narrow rows (n <= 16, several rows per vector) and wide
    ones use the same log, so both are checked against long double."""
    ns = list(range(1, 40)) + [100, 1000, 4097, 65536, 100_003]
    previous = csoftmax.simd_backend()
    csoftmax.set_simd_backend(path)
    try:
        got = np.array([-csoftmax.log_softmax(np.zeros((3, n)))[1, 0] for n in ns])
        losses = np.array([csoftmax.cross_entropy(np.zeros((5, n)), np.zeros(5, np.int64),
                                                  reduction="none")[1] for n in ns])
    finally:
        csoftmax.set_simd_backend(previous)
    ref = np.log(np.array(ns, dtype=np.longdouble))
    ulps = np.abs(got - ref)[1:] / np.spacing(ref[1:].astype(np.float64)).astype(np.longdouble)
    assert got[0] == 0.0 and ulps.max() < 1.0, float(ulps.max())
    np.testing.assert_array_equal(losses, got)  # the loss of the label is the same log


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_narrow_rows_give_the_same_bits_on_every_path_and_in_place(dtype):
    """Rows of up to 33 classes go through the column kernels (groups of rows transposed in
    registers, the last columns as an overlapping block, partial groups element by element):
    every row count and width gives the same bits on every SIMD path, in place or not, and
    the values of a float64 reference; so do the VJPs."""
    previous, outputs = csoftmax.simd_backend(), {}
    try:
        for path in runnable_paths():
            csoftmax.set_simd_backend(path)
            rng = np.random.default_rng(11)
            got = []
            for n in range(1, 34):
                for rows in (1, 5, 8, 9, 16, 17, 40):
                    x = (3 * rng.standard_normal((rows, n))).astype(dtype)
                    if rows > 5 and n > 1:
                        x[3, n // 2] = -np.inf  # a masked class
                    y = rng.integers(0, n, rows)
                    soft, logs = csoftmax.softmax(x), csoftmax.log_softmax(x)
                    loss, grad = csoftmax.cross_entropy(x, y, reduction="none",
                                                        return_grad=True)
                    in_place = x.copy()
                    assert csoftmax.softmax(in_place, out=in_place) is in_place
                    assert in_place.tobytes() == soft.tobytes()
                    ref = scipy.special.softmax(x.astype(np.float64), axis=1)
                    np.testing.assert_allclose(soft, ref, rtol=rtol(dtype), atol=prob_atol(dtype))
                    np.testing.assert_allclose(
                        grad, ref - np.eye(n)[y], rtol=rtol(dtype),
                        atol=4 * np.finfo(dtype).eps)
                    dy = rng.standard_normal((rows, n)).astype(dtype)
                    vjp = csoftmax.softmax_vjp(soft, dy)
                    log_vjp = csoftmax.log_softmax_vjp(logs, dy)
                    into_dy = dy.copy()
                    assert csoftmax.softmax_vjp(soft, into_dy, out=into_dy) is into_dy
                    assert into_dy.tobytes() == vjp.tobytes()
                    s64, dy64 = soft.astype(np.float64), dy.astype(np.float64)
                    finite = np.isfinite(s64).all(axis=1)
                    want = s64 * (dy64 - (s64 * dy64).sum(axis=1, keepdims=True))
                    np.testing.assert_allclose(vjp[finite], want[finite], rtol=rtol(dtype),
                                               atol=8 * np.finfo(dtype).eps)
                    want = dy64 - np.exp(logs.astype(np.float64)) * dy64.sum(axis=1, keepdims=True)
                    np.testing.assert_allclose(log_vjp[finite], want[finite], rtol=rtol(dtype),
                                               atol=8 * np.finfo(dtype).eps * np.abs(dy64).sum())
                    got += [soft, logs, loss, grad, vjp, log_vjp]
            outputs[path] = b"".join(a.tobytes() for a in got)
    finally:
        csoftmax.set_simd_backend(previous)
    assert len(set(outputs.values())) == 1, list(outputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (1, 5), (37, 10), (19, 40)])
@pytest.mark.parametrize("fn", [csoftmax.softmax, csoftmax.log_softmax])
def test_direct_call_matches_general_path(fn, shape, dtype):
    # The common call (C-contiguous float rows, last axis as an int) skips the general
    # path's checks; a tuple axis takes the general path. Both give the same bits.
    x = (3 * np.random.default_rng(0).standard_normal(shape)).astype(dtype)
    x.reshape(-1)[::7] = -np.inf
    fast = fn(x)
    general = fn(x, axis=(-1,))
    assert fn(x, n_threads=1).tobytes() == fn(x, n_threads=-1).tobytes() == fast.tobytes()
    assert fast.dtype == dtype and fast.shape == shape
    np.testing.assert_array_equal(fast, general)
    assert fast.tobytes() == general.tobytes()
    # a preallocated out is written in place, on the direct path too
    out = np.full(shape, np.nan, dtype)
    assert fn(x, out=out) is out
    assert out.tobytes() == general.tobytes()


@pytest.mark.parametrize("fn", [csoftmax.softmax, csoftmax.log_softmax])
def test_out_overlapping_the_input_is_not_written_early(fn):
    # out a shifted view of x's buffer: neither x nor a fresh array; the result must be that
    # of the untouched input
    buf = np.random.default_rng(3).standard_normal(2 * 6 + 1).astype(np.float32)
    x, out = buf[:12].reshape(2, 6), buf[1:13].reshape(2, 6)
    want = fn(x.copy())
    assert fn(x, out=out) is out
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (37, 10), (19, 40), (3, 1000)])
@pytest.mark.parametrize("fn", [csoftmax.softmax_vjp, csoftmax.log_softmax_vjp])
def test_direct_vjp_matches_general_path(fn, shape, dtype):
    rng = np.random.default_rng(1)
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    y = csoftmax.softmax(x) if fn is csoftmax.softmax_vjp else csoftmax.log_softmax(x)
    dy = rng.standard_normal(shape).astype(dtype)
    fast = fn(y, dy)
    assert fast.tobytes() == fn(y, dy, axis=(-1,)).tobytes()
    assert fast.tobytes() == fn(y, dy, n_threads=1).tobytes()
    in_place = y.copy()
    assert fn(in_place, dy, out=in_place) is in_place
    assert in_place.tobytes() == fast.tobytes()
    into_dy = dy.copy()
    assert fn(y, into_dy, out=into_dy) is into_dy
    assert into_dy.tobytes() == fast.tobytes()
    out = np.empty_like(y)
    assert fn(y, dy, out=out) is out
    assert out.tobytes() == fast.tobytes()
    with pytest.raises(ValueError, match="dy has shape"):
        fn(y, dy[..., :-1])


def test_row_entry_takes_arrays_in_the_kernel_layout_only():
    # _core.rows, the one entry of the row kernels, runs arrays already in the kernel's
    # layout and hands everything else back (None) to csoftmax.functional, which validates
    # and converts it; what it runs has the bits of the converted call.
    from csoftmax import _core

    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    dy = rng.standard_normal((6, 5)).astype(np.float32)
    sm, vjp = _core.ROW_SOFTMAX, _core.ROW_SOFTMAX_VJP
    got = _core.rows(sm, x, None, None, -1, 2)
    assert got.tobytes() == csoftmax.softmax(x, axis=(1,)).tobytes()
    read_only = x.copy()
    read_only.flags.writeable = False
    assert _core.rows(sm, read_only, None, None, 1, 2).tobytes() == got.tobytes()
    out = np.empty_like(x)
    assert _core.rows(sm, x, None, out, -1, 1) is out
    assert _core.rows(sm, x[0], None, None, 0, 1).tobytes() == got[0].tobytes()
    assert _core.rows(vjp, got, dy, dy, -1, 1) is dy  # in place into dy

    buf = np.zeros(31, np.float32)
    x_in_buf = buf[:30].reshape(6, 5)
    x_in_buf[...] = x
    handed_back = [
        (sm, x.T, None, None, -1, 1),  # not C-contiguous
        (sm, x.astype(np.float16), None, None, -1, 1),  # not a native dtype
        (sm, x.astype(x.dtype.newbyteorder()), None, None, -1, 1),  # byte-swapped
        (sm, x.reshape(2, 3, 5), None, None, -1, 1),  # 3-D
        (sm, x[:0], None, None, -1, 1),  # empty
        (sm, x.view(np.matrix), None, None, -1, 1),  # a subclass
        (sm, x.tolist(), None, None, -1, 1),  # not an array
        (sm, x, None, None, 0, 1),  # not the last axis
        (sm, x, None, None, np.int64(-1), 1),  # a NumPy int axis
        (sm, x, None, None, (-1,), 1),  # a tuple axis
        (sm, x, None, np.empty((6, 5)), -1, 1),  # out of another dtype
        (sm, x, None, np.empty((5, 6), np.float32), -1, 1),  # out of another shape
        (sm, x, None, read_only, -1, 1),  # out not writeable
        (sm, x_in_buf, None, buf[1:].reshape(6, 5), -1, 1),  # out overlaps x partly
        (vjp, got, dy.astype(np.float64), None, -1, 1),  # dy of another dtype
        (vjp, got, dy[:, :4].copy(), None, -1, 1),  # dy of another shape
        (vjp, got, dy.T.copy().T, None, -1, 1),  # dy not C-contiguous
        (vjp, got, None, None, -1, 1),  # no dy
    ]
    for args in handed_back:
        assert _core.rows(*args) is None, args
    # the thread count reaches the entry resolved, by csoftmax._utils.check_n_threads
    with pytest.raises(TypeError):
        _core.rows(sm, x, None, None, -1, None)
    for n_threads in (-1, -2, 1, 2, 10**6):
        assert csoftmax.softmax(x, n_threads=n_threads).tobytes() == got.tobytes()
    with pytest.raises(ValueError, match="n_threads=0"):
        csoftmax.softmax(x, n_threads=0)
    with pytest.raises(TypeError, match="n_threads"):
        csoftmax.softmax(x, n_threads=True)
