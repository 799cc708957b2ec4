"""``MLPClassifier.to_sklearn`` and ``MLPClassifier.from_sklearn``.

A model moves to scikit-learn's ``MLPClassifier`` and back with its predictions, its
fitted attributes and its optimizer state, so that training continues in the other
library as it would have in the first. The converted scikit-learn model pickles and loads
in a process where csoftmax cannot be imported. (ONNX: ``test_nn_export_onnx.py``.)

Tolerances, measured on the data of these tests (``helpers.estimator.TARGETS``, one
hidden layer of 16, largest difference over every case below):

* predictions of the converted model: labels equal; probabilities within 4.4e-16
  (float64 models, 2 ulp) and 1.8e-7 (float32 models, 1.5 ulp). The tests allow 8 ulp.
* continued training (one ``partial_fit``, or a warm-started ``fit`` of 3 epochs, in both
  libraries from the same converted state): weights within 4.2e-16 (float64) and 3.1e-6
  (float32) of scikit-learn's, relative to the largest weight of each array. The float32
  case is Adam with early stopping on the binary target, 0.5 ulp in every other case: Adam
  divides the first moment by the root of the second, so where a gradient is near 0 its
  rounding (scikit-learn computes float32 Adam steps in float64, csoftmax in float32)
  moves the step itself. The tests allow 1e-13 and 2e-5, and check that the same
  comparison without the optimizer state differs by 1e-2 (far outside both).
"""

import copy
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier as SKMLPClassifier

from csoftmax import MLPClassifier

from helpers.checkout import checkout_file
from helpers.estimator import IGNORE_CONVERGENCE, TARGETS, X_DIGITS, Y_DIGITS

DTYPES = [np.float64, np.float32]
SOLVERS = ["adam", "sgd", "lbfgs"]
EXPORT_TARGETS = ["multiclass", "binary", "multilabel", "string"]
# Each one continues a different optimizer state or schedule.
CONTINUED = {
    "adam": dict(solver="adam"),
    "sgd-nesterov": dict(solver="sgd"),
    "sgd-momentum": dict(solver="sgd", nesterovs_momentum=False),
    "sgd-invscaling": dict(solver="sgd", learning_rate="invscaling"),
    # the stalled loss divides the learning rate by 5 in the first fit already
    "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=1,
                         tol=10.0),
    "adam-early-stopping": dict(solver="adam", early_stopping=True),
}
CONTINUE_TOL = {np.float64: 1e-13, np.float32: 2e-5}
ONLY_CSOFTMAX = {"class_weight", "dtype", "n_threads"}


def data(target, dtype=np.float64):
    X, y = TARGETS[target]
    return X.astype(dtype), y


def ulp(dtype):
    return float(np.finfo(dtype).eps)


def max_relative_difference(a, b):
    """Largest weight difference of two models, relative to each array's largest weight."""
    return max(
        float(np.abs(p.astype(np.float64) - q).max() / max(1.0, np.abs(q).max()))
        for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_)
    )


def fitted(params, target, dtype=np.float64, library=MLPClassifier):
    X, y = data(target, dtype)
    base = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0,
                learning_rate_init=0.01)
    return library(**{**base, **params}).fit(X, y)


# ---------------------------------------------------------------------------
# to_sklearn: the same predictions and state, in scikit-learn's class
# ---------------------------------------------------------------------------
@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("target", EXPORT_TARGETS)
def test_to_sklearn_predicts_the_same(target, solver, dtype):
    clf = fitted(dict(solver=solver, dtype=dtype), target, dtype)
    X, y = data(target, dtype)

    sk = clf.to_sklearn()

    assert type(sk) is SKMLPClassifier
    assert_array_equal(sk.predict(X), clf.predict(X))
    proba, expected = sk.predict_proba(X), clf.predict_proba(X)
    assert proba.dtype == expected.dtype == dtype
    assert np.abs(proba - expected).max() <= 8 * ulp(dtype)
    assert sk.score(X, y) == clf.score(X, y)
    for a, b in zip(sk.coefs_ + sk.intercepts_, clf.coefs_ + clf.intercepts_):
        assert a.dtype == dtype
        assert_array_equal(a, b)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("config", ["adam", "sgd-nesterov", "adam-early-stopping"])
