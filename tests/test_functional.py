"""Tests of the softmax kernels in :mod:`csoftmax.functional`.

This module proves that ``softmax``, ``log_softmax``, ``softmax_jacobian``,
``softmax_vjp`` and ``log_softmax_vjp``

- agree with references a reader can trust, all computed in float64:
  :func:`scipy.special.softmax` and :func:`scipy.special.log_softmax`, the
  closed-form Jacobian ``diag(s) - s s^T`` (itself checked by central finite
  differences), and ``J.T @ g`` for the vector-Jacobian products;
- meet the documented accuracy: float32 within rtol 2e-5 of a float64 reference
  computed from the same float32 values, float64 within rtol 1e-10;
- accept any axis, C/Fortran/strided/negative-stride/non-native-byte-order
  input, read-only and memory-mapped input, ``out=`` and in-place operation,
  empty and 0-d arrays, and compute integer/bool/float16 input in float64;
- follow the row rule: a row that is all -inf, or contains +inf or NaN, becomes
  NaN and no other row is affected; other -inf entries get probability exactly 0;
- keep the invariants (shift invariance, rows sum to 1, exp(log_softmax) equals
  softmax, J symmetric with J @ 1 = 0);
- reject every bad input with the documented exception, naming the argument.

Bitwise equality across ``n_threads`` and thread safety are proved in
``test_concurrency.py``; SIMD-path agreement in ``test_build.py``.
"""

import numpy as np
from numerics import assert_close_scaled
import pytest
import scipy.special
from numpy.exceptions import AxisError

import csoftmax

# ---------------------------------------------------------------------------
# Tolerances (DESIGN.md: float32 rtol 2e-5, float64 rtol 1e-10).
# ---------------------------------------------------------------------------

DTYPES = [np.float32, np.float64]
N_THREADS = [1, 2]

RTOL = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-10}

# Probabilities may underflow. float32 holds nothing below ~1.4e-45 and loses
# relative precision below 1.2e-38 (subnormals); float64 likewise below
# 2.2e-308. An atol far below every normal number forgives only that.
PROB_ATOL = {np.dtype(np.float32): 1e-30, np.dtype(np.float64): 1e-300}

# log_softmax_j = (x_j - max) - log(S), S = sum_k exp(x_k - max) in [1, C].
# Both terms are <= 0, so there is no cancellation, but log(S) carries an
# *absolute* error equal to the relative error of S: entries near 0 (a dominant
# class, e.g. -9.36e-14 for the row [0, -30]) can only be checked absolutely.
# S accumulates in double (or wider) in any order: its relative error is at most
# gamma_C ~ C * eps64 (Higham's bound for summing C positive terms), plus a few
# ulps of the result dtype when rounding. Scipy itself is off by 1e-16 there.
def log_atol(dtype, n_classes=1):
    return 8 * np.finfo(dtype).eps + n_classes * np.finfo(np.float64).eps


# Quantities that cancel (Jacobian entries s_i - s_i^2, VJP terms
# dy - sum(dy * y)) are checked relative to the magnitude of the terms that
# cancel ("componentwise relative error"): |actual - ref| <= rtol * scale + tiny.


def rtol(dtype):
    return RTOL[np.dtype(dtype)]


def prob_atol(dtype):
    return PROB_ATOL[np.dtype(dtype)]


def nan_rows(x64, axis):
    """Mask (keepdims) of the rows the row rule turns into NaN."""
    all_neg_inf = np.all(x64 == -np.inf, axis=axis, keepdims=True)
    poisoned = np.any(np.isnan(x64) | (x64 == np.inf), axis=axis, keepdims=True)
    return all_neg_inf | poisoned


def ref_softmax(x, axis=-1):
    """scipy.special.softmax in float64, with the row rule applied explicitly."""
    x64 = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        s = scipy.special.softmax(x64, axis=axis)
    return np.where(nan_rows(x64, axis), np.nan, s)


def ref_log_softmax(x, axis=-1):
    """scipy.special.log_softmax in float64, with the row rule applied explicitly.

    (scipy leaves -inf beside a +inf in a row; the csoftmax rule makes the whole
    row NaN, as PyTorch does.)
    """
    x64 = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        ls = scipy.special.log_softmax(x64, axis=axis)
    return np.where(nan_rows(x64, axis), np.nan, ls)


