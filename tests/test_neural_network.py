"""Tests for ``csoftmax.MLPClassifier``.

The estimator is a drop-in replacement for scikit-learn 1.9's
``sklearn.neural_network.MLPClassifier``, so scikit-learn itself is the main
oracle: with the same parameters, data and ``random_state`` it must draw the
same random numbers, take the same optimisation steps and end with the same
weights, loss curve, validation scores, verbose output, warnings and errors.

Tolerances.  Our kernels sum in a different order than NumPy/BLAS does inside
scikit-learn, so float64 weights agree to rounding, not bitwise.  Replaying
scikit-learn's own fit with the gradient sums reordered shows ~1e-12 relative
drift after the few epochs used below, so ``RTOL = 1e-6`` has six orders of
margin and still catches any algorithmic difference (a wrong learning-rate
schedule, momentum, batch order or regularisation term changes weights at the
1e-3 level).  L-BFGS amplifies rounding faster (line searches), so it is kept
to few iterations and compared a little more loosely.  Our loss is the exact
log-sum-exp cross-entropy while scikit-learn clips probabilities to
[eps, 1 - eps]; the two agree whenever no probability is that close to 0 or 1,
which holds for the short fits on normal data used here.

Data are small (``load_digits``, ``make_multilabel_classification``) and
networks tiny so that the whole file runs in well under a minute on 2 cores.
"""

import inspect
import pickle
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, log_expit, log_softmax
from sklearn.base import clone
from sklearn.datasets import load_digits, make_multilabel_classification
from sklearn.exceptions import (
    ConvergenceWarning,
    DataConversionWarning,
    NotFittedError,
    UnsetMetadataPassedError,
)
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SKMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

import csoftmax
from csoftmax import MLPClassifier

RTOL = 1e-6  # float64 parity with scikit-learn, stochastic solvers
ATOL = 1e-10
LBFGS_RTOL = 1e-5  # float64 parity with scikit-learn, L-BFGS (<= 15 iterations)
LBFGS_ATOL = 1e-8

IGNORE_CONVERGENCE = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
_DIGITS = load_digits()
X_DIGITS = _DIGITS.data / 16.0  # float64 in [0, 1], shape (1797, 64)
Y_DIGITS = _DIGITS.target
X_SMALL = X_DIGITS[:500]
Y_SMALL = Y_DIGITS[:500]
Y_BINARY = (Y_SMALL >= 5).astype(np.int64)
_NAMES = np.array(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    dtype=object,
)
Y_STRING = _NAMES[Y_SMALL]
_XM, Y_MULTILABEL = make_multilabel_classification(
    n_samples=300, n_features=20, n_classes=4, random_state=0
)
X_MULTILABEL = _XM / _XM.max()

TARGETS = {
    "multiclass": (X_SMALL, Y_SMALL),
    "binary": (X_SMALL, Y_BINARY),
    "multilabel": (X_MULTILABEL, Y_MULTILABEL),
    "string": (X_SMALL, Y_STRING),
    "binary-string": (X_SMALL, np.array(["no", "yes"], dtype=object)[Y_BINARY]),
    "binary-bool": (X_SMALL, Y_BINARY.astype(bool)),
    "odd-int-labels": (X_SMALL, np.array([-5, 2, 7])[Y_SMALL % 3]),
}

# Small networks, few epochs, a learning rate that moves the weights visibly.
BASE = dict(hidden_layer_sizes=(16,), max_iter=6, random_state=0, learning_rate_init=0.01)

FITTED_ATTRIBUTES = [
    "classes_",
    "loss_",
    "best_loss_",
    "loss_curve_",
    "validation_scores_",
    "best_validation_score_",
    "t_",
    "coefs_",
    "intercepts_",
    "n_features_in_",
    "feature_names_in_",
    "n_iter_",
    "n_layers_",
    "n_outputs_",
    "out_activation_",
]


def _params(**kw):
    p = dict(BASE)
    p.update(kw)
    return p


def _fit_both(params, X, y, **fit_params):
    cs = MLPClassifier(**params).fit(X, y, **fit_params)
    sk = SKMLPClassifier(**params).fit(X, y, **fit_params)
    return cs, sk


def assert_same_model(cs, sk, X=None, rtol=RTOL, atol=ATOL):
    """csoftmax model ``cs`` has the same fitted state as scikit-learn's ``sk``."""
    for name in FITTED_ATTRIBUTES:
        assert hasattr(cs, name) == hasattr(sk, name), (
            f"{name}: csoftmax has it={hasattr(cs, name)}, "
            f"scikit-learn has it={hasattr(sk, name)}"
        )
    for name in ("n_iter_", "t_", "n_layers_", "n_outputs_", "out_activation_",
                 "n_features_in_"):
        assert getattr(cs, name) == getattr(sk, name), (
            name, getattr(cs, name), getattr(sk, name))
    assert_array_equal(cs.classes_, sk.classes_)
    assert cs.classes_.dtype == sk.classes_.dtype
    assert isinstance(cs.coefs_, list) and isinstance(cs.intercepts_, list)
    assert len(cs.coefs_) == len(sk.coefs_) == len(cs.intercepts_)
    for i, (a, b) in enumerate(zip(cs.coefs_ + cs.intercepts_, sk.coefs_ + sk.intercepts_)):
        assert a.shape == b.shape, (i, a.shape, b.shape)
        assert a.dtype == b.dtype, (i, a.dtype, b.dtype)
        assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"parameter array {i}")
    assert_allclose(cs.loss_, sk.loss_, rtol=rtol)
    if hasattr(sk, "loss_curve_"):
        assert isinstance(cs.loss_curve_, list)
        assert len(cs.loss_curve_) == len(sk.loss_curve_)
        assert_allclose(cs.loss_curve_, sk.loss_curve_, rtol=rtol)
    if hasattr(sk, "best_loss_"):
        if sk.best_loss_ is None:
            assert cs.best_loss_ is None
        else:
            assert_allclose(cs.best_loss_, sk.best_loss_, rtol=rtol)
    if hasattr(sk, "validation_scores_"):
        if sk.validation_scores_ is None:
            assert cs.validation_scores_ is None
            assert cs.best_validation_score_ is None
        else:
            assert isinstance(cs.validation_scores_, list)
            # accuracies of identical predictions: exactly equal
            assert_allclose(cs.validation_scores_, sk.validation_scores_, rtol=1e-12)
            assert cs.best_validation_score_ == pytest.approx(
                sk.best_validation_score_, rel=1e-12)
    if X is not None:
        assert_array_equal(cs.predict(X), sk.predict(X))
        assert_allclose(cs.predict_proba(X), sk.predict_proba(X), rtol=rtol, atol=1e-9)


