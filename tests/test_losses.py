"""Tests of the fused softmax cross-entropy :func:`csoftmax.cross_entropy`.

This module proves that the loss and its gradient with respect to the logits

- agree with float64 references a reader can trust: ``logsumexp(z) - z[y]``
  (:func:`scipy.special.logsumexp`) for integer labels,
  ``-sum(t * log_softmax(z))`` with the xlogy convention 0 * log 0 = 0 for
  probability targets, explicit NumPy formulas for label smoothing (PyTorch:
  t' = (1 - eps) t + eps / C) and sample weights, the closed form
  ``(softmax(z) - onehot(y)) / N``, and central finite differences;
- meet the required accuracy (float32 rtol 2e-5 against a float64 reference
  from the same float32 values; float64 rtol 1e-10), also for logits of +-1e4,
  masked (-inf) logits and 50,000 classes;
- are computed by log-sum-exp, so the loss is finite where ``log(softmax)``
  would be ``-inf``;
- follow the row rule (an all -inf row, or one with +inf/NaN, gives a NaN loss
  and gradient row, no other row affected), the dtype rules and the reduction
  semantics, including empty batches;
- reject every bad argument with the documented exception naming it.
"""

import numpy as np
import pytest
import scipy.special

import csoftmax

from helpers.layouts import LAYOUTS, make_layout
from helpers.numerics import DTYPES, N_THREADS, assert_close_scaled, log_atol, prob_atol, rtol

REDUCTIONS = ["mean", "sum", "none"]


def onehot(labels, n_classes):
    t = np.zeros((len(labels), n_classes))
    t[np.arange(len(labels)), np.asarray(labels, dtype=np.intp)] = 1.0
    return t


def smoothed_targets(target, n_classes, label_smoothing):
    """t' = (1 - eps) t + eps / C, with t the one-hot labels or the given probabilities."""
    target = np.asarray(target)
    t = onehot(target, n_classes) if target.ndim == 1 else target.astype(np.float64)
    return (1.0 - label_smoothing) * t + label_smoothing / n_classes


def ref_cross_entropy(logits, target, *, sample_weight=None, label_smoothing=0.0, reduction="mean"):
    """Float64 reference of the loss and its gradient, plus their tolerance scales.

    Returns ``(loss, grad, loss_scale, grad_scale)``. ``loss_scale`` is the
    target mass weighted like the loss (it multiplies loss_atol);
    ``grad_scale`` is the magnitude of the terms that cancel in
    ``s * sum(t') - t'`` (it multiplies rtol).
    """
    z = np.asarray(logits, dtype=np.float64)
    n, c = z.shape
    t = smoothed_targets(target, c, label_smoothing)
    with np.errstate(all="ignore"):
        logp = scipy.special.log_softmax(z, axis=1)
        s = scipy.special.softmax(z, axis=1)
        bad = np.all(z == -np.inf, axis=1) | np.any(np.isnan(z) | (z == np.inf), axis=1)
        terms = np.where(t == 0, 0.0, t * logp)  # 0 * log 0 = 0, as scipy.special.xlogy
        per_sample = -terms.sum(axis=1)
        tsum = t.sum(axis=1, keepdims=True)
        grad = s * tsum - t  # d l_i / d z_i
        grad_scale = s * np.abs(t).sum(axis=1, keepdims=True) + np.abs(t)
    per_sample[bad] = np.nan
    grad[bad] = np.nan
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    mass = np.abs(w) * np.abs(t).sum(axis=1)
    if reduction == "none":
        return w * per_sample, w[:, None] * grad, mass, np.abs(w)[:, None] * grad_scale
    if reduction == "sum":
        return (w * per_sample).sum(), w[:, None] * grad, mass.sum(), np.abs(w)[:, None] * grad_scale
    wsum = w.sum()
    return (
        (w * per_sample).sum() / wsum,
        w[:, None] * grad / wsum,
        mass.sum() / abs(wsum),
        np.abs(w)[:, None] * grad_scale / abs(wsum),
    )


def check_loss_and_grad(dtype, logits, target, **kwargs):
    """Run the kernel with return_grad=True and compare both outputs to the reference."""
    n_threads = kwargs.pop("n_threads", None)
    loss, grad = csoftmax.cross_entropy(logits, target, return_grad=True, n_threads=n_threads, **kwargs)
    ref_loss, ref_grad, loss_scale, grad_scale = ref_cross_entropy(logits, target, **kwargs)
    reduction = kwargs.get("reduction", "mean")
    expected_dtype = np.dtype(dtype)
    if reduction == "none":
        assert isinstance(loss, np.ndarray) and loss.shape == (len(logits),)
        assert loss.dtype == expected_dtype
    else:
        assert isinstance(loss, expected_dtype.type), type(loss)
    assert grad.shape == np.shape(logits) and grad.dtype == expected_dtype
    tiny = prob_atol(expected_dtype)
    loss_tol = rtol(dtype) * np.abs(ref_loss) + log_atol(expected_dtype, np.shape(logits)[1]) * loss_scale + tiny
    assert_close_scaled(loss, ref_loss, loss_tol)
    assert_close_scaled(grad, ref_grad, rtol(dtype) * grad_scale + tiny)
    return loss, grad


