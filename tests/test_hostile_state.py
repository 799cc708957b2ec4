"""Hostile or corrupted input at the Cython boundary: an exception, never a crash.

Each scenario runs in a child process under a timeout, so that a segmentation fault fails
the test instead of ending the run: a fitted model whose weights were tampered with (as a
corrupted pickle would hold them), the private engine given arrays of the wrong number of
dimensions, and cross_entropy given an `out` that shares memory with its other inputs.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import csoftmax

_PRELUDE = """
import pickle, warnings
import numpy as np
import csoftmax
from csoftmax import _core

def fitted(n_outputs=3):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    y = np.arange(40) % n_outputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = csoftmax.MLPClassifier((4, 3), max_iter=3, random_state=0).fit(X, y)
    return pickle.loads(pickle.dumps(clf)), X

def outcome(call):
    try:
        call()
    except Exception as exc:
        print(type(exc).__name__ + ": " + str(exc))
    else:
        print("no error")
"""


def _run(code, timeout=120):
    """stdout of `code` run after _PRELUDE in a child process; fails on a crash."""
    root = Path(csoftmax.__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(code)], cwd=root, env=env,
        capture_output=True, text=True, timeout=timeout,
    )
    assert proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stdout}{proc.stderr}"
    return proc.stdout.strip()


@pytest.mark.parametrize(
    "tamper, attribute",
    [
        ("clf.coefs_[0] = clf.coefs_[0][0]", "coefs_[0]"),  # 1-D
        ("clf.coefs_[1] = np.asarray(clf.coefs_[1][0, 0])", "coefs_[1]"),  # 0-d
        ("clf.coefs_[2] = 0.5", "coefs_[2]"),  # a Python scalar
        ("clf.coefs_[1] = clf.coefs_[1][:, :, None]", "coefs_[1]"),  # 3-D
        ("clf.coefs_[1] = clf.coefs_[1][1:]", "coefs_[1]"),  # shapes do not chain
        ("clf.intercepts_[0] = clf.intercepts_[0][:, None]", "intercepts_[0]"),  # 2-D
        ("clf.intercepts_[1] = clf.intercepts_[1][1:]", "intercepts_[1]"),  # one short
        ("clf.intercepts_[2] = np.float64(0.0)", "intercepts_[2]"),  # a NumPy scalar
    ],
)
def test_tampered_fitted_state_raises_naming_the_attribute(tamper, attribute):
    out = _run(f"""
    clf, X = fitted()
    {tamper}
    for method in (clf.predict, clf.predict_proba, clf.predict_log_proba):
        outcome(lambda: method(X))
    """)
    lines = out.splitlines()
    assert len(lines) == 3, out
    for line in lines:
        assert line.startswith("ValueError: ") and attribute in line, out


@pytest.mark.parametrize("value", ["10**9", "2", "'3'", "True", "None"])
def test_tampered_n_outputs_raises_before_allocating(value):
    # 10**9 outputs sized the prediction's output array (a 37 GiB MemoryError for 5 rows,
    # found by fuzz/fuzz_state.py); a smaller wrong count gave the engine's message about
    # an array `out` the caller never passed
    out = _run(f"""
    clf, X = fitted()
    clf.n_outputs_ = {value}
    for method in (clf.predict, clf.predict_proba, clf.predict_log_proba):
        outcome(lambda: method(X[:5]))
    """)
    lines = out.splitlines()
    assert len(lines) == 3, out
    for line in lines:
        assert line.startswith("ValueError: n_outputs_ is ") and "coefs_[-1]" in line, out


def test_engine_entry_points_refuse_arrays_of_the_wrong_dimensions():
    out = _run("""
    def engine():
        return _core.MLPEngine([np.zeros((5, 3))], [np.zeros(3)], "relu", "softmax", 8, 1)
    outcome(lambda: _core.MLPEngine([np.zeros(3)], [np.zeros(3)], "relu", "softmax", 8, 1))
    outcome(lambda: _core.MLPEngine([np.zeros(())], [np.zeros(3)], "relu", "softmax", 8, 1))
    outcome(lambda: _core.MLPEngine([np.zeros((5, 3))], [np.zeros((1, 3))], "relu",
                                    "softmax", 8, 1))
    outcome(lambda: engine().forward(np.zeros(()), np.zeros((1, 3))))
    outcome(lambda: engine().forward(np.zeros((2, 5)), np.zeros(())))
    outcome(lambda: engine().loss_grad(np.zeros((2, 5)), np.zeros((), np.int64), None, 0.0,
                                       [np.zeros((5, 3)), np.zeros(3)]))
    outcome(lambda: engine().epoch(np.zeros((2, 5)), np.zeros(2, np.int64), None,
                                   np.zeros((), np.int64), 2, 0.0,
                                   _core.Optimizer("sgd", [np.zeros((5, 3)), np.zeros(3)])))
    """)
    lines = out.splitlines()
    assert len(lines) == 7, out
    for line in lines:
        assert line.split(":")[0] in ("ValueError", "IndexError", "TypeError"), out


@pytest.mark.parametrize(
    "options",
    ["", "weight=np.ones(3)", "sample_weight=np.ones(4)", "label_smoothing=0.1"],
)
def test_labels_sharing_memory_with_the_gradient(options):
    out = _run(f"""
    z = np.random.default_rng(0).standard_normal((4, 3))
    b = np.zeros(12)
    labels = b.view(np.int64)[:4]
    labels[:] = [0, 1, 2, 0]
    want_loss, want_grad = csoftmax.cross_entropy(z, labels.copy(), return_grad=True,
                                                  {options})
    loss, grad = csoftmax.cross_entropy(z, labels, return_grad=True, out=b.reshape(4, 3),
                                        {options})
    print(grad is not None and np.shares_memory(grad, b), loss == want_loss,
          np.array_equal(grad, want_grad))
    """)
    assert out == "True True True"


@pytest.mark.parametrize("operand", ["target", "weight"])
def test_out_overlapping_the_soft_target_or_the_weights(operand):
    # out is the soft target itself, or holds the class weights of the labels
    out = _run(f"""
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 3))
    P = csoftmax.softmax(rng.standard_normal((5, 3)))
    w = np.array([1.0, 2.0, 0.5])
    buf = np.empty(15)
    if "{operand}" == "target":
        buf[:] = P.ravel()
        target, weight = buf.reshape(5, 3), None
    else:  # class weights of hard labels, read by the kernel
        buf[:3] = w
        target, weight = np.array([0, 1, 2, 1, 0]), buf[:3]
    want = csoftmax.cross_entropy(z, target.copy(), return_grad=True,
                                  weight=None if weight is None else weight.copy())
    got = csoftmax.cross_entropy(z, target, return_grad=True, weight=weight,
                                 out=buf.reshape(5, 3))
    print(got[0] == want[0], np.array_equal(got[1], want[1]))
    """)
    assert out == "True True"


def test_fitted_state_check_accepts_what_fit_produces():
    from csoftmax import MLPClassifier

    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 4)).astype(np.float32)
    y = np.arange(30) % 2
    with pytest.warns(Warning):
        clf = MLPClassifier((3,), max_iter=2, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    clf.coefs_ = [np.asfortranarray(c) for c in clf.coefs_]  # any layout is copied
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
