"""Coverage-guided fuzzing of a fitted MLPClassifier's state with atheris.

Five small models are fitted once, at start, on a subset of scikit-learn's digits (several
activations, solvers, dtypes; multiclass, binary and multilabel targets). Each input, read
with :class:`_bytes.Bytes`, picks one, copies it (a pickle round trip), mutates its fitted
state: ``coefs_``/``intercepts_`` entries replaced by arrays of the wrong ndim, shape,
dtype or order, with NaN or infinite values, by scalars, lists or None; the lists
shortened, lengthened or replaced; ``n_layers_``, ``n_outputs_``, ``out_activation_``,
``classes_``, ``n_features_in_``, ``_label_binarizer``, ``activation`` changed or deleted;
weights edited in place (shape, values) after a first prediction, which the kept engine
must notice or stay memory-safe on; then calls ``predict``, ``predict_proba``,
``predict_log_proba``, ``score``, ``partial_fit`` or a pickle round trip then
``predict_proba``, on dense (float32/float64, C or Fortran order) or CSR input, of the
right or a wrong number of features, with or without NaN.

A crash or a sanitizer report stops the run by itself. The harness fails (atheris saves the
input and stops) when:

- an exception comes out that is not of the kinds the estimator gives for bad state or
  input (TypeError, ValueError, AttributeError, IndexError, KeyError, MemoryError);
- ``predict_proba`` succeeds on a state whose weights chain, hold finite values and are
  float32 or float64 (the state an engine can be built from), and its result differs from a
  float64 NumPy forward pass through the same weights (silent garbage).

Run it with ``fuzz/run.sh state SECONDS [SEED]``; :func:`check_input` runs one input
without atheris.
"""

import collections
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bytes import Bytes, harness_main, use_source_tree  # noqa: E402

#: Exceptions a clear refusal of bad state or input may have.
ACCEPTED = (TypeError, ValueError, AttributeError, IndexError, KeyError, MemoryError)
#: How the calls ended: (action, outcome) counts (the tests read it).
STATS = collections.Counter()

sp = None  # scipy.sparse
_models = None  # [(pickled fitted model, X, y)]

CONFIGS = (
    dict(hidden_layer_sizes=(8,), activation="relu", solver="adam"),
    dict(hidden_layer_sizes=(6, 5), activation="tanh", solver="sgd", dtype=np.float32),
    dict(hidden_layer_sizes=(7,), activation="logistic", solver="lbfgs"),
    dict(hidden_layer_sizes=(5,), activation="identity", solver="adam", dtype=np.float32),
    dict(hidden_layer_sizes=(4, 4), activation="relu", solver="sgd"),
)
TARGETS = ("multiclass", "multiclass", "binary", "multilabel", "multiclass")
ACTIONS = ("predict", "predict_proba", "predict_log_proba", "score", "partial_fit",
           "pickle", "proba_twice")
SPECIALS = (np.nan, np.inf, -np.inf, 1e300, -1e300, 0.0)
ACTIVATIONS = ("relu", "tanh", "logistic", "identity", "softmax", "bogus", None, 3)


