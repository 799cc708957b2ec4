"""The Raises sections of the public functions' docstrings say what the functions raise.

Each case below calls a function with one bad argument and checks that the exception is
raised and that its type is named in the function's numpydoc Raises section; and every
type a Raises section names is raised by at least one case, so that a section can neither
miss an exception nor list one that cannot happen.
"""

import inspect
import re

import numpy as np
import pytest

import csoftmax

X = np.ones((2, 3))
READ_ONLY = np.ones((2, 3))
READ_ONLY.setflags(write=False)


def _cases_for_rows(f, *args):
    return [
        (f, lambda: f(*[np.array([["a"] * 3] * 2)] * len(args)), TypeError),
        (f, lambda: f(*args, axis=1.5), TypeError),
        (f, lambda: f(*args, n_threads=1.5), TypeError),
        (f, lambda: f(*args, axis=()), ValueError),
        (f, lambda: f(*args, axis=(1, 1)), ValueError),
        (f, lambda: f(*args, out=np.empty((3, 2))), ValueError),
        (f, lambda: f(*args, out=READ_ONLY), ValueError),
        (f, lambda: f(*args, out=np.empty((2, 3), dtype=int)), ValueError),
        (f, lambda: f(*args, n_threads=0), ValueError),
        (f, lambda: f(*args, axis=5), np.exceptions.AxisError),
    ]


xe = csoftmax.cross_entropy
CASES = (
    _cases_for_rows(csoftmax.softmax, X)
    + _cases_for_rows(csoftmax.log_softmax, X)
    + _cases_for_rows(csoftmax.softmax_vjp, X, X)
    + _cases_for_rows(csoftmax.log_softmax_vjp, X, X)
    + [
        (csoftmax.softmax_jacobian, lambda: csoftmax.softmax_jacobian(np.ones((1, 20000))),
         ValueError),
        (csoftmax.softmax_jacobian, lambda: csoftmax.softmax_jacobian(["a"]), TypeError),
        (csoftmax.softmax_jacobian, lambda: csoftmax.softmax_jacobian(X, axis=5),
         np.exceptions.AxisError),
        (csoftmax.softmax_vjp, lambda: csoftmax.softmax_vjp(X, np.ones((2, 2))), ValueError),
        (csoftmax.log_softmax_vjp, lambda: csoftmax.log_softmax_vjp(X, np.ones(3)), ValueError),
        (xe, lambda: xe(np.array([["a", "b"]]), [0]), TypeError),
        (xe, lambda: xe(X, [0, 0], weight=["a", "b", "c"]), TypeError),
        (xe, lambda: xe(X, np.array([True, False])), TypeError),
        (xe, lambda: xe(X, np.array(["a", "b"])), TypeError),
        (xe, lambda: xe(X, [0, 0], axis=1.5), TypeError),
        (xe, lambda: xe(X, [0, 0], ignore_index=1.5), TypeError),
        (xe, lambda: xe(X, [0, 0], n_threads=1.5), TypeError),
        (xe, lambda: xe(np.float64(1.0), [0]), ValueError),
        (xe, lambda: xe(np.empty((2, 0)), [0, 0]), ValueError),
        (xe, lambda: xe(X, [0, 0], axis=(0, 1)), ValueError),
        (xe, lambda: xe(X, [0, 0, 0]), ValueError),
        (xe, lambda: xe(X, [0, 5]), ValueError),
        (xe, lambda: xe(X, [0, 0.5]), ValueError),
        (xe, lambda: xe(X, [0, 0], weight=[1.0, 2.0]), ValueError),
        (xe, lambda: xe(X, [0, 0], weight=[1.0, -2.0, 1.0]), ValueError),
        (xe, lambda: xe(X, [0, 0], weight=[1.0, np.nan, 1.0]), ValueError),
        (xe, lambda: xe(X, [0, 0], sample_weight=[1.0, 2.0, 3.0]), ValueError),
        (xe, lambda: xe(X, [0, 0], sample_weight=[0.0, 0.0]), ValueError),
        (xe, lambda: xe(X, [0, 0], reduction="avg"), ValueError),
        (xe, lambda: xe(X, [0, 0], label_smoothing=2.0), ValueError),
        (xe, lambda: xe(X, [0, 0], out=np.empty((2, 3))), ValueError),
        (xe, lambda: xe(X, [0, 0], return_grad=True, out=np.empty((3, 3))), ValueError),
        (xe, lambda: xe(X, [0, 0], n_threads=0), ValueError),
        (xe, lambda: xe(X, [0, 0], axis=5), np.exceptions.AxisError),
        (csoftmax.set_simd_backend, lambda: csoftmax.set_simd_backend("sse9"), ValueError),
        (csoftmax.set_simd_backend, lambda: csoftmax.set_simd_backend(3), ValueError),
    ]
)


def documented_raises(f):
    """The exception types a numpydoc Raises section names, as their last dotted part."""
    doc = inspect.getdoc(f)
    match = re.search(r"^Raises\n-+\n(.*?)(?=^\S[^\n]*\n-+\n|\Z)", doc, re.M | re.S)
    assert match, f"{f.__name__} has no Raises section"
    names = set()
    for line in match.group(1).splitlines():
        if line and not line[0].isspace():
            names |= {n.strip().rsplit(".", 1)[-1] for n in line.split(",")}
    return names


@pytest.mark.parametrize("f, call, exc", CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_raises_what_the_docstring_says(f, call, exc):
    with pytest.raises(exc) as info:
        call()
    assert type(info.value).__name__ in documented_raises(f)


@pytest.mark.parametrize("f", sorted({c[0] for c in CASES}, key=lambda f: f.__name__),
                         ids=lambda f: f.__name__)
def test_every_documented_exception_happens(f):
    raised = {exc.__name__ for g, _, exc in CASES if g is f}
    assert documented_raises(f) == raised
