"""Inputs ``csoftmax.MLPClassifier`` accepts, and the dtype it trains in.

Sparse matrices, integer and list input, any memory layout and string labels
give the model their dense float64 / integer-label equivalents give; float32
input (or ``dtype=np.float32``) trains in float32 and stays close to
scikit-learn's float32 fit; float64 is kept otherwise.
"""

import sys

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network import MLPClassifier as SKMLPClassifier

from csoftmax import MLPClassifier

from helpers.estimator import (
    ATOL,
    DIGIT_NAMES,
    DIGITS,
    IGNORE_CONVERGENCE,
    LBFGS_ATOL,
    LBFGS_RTOL,
    RTOL,
    X_SMALL,
    Y_SMALL,
    Y_STRING,
    assert_same_model,
    fit_both,
    make_params,
)


# ---------------------------------------------------------------------------
# Inputs: dense/sparse, label types
# ---------------------------------------------------------------------------
@IGNORE_CONVERGENCE
@pytest.mark.parametrize("fmt", ["csr", "csc", "csr_array"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_sparse_input_same_as_dense(fmt, solver):
    # digits are ~50% zeros: a genuinely sparse matrix
    Xs = {"csr": sp.csr_matrix, "csc": sp.csc_matrix, "csr_array": sp.csr_array}[fmt](X_SMALL)
    params = make_params(solver=solver, max_iter=10 if solver == "lbfgs" else 4)
    dense = MLPClassifier(**params).fit(X_SMALL, Y_SMALL)
    sparse = MLPClassifier(**params).fit(Xs, Y_SMALL)
    rtol, atol = (LBFGS_RTOL, LBFGS_ATOL) if solver == "lbfgs" else (RTOL, ATOL)
    for a, b in zip(dense.coefs_ + dense.intercepts_, sparse.coefs_ + sparse.intercepts_):
        assert_allclose(b, a, rtol=rtol, atol=atol)
    assert_array_equal(sparse.predict(Xs), dense.predict(X_SMALL))
    assert_allclose(dense.predict_proba(Xs), dense.predict_proba(X_SMALL), rtol=1e-12, atol=1e-15)
    assert_allclose(dense.predict_log_proba(Xs), dense.predict_log_proba(X_SMALL),
                    rtol=1e-12, atol=1e-12)
    sk = SKMLPClassifier(**params).fit(Xs, Y_SMALL)
    assert_same_model(sparse, sk, Xs, rtol=rtol, atol=atol)


@IGNORE_CONVERGENCE
def test_integer_and_list_inputs():
    Xi = DIGITS.data[:300].astype(np.int64)  # integer pixels: converted to float64
    cs, sk = fit_both(make_params(max_iter=3), Xi, Y_SMALL[:300])
    assert cs.coefs_[0].dtype == np.float64
    assert_same_model(cs, sk, Xi)
    cs2 = MLPClassifier(**make_params(max_iter=3)).fit(Xi.tolist(), Y_SMALL[:300].tolist())
    for a, b in zip(cs.coefs_, cs2.coefs_):
        assert_array_equal(a, b)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_memory_layout_does_not_matter(solver):
    params = make_params(solver=solver, max_iter=10 if solver == "lbfgs" else 3)
    wide = np.repeat(X_SMALL, 2, axis=1)  # strided view below: every other column
    layouts = {
        "C": np.ascontiguousarray(X_SMALL),
        "F": np.asfortranarray(X_SMALL),
        "strided": wide[:, ::2],
        "readonly": np.ascontiguousarray(X_SMALL),
    }
    layouts["readonly"].flags.writeable = False
    ref = MLPClassifier(**params).fit(layouts["C"], Y_SMALL)
    for name, X in layouts.items():
        clf = MLPClassifier(**params).fit(X, Y_SMALL)
        for a, b in zip(clf.coefs_ + clf.intercepts_, ref.coefs_ + ref.intercepts_):
            assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=name)
        assert_array_equal(ref.predict_proba(X), ref.predict_proba(layouts["C"]), err_msg=name)


@IGNORE_CONVERGENCE
def test_string_labels_equal_integer_labels():
    ints = MLPClassifier(**make_params()).fit(X_SMALL, Y_SMALL)
    # names sorted alphabetically give a different class order: map back
    strs = MLPClassifier(**make_params()).fit(X_SMALL, Y_STRING)
    assert_array_equal(strs.classes_, np.sort(DIGIT_NAMES))
    assert set(strs.predict(X_SMALL)) <= set(DIGIT_NAMES)
    order = np.argsort(DIGIT_NAMES)  # integer class for each sorted name
    relabel = MLPClassifier(**make_params()).fit(X_SMALL, np.argsort(order)[Y_SMALL])
    for a, b in zip(strs.coefs_, relabel.coefs_):
        assert_array_equal(a, b)
    assert_array_equal(strs.predict(X_SMALL), DIGIT_NAMES[order][relabel.predict(X_SMALL)])
    assert ints.classes_.dtype.kind == "i"


# ---------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------
@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_dtype_is_kept(solver, dtype):
    X = X_SMALL.astype(dtype)
    clf = MLPClassifier(**make_params(solver=solver, max_iter=3)).fit(X, Y_SMALL)
    assert all(c.dtype == dtype for c in clf.coefs_)
    assert all(b.dtype == dtype for b in clf.intercepts_)
    proba = clf.predict_proba(X)
    assert proba.dtype == dtype
    assert clf.predict_log_proba(X).dtype == dtype
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5 if dtype == np.float32 else 1e-12)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver_params", [
    dict(solver="adam"), dict(solver="sgd", learning_rate_init=0.05),
], ids=["adam", "sgd"])
def test_float32_close_to_sklearn_float32(solver_params):
    # scikit-learn's float32 path mixes float64 scalars into the update, so
    # only a loose comparison is meaningful; float32 vs float64 drift after
    # these few epochs is ~3e-7 relative in scikit-learn itself.
    X = X_SMALL.astype(np.float32)
    cs, sk = fit_both(make_params(**solver_params), X, Y_SMALL)
    for a, b in zip(cs.coefs_ + cs.intercepts_, sk.coefs_ + sk.intercepts_):
        assert a.dtype == b.dtype == np.float32
        assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert_allclose(cs.loss_curve_, sk.loss_curve_, rtol=1e-5)
    assert_array_equal(cs.predict(X), sk.predict(X))


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("sparse", [False, True])
def test_dtype_float32_trains_in_float32(solver, sparse):
    X64 = sp.csr_matrix(X_SMALL) if sparse else X_SMALL
    X32 = X64.astype(np.float32)
    params = make_params(solver=solver, max_iter=3)
    forced = MLPClassifier(**params, dtype=np.float32).fit(X64, Y_SMALL)
    native = MLPClassifier(**params).fit(X32, Y_SMALL)
    for a, b in zip(forced.coefs_ + forced.intercepts_, native.coefs_ + native.intercepts_):
        assert a.dtype == np.float32
        assert_array_equal(a, b)  # same float32 computation
    assert_array_equal(forced.predict(X64), native.predict(X32))
    assert forced.loss_ == native.loss_
    proba = forced.predict_proba(X64)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("n", [1, 7, 32_768, 100_003])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_cast_kernel_rounds_as_numpy_and_finds_every_non_finite_value(n, n_threads):
    # float64 -> float32 in one pass with a finiteness flag (src_c/cs_cast.h): the values of
    # astype, subnormal results and float32's largest finite value included
    from csoftmax import _core

    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) * 10.0 ** rng.integers(-45, 38, n)
    x[: min(n, 3)] = [3.4028234663852886e38, 1e-45, -0.0][: min(n, 3)]
    out = np.empty(n, np.float32)
    assert _core.cast_f64_f32(x, out, n_threads) is True
    assert out.tobytes() == x.astype(np.float32).tobytes()
    for position in {0, n // 2, n - 1}:
        for bad in (np.nan, np.inf, -np.inf, 1e39, -3.5e38):
            y = x.copy()
            y[position] = bad
            assert _core.cast_f64_f32(y, out, n_threads) is False, (position, bad)
    with pytest.raises(ValueError, match="shapes"):
        _core.cast_f64_f32(x, np.empty(n + 1, np.float32), n_threads)


def _vm_flags(address):
    """The VmFlags of the mapping of this process that holds address (/proc/self/smaps)."""
    with open("/proc/self/smaps") as f:
        inside = False
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(h, 16) for h in head.split("-"))
                inside = lo <= address < hi
            elif inside and head == "VmFlags:":
                return set(line.split()[1:])
    raise AssertionError(f"no mapping holds {address:#x}")