def _fit_models():
    global _models, sp
    if _models is not None:
        return
    use_source_tree()
    import scipy.sparse
    from sklearn.datasets import load_digits

    import csoftmax

    sp = scipy.sparse
    X, y = load_digits(return_X_y=True)
    X, y = X[:240] / 16.0, y[:240]
    _models = []
    for config, kind in zip(CONFIGS, TARGETS):
        if kind == "binary":
            target = (y >= 5).astype(np.int64)
        elif kind == "multilabel":
            target = np.stack([y % 2, (y >= 5), y == 3], axis=1).astype(np.int64)
        else:
            target = y
        clf = csoftmax.MLPClassifier(max_iter=4, random_state=0, **config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(X, target)
        _models.append((pickle.dumps(clf), X, target))


# -- mutations ---------------------------------------------------------------------------------


def _bad_array(b, a, rng):
    """A replacement for the weight array `a`: wrong ndim, shape, dtype, order or values."""
    a = np.asarray(a)
    kind = b.below(16)
    if kind == 0:
        return a.reshape(-1)
    if kind == 1:
        return np.asarray(a.reshape(-1)[0] if a.size else 0.0)
    if kind == 2:
        return a[..., None]
    if kind == 3:
        return a.T
    if kind == 4 and a.ndim:
        return a[1:]
    if kind == 5 and a.ndim:
        return np.concatenate([a, a[:1]])
    if kind == 6 and a.ndim == 2:
        return a[:, b.below(a.shape[1] + 1):]
    if kind == 7:
        return a.astype(b.choice(("f2", "i8", "O", "c16", "?", "f4", "f8", ">f8", "U3")))
    if kind == 8:
        return np.asfortranarray(a)
    if kind == 9 and a.size and a.dtype.kind == "f":
        a = a.copy()
        a.reshape(-1)[b.below(a.size)] = b.choice(SPECIALS)
        return a
    if kind == 10:
        return b.choice((0.5, None, "abc", [], [[1.0]], np.float64(0.0)))
    if kind == 11:
        return a.tolist()
    if kind == 12:
        return np.zeros((0,) + a.shape[1:], dtype=a.dtype)
    if kind == 13:
        big = rng.standard_normal((a.shape[0] + b.below(3), a.shape[-1] + b.below(3))
                                  if a.ndim == 2 else (a.size + b.below(3),))
        return big.astype(a.dtype)
    if kind == 14 and a.ndim == 2:
        raw = np.empty(a.nbytes + 1, np.uint8)
        view = raw[1:].view(a.dtype).reshape(a.shape)
        view[...] = a
        return view
    return a[::-1]


def _mutate_list(b, clf, name, rng):
    arrays = list(getattr(clf, name))
    kind = b.below(6)
    if kind < 3 and arrays:
        i = b.below(len(arrays))
        arrays[i] = _bad_array(b, arrays[i], rng)
    elif kind == 3:
        arrays = arrays[: b.below(len(arrays) + 1)]
    elif kind == 4:
        arrays = arrays + [arrays[-1]]
    else:
        setattr(clf, name, b.choice((tuple(arrays), None, np.zeros(3), "x", arrays[:1] * 4)))
        return
    setattr(clf, name, arrays)


def _mutate_scalar(b, clf):
    name = b.choice(("n_layers_", "n_outputs_", "out_activation_", "classes_",
                     "n_features_in_", "_label_binarizer", "activation", "n_threads"))
    if b.flag(5):
        if name in clf.__dict__:
            delattr(clf, name)
        return
    if name == "out_activation_" or name == "activation":
        value = b.choice(ACTIVATIONS)
    elif name == "classes_":
        classes = np.asarray(clf.classes_)
        value = b.choice((classes[:-1], np.concatenate([classes, classes[:1]]), classes[::-1],
                          classes.astype(str), classes.reshape(1, -1), classes[:0], None))
    elif name == "_label_binarizer":
        value = None if b.flag() else pickle.loads(pickle.dumps(clf._label_binarizer))
        if value is not None:
            value.classes_ = np.arange(b.below(12))
    elif name == "n_threads":
        value = b.choice((None, 1, 2, -1, 0, 10**6, 1.5))
    else:
        value = b.choice((0, 1, 2, 3, -1, 10**9, 2**63, "3", 2.5, None))
    setattr(clf, name, value)


def _mutate_in_place(b, clf):
    """Edit a weight array the kept engine holds: its values, or its shape attribute."""
    arrays = list(clf.coefs_) + list(clf.intercepts_)
    a = arrays[b.below(len(arrays))]
    if not isinstance(a, np.ndarray) or not a.size or not a.flags.writeable \
            or a.dtype.kind != "f":
        return
    if b.flag():
        a.reshape(-1)[b.below(a.size)] = b.choice(SPECIALS)
    elif a.ndim == 2 and a.flags.c_contiguous:
        try:
            a.shape = b.choice(((a.shape[1], a.shape[0]), (a.size,), (1, a.size)))
        except (AttributeError, ValueError):
            pass


def _mutate(b, clf, rng):
    for _ in range(b.below(3) + 1):
        kind = b.below(4)
        if kind == 0:
            _mutate_list(b, clf, "coefs_", rng)
        elif kind == 1:
            _mutate_list(b, clf, "intercepts_", rng)
        elif kind == 2:
            _mutate_scalar(b, clf)
        # kind 3: leave the state as fitted


# -- input and reference -----------------------------------------------------------------------


def _input(b, X, rng):
    rows = X[: b.choice((0, 1, 3, 17, 60))]
    kind = b.below(8)
    if kind == 1:
        rows = rows.astype(np.float32)
    elif kind == 2:
        rows = np.asfortranarray(rows)
    elif kind == 3:
        rows = rows[:, : b.choice((0, 10, 63))] if b.flag() else np.hstack([rows, rows[:, :2]])
    elif kind == 4 and rows.size:
        rows = rows.copy()
        rows.reshape(-1)[b.below(rows.size)] = b.choice(SPECIALS)
    if b.flag(3):
        fmt = b.choice(("csr", "csc", "coo"))
        rows = sp.csr_matrix(rows).asformat(fmt)
        if fmt == "csr" and b.flag():
            rows.indices = rows.indices.astype(np.int64)
            rows.indptr = rows.indptr.astype(np.int64)
    return rows


def _forward(clf, X):
    """float64 output probabilities by NumPy, or None when the state is not an engine's."""
    coefs, intercepts = clf.__dict__.get("coefs_"), clf.__dict__.get("intercepts_")
    if not isinstance(coefs, list) or not isinstance(intercepts, list) or not coefs:
        return None
    if len(coefs) != len(intercepts):
        return None
    dtype = getattr(coefs[0], "dtype", None)
    for w, c in zip(coefs, intercepts):
        if not (isinstance(w, np.ndarray) and isinstance(c, np.ndarray)) or w.ndim != 2 \
                or c.shape != (w.shape[1],) or w.dtype != dtype or c.dtype != dtype:
            return None
        if dtype not in (np.float32, np.float64) or not (np.all(np.isfinite(w))
                                                         and np.all(np.isfinite(c))):
            return None
    if any(a.shape[1] != b.shape[0] for a, b in zip(coefs, coefs[1:])):
        return None
    act = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh, "identity": lambda v: v,
           "logistic": lambda v: 1 / (1 + np.exp(-v))}.get(clf.__dict__.get("activation"))
    out = clf.__dict__.get("out_activation_")
    if act is None or out not in ("softmax", "logistic"):
        return None
    h = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    if h.ndim != 2 or h.shape[1] != coefs[0].shape[0] or not np.all(np.isfinite(h)):
        return None
    for i, (w, c) in enumerate(zip(coefs, intercepts)):
        h = h @ w.astype(np.float64) + c
        if i < len(coefs) - 1:
            h = act(h)
    if out == "softmax":
        h = np.exp(h - h.max(axis=1, keepdims=True))
        return h / h.sum(axis=1, keepdims=True)
    return 1 / (1 + np.exp(-h))


