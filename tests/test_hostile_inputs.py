"""Inputs changed by another thread during a call, outputs sharing memory with inputs, and
Ctrl-C during fit: an exception or changed numbers, never a crash.

Each scenario runs in a child process under a timeout, so that a segmentation fault or a
hang fails the test instead of ending the run. A writer thread rewrites an input through
ctypes.memmove, which runs without the GIL, so that it writes while the kernels run.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import csoftmax

_PRELUDE = """
import ctypes, os, signal, threading, time, warnings
import numpy as np
import scipy.sparse as sp
import csoftmax
from csoftmax import _core

class Writer:
    '''Rewrites `arr` in place with each of `versions` in turn, without the GIL, each
    left there for about `pause` seconds (or not at all), until stopped: as a context
    manager. With a pause, a call usually starts on one version and sees the next one
    arrive while it runs.'''
    def __init__(self, arr, versions, pause=1e-4):
        self.arr = arr
        self.versions = [np.ascontiguousarray(v, dtype=arr.dtype) for v in versions]
        self.pause = pause
        self.done = threading.Event()
        self.writes = 0
    def run(self):
        while not self.done.is_set():
            for v in self.versions:
                ctypes.memmove(self.arr.ctypes.data, v.ctypes.data, self.arr.nbytes)
                self.writes += 1
                if self.pause:
                    time.sleep(self.pause)
    def __enter__(self):
        self.thread = threading.Thread(target=self.run)
        self.thread.start()
        return self
    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

def outcomes(call, n_calls, check):
    '''Run call() n_calls times: the counts of returns (each passed to check) and of
    ValueErrors.'''
    counts = {"returned": 0, "ValueError": 0}
    for _ in range(n_calls):
        try:
            result = call()
        except ValueError:
            counts["ValueError"] += 1
        else:
            check(result)
            counts["returned"] += 1
    return counts
"""


def _run(code, setup="", timeout=300):
    """stdout of `code` run after _PRELUDE and `setup` in a child process; fails on a
    crash."""
    root = Path(csoftmax.__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-c", _PRELUDE + setup + textwrap.dedent(code)], cwd=root, env=env,
        capture_output=True, text=True, timeout=timeout,
    )
    assert proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stdout}{proc.stderr}"
    return proc.stdout.strip()


def _counts(out):
    """The last line of a child's output, a dict of counts printed by `outcomes`."""
    return eval(out.splitlines()[-1])  # noqa: S307 - the child's own repr of a dict of ints


# ---- a thread rewriting the labels during cross_entropy -------------------------------------

@pytest.mark.parametrize("n_cols", [10, 300])  # narrow rows, and the row loop
@pytest.mark.parametrize("options", [
    "",
    "weight=np.linspace(0.5, 2.0, C)",
    "sample_weight=np.linspace(0.5, 2.0, N)",
    "label_smoothing=0.2, reduction='none'",
    "ignore_index=-100, n_threads=2",
])
def test_labels_rewritten_during_cross_entropy(n_cols, options):
    out = _run(f"""
    N, C = 2048, {n_cols}
    rng = np.random.default_rng(0)
    z = rng.standard_normal((N, C)).astype(np.float32)
    labels = rng.integers(0, C, N)
    bad = labels.copy()
    bad[::3] = 2**40
    bad[1::3] = -7
    bad[2::7] = C
    ignored = np.where(rng.random(N) < 0.1, -100, rng.integers(0, C, N))
    def check(result):
        loss, grad = result
        assert np.isfinite(loss).all() and np.isfinite(grad).all(), "a non-finite result"
    def call():
        return csoftmax.cross_entropy(z, labels, return_grad=True, {options})
    with Writer(labels, [rng.integers(0, C, N), bad, ignored]) as w:
        counts = outcomes(call, 400, check)
    assert w.writes > 0
    print(counts)
    """)
    print(out)
    counts = _counts(out)
    assert counts["returned"] + counts["ValueError"] == 400, out


# ---- a thread rewriting a CSR matrix during predict_proba and partial_fit --------------------

_CSR_MODEL = """
rng = np.random.default_rng(1)
n, f = 1000, 40
X = sp.random(n, f, density=0.2, format="csr", random_state=1)
X.indices = X.indices.astype(np.int64)
X.indptr = X.indptr.astype(np.int64)
y = rng.integers(0, 3, n)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    clf = csoftmax.MLPClassifier((16,), max_iter=2, random_state=0).fit(X.toarray(), y)
"""


