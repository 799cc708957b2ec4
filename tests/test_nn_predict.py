"""``predict``, ``predict_proba``, ``predict_log_proba`` and ``score``.

Probabilities are those of the network's logits (softmax or sigmoid) and sum
to one, ``predict_log_proba`` stays finite where ``log(predict_proba)``
underflows and, for logistic outputs, equals ``log(predict_proba)`` wherever
that is finite (so both rank the classes alike), ``score`` equals
scikit-learn's, and an unfitted estimator raises ``NotFittedError``.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, log_expit, log_softmax
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import NotFittedError

from csoftmax import MLPClassifier

from helpers.estimator import (
    IGNORE_CONVERGENCE,
    TARGETS,
    X_DIGITS,
    X_MULTILABEL,
    X_SMALL,
    Y_DIGITS,
    Y_MULTILABEL,
    Y_SMALL,
    fit_both,
    logits_of,
    make_params,
)


def test_unfitted_raises_not_fitted():
    clf = MLPClassifier()
    for method in ("predict", "predict_proba", "predict_log_proba"):
        with pytest.raises(NotFittedError):
            getattr(clf, method)(X_SMALL)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("target", ["multiclass", "binary", "string"])
def test_predict_proba_rows_sum_to_one(target):
    X, y = TARGETS[target]
    clf = MLPClassifier(**make_params()).fit(X, y)
    proba = clf.predict_proba(X_DIGITS)
    assert np.all(proba >= 0) and np.all(proba <= 1)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    log_proba = clf.predict_log_proba(X_DIGITS)
    assert_allclose(log_proba, np.log(proba), rtol=1e-10, atol=1e-12)
    assert_array_equal(clf.predict(X_DIGITS), clf.classes_[np.argmax(proba, axis=1)])


@IGNORE_CONVERGENCE
def test_multilabel_outputs():
    clf = MLPClassifier(**make_params()).fit(X_MULTILABEL, Y_MULTILABEL)
    proba = clf.predict_proba(X_MULTILABEL)
    assert proba.shape == Y_MULTILABEL.shape
    assert_allclose(proba, expit(logits_of(clf, X_MULTILABEL)), rtol=1e-10, atol=1e-15)
    assert_array_equal(clf.predict(X_MULTILABEL), (proba > 0.5).astype(int))
    assert_allclose(clf.predict_log_proba(X_MULTILABEL), np.log(proba), rtol=1e-10)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel"])
def test_predict_log_proba_finite_for_extreme_logits(target, dtype):
    X, y = TARGETS[target]
    X = X.astype(dtype)
    clf = MLPClassifier(**make_params(max_iter=3)).fit(X, y)
    # in place: logits of order 1e2..1e4, far beyond where exp() underflows
    scale = 1e4 if dtype == np.float64 else 1e3
    clf.coefs_[-1] *= scale
    clf.intercepts_[-1] *= scale
    z = logits_of(clf, X)
    proba = clf.predict_proba(X)
    with np.errstate(divide="ignore"):
        assert np.isneginf(np.log(proba)).any()  # the naive log underflows
    log_proba = clf.predict_log_proba(X)
    assert np.isfinite(log_proba).all()
    if target == "multiclass":
        expected = log_softmax(z, axis=1)
    elif target == "binary":
        expected = np.c_[log_expit(-z[:, 0]), log_expit(z[:, 0])]
    else:
        expected = log_expit(z)
    assert log_proba.dtype == dtype
    # the rounding of logits this large (100 ulps of the largest) sets the
    # absolute tolerance
    atol = 100 * np.finfo(dtype).eps * np.max(np.abs(z))
    assert_allclose(log_proba, expected, rtol=1e-9 if dtype == np.float64 else 1e-5, atol=atol)
    # predict_proba stays consistent with it
    # (absolute: the binary column 1 - p may round tiny tails to 0 as
    # scikit-learn's does)
    if dtype == np.float64:
        assert_allclose(proba, np.exp(expected), rtol=1e-6, atol=1e-15)
    else:
        assert_allclose(proba, np.exp(expected), rtol=1e-3, atol=1e-6)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", ["multilabel", "binary"])
def test_logistic_log_proba_is_log_of_proba_where_finite(target, dtype):
    # Trained to saturation: many probabilities round to exactly 1.0, where a
    # log-sigmoid of the logits gives tiny negative values that no longer tie.
    X, Y = make_multilabel_classification(n_samples=50, random_state=0)
    y = Y if target == "multilabel" else Y[:, 0]
    X = X.astype(dtype)
    clf = MLPClassifier(solver="lbfgs", hidden_layer_sizes=30, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    log_proba = clf.predict_log_proba(X)
    assert (proba == 1).any()
    assert log_proba.dtype == proba.dtype == dtype
    assert np.isfinite(log_proba).all()
    assert_array_equal(log_proba.argmax(axis=1), proba.argmax(axis=1))
    positive = proba > 0
    assert_array_equal(log_proba[positive], np.log(proba[positive]))


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", ["multilabel", "binary"])
def test_logistic_log_proba_is_log_sigmoid_where_proba_underflows(target, dtype):
    X, y = TARGETS[target]
    X = X.astype(dtype)
    clf = MLPClassifier(**make_params(max_iter=3)).fit(X, y)
    clf.coefs_[-1] *= 1e4
    clf.intercepts_[-1] *= 1e4
    z = logits_of(clf, X)
    signed = np.c_[-z, z] if target == "binary" else z
    proba = clf.predict_proba(X)
    log_proba = clf.predict_log_proba(X)
    zero = proba == 0
    assert zero.any() and (proba == 1).any()
    assert np.isfinite(log_proba).all()
    # where it underflowed: -log(1 + exp(-z)), which is z itself this far out
    atol = 100 * np.finfo(dtype).eps * np.max(np.abs(z))
    assert_allclose(log_proba[zero], log_expit(signed[zero]), rtol=0, atol=atol)
    with np.errstate(divide="ignore"):
        assert_array_equal(log_proba[~zero], np.log(proba[~zero]))
    assert_array_equal(log_proba.argmax(axis=1), proba.argmax(axis=1))


@IGNORE_CONVERGENCE
def test_score_matches_sklearn():
    sw = np.random.RandomState(0).uniform(size=len(Y_SMALL))
    cs, sk = fit_both(make_params(max_iter=3), X_SMALL, Y_SMALL)
    assert cs.score(X_DIGITS, Y_DIGITS) == sk.score(X_DIGITS, Y_DIGITS)
    assert cs.score(X_SMALL, Y_SMALL, sample_weight=sw) == pytest.approx(
        sk.score(X_SMALL, Y_SMALL, sample_weight=sw), rel=1e-12)
