"""The compiled MLP engine against the plain-NumPy reference engine.

The reference is ``ReferenceEngine`` in tests/helpers/mlp_reference.py.

Both implement forward, loss_grad and epoch (SGD or Adam); the reference follows
scikit-learn's MLP operation by operation in float64. Every activation, both output
layers, dense and CSR input, sample weights and shuffled batches are compared.
"""

import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from csoftmax._core import MLPEngine, Optimizer

from helpers.mlp_reference import ReferenceEngine

UNITS = [7, 5, 4, 3]
N = 53
# Relative to the largest entry of each array. A float32 engine rounds every intermediate
# to float32 while the reference rounds only when it stores; gradients of intercepts are
# sums with cancellation, so a few hundred float32 ulp of the array's scale is the bound.
TOL = {np.float32: 1e-5, np.float64: 1e-13}


def _problem(dtype, out_activation, sparse, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, UNITS[0])).astype(dtype)
    if sparse:
        X[X < 0.3] = 0
        X = sp.csr_matrix(X)
        X.indices, X.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    if out_activation == "softmax":
        y = rng.integers(0, UNITS[-1], N).astype(np.int64)
    else:
        y = (rng.random((N, UNITS[-1])) > 0.5).astype(dtype)
    w = rng.random(N) + 0.5
    coefs = [rng.uniform(-0.3, 0.3, (a, b)).astype(dtype) for a, b in zip(UNITS, UNITS[1:])]
    intercepts = [rng.uniform(-0.3, 0.3, b).astype(dtype) for b in UNITS[1:]]
    return X, y, w, coefs, intercepts


def _pair(dtype, activation, out_activation, sparse):
    X, y, w, coefs, intercepts = _problem(dtype, out_activation, sparse)
    ref_coefs, ref_ints = [c.copy() for c in coefs], [b.copy() for b in intercepts]
    eng = MLPEngine(coefs, intercepts, activation, out_activation, N, 1, gather_dense=not sparse)
    ref = ReferenceEngine(ref_coefs, ref_ints, activation, out_activation, N, 1)
    return X, y, w, (eng, coefs + intercepts), (ref, ref_coefs + ref_ints)


def _close(a, b, dtype):
    scale = max(np.max(np.abs(b)), 1e-30)
    assert np.max(np.abs(a - b)) <= TOL[dtype] * scale


parametrize = pytest.mark.parametrize
cases = [
    parametrize("dtype", [np.float32, np.float64]),
    parametrize("activation", ["identity", "logistic", "tanh", "relu"]),
    parametrize("out_activation", ["softmax", "logistic"]),
    parametrize("sparse", [False, True]),
]


def _apply(marks):
    def deco(f):
        for m in reversed(marks):
            f = m(f)
        return f

    return deco


@_apply(cases)
def test_forward_and_loss_grad(dtype, activation, out_activation, sparse):
    X, y, w, (eng, params), (ref, _) = _pair(dtype, activation, out_activation, sparse)
    out, out_ref = np.empty((N, UNITS[-1]), dtype), np.empty((N, UNITS[-1]), dtype)
    eng.forward(X, out)
    ref.forward(X, out_ref)
    _close(out, out_ref, dtype)
    grads = [np.empty_like(p) for p in params]
    grads_ref = [np.empty_like(p) for p in params]
    loss = eng.loss_grad(X, y, w, 0.01, grads)
    loss_ref = ref.loss_grad(X, y, w, 0.01, grads_ref)
    assert loss == pytest.approx(loss_ref, rel=TOL[dtype] * 10)
    for g, g_ref in zip(grads, grads_ref):
        _close(g, g_ref, dtype)