def random_problem(n, c, dtype, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    logits = (scale * rng.standard_normal((n, c))).astype(dtype)
    labels = rng.integers(0, c, size=n)
    probs = rng.dirichlet(np.ones(c), size=n).astype(dtype)
    weights = rng.uniform(0.0, 2.0, size=n)
    return logits, labels, probs, weights


# ---------------------------------------------------------------------------
# Hard labels
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("label_dtype", [np.int64, np.int32, np.uint8, np.intp])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_hard_labels_match_reference(dtype, n_threads, reduction, label_dtype):
    logits, labels, _, _ = random_problem(11, 7, dtype, seed=1, scale=2.0)
    labels = labels.astype(label_dtype)
    loss, grad = check_loss_and_grad(dtype, logits, labels, reduction=reduction, n_threads=n_threads)
    # without return_grad only the loss comes back, the same value
    loss_only = csoftmax.cross_entropy(logits, labels, reduction=reduction, n_threads=n_threads)
    assert not isinstance(loss_only, tuple)
    np.testing.assert_allclose(loss_only, loss, rtol=rtol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_hard_labels_equal_logsumexp_minus_target_logit(dtype):
    logits, labels, _, _ = random_problem(9, 6, dtype, seed=2, scale=3.0)
    z = logits.astype(np.float64)
    expected = scipy.special.logsumexp(z, axis=1) - z[np.arange(9), labels]
    loss = csoftmax.cross_entropy(logits, labels, reduction="none")
    np.testing.assert_allclose(loss, expected, rtol=rtol(dtype), atol=log_atol(dtype, logits.shape[1]))
    np.testing.assert_allclose(
        csoftmax.cross_entropy(logits, labels), expected.mean(), rtol=rtol(dtype)
    )


@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_grad_closed_form_hard_labels_mean(dtype, n_threads):
    n, c = 10, 8
    logits, labels, _, _ = random_problem(n, c, dtype, seed=3, scale=2.0)
    _, grad = csoftmax.cross_entropy(logits, labels, return_grad=True, n_threads=n_threads)

    s = scipy.special.softmax(logits.astype(np.float64), axis=1)
    expected = (s - onehot(labels, c)) / n
    scale = (s + onehot(labels, c)) / n  # magnitude of the cancelling terms
    assert_close_scaled(grad, expected, rtol(dtype) * scale + prob_atol(dtype))
    # rows of the gradient sum to (sum(s) - 1) / N ~ 0
    row_sums = grad.astype(np.float64).sum(axis=1)
    np.testing.assert_allclose(row_sums, 0.0, atol=2 * rtol(dtype) / n)
    assert np.all(grad[np.arange(n), labels] < 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_float_labels_with_integral_values_are_accepted(dtype):
    logits, labels, _, _ = random_problem(8, 5, dtype, seed=4)
    expected = csoftmax.cross_entropy(logits, labels, reduction="none")
    np.testing.assert_array_equal(
        csoftmax.cross_entropy(logits, labels.astype(np.float64), reduction="none"), expected
    )
    np.testing.assert_array_equal(
        csoftmax.cross_entropy(logits, labels.astype(np.float32), reduction="none"), expected
    )


# ---------------------------------------------------------------------------
# Probability targets
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_probability_targets_match_reference(dtype, n_threads, reduction):
    logits, _, probs, _ = random_problem(9, 6, dtype, seed=5, scale=2.0)
    probs[0] = 0.0
    probs[0, 2] = 1.0  # a one-hot row: zero targets contribute nothing
    check_loss_and_grad(dtype, logits, probs, reduction=reduction, n_threads=n_threads)

    # independent cross-check: -sum xlogy(t, softmax(z)) (no underflow here)
    s = scipy.special.softmax(logits.astype(np.float64), axis=1)
    expected = -scipy.special.xlogy(probs.astype(np.float64), s).sum(axis=1)
    loss = csoftmax.cross_entropy(logits, probs, reduction="none", n_threads=n_threads)
    np.testing.assert_allclose(loss, expected, rtol=rtol(dtype), atol=log_atol(dtype, logits.shape[1]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_one_hot_probabilities_equal_integer_labels(dtype, reduction):
    logits, labels, _, weights = random_problem(9, 6, dtype, seed=6, scale=2.0)
    t = onehot(labels, 6).astype(dtype)
    for kwargs in [{}, {"sample_weight": weights, "label_smoothing": 0.2}]:
        l_int, g_int = csoftmax.cross_entropy(logits, labels, reduction=reduction, return_grad=True, **kwargs)
        l_prob, g_prob = csoftmax.cross_entropy(logits, t, reduction=reduction, return_grad=True, **kwargs)
        # both are within rtol of the same float64 value
        np.testing.assert_allclose(l_prob, l_int, rtol=2 * rtol(dtype))
        np.testing.assert_allclose(g_prob, g_int, rtol=2 * rtol(dtype), atol=2 * rtol(dtype) * np.abs(g_int).max())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unnormalised_targets_follow_the_documented_gradient(dtype, reduction):
    # Row i of the unreduced gradient is s_i * sum_j t'_ij - t'_i, as src_c/cs_xent.h and the
    # docstring of csoftmax.cross_entropy state.
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((6, 5)).astype(dtype)
    t = rng.uniform(0.0, 1.0, size=(6, 5)).astype(dtype)  # rows sum to ~2.5
    check_loss_and_grad(dtype, logits, t, reduction=reduction)


# ---------------------------------------------------------------------------
# Label smoothing and sample weights
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("target_kind", ["labels", "probs"])
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_label_smoothing_pytorch_semantics(dtype, reduction, eps, target_kind):
    n, c = 8, 5
    logits, labels, probs, _ = random_problem(n, c, dtype, seed=8, scale=2.0)
    target = labels if target_kind == "labels" else probs
    t = onehot(labels, c) if target_kind == "labels" else probs.astype(np.float64)

    # explicit formula: t' = (1 - eps) * t + eps / C, loss_i = -sum_j t'_ij log_softmax(z_i)_j
    t_smooth = (1 - eps) * t + eps / c
    logp = scipy.special.log_softmax(logits.astype(np.float64), axis=1)
    per_sample = -(t_smooth * logp).sum(axis=1)
    # PyTorch's decomposition gives the same: (1 - eps) * CE(t) + eps * mean_j(-log p_j)
    np.testing.assert_allclose(
        per_sample, (1 - eps) * -(t * logp).sum(axis=1) + eps * -logp.mean(axis=1), rtol=1e-12
    )
    expected = {"none": per_sample, "sum": per_sample.sum(), "mean": per_sample.mean()}[reduction]

    loss = csoftmax.cross_entropy(logits, target, label_smoothing=eps, reduction=reduction)
    np.testing.assert_allclose(loss, expected, rtol=rtol(dtype), atol=log_atol(dtype, logits.shape[1]))
    check_loss_and_grad(dtype, logits, target, label_smoothing=eps, reduction=reduction)


@pytest.mark.parametrize("return_grad", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sample_weight(dtype, n_threads, reduction, return_grad):
    n, c = 10, 6
    logits, labels, _, w = random_problem(n, c, dtype, seed=9, scale=2.0)
    w[3] = 0.0  # a zero weight removes a sample

    z = logits.astype(np.float64)
    per_sample = scipy.special.logsumexp(z, axis=1) - z[np.arange(n), labels]
    unreduced_grad = scipy.special.softmax(z, axis=1) - onehot(labels, c)
    expected_loss = {
        "mean": np.sum(w * per_sample) / np.sum(w),
        "sum": np.sum(w * per_sample),
        "none": w * per_sample,
    }[reduction]
    expected_grad = w[:, None] * unreduced_grad / (np.sum(w) if reduction == "mean" else 1.0)

    result = csoftmax.cross_entropy(
        logits, labels, sample_weight=w, reduction=reduction, return_grad=return_grad, n_threads=n_threads
    )
    loss = result[0] if return_grad else result
    np.testing.assert_allclose(loss, expected_loss, rtol=rtol(dtype), atol=log_atol(dtype, logits.shape[1]))
    if reduction == "none":
        assert loss[3] == 0.0
    if return_grad:
        grad = result[1]
        check_loss_and_grad(dtype, logits, labels, sample_weight=w, reduction=reduction, n_threads=n_threads)
        assert np.all(grad[3] == 0.0)
        np.testing.assert_allclose(grad, expected_grad, rtol=rtol(dtype), atol=2 * rtol(dtype) * np.max(w))


def test_sample_weight_of_ones_equals_no_weight():
    logits, labels, _, _ = random_problem(7, 4, np.float64, seed=10)
    for reduction in REDUCTIONS:
        a = csoftmax.cross_entropy(logits, labels, reduction=reduction, return_grad=True)
        b = csoftmax.cross_entropy(logits, labels, reduction=reduction, return_grad=True, sample_weight=np.ones(7))
        np.testing.assert_allclose(b[0], a[0], rtol=1e-14)
        np.testing.assert_allclose(b[1], a[1], rtol=1e-14, atol=1e-17)


@pytest.mark.parametrize("dtype", DTYPES)
def test_subnormal_weights_give_the_mean_and_gradient_of_equal_weights(dtype):
    # The mean divides by D = sum(w * c[y]); a subnormal D made the kernel's 1 / D overflow,
    # and the gradient infinite or NaN (found by fuzz/fuzz_kernels.py). Equal weights, however
    # small, give the unweighted mean.
    rng = np.random.default_rng(31)
    z = rng.standard_normal((5, 3)).astype(dtype)
    y = np.array([0, 2, 1, 1, 0])
    p = csoftmax.softmax(rng.standard_normal((5, 3))).astype(dtype)
    tol = dict(rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-7 if dtype == np.float32
               else 1e-15)
    for target in (y, p):
        want_loss, want_grad = csoftmax.cross_entropy(z, target, return_grad=True)
        weights = [dict(sample_weight=np.full(5, 1e-310)), dict(sample_weight=np.full(5, 5e-324))]
        if target is y:
            weights.append(dict(weight=np.full(3, 1e-310)))
        for kw in weights:
            loss, grad = csoftmax.cross_entropy(z, target, return_grad=True, **kw)
            assert np.all(np.isfinite(grad)), kw
            np.testing.assert_allclose(loss, want_loss, **tol)
            np.testing.assert_allclose(grad, want_grad, **tol)
    # one class: the gradient is exactly 0, not 0 * inf
    loss, grad = csoftmax.cross_entropy(np.full((1, 1), -46.3, dtype), np.zeros(1, np.int64),
                                        sample_weight=[5e-324], weight=[1.07],
                                        label_smoothing=0.5, return_grad=True)
    assert loss == 0 and grad.tolist() == [[0.0]]


@pytest.mark.parametrize("dtype", DTYPES)
def test_plain_groups_give_the_bits_of_the_row_by_row_loop(dtype):
    """Narrow rows without weights, smoothing or ignored labels take a vectorised step for
    whole groups of rows; sample weights of one send every row through the per-row loop,
    which computes the same operations: the bytes must agree, for every width of the
    column kernels, partial groups and both thread counts."""
    rng = np.random.default_rng(12)
    for n in range(1, 34):
        for rows in (3, 8, 16, 41):
            x = (3 * rng.standard_normal((rows, n))).astype(dtype)
            y = rng.integers(0, n, rows)
            ones = np.ones(rows)
            for reduction in REDUCTIONS:
                for n_threads in (1, 2):
                    a = csoftmax.cross_entropy(x, y, reduction=reduction, return_grad=True,
                                               n_threads=n_threads)
                    b = csoftmax.cross_entropy(x, y, reduction=reduction, return_grad=True,
                                               n_threads=n_threads, sample_weight=ones)
                    assert np.asarray(a[0]).tobytes() == np.asarray(b[0]).tobytes(), (n, rows)
                    assert a[1].tobytes() == b[1].tobytes(), (n, rows, reduction)


# ---------------------------------------------------------------------------
# Gradient by central finite differences
# ---------------------------------------------------------------------------


def numerical_gradient(fun, z, h=1e-5):
    """Central differences of the scalar ``fun`` at the float64 array ``z``."""
    grad = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[idx] = h
        grad[idx] = (fun(z + e) - fun(z - e)) / (2 * h)
    return grad


@pytest.mark.parametrize(
    "case",
    ["labels", "labels_weighted_smoothed", "probs", "probs_smoothed", "unnormalised"],
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradient_matches_finite_differences(reduction, case):
    # h = 1e-5: truncation error ~ h^2 |f'''| / 6 ~ 1e-11, rounding ~ eps |f| / h ~ 1e-10
    rng = np.random.default_rng(11)
    n, c = 4, 5
    z0 = 2.0 * rng.standard_normal((n, c))
    kwargs = {"reduction": reduction}
    if case.startswith("labels"):
        target = rng.integers(0, c, size=n)
    elif case == "unnormalised":
        target = rng.uniform(0.0, 1.0, size=(n, c))
    else:
        target = rng.dirichlet(np.ones(c), size=n)
    if case.endswith("smoothed"):
        kwargs["label_smoothing"] = 0.3
    if case == "labels_weighted_smoothed":
        kwargs["sample_weight"] = rng.uniform(0.5, 2.0, size=n)

    def total_loss(z):  # "none" returns a vector; its gradient is that of its sum
        return np.sum(csoftmax.cross_entropy(z, target, **kwargs))

    _, grad = csoftmax.cross_entropy(z0, target, return_grad=True, **kwargs)
    np.testing.assert_allclose(grad, numerical_gradient(total_loss, z0), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------
# Extreme values and the row rule
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("target_kind", ["labels", "probs"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_loss_is_finite_where_log_softmax_underflows(dtype, target_kind):
    # softmax([0, -1000]) = [1, 0] in floating point, so -log(softmax)[1] = inf;
    # the fused log-sum-exp loss is 1000 + log1p(exp(-1000)) = 1000.
    logits = np.array([[0.0, -1000.0], [1e4, -1e4]], dtype=dtype)
    target = np.array([1, 1]) if target_kind == "labels" else np.array([[0.0, 1.0], [0.0, 1.0]], dtype=dtype)

    loss, grad = csoftmax.cross_entropy(logits, target, reduction="none", return_grad=True)

    np.testing.assert_allclose(loss, [1000.0, 2e4], rtol=rtol(dtype))
    np.testing.assert_array_equal(grad, [[1.0, -1.0], [1.0, -1.0]])
    mean = csoftmax.cross_entropy(logits, target)
    np.testing.assert_allclose(mean, 10500.0, rtol=rtol(dtype))
    # with smoothing 0.1: t' = [0.05, 0.95], loss = 0.95 * 1000 + 0.05 * 0
    smoothed = csoftmax.cross_entropy(logits[:1], target[:1], label_smoothing=0.1)
    np.testing.assert_allclose(smoothed, 950.0, rtol=rtol(dtype))


@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_logits_of_plus_minus_1e4(dtype, n_threads):
    rng = np.random.default_rng(12)
    n, c = 16, 7
    logits = (1e4 * rng.choice([-1.0, 1.0], size=(n, c)) + rng.standard_normal((n, c))).astype(dtype)
    labels = rng.integers(0, c, size=n)
    loss, grad = check_loss_and_grad(dtype, logits, labels, reduction="none", n_threads=n_threads)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    probs = rng.dirichlet(np.ones(c), size=n).astype(dtype)
    check_loss_and_grad(dtype, logits, probs, reduction="mean", label_smoothing=0.1, n_threads=n_threads)


@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_row_rule(dtype, n_threads):
    inf, nan = np.inf, np.nan
    logits = np.array(
        [
            [0.5, -1.0, 2.0, 0.0],  # 0 ordinary
            [-inf, -inf, -inf, -inf],  # 1 all -inf   -> NaN
            [0.0, inf, 1.0, -2.0],  # 2 with +inf   -> NaN
            [1.0, nan, 0.0, -1.0],  # 3 with NaN    -> NaN
            [1.0, -inf, 2.0, -inf],  # 4 masked non-target entries: finite loss
            [-1.0, 0.0, 3.0, 1.0],  # 5 ordinary
        ],
        dtype=dtype,
    )
    labels = np.array([2, 0, 0, 2, 0, 1])
    loss, grad = csoftmax.cross_entropy(logits, labels, reduction="none", return_grad=True, n_threads=n_threads)

    nan_rows, good_rows = [1, 2, 3], [0, 4, 5]
    assert np.all(np.isnan(loss[nan_rows]))
    assert np.all(np.isnan(grad[nan_rows]))
    assert np.all(np.isfinite(loss[good_rows])) and np.all(np.isfinite(grad[good_rows]))
    check_loss_and_grad(dtype, logits[good_rows], labels[good_rows], reduction="none")
    np.testing.assert_array_equal(loss[good_rows], csoftmax.cross_entropy(logits[good_rows], labels[good_rows], reduction="none"))
    assert np.all(grad[4, [1, 3]] == 0.0), "a masked logit gets probability 0 and gradient 0"
    # probability targets follow the same rule
    t = onehot(labels, 4).astype(dtype)
    loss_p = csoftmax.cross_entropy(logits, t, reduction="none", n_threads=n_threads)
    assert np.all(np.isnan(loss_p[nan_rows])) and np.all(np.isfinite(loss_p[good_rows]))
    # reductions over a batch with a NaN row are NaN
    assert np.isnan(csoftmax.cross_entropy(logits, labels, reduction="mean"))
    assert np.isnan(csoftmax.cross_entropy(logits, labels, reduction="sum"))


@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_50000_classes(dtype, n_threads):
    rng = np.random.default_rng(13)
    n, c = 3, 50_000
    logits = (4.0 * rng.standard_normal((n, c))).astype(dtype)
    logits[1, 17] = 60.0  # a dominant class
    labels = np.array([5, 17, c - 1])
    check_loss_and_grad(dtype, logits, labels, reduction="none", n_threads=n_threads)
    check_loss_and_grad(dtype, logits, labels, reduction="mean", label_smoothing=0.1, n_threads=n_threads)


# ---------------------------------------------------------------------------
# Layouts, dtypes, shapes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("n_threads", N_THREADS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_any_layout_of_logits_and_target(dtype, n_threads, layout, tmp_path):
    logits0, labels0, probs0, w0 = random_problem(9, 6, dtype, seed=14, scale=2.0)
    logits = make_layout(logits0, layout, tmp_path, "logits")
    probs = make_layout(probs0, layout, tmp_path, "probs")
    labels = np.repeat(labels0, 2)[::2]  # a strided label vector
    w = np.repeat(w0, 3)[::3]
    if layout == "readonly":
        labels.setflags(write=False)

    check_loss_and_grad(dtype, logits, labels, sample_weight=w, reduction="mean", n_threads=n_threads)
    check_loss_and_grad(dtype, logits, probs, reduction="none", n_threads=n_threads)
    np.testing.assert_array_equal(logits, logits0)  # inputs untouched
    np.testing.assert_array_equal(probs, probs0)


@pytest.mark.parametrize("dtype", [np.int64, np.int16, np.bool_, np.float16])
def test_other_real_logit_dtypes_are_computed_in_float64(dtype):
    rng = np.random.default_rng(15)
    logits = rng.integers(-3, 4, size=(6, 5))
    logits = (logits > 0) if dtype is np.bool_ else logits.astype(dtype)
    labels = rng.integers(0, 5, size=6)
    loss, grad = csoftmax.cross_entropy(logits, labels, return_grad=True)
    assert isinstance(loss, np.float64) and grad.dtype == np.float64
    check_loss_and_grad(np.float64, logits, labels)


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_batch(dtype):
    logits = np.empty((0, 5), dtype=dtype)
    labels = np.empty(0, dtype=np.intp)
    mean, grad = csoftmax.cross_entropy(logits, labels, return_grad=True)
    assert np.isnan(mean) and isinstance(mean, np.dtype(dtype).type)
    assert grad.shape == (0, 5) and grad.dtype == dtype
    assert csoftmax.cross_entropy(logits, labels, reduction="sum") == 0.0
    none = csoftmax.cross_entropy(logits, labels, reduction="none")
    assert none.shape == (0,) and none.dtype == dtype
    none_p = csoftmax.cross_entropy(logits, np.empty((0, 5), dtype=dtype), reduction="none")
    assert none_p.shape == (0,)


@pytest.mark.parametrize("dtype", DTYPES)
def test_single_class_has_zero_loss_and_gradient(dtype):
    logits = np.array([[3.0], [-2.0], [1e4]], dtype=dtype)
    loss, grad = csoftmax.cross_entropy(logits, np.zeros(3, dtype=int), reduction="none", return_grad=True)
    np.testing.assert_array_equal(loss, 0.0)
    np.testing.assert_array_equal(grad, 0.0)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def _problem():
    logits, labels, _, _ = random_problem(4, 3, np.float64, seed=16)
    return logits, labels


@pytest.mark.parametrize("bad", [[0, 1, 3, 2], [0, -1, 1, 2], [0, 1, 2, 10**12]])
def test_labels_out_of_range(bad):
    logits, _ = _problem()
    with pytest.raises(ValueError, match="target"):
        csoftmax.cross_entropy(logits, np.array(bad))


@pytest.mark.parametrize("bad", [[0.0, 1.5, 2.0, 1.0], [0.0, np.nan, 1.0, 2.0], [0.0, 1.0, np.inf, 1.0]])
def test_non_integral_float_labels(bad):
    logits, _ = _problem()
    with pytest.raises(ValueError, match="target"):
        csoftmax.cross_entropy(logits, np.array(bad))


@pytest.mark.parametrize(
    "target",
    [
        np.array([0, 1, 2]),  # too short
        np.array([0, 1, 2, 0, 1]),  # too long
        np.full((4, 4), 0.25),  # probabilities with the wrong number of classes
        np.full((5, 3), 1 / 3),  # probabilities with the wrong number of samples
        np.full((4, 3, 1), 1 / 3),  # 3-D
    ],
    ids=["short", "long", "probs_classes", "probs_samples", "3d"],
)
def test_target_shape_mismatch(target):
    logits, _ = _problem()
    with pytest.raises(ValueError, match="target"):
        csoftmax.cross_entropy(logits, target)


@pytest.mark.parametrize("eps", [-0.1, 1.5])
def test_label_smoothing_out_of_range(eps):
    logits, labels = _problem()
    with pytest.raises(ValueError, match="label_smoothing"):
        csoftmax.cross_entropy(logits, labels, label_smoothing=eps)


@pytest.mark.parametrize("reduction", ["avg", ""])
def test_unknown_reduction(reduction):
    logits, labels = _problem()
    with pytest.raises(ValueError, match="reduction"):
        csoftmax.cross_entropy(logits, labels, reduction=reduction)


def test_n_threads_validation():
    logits, labels = _problem()
    with pytest.raises(ValueError, match="n_threads"):
        csoftmax.cross_entropy(logits, labels, n_threads=0)
    with pytest.raises(TypeError, match="n_threads"):
        csoftmax.cross_entropy(logits, labels, n_threads=1.5)
    expected = csoftmax.cross_entropy(logits, labels, n_threads=1)
    for ok in [None, -1, -2]:
        assert csoftmax.cross_entropy(logits, labels, n_threads=ok) == expected


@pytest.mark.parametrize("w", [np.ones(3), np.ones(5), np.ones((4, 1))], ids=["short", "long", "2d"])
def test_sample_weight_wrong_shape(w):
    logits, labels = _problem()
    with pytest.raises(ValueError, match="sample_weight"):
        csoftmax.cross_entropy(logits, labels, sample_weight=w)


@pytest.mark.parametrize("logits", [np.zeros(3), np.zeros((2, 3, 4)), np.array(1.0)], ids=["1d", "3d", "0d"])
def test_logits_must_be_2d(logits):
    with pytest.raises(ValueError, match="logits"):
        csoftmax.cross_entropy(logits, np.zeros(2, dtype=int))


@pytest.mark.parametrize(
    "logits",
    [np.zeros((2, 3), dtype=np.complex128), np.zeros((2, 3), dtype=object), np.full((2, 3), "a")],
    ids=["complex", "object", "str"],
)
def test_logits_of_non_real_dtype(logits):
    with pytest.raises(TypeError, match="logits"):
        csoftmax.cross_entropy(logits, np.zeros(2, dtype=int))


def test_cross_entropy_refuses_weights_that_cannot_weigh():
    z, y = np.zeros((4, 3)), [0, 1, 2, 0]
    with pytest.raises(ValueError, match="sample_weight holds negative values"):
        csoftmax.cross_entropy(z, y, sample_weight=[1, -1, 1, -1])
    with pytest.raises(ValueError, match="sample_weight holds NaN or infinite"):
        csoftmax.cross_entropy(z, y, sample_weight=[1, np.inf, 1, 1])
    with pytest.raises(ValueError, match="weights sum to zero, can't be normalized"):
        csoftmax.cross_entropy(z, y, sample_weight=np.zeros(4))
    assert csoftmax.cross_entropy(z, y, sample_weight=np.zeros(4), reduction="sum") == 0
    with pytest.raises(ValueError, match="weight holds negative values"):
        csoftmax.cross_entropy(z, y, weight=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="weight holds NaN"):
        csoftmax.cross_entropy(z, y, weight=[1.0, np.nan, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("n_classes", [3, 10, 40])
def test_direct_call_matches_general_path(n_classes, reduction, dtype):
    # int64 labels with 2-D logits and no weights go straight to the kernel; int32 labels
    # take the general path. Both give the same bits, with any thread count.
    rng = np.random.default_rng(0)
    z = (3 * rng.standard_normal((33, n_classes))).astype(dtype)
    y = rng.integers(0, n_classes, 33)
    y_ignored = y.copy()
    y_ignored[4] = -100
    cases = [(y_ignored, {}), (y_ignored, {"label_smoothing": 0.2}),
             (y, {"ignore_index": int(y[0])})]
    for labels, kw in cases:
        general = csoftmax.cross_entropy(z, labels.astype(np.int32), reduction=reduction,
                                         return_grad=True, **kw)
        for n_threads in [None, 1, 2]:
            fast = csoftmax.cross_entropy(z, labels, reduction=reduction, return_grad=True,
                                          n_threads=n_threads, **kw)
            for a, b in zip(fast, general):
                assert np.asarray(a).dtype == dtype
                assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


def test_direct_call_bad_labels_raise_the_detailed_error():
    z = np.zeros((4, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"outside \[0, 3\).*max 7"):
        csoftmax.cross_entropy(z, np.array([0, 1, 7, 2]))
    with pytest.raises(ValueError, match="outside"):
        csoftmax.cross_entropy(z, np.array([0, 1, -100, 2]), ignore_index=None)
    with pytest.raises(ValueError, match="label_smoothing"):
        csoftmax.cross_entropy(z, np.array([0, 1, 1, 2]), label_smoothing=1.5)


def test_direct_call_keeps_the_general_checks_of_axis_and_ignore_index():
    z = np.zeros((2, 3))
    for axis in (1.0, True):
        with pytest.raises(TypeError, match="axis"):
            csoftmax.cross_entropy(z, np.array([0, 1]), axis=axis)
    # without ignore_index, every label must be a class, the most negative int64 too
    with pytest.raises(ValueError, match="outside"):
        csoftmax.cross_entropy(z, np.array([0, -2**63]), ignore_index=None)


def test_cross_entropy_entry_takes_arguments_in_the_kernel_layout_only():
    # _core.cross_entropy, the one entry of the cross-entropy kernels, runs arguments
    # already in the kernel's layout and hands everything else back (None) to
    # csoftmax.losses, which validates and converts it
    from csoftmax import _core

    rng = np.random.default_rng(5)
    z = rng.standard_normal((6, 4)).astype(np.float32)
    y = rng.integers(0, 4, 6)
    options = (1, -100, 0.0, "mean")
    plain = (z, y, None, None, options, True, None, 2)
    loss, grad = _core.cross_entropy(*plain)
    want_loss, want_grad = csoftmax.cross_entropy(z, y.astype(np.int32), return_grad=True)
    assert type(loss) is np.float32 and loss.tobytes() == want_loss.tobytes()
    assert grad.tobytes() == want_grad.tobytes()
    rows = _core.cross_entropy(z, y, None, None, (1, -100, 0.0, "none"), False, None, 2)
    assert rows.dtype == np.float32 and rows.shape == (6,)
    out = np.empty_like(z)
    assert _core.cross_entropy(*plain[:6], out, 1)[1] is out
    assert out.tobytes() == want_grad.tobytes()
    P = csoftmax.softmax(rng.standard_normal((6, 4)).astype(np.float32))
    soft = _core.cross_entropy(z, P, None, None, options, True, None, 1)
    want_soft = csoftmax.cross_entropy(z, P.astype(np.float64).astype(np.float32).tolist(),
                                       return_grad=True)
    assert soft[0].tobytes() == want_soft[0].tobytes()
    assert soft[1].tobytes() == want_soft[1].tobytes()
    buf = np.zeros(25, np.float32)
    z_in_buf = buf[:24].reshape(6, 4)
    z_in_buf[...] = z
    read_only = out.copy()
    read_only.flags.writeable = False
    labels_buf = np.zeros(24, np.float64)
    labels_in_out = labels_buf.view(np.int64)[:6]
    labels_in_out[:] = y

    def but(i, value):
        args = list(plain)
        args[i] = value
        return args

    handed_back = [
        but(0, z.T.copy().T),  # logits not C-contiguous
        but(0, z.astype(np.float16)),  # not a native dtype
        but(0, z.astype(z.dtype.newbyteorder())),  # byte-swapped
        but(0, z.reshape(2, 3, 4)),  # 3-D
        but(0, z[:0]),  # empty
        but(0, z.view(np.matrix)),  # a subclass
        but(1, y.astype(np.int32)),  # labels not int64
        but(1, y[:5]),  # one label short
        but(1, np.repeat(y, 2)[::2]),  # labels not contiguous
        but(1, P.astype(np.float64)),  # probabilities of another dtype
        but(2, np.ones(3)),  # a class weight short
        but(3, np.ones(6, np.float32)),  # float32 sample weights
        but(4, (0, -100, 0.0, "mean")),  # classes not on axis 1
        but(4, (np.int64(1), -100, 0.0, "mean")),  # a NumPy int axis
        but(4, (1, None, 0.0, "mean")),  # no ignore_index
        but(4, (1, 2**63, 0.0, "mean")),  # beyond int64
        but(4, (1, -100, 0, "mean")),  # an int label_smoothing
        but(4, (1, -100, 1.5, "mean")),  # out of [0, 1]
        but(4, (1, -100, 0.0, "avg")),  # an unknown reduction
        but(6, np.empty((6, 4))),  # out of another dtype
        but(6, np.empty((4, 6), np.float32)),  # out of another shape
        but(6, read_only),  # out not writeable
        but(6, z),  # out the logits themselves
        [z_in_buf, *plain[1:6], buf[1:].reshape(6, 4), 1],  # out overlapping them
        [z.astype(np.float64), labels_in_out, *plain[2:6], labels_buf.reshape(6, 4), 1],
        [*plain[:5], False, out, 1],  # out without the gradient
        but(1, np.array([0, 1, 4, 2, 3, 1])),  # a label out of range
    ]
    for args in handed_back:
        assert _core.cross_entropy(*args) is None, args