def _check_proba(clf, X, proba):
    with np.errstate(all="ignore"):
        expected = _forward(clf, X)
    if expected is None or not np.all(np.isfinite(expected)):  # overflow: no reference
        return
    if expected.shape[1] == 1 and proba.ndim == 2 and proba.shape[1] == 2:
        expected = np.hstack([1 - expected, expected])  # binary: both columns
    loose = np.asarray(clf.coefs_[0]).dtype == np.float32 or (
        not sp.issparse(X) and np.asarray(X).dtype == np.float32)
    tol = 1e-3 if loose else 1e-9
    if proba.shape != expected.shape or not np.allclose(proba, expected, rtol=tol, atol=tol):
        raise AssertionError("predict_proba differs from a NumPy forward pass through the "
                             "same weights")


def _act(b, clf, X, y, rng, done):
    action = b.choice(ACTIONS)
    done.append(action)
    X_in = _input(b, X, rng)
    if action == "predict":
        clf.predict(X_in)
    elif action == "predict_proba":
        _check_proba(clf, X_in, clf.predict_proba(X_in))
    elif action == "predict_log_proba":
        clf.predict_log_proba(X_in)
    elif action == "score":
        clf.score(X_in, y[: X_in.shape[0]] if hasattr(X_in, "shape") else y)
    elif action == "partial_fit":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(X_in, y[: X_in.shape[0]])
    elif action == "pickle":
        clone = pickle.loads(pickle.dumps(clf))
        _check_proba(clone, X_in, clone.predict_proba(X_in))
    else:  # a prediction keeps an engine; edit the weights it holds, predict again
        clf.predict_proba(X_in)
        _mutate_in_place(b, clf)
        _check_proba(clf, X_in, clf.predict_proba(X_in))


def check_input(data):
    """Run one fuzzer input; raise AssertionError on a finding."""
    _fit_models()
    b = Bytes(data)
    blob, X, y = _models[b.below(len(_models))]
    clf = pickle.loads(blob)
    rng = np.random.default_rng(b.uint(2))
    done = ["mutate"]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            _mutate(b, clf, rng)
            _act(b, clf, X, y, rng, done)
    except AssertionError:
        raise
    except ACCEPTED as exc:
        STATS[done[-1], type(exc).__name__] += 1
        return
    except Exception as exc:
        raise AssertionError(f"{done[-1]} raised {type(exc).__name__}: {exc}") from exc
    STATS[done[-1], "result"] += 1


def seeds():
    """A starting corpus: each model and action, untouched and with short mutations."""
    rng = np.random.default_rng(0)
    found = []
    for m in range(len(CONFIGS)):
        for a in range(len(ACTIONS)):
            # model, rng (2 bytes), one "leave as fitted" mutation, action, plain input
            found.append(bytes([m, 0, 0, 0, 3, a, 3, 0]))
        for _ in range(6):
            found.append(bytes([m]) + rng.bytes(int(rng.integers(4, 40))))
    return found


def _prepare():
    """The estimator instrumented (scikit-learn not), and the models fitted."""
    import atheris

    use_source_tree()
    import sklearn  # noqa: F401  (uninstrumented)

    with atheris.instrument_imports(include=["csoftmax"]):
        import csoftmax.neural_network  # noqa: F401
    _fit_models()


def main(argv):
    return harness_main(argv, seeds, check_input, _prepare)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
