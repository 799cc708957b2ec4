"""``predict``, ``predict_proba``, ``predict_log_proba`` and ``score``.

Probabilities are those of the network's logits (softmax or sigmoid) and sum
to one, ``predict_log_proba`` stays finite where ``log(predict_proba)``
underflows and, for logistic outputs, equals ``log(predict_proba)`` wherever
that is finite (so both rank the classes alike), ``score`` equals
scikit-learn's, and an unfitted estimator raises ``NotFittedError``.
"""

import warnings

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


# --------------------------------------------------------------- the kept prediction engine
def _digits_model(dtype=np.float32):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0, dtype=dtype)
    with pytest.warns(Warning):  # not converged
        clf.fit(X / 16, y)
    return clf, X / 16


def test_prediction_engine_is_kept_and_follows_the_weights():
    import pickle

    clf, X = _digits_model()
    from csoftmax.neural_network._engine import prediction_cache

    state = dict(vars(clf))
    p1 = clf.predict_proba(X[:5])
    assert vars(clf).keys() == state.keys()  # predicting leaves the estimator as it was
    engine = prediction_cache(clf)["engine"]
    clf.predict_proba(X[:7])
    assert prediction_cache(clf)["engine"] is engine  # reused, not rebuilt
    clf.coefs_[1][:] = 0  # edited in place: the kept engine reads the same memory
    assert_allclose(clf.predict_proba(X[:5]), softmax_rows(clf.intercepts_[1], 5), rtol=1e-6)
    clf.coefs_[1] = np.ones_like(clf.coefs_[1])  # a new array: a new engine
    clf.predict_proba(X[:5])
    assert prediction_cache(clf)["engine"] is not engine
    restored = pickle.loads(pickle.dumps(clf))
    assert prediction_cache(restored) == {}
    assert_array_equal(restored.predict_proba(X[:5]), clf.predict_proba(X[:5]))
    assert p1.shape == (5, 10)


def softmax_rows(b, n):
    e = np.exp(b - b.max())
    return np.tile(e / e.sum(), (n, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_arrays_predict_as_validated_input(dtype):
    # Plain float ndarrays skip validate_data; lists, non-contiguous and other-dtype
    # arrays go through it. The predictions are the same.
    clf, X = _digits_model(dtype)
    expected = clf.predict_proba(X[:50].tolist())
    for X_in in (X[:50], X[:50].astype(np.float32), X[:50].astype(np.float64),
                 np.asfortranarray(X[:50])):
        got = clf.predict_proba(X_in)
        # scikit-learn's dtype: float32 only for float32 weights and float32 rows
        assert got.dtype == (np.float32 if dtype == X_in.dtype == np.float32 else np.float64)
        if X_in.dtype == dtype:
            assert_array_equal(got, expected)
        else:
            assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert_array_equal(clf.predict(X[:50]), clf.predict(X[:50].tolist()))


def test_plain_arrays_are_still_checked():
    clf, X = _digits_model()
    bad = X[:3].copy()
    bad[1, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict_proba(bad)
    bad[1, 4] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        clf.predict(bad)
    with pytest.raises(ValueError, match="features"):
        clf.predict_proba(X[:3, :10])


def test_threads_predicting_at_once_share_the_model():
    # A thread that finds the kept engine busy uses a fresh one (results bounded in time:
    # a hang fails the test instead of stalling the suite).
    from concurrent.futures import ThreadPoolExecutor

    clf, X = _digits_model()
    expected = clf.predict_proba(X)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(clf.predict_proba, X) for _ in range(16)]
        results = [f.result(timeout=60) for f in futures]
    for r in results:
        assert_array_equal(r, expected)


def test_unhashable_subclass_predicts_without_a_kept_engine():
    class Unhashable(MLPClassifier):
        __hash__ = None

    clf, X = _digits_model()
    other = Unhashable(**clf.get_params())
    other.__dict__.update(vars(clf))
    assert_array_equal(other.predict_proba(X[:5]), clf.predict_proba(X[:5]))


def test_plain_input_overflowing_sum_is_no_warning():
    # finite entries whose sum overflows: predicted as validate_data would, without a
    # warning even where warnings are errors
    import warnings

    clf, X = _digits_model(np.float64)
    big = np.full((2, X.shape[1]), 1e307)
    expected = clf.predict_proba(big.tolist())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise"):
            assert_array_equal(clf.predict_proba(big), expected)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [1, 10, 500])
def test_a_nan_weight_gives_nan_probabilities_as_in_sklearn(activation, dtype, n_rows):
    # A NaN weight into the first hidden unit reaches every row (0 * NaN is NaN). ReLU used
    # to turn it into 0 and return finite, confident probabilities; scikit-learn's
    # np.maximum(z, 0) propagates it, as tanh, logistic and identity do.
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(dtype)
    clf = MLPClassifier((16,), activation=activation, max_iter=3, random_state=0,
                        dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    clf.coefs_[0][0, 0] = np.nan
    proba = clf.predict_proba(X[:n_rows])
    expected = clf.to_sklearn().predict_proba(X[:n_rows])
    assert np.isnan(expected).all()
    assert np.isnan(proba).all(axis=1).all()
