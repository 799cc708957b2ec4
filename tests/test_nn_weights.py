"""``sample_weight`` and ``class_weight`` of ``csoftmax.MLPClassifier``.

``sample_weight`` matches scikit-learn's; ``class_weight`` (which scikit-learn
lacks) equals the matching ``sample_weight``, multiplies a given one, and
weighs the early-stopping score; integer weights equal repeated rows and zero
weights dropped rows; ``loss_`` is the exact weighted cross-entropy.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.special import log_expit, log_softmax
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier as SKMLPClassifier
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

from csoftmax import MLPClassifier

from helpers.estimator import (
    IGNORE_CONVERGENCE,
    TARGETS,
    X_DIGITS,
    X_SMALL,
    Y_DIGITS,
    Y_SMALL,
    Y_STRING,
    assert_same_model,
    fit_both,
    logits_of,
    make_params,
    sklearn_validation_indices,
)


# ---------------------------------------------------------------------------
# sample_weight, as scikit-learn
# ---------------------------------------------------------------------------
@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver_params", [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="adam", early_stopping=True, max_iter=5),
    dict(solver="adam", batch_size=64, shuffle=False),
], ids=["adam", "sgd", "adam-early-stopping", "adam-batch64-noshuffle"])
def test_sample_weight_parity_with_sklearn(solver_params):
    sw = np.random.RandomState(1).uniform(0.1, 3.0, size=X_SMALL.shape[0])
    cs, sk = fit_both(make_params(**solver_params), X_SMALL, Y_SMALL, sample_weight=sw)
    assert_same_model(cs, sk, X_SMALL)
    # and the weights matter
    unweighted = MLPClassifier(**make_params(**solver_params)).fit(X_SMALL, Y_SMALL)
    assert not np.allclose(unweighted.coefs_[0], cs.coefs_[0], rtol=1e-4)


# ---------------------------------------------------------------------------
# Beyond scikit-learn: class_weight, sample_weight semantics
# ---------------------------------------------------------------------------
def _cw_y(class_weight, y):
    return compute_sample_weight(class_weight, y)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("class_weight", [
    {0: 3.0, 1: 0.5, 7: 2.0},  # classes not listed weigh 1
    "balanced",
], ids=["dict", "balanced"])
def test_class_weight_equals_sample_weight(solver, class_weight):
    y = Y_SMALL[:400]  # unbalanced counts, so "balanced" is not all ones
    X = X_SMALL[:400]
    w = _cw_y(class_weight, y)
    assert np.ptp(w) > 0
    params = make_params(solver=solver, max_iter=10 if solver == "lbfgs" else 4)
    a = MLPClassifier(**params, class_weight=class_weight).fit(X, y)
    b = MLPClassifier(**params).fit(X, y, sample_weight=w)
    c = MLPClassifier(**params).fit(X, y)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(u, v, rtol=1e-10, atol=1e-14)
    assert a.loss_ == pytest.approx(b.loss_, rel=1e-10)
    assert not np.allclose(a.coefs_[0], c.coefs_[0], rtol=1e-4)


@IGNORE_CONVERGENCE
def test_class_weight_with_string_labels():
    cw = {"three": 4.0, "seven": 0.25}
    a = MLPClassifier(**make_params(), class_weight=cw).fit(X_SMALL, Y_STRING)
    w = np.where(Y_STRING == "three", 4.0, np.where(Y_STRING == "seven", 0.25, 1.0))
    b = MLPClassifier(**make_params()).fit(X_SMALL, Y_STRING, sample_weight=w)
    for u, v in zip(a.coefs_, b.coefs_):
        assert_allclose(u, v, rtol=1e-10, atol=1e-14)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_class_weight_times_sample_weight(solver):
    sw = np.random.RandomState(4).uniform(0.2, 2.0, size=len(Y_SMALL))
    cw = {1: 5.0, 2: 0.2}
    params = make_params(solver=solver, max_iter=10 if solver == "lbfgs" else 4)
    a = MLPClassifier(**params, class_weight=cw).fit(X_SMALL, Y_SMALL, sample_weight=sw)
    b = MLPClassifier(**params).fit(X_SMALL, Y_SMALL, sample_weight=sw * _cw_y(cw, Y_SMALL))
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(u, v, rtol=1e-10, atol=1e-14)
    # "balanced" with sample_weight follows scikit-learn's convention (as in
    # LogisticRegression): class frequencies are the *weighted* counts,
    # compute_class_weight("balanced", ..., sample_weight=sw).
    a = MLPClassifier(**params, class_weight="balanced").fit(X_SMALL, Y_SMALL, sample_weight=sw)
    classes = np.unique(Y_SMALL)
    cw_bal = compute_class_weight("balanced", classes=classes, y=Y_SMALL, sample_weight=sw)
    assert not np.allclose(cw_bal, compute_class_weight("balanced", classes=classes, y=Y_SMALL))
    w = sw * cw_bal[np.searchsorted(classes, Y_SMALL)]
    b = MLPClassifier(**params).fit(X_SMALL, Y_SMALL, sample_weight=w)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(u, v, rtol=1e-10, atol=1e-14)


def test_partial_fit_class_weight_dict_equals_sample_weight():
    cw = {0: 3.0, 4: 0.5}
    a = MLPClassifier(**make_params(), class_weight=cw)
    b = MLPClassifier(**make_params())
    for k, chunk in enumerate([slice(0, 200), slice(200, 500)]):
        kw = dict(classes=np.arange(10)) if k == 0 else {}
        a.partial_fit(X_SMALL[chunk], Y_SMALL[chunk], **kw)
        b.partial_fit(X_SMALL[chunk], Y_SMALL[chunk],
                      sample_weight=_cw_y(cw, Y_SMALL[chunk]), **kw)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(u, v, rtol=1e-10, atol=1e-14)


@IGNORE_CONVERGENCE
def test_class_weight_parity_with_sklearn_sample_weight():
    # scikit-learn has no class_weight; its sample_weight equivalent is the oracle
    cw = {0: 3.0, 5: 0.3}
    params = make_params(early_stopping=True, max_iter=5)
    cs = MLPClassifier(**params, class_weight=cw).fit(X_SMALL, Y_SMALL)
    sk = SKMLPClassifier(**params).fit(X_SMALL, Y_SMALL, sample_weight=_cw_y(cw, Y_SMALL))
    assert_same_model(cs, sk, X_SMALL)


@IGNORE_CONVERGENCE
def test_class_weight_honoured_by_early_stopping_score():
    cw = {c: float(1 + 3 * (c % 3)) for c in range(10)}  # weights 1, 4, 7
    params = make_params(early_stopping=True, n_iter_no_change=2, max_iter=30,
                     learning_rate_init=0.05)
    clf = MLPClassifier(**params, class_weight=cw).fit(X_SMALL, Y_SMALL)
    val = sklearn_validation_indices(len(Y_SMALL), [64, 16, 10], 0)
    w = _cw_y(cw, Y_SMALL)[val]
    y_pred = clf.predict(X_SMALL[val])  # the restored best weights
    weighted = accuracy_score(Y_SMALL[val], y_pred, sample_weight=w)
    unweighted = accuracy_score(Y_SMALL[val], y_pred)
    assert weighted != pytest.approx(unweighted, abs=1e-3)  # precondition
    assert clf.best_validation_score_ == pytest.approx(weighted, rel=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_integer_sample_weight_equals_repetition_lbfgs(fmt):
    # Full-batch L-BFGS minimises a weighted mean, so integer weights are
    # repeated rows (20 iterations: before rounding differences grow).
    X, y = X_SMALL[:200], Y_SMALL[:200]
    sw = np.random.RandomState(0).randint(1, 4, size=len(y))
    Xr, yr = np.repeat(X, sw, axis=0), np.repeat(y, sw)
    if fmt == "csr":
        X, Xr = sp.csr_matrix(X), sp.csr_matrix(Xr)
    params = make_params(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20)
    a = MLPClassifier(**params).fit(X, y, sample_weight=sw)
    b = MLPClassifier(**params).fit(Xr, yr)
    assert a.n_iter_ == b.n_iter_
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(u, v, rtol=1e-6, atol=1e-9)
    assert a.loss_ == pytest.approx(b.loss_, rel=1e-9)
    assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-6, atol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_zero_sample_weight_equals_dropping_rows_lbfgs():
    X, y = X_SMALL[:200], Y_SMALL[:200]
    sw = np.random.RandomState(0).randint(0, 3, size=len(y)).astype(float)
    keep = sw > 0
    params = make_params(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20)
    a = MLPClassifier(**params).fit(X, y, sample_weight=sw)
    b = MLPClassifier(**params).fit(X[keep], y[keep], sample_weight=sw[keep])
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_allclose(u, v, rtol=1e-6, atol=1e-9)
    assert a.loss_ == pytest.approx(b.loss_, rel=1e-9)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("target", ["multiclass", "binary"])
def test_reported_loss_is_exact_unclipped_cross_entropy(target):
    """loss_ is sum(w * l) / sum(w) + alpha/2 * ||W||^2 / sum(w) with the exact
    per-sample cross-entropy l, also where scikit-learn would clip
    probabilities (l > -log(eps) ~ 36)."""
    X, y = TARGETS[target]
    X, y = X[:100], y[:100]
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    alpha = 0.3
    clf = MLPClassifier((8,), random_state=0, max_iter=1, alpha=alpha, batch_size=100,
                        shuffle=False, learning_rate_init=0.01).fit(X, y, sample_weight=sw)
    clf.coefs_[-1] *= 1e3  # in place: very confident, often wrong
    clf.intercepts_[-1] *= 1e3
    before = [p.copy() for p in clf.coefs_ + clf.intercepts_]
    # One warm-started full-batch epoch with a ~0 step reports the loss at
    # exactly these weights.
    clf.set_params(warm_start=True, learning_rate_init=1e-300)
    clf.fit(X, y, sample_weight=sw)
    for a, b in zip(clf.coefs_ + clf.intercepts_, before):
        assert_allclose(a, b, rtol=1e-12)
    z = logits_of(clf, X)
    if target == "multiclass":
        per_sample = -log_softmax(z, axis=1)[np.arange(len(y)), y]
    else:
        per_sample = -(y * log_expit(z[:, 0]) + (1 - y) * log_expit(-z[:, 0]))
    assert per_sample.max() > 40  # beyond where scikit-learn clips
    l2 = sum(np.sum(W.astype(np.float64) ** 2) for W in clf.coefs_)
    expected = (np.sum(sw * per_sample) + 0.5 * alpha * l2) / np.sum(sw)
    assert clf.loss_ == pytest.approx(expected, rel=1e-10)
    assert clf.loss_curve_[-1] == clf.loss_


def test_negative_sample_weights_are_refused():
    with pytest.raises(ValueError, match="Negative values in data passed to sample_weight"):
        MLPClassifier((5,), max_iter=2).fit(X_SMALL, Y_SMALL,
                                            sample_weight=-np.ones(len(Y_SMALL)))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_a_minibatch_of_zero_weights_takes_no_step(solver):
    """Rows of weight zero teach nothing: with the first minibatch all zero and no
    shuffling, the fit equals the fit on the remaining rows, bit for bit."""
    X, y = X_DIGITS[:600], Y_DIGITS[:600]
    w = np.ones(len(y))
    w[:100] = 0.0
    params = dict(hidden_layer_sizes=(8,), solver=solver, batch_size=100, shuffle=False,
                  max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weighted = MLPClassifier(**params).fit(X, y, sample_weight=w)
        rest = MLPClassifier(**params).fit(X[100:], y[100:])
    for a, b in zip(weighted.coefs_ + weighted.intercepts_, rest.coefs_ + rest.intercepts_):
        np.testing.assert_array_equal(a, b)