def test_to_sklearn_copies_every_fitted_attribute(config):
    clf = fitted(CONTINUED[config], "multiclass")

    sk = clf.to_sklearn()

    for name in ("n_layers_", "n_outputs_", "out_activation_", "n_features_in_",
                 "n_iter_", "t_", "loss_", "best_loss_", "loss_curve_",
                 "validation_scores_", "best_validation_score_", "_no_improvement_count"):
        assert getattr(sk, name) == getattr(clf, name), name
    assert_array_equal(sk.classes_, clf.classes_)
    assert_array_equal(sk._label_binarizer.classes_, clf._label_binarizer.classes_)
    assert sk._label_binarizer.y_type_ == clf._label_binarizer.y_type_
    for name in ("_best_coefs", "_best_intercepts"):
        for a, b in zip(getattr(sk, name), getattr(clf, name)):
            assert_array_equal(a, b)
    # After early stopping the weights *are* the best weights, in both libraries.
    assert (sk.coefs_ is sk._best_coefs) == (clf.coefs_ is clf._best_coefs)
    # Nothing is shared: training the copy leaves the original as it was.
    before = [w.copy() for w in clf.coefs_]
    sk.set_params(warm_start=True, max_iter=1).fit(*data("multiclass"))
    for a, b in zip(clf.coefs_, before):
        assert_array_equal(a, b)
    assert len(clf.loss_curve_) == clf.n_iter_


@IGNORE_CONVERGENCE
def test_to_sklearn_optimizer_state():
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

    adam = fitted(dict(solver="adam"), "multiclass")
    sk = adam.to_sklearn()
    assert type(sk._optimizer) is AdamOptimizer
    opt = adam._optimizer.optimizer
    n = len(opt.state) // 2
    assert sk._optimizer.t == opt.t > 0
    assert sk._optimizer.learning_rate == opt.learning_rate
    for a, b in zip(sk._optimizer.ms + sk._optimizer.vs, opt.state[:n] + opt.state[n:]):
        assert_array_equal(a, b)

    sgd = fitted(CONTINUED["sgd-adaptive"], "multiclass")
    sk = sgd.to_sklearn()
    assert type(sk._optimizer) is SGDOptimizer
    assert sk._optimizer.learning_rate == sgd._optimizer.learning_rate
    assert sk._optimizer.learning_rate < sgd.learning_rate_init  # the schedule moved it
    assert sk._optimizer.lr_schedule == "adaptive"
    for a, b in zip(sk._optimizer.velocities, sgd._optimizer.optimizer.state):
        assert_array_equal(a, b)

    assert not hasattr(fitted(dict(solver="lbfgs"), "multiclass").to_sklearn(), "_optimizer")


@IGNORE_CONVERGENCE
def test_parameters_map_and_csoftmax_only_ones_are_dropped():
    params = dict(hidden_layer_sizes=(9, 4), activation="tanh", solver="sgd", alpha=1e-3,
                  batch_size=50, learning_rate="invscaling", power_t=0.4, momentum=0.8,
                  random_state=np.random.RandomState(1), tol=1e-3, max_iter=2,
                  class_weight="balanced", dtype=np.float32, n_threads=1)
    clf = fitted(params, "multiclass", np.float32)

    sk = clf.to_sklearn()

    # scikit-learn's parameters all have a home in csoftmax (a new one fails here)
    assert set(SKMLPClassifier().get_params()) <= set(clf.get_params())
    expected = {k: v for k, v in clf.get_params().items() if k not in ONLY_CSOFTMAX}
    got = sk.get_params()
    assert got.keys() == expected.keys()
    for k in expected:
        if k != "random_state":
            assert got[k] == expected[k], k
    # a RandomState is copied, not shared
    assert got["random_state"] is not clf.random_state
    assert got["random_state"].randint(1 << 30) == copy.deepcopy(clf.random_state).randint(
        1 << 30)

    back = MLPClassifier.from_sklearn(sk)
    assert {k: back.get_params()[k] for k in ONLY_CSOFTMAX} == dict(
        class_weight=None, dtype=None, n_threads=None)
    assert back.coefs_[0].dtype == np.float32


