"""Inputs changed by another thread during a call, and outputs sharing memory with inputs:
an exception or changed numbers, never a crash.

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