def _madvise_shows_in_smaps():
    """None if MADV_NOHUGEPAGE given by this process shows as "nh" in /proc/self/smaps,
    else why not: a kernel without transparent huge pages, or an emulator (qemu-user)
    that does not pass the advice on to the host's kernel or emulates smaps without it."""
    import mmap

    if not sys.platform.startswith("linux") or not hasattr(mmap, "MADV_NOHUGEPAGE"):
        return "madvise advice is Linux's"
    region = mmap.mmap(-1, 4 * mmap.PAGESIZE)
    try:
        address = np.frombuffer(region, np.uint8).ctypes.data
        try:
            region.madvise(mmap.MADV_NOHUGEPAGE)
            if "nh" in _vm_flags(address):
                return None
        except (OSError, AssertionError) as exc:
            return f"MADV_NOHUGEPAGE cannot be seen in /proc/self/smaps here ({exc})"
        return "MADV_NOHUGEPAGE given by Python's mmap does not show in /proc/self/smaps here"
    finally:
        region.close()


@pytest.mark.parametrize("fresh", [False, True])
def test_fresh_cast_buffer_is_advised_small_pages(fresh):
    unseen = _madvise_shows_in_smaps()
    if unseen:
        pytest.skip(unseen)
    # a buffer the cast is told is new gets MADV_NOHUGEPAGE (smaps flag "nh") on the whole
    # pages inside it, not on the page it only starts in, and the same values; without the
    # flag its mapping is left alone. The buffer is a mapping of its own, so no earlier
    # advice (to a heap region NumPy may reuse) can reach it.
    import mmap

    from csoftmax import _core

    page = mmap.PAGESIZE
    n = 64 * page // 4
    region = mmap.mmap(-1, (n + 2 * page // 4) * 4)
    try:
        out = np.frombuffer(region, np.float32, count=n, offset=100)  # starts inside page 0
        x = np.random.default_rng(0).standard_normal(n)
        assert _core.cast_f64_f32(x, out, 2, fresh=fresh) is True
        assert out.tobytes() == x.astype(np.float32).tobytes()
        base = out.ctypes.data - 100
        assert "nh" not in _vm_flags(base)
        assert ("nh" in _vm_flags(base + page)) is fresh
        assert ("nh" in _vm_flags(base + 32 * page)) is fresh
        del out
    finally:
        region.close()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 100_003])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_finite_check_finds_every_non_finite_value(dtype, n, n_threads):
    # the check alone (src_c/cs_cast.h): extreme finite values and subnormals pass; NaN and
    # either infinity anywhere fail; other layouts are refused, not misread
    from csoftmax import _core

    info = np.finfo(dtype)
    x = np.random.default_rng(n).standard_normal(n).astype(dtype)
    x[: min(n, 3)] = np.array([info.max, -info.smallest_subnormal, -0.0], dtype)[: min(n, 3)]
    assert _core.all_finite(x, n_threads) is True
    assert _core.all_finite(x.reshape(1, -1), n_threads) is True
    for position in {0, n // 2, n - 1}:
        for bad in (np.nan, np.inf, -np.inf):
            y = x.copy()
            y[position] = bad
            assert _core.all_finite(y, n_threads) is False, (position, bad)
    others = [np.zeros(n, np.float16), np.zeros(n, np.int32), x.astype(x.dtype.newbyteorder()),
               list(x)]
    for refused in others + ([x[::2]] if n > 2 else []):  # ([::2] of 2 values is contiguous)
        with pytest.raises(ValueError, match="C-contiguous float32 or float64"):
            _core.all_finite(refused, n_threads)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_data_of_the_working_dtype_is_checked_in_one_pass(monkeypatch, dtype):
    # data already of the dtype it trains in is checked by the C pass, and bad values are
    # still rejected with scikit-learn's messages, leaving the estimator unfitted
    from csoftmax import _core

    calls = []
    check = _core.all_finite

    def spy(x, n_threads):
        calls.append(x.size)
        return check(x, n_threads)

    monkeypatch.setattr(_core, "all_finite", spy)
    X = X_SMALL.astype(dtype)
    clf = MLPClassifier(**make_params(max_iter=2)).fit(X, Y_SMALL)
    assert calls == [X.size] and clf.coefs_[0].dtype == dtype
    for bad, message in ((np.nan, "Input X contains NaN"), (np.inf, "Input X contains inf")):
        X_bad = X.copy()
        X_bad[-1, 0] = bad
        fresh = MLPClassifier(**make_params(max_iter=2))
        with pytest.raises(ValueError, match=message):
            fresh.fit(X_bad, Y_SMALL)
        assert not hasattr(fresh, "coefs_")


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad, message", [
    (np.nan, "Input X contains NaN"), (-np.inf, "Input X contains infinity"),
])
def test_prediction_input_of_the_weights_dtype_is_checked(dtype, bad, message):
    # rows of the weights' dtype go to the engine as they are, after the one-pass check
    clf = MLPClassifier(**make_params(max_iter=2), dtype=dtype).fit(X_SMALL.astype(dtype),
                                                                    Y_SMALL)
    X = X_SMALL[:5].astype(dtype)
    assert np.all(np.isfinite(clf.predict_proba(X)))
    for row in (0, 4):
        X_bad = X.copy()
        X_bad[row, -1] = bad
        with pytest.raises(ValueError, match=message):
            clf.predict_proba(X_bad)
        with pytest.raises(ValueError, match=message):
            clf.predict(X_bad[row:row + 1])


