"""Arrays whose data is not aligned for their dtype (a float64 view one byte into a buffer).

C may not read a double from an address that is not a multiple of 8 (UndefinedBehavior-
Sanitizer reports it; the fuzzer of fuzz/fuzz_kernels.py found it): the C boundary refuses
such arrays and every public function copies them first, giving the values of an aligned
copy of the same data.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import csoftmax
from csoftmax import _core


def misaligned(a):
    """A C-contiguous copy of `a` whose data starts one byte past an aligned address."""
    a = np.asarray(a)
    raw = np.empty(a.nbytes + a.itemsize, dtype=np.uint8)
    start = (-raw.ctypes.data) % a.itemsize + 1
    view = raw[start : start + a.nbytes].view(a.dtype).reshape(a.shape)
    view[...] = a
    assert not view.flags.aligned and view.flags.c_contiguous
    return view


ROW_FUNCTIONS = {
    "softmax": lambda x, **kw: csoftmax.softmax(x, **kw),
    "log_softmax": lambda x, **kw: csoftmax.log_softmax(x, **kw),
    "softmax_jacobian": lambda x, **kw: csoftmax.softmax_jacobian(x, **kw),
    "softmax_vjp": lambda x, **kw: csoftmax.softmax_vjp(x, x[::-1].copy(), **kw),
    "log_softmax_vjp": lambda x, **kw: csoftmax.log_softmax_vjp(x, x[::-1].copy(), **kw),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", [_core.ROW_SOFTMAX, _core.ROW_LOG_SOFTMAX,
                                _core.ROW_SOFTMAX_VJP, _core.ROW_LOG_SOFTMAX_VJP])
def test_the_c_boundary_refuses_misaligned_rows(op, dtype):
    x = np.linspace(-2, 2, 40, dtype=dtype).reshape(4, 10)
    if op == _core.ROW_SOFTMAX_VJP:  # its x is y, a softmax output
        x = csoftmax.softmax(x)
    dy = None if op in (_core.ROW_SOFTMAX, _core.ROW_LOG_SOFTMAX) else x.copy()

    assert _core.rows(op, misaligned(x), dy, None, -1, 1) is None
    if dy is not None:
        assert _core.rows(op, x, misaligned(dy), None, -1, 1) is None
    assert _core.rows(op, x, dy, misaligned(np.empty_like(x)), -1, 1) is None
    assert _core.rows(op, x, dy, None, -1, 1) is not None  # the aligned call is taken
    with pytest.raises(ValueError, match="layout"):
        _core.softmax_jacobian(misaligned(x), np.empty((4, 10, 10), dtype), 1)
    with pytest.raises(ValueError, match="aligned"):
        _core.all_finite(misaligned(x), 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ROW_FUNCTIONS))
def test_row_functions_give_the_values_of_an_aligned_copy(name, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 33)).astype(dtype)
    if name == "softmax_vjp":  # its x is y, a softmax output
        x = csoftmax.softmax(x)
    expected = ROW_FUNCTIONS[name](x)

    np.testing.assert_array_equal(ROW_FUNCTIONS[name](misaligned(x)), expected)
    out = misaligned(np.empty_like(expected))
    assert ROW_FUNCTIONS[name](x, out=out) is out
    np.testing.assert_array_equal(out, expected)
    # in place, in the misaligned buffer itself
    if name in ("softmax", "log_softmax"):
        x_mis = misaligned(x)
        assert ROW_FUNCTIONS[name](x_mis, out=x_mis) is x_mis
        np.testing.assert_array_equal(x_mis, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_with_misaligned_inputs(dtype):
    rng = np.random.default_rng(4)
    z = rng.standard_normal((6, 5)).astype(dtype)
    y = np.array([0, 4, 2, 1, 3, 0])
    weight = np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    sample_weight = np.linspace(0.5, 2.0, 6)
    expected = csoftmax.cross_entropy(z, y, weight=weight, sample_weight=sample_weight,
                                      label_smoothing=0.1, return_grad=True)

    out = misaligned(np.empty_like(z))
    loss, grad = csoftmax.cross_entropy(
        misaligned(z), misaligned(y), weight=misaligned(weight),
        sample_weight=misaligned(sample_weight), label_smoothing=0.1, return_grad=True, out=out)

    assert grad is out
    assert loss == expected[0]
    np.testing.assert_array_equal(grad, expected[1])
    # the common call, without weights, and probabilities as the target
    p = csoftmax.softmax(rng.standard_normal((6, 5))).astype(dtype)
    np.testing.assert_array_equal(csoftmax.cross_entropy(misaligned(z), misaligned(p)),
                                  csoftmax.cross_entropy(z, p))
    assert csoftmax.cross_entropy(misaligned(z), misaligned(y)) == csoftmax.cross_entropy(z, y)


def test_mlp_predicts_misaligned_dense_and_csr_input_as_aligned():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 7))
    y = np.arange(60) % 3
    clf = csoftmax.MLPClassifier((6,), max_iter=5, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)

    np.testing.assert_array_equal(clf.predict_proba(misaligned(X)), expected)
    csr = sp.csr_matrix(X)
    bad = sp.csr_matrix((misaligned(csr.data), misaligned(csr.indices.astype(np.int64)),
                         misaligned(csr.indptr.astype(np.int64))), shape=csr.shape)
    np.testing.assert_allclose(clf.predict_proba(bad), expected, rtol=1e-12, atol=1e-15)
    clf.partial_fit(misaligned(X), misaligned(y))  # training reads them in C as well
    assert np.all(np.isfinite(clf.predict_proba(X)))


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_c_array_copies_exactly_what_c_cannot_read(dtype):
    from csoftmax._utils import c_array

    a = np.arange(12, dtype=dtype).reshape(3, 4)
    assert c_array(a, dtype) is a  # nothing to do: the array itself
    other = np.float64 if dtype != np.float64 else np.float32
    for source, want in [(misaligned(a), dtype), (a[:, ::2], dtype), (a, other),
                         (a.astype(np.dtype(dtype).newbyteorder()), dtype),
                         (np.asmatrix(a), dtype), (a.tolist(), dtype)]:
        out = c_array(source, want)
        assert type(out) is np.ndarray and out.dtype == want and out.dtype.isnative
        assert out.flags.c_contiguous and out.flags.aligned
        assert out is not source and np.array_equal(out, np.asarray(source, dtype=want))
