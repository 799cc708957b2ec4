"""The ``where=`` mask of softmax, log_softmax and both VJPs (JAX's semantics), and
softmax_vjp's refusal of a `y` that cannot be a softmax output.

Masked results are checked against a float64 NumPy formula and central finite differences,
in float32 and float64, on every SIMD path this CPU runs and at widths that take the narrow
and the row kernels; an all-True mask against no mask, bit for bit; and, when JAX is
installed, against ``jax.nn.softmax`` / ``jax.nn.log_softmax`` and their gradients.
"""

import numpy as np
import pytest

import csoftmax
from helpers.simd import runnable_paths

DTYPES = [np.float32, np.float64]
# narrow rows (up to 2 x 64 bytes), the row loop's tails, and long rows
WIDTHS = [1, 3, 8, 13, 16, 24, 33, 64, 100, 1000]


PATHS = runnable_paths()


@pytest.fixture(params=PATHS)
def path(request):
    previous = csoftmax.simd_backend()
    csoftmax.set_simd_backend(request.param)
    try:
        yield request.param
    finally:
        csoftmax.set_simd_backend(previous)


def _case(n, dtype, seed, rows=11):
    """Logits and a mask with a fully masked row, a fully kept row and masked entries that
    hold NaN and inf (which must not matter)."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, n)) * 4).astype(dtype)
    w = rng.random((rows, n)) < 0.6
    w[0] = False
    w[1] = True
    w[2:, 0] = True  # every other row keeps at least one element
    x[3][~w[3]] = np.nan
    x[4][~w[4]] = np.inf
    return x, w


def ref_softmax(x, w):
    """Masked softmax in float64 (JAX's definition): 0 where masked and in empty rows."""
    x = x.astype(np.float64)
    with np.errstate(invalid="ignore"):
        m = np.where(w, x, -np.inf).max(axis=-1, keepdims=True)
        e = np.where(w, np.exp(np.where(w, x, m) - m), 0.0)
        s = e / e.sum(axis=-1, keepdims=True)
    return np.where(w, s, 0.0)


def ref_log_softmax(x, w):
    x = x.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(w, x, -np.inf).max(axis=-1, keepdims=True)
        lse = np.log(np.where(w, np.exp(np.where(w, x, m) - m), 0.0).sum(-1, keepdims=True))
        return np.where(w, (x - m) - lse, -np.inf)


def _tol(dtype):
    return dict(rtol=2e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", WIDTHS)
def test_forward_matches_the_float64_formula(path, n, dtype):
    x, w = _case(n, dtype, seed=n)
    s = csoftmax.softmax(x, where=w)
    ls = csoftmax.log_softmax(x, where=w)
    assert s.dtype == dtype and ls.dtype == dtype
    np.testing.assert_allclose(s, ref_softmax(x, w), **_tol(dtype))
    ref = ref_log_softmax(x, w)
    assert np.array_equal(np.isneginf(ls), np.isneginf(ref))
    keep = np.isfinite(ref)
    np.testing.assert_allclose(ls[keep], ref[keep], rtol=_tol(dtype)["rtol"],
                               atol=_tol(dtype)["rtol"] * 10)
    assert np.all(s[0] == 0) and np.all(np.isneginf(ls[0]))  # fully masked row
    assert np.all(s[~w] == 0)
    np.testing.assert_allclose(s[1:].sum(axis=1), 1.0, rtol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", WIDTHS)
def test_vjps_match_the_float64_formula(path, n, dtype):
    x, w = _case(n, dtype, seed=100 + n)
    g = np.random.default_rng(n).standard_normal(x.shape).astype(dtype)
    g64 = g.astype(np.float64)
    s = csoftmax.softmax(x, where=w)
    got = csoftmax.softmax_vjp(s, g, where=w)
    s64 = s.astype(np.float64)
    dot = np.sum(np.where(w, s64 * g64, 0.0), axis=-1, keepdims=True)
    np.testing.assert_allclose(got, np.where(w, s64 * (g64 - dot), 0.0), **_tol(dtype))
    ls = csoftmax.log_softmax(x, where=w)
    got = csoftmax.log_softmax_vjp(ls, g, where=w)
    total = np.sum(np.where(w, g64, 0.0), axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        expected = np.where(w, g64 - np.exp(ls.astype(np.float64)) * total, 0.0)
    np.testing.assert_allclose(got, expected, **_tol(dtype))
    assert np.all(got[0] == 0) and np.all(got[~w] == 0)


def _fd_grad(f, x, h):
    """Central differences of the scalar f at every element of x (float64)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        grad[idx] = (f(xp) - f(xm)) / (2 * h)
    return grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [3, 17, 40])
def test_vjps_match_finite_differences(n, dtype):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((5, n))
    w = rng.random((5, n)) < 0.6
    w[0] = False
    w[1:, 0] = True
    g = rng.standard_normal((5, n))

    def loss_soft(z):
        return np.sum(csoftmax.softmax(z, where=w) * g)

    def loss_log(z):
        return np.sum(np.where(w, csoftmax.log_softmax(z, where=w), 0.0) * g)

    for loss, fwd, vjp in [(loss_soft, csoftmax.softmax, csoftmax.softmax_vjp),
                           (loss_log, csoftmax.log_softmax, csoftmax.log_softmax_vjp)]:
        fd = _fd_grad(loss, x, 1e-6)
        xd, gd = x.astype(dtype), g.astype(dtype)
        got = vjp(fwd(xd, where=w), gd, where=w)
        tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(got, fd, **tol)
        assert np.all(got[~w] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", WIDTHS)
def test_all_true_mask_gives_the_bits_of_no_mask(path, n, dtype):
    x, _ = _case(n, dtype, seed=200 + n)
    x[5, 0] = -np.inf
    x[6, :] = -np.inf  # an undefined row: NaN either way
    w = np.ones(x.shape, bool)
    g = np.random.default_rng(n).standard_normal(x.shape).astype(dtype)
    s, ls = csoftmax.softmax(x), csoftmax.log_softmax(x)
    pairs = [(csoftmax.softmax(x, where=w), s), (csoftmax.log_softmax(x, where=w), ls),
             (csoftmax.softmax_vjp(s, g, where=w), csoftmax.softmax_vjp(s, g)),
             (csoftmax.log_softmax_vjp(ls, g, where=w), csoftmax.log_softmax_vjp(ls, g))]
    for masked, plain in pairs:
        assert masked.tobytes() == plain.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [5, 24, 1000])
def test_masked_results_are_bitwise_equal_on_any_thread_count(n, dtype):
    x, w = _case(n, dtype, seed=300 + n, rows=300)
    g = np.ones_like(x)
    for fn in (csoftmax.softmax, csoftmax.log_softmax):
        one = fn(x, where=w, n_threads=1)
        assert fn(x, where=w, n_threads=2).tobytes() == one.tobytes()
    s = csoftmax.softmax(x, where=w)
    one = csoftmax.softmax_vjp(s, g, where=w, n_threads=1)
    assert csoftmax.softmax_vjp(s, g, where=w, n_threads=2).tobytes() == one.tobytes()


def test_mask_broadcasts_and_follows_the_axis():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6))
    cols = np.array([True, False, True, True, False, True])
    np.testing.assert_array_equal(csoftmax.softmax(x, where=cols),
                                  csoftmax.softmax(x, where=np.broadcast_to(cols, x.shape)))
    rows = np.array([[True], [False], [True], [True]])
    got = csoftmax.softmax(x, where=rows)
    assert np.all(got[1] == 0) and np.allclose(got[[0, 2, 3]].sum(axis=1), 1)
    w = rng.random((4, 6)) < 0.5
    w[0] = True
    np.testing.assert_array_equal(csoftmax.softmax(x, axis=0, where=w),
                                  csoftmax.softmax(x.T, where=w.T).T)
    x3, w3 = rng.standard_normal((2, 3, 4)), rng.random((2, 3, 4)) < 0.5
    got = csoftmax.softmax(x3, axis=(1, 2), where=w3)
    ref = ref_softmax(x3.reshape(2, 12), w3.reshape(2, 12)).reshape(2, 3, 4)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-15)
    assert csoftmax.softmax(np.float64(3.0), where=np.bool_(False)) == 0
    assert csoftmax.log_softmax(np.float64(3.0), where=True) == 0


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmax_vjp", "log_softmax_vjp"])
def test_bad_masks_are_refused_naming_where(name):
    x = np.full((3, 4), 0.25)
    args = (x, x) if name.endswith("vjp") else (x,)
    fn = getattr(csoftmax, name)
    for bad in [np.ones((3, 4), dtype=np.int64), np.ones((3, 4), dtype=np.float64), "yes"]:
        with pytest.raises(TypeError, match="where must be a bool array"):
            fn(*args, where=bad)
    for bad in [np.ones((3, 5), bool), np.ones((4,), bool)[:3], np.ones((2, 3, 4), bool)]:
        with pytest.raises(ValueError, match="where has shape"):
            fn(*args, where=bad)


def test_mask_sharing_memory_with_out_is_read_before_it_is_overwritten():
    """A float out= whose buffer holds the mask's bytes: the kernel gets a copy of the mask."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 8))
    buf = np.zeros(4 * 8, dtype=np.float64)
    w = buf.view(np.uint8)[: 4 * 8].view(bool).reshape(4, 8)
    w[...] = rng.random((4, 8)) < 0.5
    w[:, 0] = True
    expected = csoftmax.softmax(x, where=w.copy())
    out = buf.reshape(4, 8)
    assert csoftmax.softmax(x, where=w, out=out) is out
    np.testing.assert_array_equal(out, expected)


# ---- softmax_vjp refuses what cannot be a softmax output ---------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [2, 5, 16, 24, 100, 50_000])
def test_softmax_vjp_refuses_logits(path, n, dtype):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((6, n)) * 2).astype(dtype)
    g = rng.standard_normal((6, n)).astype(dtype)
    with pytest.raises(ValueError, match=r"y is not a softmax output.*not the logits"):
        csoftmax.softmax_vjp(x, g)
    # one bad row among good ones is found, and named
    s = csoftmax.softmax(x)
    s[4] = x[4]
    with pytest.raises(ValueError, match="slice 4 "):
        csoftmax.softmax_vjp(s, g)
    # logits that happen to be in [0, 1] but do not sum to 1
    with pytest.raises(ValueError, match="not a softmax output"):
        csoftmax.softmax_vjp(np.abs(x) / (np.abs(x).sum(axis=1, keepdims=True) * 0.9), g)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [2, 5, 16, 24, 100, 50_000])
def test_softmax_vjp_accepts_genuine_softmax_outputs(path, n, dtype):
    rng = np.random.default_rng(n)
    g = rng.standard_normal((5, n)).astype(dtype)
    x = rng.standard_normal((5, n)) * np.array([[1], [30], [1e3], [1e5], [0]])
    x[4, 0] = 1e4  # one-hot after rounding: every other entry underflows to 0
    one_hot = np.zeros((5, n), dtype=dtype)
    one_hot[np.arange(5), np.arange(5) % n] = 1
    for s in [csoftmax.softmax(x.astype(dtype)),
              # from other implementations, in the dtype (SciPy's formula rounded)
              np.exp(x - x.max(axis=1, keepdims=True)).astype(dtype)
              / np.exp(x - x.max(axis=1, keepdims=True)).astype(dtype).sum(axis=1,
                                                                             keepdims=True),
              one_hot]:
        out = csoftmax.softmax_vjp(s, g[: len(s)])
        assert np.all(np.isfinite(out))


def test_softmax_vjp_check_follows_the_input_dtype_and_masks():
    x = np.random.default_rng(0).standard_normal((4, 300))
    g = np.ones_like(x)
    s32 = csoftmax.softmax(x.astype(np.float32))
    csoftmax.softmax_vjp(s32, g)  # float32 y, float64 result: float32's rounding allowed
    csoftmax.softmax_vjp(csoftmax.softmax(x).astype(np.float16), g.astype(np.float32))
    w = np.ones(x.shape, bool)
    w[1] = False
    sw = csoftmax.softmax(x, where=w)
    csoftmax.softmax_vjp(sw, g, where=w)  # a fully masked row sums to 0
    with pytest.raises(ValueError, match="or 0 where all is masked"):
        csoftmax.softmax_vjp(x, g, where=w)
    with pytest.raises(ValueError, match="slice 1 "):
        csoftmax.softmax_vjp(sw, g)  # without the mask, row 1 sums to 0
    nan_row = csoftmax.softmax(np.array([[0.0, np.nan], [0.0, 1.0]]))
    out = csoftmax.softmax_vjp(nan_row, np.ones((2, 2)))  # an undefined row stays NaN
    assert np.all(np.isnan(out[0])) and np.all(np.isfinite(out[1]))


# ---- JAX -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [4, 24, 300])
def test_matches_jax_results_and_gradients(n):
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    x, w = _case(n, np.float64, seed=400 + n)
    x[5, :] = -np.inf
    w[5] = True  # kept but all -inf: NaN, as in JAX
    g = np.random.default_rng(n).standard_normal(x.shape)
    s = csoftmax.softmax(x, where=w)
    ls = csoftmax.log_softmax(x, where=w)
    np.testing.assert_allclose(s, np.asarray(jax.nn.softmax(x, where=w)),
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ls, np.asarray(jax.nn.log_softmax(x, where=w)),
                               rtol=1e-13, atol=1e-15)

    def loss_soft(z):
        return jnp.sum(jax.nn.softmax(z, where=w) * g)

    def loss_log(z):
        return jnp.sum(jnp.where(w, jax.nn.log_softmax(z, where=w), 0.0) * g)

    np.testing.assert_allclose(csoftmax.softmax_vjp(s, g, where=w),
                               np.asarray(jax.grad(loss_soft)(x)), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(csoftmax.log_softmax_vjp(ls, g, where=w),
                               np.asarray(jax.grad(loss_log)(x)), rtol=1e-12, atol=1e-14)