def _warnings_of(fn):
    """Run ``fn`` and return [(category, message)] of UserWarning subclasses."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fn()
    return [(w.category, str(w.message)) for w in rec if issubclass(w.category, UserWarning)]


def _logits(clf, X):
    """Raw output-layer values of a fitted network, computed in NumPy."""
    act = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0),
           "tanh": np.tanh, "logistic": expit}[clf.activation]
    a = np.asarray(X, dtype=np.float64)
    for i, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        a = a @ W.astype(np.float64) + b.astype(np.float64)
        if i < len(clf.coefs_) - 1:
            a = act(a)
    return a


def _sklearn_validation_indices(n_samples, layer_units, random_state,
                                validation_fraction=0.1, stratify=None):
    """Replay scikit-learn's random-number use (weight init draws, then
    train_test_split) to get the early-stopping validation indices."""
    rng = np.random.RandomState(random_state)
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        rng.uniform(-1.0, 1.0, (fan_in, fan_out))
        rng.uniform(-1.0, 1.0, fan_out)
    _, val = train_test_split(np.arange(n_samples), random_state=rng,
                              test_size=validation_fraction, stratify=stratify)
    return val


# ---------------------------------------------------------------------------
# API surface
# ---------------------------------------------------------------------------
def test_constructor_signature_matches_sklearn():
    cs_sig = inspect.signature(MLPClassifier.__init__).parameters
    sk_sig = inspect.signature(SKMLPClassifier.__init__).parameters
    for name, p in sk_sig.items():
        assert name in cs_sig, name
        assert cs_sig[name].kind == p.kind, (name, cs_sig[name].kind, p.kind)
        assert cs_sig[name].default == p.default, (name, cs_sig[name].default, p.default)
    # The parameters scikit-learn lacks are keyword-only with default None.
    extras = set(cs_sig) - set(sk_sig)
    assert extras == {"class_weight", "dtype", "n_threads"}
    for name in extras:
        assert cs_sig[name].kind == inspect.Parameter.KEYWORD_ONLY
        assert cs_sig[name].default is None
    # hidden_layer_sizes and activation positional, the rest keyword-only.
    clf = MLPClassifier((5,), "tanh")
    assert clf.hidden_layer_sizes == (5,) and clf.activation == "tanh"
    with pytest.raises(TypeError):
        MLPClassifier((5,), "tanh", "sgd")


def test_get_params_and_set_params():
    sk_keys = set(SKMLPClassifier().get_params())
    clf = MLPClassifier()
    assert set(clf.get_params()) == sk_keys | {"class_weight", "dtype", "n_threads"}
    for key, value in SKMLPClassifier().get_params().items():
        assert clf.get_params()[key] == value, key
    clf.set_params(alpha=0.5, class_weight="balanced", dtype=np.float32, n_threads=1)
    p = clf.get_params()
    assert p["alpha"] == 0.5 and p["class_weight"] == "balanced"
    assert p["dtype"] is np.float32 and p["n_threads"] == 1


def test_tags_match_sklearn():
    cs_tags, sk_tags = get_tags(MLPClassifier()), get_tags(SKMLPClassifier())
    assert cs_tags.estimator_type == "classifier"
    assert cs_tags.input_tags.sparse == sk_tags.input_tags.sparse is True
    assert cs_tags.classifier_tags.multi_label == sk_tags.classifier_tags.multi_label is True
    assert sklearn.base.is_classifier(MLPClassifier())


def test_unfitted_raises_not_fitted():
    clf = MLPClassifier()
    for method in ("predict", "predict_proba", "predict_log_proba"):
        with pytest.raises(NotFittedError):
            getattr(clf, method)(X_SMALL)


# ---------------------------------------------------------------------------
# Parity with scikit-learn, stochastic solvers
# ---------------------------------------------------------------------------
STOCHASTIC_CONFIGS = {
    "adam": dict(solver="adam"),
    "adam-no-shuffle": dict(solver="adam", shuffle=False),
    "adam-batch64": dict(solver="adam", batch_size=64),  # ragged last batch
    "adam-batch1": dict(solver="adam", batch_size=1, max_iter=1, learning_rate_init=1e-3),
    "adam-tanh": dict(solver="adam", activation="tanh"),
    "adam-logistic": dict(solver="adam", activation="logistic"),
    "adam-identity": dict(solver="adam", activation="identity"),
    "adam-two-layers": dict(solver="adam", hidden_layer_sizes=(16, 8)),
    "adam-int-layers": dict(solver="adam", hidden_layer_sizes=12),
    "adam-list-layers": dict(solver="adam", hidden_layer_sizes=[12, 6]),
    "adam-batch-too-large": dict(solver="adam", batch_size=1000),  # clipped to n
    "adam-alpha": dict(solver="adam", alpha=0.5),
    "adam-betas": dict(solver="adam", beta_1=0.8, beta_2=0.99, epsilon=1e-6),
    "adam-tol-stop": dict(solver="adam", tol=0.05, n_iter_no_change=2, max_iter=30),
    "adam-no-change-inf": dict(solver="adam", n_iter_no_change=np.inf, tol=1e9, max_iter=8),
    "adam-early-stopping": dict(solver="adam", early_stopping=True, n_iter_no_change=2,
                                max_iter=30, learning_rate_init=0.05),
    "adam-early-stopping-vf": dict(solver="adam", early_stopping=True,
                                   validation_fraction=0.3, max_iter=4),
    "sgd-nesterov": dict(solver="sgd", learning_rate_init=0.05),
    "sgd-momentum": dict(solver="sgd", nesterovs_momentum=False, learning_rate_init=0.05),
    "sgd-no-momentum": dict(solver="sgd", momentum=0.0, learning_rate_init=0.05),
    "sgd-tol-stop": dict(solver="sgd", learning_rate_init=0.05, tol=0.05,
                         n_iter_no_change=2, max_iter=30),
    "sgd-invscaling": dict(solver="sgd", learning_rate="invscaling",
                           learning_rate_init=0.5, power_t=0.25),
    "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05,
                         tol=0.2, n_iter_no_change=1, max_iter=20),
    "sgd-early-stopping-adaptive": dict(solver="sgd", early_stopping=True,
                                        learning_rate="adaptive", learning_rate_init=0.2,
                                        n_iter_no_change=1, max_iter=25, tol=0.01),
}


@IGNORE_CONVERGENCE
@pytest.mark.filterwarnings("ignore:Got `batch_size` less than 1:UserWarning")
@pytest.mark.parametrize("config", list(STOCHASTIC_CONFIGS), ids=list(STOCHASTIC_CONFIGS))
def test_stochastic_parity_with_sklearn(config):
    params = _params(**STOCHASTIC_CONFIGS[config])
    cs, sk = _fit_both(params, X_SMALL, Y_SMALL)
    assert_same_model(cs, sk, X_DIGITS)


def test_stochastic_configs_exercise_their_feature():
    """Preconditions: each config above really triggers what it is named for,
    so the parity test would notice an implementation that ignores it."""

    def _sk_fit(name):
        return SKMLPClassifier(**_params(**STOCHASTIC_CONFIGS[name])).fit(X_SMALL, Y_SMALL)

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
    cs, sk = _fit_both(_params(**solver_params), X, y)
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
@pytest.mark.parametrize("solver_params", [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="adam", early_stopping=True, max_iter=5),
    dict(solver="adam", batch_size=64, shuffle=False),
], ids=["adam", "sgd", "adam-early-stopping", "adam-batch64-noshuffle"])
def test_sample_weight_parity_with_sklearn(solver_params):
    sw = np.random.RandomState(1).uniform(0.1, 3.0, size=X_SMALL.shape[0])
    cs, sk = _fit_both(_params(**solver_params), X_SMALL, Y_SMALL, sample_weight=sw)
    assert_same_model(cs, sk, X_SMALL)
    # and the weights matter
    unweighted = MLPClassifier(**_params(**solver_params)).fit(X_SMALL, Y_SMALL)
    assert not np.allclose(unweighted.coefs_[0], cs.coefs_[0], rtol=1e-4)


@IGNORE_CONVERGENCE
def test_early_stopping_restores_best_weights():
    params = _params(**STOCHASTIC_CONFIGS["adam-early-stopping"])
    full = MLPClassifier(**params).fit(X_SMALL, Y_SMALL)
    assert full.best_loss_ is None
    assert full.best_validation_score_ == max(full.validation_scores_)
    assert len(full.validation_scores_) == full.n_iter_ == len(full.loss_curve_)
    best_epoch = int(np.argmax(full.validation_scores_))  # first maximum wins
    assert best_epoch < full.n_iter_ - 1
    # The same run cut right after the best epoch ends with the restored weights.
    cut = MLPClassifier(**dict(params, max_iter=best_epoch + 1)).fit(X_SMALL, Y_SMALL)
    for a, b in zip(full.coefs_ + full.intercepts_, cut.coefs_ + cut.intercepts_):
        assert_array_equal(a, b)
    # The restored network scores best_validation_score_ on the validation split.
    val = _sklearn_validation_indices(len(Y_SMALL), [64, 16, 10], 0)
    assert full.score(X_SMALL[val], Y_SMALL[val]) == pytest.approx(
        full.best_validation_score_, rel=1e-12)


@IGNORE_CONVERGENCE
def test_early_stopping_binary_is_stratified_like_sklearn():
    # Binary targets are split with stratification, consuming random numbers
    # differently from the unstratified multiclass split.
    y = np.r_[np.zeros(90, dtype=int), np.ones(30, dtype=int)]
    X = X_DIGITS[:120]
    params = _params(solver="adam", early_stopping=True, validation_fraction=0.25, max_iter=4)
    cs, sk = _fit_both(params, X, y)
    assert_same_model(cs, sk, X)


@IGNORE_CONVERGENCE
def test_random_state_instance_consumption_matches_sklearn():
    params = _params(solver="adam", early_stopping=True, max_iter=3)
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
    params = _params(solver="sgd", learning_rate_init=0.05, random_state=None, max_iter=2)
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
    params = _params(solver="lbfgs", max_iter=15, **extra)
    cs, sk = _fit_both(params, X, y)
    assert_same_model(cs, sk, X, rtol=LBFGS_RTOL, atol=LBFGS_ATOL)
    assert cs.t_ == 0
    assert not hasattr(cs, "loss_curve_")
    assert cs.loss_ == pytest.approx(sk.loss_, rel=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lbfgs_max_fun_and_sample_weight_parity():
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=len(Y_SMALL))
    cs, sk = _fit_both(_params(solver="lbfgs", max_iter=15), X_SMALL, Y_SMALL,
                       sample_weight=sw)
    assert_same_model(cs, sk, X_SMALL, rtol=LBFGS_RTOL, atol=LBFGS_ATOL)
    cs, sk = _fit_both(_params(solver="lbfgs", max_iter=200, max_fun=7), X_SMALL, Y_SMALL)
    assert sk.n_iter_ < 15
    assert_same_model(cs, sk, X_SMALL, rtol=LBFGS_RTOL, atol=LBFGS_ATOL)


def test_lbfgs_converges_on_easy_problem():
    X = np.r_[np.zeros((10, 2)), np.ones((10, 2))]
    y = np.r_[np.zeros(10, dtype=int), np.ones(10, dtype=int)]
    clf = MLPClassifier((4,), solver="lbfgs", random_state=0, tol=1e-2, max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ < 500
    assert clf.score(X, y) == 1.0


# ---------------------------------------------------------------------------
# warm_start and partial_fit sequences
# ---------------------------------------------------------------------------
@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver_params", [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5),
    dict(solver="adam", early_stopping=True),
    dict(solver="lbfgs", max_iter=8),
], ids=["adam", "sgd-invscaling", "adam-early-stopping", "lbfgs"])
def test_warm_start_parity_with_sklearn(solver_params):
    params = _params(**dict(dict(max_iter=3), **solver_params))
    cs, sk = _fit_both(params, X_SMALL, Y_SMALL)
    for est in (cs, sk):
        est.set_params(warm_start=True, max_iter=4)
        est.fit(X_SMALL, Y_SMALL)
    rtol, atol = (LBFGS_RTOL, LBFGS_ATOL) if params["solver"] == "lbfgs" else (RTOL, ATOL)
    assert_same_model(cs, sk, X_SMALL, rtol=rtol, atol=atol)
    if params["solver"] != "lbfgs":
        assert len(cs.loss_curve_) == 7  # the curve continues
        assert cs.n_iter_ == 4


@IGNORE_CONVERGENCE
def test_warm_start_false_refits_from_scratch():
    params = _params(solver="adam", max_iter=3)
    a = MLPClassifier(**params).fit(X_SMALL, Y_SMALL)
    a.fit(X_SMALL, Y_SMALL)
    b = MLPClassifier(**params).fit(X_SMALL, Y_SMALL)
    for u, v in zip(a.coefs_, b.coefs_):
        assert_array_equal(u, v)
    assert len(a.loss_curve_) == 3


@IGNORE_CONVERGENCE
def test_warm_start_rejects_new_classes_like_sklearn():
    for cls in (MLPClassifier, SKMLPClassifier):
        clf = cls(**_params(warm_start=True, max_iter=2)).fit(X_SMALL, Y_SMALL)
        with pytest.raises(ValueError, match="warm_start can only be used"):
            clf.fit(X_SMALL[Y_SMALL < 5], Y_SMALL[Y_SMALL < 5])


@pytest.mark.parametrize("solver_params", [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5,
         nesterovs_momentum=False),
], ids=["adam", "sgd", "sgd-invscaling"])
@pytest.mark.parametrize("random_state", [0, "instance"])
def test_partial_fit_sequence_parity_with_sklearn(solver_params, random_state):
    rs = (lambda: np.random.RandomState(5)) if random_state == "instance" else (lambda: 0)
    params = _params(**solver_params)
    cs = MLPClassifier(**dict(params, random_state=rs()))
    sk = SKMLPClassifier(**dict(params, random_state=rs()))
    classes = np.unique(Y_DIGITS)
    chunks = [slice(0, 150), slice(150, 230), slice(230, 500), slice(0, 37)]
    sw = np.random.RandomState(2).uniform(0.5, 2.0, size=len(Y_SMALL))
    for k, chunk in enumerate(chunks):
        kw = dict(classes=classes) if k == 0 else {}
        if k == 2:
            kw["sample_weight"] = sw[chunk]
        for est in (cs, sk):
            assert est.partial_fit(X_SMALL[chunk], Y_SMALL[chunk], **kw) is est
        assert_same_model(cs, sk)
        assert cs.n_iter_ == 1
    assert len(cs.loss_curve_) == len(chunks)
    assert cs.t_ == 150 + 80 + 270 + 37
    assert_same_model(cs, sk, X_DIGITS)


def test_partial_fit_subset_of_classes_parity():
    cs = MLPClassifier(**_params())
    sk = SKMLPClassifier(**_params())
    classes = np.arange(10)
    m = Y_SMALL < 3  # first batch only sees three of the ten classes
    for est in (cs, sk):
        est.partial_fit(X_SMALL[m], Y_SMALL[m], classes=classes)
        est.partial_fit(X_SMALL, Y_SMALL)
    assert_array_equal(cs.classes_, classes)
    assert cs.predict_proba(X_SMALL).shape == (500, 10)
    assert_same_model(cs, sk, X_SMALL)


def test_partial_fit_binary_and_multilabel_parity():
    cs = MLPClassifier(**_params())
    sk = SKMLPClassifier(**_params())
    for est in (cs, sk):
        est.partial_fit(X_SMALL[:200], Y_BINARY[:200], classes=[0, 1])
        est.partial_fit(X_SMALL[200:], Y_BINARY[200:])
    assert_same_model(cs, sk, X_SMALL)
    cs = MLPClassifier(**_params())
    sk = SKMLPClassifier(**_params())
    for est in (cs, sk):
        est.partial_fit(X_MULTILABEL[:150], Y_MULTILABEL[:150], classes=np.arange(4))
        est.partial_fit(X_MULTILABEL[150:], Y_MULTILABEL[150:])
    assert_same_model(cs, sk, X_MULTILABEL)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_fit_then_partial_fit_continues_optimizer_like_sklearn(solver):
    cs, sk = _fit_both(_params(solver=solver, max_iter=3), X_SMALL, Y_SMALL)
    for _ in range(2):
        cs.partial_fit(X_SMALL[:300], Y_SMALL[:300])
        sk.partial_fit(X_SMALL[:300], Y_SMALL[:300])
    assert_same_model(cs, sk, X_SMALL)
    assert cs.t_ == 3 * 500 + 2 * 300


# ---------------------------------------------------------------------------
# verbose output and warnings, identical to scikit-learn
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("params", [
    _params(solver="adam", verbose=True, max_iter=4),
    _params(solver="adam", verbose=True, tol=0.05, n_iter_no_change=2, max_iter=30),
    _params(**STOCHASTIC_CONFIGS["adam-early-stopping"], verbose=True),
    _params(**STOCHASTIC_CONFIGS["sgd-adaptive"], verbose=True),
    _params(**STOCHASTIC_CONFIGS["sgd-early-stopping-adaptive"], verbose=2),
    _params(solver="lbfgs", verbose=True, max_iter=5),
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
        est = cls(**_params(verbose=True))
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
        "adam-max-iter": _params(max_iter=2),
        "adam-converged": _params(tol=0.5, n_iter_no_change=1, max_iter=50),
        "sgd-max-iter": _params(solver="sgd", max_iter=2),
        "lbfgs-max-iter": _params(solver="lbfgs", max_iter=3),
        "lbfgs-max-fun": _params(solver="lbfgs", max_iter=100, max_fun=5),
        "batch-size-too-large": _params(batch_size=1000, max_iter=2),
        "column-vector-y": _params(max_iter=2),
        "early-stopping-max-iter": _params(early_stopping=True, max_iter=2),
    }[case]
    if case == "column-vector-y":
        y = Y_SMALL.reshape(-1, 1)
    expected = _warnings_of(lambda: SKMLPClassifier(**params).fit(X, y))
    got = _warnings_of(lambda: MLPClassifier(**params).fit(X, y))
    if case == "adam-converged":
        assert expected == []
    else:
        assert len(expected) >= 1
    assert got == expected


def test_convergence_warning_category():
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(2\) reached"):
        MLPClassifier(**_params(max_iter=2)).fit(X_SMALL, Y_SMALL)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        MLPClassifier(**_params(solver="lbfgs", max_iter=2)).fit(X_SMALL, Y_SMALL)
    with pytest.warns(DataConversionWarning):
        MLPClassifier(**_params(max_iter=50, tol=0.5, n_iter_no_change=1)).fit(
            X_SMALL, Y_SMALL.reshape(-1, 1))


# ---------------------------------------------------------------------------
# Parameter validation: same error types as scikit-learn, raised at fit time
# ---------------------------------------------------------------------------
BAD_PARAMS = [
    dict(alpha=-1),
    dict(hidden_layer_sizes=(0,)),
    dict(hidden_layer_sizes=(5, -2)),
    dict(hidden_layer_sizes=0),
    dict(activation="softmax"),
    dict(solver="foo"),
    dict(batch_size=0),
    dict(batch_size="big"),
    dict(learning_rate="foo"),
    dict(learning_rate_init=0.0),
    dict(power_t=-0.5),
    dict(max_iter=0),
    dict(tol=-1.0),
    dict(momentum=1.5),
    dict(validation_fraction=1.0),
    dict(beta_1=1.0),
    dict(beta_2=-0.1),
    dict(epsilon=0.0),
    dict(n_iter_no_change=0),
    dict(max_fun=0),
]


@pytest.mark.parametrize("bad", BAD_PARAMS, ids=[repr(b) for b in BAD_PARAMS])
def test_bad_params_raise_like_sklearn(bad):
    name = next(iter(bad))
    MLPClassifier(**bad)  # __init__ only stores parameters
    with pytest.raises(ValueError) as sk_err:
        SKMLPClassifier(**bad).fit(X_SMALL[:50], Y_SMALL[:50])
    with pytest.raises(ValueError, match=name) as cs_err:
        MLPClassifier(**bad).fit(X_SMALL[:50], Y_SMALL[:50])
    # Whatever built-in exception classes scikit-learn's error derives from
    # (InvalidParameterError is a ValueError and a TypeError), ours does too,
    # so user code catching either keeps working.
    for base in (ValueError, TypeError):
        if isinstance(sk_err.value, base):
            assert isinstance(cs_err.value, base), (type(cs_err.value).__mro__, base)


@pytest.mark.parametrize("bad", [
    dict(n_threads=0), dict(class_weight="foo"),
], ids=["n_threads=0", "class_weight=foo"])
def test_bad_extra_params_raise_value_error(bad):
    name = next(iter(bad))
    clf = MLPClassifier(**bad, max_iter=1)  # not at construction
    with pytest.raises(ValueError, match=name):
        clf.fit(X_SMALL[:50], Y_SMALL[:50])


def test_partial_fit_errors_like_sklearn():
    X, y = X_SMALL[:50], Y_SMALL[:50]
    for cls in (SKMLPClassifier, MLPClassifier):
        with pytest.raises(ValueError, match="classes must be passed"):
            cls().partial_fit(X, y)
        with pytest.raises(ValueError, match="early_stopping"):
            cls(early_stopping=True).partial_fit(X, y, classes=np.arange(10))
        assert not hasattr(cls(solver="lbfgs"), "partial_fit")
        with pytest.raises(AttributeError):
            cls(solver="lbfgs").partial_fit
        clf = cls(random_state=0).partial_fit(X[y < 5], y[y < 5], classes=np.arange(5))
        with pytest.raises(ValueError, match="classes"):
            clf.partial_fit(X, y)  # labels 5..9 are not in classes_
        with pytest.raises(ValueError, match="classes"):
            clf.partial_fit(X[y < 5], y[y < 5], classes=np.arange(6))


@IGNORE_CONVERGENCE
def test_fitted_then_early_stopping_partial_fit_raises():
    clf = MLPClassifier(**_params(early_stopping=True, max_iter=2)).fit(X_SMALL, Y_SMALL)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        clf.partial_fit(X_SMALL, Y_SMALL)


def test_data_errors_like_sklearn():
    Xnan = X_SMALL[:50].copy()
    Xnan[3, 4] = np.nan
    for cls in (SKMLPClassifier, MLPClassifier):
        with pytest.raises(ValueError):
            cls(max_iter=1).fit(Xnan, Y_SMALL[:50])
        with pytest.raises(ValueError, match="validation set is too small"):
            cls(early_stopping=True).fit(X_SMALL[:10], np.arange(10) % 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(**_params(max_iter=1)).fit(X_SMALL, Y_SMALL)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X_SMALL[:, :10])


def test_non_finite_weights_raise_like_sklearn():
    X = np.full((10, 2), np.finfo(np.float64).max) * np.random.RandomState(0).uniform(size=(10, 2))
    y = np.arange(10) % 2
    msg = "Solver produced non-finite parameter weights"
    for cls in (SKMLPClassifier, MLPClassifier):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError, match=msg):
                cls(solver="sgd", max_iter=3, random_state=0).fit(X, y)


# ---------------------------------------------------------------------------
# Inputs: dense/sparse, label types, dtypes
# ---------------------------------------------------------------------------
@IGNORE_CONVERGENCE
@pytest.mark.parametrize("fmt", ["csr", "csc", "csr_array"])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_sparse_input_same_as_dense(fmt, solver):
    # digits are ~50% zeros: a genuinely sparse matrix
    Xs = {"csr": sp.csr_matrix, "csc": sp.csc_matrix, "csr_array": sp.csr_array}[fmt](X_SMALL)
    params = _params(solver=solver, max_iter=10 if solver == "lbfgs" else 4)
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
    Xi = _DIGITS.data[:300].astype(np.int64)  # integer pixels: converted to float64
    cs, sk = _fit_both(_params(max_iter=3), Xi, Y_SMALL[:300])
    assert cs.coefs_[0].dtype == np.float64
    assert_same_model(cs, sk, Xi)
    cs2 = MLPClassifier(**_params(max_iter=3)).fit(Xi.tolist(), Y_SMALL[:300].tolist())
    for a, b in zip(cs.coefs_, cs2.coefs_):
        assert_array_equal(a, b)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_memory_layout_does_not_matter(solver):
    params = _params(solver=solver, max_iter=10 if solver == "lbfgs" else 3)
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
    ints = MLPClassifier(**_params()).fit(X_SMALL, Y_SMALL)
    # names sorted alphabetically give a different class order: map back
    strs = MLPClassifier(**_params()).fit(X_SMALL, Y_STRING)
    assert_array_equal(strs.classes_, np.sort(_NAMES))
    assert set(strs.predict(X_SMALL)) <= set(_NAMES)
    order = np.argsort(_NAMES)  # integer class for each sorted name
    relabel = MLPClassifier(**_params()).fit(X_SMALL, np.argsort(order)[Y_SMALL])
    for a, b in zip(strs.coefs_, relabel.coefs_):
        assert_array_equal(a, b)
    assert_array_equal(strs.predict(X_SMALL), _NAMES[order][relabel.predict(X_SMALL)])
    assert ints.classes_.dtype.kind == "i"


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_dtype_is_kept(solver, dtype):
    X = X_SMALL.astype(dtype)
    clf = MLPClassifier(**_params(solver=solver, max_iter=3)).fit(X, Y_SMALL)
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
    cs, sk = _fit_both(_params(**solver_params), X, Y_SMALL)
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
    params = _params(solver=solver, max_iter=3)
    forced = MLPClassifier(**params, dtype=np.float32).fit(X64, Y_SMALL)
    native = MLPClassifier(**params).fit(X32, Y_SMALL)
    for a, b in zip(forced.coefs_ + forced.intercepts_, native.coefs_ + native.intercepts_):
        assert a.dtype == np.float32
        assert_array_equal(a, b)  # same float32 computation
    assert_array_equal(forced.predict(X64), native.predict(X32))
    assert forced.loss_ == native.loss_
    proba = forced.predict_proba(X64)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


@IGNORE_CONVERGENCE
def test_dtype_none_keeps_float64():
    clf = MLPClassifier(**_params(max_iter=2), dtype=None).fit(X_SMALL, Y_SMALL)
    assert clf.coefs_[0].dtype == np.float64


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("target", ["multiclass", "binary", "string"])
def test_predict_proba_rows_sum_to_one(target):
    X, y = TARGETS[target]
    clf = MLPClassifier(**_params()).fit(X, y)
    proba = clf.predict_proba(X_DIGITS)
    assert np.all(proba >= 0) and np.all(proba <= 1)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    log_proba = clf.predict_log_proba(X_DIGITS)
    assert_allclose(log_proba, np.log(proba), rtol=1e-10, atol=1e-12)
    assert_array_equal(clf.predict(X_DIGITS), clf.classes_[np.argmax(proba, axis=1)])


@IGNORE_CONVERGENCE
def test_multilabel_outputs():
    clf = MLPClassifier(**_params()).fit(X_MULTILABEL, Y_MULTILABEL)
    proba = clf.predict_proba(X_MULTILABEL)
    assert proba.shape == Y_MULTILABEL.shape
    assert_allclose(proba, expit(_logits(clf, X_MULTILABEL)), rtol=1e-10, atol=1e-15)
    assert_array_equal(clf.predict(X_MULTILABEL), (proba > 0.5).astype(int))
    assert_allclose(clf.predict_log_proba(X_MULTILABEL), np.log(proba), rtol=1e-10)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel"])
def test_predict_log_proba_finite_for_extreme_logits(target, dtype):
    X, y = TARGETS[target]
    X = X.astype(dtype)
    clf = MLPClassifier(**_params(max_iter=3)).fit(X, y)
    # in place: logits of order 1e2..1e4, far beyond where exp() underflows
    scale = 1e4 if dtype == np.float64 else 1e3
    clf.coefs_[-1] *= scale
    clf.intercepts_[-1] *= scale
    z = _logits(clf, X)
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
    params = _params(solver=solver, max_iter=10 if solver == "lbfgs" else 4)
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
    a = MLPClassifier(**_params(), class_weight=cw).fit(X_SMALL, Y_STRING)
    w = np.where(Y_STRING == "three", 4.0, np.where(Y_STRING == "seven", 0.25, 1.0))
    b = MLPClassifier(**_params()).fit(X_SMALL, Y_STRING, sample_weight=w)
    for u, v in zip(a.coefs_, b.coefs_):
        assert_allclose(u, v, rtol=1e-10, atol=1e-14)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_class_weight_times_sample_weight(solver):
    sw = np.random.RandomState(4).uniform(0.2, 2.0, size=len(Y_SMALL))
    cw = {1: 5.0, 2: 0.2}
    params = _params(solver=solver, max_iter=10 if solver == "lbfgs" else 4)
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
    a = MLPClassifier(**_params(), class_weight=cw)
    b = MLPClassifier(**_params())
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
    params = _params(early_stopping=True, max_iter=5)
    cs = MLPClassifier(**params, class_weight=cw).fit(X_SMALL, Y_SMALL)
    sk = SKMLPClassifier(**params).fit(X_SMALL, Y_SMALL, sample_weight=_cw_y(cw, Y_SMALL))
    assert_same_model(cs, sk, X_SMALL)


@IGNORE_CONVERGENCE
def test_class_weight_honoured_by_early_stopping_score():
    cw = {c: float(1 + 3 * (c % 3)) for c in range(10)}  # weights 1, 4, 7
    params = _params(early_stopping=True, n_iter_no_change=2, max_iter=30,
                     learning_rate_init=0.05)
    clf = MLPClassifier(**params, class_weight=cw).fit(X_SMALL, Y_SMALL)
    val = _sklearn_validation_indices(len(Y_SMALL), [64, 16, 10], 0)
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
    params = _params(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20)
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
    params = _params(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20)
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
    z = _logits(clf, X)
    if target == "multiclass":
        per_sample = -log_softmax(z, axis=1)[np.arange(len(y)), y]
    else:
        per_sample = -(y * log_expit(z[:, 0]) + (1 - y) * log_expit(-z[:, 0]))
    assert per_sample.max() > 40  # beyond where scikit-learn clips
    l2 = sum(np.sum(W.astype(np.float64) ** 2) for W in clf.coefs_)
    expected = (np.sum(sw * per_sample) + 0.5 * alpha * l2) / np.sum(sw)
    assert clf.loss_ == pytest.approx(expected, rel=1e-10)
    assert clf.loss_curve_[-1] == clf.loss_


# ---------------------------------------------------------------------------
# Architecture: no Python per minibatch
# ---------------------------------------------------------------------------
def _python_events_during(fn):
    """Number of Python and C-function call events seen by the profiler."""
    import sys

    count = [0]

    def prof(frame, event, arg):
        if event in ("call", "c_call"):
            count[0] += 1

    sys.setprofile(prof)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count[0]


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_no_python_per_minibatch(solver):
    # 2 epochs x 500 samples: batch_size=1 makes 1000 minibatches, batch_size=500
    # makes 2.  Python work per epoch is fine; per minibatch it is not, so the
    # two fits must trigger about the same number of Python-level calls.
    X, y = X_SMALL, Y_SMALL

    def fit(batch_size):
        return lambda: MLPClassifier((8,), solver=solver, batch_size=batch_size, max_iter=2,
                                     random_state=0, shuffle=True).fit(X, y)

    fit(1)()  # warm imports and caches
    few = _python_events_during(fit(500))
    many = _python_events_during(fit(1))
    assert many - few < 200, (few, many)


# ---------------------------------------------------------------------------
# Reproducibility and threads
# ---------------------------------------------------------------------------
@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver_params", [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="lbfgs", max_iter=20),
    dict(solver="adam", early_stopping=True),
], ids=["adam", "sgd", "lbfgs", "adam-early-stopping"])
@pytest.mark.parametrize("sparse", [False, True])
def test_bitwise_reproducible_across_runs_and_threads(solver_params, sparse):
    # all of digits, 64 hidden units, so that work is split between threads
    X = sp.csr_matrix(X_DIGITS) if sparse else X_DIGITS
    params = _params(**dict(dict(hidden_layer_sizes=(64,), max_iter=3), **solver_params))
    runs = [MLPClassifier(**params, n_threads=n).fit(X, Y_DIGITS) for n in (1, 2, 2, None)]
    ref = runs[0]
    for other in runs[1:]:
        for a, b in zip(ref.coefs_ + ref.intercepts_, other.coefs_ + other.intercepts_):
            assert_array_equal(a, b)
        assert other.loss_ == ref.loss_
        if hasattr(ref, "loss_curve_"):
            assert other.loss_curve_ == ref.loss_curve_
        assert_array_equal(other.predict_proba(X), ref.predict_proba(X))


@IGNORE_CONVERGENCE
def test_predict_bitwise_identical_across_n_threads():
    clf = MLPClassifier(**_params(hidden_layer_sizes=(64,), max_iter=2), n_threads=1)
    clf.fit(X_DIGITS, Y_DIGITS)
    p1 = clf.predict_proba(X_DIGITS)
    clf.set_params(n_threads=2)
    assert_array_equal(clf.predict_proba(X_DIGITS), p1)
    clf.set_params(n_threads=-1)
    assert_array_equal(clf.predict_proba(X_DIGITS), p1)


def test_default_threads_do_not_oversubscribe_in_joblib_workers():
    # n_threads=None means the cores this process may use, as limited by
    # OMP_NUM_THREADS / threadpoolctl: joblib's loky workers get cores // n_jobs.
    import os

    from joblib import Parallel, delayed
    from threadpoolctl import threadpool_limits

    from csoftmax._utils import check_n_threads

    cores = os.cpu_count() or 1
    if cores < 2:
        pytest.skip("needs at least 2 cores to tell limited from unlimited")
    assert check_n_threads(None) >= 2
    in_workers = Parallel(n_jobs=2)(delayed(check_n_threads)(None) for _ in range(2))
    assert in_workers == [max(1, cores // 2)] * 2
    with threadpool_limits(limits=1):
        assert check_n_threads(None) == 1


@IGNORE_CONVERGENCE
def test_concurrent_predict_from_python_threads():
    clf = MLPClassifier(**_params(hidden_layer_sizes=(32,), max_iter=2)).fit(X_DIGITS, Y_DIGITS)
    expected = clf.predict_proba(X_DIGITS)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: clf.predict_proba(X_DIGITS), range(8)))
    for r in results:
        assert_array_equal(r, expected)


@IGNORE_CONVERGENCE
def test_concurrent_fit_from_python_threads():
    params = _params(max_iter=3)
    expected = MLPClassifier(**params).fit(X_SMALL, Y_SMALL).coefs_
    with ThreadPoolExecutor(max_workers=3) as pool:
        fitted = list(pool.map(lambda _: MLPClassifier(**params).fit(X_SMALL, Y_SMALL),
                               range(3)))
    for clf in fitted:
        for a, b in zip(clf.coefs_, expected):
            assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# Ecosystem: clone, pickle, joblib, Pipeline, GridSearchCV, pandas, routing
# ---------------------------------------------------------------------------
@IGNORE_CONVERGENCE
def test_clone():
    clf = MLPClassifier((7,), "tanh", solver="sgd", class_weight={1: 2.0},
                        dtype=np.float32, n_threads=1, random_state=3, max_iter=2)
    fitted = clone(clf).fit(X_SMALL, Y_SMALL)
    c = clone(fitted)
    assert c.get_params() == clf.get_params()
    assert not hasattr(c, "coefs_") and not hasattr(c, "classes_")
    c.fit(X_SMALL, Y_SMALL)
    for a, b in zip(c.coefs_, fitted.coefs_):
        assert a.dtype == np.float32
        assert_array_equal(a, b)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_pickle_round_trip(solver):
    clf = MLPClassifier(**_params(solver=solver, max_iter=3)).fit(X_SMALL, Y_SMALL)
    clone_ = pickle.loads(pickle.dumps(clf))
    assert clone_.get_params() == clf.get_params()
    assert_array_equal(clone_.predict_proba(X_DIGITS), clf.predict_proba(X_DIGITS))
    assert_array_equal(clone_.predict(X_DIGITS), clf.predict(X_DIGITS))
    assert_array_equal(clone_.predict_log_proba(X_DIGITS), clf.predict_log_proba(X_DIGITS))
    if solver != "lbfgs":
        # the optimizer state travels too: continuing gives identical weights
        clf.partial_fit(X_SMALL[:100], Y_SMALL[:100])
        clone_.partial_fit(X_SMALL[:100], Y_SMALL[:100])
        for a, b in zip(clf.coefs_, clone_.coefs_):
            assert_array_equal(a, b)
    else:
        clf.set_params(warm_start=True).fit(X_SMALL, Y_SMALL)
        clone_.set_params(warm_start=True).fit(X_SMALL, Y_SMALL)
        for a, b in zip(clf.coefs_, clone_.coefs_):
            assert_array_equal(a, b)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_joblib_mmap_reload_predict_and_partial_fit(tmp_path, solver):
    clf = MLPClassifier(**_params(solver=solver, max_iter=3)).fit(X_SMALL, Y_SMALL)
    path = tmp_path / "mlp.joblib"
    joblib.dump(clf, path)
    mm = joblib.load(path, mmap_mode="r")
    plain = joblib.load(path)
    assert_array_equal(mm.predict_proba(X_DIGITS), clf.predict_proba(X_DIGITS))
    coef0 = [c.copy() for c in clf.coefs_]
    mm.partial_fit(X_SMALL[:200], Y_SMALL[:200])  # read-only maps must not break this
    plain.partial_fit(X_SMALL[:200], Y_SMALL[:200])
    for a, b, c0 in zip(mm.coefs_, plain.coefs_, coef0):
        assert_array_equal(a, b)
        assert not np.array_equal(a, c0)  # the weights moved
    assert_array_equal(mm.predict(X_DIGITS), plain.predict(X_DIGITS))
    mm.partial_fit(X_SMALL[200:], Y_SMALL[200:])
    plain.partial_fit(X_SMALL[200:], Y_SMALL[200:])
    for a, b in zip(mm.coefs_, plain.coefs_):
        assert_array_equal(a, b)
    # The file on disk is untouched.
    again = joblib.load(path, mmap_mode="r")
    for a, c0 in zip(again.coefs_, coef0):
        assert_array_equal(a, c0)


@IGNORE_CONVERGENCE
def test_joblib_mmap_reload_warm_start_fit(tmp_path):
    clf = MLPClassifier(**_params(max_iter=2, warm_start=True)).fit(X_SMALL, Y_SMALL)
    joblib.dump(clf, tmp_path / "m.joblib")
    mm = joblib.load(tmp_path / "m.joblib", mmap_mode="r")
    mm.fit(X_SMALL, Y_SMALL)
    clf.fit(X_SMALL, Y_SMALL)
    for a, b in zip(mm.coefs_, clf.coefs_):
        assert_array_equal(a, b)


@IGNORE_CONVERGENCE
def test_pipeline():
    params = _params(max_iter=4)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**params)).fit(X_SMALL, Y_SMALL)
    Xs = StandardScaler().fit(X_SMALL).transform(X_SMALL)
    direct = MLPClassifier(**params).fit(Xs, Y_SMALL)
    assert_array_equal(pipe.predict_proba(X_SMALL), direct.predict_proba(Xs))
    assert pipe.score(X_SMALL, Y_SMALL) == direct.score(Xs, Y_SMALL)
    pipe_sk = make_pipeline(StandardScaler(), SKMLPClassifier(**params)).fit(X_SMALL, Y_SMALL)
    assert_array_equal(pipe.predict(X_DIGITS), pipe_sk.predict(X_DIGITS))


@IGNORE_CONVERGENCE
def test_grid_search_n_jobs_2():
    X, y = X_DIGITS[:400], Y_DIGITS[:400]
    grid = {"alpha": [1e-4, 1.0], "hidden_layer_sizes": [(8,), (16,)]}
    est = MLPClassifier(max_iter=10, random_state=0, learning_rate_init=0.05)
    gs2 = GridSearchCV(est, grid, cv=2, n_jobs=2).fit(X, y)
    gs1 = GridSearchCV(est, grid, cv=2, n_jobs=1).fit(X, y)
    # worker processes (where threads must not oversubscribe) give the same result
    assert_array_equal(gs2.cv_results_["mean_test_score"], gs1.cv_results_["mean_test_score"])
    assert gs2.best_params_ == gs1.best_params_
    assert isinstance(gs2.best_estimator_, MLPClassifier)
    assert gs2.score(X, y) == gs1.score(X, y)
    assert np.all(gs2.cv_results_["mean_test_score"] > 0.3)


@IGNORE_CONVERGENCE
def test_dataframe_feature_names_like_sklearn():
    pd = pytest.importorskip("pandas")
    cols = [f"px{i}" for i in range(64)]
    df = pd.DataFrame(X_SMALL, columns=cols)
    ys = pd.Series(Y_SMALL, name="digit")
    cs, sk = _fit_both(_params(max_iter=2), df, ys)
    assert_array_equal(cs.feature_names_in_, np.array(cols, dtype=object))
    assert cs.feature_names_in_.dtype == object
    assert_same_model(cs, sk, df)
    # ndarray after DataFrame fit: same UserWarning as scikit-learn
    exp = _warnings_of(lambda: sk.predict(X_SMALL))
    assert len(exp) == 1
    assert _warnings_of(lambda: cs.predict(X_SMALL)) == exp
    assert _warnings_of(lambda: cs.predict_proba(X_SMALL)) == _warnings_of(
        lambda: sk.predict_proba(X_SMALL))
    # no warning with the right frame
    assert _warnings_of(lambda: cs.predict(df)) == []
    # renamed columns: same error as scikit-learn
    bad = df.rename(columns={"px0": "other"})
    with pytest.raises(ValueError) as sk_err:
        sk.predict(bad)
    with pytest.raises(ValueError) as cs_err:
        cs.predict(bad)
    assert str(cs_err.value) == str(sk_err.value)
    # fitted on ndarray, predicted on a DataFrame: same warning
    cs_np, sk_np = _fit_both(_params(max_iter=2), X_SMALL, Y_SMALL)
    assert not hasattr(cs_np, "feature_names_in_")
    exp = _warnings_of(lambda: sk_np.predict(df))
    assert len(exp) == 1
    assert _warnings_of(lambda: cs_np.predict(df)) == exp


def test_dataframe_early_stopping_no_feature_name_warning():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X_SMALL[:100, :3], columns=["a", "b", "c"])
    clf = MLPClassifier((4,), early_stopping=True, validation_fraction=0.2, max_iter=3,
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(df, Y_BINARY[:100])
    assert len(clf.validation_scores_) == clf.n_iter_


@IGNORE_CONVERGENCE
def test_metadata_routing_sample_weight_in_grid_search():
    X, y = X_DIGITS[:300], Y_DIGITS[:300]
    sw = np.random.RandomState(0).randint(1, 4, size=len(y)).astype(float)
    grid = {"alpha": [1e-4, 1.0]}
    assert not sklearn.get_config()["enable_metadata_routing"]
    try:
        sklearn.set_config(enable_metadata_routing=True)
        est = (MLPClassifier((8,), max_iter=4, random_state=0, learning_rate_init=0.01)
               .set_fit_request(sample_weight=True)
               .set_score_request(sample_weight=True))
        assert hasattr(est, "set_partial_fit_request")
        gs = GridSearchCV(est, grid, cv=2).fit(X, y, sample_weight=sw)
        ref = clone(est).set_params(**gs.best_params_).fit(X, y, sample_weight=sw)
        unweighted = clone(est).set_params(**gs.best_params_).fit(X, y)
        # the refit received the weights
        for a, b in zip(gs.best_estimator_.coefs_, ref.coefs_):
            assert_array_equal(a, b)
        assert not np.allclose(unweighted.coefs_[0], ref.coefs_[0], rtol=1e-4)
        # unrequested metadata is an error, as for any scikit-learn estimator
        plain = MLPClassifier((8,), max_iter=4, random_state=0)
        with pytest.raises(UnsetMetadataPassedError):
            GridSearchCV(plain, grid, cv=2).fit(X, y, sample_weight=sw)
    finally:
        sklearn.set_config(enable_metadata_routing=False)
    assert not sklearn.get_config()["enable_metadata_routing"]


@IGNORE_CONVERGENCE
def test_score_matches_sklearn():
    sw = np.random.RandomState(0).uniform(size=len(Y_SMALL))
    cs, sk = _fit_both(_params(max_iter=3), X_SMALL, Y_SMALL)
    assert cs.score(X_DIGITS, Y_DIGITS) == sk.score(X_DIGITS, Y_DIGITS)
    assert cs.score(X_SMALL, Y_SMALL, sample_weight=sw) == pytest.approx(
        sk.score(X_SMALL, Y_SMALL, sample_weight=sw), rel=1e-12)


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
