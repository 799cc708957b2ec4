"""Training state of ``csoftmax.MLPClassifier`` across fit calls.

Early stopping restores the best weights; ``warm_start`` and ``partial_fit``
sequences continue the optimizer exactly as scikit-learn's do, and a fit
without ``warm_start`` starts again from scratch; L-BFGS converges on an easy
problem; and a fit runs no Python per minibatch.
"""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SKMLPClassifier

from csoftmax import MLPClassifier

from helpers.estimator import (
    ATOL,
    IGNORE_CONVERGENCE,
    LBFGS_ATOL,
    LBFGS_RTOL,
    RTOL,
    STOCHASTIC_CONFIGS,
    X_DIGITS,
    X_MULTILABEL,
    X_SMALL,
    Y_BINARY,
    Y_DIGITS,
    Y_MULTILABEL,
    Y_SMALL,
    assert_same_model,
    fit_both,
    make_params,
    sklearn_validation_indices,
)


# ---------------------------------------------------------------------------
# Early stopping and convergence
# ---------------------------------------------------------------------------
@IGNORE_CONVERGENCE
def test_early_stopping_restores_best_weights():
    params = make_params(**STOCHASTIC_CONFIGS["adam-early-stopping"])
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
    val = sklearn_validation_indices(len(Y_SMALL), [64, 16, 10], 0)
    assert full.score(X_SMALL[val], Y_SMALL[val]) == pytest.approx(
        full.best_validation_score_, rel=1e-12)


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
    params = make_params(**dict(dict(max_iter=3), **solver_params))
    cs, sk = fit_both(params, X_SMALL, Y_SMALL)
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
    params = make_params(solver="adam", max_iter=3)
    a = MLPClassifier(**params).fit(X_SMALL, Y_SMALL)
    a.fit(X_SMALL, Y_SMALL)
    b = MLPClassifier(**params).fit(X_SMALL, Y_SMALL)
    for u, v in zip(a.coefs_, b.coefs_):
        assert_array_equal(u, v)
    assert len(a.loss_curve_) == 3


@IGNORE_CONVERGENCE
def test_warm_start_rejects_new_classes_like_sklearn():
    for cls in (MLPClassifier, SKMLPClassifier):
        clf = cls(**make_params(warm_start=True, max_iter=2)).fit(X_SMALL, Y_SMALL)
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
    params = make_params(**solver_params)
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
    cs = MLPClassifier(**make_params())
    sk = SKMLPClassifier(**make_params())
    classes = np.arange(10)
    m = Y_SMALL < 3  # first batch only sees three of the ten classes
    for est in (cs, sk):
        est.partial_fit(X_SMALL[m], Y_SMALL[m], classes=classes)
        est.partial_fit(X_SMALL, Y_SMALL)
    assert_array_equal(cs.classes_, classes)
    assert cs.predict_proba(X_SMALL).shape == (500, 10)
    assert_same_model(cs, sk, X_SMALL)


def test_partial_fit_binary_and_multilabel_parity():
    cs = MLPClassifier(**make_params())
    sk = SKMLPClassifier(**make_params())
    for est in (cs, sk):
        est.partial_fit(X_SMALL[:200], Y_BINARY[:200], classes=[0, 1])
        est.partial_fit(X_SMALL[200:], Y_BINARY[200:])
    assert_same_model(cs, sk, X_SMALL)
    cs = MLPClassifier(**make_params())
    sk = SKMLPClassifier(**make_params())
    for est in (cs, sk):
        est.partial_fit(X_MULTILABEL[:150], Y_MULTILABEL[:150], classes=np.arange(4))
        est.partial_fit(X_MULTILABEL[150:], Y_MULTILABEL[150:])
    assert_same_model(cs, sk, X_MULTILABEL)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_fit_then_partial_fit_continues_optimizer_like_sklearn(solver):
    cs, sk = fit_both(make_params(solver=solver, max_iter=3), X_SMALL, Y_SMALL)
    for _ in range(2):
        cs.partial_fit(X_SMALL[:300], Y_SMALL[:300])
        sk.partial_fit(X_SMALL[:300], Y_SMALL[:300])
    assert_same_model(cs, sk, X_SMALL)
    assert cs.t_ == 3 * 500 + 2 * 300


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
# A fit or partial_fit that raises leaves the estimator exactly as it was
# ---------------------------------------------------------------------------
def _state(clf):
    """Every non-parameter attribute, as bytes (arrays, optimizer state, RNG included)."""
    params = set(clf.get_params(deep=False))
    return pickle.dumps(sorted((k, v) for k, v in vars(clf).items() if k not in params))


