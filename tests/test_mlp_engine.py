"""The compiled MLP engine against the plain-NumPy reference engine.

The reference is ``ReferenceEngine`` in tests/helpers/mlp_reference.py.

Both implement forward, loss_grad, sgd_epoch and adam_epoch; the reference follows
scikit-learn's MLP operation by operation in float64. Every activation, both output
layers, dense and CSR input, sample weights and shuffled batches are compared.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from csoftmax._mlp import MLPEngine

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
    if out_activation == "softmax":
        y = rng.integers(0, UNITS[-1], N)
    else:
        y = (rng.random((N, UNITS[-1])) > 0.5).astype(dtype)
    w = rng.random(N) + 0.5
    coefs = [rng.uniform(-0.3, 0.3, (a, b)).astype(dtype) for a, b in zip(UNITS, UNITS[1:])]
    intercepts = [rng.uniform(-0.3, 0.3, b).astype(dtype) for b in UNITS[1:]]
    return X, y, w, coefs, intercepts


def _pair(dtype, activation, out_activation, sparse):
    X, y, w, coefs, intercepts = _problem(dtype, out_activation, sparse)
    ref_coefs, ref_ints = [c.copy() for c in coefs], [b.copy() for b in intercepts]
    eng = MLPEngine(coefs, intercepts, activation, out_activation, N, 1)
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
    loss = eng.loss_grad(X, y, w, 0.01, grads[:3], grads[3:])
    loss_ref = ref.loss_grad(X, y, w, 0.01, grads_ref[:3], grads_ref[3:])
    assert loss == pytest.approx(loss_ref, rel=TOL[dtype] * 10)
    for g, g_ref in zip(grads, grads_ref):
        _close(g, g_ref, dtype)


@_apply(cases)
def test_adam_and_sgd_epochs(dtype, activation, out_activation, sparse):
    X, y, w, (eng, params), (ref, params_ref) = _pair(dtype, activation, out_activation, sparse)
    order = np.random.default_rng(1).permutation(N)
    ms, vs = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    ms_ref, vs_ref = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    acc, t = eng.adam_epoch(X, y, w, order, 10, 0.01, 0.01, 0.9, 0.999, 1e-8, 0, ms, vs)
    acc_ref, t_ref = ref.adam_epoch(
        X, y, w, order, 10, 0.01, 0.01, 0.9, 0.999, 1e-8, 0, ms_ref, vs_ref
    )
    assert t == t_ref == 6
    assert acc == pytest.approx(acc_ref, rel=TOL[dtype] * 10)
    for p, p_ref in zip(params + ms + vs, params_ref + ms_ref + vs_ref):
        _close(p, p_ref, dtype)
    vel = [np.zeros_like(p) for p in params]
    vel_ref = [np.zeros_like(p) for p in params]
    acc = eng.sgd_epoch(X, y, None, order, 7, 0.01, 0.05, 0.9, True, vel)
    acc_ref = ref.sgd_epoch(X, y, None, order, 7, 0.01, 0.05, 0.9, True, vel_ref)
    assert acc == pytest.approx(acc_ref, rel=TOL[dtype] * 10)
    for p, p_ref in zip(params + vel, params_ref + vel_ref):
        _close(p, p_ref, dtype)


def test_engine_rejects_bad_arguments():
    X, y, w, coefs, intercepts = _problem(np.float64, "softmax", False)
    eng = MLPEngine(coefs, intercepts, "relu", "softmax", N, 1)
    with pytest.raises(ValueError, match="columns"):
        eng.forward(X[:, :3], np.empty((N, 3)))
    with pytest.raises(ValueError, match="class indices"):
        eng.loss_grad(X, y + 10, None, 0.0, [np.empty_like(c) for c in coefs],
                      [np.empty_like(b) for b in intercepts])
    with pytest.raises(ValueError, match="order"):
        eng.sgd_epoch(X, y, None, np.arange(N) + 1, 10, 0.0, 0.1, 0.9, True,
                      [np.zeros_like(p) for p in coefs + intercepts])
    with pytest.raises(ValueError, match="intercepts: expected a float32"):
        MLPEngine([c.astype(np.float32) for c in coefs], intercepts, "relu", "softmax", N, 1)
    with pytest.raises(ValueError, match="coefs: expected"):
        MLPEngine([coefs[0], coefs[1].T.copy(), coefs[2]], intercepts, "relu", "softmax", N, 1)