@IGNORE_CONVERGENCE
def test_feature_names_and_string_labels_travel():
    pd = pytest.importorskip("pandas")
    X, y = data("string")
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    clf = MLPClassifier((16,), max_iter=5, random_state=0).fit(frame, y)

    sk = clf.to_sklearn()

    assert_array_equal(sk.feature_names_in_, clf.feature_names_in_)
    assert_array_equal(sk.predict(frame), clf.predict(frame))
    assert sk.predict(frame).dtype == clf.predict(frame).dtype
    with pytest.warns(UserWarning, match="feature names"):
        sk.predict(X)  # scikit-learn's own check of the names holds
    back = MLPClassifier.from_sklearn(sk)
    assert_array_equal(back.feature_names_in_, clf.feature_names_in_)


# ---------------------------------------------------------------------------
# Pickles of the converted model load without csoftmax
# ---------------------------------------------------------------------------
LOAD_WITHOUT_CSOFTMAX = textwrap.dedent("""
    import importlib.abc, pickle, sys

    class NoCsoftmax(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "csoftmax" or name.startswith("csoftmax."):
                raise ImportError(f"csoftmax is not installed here ({name})")

    sys.meta_path.insert(0, NoCsoftmax())
    sys.modules["csoftmax"] = None
    try:
        import csoftmax
    except ImportError:
        pass
    else:
        raise SystemExit("csoftmax could still be imported")

    model_path, data_path, out_path = sys.argv[1:]
    with open(model_path, "rb") as f:
        model = pickle.load(f)
    with open(data_path, "rb") as f:
        X, y = pickle.load(f)
    out = dict(labels=model.predict(X), proba=model.predict_proba(X))
    model.partial_fit(X, y)  # the optimizer state is scikit-learn's own
    out["coefs"] = model.coefs_
    out["modules"] = sorted(m for m, module in sys.modules.items()
                            if m.startswith("csoftmax") and module is not None)
    with open(out_path, "wb") as f:
        pickle.dump(out, f)
""")


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target", ["multiclass", "multilabel"])
def test_pickle_loads_where_csoftmax_cannot_be_imported(tmp_path, target, dtype):
    clf = fitted(dict(solver="adam", dtype=dtype), target, dtype)
    X, y = data(target, dtype)
    sk = clf.to_sklearn()
    blob = pickle.dumps(sk)
    assert b"csoftmax" not in blob
    (tmp_path / "model.pkl").write_bytes(blob)
    (tmp_path / "data.pkl").write_bytes(pickle.dumps((X, y)))

    subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_CSOFTMAX, str(tmp_path / "model.pkl"),
         str(tmp_path / "data.pkl"), str(tmp_path / "out.pkl")],
        check=True, timeout=300, cwd=tmp_path,
    )
    out = pickle.loads((tmp_path / "out.pkl").read_bytes())

    assert out["modules"] == []
    assert_array_equal(out["labels"], clf.predict(X))
    assert_array_equal(out["proba"], sk.predict_proba(X))
    sk.partial_fit(X, y)  # the same step here gives the same weights
    for a, b in zip(out["coefs"], sk.coefs_):
        assert a.dtype == dtype
        assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# from_sklearn: training continues as scikit-learn's would