@_apply(cases)
def test_adam_and_sgd_epochs(dtype, activation, out_activation, sparse):
    X, y, w, (eng, params), (ref, params_ref) = _pair(dtype, activation, out_activation, sparse)
    order = np.random.default_rng(1).permutation(N)
    ms, vs = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    ms_ref, vs_ref = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    adam = Optimizer("adam", ms + vs, learning_rate=0.01, beta_1=0.9, beta_2=0.999,
                     epsilon=1e-8)
    adam_ref = SimpleNamespace(kind="adam", state=ms_ref + vs_ref, t=0,
                               hyperparameters=adam.hyperparameters)
    acc = eng.epoch(X, y, w, order, 10, 0.01, adam)
    acc_ref = ref.epoch(X, y, w, order.astype(np.intp), 10, 0.01, adam_ref)
    assert adam.t == adam_ref.t == 6
    # the rate Adam reports is the bias-corrected rate of its last step
    assert adam.learning_rate == pytest.approx(0.01 * np.sqrt(1 - 0.999**6) / (1 - 0.9**6),
                                               rel=1e-15)
    assert acc == pytest.approx(acc_ref, rel=TOL[dtype] * 10)
    for p, p_ref in zip(params + ms + vs, params_ref + ms_ref + vs_ref):
        _close(p, p_ref, dtype)
    vel = [np.zeros_like(p) for p in params]
    vel_ref = [np.zeros_like(p) for p in params]
    sgd = Optimizer("sgd", vel, learning_rate=0.05, momentum=0.9, nesterov=True)
    sgd_ref = SimpleNamespace(kind="sgd", state=vel_ref, hyperparameters=sgd.hyperparameters)
    acc = eng.epoch(X, y, None, order, 7, 0.01, sgd)
    acc_ref = ref.epoch(X, y, None, order.astype(np.intp), 7, 0.01, sgd_ref)
    assert acc == pytest.approx(acc_ref, rel=TOL[dtype] * 10)
    for p, p_ref in zip(params + vel, params_ref + vel_ref):
        _close(p, p_ref, dtype)


def test_optimizer_state_round_trips_through_pickle():
    adam = Optimizer("adam", [np.ones(3)], 4, learning_rate=0.01, beta_1=0.8, beta_2=0.99,
                     epsilon=1e-7)
    copy = pickle.loads(pickle.dumps(adam))
    assert (copy.kind, copy.t, copy.hyperparameters) == (adam.kind, 4, adam.hyperparameters)
    assert copy.learning_rate == adam.learning_rate == pytest.approx(
        0.01 * np.sqrt(1 - 0.99**4) / (1 - 0.8**4), rel=1e-15)
    np.testing.assert_array_equal(copy.state[0], adam.state[0])
    sgd = Optimizer("sgd", [], learning_rate=0.1, momentum=0.5)
    sgd.learning_rate = 0.02  # the schedules set SGD's rate
    assert pickle.loads(pickle.dumps(sgd)).learning_rate == 0.02
    with pytest.raises(AttributeError, match="step count"):
        adam.learning_rate = 0.1
    with pytest.raises(TypeError, match="beta_3"):
        Optimizer("adam", [], beta_3=0.5)


def test_engine_rejects_bad_arguments():
    X, y, w, coefs, intercepts = _problem(np.float64, "softmax", False)
    eng = MLPEngine(coefs, intercepts, "relu", "softmax", N, 1)
    grads = [np.empty_like(p) for p in coefs + intercepts]
    with pytest.raises(ValueError, match=r"X: expected a float64 array of shape \(53, 7\)"):
        eng.forward(X[:, :3], np.empty((N, 3)))
    with pytest.raises(ValueError, match="label"):
        eng.loss_grad(X, y + 10, None, 0.0, grads)
    with pytest.raises(ValueError, match="row number"):
        eng.epoch(X, y, None, np.arange(N) + 1, 10, 0.0,
                  Optimizer("sgd", [np.zeros_like(p) for p in coefs + intercepts]))
    with pytest.raises(ValueError, match="optimizer.state: expected 12 arrays"):
        eng.epoch(X, y, None, np.arange(N), 10, 0.0,
                  Optimizer("adam", [np.zeros_like(p) for p in coefs + intercepts]))
    with pytest.raises(ValueError, match="rejected"):  # batch_size above batch_rows
        eng.epoch(X, y, None, np.arange(N), N + 1, 0.0,
                  Optimizer("sgd", [np.zeros_like(p) for p in coefs + intercepts]))
    with pytest.raises(ValueError, match="one dtype"):
        MLPEngine([c.astype(np.float32) for c in coefs], intercepts, "relu", "softmax", N, 1)
    with pytest.raises(ValueError, match=r"coefs_\[1\] has shape .* must chain"):
        MLPEngine([coefs[0], coefs[1].T.copy(), coefs[2]], intercepts, "relu", "softmax", N, 1)
    with pytest.raises(ValueError, match="coefs: expected a C-contiguous"):
        MLPEngine([np.asfortranarray(coefs[0])] + coefs[1:], intercepts, "relu", "softmax", N,
                  1)
    Xs = sp.csr_matrix(X)
    Xs.indices, Xs.indptr = Xs.indices.astype(np.int64), Xs.indptr.astype(np.int64)
    Xs.indices[0] = 99  # a column index past n_features is refused, never read
    with pytest.raises(ValueError, match="CSR index"):
        eng.forward(Xs, np.empty((N, 3)))


