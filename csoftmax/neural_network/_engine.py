"""Engine inputs, prepared in one place.

``csoftmax._core.MLPEngine`` (the C engine of src_c/cs_mlp.h) runs the per-minibatch
work (forward pass, fused output deltas, backward GEMMs, L2 term, optimizer update)
without the GIL, and accepts only C-contiguous, writeable arrays of the working dtype,
CSR matrices with int64 indices, and int64 class indices.  This module converts the
estimator's weights, data and targets into that form, builds the engines for training
and for prediction, and lays out the packed parameter vector of the L-BFGS solver.  It
is the only module that builds an ``MLPEngine``.

A training engine is built once per ``fit``/``partial_fit`` call and updates the
``coefs`` and ``intercepts`` arrays it was given in place. A prediction engine is kept
between calls, in a table keyed weakly by the estimator (engines are not picklable, and
predicting must not change the estimator), and rebuilt when the weight arrays change.

Both split their matrix products over their own threads when they can set the BLAS to one
thread for the call (OpenBLAS, found from the address of SciPy's sgemm): one thread pool on
the cores instead of two that take turns.
"""

import weakref

import numpy as np
import scipy.sparse as sp

from csoftmax import _core
from csoftmax._core import MLPEngine
from csoftmax._utils import c_array, check_n_threads

# Largest number of rows a predict-time engine processes at once.
_PREDICT_BATCH_ROWS = 4096


def _proba_dtype(X, dtype):
    """The dtype scikit-learn's MLPClassifier gives probabilities in for input X and weights
    of `dtype`: NumPy's result type of the two, X taken as float64 unless it is float32 (a
    float32 ndarray or sparse matrix, or a DataFrame of float32 columns)."""
    dtypes = getattr(X, "dtypes", None)
    x32 = (getattr(X, "dtype", None) == np.float32 if dtypes is None or hasattr(X, "dtype")
           else all(d == np.float32 for d in dtypes))
    return dtype if x32 or dtype == np.float64 else np.dtype(np.float64)


def _engine_array(a, dtype):
    """``a`` itself if the engine can use it (C-contiguous, writeable, dtype), or a copy."""
    if type(a) is np.ndarray and a.dtype == dtype:
        flags = a.flags
        if flags.c_contiguous and flags.writeable and flags.aligned:
            return a  # as np.require would, without its Python-level checks
    return np.require(a, dtype=dtype, requirements=["C", "A", "W", "E"])


def _checked_input(X, dtype, n_threads):
    """``(X_engine, True)`` when ``X`` is a plain C-contiguous 2-D float32/float64 ndarray
    whose values are all finite, as the engine reads it for ``dtype`` (a dtype, or
    scikit-learn's ``(np.float64, np.float32)``, which keeps either): ``X`` itself when its
    dtype is kept, checked in one C pass; float64 data for float32 cast in one pass (on
    ``n_threads``) that also checks it, so that input validation need not pass over the
    data again; float32 data for float64 checked in C, then widened (exactly). Otherwise,
    or when some value is NaN, infinite or beyond float32's range, ``(X, False)``:
    validation then converts (or rejects) ``X`` itself, with its usual messages."""
    if (type(X) is not np.ndarray or X.ndim != 2 or not X.size or not X.flags.c_contiguous
            or not X.flags.aligned or not X.dtype.isnative):
        return X, False
    x_dtype = X.dtype
    if x_dtype != np.float32 and x_dtype != np.float64:
        return X, False
    if (x_dtype in dtype) if type(dtype) is tuple else (x_dtype == dtype):
        return X, _core.all_finite(X, check_n_threads(n_threads))
    if type(dtype) is tuple:
        return X, False
    if x_dtype == np.float64 and dtype == np.float32:
        out = np.empty(X.shape, dtype=np.float32)
        if _core.cast_f64_f32(X.reshape(-1), out.reshape(-1), check_n_threads(n_threads),
                              fresh=True):
            return out, True
    elif dtype == np.float64 and _core.all_finite(X, check_n_threads(n_threads)):
        return X.astype(np.float64), True
    return X, False


def _engine_input(X, dtype):
    """X as the engine wants it: C-contiguous ndarray, or CSR matrix of ``dtype`` with
    int64 indices (the caller's matrix is not modified)."""
    if type(X) is np.ndarray:  # the common case, without issparse's class checks
        return c_array(X, dtype)
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=dtype)  # a new matrix object, sharing data where it can
        X.data = c_array(X.data, dtype)
        X.indices = c_array(X.indices, np.int64)
        X.indptr = c_array(X.indptr, np.int64)
        return X
    return c_array(X, dtype)


def _engine_targets(Y, out_activation, dtype):
    """Targets in the engine's format: class indices (softmax) or 0/1 matrix."""
    if out_activation == "softmax":
        return c_array(Y.argmax(axis=1), np.int64)
    return c_array(Y, dtype)


def _training_engine(coefs, intercepts, activation, out_activation, batch_rows,
                     n_threads, X=None):
    """An engine that trains ``coefs`` and ``intercepts`` in place.

    The arrays must already be engine arrays of one dtype; ``batch_rows`` is the
    largest number of rows the engine processes at once (its buffers are sized for
    it) and ``n_threads`` a resolved thread count. Give the epochs' training data ``X``
    when it is dense, so that the engine has a buffer to gather shuffled rows into.
    """
    return MLPEngine(coefs, intercepts, activation, out_activation, batch_rows, n_threads,
                     gather_dense=isinstance(X, np.ndarray))


