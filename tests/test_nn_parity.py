"""Parity of ``csoftmax.MLPClassifier`` with scikit-learn's ``MLPClassifier``.

With the same parameters, data and ``random_state`` both estimators must end
with the same weights, loss curve, validation scores, verbose output and
warnings, for every stochastic solver configuration, every target type and
L-BFGS; on the MNIST test set the accuracy must be within 0.005 of
scikit-learn's or better.

Tolerances and data are explained in :mod:`helpers.estimator`.
"""

import time
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.neural_network import MLPClassifier as SKMLPClassifier

import csoftmax
from csoftmax import MLPClassifier

from helpers.estimator import (
    IGNORE_CONVERGENCE,
    LBFGS_ATOL,
    LBFGS_RTOL,
    STOCHASTIC_CONFIGS,
    TARGETS,
    X_DIGITS,
    X_SMALL,
    Y_MULTILABEL,
    Y_SMALL,
    assert_same_model,
    fit_both,
    make_params,
    warnings_of,
)


# ---------------------------------------------------------------------------
# Parity with scikit-learn, stochastic solvers
# ---------------------------------------------------------------------------
@IGNORE_CONVERGENCE
@pytest.mark.filterwarnings("ignore:Got `batch_size` less than 1:UserWarning")
@pytest.mark.parametrize("config", list(STOCHASTIC_CONFIGS), ids=list(STOCHASTIC_CONFIGS))
def test_stochastic_parity_with_sklearn(config):
    params = make_params(**STOCHASTIC_CONFIGS[config])
    cs, sk = fit_both(params, X_SMALL, Y_SMALL)
    assert_same_model(cs, sk, X_DIGITS)


def test_stochastic_configs_exercise_their_feature():
    """Preconditions: each config above really triggers what it is named for,
    so the parity test would notice an implementation that ignores it."""

    def _sk_fit(name):
        return SKMLPClassifier(**make_params(**STOCHASTIC_CONFIGS[name])).fit(X_SMALL, Y_SMALL)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = _sk_fit("adam-tol-stop")
        assert sk.n_iter_ < sk.max_iter
        sk = _sk_fit("adam-early-stopping")
        assert sk.n_iter_ < sk.max_iter
        assert np.argmax(sk.validation_scores_) < sk.n_iter_ - 1  # restoring matters
        sk = _sk_fit("sgd-tol-stop")
        assert sk.n_iter_ < sk.max_iter
        sk = _sk_fit("sgd-adaptive")
        assert sk.n_iter_ < sk.max_iter  # stopped because the learning rate got too small
        sk = _sk_fit("adam-no-change-inf")
        assert sk.n_iter_ == sk.max_iter


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("solver_params", [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="adam", early_stopping=True, max_iter=5),
], ids=["adam", "sgd", "adam-early-stopping"])
def test_target_types_parity_with_sklearn(target, solver_params):
    X, y = TARGETS[target]
    cs, sk = fit_both(make_params(**solver_params), X, y)
    assert_same_model(cs, sk, X)
    expected_out = {"multiclass": "softmax", "string": "softmax",
                    "odd-int-labels": "softmax"}.get(target, "logistic")
    assert cs.out_activation_ == expected_out
    assert cs.n_outputs_ == {"multiclass": 10, "string": 10, "multilabel": 4,
                             "odd-int-labels": 3}.get(target, 1)
    assert cs.n_layers_ == 3
    proba = cs.predict_proba(X)
    n_cols = 2 if target.startswith("binary") else len(cs.classes_)
    assert proba.shape == (X.shape[0], n_cols)
    if target == "multilabel":
        assert cs.predict(X).shape == Y_MULTILABEL.shape
    else:
        assert_array_equal(cs.predict(X), cs.classes_[np.argmax(proba, axis=1)])


@IGNORE_CONVERGENCE
def test_early_stopping_binary_is_stratified_like_sklearn():
    # Binary targets are split with stratification, consuming random numbers
    # differently from the unstratified multiclass split.
    y = np.r_[np.zeros(90, dtype=int), np.ones(30, dtype=int)]
    X = X_DIGITS[:120]
    params = make_params(solver="adam", early_stopping=True, validation_fraction=0.25, max_iter=4)
    cs, sk = fit_both(params, X, y)
    assert_same_model(cs, sk, X)


