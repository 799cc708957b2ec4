"""Determinism and thread safety of the csoftmax kernels.

This module proves that

- every kernel gives bitwise identical results for any ``n_threads`` (1, 2, 3,
  -1, None), because every reduction uses a fixed blocking that does not
  depend on the thread count; this includes wide rows that may be split across
  threads, and holds under ``threadpoolctl.threadpool_limits`` too;
- many Python threads calling the kernels at the same time (the kernels
  release the GIL) get exactly the results of the same calls made serially,
  and those results are correct against scipy.
"""

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import scipy.special
from threadpoolctl import threadpool_limits

import csoftmax

from helpers.numerics import DTYPES


def assert_bitwise_equal(a, b):
    """Same shape, dtype and bits (NaN payloads aside, NaN equals NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(a, b, strict=True)


def kernel_outputs(x, axis, n_threads, dtype):
    """Call every kernel once on ``x`` and return all outputs as a dict of arrays."""
    rng = np.random.default_rng(x.size)
    dy = rng.standard_normal(x.shape).astype(dtype)
    s = csoftmax.softmax(x, axis=axis, n_threads=n_threads)
    ls = csoftmax.log_softmax(x, axis=axis, n_threads=n_threads)
    out = {
        "softmax": s,
        "log_softmax": ls,
        "softmax_vjp": csoftmax.softmax_vjp(s, dy, axis=axis, n_threads=n_threads),
        "log_softmax_vjp": csoftmax.log_softmax_vjp(ls, dy, axis=axis, n_threads=n_threads),
    }
    if x.ndim == 2 and axis in (1, -1):
        n, c = x.shape
        labels = rng.integers(0, c, size=n)
        probs = rng.dirichlet(np.ones(min(c, 50)), size=n)
        probs = np.pad(probs, ((0, 0), (0, c - probs.shape[1]))).astype(dtype)
        w = rng.uniform(0.5, 2.0, size=n)
        for reduction in ["mean", "sum", "none"]:
            loss, grad = csoftmax.cross_entropy(
                x, labels, reduction=reduction, return_grad=True, n_threads=n_threads
            )
            out[f"xent_labels_{reduction}"] = np.asarray(loss)
            out[f"xent_labels_{reduction}_grad"] = grad
        loss, grad = csoftmax.cross_entropy(
            x, probs, sample_weight=w, label_smoothing=0.1, return_grad=True, n_threads=n_threads
        )
        out["xent_probs"] = np.asarray(loss)
        out["xent_probs_grad"] = grad
    if x.shape[axis] <= 64 and x.size <= 20_000:
        out["jacobian"] = csoftmax.softmax_jacobian(x, axis=axis, n_threads=n_threads)
    return out


SHAPES = [
    pytest.param((257, 301), -1, id="257x301"),
    pytest.param((301, 257), 0, id="axis0"),
    pytest.param((5, 7, 9), 1, id="3d-axis1"),
    pytest.param((200, 40), -1, id="jacobian-size"),
    pytest.param((2, 300_001), -1, id="wide-2x300001"),
    pytest.param((1, 600_007), -1, id="one-very-wide-row"),
]


@pytest.mark.parametrize("shape, axis", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bitwise_identical_for_any_n_threads(dtype, shape, axis):
    rng = np.random.default_rng(1)
    x = (4.0 * rng.standard_normal(shape)).astype(dtype)
    serial = kernel_outputs(x, axis, 1, dtype)
    for n_threads in [2, 3, -1, None]:
        parallel = kernel_outputs(x, axis, n_threads, dtype)
        assert parallel.keys() == serial.keys()
        for key in serial:
            try:
                assert_bitwise_equal(parallel[key], serial[key])
            except AssertionError as exc:
                raise AssertionError(f"{key} differs for n_threads={n_threads}") from exc


@pytest.mark.parametrize("dtype", DTYPES)
def test_bitwise_identical_under_threadpool_limits(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 500)).astype(dtype)
    free = kernel_outputs(x, -1, None, dtype)
    with threadpool_limits(limits=1):
        limited = kernel_outputs(x, -1, None, dtype)
    for key in free:
        assert_bitwise_equal(limited[key], free[key])


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_finite_rows_are_bitwise_identical_across_n_threads(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 1000)).astype(dtype)
    x[3] = -np.inf
    x[10, 5] = np.inf
    x[20, 7] = np.nan
    x[30, ::3] = -np.inf
    a = kernel_outputs(x, -1, 1, dtype)
    b = kernel_outputs(x, -1, 2, dtype)
    for key in a:
        assert_bitwise_equal(b[key], a[key])
    assert np.all(np.isnan(a["softmax"][[3, 10, 20]]))
    assert not np.any(np.isnan(np.delete(a["softmax"], [3, 10, 20], axis=0)))


# ---------------------------------------------------------------------------
# Many Python threads at once
# ---------------------------------------------------------------------------


def make_task(i):
    """A different problem per task: kernel, dtype, shape, axis, n_threads."""
    rng = np.random.default_rng(100 + i)
    dtype = DTYPES[i % 2]
    kind = ["softmax", "log_softmax", "softmax_vjp", "log_softmax_vjp", "cross_entropy", "jacobian"][i % 6]
    n = int(rng.integers(20, 120))
    c = int(rng.integers(2, 40)) if kind == "jacobian" else int(rng.integers(2, 400))
    x = (3.0 * rng.standard_normal((n, c))).astype(dtype)
    x.setflags(write=False)
    extra = rng.standard_normal((n, c)).astype(dtype)
    labels = rng.integers(0, c, size=n)
    n_threads = [1, 2][(i // 2) % 2]
    return kind, x, extra, labels, n_threads


def run_task(task):
    kind, x, extra, labels, n_threads = task
    if kind == "softmax":
        return (csoftmax.softmax(x, n_threads=n_threads),)
    if kind == "log_softmax":
        out = np.empty_like(x)
        return (csoftmax.log_softmax(x, out=out, n_threads=n_threads),)
    if kind == "softmax_vjp":
        s = csoftmax.softmax(x, axis=0, n_threads=n_threads)
        return (s, csoftmax.softmax_vjp(s, extra, axis=0, n_threads=n_threads))
    if kind == "log_softmax_vjp":
        ls = csoftmax.log_softmax(x, n_threads=n_threads)
        return (ls, csoftmax.log_softmax_vjp(ls, extra, n_threads=n_threads))
    if kind == "cross_entropy":
        loss, grad = csoftmax.cross_entropy(x, labels, reduction="none", return_grad=True, n_threads=n_threads)
        return (loss, grad)
    if kind == "jacobian":
        return (csoftmax.softmax_jacobian(x, n_threads=n_threads),)
    raise AssertionError(kind)


def check_task_correct(task, result):
    """The serial results are right (against scipy), so concurrency is compared to truth."""
    kind, x, extra, labels, _ = task
    rtol = 2e-5 if x.dtype == np.float32 else 1e-10
    # absolute slack only where values cancel or sit near 0 (see test_functional.py)
    atol = 8 * np.finfo(x.dtype).eps + x.shape[1] * np.finfo(np.float64).eps
    z = x.astype(np.float64)
    g = extra.astype(np.float64)
    if kind == "softmax":
        np.testing.assert_allclose(result[0], scipy.special.softmax(z, axis=-1), rtol=rtol, atol=1e-30)
    elif kind == "log_softmax":
        np.testing.assert_allclose(result[0], scipy.special.log_softmax(z, axis=-1), rtol=rtol, atol=atol)
    elif kind == "cross_entropy":
        expected = scipy.special.logsumexp(z, axis=1) - z[np.arange(len(z)), labels]
        np.testing.assert_allclose(result[0], expected, rtol=rtol, atol=atol)
    elif kind == "jacobian":
        s = scipy.special.softmax(z, axis=-1)
        expected = s[:, :, None] * np.eye(z.shape[1]) - s[:, :, None] * s[:, None, :]
        np.testing.assert_allclose(result[0], expected, rtol=rtol, atol=atol)
    elif kind == "softmax_vjp":
        np.testing.assert_allclose(result[0], scipy.special.softmax(z, axis=0), rtol=rtol, atol=1e-30)
        y = result[0].astype(np.float64)
        expected = y * (g - np.sum(g * y, axis=0, keepdims=True))
        scale = y * (np.abs(g) + np.sum(np.abs(g) * y, axis=0, keepdims=True))
        assert np.all(np.abs(result[1] - expected) <= rtol * scale + 1e-30)
    elif kind == "log_softmax_vjp":
        np.testing.assert_allclose(result[0], scipy.special.log_softmax(z, axis=-1), rtol=rtol, atol=atol)
        p = np.exp(result[0].astype(np.float64))
        expected = g - p * np.sum(g, axis=-1, keepdims=True)
        scale = np.abs(g) + p * np.sum(np.abs(g), axis=-1, keepdims=True)
        assert np.all(np.abs(result[1] - expected) <= rtol * scale + 1e-30)
    else:
        raise AssertionError(kind)


def test_many_python_threads_get_serial_results():
    tasks = [make_task(i) for i in range(48)]
    serial = [run_task(t) for t in tasks]
    for task, result in zip(tasks, serial):
        check_task_correct(task, result)

    # 8 Python threads, each task submitted 4 times, in an interleaved order
    order = [i for _ in range(4) for i in range(len(tasks))]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: (i, run_task(tasks[i])), order))

    assert len(results) == len(order)
    for i, result in results:
        for got, expected in zip(result, serial[i], strict=True):
            assert_bitwise_equal(got, expected)


def test_many_python_threads_share_one_read_only_input():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((500, 300))
    x.setflags(write=False)
    expected_s = csoftmax.softmax(x, n_threads=1)
    expected_loss = csoftmax.cross_entropy(x, np.arange(500) % 300, reduction="none", n_threads=1)

    def work(k):
        out = np.empty_like(x)
        s = csoftmax.softmax(x, out=out, n_threads=1 + k % 2)
        loss = csoftmax.cross_entropy(x, np.arange(500) % 300, reduction="none", n_threads=1 + k % 2)
        return s, loss

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(32)))

    np.testing.assert_allclose(expected_s, scipy.special.softmax(x, axis=1), rtol=1e-10)
    for s, loss in results:
        assert_bitwise_equal(s, expected_s)
        assert_bitwise_equal(loss, expected_loss)


# ---------------------------------------------------------------------------
# After fork, and with absurd n_threads: never a hang, never a crash. Each scenario runs in
# a subprocess under a timeout, so a hang fails the test instead of hanging the suite.
# ---------------------------------------------------------------------------
def _run_script(code, timeout=120):
    root = Path(csoftmax.__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


_FORK_PRELUDE = """
    import os, sys
    import numpy as np
    import csoftmax
    x = np.random.default_rng(0).normal(size=(4000, 64))
    expected = csoftmax.softmax(x, n_threads=2)  # starts a thread team in the parent
    def work(_=None):
        return bool(np.array_equal(csoftmax.softmax(x, n_threads=2), expected))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_os_fork_child_runs_kernels_after_the_parent_ran_a_team():
    out = _run_script(_FORK_PRELUDE + """
    pid = os.fork()
    if pid == 0:
        from csoftmax._utils import check_n_threads
        one = [check_n_threads(n) for n in (None, 1, 2, 64, -1, -2)] == [1] * 6
        os._exit(0 if work() and one else 3)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), work())
    """)
    assert out.split() == ["0", "True"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_multiprocessing_fork_pool_and_joblib_multiprocessing_backend():
    out = _run_script(_FORK_PRELUDE + """
    import multiprocessing, joblib
    with multiprocessing.get_context("fork").Pool(2) as pool:
        print(all(pool.map(work, range(4))))
    with joblib.parallel_backend("multiprocessing", n_jobs=2):
        print(all(joblib.Parallel()(joblib.delayed(work)() for _ in range(4))))
    """)
    assert out.split() == ["True", "True"]


def test_any_n_threads_is_capped_never_a_crash():
    out = _run_script("""
    import numpy as np, warnings
    import csoftmax
    x = np.random.default_rng(0).normal(size=(3000, 50))
    ref = csoftmax.softmax(x, n_threads=1)
    for n in (50_000, 100_000, 2**31, 2**63, 10**30):
        assert np.array_equal(csoftmax.softmax(x, n_threads=n), ref), n
        loss, grad = csoftmax.cross_entropy(x, np.arange(3000) % 50, return_grad=True,
                                            n_threads=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = csoftmax.MLPClassifier((8,), max_iter=2, n_threads=100_000, random_state=0)
        clf.fit(x, np.arange(3000) % 3)
    print(clf.predict(x[:3]).shape)
    """)
    assert out.strip() == "(3,)"


@pytest.mark.skipif(not sys.platform.startswith("linux") or not csoftmax._core.openmp_enabled()
                    or (os.cpu_count() or 1) < 2,
                    reason="reads Linux's /proc; needs threads and two processors")
def test_team_fits_the_work_and_idle_threads_sleep():
    # A call too small to share starts no thread; n_threads=2 on a large call starts one
    # (OpenMP keeps it for the next team); once idle it sleeps (state S) instead of
    # spinning, polled for a while so that a loaded machine can run it to its sleep.
    out = _run_script("""
    import os, time
    import numpy as np
    import csoftmax

    def states():
        found = {}
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    found[tid] = f.read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:  # a thread that has just ended
                continue
        return found

    before = set(states())

    def workers():
        return [s for tid, s in states().items() if tid not in before]

    x = np.random.default_rng(0).standard_normal((20, 10), np.float32)
    csoftmax.softmax(x, n_threads=2)
    print(len(workers()))
    x = np.random.default_rng(0).standard_normal((2000, 500), np.float32)
    ref = csoftmax.softmax(x, n_threads=1)
    for _ in range(20):
        assert np.array_equal(csoftmax.softmax(x, n_threads=2), ref)
    for _ in range(500):
        ws = workers()
        if ws and all(s == "S" for s in ws):
            break
        time.sleep(0.01)
    print(len(ws), "".join(ws))
    """)
    assert out.split() == ["0", "1", "S"]