# ---------------------------------------------------------------------------
def continue_both(sk, how, X, y):
    """Continue ``sk`` in scikit-learn and its conversion in csoftmax, the same way."""
    cs = MLPClassifier.from_sklearn(sk)
    sk = copy.deepcopy(sk)
    for model in (sk, cs):
        if how == "partial_fit":
            model.partial_fit(X, y)
        else:
            model.set_params(warm_start=True, max_iter=3).fit(X, y)
    return cs, sk


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel"])
@pytest.mark.parametrize("config, how", [
    (config, how) for config in CONTINUED for how in ("partial_fit", "warm_start")
    # partial_fit refuses early_stopping=True, in both libraries
    if not (how == "partial_fit" and CONTINUED[config].get("early_stopping"))
])
def test_from_sklearn_continues_as_sklearn(config, how, target, dtype):
    params = CONTINUED[config]
    X, y = data(target, dtype)
    sk = fitted(params, target, dtype, library=SKMLPClassifier)

    cs, sk_next = continue_both(sk, how, X, y)

    assert cs.coefs_[0].dtype == sk_next.coefs_[0].dtype == dtype
    assert max_relative_difference(cs, sk_next) <= CONTINUE_TOL[dtype]
    for name in ("n_iter_", "t_", "_no_improvement_count", "best_validation_score_"):
        assert getattr(cs, name) == getattr(sk_next, name), name
    assert cs._optimizer.learning_rate == pytest.approx(sk_next._optimizer.learning_rate,
                                                        rel=1e-12)
    assert len(cs.loss_curve_) == len(sk_next.loss_curve_)
    assert_array_equal(cs.predict(X), sk_next.predict(X))


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("config", ["adam", "sgd-nesterov"])
def test_without_the_optimizer_state_training_would_not_continue_alike(config):
    # The control of the test above: the same comparison with a fresh optimizer fails
    # its tolerance by orders of magnitude (measured: 1.1e-2 and more), so that tolerance
    # does check the state.
    X, y = data("multiclass")
    sk = fitted(CONTINUED[config], "multiclass", library=SKMLPClassifier)
    cs, sk_next = continue_both(sk, "partial_fit", X, y)
    del cs._optimizer

    cs.partial_fit(X, y)
    sk_next.partial_fit(X, y)

    assert max_relative_difference(cs, sk_next) > 100 * CONTINUE_TOL[np.float32]


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", ["adam", "sgd-adaptive", "adam-early-stopping"])
def test_round_trips_are_exact(config, dtype):
    clf = fitted({**CONTINUED[config], "dtype": dtype}, "multiclass", dtype)

    back = MLPClassifier.from_sklearn(clf.to_sklearn())

    for name in ("coefs_", "intercepts_", "_best_coefs", "_best_intercepts"):
        for a, b in zip(getattr(back, name), getattr(clf, name)):
            assert a.dtype == b.dtype == dtype
            assert_array_equal(a, b)
    assert back.loss_curve_ == clf.loss_curve_
    assert back.validation_scores_ == clf.validation_scores_
    got, want = back._optimizer.optimizer, clf._optimizer.optimizer
    assert (got.kind, got.t, got.learning_rate) == (want.kind, want.t, want.learning_rate)
    assert got.hyperparameters == want.hyperparameters
    for a, b in zip(got.state, want.state):
        assert_array_equal(a, b)
    # ... and both continue identically
    X, y = data("multiclass", dtype)
    for model in (back, clf):
        model.set_params(warm_start=True, max_iter=2).fit(X, y)
    for a, b in zip(back.coefs_, clf.coefs_):
        assert_array_equal(a, b)


@IGNORE_CONVERGENCE
def test_sklearn_round_trip_is_exact():
    sk = fitted(dict(solver="sgd"), "binary", library=SKMLPClassifier)

    back = MLPClassifier.from_sklearn(sk).to_sklearn()

    for a, b in zip(back.coefs_ + back.intercepts_, sk.coefs_ + sk.intercepts_):
        assert_array_equal(a, b)
    for a, b in zip(back._optimizer.velocities, sk._optimizer.velocities):
        assert_array_equal(a, b)
    assert back.get_params() == sk.get_params()


@IGNORE_CONVERGENCE
def test_from_sklearn_lbfgs():
    # scikit-learn's L-BFGS leaves its weights as views of one packed vector.
    X, y = X_DIGITS, Y_DIGITS
    sk = SKMLPClassifier((16,), solver="lbfgs", max_iter=20, random_state=0).fit(X, y)

    cs = MLPClassifier.from_sklearn(sk)

    assert_array_equal(cs.predict(X), sk.predict(X))
    assert np.abs(cs.predict_proba(X) - sk.predict_proba(X)).max() <= 8 * ulp(np.float64)
    assert not hasattr(cs, "_optimizer")
    cs.set_params(warm_start=True, max_iter=3).fit(X, y)  # trains from there
    assert cs.n_iter_ == 3