class _Injected(Exception):
    pass


def _fitted(solver, **extra):
    clf = MLPClassifier((6,), solver=solver, max_iter=4, random_state=0, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clf.fit(X_SMALL, Y_SMALL)


def _fail_after(n_ok, exc=_Injected):
    calls = {"n": 0}

    def hook(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_ok:
            raise exc("injected")
        return hook.original(*args, **kwargs)

    return hook


STAGES = {
    "validate-input": ("_validate_input", 0, "method"),
    "sample-weight": ("_check_sample_weight", 0, "module"),
    "initialize": ("_initialize", 0, "method"),
    "engine-alloc": ("_training_engine", 0, "module"),
    "second-epoch": ("_run_epoch", 1, "method"),
    "bookkeeping": ("_update_no_improvement_count", 1, "method"),
    "lbfgs": ("_lbfgs_loss_grad", 0, "module"),
}


# partial_fit is for the stochastic solvers, and a continued fit does not initialise
CASES = [(call, stage) for call in ("fit", "warm-fit", "partial_fit") for stage in STAGES
         if not (call == "partial_fit" and stage == "lbfgs")
         and not (call != "fit" and stage == "initialize")]


@pytest.mark.parametrize("call,stage", CASES)
@pytest.mark.parametrize("exc", [_Injected, MemoryError, KeyboardInterrupt])
def test_a_failing_call_leaves_the_estimator_as_it_was(monkeypatch, call, stage, exc):
    from csoftmax.neural_network import _training

    solver = "lbfgs" if stage == "lbfgs" else "adam"
    clf = _fitted(solver, early_stopping=(stage == "bookkeeping" and call != "partial_fit"))
    before = _state(clf)
    name, n_ok, kind = STAGES[stage]
    hook = _fail_after(0 if call == "partial_fit" else n_ok, exc)  # partial_fit: one epoch
    if kind == "method":
        hook.original = getattr(type(clf), name)
        monkeypatch.setattr(type(clf), name, hook)
    else:
        hook.original = getattr(_training, name)
        monkeypatch.setattr(_training, name, hook)
    if call == "warm-fit":
        clf.set_params(warm_start=True)
        before = _state(clf)
    if exc is KeyboardInterrupt and stage in ("second-epoch", "bookkeeping"):
        # As in scikit-learn: Ctrl-C inside the epoch loop ends training, keeping the
        # epochs done, with a warning; it is not an error.
        with pytest.warns(UserWarning, match="Training interrupted by user"):
            if call == "partial_fit":
                clf.partial_fit(X_SMALL, Y_SMALL)
            else:
                clf.fit(X_SMALL, Y_SMALL)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc):
            if call == "partial_fit":
                clf.partial_fit(X_SMALL, Y_SMALL)
            else:
                clf.fit(X_SMALL, Y_SMALL, sample_weight=np.ones(len(Y_SMALL)))
    assert _state(clf) == before
    monkeypatch.undo()
    clf.predict(X_SMALL)  # still the fitted model


def test_a_refit_that_fails_keeps_the_old_classes_and_weights():
    clf = _fitted("adam")
    before, predictions = _state(clf), clf.predict(X_SMALL)
    new_labels = np.where(Y_SMALL == Y_SMALL[0], 7, 9)
    with pytest.raises(ValueError, match="Negative values"):
        clf.fit(X_SMALL, new_labels, sample_weight=-np.ones(len(Y_SMALL)))
    assert _state(clf) == before
    np.testing.assert_array_equal(clf.predict(X_SMALL), predictions)


def test_a_refit_out_of_memory_keeps_the_fitted_model():
    clf = _fitted("sgd")
    before = _state(clf)
    with pytest.raises(MemoryError):
        clf.set_params(hidden_layer_sizes=(10**6, 10**6)).fit(X_SMALL, Y_SMALL)
    clf.set_params(hidden_layer_sizes=(6,))
    assert _state(clf) == before
    # and a warm start after it trains the network of the right shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.set_params(warm_start=True).fit(X_SMALL, Y_SMALL)
    assert [c.shape for c in clf.coefs_] == [(X_SMALL.shape[1], 6), (6, clf.n_outputs_)]


def test_non_finite_weights_leave_the_previous_model():
    clf = _fitted("sgd")
    before = _state(clf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="non-finite parameter weights"):
            clf.set_params(learning_rate_init=1e300, warm_start=True).fit(X_SMALL * 1e300,
                                                                          Y_SMALL)
    clf.set_params(learning_rate_init=0.001, warm_start=False)
    assert _state(clf) == before


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_warm_start_with_other_hidden_layers_is_a_clear_error(solver):
    clf = _fitted(solver)
    before = _state(clf)
    clf.set_params(warm_start=True, hidden_layer_sizes=(9,))
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(9,\) does not match the "
                                         r"fitted network's hidden layers \(6,\)"):
        clf.fit(X_SMALL, Y_SMALL)
    assert _state(clf) == before
    if solver == "adam":
        with pytest.raises(ValueError, match="partial_fit continues"):
            clf.partial_fit(X_SMALL, Y_SMALL)