def ref_jacobian(x, axis=-1):
    """Closed-form Jacobian diag(s) - s s^T of the float64 reference softmax.

    Returns ``(J, scale)`` of shape batch + (C, C), where ``scale`` is the
    magnitude of the terms, diag(s) + s s^T, used for a componentwise tolerance.
    """
    s = np.moveaxis(ref_softmax(x, axis), axis, -1)
    eye = np.eye(s.shape[-1])
    outer = s[..., :, None] * s[..., None, :]
    diag = s[..., :, None] * eye
    return diag - outer, np.abs(diag) + np.abs(outer)


def ref_softmax_vjp(y, dy, axis=-1):
    """J.T @ dy with J = diag(y) - y y^T built from y cast to float64.

    Returns ``(vjp, scale)``; scale = |y| (|dy| + sum|dy| |y|) bounds the terms
    that cancel.
    """
    y64 = np.moveaxis(np.asarray(y, dtype=np.float64), axis, -1)
    g = np.moveaxis(np.asarray(dy, dtype=np.float64), axis, -1)
    if y64.shape[-1] <= 512:
        jac = y64[..., :, None] * np.eye(y64.shape[-1]) - y64[..., :, None] * y64[..., None, :]
        vjp = np.einsum("...ij,...i->...j", jac, g)  # (J.T @ g)_j = sum_i J_ij g_i
    else:  # wide rows: the same product without materialising C x C blocks
        vjp = y64 * g - y64 * np.sum(y64 * g, axis=-1, keepdims=True)
    scale = np.abs(y64) * (np.abs(g) + np.sum(np.abs(g) * np.abs(y64), axis=-1, keepdims=True))
    return np.moveaxis(vjp, -1, axis), np.moveaxis(scale, -1, axis)


def ref_log_softmax_vjp(y, dy, axis=-1):
    """J.T @ dy with J_ij = d log_softmax_i / d x_j = delta_ij - s_j, s = exp(y).

    Returns ``(vjp, scale)``; scale = |dy| + s sum|dy|.
    """
    s = np.exp(np.moveaxis(np.asarray(y, dtype=np.float64), axis, -1))
    g = np.moveaxis(np.asarray(dy, dtype=np.float64), axis, -1)
    if s.shape[-1] <= 512:
        jac = np.eye(s.shape[-1]) - s[..., None, :]
        vjp = np.einsum("...ij,...i->...j", jac, g)
    else:  # wide rows: the same product without materialising C x C blocks
        vjp = g - s * np.sum(g, axis=-1, keepdims=True)
    scale = np.abs(g) + s * np.sum(np.abs(g), axis=-1, keepdims=True)
    return np.moveaxis(vjp, -1, axis), np.moveaxis(scale, -1, axis)


def check_forward(name, actual, x, axis, dtype):
    """Compare a softmax/log_softmax result against the float64 reference."""
    if name == "softmax":
        np.testing.assert_allclose(actual, ref_softmax(x, axis), rtol=rtol(dtype), atol=prob_atol(dtype))
    else:
        n_classes = np.shape(x)[axis] if np.ndim(x) else 1
        np.testing.assert_allclose(
            actual, ref_log_softmax(x, axis), rtol=rtol(dtype), atol=log_atol(dtype, n_classes)
        )


def check_jacobian(actual, x, axis, dtype):
    ref, scale = ref_jacobian(x, axis)
    assert_close_scaled(actual, ref, rtol(dtype) * scale + prob_atol(dtype))


FORWARD = {"softmax": csoftmax.softmax, "log_softmax": csoftmax.log_softmax}
VJP = {"softmax_vjp": csoftmax.softmax_vjp, "log_softmax_vjp": csoftmax.log_softmax_vjp}


def random_logits(shape, dtype, seed=0, scale=3.0):
    """Normal logits, rounded to ``dtype`` (references then use those values)."""
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal(shape)).astype(dtype)


def vjp_inputs(name, x, dtype, axis, seed=1):
    """(y, dy) for a VJP: y is the float64 reference forward output cast to dtype."""
    rng = np.random.default_rng(seed)
    fwd = ref_softmax if name == "softmax_vjp" else ref_log_softmax
    y = fwd(x, axis).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    return y, dy