# The prediction engine of each fitted estimator, kept between calls. It lives here, keyed
# weakly by the estimator, not in the estimator's __dict__: predicting must leave the
# estimator unchanged (scikit-learn checks it), and it is never pickled or copied.
_PREDICT_CACHES = weakref.WeakKeyDictionary()


def prediction_cache(owner):
    """The dict where the prediction engine of ``owner`` is kept (see _predict_logits), or
    None when ``owner`` cannot be a weak key (a subclass made it unhashable)."""
    try:
        return _PREDICT_CACHES.setdefault(owner, {})
    except TypeError:
        return None


def _predict_logits(X, coefs, intercepts, activation, out_activation, n_outputs,
                    n_threads, cache=None):
    """Output-layer values (before softmax/logistic) of validated X, in the weights' dtype.

    The weights are only read (read-only or non-contiguous ones are copied);
    ``n_threads`` is the estimator's parameter, resolved here. ``cache`` is the dict of
    prediction_cache(estimator): the engine built for these weights is kept there and reused by
    the next call, so that a prediction does not allocate the engine's buffers again.
    """
    dtype = np.asarray(coefs[0]).dtype
    X = _engine_input(X, dtype)
    spec = (activation, out_activation, check_n_threads(n_threads))
    engine = _cached_engine(cache, coefs, intercepts, spec)
    # The engine checked the weights; n_outputs_ must agree before the output is allocated
    # (a tampered one would otherwise size it, up to a MemoryError).
    width = np.shape(coefs[-1])[-1]
    if isinstance(n_outputs, bool) or n_outputs != width:
        raise ValueError(f"n_outputs_ is {n_outputs!r}, but the last layer, coefs_[-1], has "
                         f"{width} outputs: the fitted state is inconsistent.")
    out = np.empty((X.shape[0], width), dtype=dtype)
    try:
        return engine.forward(X, out)
    except RuntimeError:
        if cache is None:  # pragma: no cover - a fresh engine is never busy
            raise
        # The kept engine is serving another thread's call: use a fresh one.
        return _cached_engine(None, coefs, intercepts, spec).forward(X, out)


def _cached_engine(cache, coefs, intercepts, spec):
    """The prediction engine of these weights: from ``cache`` when it was built for the
    same array objects (used in place, so edits to them are seen) and ``spec``."""
    arrays = list(coefs) + list(intercepts)
    kept = cache.get("arrays") if cache is not None else None
    if (kept is not None and cache["spec"] == spec and len(kept) == len(arrays)
            and all(a is b for a, b in zip(arrays, kept))):
        return cache["engine"]
    dtype = np.asarray(coefs[0]).dtype
    params = [_engine_array(a, dtype) for a in arrays]  # MLPEngine checks their shapes
    n_layers = len(coefs)
    engine = MLPEngine(params[:n_layers], params[n_layers:], spec[0], spec[1],
                       _PREDICT_BATCH_ROWS, spec[2])
    if cache is not None and all(p is a for p, a in zip(params, arrays)):
        # The engine holds these arrays, so while it is kept no other array can take
        # their identity.
        cache.update(arrays=arrays, spec=spec, engine=engine)
    return engine


class _PackedParameters:
    """Weights and their gradients as views into two packed vectors, for L-BFGS.

    ``coefs``/``intercepts`` are views into ``values`` and ``coef_grads``/
    ``intercept_grads`` views into ``grads``, laid out as all weight matrices then all
    bias vectors, so that scipy's iterate is copied in once and the gradient is read
    out once per call.
    """

    def __init__(self, layer_units, dtype):
        self._shapes = [(a, b) for a, b in zip(layer_units[:-1], layer_units[1:])]
        sizes = [a * b for a, b in self._shapes] + [b for _, b in self._shapes]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.values = np.empty(self._offsets[-1], dtype=dtype)
        self.grads = np.empty(self._offsets[-1], dtype=dtype)
        self.coefs, self.intercepts = self._views(self.values)
        self.coef_grads, self.intercept_grads = self._views(self.grads)

    def take_over(self, coefs, intercepts):
        """Copy the weights into ``values`` and put the views in the lists, in place."""
        for i in range(len(self._shapes)):
            self.coefs[i][...] = coefs[i]
            self.intercepts[i][...] = intercepts[i]
            coefs[i] = self.coefs[i]
            intercepts[i] = self.intercepts[i]

    def _views(self, vector):
        offsets, n_layers = self._offsets, len(self._shapes)
        coefs = [
            vector[offsets[i]:offsets[i + 1]].reshape(self._shapes[i])
            for i in range(n_layers)
        ]
        intercepts = [
            vector[offsets[n_layers + i]:offsets[n_layers + i + 1]]
            for i in range(n_layers)
        ]
        return coefs, intercepts


def _lbfgs_loss_grad(packed, engine, X, y, sample_weight, alpha):
    """scipy's ``fun(x) -> (loss, gradient)`` over float64 vectors, for ``jac=True``.

    ``engine`` must train ``packed.coefs`` and ``packed.intercepts``.
    """

    def loss_grad(x):
        packed.values[...] = x
        loss = engine.loss_grad(
            X, y, sample_weight, alpha, packed.coef_grads + packed.intercept_grads
        )
        return float(loss), packed.grads.astype(np.float64)

    return loss_grad