@pytest.mark.parametrize("part", ["indices", "indptr"])
def test_csr_rewritten_during_predict_proba_and_partial_fit(part):
    out = _run(setup=_CSR_MODEL, code=f"""
    arr = X.{part}
    bad = arr.copy()
    if "{part}" == "indices":
        bad[::5] = 2**40
        bad[1::5] = -1
        bad[2::5] = f
    else:
        bad[1::2] = 2**40
        bad[2::3] = -5
    good = arr.copy()
    def finite(result):
        assert result is clf or np.isfinite(result).all(), "a non-finite result"
    with Writer(arr, [good, bad]) as w:
        counts = outcomes(lambda: clf.predict_proba(X), 300, finite)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits = outcomes(lambda: clf.partial_fit(X, y), 40, finite)
    assert w.writes > 0
    print(fits)
    print(counts)
    """)
    print(out)
    counts = _counts(out)
    assert counts["returned"] + counts["ValueError"] == 300, out


def test_training_engine_labels_and_order_rewritten_during_epochs():
    # the private engine reads the caller's labels and visiting order batch by batch
    out = _run("""
    rng = np.random.default_rng(2)
    n, f, c = 4000, 12, 4
    X = rng.standard_normal((n, f))
    y = rng.integers(0, c, n)
    order = rng.permutation(n)
    coefs = [rng.standard_normal((f, 8)) * 0.3, rng.standard_normal((8, c)) * 0.3]
    intercepts = [np.zeros(8), np.zeros(c)]
    engine = _core.MLPEngine(coefs, intercepts, "tanh", "softmax", 32, 1, gather_dense=True)
    opt = _core.Optimizer("adam", [np.zeros_like(p) for p in coefs + intercepts] * 2)
    bad_y = y.copy(); bad_y[::4] = c; bad_y[1::4] = -3
    bad_order = order.copy(); bad_order[::3] = n; bad_order[1::3] = 2**50
    def finite(loss):
        assert np.isfinite(loss), loss
    with Writer(y, [rng.integers(0, c, n), bad_y]), Writer(order, [rng.permutation(n),
                                                                   bad_order]):
        counts = outcomes(lambda: engine.epoch(X, y, None, order, 32, 1e-4, opt), 300,
                          finite)
        grads = [np.empty_like(p) for p in coefs + intercepts]
        more = outcomes(lambda: engine.loss_grad(X[:32], y[:32], None, 1e-4, grads), 300,
                        finite)
    assert all(np.isfinite(p).all() for p in coefs + intercepts)
    print(more)
    print(counts)
    """)
    print(out)
    counts = _counts(out)
    assert counts["returned"] + counts["ValueError"] == 300, out


# ---- out= sharing memory with the sample weights --------------------------------------------

@pytest.mark.parametrize("target", ["labels", "probabilities"])
def test_out_holding_the_sample_weights(target):
    out = _run(f"""
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 3))
    t = (np.array([0, 1, 2, 1, 0]) if "{target}" == "labels"
         else csoftmax.softmax(rng.standard_normal((5, 3))))
    w = np.array([1.0, 2.0, 0.5, 3.0, 1.5])
    want = csoftmax.cross_entropy(z, t, sample_weight=w.copy(), return_grad=True)
    buf = np.zeros(15)
    buf[:5] = w
    got = csoftmax.cross_entropy(z, t, sample_weight=buf[:5], return_grad=True,
                                 out=buf.reshape(5, 3))
    print(got[0] == want[0], np.array_equal(got[1], want[1]),
          np.shares_memory(got[1], buf))
    """)
    assert out == "True True True"


# ---- Ctrl-C during fit -----------------------------------------------------------------------

_INTERRUPT = """
# Python's own SIGINT handler, as in an interactive session (a job started in the background
# of a shell inherits SIGINT ignored, and then Ctrl-C reaches nothing, by design)
signal.signal(signal.SIGINT, signal.default_int_handler)

def interrupt_when_training(clf, record, count=1, delay=0.5, gap=0.05):
    '''Send SIGINT `count` times to this process once `clf` has trained a batch (its last
    intercepts changed) and `delay` seconds more: from a thread, recording the times.'''
    def run():
        while "_optimizer" not in vars(clf):
            time.sleep(0.002)
        first = clf.intercepts_[-1].copy()
        # read again each time: fit may still replace the array (its dtype, its layout)
        while np.array_equal(clf.intercepts_[-1], first):
            time.sleep(0.002)
        time.sleep(delay)
        for _ in range(count):
            record.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(gap)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread

def same(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
"""


