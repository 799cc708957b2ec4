"""Constructor, parameters and tags of ``csoftmax.MLPClassifier``, and its errors.

The signature, ``get_params``/``set_params`` and estimator tags match
scikit-learn's ``MLPClassifier`` plus three keyword-only extras. Bad parameters,
bad data and misuse of ``partial_fit`` raise at fit time with the exception
types and messages scikit-learn raises (see :mod:`helpers.estimator`).
"""

import inspect
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SKMLPClassifier
from sklearn.utils import get_tags

from csoftmax import MLPClassifier

from helpers.estimator import IGNORE_CONVERGENCE, X_SMALL, Y_SMALL, make_params


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


# ---------------------------------------------------------------------------
# Parameter validation: same error types as scikit-learn, raised at fit time
# ---------------------------------------------------------------------------
BAD_PARAMS = [
    dict(alpha=-1),
    dict(hidden_layer_sizes=(0,)),
    dict(hidden_layer_sizes=(5, -2)),
    dict(hidden_layer_sizes=(5, np.int64(-2))),
    dict(hidden_layer_sizes=[4, 0.0]),
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
    clf = MLPClassifier(**make_params(early_stopping=True, max_iter=2)).fit(X_SMALL, Y_SMALL)
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
        clf = MLPClassifier(**make_params(max_iter=1)).fit(X_SMALL, Y_SMALL)
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