@IGNORE_CONVERGENCE
def test_float64_input_for_float32_training_is_cast_in_one_checked_pass(monkeypatch):
    from csoftmax import _core

    calls = []
    cast = _core.cast_f64_f32

    def spy(x, out, n_threads, fresh=False):
        assert fresh  # the estimator's buffer is new: small pages are advised for it
        calls.append(x.size)
        return cast(x, out, n_threads, fresh=fresh)

    monkeypatch.setattr(_core, "cast_f64_f32", spy)
    params = make_params(max_iter=2)
    forced = MLPClassifier(**params, dtype=np.float32).fit(X_SMALL, Y_SMALL)
    assert calls == [X_SMALL.size]
    native = MLPClassifier(**params).fit(X_SMALL.astype(np.float32), Y_SMALL)
    for a, b in zip(forced.coefs_ + forced.intercepts_, native.coefs_ + native.intercepts_):
        assert a.dtype == np.float32
        assert_array_equal(a, b)
    # prediction casts float64 rows for float32 weights the same way
    calls.clear()
    proba = forced.predict_proba(X_SMALL)
    assert calls == [X_SMALL.size]
    # computed in float32, returned in scikit-learn's dtype for float64 rows: float64
    assert proba.dtype == np.float64
    assert_array_equal(proba, native.predict_proba(X_SMALL.astype(np.float32)))
    X_bad = X_SMALL.copy()
    X_bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        forced.predict(X_bad)