@IGNORE_CONVERGENCE
def test_the_source_is_left_alone():
    sk = fitted(dict(solver="adam"), "multiclass", library=SKMLPClassifier)
    saved = pickle.dumps(sk)

    cs = MLPClassifier.from_sklearn(sk)
    cs.partial_fit(*data("multiclass"))

    assert pickle.dumps(sk) == saved


@IGNORE_CONVERGENCE
def test_without_sklearn_optimizer_classes_the_rest_converts(monkeypatch):
    # Should scikit-learn move its private optimizer classes, conversions still work.
    from csoftmax.neural_network import _export

    clf = fitted(dict(solver="adam"), "multiclass")
    sk_fitted = fitted(dict(solver="adam"), "multiclass", library=SKMLPClassifier)
    monkeypatch.setattr(_export, "_sklearn_optimizers", lambda: None)
    X, y = data("multiclass")

    with pytest.warns(UserWarning, match="without its optimizer state"):
        sk = clf.to_sklearn()
    with pytest.warns(UserWarning, match="without its optimizer state"):
        cs = MLPClassifier.from_sklearn(sk_fitted)

    assert not hasattr(sk, "_optimizer") and not hasattr(cs, "_optimizer")
    assert_array_equal(sk.predict(X), clf.predict(X))
    assert_array_equal(cs.predict(X), sk_fitted.predict(X))
    sk.partial_fit(X, y)  # with a new optimizer
    cs.partial_fit(X, y)
    assert sk._optimizer.t == cs._optimizer.t == 3  # 500 rows in batches of 200


@IGNORE_CONVERGENCE
def test_unknown_sklearn_optimizer_is_left_behind():
    sk = fitted(dict(solver="sgd"), "binary", library=SKMLPClassifier)
    sk._optimizer = object()

    with pytest.warns(UserWarning, match="unknown optimizer 'object'"):
        cs = MLPClassifier.from_sklearn(sk)

    assert not hasattr(cs, "_optimizer")


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
def test_unfitted_models_raise_not_fitted():
    with pytest.raises(NotFittedError):
        MLPClassifier().to_sklearn()
    with pytest.raises(NotFittedError):
        MLPClassifier.from_sklearn(SKMLPClassifier())


@pytest.mark.parametrize("estimator", [MLPClassifier(), LogisticRegression(), "model"],
                         ids=["csoftmax", "LogisticRegression", "str"])
def test_from_sklearn_refuses_other_estimators(estimator):
    with pytest.raises(TypeError, match=r"estimator must be a fitted sklearn\.neural_network"
                                        r"\.MLPClassifier; got .*"):
        MLPClassifier.from_sklearn(estimator)


@IGNORE_CONVERGENCE
def test_from_sklearn_is_a_class_method_of_subclasses():
    class Sub(MLPClassifier):
        pass

    sk = fitted(dict(solver="lbfgs"), "binary", library=SKMLPClassifier)
    assert type(Sub.from_sklearn(sk)) is Sub


# ---------------------------------------------------------------------------
# The deployment benchmark runs (its figures are not checked)
# ---------------------------------------------------------------------------
def test_deployment_benchmark_quick_run():
    script = checkout_file("benchmarks", "deployment.py")
    # The child imports the csoftmax this process imports, built in place or installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, str(script), "--quick"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    for route in ("csoftmax", "scikit-learn", "scikit-learn unpickled"):
        assert f"{route} best / median" in done.stdout
    assert done.stdout.count("vs csoftmax") == 3  # 1, 10 and 1,000 rows


def test_scikit_learns_estimator_is_imported_on_first_conversion():
    code = textwrap.dedent("""
        import sys
        import numpy as np
        from csoftmax import MLPClassifier
        loaded = lambda: "sklearn.neural_network" in sys.modules
        print(loaded())
        X, y = np.random.RandomState(0).rand(20, 3), np.arange(20) % 3
        clf = MLPClassifier((4,), max_iter=2).fit(X, y)
        clf.predict_proba(X)
        print(loaded())
        print(type(clf.to_sklearn()).__module__, loaded())
    """)
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:3] == [
        "False", "False", "sklearn.neural_network._multilayer_perceptron True"]
