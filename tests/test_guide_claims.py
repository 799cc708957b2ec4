"""The statements of the guide (docs/softmax_backprop.md) about PyTorch and SciPy.

The guide's own code blocks run in tests/test_docs.py with NumPy and csoftmax alone; what
it says other libraries do is checked here, against the libraries themselves. The PyTorch
tests skip where PyTorch is not installed.
"""

import numpy as np
import pytest

import csoftmax


def _torch():
    return pytest.importorskip("torch")


# "A row with no finite maximum (all -inf), or with +inf or NaN, has no defined softmax;
# it becomes NaN, as in PyTorch and SciPy, and no other row is affected."
UNDEFINED_ROWS = np.array([
    [1.0, -np.inf, 1.0],          # defined: the mask gets 0
    [-np.inf, -np.inf, -np.inf],  # no finite maximum
    [0.0, np.inf, 1.0],
    [0.0, np.nan, 1.0],
])


def _same_with_nan(a, b):
    return np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(
        np.nan_to_num(a), np.nan_to_num(b), rtol=1e-12, atol=0)


def test_undefined_rows_become_nan_as_in_pytorch():
    torch = _torch()
    ours = csoftmax.softmax(UNDEFINED_ROWS)
    theirs = torch.softmax(torch.from_numpy(UNDEFINED_ROWS), dim=1).numpy()
    assert np.isnan(ours[1:]).all() and not np.isnan(ours[0]).any()
    assert _same_with_nan(ours, theirs)


def test_undefined_rows_become_nan_as_in_scipy():
    special = pytest.importorskip("scipy.special")
    with np.errstate(invalid="ignore"):
        theirs = special.softmax(UNDEFINED_ROWS, axis=1)
    assert _same_with_nan(csoftmax.softmax(UNDEFINED_ROWS), theirs)


# "Label smoothing gives every class a positive target, so with a masked class the
# smoothed loss is infinite, as in PyTorch"; without smoothing the mask is ignored.
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_masked_class_loss_as_in_pytorch(smoothing):
    torch = _torch()
    masked = np.array([[0.0, 0.0, -np.inf]])
    ours = csoftmax.cross_entropy(masked, [0], label_smoothing=smoothing)
    theirs = torch.nn.functional.cross_entropy(
        torch.from_numpy(masked), torch.tensor([0]), label_smoothing=smoothing).item()
    assert ours == theirs if np.isinf(theirs) else np.isclose(ours, theirs, rtol=1e-12)
    assert np.isinf(ours) == (smoothing > 0)


# "Class weights c (PyTorch's weight) ... the mean then divides by D = sum_n c_{y_n}" and
# label smoothing "(1 - eps) t + eps / C": the general form of the gradient is PyTorch's.
def test_general_gradient_is_pytorchs():
    torch = _torch()
    rng = np.random.default_rng(0)
    z = rng.normal(size=(8, 5))
    y = rng.integers(0, 5, 8)
    c = rng.uniform(0.5, 2.0, 5)
    loss, grad = csoftmax.cross_entropy(z, y, weight=c, label_smoothing=0.2, return_grad=True)
    zt = torch.tensor(z, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(zt, torch.from_numpy(y), weight=torch.from_numpy(c),
                                           label_smoothing=0.2)
    lt.backward()
    assert np.isclose(loss, lt.item(), rtol=1e-12)
    assert np.allclose(grad, zt.grad.numpy(), rtol=1e-10, atol=1e-15)


# Mistake 4: "the second output, -log(softmax)/N, is the gradient with respect to the
# targets", and "PyTorch computes it only when the target requires a gradient".
def test_label_gradient_is_pytorchs():
    torch = _torch()
    rng = np.random.default_rng(1)
    z = rng.normal(size=(5, 4))
    t = rng.dirichlet(np.ones(4), size=5)
    zt = torch.tensor(z, requires_grad=True)
    tt = torch.tensor(t, requires_grad=True)
    torch.nn.functional.cross_entropy(zt, tt).backward()
    assert np.allclose(tt.grad.numpy(), -csoftmax.log_softmax(z) / 5, rtol=1e-12)
    assert np.allclose(zt.grad.numpy(), (csoftmax.softmax(z) - t) / 5, rtol=1e-12)

    fixed = torch.tensor(t)                      # fixed labels: no gradient is formed
    zt.grad = None
    torch.nn.functional.cross_entropy(zt, fixed).backward()
    assert fixed.grad is None and zt.grad is not None


# Mistake 4, distillation: the label gradient reaches a jointly trained teacher through the
# softmax VJP and the temperature, as autograd computes it.
def test_distillation_teacher_gradient_is_pytorchs():
    torch = _torch()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 4))
    u = rng.normal(size=(5, 4))
    tau = 2.0
    xt = torch.tensor(x, requires_grad=True)
    ut = torch.tensor(u, requires_grad=True)
    torch.nn.functional.cross_entropy(xt, torch.softmax(ut / tau, dim=1)).backward()

    t = csoftmax.softmax(u / tau)
    du = csoftmax.softmax_vjp(t, -csoftmax.log_softmax(x) / 5) / tau
    assert np.allclose(ut.grad.numpy(), du, rtol=1e-10, atol=1e-15)
    assert np.allclose(xt.grad.numpy(), (csoftmax.softmax(x) - t) / 5, rtol=1e-10)


# Mistake 3: autograd through the true softmax gives s_j / N off the true class, where the
# elementwise s(1 - s) chained with -t/(N s) gives 0, and the same (s_y - 1)/N on it.
def test_elementwise_mistake_against_pytorch_autograd():
    torch = _torch()
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 4))
    y = rng.integers(0, 4, 6)
    t = np.eye(4)[y]
    zt = torch.tensor(z, requires_grad=True)
    st = torch.softmax(zt, dim=1)
    (-(torch.from_numpy(t) * torch.log(st)).sum() / 6).backward()
    true = zt.grad.numpy()
    s = csoftmax.softmax(z)
    wrong = s * (1 - s) * (-t / (6 * s))
    assert np.allclose(wrong[t == 1], true[t == 1], rtol=1e-12)
    assert np.all(wrong[t == 0] == 0)
    assert np.allclose(true[t == 0], s[t == 0] / 6, rtol=1e-12)