@IGNORE_CONVERGENCE
def test_float32_input_for_float64_weights_is_checked_once_and_widened(monkeypatch):
    # float32 rows for a float64 model (and float32 data for float64 training): one C check,
    # then an exact widening, with the results of the float64 data itself
    from csoftmax import _core

    calls = []
    check = _core.all_finite

    def spy(x, n_threads):
        calls.append((x.dtype, x.size))
        return check(x, n_threads)

    monkeypatch.setattr(_core, "all_finite", spy)
    X32 = X_SMALL.astype(np.float32)
    X64 = X32.astype(np.float64)
    params = make_params(max_iter=2)
    forced = MLPClassifier(**params, dtype=np.float64).fit(X32, Y_SMALL)
    assert calls == [(np.dtype(np.float32), X32.size)]
    native = MLPClassifier(**params).fit(X64, Y_SMALL)
    for a, b in zip(forced.coefs_ + forced.intercepts_, native.coefs_ + native.intercepts_):
        assert a.dtype == np.float64
        assert_array_equal(a, b)
    calls.clear()
    proba = forced.predict_proba(X32)
    assert calls == [(np.dtype(np.float32), X32.size)]
    assert proba.tobytes() == forced.predict_proba(X64).tobytes()
    X_bad = X32.copy()
    X_bad[2, 3] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        forced.predict(X_bad)


@pytest.mark.parametrize("bad, message", [
    (np.nan, "Input X contains NaN"),
    (np.inf, "Input X contains infinity"),
    (1e39, "Input X contains infinity or a value too large for dtype\\('float32'\\)"),
])
def test_float64_input_for_float32_training_rejects_what_float32_cannot_hold(bad, message):
    # the cast finds the value; validation then rejects the caller's X with its own message
    X = X_SMALL.copy()
    X[3, 2] = bad
    clf = MLPClassifier(**make_params(max_iter=2), dtype=np.float32)
    with pytest.raises(ValueError, match=message), np.errstate(over="ignore"):
        clf.fit(X, Y_SMALL)
    assert not hasattr(clf, "coefs_")


@IGNORE_CONVERGENCE
def test_dtype_none_keeps_float64():
    clf = MLPClassifier(**make_params(max_iter=2), dtype=None).fit(X_SMALL, Y_SMALL)
    assert clf.coefs_[0].dtype == np.float64
