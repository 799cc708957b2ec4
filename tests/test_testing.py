"""csoftmax.testing.check_vjp: right backward passes pass, wrong ones fail, and it says where."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import csoftmax
from csoftmax.testing import DEFAULT_EPS, DEFAULT_RTOL, VJPCheck, check_vjp

RNG = np.random.default_rng(1234)
Z = RNG.normal(size=(3, 5))
LABELS = np.array([0, 4, 2])


def softmax_backward(g, z):
    return csoftmax.softmax_vjp(csoftmax.softmax(z), g)


def softmax_diagonal_only(g, z):
    s = csoftmax.softmax(z)
    return s * (1 - s) * g


def softmax_loop_bug(g, z):
    # The forum loop: uses the input z instead of s, and overwrites gradient[i] for every j.
    out = np.zeros_like(z)
    for n in range(z.shape[0]):
        for i in range(z.shape[1]):
            for j in range(z.shape[1]):
                if i == j:
                    out[n, i] = z[n, i] * (1 - z[n, i]) * g[n, j]
                else:
                    out[n, i] = -z[n, i] * z[n, j] * g[n, j]
    return out


def softmax_loop_fixed(g, z):
    s = csoftmax.softmax(z)
    out = np.zeros_like(z)
    for n in range(z.shape[0]):
        for i in range(z.shape[1]):
            for j in range(z.shape[1]):
                out[n, i] += s[n, j] * ((i == j) - s[n, i]) * g[n, j]
    return out


def test_right_softmax_backward_passes():
    result = check_vjp(csoftmax.softmax, softmax_backward, Z)
    assert result.passed and bool(result)
    assert result.rel_error < 1e-7
    assert result.rtol == DEFAULT_RTOL and result.eps == DEFAULT_EPS
    np.testing.assert_allclose(result.numeric_grads[0], result.analytic_grads[0], rtol=1e-6)
    assert str(result).startswith("PASS")


@pytest.mark.parametrize("wrong", [softmax_diagonal_only, softmax_loop_bug])
def test_classic_softmax_mistakes_fail(wrong):
    result = check_vjp(csoftmax.softmax, wrong, Z)
    assert not result
    assert result.rel_error > 0.1
    a, n = result.analytic_grads[0], result.numeric_grads[0]
    assert result.analytic == a[result.index] and result.numeric == n[result.index]
    assert result.errors[0][result.index] == result.rel_error == result.errors[0].max()
    text = str(result)
    assert text.startswith("FAIL") and f"element {result.index}" in text


def test_fixed_loop_passes():
    assert check_vjp(csoftmax.softmax, softmax_loop_fixed, Z)


def test_log_softmax_and_fused_loss():
    assert check_vjp(csoftmax.log_softmax,
                     lambda g, z: csoftmax.log_softmax_vjp(csoftmax.log_softmax(z), g), Z)

    def loss(z):
        return csoftmax.cross_entropy(z, LABELS)

    def loss_backward(dl, z):
        return dl * csoftmax.cross_entropy(z, LABELS, return_grad=True)[1]

    assert check_vjp(loss, loss_backward, Z)
    # the gradient without the 1/N of the mean is wrong by a factor N
    result = check_vjp(loss, lambda dl, z: len(z) * loss_backward(dl, z), Z)
    assert not result and result.rel_error == pytest.approx(2 / 3, rel=1e-4)


def test_several_inputs_and_the_worst_one_is_named():
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)

    def forward(X, W, b):
        return csoftmax.cross_entropy(X @ W + b, [0, 1, 1, 0])

    def backward(dl, X, W, b):
        delta = dl * csoftmax.cross_entropy(X @ W + b, [0, 1, 1, 0], return_grad=True)[1]
        return delta @ W.T, X.T @ delta, delta.sum(axis=0)

    assert check_vjp(forward, backward, (X, W, b))

    def forgot_bias_sum(dl, X, W, b):  # db taken from the first sample only
        dX, dW, db = backward(dl, X, W, b)
        delta = dl * csoftmax.cross_entropy(X @ W + b, [0, 1, 1, 0], return_grad=True)[1]
        return dX, dW, delta[0]

    result = check_vjp(forward, forgot_bias_sum, (X, W, b))
    assert not result and result.argnum == 2
    assert result.errors[0].max() < 1e-6 and result.errors[1].max() < 1e-6


def test_any_numpy_function_with_given_dy():
    x = np.linspace(-2, 2, 7)
    dy = np.arange(7.0)
    assert check_vjp(np.tanh, lambda g, x: g * (1 - np.tanh(x) ** 2), x, dy=dy)
    assert not check_vjp(np.tanh, lambda g, x: g * (1 - np.tanh(x)), x, dy=dy)
    # a 0-d output gets dy = 1; lists in, a float out
    assert check_vjp(lambda v: float(np.sum(np.square(v))), lambda g, v: 2 * g * v, [1.0, -3.0])


def test_zero_gradient_and_exact_agreement_pass():
    x = np.arange(4.0)
    result = check_vjp(lambda v: np.zeros(3), lambda g, v: np.zeros_like(v), x)
    assert result and result.rel_error == 0.0


def test_nan_on_one_side_fails():
    result = check_vjp(np.exp, lambda g, x: np.full_like(x, np.nan), np.zeros(3))
    assert not result and result.rel_error == np.inf


def test_inputs_are_not_modified_and_forward_gets_float64():
    x = np.array([[1, 2], [3, 4]], dtype=np.int64)
    seen = []

    def forward(v):
        seen.append(v.dtype)
        v *= 2  # a forward that writes into its argument does not corrupt the check
        return v.sum()

    assert check_vjp(forward, lambda g, v: np.full(v.shape, 2.0 * g), x)
    assert set(seen) == {np.dtype(np.float64)}
    assert np.array_equal(x, [[1, 2], [3, 4]])


def test_eps_and_rtol_are_used():
    result = check_vjp(np.sin, lambda g, x: g * np.cos(x), np.array([0.3, 1.0]), eps=1e-2,
                       rtol=1e-8)
    assert result.eps == 1e-2 and not result  # a large step is inaccurate
    assert check_vjp(np.sin, lambda g, x: g * np.cos(x), np.array([0.3, 1.0]), eps=1e-2,
                     rtol=1e-3)


@pytest.mark.parametrize(
    "backward, match",
    [
        (lambda g, a, b: g, "one gradient per input"),
        (lambda g, a, b: (g, g, g), "one gradient per input"),
        (lambda g, a, b: (g, g[:1]), "input 1 has shape"),
    ],
)
def test_backward_of_the_wrong_form_is_an_error(backward, match):
    with pytest.raises(ValueError, match=match):
        check_vjp(lambda a, b: a * b, backward, (np.ones(2), np.ones(2)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="dy has shape"):
        check_vjp(np.exp, lambda g, x: g, np.ones(3), dy=np.ones(2))
    with pytest.raises(ValueError, match="eps"):
        check_vjp(np.exp, lambda g, x: g, np.ones(3), eps=0)
    with pytest.raises(TypeError, match="complex"):
        check_vjp(np.exp, lambda g, x: g, np.ones(3) * 1j)


def test_report_and_repr():
    result = check_vjp(np.exp, lambda g, x: g * np.exp(x), np.zeros(2))
    assert isinstance(result, VJPCheck)
    assert "PASS" in str(result) and "input 0" in str(result)
    assert repr(result).startswith("VJPCheck(passed=True")


def test_light_import():
    code = (
        "import sys, numpy as np, csoftmax\n"
        "r = csoftmax.testing.check_vjp(np.exp, lambda g, x: g * np.exp(x), np.zeros(2))\n"
        "assert r.passed\n"
        "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[1])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
