"""Coverage-guided fuzzing of the public kernel API with atheris.

Each input is a program, read with :class:`_bytes.Bytes`: an operation (``softmax``,
``log_softmax``, ``softmax_jacobian``, ``softmax_vjp``, ``log_softmax_vjp``,
``cross_entropy``), then its arguments: shapes (0-d, empty axes, wide rows of up to 70,000
classes), dtypes (float16/32/64, ints, bool, complex, object, byte-swapped), layouts
(Fortran order, strided, negative strides, unaligned, read-only, zero strides, lists),
axis values (valid, out of range, tuples, repeated, non-integers), thread counts, values
(NaN, +-inf, huge, denormal), and aliasing: ``out=`` the same memory as an input, a
partly overlapping or reversed view of it, cross-entropy's labels viewed from the gradient
buffer, class or sample weights taken from it.

The harness fails (atheris saves the input and stops) when:

- an exception other than the documented TypeError, ValueError (AxisError included) or
  MemoryError comes out (a crash or a sanitizer report stops the run by itself);
- a call succeeds and its result differs from a float64 NumPy/SciPy reference computed
  from copies of the inputs taken before the call (checked when the inputs are finite and
  moderate), or has the wrong shape or dtype;
- a call changes an input that does not share memory with ``out``.

Run it with ``fuzz/run.sh kernels SECONDS [SEED]``; :func:`check_input` runs one input
without atheris.
"""

import collections
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bytes import EXPECTED, Bytes, harness_main, use_source_tree  # noqa: E402

#: How the calls ended, per operation: a result or an exception type (the tests read it).
STATS = collections.Counter()
csoftmax = None  # imported by _import_api
special = None  # scipy.special

OPS = ("softmax", "log_softmax", "softmax_jacobian", "softmax_vjp", "log_softmax_vjp",
       "cross_entropy")
DTYPES = ("f8", "f4", "f8", "f4", "f2", "i4", "i8", "u1", "?", "c16", "O", ">f8", "<f4")
DIMS = (0, 1, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100)
WIDE = (255, 1000, 4097, 70000)
SPECIALS = (np.nan, np.inf, -np.inf, 1e308, -1e308, 3e38, 5e-324, -0.0, 88.7, 709.8, 1e4)
AXES = (-1, -1, 0, 1, 2, -2, 3, 5, -7, None, (0,), (0, 1), (-1, 0), (1, 1), (), 1.0, "1",
        True, np.int64(1), 2**70)
THREADS = (None, None, 1, 2, -1, -2, 0, 3, 10**6, -(10**6), 1.5, "2", True)
MAX_ELEMENTS = 150_000
MAX_JACOBIAN = 2_000_000


def _import_api(instrument=False):
    global csoftmax, special
    if csoftmax is not None:
        return
    use_source_tree()
    import scipy.special

    special = scipy.special
    if instrument:
        import atheris

        with atheris.instrument_imports(include=["csoftmax"]):
            import csoftmax as module
            import csoftmax.functional  # noqa: F401
            import csoftmax.losses  # noqa: F401
    else:
        import csoftmax as module
    csoftmax = module


class Finding(AssertionError):
    """What the harness reports."""


# -- inputs ------------------------------------------------------------------------------------