def _raise_after(exc=_Injected):
    """A hook that runs the original, then raises: the state it changed must be undone."""
    def hook(*args, **kwargs):
        hook.original(*args, **kwargs)
        raise exc("injected")

    return hook


def _read_only(clf):
    for a in clf.coefs_ + clf.intercepts_:
        a.flags.writeable = False
    return clf


# name -> (make the estimator, partial_fit keywords, method to break, fail after it ran)
SNAPSHOT_CASES = {
    "first-call": (lambda: MLPClassifier((6,), random_state=0),
                   dict(classes=np.unique(Y_SMALL)), "_update_no_improvement_count", False),
    "classes-again": (lambda: _fitted("adam"), dict(classes=np.unique(Y_SMALL)),
                      "_update_no_improvement_count", False),
    "global-rng": (lambda: MLPClassifier((6,)).partial_fit(
                       X_SMALL, Y_SMALL, classes=np.unique(Y_SMALL)),
                   {}, "_update_no_improvement_count", False),
    "own-rng": (lambda: MLPClassifier((6,), random_state=np.random.RandomState(3)).partial_fit(
                    X_SMALL, Y_SMALL, classes=np.unique(Y_SMALL)),
                {}, "_update_no_improvement_count", False),
    "sgd-invscaling": (lambda: _fitted("sgd", learning_rate="invscaling"), {},
                       "_stop_after_no_improvement", True),
    "sgd-adaptive": (lambda: _fitted("sgd", learning_rate="adaptive", tol=1e9,
                                     n_iter_no_change=1),
                     {}, "_stop_after_no_improvement", True),
    "read-only-weights": (lambda: _read_only(_fitted("adam")), {},
                          "_update_no_improvement_count", False),
}


@pytest.mark.parametrize("case", SNAPSHOT_CASES)
@pytest.mark.parametrize("exc", [_Injected, MemoryError])
def test_a_failing_partial_fit_puts_everything_back(monkeypatch, case, exc):
    make, kwargs, name, after = SNAPSHOT_CASES[case]
    clf = make()
    before = _state(clf)
    fitted = hasattr(clf, "coefs_")
    if fitted:  # the arrays themselves are refilled, not replaced by copies
        held = clf.coefs_ + clf.intercepts_ + list(clf._optimizer.optimizer.state)
        values = [a.copy() for a in held]
        learning_rate = clf._optimizer.learning_rate
    hook = _raise_after(exc) if after else _fail_after(0, exc)
    hook.original = getattr(type(clf), name)
    monkeypatch.setattr(type(clf), name, hook)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3 if case == "sgd-adaptive" else 1):  # adaptive: lower the rate
            with pytest.raises(exc):
                clf.partial_fit(X_SMALL, Y_SMALL, **kwargs)
            assert _state(clf) == before
    if fitted:
        assert all(a is b for a, b in zip(clf.coefs_ + clf.intercepts_, held))
        for a, v in zip(held, values):
            assert_array_equal(a, v)
        assert clf._optimizer.learning_rate == learning_rate
    else:
        assert not hasattr(clf, "classes_") and not hasattr(clf, "n_features_in_")
    monkeypatch.undo()
    # the next call trains as if the failed ones had not happened
    if case in ("global-rng", "own-rng"):
        return  # their generator is shared and was advanced by the failed calls
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(X_SMALL, Y_SMALL, **kwargs)
        ref = make().partial_fit(X_SMALL, Y_SMALL, **kwargs)
    assert_same_model(clf, ref)
    for a, b in zip(clf.coefs_ + clf.intercepts_, ref.coefs_ + ref.intercepts_):
        assert_array_equal(a, b)