def test_engine_refuses_what_it_cannot_run_instead_of_crashing():
    X, y, w, coefs, intercepts = _problem(np.float64, "softmax", False)
    with pytest.raises(TypeError, match="float32 or float64"):
        MLPEngine([c.astype(np.float16) for c in coefs],
                  [b.astype(np.float16) for b in intercepts], "relu", "softmax", N, 1)
    with pytest.raises(ValueError, match="unknown activation"):
        MLPEngine(coefs, intercepts, "gelu", "softmax", N, 1)
    with pytest.raises(ValueError, match="unknown out_activation"):
        MLPEngine(coefs, intercepts, "relu", "softmaxx", N, 1)
    eng = MLPEngine(coefs, intercepts, "relu", "softmax", N, 1)
    with pytest.raises(TypeError):
        eng.epoch(X, y, None, np.arange(N), 10, 0.0, None)
    # built without a gather buffer (gather_dense=False): shuffled dense rows are refused
    with pytest.raises(ValueError, match="rejected"):
        eng.epoch(X, y, None, np.arange(N)[::-1].copy(), 10, 0.0,
                  Optimizer("sgd", [np.zeros_like(p) for p in coefs + intercepts]))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_float16_weights_set_by_hand_raise_instead_of_crashing():
    from csoftmax import MLPClassifier

    X, y = np.random.default_rng(0).normal(size=(40, 5)), np.arange(40) % 3
    clf = MLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)
    clf.coefs_ = [c.astype(np.float16) for c in clf.coefs_]
    clf.intercepts_ = [b.astype(np.float16) for b in clf.intercepts_]
    with pytest.raises((TypeError, ValueError)):
        clf.predict(X)


def test_kernel_entries_never_run_on_arrays_out_of_their_layout():
    from csoftmax import _core

    x = np.zeros((4, 3))
    with pytest.raises(TypeError):
        _core.rows(_core.ROW_SOFTMAX, x, None, None, -1, None)
    assert _core.rows(_core.ROW_SOFTMAX, x, None, np.empty((2, 3)), -1, 1) is None
    assert _core.rows(_core.ROW_SOFTMAX_VJP, x, x, np.empty((4, 2)), -1, 1) is None
    for out in (None, np.empty((4, 3, 2)), np.empty((4, 3, 3), np.float32), x):
        with pytest.raises(ValueError, match="layout"):
            _core.softmax_jacobian(x, out, 1)
    options = (1, -100, 0.0, "mean")
    assert _core.cross_entropy(x, np.zeros(2, np.int64), None, None, options, False, None,
                               1) is None
    assert _core.cross_entropy(x, np.zeros(4, np.int64), np.ones(2), None, options, False,
                               None, 1) is None


def test_wide_sparse_input_predicts_in_batches_past_two_to_the_31_elements():
    """4096 prediction rows x 2**20 features exceed 2**31 elements; only each BLAS size must
    fit in an int, and CSR input needs no dense gather buffer."""
    from csoftmax import MLPClassifier

    rng = np.random.default_rng(0)
    n, width = 5000, 2**20
    X = sp.csr_matrix((np.ones(n, np.float32), (np.arange(n), rng.integers(0, width, n))),
                      shape=(n, width))
    y = np.arange(n) % 2
    clf = MLPClassifier((2,), max_iter=1, batch_size=2500, random_state=0, dtype=np.float32)
    with pytest.warns(Warning):  # one epoch does not converge
        clf.fit(X, y)
    assert clf.predict_proba(X).shape == (n, 2)


def test_malformed_csr_is_refused_before_any_read():
    from csoftmax import MLPClassifier

    X = sp.csr_matrix(np.eye(6, 4))
    clf = MLPClassifier((3,), max_iter=2, random_state=0)
    with pytest.warns(Warning):
        clf.fit(X, np.arange(6) % 2)
    for bad_indptr in ([0, 1, 2, 3, 4, 4, 99], [0, 2, 1, 3, 4, 4, 4]):
        bad = sp.csr_matrix((X.data, X.indices, X.indptr), shape=X.shape)
        bad.indptr = np.array(bad_indptr, dtype=bad.indptr.dtype)
        with pytest.raises(ValueError):
            clf.predict(bad)
        with pytest.raises(ValueError):
            MLPClassifier((3,), max_iter=1).fit(bad, np.arange(6) % 2)