@IGNORE_CONVERGENCE
def test_random_state_instance_consumption_matches_sklearn():
    params = make_params(solver="adam", early_stopping=True, max_iter=3)
    rs_cs, rs_sk = np.random.RandomState(7), np.random.RandomState(7)
    cs = MLPClassifier(**dict(params, random_state=rs_cs)).fit(X_SMALL, Y_SMALL)
    sk = SKMLPClassifier(**dict(params, random_state=rs_sk)).fit(X_SMALL, Y_SMALL)
    assert_same_model(cs, sk)
    s_cs, s_sk = rs_cs.get_state(), rs_sk.get_state()
    assert s_cs[2] == s_sk[2]
    assert_array_equal(s_cs[1], s_sk[1])
    # A second fit continues the same stream.
    cs.fit(X_SMALL, Y_SMALL)
    sk.fit(X_SMALL, Y_SMALL)
    assert_same_model(cs, sk)


@IGNORE_CONVERGENCE
def test_random_state_none_uses_global_rng_like_sklearn():
    params = make_params(solver="sgd", learning_rate_init=0.05, random_state=None, max_iter=2)
    np.random.seed(3)
    cs = MLPClassifier(**params).fit(X_SMALL, Y_SMALL)
    np.random.seed(3)
    sk = SKMLPClassifier(**params).fit(X_SMALL, Y_SMALL)
    assert_same_model(cs, sk)


# ---------------------------------------------------------------------------
# Parity with scikit-learn, L-BFGS
# ---------------------------------------------------------------------------
@IGNORE_CONVERGENCE
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("extra", [
    dict(),
    dict(activation="tanh", alpha=1e-2),
    dict(hidden_layer_sizes=(12, 6), activation="logistic"),
], ids=["relu", "tanh-alpha", "two-layers-logistic"])
def test_lbfgs_parity_with_sklearn(target, extra):
    X, y = TARGETS[target]
    params = make_params(solver="lbfgs", max_iter=15, **extra)
    cs, sk = fit_both(params, X, y)
    assert_same_model(cs, sk, X, rtol=LBFGS_RTOL, atol=LBFGS_ATOL)
    assert cs.t_ == 0
    assert not hasattr(cs, "loss_curve_")
    assert cs.loss_ == pytest.approx(sk.loss_, rel=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lbfgs_max_fun_and_sample_weight_parity():
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=len(Y_SMALL))
    cs, sk = fit_both(make_params(solver="lbfgs", max_iter=15), X_SMALL, Y_SMALL,
                       sample_weight=sw)
    assert_same_model(cs, sk, X_SMALL, rtol=LBFGS_RTOL, atol=LBFGS_ATOL)
    cs, sk = fit_both(make_params(solver="lbfgs", max_iter=200, max_fun=7), X_SMALL, Y_SMALL)
    assert sk.n_iter_ < 15
    assert_same_model(cs, sk, X_SMALL, rtol=LBFGS_RTOL, atol=LBFGS_ATOL)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver_params", [
    dict(solver="lbfgs"),
    dict(solver="adam"),
    dict(solver="sgd", early_stopping=True),
], ids=["lbfgs", "adam", "sgd-early-stopping"])
def test_loss_attributes_are_numpy_float64_like_sklearn(solver_params, dtype):
    X = X_SMALL.astype(dtype)
    params = make_params(max_iter=3, **solver_params)
    cs, sk = fit_both(params, X, Y_SMALL)
    assert type(sk.loss_) is type(cs.loss_) is np.float64
    if solver_params["solver"] != "lbfgs":
        for model in (cs, sk):
            assert {type(v) for v in model.loss_curve_} == {np.float64}
        expected = type(None) if params.get("early_stopping") else np.float64
        assert type(sk.best_loss_) is type(cs.best_loss_) is expected
    if solver_params["solver"] == "adam":
        cs.partial_fit(X, Y_SMALL)
        sk.partial_fit(X, Y_SMALL)
        assert type(sk.loss_) is type(cs.loss_) is type(cs.loss_curve_[-1]) is np.float64


# ---------------------------------------------------------------------------
# verbose output and warnings, identical to scikit-learn
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("params", [
    make_params(solver="adam", verbose=True, max_iter=4),
    make_params(solver="adam", verbose=True, tol=0.05, n_iter_no_change=2, max_iter=30),
    make_params(**STOCHASTIC_CONFIGS["adam-early-stopping"], verbose=True),
    make_params(**STOCHASTIC_CONFIGS["sgd-adaptive"], verbose=True),
    make_params(**STOCHASTIC_CONFIGS["sgd-early-stopping-adaptive"], verbose=2),
    make_params(solver="lbfgs", verbose=True, max_iter=5),
], ids=["adam-max-iter", "adam-tol", "early-stopping", "sgd-adaptive",
        "sgd-early-stopping-adaptive", "lbfgs"])