def _shape(b, op):
    ndim = b.below(5)
    shape = [b.choice(DIMS) for _ in range(ndim)]
    if ndim and b.flag(6):
        shape[b.below(ndim)] = b.choice(WIDE)
    cap = MAX_ELEMENTS
    # a 0 in the shape empties the logits, not the targets and weights built beside them
    while shape and int(np.prod([max(n, 1) for n in shape])) > cap:
        i = int(np.argmax(shape[:-1])) if len(shape) > 1 and max(shape[:-1]) > 1 else 0
        shape[i] = max(1, shape[i] // 4) if shape[i] > 1 else shape[i]
        if all(s <= 1 for s in shape[:-1]):
            break
    if op == "softmax_jacobian" and ndim:
        c = shape[-1]
        if c * c * max(1, int(np.prod(shape[:-1]))) > MAX_JACOBIAN and c <= 1000:
            shape = [1] * (ndim - 1) + [min(c, 300)]
    return tuple(shape)


def _values(b, shape, rng):
    mode = b.below(4)
    n = int(np.prod(shape))
    if mode == 0:
        v = rng.standard_normal(n) * b.choice((1.0, 10.0, 100.0, 0.01))
    elif mode == 1:
        v = rng.integers(-3, 4, size=n).astype(np.float64)
    elif mode == 2:
        v = np.zeros(n)
    else:
        v = rng.standard_normal(n)
        for _ in range(b.below(4) + 1):
            if n:
                v[b.below(n)] = b.choice(SPECIALS)
    return v.reshape(shape)


def _as_dtype(v, code):
    with np.errstate(all="ignore"):
        if code == "O":
            return v.astype(object)
        if code == "?":
            return v > 0
        if code[0] in "iu":
            return np.nan_to_num(v).clip(-100, 100).astype(code)
        return v.astype(code)


def _layout(b, a):
    """The array `a` in one of the layouts the API must handle, same shape and values."""
    kind = b.below(10)
    if a.ndim == 0 or kind < 3:
        return a
    if kind == 3:
        return np.asfortranarray(a)
    if kind == 4:  # every axis strided
        big = np.empty(tuple(2 * s for s in a.shape), dtype=a.dtype)
        view = big[tuple(slice(None, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    if kind == 5:  # negative strides on the last axis
        flipped = np.ascontiguousarray(a[..., ::-1])
        return flipped[..., ::-1]
    if kind == 6 and a.dtype != object:  # unaligned
        raw = np.empty(a.nbytes + 1, dtype=np.uint8)
        view = raw[1:].view(a.dtype).reshape(a.shape)
        view[...] = a
        return view
    if kind == 7:
        a = a.copy()
        a.flags.writeable = False
        return a
    if kind == 8 and a.shape[-1]:  # zero stride on the last axis
        return np.broadcast_to(a[..., :1], a.shape)
    if kind == 9:
        return a.tolist()
    return a


def _array(b, shape, rng, dtype=None):
    code = dtype or b.choice(DTYPES)
    return _layout(b, _as_dtype(_values(b, shape, rng), code))


# -- references --------------------------------------------------------------------------------


def _axes(axis, ndim):
    """The normalised axes, or None when the call should refuse this axis."""
    if ndim == 0:  # None, (), an int -1 or 0, or a tuple of one such
        items = axis if isinstance(axis, tuple) else (axis,)
        if axis is None or not items:
            return (0,)
        ok = len(items) == 1 and isinstance(items[0], (int, np.integer)) and not isinstance(
            items[0], (bool, np.bool_)) and int(items[0]) in (-1, 0)
        return (0,) if ok else None
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    if not items or any(isinstance(i, bool) or not isinstance(i, (int, np.integer))
                        for i in items):
        return None
    if any(not -ndim <= int(i) < ndim for i in items):
        return None
    norm = tuple(int(i) % ndim for i in items)
    return norm if len(set(norm)) == len(norm) else None


def _moderate(*arrays):
    with np.errstate(all="ignore"):
        return all(np.all(np.isfinite(a)) and np.all(np.abs(a) <= 1e4) for a in arrays)


def _close(result, expected, loose, what, scale=1.0):
    dtype = np.asarray(result).dtype
    result = np.asarray(result, dtype=np.float64)
    if result.shape != expected.shape:
        raise Finding(f"{what}: shape {result.shape}, expected {expected.shape}")
    if dtype.kind == "f" and dtype.itemsize < 8:  # values beyond float32's range overflow
        representable = np.abs(expected) < np.finfo(dtype).max / 2
        result, expected = result[representable], expected[representable]
    rtol, atol = (2e-3, 1e-5 * scale) if loose else (1e-9, 1e-12 * scale)
    if not np.allclose(result, expected, rtol=rtol, atol=atol, equal_nan=True):
        err = np.nanmax(np.abs(result - expected)) if result.size else 0.0
        raise Finding(f"{what}: differs from the float64 reference by {err}")


def _row_reference(op, x, dy, axes):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        x = x.reshape(1)
        dy = None if dy is None else np.asarray(dy, dtype=np.float64).reshape(1)
    if op == "softmax":
        return special.softmax(x, axis=axes)
    if op == "log_softmax":
        return special.log_softmax(x, axis=axes)
    dy = np.asarray(dy, dtype=np.float64)
    if op == "softmax_vjp":
        return x * (dy - np.sum(dy * x, axis=axes, keepdims=True))
    return dy - np.exp(x) * np.sum(dy, axis=axes, keepdims=True)


def _jacobian_reference(x, axes):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        return np.zeros(())
    s = special.softmax(x, axis=axes)
    rest = [i for i in range(x.ndim) if i not in axes]
    s = np.transpose(s, rest + list(axes))
    batch = s.shape[: len(rest)]
    s = s.reshape(batch + (-1,))
    return np.einsum("...i,ij->...ij", s, np.eye(s.shape[-1])) - s[..., :, None] * s[..., None, :]


def _ce_reference(z, target, hard, axis, weight, sample_weight, options):
    """Loss and gradient (float64) by the documented formulas, or None when D is 0."""
    ignore_index, eps, reduction = options
    z = np.moveaxis(np.asarray(z, dtype=np.float64), axis, -1)
    batch, n_classes = z.shape[:-1], z.shape[-1]
    z = z.reshape(-1, n_classes)
    logp = special.log_softmax(z, axis=1)
    c = np.ones(n_classes) if weight is None else np.asarray(weight, dtype=np.float64)
    w = np.ones(len(z)) if sample_weight is None else np.broadcast_to(
        np.asarray(sample_weight, dtype=np.float64), batch).reshape(-1)
    if reduction == "mean":  # the mean does not change; subnormal weights lose no digits
        w = w / w.max() if w.size and w.max() > 0 else w
        c = c / c.max() if hard and c.max() > 0 else c
    if hard:
        labels = np.asarray(target).astype(np.int64).reshape(-1)
        keep = np.ones(len(z), bool) if ignore_index is None else labels != ignore_index
        onehot = np.zeros_like(z)
        onehot[np.flatnonzero(keep), labels[keep]] = 1.0
        t = c * ((1 - eps) * onehot + eps / n_classes) * keep[:, None]
        divisor = np.sum(w * np.where(keep, c[np.where(keep, labels, 0)], 0.0))
    else:
        soft = np.moveaxis(np.asarray(target, dtype=np.float64), axis, -1).reshape(z.shape)
        t = c * ((1 - eps) * soft + eps / n_classes)
        divisor = np.sum(w)
    per = -np.sum(np.where(t != 0, t * logp, 0.0), axis=1) * w
    grad = (special.softmax(z, axis=1) * t.sum(axis=1, keepdims=True) - t) * w[:, None]
    if reduction == "mean":
        if divisor == 0:
            return None
        loss, grad = per.sum() / divisor, grad / divisor
    elif reduction == "sum":
        loss = per.sum()
    else:
        loss = per.reshape(batch)
    grad = np.moveaxis(grad.reshape(batch + (n_classes,)), -1, axis)
    return loss, grad


# -- one input ---------------------------------------------------------------------------------


def _out_for(b, rng, x, shape, dtype):
    """An out= argument: None, a fresh buffer (right or wrong), or memory shared with x."""
    kind = b.below(8)
    if kind in (0, 1) or int(np.prod(shape)) > MAX_JACOBIAN:  # too big to allocate here
        return None
    if kind == 2:
        return np.empty(shape, dtype=b.choice((dtype, "f8", "f4", "i8", "f2")))
    if kind == 3 and isinstance(x, np.ndarray):
        return x
    if kind == 4 and isinstance(x, np.ndarray) and x.ndim:
        return x[..., ::-1]
    if kind == 5 and shape:  # partial overlap with x through one buffer
        n = int(np.prod(shape))
        buf = _as_dtype(_values(b, (2 * n + 1,), rng), dtype)
        k = b.below(n + 1)
        return ("overlap", buf, k)
    if kind == 6:
        return np.empty(shape[::-1] or (1,), dtype=dtype)
    return np.empty(shape, dtype=dtype)


def _jacobian_elements(shape, axis):
    """The number of elements of the Jacobian of an input of `shape` along `axis` (0 for an
    axis the call refuses)."""
    axes = _axes(axis, len(shape))
    if not shape or axes is None:
        return 0
    n_cols = int(np.prod([shape[a] for a in axes]))
    return int(np.prod(shape)) * n_cols


def _as_softmax_output(x, axis):
    """Overwrite the float array x in place, in its own layout, with the softmax of its
    values along axis: a y that softmax_vjp accepts. Anything else is left as it is."""
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or not x.flags.writeable \
            or x.size == 0:
        return
    axes = _axes(axis, x.ndim)
    if axes is None:
        return
    with np.errstate(all="ignore"):
        x[...] = special.softmax(x.astype(np.float64), axis=axes if x.ndim else None)


def _call_row_op(b, rng, op):
    shape = _shape(b, op)
    axis, n_threads = b.choice(AXES), b.choice(THREADS)
    if op == "softmax_jacobian" and MAX_JACOBIAN < _jacobian_elements(shape, axis) <= 2**28:
        # softmax_jacobian would allocate it (up to 1 GiB): too slow to run and check here.
        shape = tuple(min(n, 4) for n in shape)
    x = _array(b, shape, rng)
    dy = _array(b, shape, rng) if op.endswith("vjp") else None
    if op == "softmax_vjp" and b.flag():  # else y is refused, unless it happens to be one
        _as_softmax_output(x, axis)
    dtype = "f4" if all(np.asarray(a).dtype == np.float32 for a in (x, dy) if a is not None) \
        else "f8"
    out_shape = shape
    if op == "softmax_jacobian" and shape:
        out_shape = shape[:-1] + (shape[-1], shape[-1])
    out = _out_for(b, rng, x if dy is None or b.flag() else dy, out_shape, dtype)
    if isinstance(out, tuple):  # x and out overlapping views of one buffer
        _, buf, k = out
        n = int(np.prod(shape))
        x = buf[:n].reshape(shape)
        out = buf[k : k + int(np.prod(out_shape))].reshape(out_shape)
    args = (x,) if dy is None else (x, dy)
    return getattr(csoftmax, op), args, {"axis": axis, "out": out, "n_threads": n_threads}


def _hard_target(b, rng, batch, n_classes):
    labels = rng.integers(0, max(n_classes, 1), size=batch)
    if b.flag(3) and labels.size:
        labels.reshape(-1)[b.below(labels.size)] = b.choice((-100, -1, n_classes, 2**40, 0))
    code = b.choice(("i8", "i8", "i4", "u1", "f8", "f4", "?", "i2"))
    return _layout(b, labels.astype(code))


def _soft_target(b, rng, shape):
    t = np.abs(rng.standard_normal(shape))
    if b.flag(3) and t.size:
        t.reshape(-1)[b.below(t.size)] = b.choice(SPECIALS)
    return _layout(b, _as_dtype(t, b.choice(("f8", "f4", "f8", "i8", "f2"))))


def _call_cross_entropy(b, rng):
    shape = _shape(b, "cross_entropy")
    logits = _array(b, shape, rng, dtype=b.choice(("f8", "f4", "f8", "f4", "f2", "i8", "O")))
    axis = b.choice((1, 1, 1, -1, 0, 2, 5, None, (1,), 1.0))
    ax = axis if isinstance(axis, int) and shape and -len(shape) <= axis < len(shape) else 0
    ax = ax % len(shape) if shape else 0
    if len(shape) == 1 and axis == 1:
        ax = 0
    n_classes = shape[ax] if shape else 1
    batch = shape[:ax] + shape[ax + 1:]
    hard = b.flag(3) is False
    target = _hard_target(b, rng, batch, n_classes) if hard else _soft_target(b, rng, shape)
    kw = {
        "axis": axis,
        "weight": None if b.flag(3) is False else _array(
            b, (n_classes,) if b.flag(6) is False else (n_classes + 1,), rng,
            dtype=b.choice(("f8", "f4", "i8", "c16"))),
        "sample_weight": None if b.flag(3) is False else _array(
            b, batch if b.flag(6) is False else batch[1:], rng, dtype="f8"),
        "ignore_index": b.choice((-100, -100, None, 0, 1, -1, 2**63, 1.5, True)),
        "label_smoothing": b.choice((0.0, 0.0, 0.1, 1.0, 0.5, -0.1, 1.5, np.nan, True, "0")),
        "reduction": b.choice(("mean", "mean", "sum", "none", "bad")),
        "return_grad": b.flag(4) is False,
        "n_threads": b.choice(THREADS),
    }
    for name in ("weight", "sample_weight"):  # weights must be non-negative to be valid
        if isinstance(kw[name], np.ndarray) and kw[name].dtype.kind == "f" and b.flag(4) is False:
            kw[name] = np.abs(kw[name]) if kw[name].flags.writeable else kw[name]
    out_kind = b.below(9)
    grad_dtype = "f4" if np.asarray(logits).dtype == np.float32 else "f8"
    out = None
    if out_kind == 1:
        out = np.empty(shape, dtype=b.choice((grad_dtype, "f8", "f4", "i8")))
    elif out_kind == 2 and isinstance(logits, np.ndarray):
        out = logits
    elif out_kind == 3 and not hard and isinstance(target, np.ndarray):
        out = target
    elif out_kind in (4, 5, 6) and shape:  # inputs viewed from the gradient buffer
        out = np.zeros(shape, dtype=grad_dtype)
        flat = out.reshape(-1)
        if out_kind == 4 and hard and np.asarray(target).size:
            size = np.asarray(target).size
            as_labels = flat.view(np.int64) if grad_dtype == "f8" else flat.view(np.int32)
            if size <= as_labels.size:
                labels = as_labels[:size].reshape(np.shape(target))
                labels[...] = np.asarray(target).astype(labels.dtype)
                target = labels
        elif out_kind == 5 and n_classes <= flat.size:
            flat[:n_classes] = np.abs(rng.standard_normal(n_classes))
            kw["weight"] = flat[:n_classes]
        elif out_kind == 6 and batch and int(np.prod(batch)) <= flat.size:
            m = int(np.prod(batch))
            flat[:m] = np.abs(rng.standard_normal(m)) + 0.5
            kw["sample_weight"] = flat[:m].reshape(batch)
    kw["out"] = out
    return csoftmax.cross_entropy, (logits, target), kw


def _snapshot(values):
    return [np.array(v, copy=True) if isinstance(v, np.ndarray) else v for v in values]


def _check_unchanged(before, after, out):
    for i, (old, new) in enumerate(zip(before, after)):
        if not isinstance(new, np.ndarray) or (out is not None and isinstance(out, np.ndarray)
                                               and np.may_share_memory(new, out)):
            continue
        if old.tobytes() != np.ascontiguousarray(new).tobytes():
            raise Finding(f"the call changed input #{i}, which does not share memory with out")


def _verify_rows(op, args, snap, kw, res):
    axes = _axes(kw["axis"], np.ndim(snap[0]))
    if axes is None:
        raise Finding(f"{op} accepted axis={kw['axis']!r} for a {np.ndim(snap[0])}-d input")
    if kw["out"] is not None and res is not kw["out"]:
        raise Finding(f"{op} did not return out")
    dtypes = [np.asarray(a).dtype for a in snap]
    f32 = all(d == np.float32 for d in dtypes)
    if kw["out"] is None and np.asarray(res).dtype != (np.float32 if f32 else np.float64):
        raise Finding(f"{op} returned dtype {np.asarray(res).dtype}")
    floats = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype != object else None
              for a in snap]
    # exp(y) of a log_softmax_vjp input above log(float32 max) overflows to inf, and inf * 0
    # is NaN in any evaluation of the formula: no reference there (a log-softmax is <= 0).
    overflow = op == "log_softmax_vjp" and floats[0] is not None and floats[0].size and \
        np.max(floats[0]) > 80
    if any(a is None for a in floats) or not _moderate(*floats) or not floats[0].size \
            or overflow:
        if np.shape(res) != (np.shape(snap[0]) if op != "softmax_jacobian" else np.shape(res)):
            raise Finding(f"{op} returned shape {np.shape(res)}")
        return
    loose = f32 or any(d in (np.float32, np.float16) for d in dtypes) or (
        kw["out"] is not None and kw["out"].dtype.itemsize < 8)
    if op == "softmax_jacobian":
        expected = _jacobian_reference(floats[0], axes)
    else:
        expected = _row_reference(op, floats[0], floats[1] if len(floats) > 1 else None, axes)
        expected = expected.reshape(np.shape(snap[0]))
    scale = 1.0 + (np.max(np.abs(floats[-1])) if floats[-1].size else 0.0)
    _close(res, expected, loose, op, scale)
    STATS[op, "checked"] += 1


def _verify_cross_entropy(args, snap, kw, res):
    logits, target = (np.asarray(a) for a in snap[:2])
    weight, sample_weight = snap[2], snap[3]
    if logits.dtype == object or not logits.size or not _moderate(logits.astype(np.float64)):
        return
    axis = kw["axis"]
    axis = 0 if logits.ndim == 1 and axis == 1 else axis % logits.ndim
    hard = target.shape != logits.shape
    options = (kw["ignore_index"], float(kw["label_smoothing"]), kw["reduction"])
    if not hard and not _moderate(target.astype(np.float64)):
        return
    for w in (weight, sample_weight):  # a weight of 1e308 overflows the loss: no reference
        if w is not None and (np.asarray(w).dtype.kind not in "biuf"
                              or not _moderate(np.asarray(w, dtype=np.float64))):
            return
    ref = _ce_reference(logits, target, hard, axis, weight, sample_weight, options)
    if ref is None:
        return
    loose = logits.dtype != np.float64 or (not hard and target.dtype != np.float64)
    loss, grad = res if kw["return_grad"] else (res, None)
    scale = 1.0 + float(np.max(np.abs(ref[0]))) if np.size(ref[0]) else 1.0
    _close(loss, np.asarray(ref[0]), loose, "cross_entropy loss", scale)
    if grad is not None:
        if kw["out"] is not None and grad is not kw["out"]:
            raise Finding("cross_entropy did not return out as the gradient")
        _close(grad, ref[1], loose, "cross_entropy gradient")
    STATS["cross_entropy", "checked"] += 1


def check_input(data):
    """Run one fuzzer input; raise AssertionError on a finding."""
    _import_api()
    b = Bytes(data)
    op = b.choice(OPS)
    rng = np.random.default_rng(b.seed())
    if op == "cross_entropy":
        fn, args, kw = _call_cross_entropy(b, rng)
        watched = [args[0], args[1], kw["weight"], kw["sample_weight"]]
    else:
        fn, args, kw = _call_row_op(b, rng, op)
        watched = list(args)
    snap = _snapshot(watched)
    try:
        with np.errstate(all="ignore"):
            res = fn(*args, **kw)
    except EXPECTED as exc:
        STATS[op, type(exc).__name__] += 1
        return
    except Exception as exc:
        raise Finding(f"{op} raised {type(exc).__name__}: {exc}") from exc
    STATS[op, "result"] += 1
    _check_unchanged(snap, watched, kw["out"])
    with np.errstate(all="ignore"):
        if op == "cross_entropy":
            _verify_cross_entropy(args, snap, kw, res)
        else:
            _verify_rows(op, args, snap, kw, res)


def seeds():
    """A starting corpus: each operation with short random programs, and, per operation,
    the first few random programs (of a fixed generator) whose result the references
    check."""
    rng = np.random.default_rng(0)
    found = [bytes([i]) for i in range(len(OPS))]
    for i in range(30):
        found.append(bytes([i % len(OPS)]) + rng.bytes(int(rng.integers(8, 64))))
    for i, op in enumerate(OPS):
        kept = 0
        for _ in range(400):
            candidate = bytes([i]) + rng.bytes(int(rng.integers(16, 64)))
            before = STATS[op, "checked"]
            check_input(candidate)
            if STATS[op, "checked"] > before:
                found.append(candidate)
                kept += 1
                if kept == 4:
                    break
    return found


def main(argv):
    return harness_main(argv, seeds, check_input, lambda: _import_api(instrument=True))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
