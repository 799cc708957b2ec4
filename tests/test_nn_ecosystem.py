"""``csoftmax.MLPClassifier`` among scikit-learn's tools.

clone, pickle, joblib (memory-mapped reloads included), Pipeline,
GridSearchCV with worker processes, pandas feature names and metadata routing
work as they do for scikit-learn's ``MLPClassifier``.
"""

import pickle
import warnings

import joblib
import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, UnsetMetadataPassedError
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier as SKMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from csoftmax import MLPClassifier

from helpers.estimator import (
    IGNORE_CONVERGENCE,
    X_DIGITS,
    X_SMALL,
    Y_BINARY,
    Y_DIGITS,
    Y_SMALL,
    assert_same_model,
    fit_both,
    make_params,
    warnings_of,
)


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
    clf = MLPClassifier(**make_params(solver=solver, max_iter=3)).fit(X_SMALL, Y_SMALL)
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
    clf = MLPClassifier(**make_params(solver=solver, max_iter=3)).fit(X_SMALL, Y_SMALL)
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
    clf = MLPClassifier(**make_params(max_iter=2, warm_start=True)).fit(X_SMALL, Y_SMALL)
    joblib.dump(clf, tmp_path / "m.joblib")
    mm = joblib.load(tmp_path / "m.joblib", mmap_mode="r")
    mm.fit(X_SMALL, Y_SMALL)
    clf.fit(X_SMALL, Y_SMALL)
    for a, b in zip(mm.coefs_, clf.coefs_):
        assert_array_equal(a, b)


@IGNORE_CONVERGENCE
def test_pipeline():
    params = make_params(max_iter=4)
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
    cs, sk = fit_both(make_params(max_iter=2), df, ys)
    assert_array_equal(cs.feature_names_in_, np.array(cols, dtype=object))
    assert cs.feature_names_in_.dtype == object
    assert_same_model(cs, sk, df)
    # ndarray after DataFrame fit: same UserWarning as scikit-learn
    exp = warnings_of(lambda: sk.predict(X_SMALL))
    assert len(exp) == 1
    assert warnings_of(lambda: cs.predict(X_SMALL)) == exp
    assert warnings_of(lambda: cs.predict_proba(X_SMALL)) == warnings_of(
        lambda: sk.predict_proba(X_SMALL))
    # no warning with the right frame
    assert warnings_of(lambda: cs.predict(df)) == []
    # renamed columns: same error as scikit-learn
    bad = df.rename(columns={"px0": "other"})
    with pytest.raises(ValueError) as sk_err:
        sk.predict(bad)
    with pytest.raises(ValueError) as cs_err:
        cs.predict(bad)
    assert str(cs_err.value) == str(sk_err.value)
    # fitted on ndarray, predicted on a DataFrame: same warning
    cs_np, sk_np = fit_both(make_params(max_iter=2), X_SMALL, Y_SMALL)
    assert not hasattr(cs_np, "feature_names_in_")
    exp = warnings_of(lambda: sk_np.predict(df))
    assert len(exp) == 1
    assert warnings_of(lambda: cs_np.predict(df)) == exp


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
