"""cross_entropy with PyTorch's API: the class axis and (N, C, d1, ...) input, ignore_index,
per-class weight and out= for the gradient.

Checked against a float64 statement of PyTorch's formula (tests/helpers/xent_reference.py),
against central finite differences in float64, and against torch.nn.functional.cross_entropy
when PyTorch is installed (a test-only comparison: these tests skip without it).
"""

import numpy as np
import pytest

import csoftmax

from helpers.numerics import DTYPES, log_atol, rtol
from helpers.xent_reference import numeric_grad, ref_cross_entropy_nd


# ---------------------------------------------------------------------------
# PyTorch's API: class axis and (N, C, d1, ...) input, ignore_index, per-class weight,
# out= for the gradient; checked against a float64 statement of the formula, against
# finite differences, and against PyTorch when it is installed
# ---------------------------------------------------------------------------
XENT_CASES = {
    "plain": dict(),
    "weight": dict(weight=[0.5, 2.0, 1.0, 0.0]),
    "ignore": dict(ignore_index=1),
    "ignore-default": dict(ignore=-100),
    "weight-ignore-smoothing": dict(weight=[0.5, 2.0, 1.0, 3.0], ignore_index=2,
                                    label_smoothing=0.2),
    "smoothing": dict(label_smoothing=0.3),
    "sample-weight": dict(sample_weight="random"),
}


def _xent_problem(case, shape=(3, 4, 2, 5), dtype=np.float64, seed=3):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=shape).astype(dtype) * 2
    positions = shape[:1] + shape[2:]
    y = rng.integers(0, shape[1], size=positions)
    kw = dict(XENT_CASES[case])
    if kw.pop("ignore", None) is not None:
        y.flat[::4] = -100
    if kw.get("sample_weight") == "random":
        kw["sample_weight"] = rng.uniform(0.2, 2.0, size=positions)
    return z, y, kw


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(XENT_CASES))
def test_cross_entropy_segmentation_shapes_match_the_float64_formula(case, reduction, dtype):
    z, y, kw = _xent_problem(case, dtype=dtype)
    loss, grad = csoftmax.cross_entropy(z, y, reduction=reduction, return_grad=True, **kw)
    expected = ref_cross_entropy_nd(z, y, reduction=reduction, **kw)
    assert np.shape(loss) == np.shape(expected) and loss.dtype == dtype
    np.testing.assert_allclose(loss, expected, rtol=10 * rtol(dtype), atol=log_atol(dtype))
    assert grad.shape == z.shape and grad.dtype == dtype
    if "ignore_index" in kw or "ignore" in XENT_CASES[case]:
        ignored = y == kw.get("ignore_index", -100)
        assert np.all(np.moveaxis(grad, 1, -1)[ignored] == 0)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("case", list(XENT_CASES))
def test_cross_entropy_gradient_matches_finite_differences(case, reduction):
    z, y, kw = _xent_problem(case, shape=(2, 4, 3))
    _, grad = csoftmax.cross_entropy(z, y, reduction=reduction, return_grad=True, **kw)
    numeric = numeric_grad(lambda v: ref_cross_entropy_nd(v, y, reduction=reduction, **kw), z)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_probabilities_with_class_weights_and_axis(smoothing):
    rng = np.random.default_rng(5)
    z = rng.normal(size=(4, 2, 3))  # classes on axis 2
    t = rng.dirichlet(np.ones(3), size=(4, 2))
    c = [1.0, 0.5, 2.0]
    kw = dict(axis=2, weight=c, label_smoothing=smoothing)
    loss, grad = csoftmax.cross_entropy(z, t, return_grad=True, **kw)
    np.testing.assert_allclose(loss, ref_cross_entropy_nd(z, t, **kw), rtol=1e-12)
    numeric = numeric_grad(lambda v: ref_cross_entropy_nd(v, t, **kw), z)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_cross_entropy_of_one_sample_and_of_every_label_ignored():
    z = np.array([1.0, 2.0, 0.5])
    np.testing.assert_allclose(csoftmax.cross_entropy(z, 1), ref_cross_entropy_nd(z[None], [1]))
    z2 = np.zeros((2, 3))
    assert np.isnan(csoftmax.cross_entropy(z2, [-100, -100]))  # 0 / 0, as in PyTorch
    loss, grad = csoftmax.cross_entropy(z2, [-100, -100], reduction="sum", return_grad=True)
    assert loss == 0 and not grad.any()
    with pytest.raises(ValueError, match="outside \\[0, 3\\) other than ignore_index=-100"):
        csoftmax.cross_entropy(z2, [0, -1])
    assert csoftmax.cross_entropy(z2, [0, -1], ignore_index=-1) == pytest.approx(np.log(3))
    with pytest.raises(ValueError, match="outside \\[0, 3\\): min -100"):
        csoftmax.cross_entropy(z2, [0, -100], ignore_index=None)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_classes", [3, 10, 100])  # narrow groups and the row loop