def test_verbose_output_matches_sklearn(params, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        capsys.readouterr()
        SKMLPClassifier(**params).fit(X_SMALL, Y_SMALL)
        expected = capsys.readouterr().out
        MLPClassifier(**params).fit(X_SMALL, Y_SMALL)
        got = capsys.readouterr().out
    if params["solver"] != "lbfgs":
        assert expected.startswith("Iteration 1, loss = ")
    assert got == expected


def test_verbose_partial_fit_matches_sklearn(capsys):
    outs = []
    for cls in (SKMLPClassifier, MLPClassifier):
        capsys.readouterr()
        est = cls(**make_params(verbose=True))
        est.partial_fit(X_SMALL[:200], Y_SMALL[:200], classes=np.arange(10))
        est.partial_fit(X_SMALL[200:], Y_SMALL[200:])
        outs.append(capsys.readouterr().out)
    assert outs[0].count("Iteration") == 2
    assert outs[1] == outs[0]


@pytest.mark.parametrize("case", [
    "adam-max-iter", "adam-converged", "sgd-max-iter", "lbfgs-max-iter",
    "lbfgs-max-fun", "batch-size-too-large", "column-vector-y", "early-stopping-max-iter",
])
def test_warnings_match_sklearn(case):
    X, y = X_SMALL, Y_SMALL
    params = {
        "adam-max-iter": make_params(max_iter=2),
        "adam-converged": make_params(tol=0.5, n_iter_no_change=1, max_iter=50),
        "sgd-max-iter": make_params(solver="sgd", max_iter=2),
        "lbfgs-max-iter": make_params(solver="lbfgs", max_iter=3),
        "lbfgs-max-fun": make_params(solver="lbfgs", max_iter=100, max_fun=5),
        "batch-size-too-large": make_params(batch_size=1000, max_iter=2),
        "column-vector-y": make_params(max_iter=2),
        "early-stopping-max-iter": make_params(early_stopping=True, max_iter=2),
    }[case]
    if case == "column-vector-y":
        y = Y_SMALL.reshape(-1, 1)
    expected = warnings_of(lambda: SKMLPClassifier(**params).fit(X, y))
    got = warnings_of(lambda: MLPClassifier(**params).fit(X, y))
    if case == "adam-converged":
        assert expected == []
    else:
        assert len(expected) >= 1
    assert got == expected


def test_convergence_warning_category():
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(2\) reached"):
        MLPClassifier(**make_params(max_iter=2)).fit(X_SMALL, Y_SMALL)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        MLPClassifier(**make_params(solver="lbfgs", max_iter=2)).fit(X_SMALL, Y_SMALL)
    with pytest.warns(DataConversionWarning):
        MLPClassifier(**make_params(max_iter=50, tol=0.5, n_iter_no_change=1)).fit(
            X_SMALL, Y_SMALL.reshape(-1, 1))


# ---------------------------------------------------------------------------
# Real data: MNIST test set (skips without the files)
# ---------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mnist_accuracy_at_least_sklearn(mnist_dir):
    X, y = csoftmax.datasets.load_mnist(path=mnist_dir)
    X, y = np.asarray(X), np.asarray(y)
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert y.shape == (10000,) and y.dtype.kind in "iu"
    assert set(np.unique(y)) == set(range(10))
    X_train, y_train, X_test, y_test = X[:8000], y[:8000], X[8000:], y[8000:]
    params = dict(hidden_layer_sizes=(100,), max_iter=20, random_state=0)

    t0 = time.perf_counter()
    cs = MLPClassifier(**params).fit(X_train, y_train)
    t_cs = time.perf_counter() - t0
    t0 = time.perf_counter()
    sk = SKMLPClassifier(**params).fit(X_train, y_train)
    t_sk = time.perf_counter() - t0

    acc_cs = cs.score(X_test, y_test)
    acc_sk = sk.score(X_test, y_test)
    assert cs.coefs_[0].dtype == np.float32
    print(f"\n[mnist 8000/2000, {params}]"
          f"\n  csoftmax.MLPClassifier : accuracy {acc_cs:.4f}  fit {t_cs:.2f} s"
          f"\n  sklearn  MLPClassifier : accuracy {acc_sk:.4f}  fit {t_sk:.2f} s"
          f"\n  speed-up {t_sk / t_cs:.2f}x (shared machine: informational only)")
    assert acc_cs >= acc_sk - 0.005
