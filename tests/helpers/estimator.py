"""Data, parameters and comparisons shared by the ``MLPClassifier`` tests.

The estimator is a drop-in replacement for scikit-learn 1.9's
``sklearn.neural_network.MLPClassifier``, so scikit-learn itself is the main
oracle: with the same parameters, data and ``random_state`` it must draw the
same random numbers, take the same optimisation steps and end with the same
weights, loss curve, validation scores, verbose output, warnings and errors.

Tolerances.  Our kernels sum in a different order than NumPy/BLAS does inside
scikit-learn, so float64 weights agree to rounding, not bitwise.  Replaying
scikit-learn's own fit with the gradient sums reordered shows ~1e-12 relative
drift after the few epochs used in the tests, so ``RTOL = 1e-6`` has six orders
of margin and still catches any algorithmic difference (a wrong learning-rate
schedule, momentum, batch order or regularisation term changes weights at the
1e-3 level).  L-BFGS amplifies rounding faster (line searches), so it is kept
to few iterations and compared a little more loosely.  Our loss is the exact
log-sum-exp cross-entropy while scikit-learn clips probabilities to
[eps, 1 - eps]; the two agree whenever no probability is that close to 0 or 1,
which holds for the short fits on normal data used here.

Data are small (``load_digits``, ``make_multilabel_classification``) and
networks tiny so that the estimator tests run in well under a minute on 2 cores.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.datasets import load_digits, make_multilabel_classification
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SKMLPClassifier

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
DIGITS = load_digits()
X_DIGITS = DIGITS.data / 16.0  # float64 in [0, 1], shape (1797, 64)
Y_DIGITS = DIGITS.target
X_SMALL = X_DIGITS[:500]
Y_SMALL = Y_DIGITS[:500]
Y_BINARY = (Y_SMALL >= 5).astype(np.int64)
DIGIT_NAMES = np.array(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    dtype=object,
)
Y_STRING = DIGIT_NAMES[Y_SMALL]
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


def make_params(**kw):
    """``BASE`` with the given parameters added or replaced."""
    p = dict(BASE)
    p.update(kw)
    return p


def fit_both(params, X, y, **fit_params):
    """Fit csoftmax's and scikit-learn's ``MLPClassifier`` alike; return both."""
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
    assert type(cs.loss_) is type(sk.loss_), (type(cs.loss_), type(sk.loss_))
    if hasattr(sk, "loss_curve_"):
        assert isinstance(cs.loss_curve_, list)
        assert [type(v) for v in cs.loss_curve_] == [type(v) for v in sk.loss_curve_]
        assert type(cs.best_loss_) is type(sk.best_loss_)
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


def warnings_of(fn):
    """Run ``fn`` and return [(category, message)] of UserWarning subclasses."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fn()
    return [(w.category, str(w.message)) for w in rec if issubclass(w.category, UserWarning)]


def logits_of(clf, X):
    """Raw output-layer values of a fitted network, computed in NumPy."""
    act = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0),
           "tanh": np.tanh, "logistic": expit}[clf.activation]
    a = np.asarray(X, dtype=np.float64)
    for i, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        a = a @ W.astype(np.float64) + b.astype(np.float64)
        if i < len(clf.coefs_) - 1:
            a = act(a)
    return a


def sklearn_validation_indices(n_samples, layer_units, random_state,
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
# Configurations of the stochastic solvers, each named for what it exercises
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
