"""Threads of ``csoftmax.MLPClassifier``: determinism and concurrency.

Fits and predictions are bitwise identical for any ``n_threads``; the default
thread count does not oversubscribe joblib workers; several Python threads may
fit and predict at the same time.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from csoftmax import MLPClassifier

from helpers.estimator import IGNORE_CONVERGENCE, X_DIGITS, X_SMALL, Y_DIGITS, Y_SMALL, make_params


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
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bitwise_reproducible_across_runs_and_threads(solver_params, sparse, dtype):
    # all of digits, 64 hidden units, so that work is split between threads (batches of
    # 200 rows and L-BFGS's 1,797 make the engine split its matrix products into blocks;
    # float32 products show a different split at once)
    X = sp.csr_matrix(X_DIGITS) if sparse else X_DIGITS
    params = make_params(**dict(dict(hidden_layer_sizes=(64,), max_iter=3, dtype=dtype),
                                **solver_params))
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
    clf = MLPClassifier(**make_params(hidden_layer_sizes=(64,), max_iter=2), n_threads=1)
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

    from csoftmax import _core
    from csoftmax._utils import check_n_threads

    if not _core.openmp_enabled():
        pytest.skip("built without OpenMP: every kernel runs on one thread")
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
    clf = MLPClassifier(**make_params(hidden_layer_sizes=(32,), max_iter=2)).fit(X_DIGITS, Y_DIGITS)
    expected = clf.predict_proba(X_DIGITS)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: clf.predict_proba(X_DIGITS), range(8)))
    for r in results:
        assert_array_equal(r, expected)


@IGNORE_CONVERGENCE
def test_concurrent_fit_from_python_threads():
    params = make_params(max_iter=3)
    expected = MLPClassifier(**params).fit(X_SMALL, Y_SMALL).coefs_
    with ThreadPoolExecutor(max_workers=3) as pool:
        fitted = list(pool.map(lambda _: MLPClassifier(**params).fit(X_SMALL, Y_SMALL),
                               range(3)))
    for clf in fitted:
        for a, b in zip(clf.coefs_, expected):
            assert_array_equal(a, b)


@IGNORE_CONVERGENCE
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_team_probes_change_no_result(dtype):
    # With batches of 16, an epoch of digits has 113 batches, so the engine tries the other
    # team size several times per epoch (after 4 batches, then at doubling intervals up to
    # 32) and may switch: the weights are those of one thread all the same.
    params = make_params(hidden_layer_sizes=(64,), max_iter=2, batch_size=16, dtype=dtype)
    runs = [MLPClassifier(**params, n_threads=n).fit(X_DIGITS, Y_DIGITS) for n in (1, 2)]
    for a, b in zip(runs[0].coefs_ + runs[0].intercepts_, runs[1].coefs_ + runs[1].intercepts_):
        assert_array_equal(a, b)
    assert runs[0].loss_curve_ == runs[1].loss_curve_


@IGNORE_CONVERGENCE
def test_engines_give_blas_its_thread_count_back():
    # While an engine runs, SciPy's OpenBLAS is set to one thread (the engine splits the
    # products itself); after fit and predict it has the count it had before.
    from threadpoolctl import threadpool_info, threadpool_limits

    from csoftmax import _core

    if not _core.blas_threads_controlled():
        pytest.skip("SciPy's BLAS is not an OpenBLAS whose thread count can be set")

    def blas_threads():
        return sorted((d["filepath"], d["num_threads"]) for d in threadpool_info()
                      if d["user_api"] == "blas")

    params = make_params(hidden_layer_sizes=(64,), max_iter=2)
    for limit in (None, 1):
        with threadpool_limits(limits=limit, user_api="blas"):
            before = blas_threads()
            clf = MLPClassifier(**params).fit(X_DIGITS, Y_DIGITS)
            clf.predict_proba(X_DIGITS)
            MLPClassifier(**dict(params, solver="lbfgs")).fit(X_DIGITS, Y_DIGITS)
            assert blas_threads() == before
