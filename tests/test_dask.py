"""MLPClassifier on Dask: a real scheduler and two worker processes on the loopback interface.

* A grid search run by scikit-learn's GridSearchCV under ``joblib.parallel_backend("dask")``
  fits its candidates on the workers and finds what the same search finds in this process.
* ``dask_ml.wrappers.Incremental`` trains by ``partial_fit`` over the blocks of a chunked
  ``dask.array``, the model travelling between workers in pickles (Adam's state with it),
  and ends with the weights of ``partial_fit`` called over the same blocks here.

Needs the ``dask`` extra (``pip install -e ".[test,dask]"``); skipped without it. The
cluster lives for the module and is closed by its context managers, a failing test
included; the worker processes exit when this process does, and a watchdog ends this
process (dumping every thread's stack) should a test hang past its time limit.
"""

import contextlib
import faulthandler
import logging
import os
import warnings

import numpy as np
import pytest

pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pytest.importorskip("dask_ml")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import joblib  # noqa: E402
from dask_ml.wrappers import Incremental  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from csoftmax import MLPClassifier  # noqa: E402

# Time limits: a hang ends the test run (with every thread's stack on stderr) instead of
# blocking CI until the CI's own limit. The tests take a few seconds each.
TEST_SECONDS = 120
CLUSTER_SECONDS = 60


@contextlib.contextmanager
def deadline(seconds):
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True)
def watchdog(client):  # armed after the cluster has started: one timer at a time
    with deadline(TEST_SECONDS):
        yield


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    config = {"distributed.comm.timeouts.connect": "30s",
              "distributed.scheduler.no-workers-timeout": "30s",
              # scratch space in pytest's temporary folder, not /tmp/dask-scratch-space
              "temporary-directory": str(tmp_path_factory.mktemp("dask"))}
    with contextlib.ExitStack() as stack:
        stack.callback(faulthandler.cancel_dump_traceback_later)  # unwound last
        # The nannies set OMP_NUM_THREADS=1 and the like in this process's environment
        # before spawning the workers (distributed's pre-spawn-environ) and leave them set;
        # a library that reads them later in the run (torch sets OpenMP's thread count from
        # OMP_NUM_THREADS on import) would then run single-threaded. Put them back.
        stack.callback(_restore_environ, dict(os.environ))
        faulthandler.dump_traceback_later(CLUSTER_SECONDS, exit=True)  # over the start
        stack.enter_context(dask.config.set(config))
        cluster = stack.enter_context(distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.ERROR))
        client = stack.enter_context(distributed.Client(cluster, timeout="30s"))
        client.wait_for_workers(2, timeout=30)
        faulthandler.cancel_dump_traceback_later()
        yield client
        faulthandler.dump_traceback_later(CLUSTER_SECONDS, exit=True)  # over the closing


def _restore_environ(saved):
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    os.environ.update(saved)


def _workers_that_ran(task_stream, prefix):
    """The workers that ran tasks whose key (a name, or a tuple from one) starts so."""
    names = ((t["key"][0] if isinstance(t["key"], tuple) else t["key"], t["worker"])
             for t in task_stream.data)
    return {worker for name, worker in names if name.startswith(prefix)}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=600, n_features=20, n_informative=10,
                               n_classes=3, random_state=0)
    return X, y


def _search():
    grid = {"hidden_layer_sizes": [(8,), (16,)], "alpha": [1e-4, 1e-1]}
    return GridSearchCV(MLPClassifier(max_iter=40, random_state=0), grid, cv=2)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_on_dask_workers_matches_the_local_search(client, data):
    X, y = data
    local = _search().set_params(n_jobs=1).fit(X, y)

    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = _search().set_params(n_jobs=-1).fit(X, y)

    # The fits ran on the cluster, spread over both worker processes.
    assert _workers_that_ran(tasks, "") == set(client.scheduler_info()["workers"])
    assert remote.best_params_ == local.best_params_
    for key in ("params", "mean_test_score", "split0_test_score", "split1_test_score",
                "rank_test_score"):
        assert list(remote.cv_results_[key]) == list(local.cv_results_[key]), key
    for a, b in zip(remote.best_estimator_.coefs_, local.best_estimator_.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_incremental_over_dask_blocks_matches_local_partial_fit(client, data):
    X, y = data
    chunk = 100
    X_dask = da.from_array(X, chunks=(chunk, X.shape[1]))
    y_dask = da.from_array(y, chunks=chunk)
    assert X_dask.numblocks == (6, 1)
    classes = np.unique(y)
    params = dict(hidden_layer_sizes=(16,), batch_size=25, random_state=0)

    with distributed.get_task_stream(client) as tasks:
        inc = Incremental(MLPClassifier(**params), shuffle_blocks=False)
        inc.fit(X_dask, y_dask, classes=classes)

    local = MLPClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for start in range(0, X.shape[0], chunk):
            local.partial_fit(X[start:start + chunk], y[start:start + chunk], classes=classes)

    assert _workers_that_ran(tasks, "fit-")  # the partial_fit calls ran on the workers
    remote = inc.estimator_
    assert remote.t_ == local.t_ == X.shape[0]
    for a, b in zip(remote.coefs_ + remote.intercepts_, local.coefs_ + local.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(inc.predict(X), local.predict(X))