def check_vjp(name, actual, y, dy, axis, dtype):
    ref_fn = ref_softmax_vjp if name == "softmax_vjp" else ref_log_softmax_vjp
    ref, scale = ref_fn(y, dy, axis)
    assert_close_scaled(actual, ref, rtol(dtype) * scale + prob_atol(dtype))


# ---------------------------------------------------------------------------
# Input layouts
# ---------------------------------------------------------------------------

LAYOUTS = ["C", "readonly", "memmap", "fortran", "strided", "negative_strides", "byteswapped"]


def make_layout(a, layout, tmp_path, name="x"):
    """Return an array equal to the 2-D array ``a`` with the requested memory layout."""
    if layout == "C":
        return np.array(a, order="C")
    if layout == "readonly":
        b = np.array(a, order="C")
        b.setflags(write=False)
        return b
    if layout == "memmap":
        path = tmp_path / f"{name}.dat"
        w = np.memmap(path, dtype=a.dtype, mode="w+", shape=a.shape)
        w[...] = a
        w.flush()
        del w
        return np.memmap(path, dtype=a.dtype, mode="r", shape=a.shape)
    if layout == "fortran":
        b = np.asfortranarray(a)
        assert not b.flags.c_contiguous
        return b
    if layout == "strided":
        big = np.zeros((2 * a.shape[0], 3 * a.shape[1]), dtype=a.dtype)
        big[::2, ::3] = a
        return big[::2, ::3]
    if layout == "negative_strides":
        b = a[::-1, ::-1].copy()[::-1, ::-1]
        assert b.strides[0] < 0 and b.strides[1] < 0
        return b
    if layout == "byteswapped":  # non-native byte order on any machine (">f8" here)
        b = a.astype(a.dtype.newbyteorder())
        assert not b.dtype.isnative
        return b
    raise AssertionError(layout)


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

INF, NAN = np.inf, np.nan
ROW_RULE_ROWS = np.array(
    [
        [0.5, -1.0, 2.0, 0.0, 1.5],  # 0 ordinary
        [-INF, -INF, -INF, -INF, -INF],  # 1 all -inf      -> NaN
        [0.0, INF, 1.0, -2.0, 3.0],  # 2 contains +inf  -> NaN
        [1.0, 2.0, NAN, 0.0, -1.0],  # 3 contains NaN   -> NaN
        [1.0, -INF, 2.0, -INF, 0.5],  # 4 masked entries -> exactly 0 / -inf
        [-INF, INF, -INF, 0.0, 1.0],  # 5 +inf and -inf  -> NaN
        [-INF, -INF, 3.0, -INF, -INF],  # 6 a single finite entry -> exactly 1 / 0
        [-2.0, 0.0, 1.0, 2.0, -0.5],  # 7 ordinary
    ]
)
NAN_ROWS = [1, 2, 3, 5]
GOOD_ROWS = [0, 4, 6, 7]


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
# softmax_jacobian
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["C", "readonly", "memmap", "fortran", "strided", "byteswapped"])
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


# ---------------------------------------------------------------------------
# softmax_vjp / log_softmax_vjp
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["C", "readonly", "memmap", "fortran", "strided", "byteswapped"])
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
        return VJP[name](np.full(x.shape, 0.25, dtype=x.dtype), x, **kwargs)
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
    with pytest.raises(ValueError, match="out"):
        _call(name, x, out=np.empty((4, 6), dtype=np.float32))
    with pytest.raises(ValueError, match="out"):
        _call(name, x.astype(np.float32), out=np.empty((4, 6), dtype=np.float64))
    with pytest.raises(ValueError, match="out"):
        _call(name, x.astype(np.int64), out=np.empty((4, 6), dtype=np.float32))
    read_only = np.empty((4, 6))
    read_only.setflags(write=False)
    with pytest.raises(ValueError, match="out"):
        _call(name, x, out=read_only)


@pytest.mark.parametrize("axis", [2, -3, 10])
@pytest.mark.parametrize("name", ALL_NAMES)
def test_axis_out_of_range(name, axis):
    x = random_logits((4, 6), np.float64, seed=24)
    with pytest.raises(AxisError, match="axis"):
        _call(name, x, axis=axis)


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