def test_any_int64_ignore_index_is_ignored(dtype, n_classes):
    # The lowest int64 is a valid ignore_index too: its rows count as ignored, as those
    # of -100 do, on narrow rows as on wide ones.
    rng = np.random.default_rng(3)
    z = rng.normal(size=(40, n_classes)).astype(dtype)
    y = rng.integers(0, n_classes, size=40)
    y[::3] = -100
    expected = csoftmax.cross_entropy(z, y, reduction="none", return_grad=True)
    lowest = np.iinfo(np.int64).min
    y_low = np.where(y == -100, lowest, y)
    got = csoftmax.cross_entropy(z, y_low, ignore_index=lowest, reduction="none",
                                 return_grad=True)
    assert not got[0][::3].any() and not got[1][::3].any()
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_writes_the_gradient_into_out(dtype):
    z, y, kw = _xent_problem("weight-ignore-smoothing", dtype=dtype)
    _, expected = csoftmax.cross_entropy(z, y, return_grad=True, **kw)
    out = np.empty_like(z)
    loss, got = csoftmax.cross_entropy(z, y, return_grad=True, out=out, **kw)
    assert got is out
    np.testing.assert_array_equal(out, expected)
    wide = np.empty(z.shape[::-1]).T  # float64, not C-contiguous
    csoftmax.cross_entropy(z, y, return_grad=True, out=wide, **kw)
    np.testing.assert_array_equal(wide, expected.astype(np.float64))
    logits = z.copy()
    csoftmax.cross_entropy(logits, y, return_grad=True, out=logits, **kw)  # in place
    np.testing.assert_array_equal(logits, expected)
    with pytest.raises(ValueError, match="pass return_grad=True"):
        csoftmax.cross_entropy(z, y, out=out)
    with pytest.raises(ValueError, match="out has shape"):
        csoftmax.cross_entropy(z, y, return_grad=True, out=out[:1])


def test_cross_entropy_argument_errors_name_the_argument():
    z = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"shape \(4, 1\).*target\.ravel\(\)"):
        csoftmax.cross_entropy(z, np.zeros((4, 1), dtype=int))
    with pytest.raises(ValueError, match=r"weight has shape \(2,\); expected \(3,\)"):
        csoftmax.cross_entropy(z, [0, 1, 2, 0], weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="one class axis"):
        csoftmax.cross_entropy(z, [0, 1, 2, 0], axis=None)
    with pytest.raises(TypeError, match="ignore_index must be an int or None"):
        csoftmax.cross_entropy(z, [0, 1, 2, 0], ignore_index=1.5)
    with pytest.raises(ValueError, match="sample_weight has shape"):
        csoftmax.cross_entropy(z, [0, 1, 2, 0], sample_weight=[1.0, 2.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", [c for c in XENT_CASES if c != "sample-weight"])
def test_cross_entropy_matches_pytorch(case, reduction, dtype):
    torch_mod = pytest.importorskip("torch")
    z, y, kw = _xent_problem(case, dtype=dtype)
    tkw = {k: v for k, v in kw.items() if k != "weight"}
    if "weight" in kw:
        tkw["weight"] = torch_mod.tensor(kw["weight"], dtype=torch_mod.from_numpy(z).dtype)
    zt = torch_mod.tensor(z, requires_grad=True)
    expected = torch_mod.nn.functional.cross_entropy(zt, torch_mod.tensor(y), reduction=reduction,
                                                     **tkw)
    expected.sum().backward()
    loss, grad = csoftmax.cross_entropy(z, y, reduction=reduction, return_grad=True, **kw)
    tol = dict(rtol=10 * rtol(dtype), atol=log_atol(dtype))
    np.testing.assert_allclose(loss, expected.detach().numpy(), **tol)
    if reduction != "none":
        np.testing.assert_allclose(grad, zt.grad.numpy(), **tol)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_probabilities_match_pytorch(smoothing):
    torch_mod = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    z = rng.normal(size=(3, 4, 2))
    t = np.moveaxis(rng.dirichlet(np.ones(4), size=(3, 2)), -1, 1)
    c = np.array([1.0, 0.5, 2.0, 1.5])
    zt = torch_mod.tensor(z, requires_grad=True)
    expected = torch_mod.nn.functional.cross_entropy(
        zt, torch_mod.tensor(t), weight=torch_mod.tensor(c), label_smoothing=smoothing)
    expected.backward()
    loss, grad = csoftmax.cross_entropy(z, t, weight=c, label_smoothing=smoothing,
                                        return_grad=True)
    np.testing.assert_allclose(loss, expected.item(), rtol=1e-12)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-10, atol=1e-15)