def test_ctrl_c_stops_a_large_sgd_fit_within_a_batch():
    # 200,000 x 784, 2,048 hidden units: an epoch takes about a minute here; SIGINT half a
    # second into it must end fit within about a batch, keeping the finished batches
    out = _run(setup=_INTERRUPT, code="""
    n, f = 200_000, 784
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, f), dtype=np.float32)
    y = X[:, :10].argmax(axis=1)
    for solver in ("sgd", "adam"):
        params = dict(hidden_layer_sizes=(2048,), solver=solver, batch_size=200, max_iter=3,
                      shuffle=False, random_state=0, learning_rate_init=1e-4)
        clf = csoftmax.MLPClassifier(**params)
        sent = []
        interrupt_when_training(clf, sent)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf.fit(X, y)
        latency = time.monotonic() - sent[0]
        messages = [str(w.message) for w in caught]
        assert messages == ["Training interrupted by user."], (messages, clf.t_, latency)
        t = clf.t_
        # the finished batches of the first epoch, and nothing else
        assert clf.n_iter_ == 0 and clf.loss_curve_ == [] and 0 < t < n and t % 200 == 0, t
        if solver == "adam":
            assert clf._optimizer.t == t // 200
        # the same batches trained by partial_fit give the same bits, state and counters
        ref = csoftmax.MLPClassifier(**params).partial_fit(X[:t], y[:t], classes=np.arange(10))
        assert ref.t_ == t
        assert same(clf.coefs_ + clf.intercepts_, ref.coefs_ + ref.intercepts_)
        assert same(clf._optimizer.optimizer.state, ref._optimizer.optimizer.state)
        assert clf._optimizer.optimizer.t == ref._optimizer.optimizer.t
        # and both go on alike
        more = slice(t, t + 2000)
        clf.partial_fit(X[more], y[more])
        ref.partial_fit(X[more], y[more])
        assert same(clf.coefs_ + clf.intercepts_, ref.coefs_ + ref.intercepts_)
        print(f"{solver}: SIGINT to return {latency:.3f} s, {t // 200} batches done")
    """, timeout=600)
    print(out)
    assert out.count("SIGINT to return") == 2, out


def test_a_handler_that_does_not_raise_leaves_fit_unchanged():
    # Ctrl-C handed to a handler that only counts: the epochs stop and go on, bit for bit
    out = _run(setup=_INTERRUPT, code="""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((20_000, 100))
    y = X[:, :5].argmax(axis=1)
    params = dict(hidden_layer_sizes=(128,), max_iter=20, random_state=0, tol=0.0,
                  n_iter_no_change=100)
    hits = []
    signal.signal(signal.SIGINT, lambda signum, frame: hits.append(signum))
    clf = csoftmax.MLPClassifier(**params)
    sent = []
    thread = interrupt_when_training(clf, sent, count=3, delay=0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    returned = time.monotonic()
    thread.join()
    ref = csoftmax.MLPClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(X, y)
    print(len(sent) == 3 and sent[-1] < returned, len(hits),
          any("interrupted" in str(w.message) for w in caught),
          clf.n_iter_ == ref.n_iter_ == 20, clf.t_ == ref.t_,
          clf.loss_curve_ == ref.loss_curve_,
          same(clf.coefs_ + clf.intercepts_, ref.coefs_ + ref.intercepts_))
    """)
    # the signals came during fit, each reached the handler, and nothing else changed
    assert out == "True 3 False True True True True", out


def test_ctrl_c_reaches_the_main_thread_while_another_thread_fits():
    # Python runs signal handlers in the main thread only: a fit in another thread goes on
    out = _run(setup=_INTERRUPT, code="""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((20_000, 100))
    y = X[:, :5].argmax(axis=1)
    clf = csoftmax.MLPClassifier((128,), max_iter=60, random_state=0, tol=0.0,
                                 n_iter_no_change=100)
    caught, done = [], threading.Event()
    def fit():
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            clf.fit(X, y)
        caught.extend(str(x.message) for x in w)
        done.set()
    worker = threading.Thread(target=fit)
    worker.start()
    sent = []
    interrupt_when_training(clf, sent, delay=0.05)  # well before the 60 epochs end
    try:  # (not worker.join(): Python 3.11 can lose a thread whose join is interrupted)
        while not done.wait(0.01):
            pass
    except KeyboardInterrupt:
        print("main thread interrupted, fit running:", not done.is_set())
    while not done.wait(0.01):
        pass
    worker.join()
    print(clf.n_iter_, "Training interrupted by user." in caught)
    """)
    assert out == "main thread interrupted, fit running: True\n60 False", out
