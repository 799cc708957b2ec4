"""Plain-NumPy reference implementation of the ``csoftmax._core.MLPEngine`` interface.

This module is the test oracle for the compiled engine (described at the top of
``src_c/cs_mlp.h``), in the spirit of thinc's ``NumpyOps``: it is
written for clarity, not speed.

Design
------
* ``ReferenceEngine`` has the same constructor and methods as ``MLPEngine``:
  ``forward``, ``loss_grad`` and ``epoch``, which takes an optimizer with the
  attributes of ``csoftmax._core.Optimizer`` (``kind``, ``state``,
  ``hyperparameters`` and, for Adam, a step count ``t`` that it advances).
* Every computation runs in float64, whatever the engine dtype.  Parameters of a
  float32 engine are upcast for the computation and the results are rounded once
  when they are written back (parameters, optimizer state, gradients, logits).
* In float64 the arithmetic follows scikit-learn's ``BaseMultilayerPerceptron``
  operation by operation (same GEMMs, same order of the bias add, activation
  derivative, L2 term and division by ``sum(w)``; same SGD/Adam update formulas),
  so that a float64 fit through this engine reproduces scikit-learn's ``coefs_``
  to rounding.
* The reported loss is the exact cross-entropy from the logits (log-sum-exp for
  softmax, ``log(1 + exp(-+z))`` for logistic outputs), without scikit-learn's
  probability clipping.
* The engine keeps references to the parameter and optimizer-state arrays it is
  given and updates them in place, as the compiled engine does.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

__all__ = ["ReferenceEngine"]

_HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
_OUTPUT_ACTIVATIONS = ("softmax", "logistic")


def _activate(z, activation):
    """Apply a hidden-layer activation in place and return ``z``."""
    if activation == "logistic":
        expit(z, out=z)
    elif activation == "tanh":
        np.tanh(z, out=z)
    elif activation == "relu":
        np.maximum(z, 0, out=z)
    return z


def _activation_derivative(a, delta, activation):
    """Multiply ``delta`` in place by f'(z), written as a function of a = f(z)."""
    if activation == "logistic":
        delta *= a
        delta *= 1 - a
    elif activation == "tanh":
        delta *= 1 - a**2
    elif activation == "relu":
        delta[a == 0] = 0


class ReferenceEngine:
    """NumPy oracle with the ``MLPEngine`` interface.

    Parameters
    ----------
    coefs : list of ndarray of shape (fan_in, fan_out)
        Weight matrices, all float32 or all float64, C-contiguous and writeable.
        Updated in place by ``epoch``.
    intercepts : list of ndarray of shape (fan_out,)
        Bias vectors, same dtype as ``coefs``.
    activation : {"identity", "logistic", "tanh", "relu"}
        Hidden-layer activation.
    out_activation : {"softmax", "logistic"}
        Output activation (the loss is the matching cross-entropy).
    batch_rows : int
        Largest number of rows processed at once (``forward`` chunks by it; the
        training methods require ``batch_size <= batch_rows``).
    n_threads : int
        Accepted for interface compatibility; the reference is single-threaded.
    """

    def __init__(self, coefs, intercepts, activation, out_activation, batch_rows,
                 n_threads):
        coefs = list(coefs)
        intercepts = list(intercepts)
        if len(coefs) == 0 or len(coefs) != len(intercepts):
            raise ValueError("coefs and intercepts must be non-empty lists of the "
                             "same length")
        dtype = coefs[0].dtype
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"coefs must be float32 or float64, got {dtype}")
        for i, (w, b) in enumerate(zip(coefs, intercepts)):
            for name, a, ndim in (("coefs", w, 2), ("intercepts", b, 1)):
                if not isinstance(a, np.ndarray) or a.dtype != dtype or a.ndim != ndim:
                    raise ValueError(f"{name}[{i}] must be a {ndim}-D {dtype} ndarray")
                if not a.flags.c_contiguous or not a.flags.writeable:
                    raise ValueError(f"{name}[{i}] must be C-contiguous and writeable")
            if b.shape[0] != w.shape[1]:
                raise ValueError(f"intercepts[{i}] has shape {b.shape}, expected "
                                 f"({w.shape[1]},)")
            if i > 0 and w.shape[0] != coefs[i - 1].shape[1]:
                raise ValueError(f"coefs[{i}] has {w.shape[0]} rows, expected "
                                 f"{coefs[i - 1].shape[1]}")
        if activation not in _HIDDEN_ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}")
        if out_activation not in _OUTPUT_ACTIVATIONS:
            raise ValueError(f"unknown out_activation {out_activation!r}")
        if not isinstance(batch_rows, numbers.Integral) or batch_rows < 1:
            raise ValueError(f"batch_rows must be an int >= 1, got {batch_rows!r}")
        if not isinstance(n_threads, numbers.Integral) or n_threads < 1:
            raise ValueError(f"n_threads must be an int >= 1, got {n_threads!r}")
        self.coefs = coefs
        self.intercepts = intercepts
        self.activation = activation
        self.out_activation = out_activation
        self.batch_rows = int(batch_rows)
        self.n_threads = int(n_threads)
        self.dtype = dtype
        self.n_features = coefs[0].shape[0]
        self.n_outputs = coefs[-1].shape[1]

    # ------------------------------------------------------------------ checks
    def _check_X(self, X):
        if sp.issparse(X):
            if X.format != "csr":
                raise ValueError("X must be a dense array or a CSR matrix")
        elif not isinstance(X, np.ndarray) or not X.flags.c_contiguous:
            raise ValueError("X must be a C-contiguous ndarray or a CSR matrix")
        if X.ndim != 2 or X.dtype != self.dtype:
            raise ValueError(f"X must be 2-D of dtype {self.dtype}, got {X.dtype} "
                             f"with {X.ndim} dims")
        if X.shape[1] != self.n_features:
            raise ValueError(f"X has {X.shape[1]} features, expected {self.n_features}")
        return X.shape[0]

    def _check_y(self, y, n):
        if self.out_activation == "softmax":
            if y.dtype != np.intp or y.shape != (n,):
                raise ValueError("y must be an intp array of shape (n_samples,)")
            if n and (y.min() < 0 or y.max() >= self.n_outputs):
                raise ValueError("y has class indices out of range")
        elif y.dtype != self.dtype or y.shape != (n, self.n_outputs):
            raise ValueError(f"y must be a {self.dtype} array of shape "
                             f"({n}, {self.n_outputs})")

    def _check_sample_weight(self, sample_weight, n):
        if sample_weight is not None and (sample_weight.dtype != np.float64
                                          or sample_weight.shape != (n,)):
            raise ValueError("sample_weight must be None or float64 of shape (n,)")

    def _check_like(self, name, arrays, params):
        if len(arrays) != len(params):
            raise ValueError(f"{name} must have {len(params)} arrays")
        for a, p in zip(arrays, params):
            if a.shape != p.shape or a.dtype != self.dtype or not a.flags.writeable:
                raise ValueError(f"{name} arrays must be writeable, shaped like the "
                                 f"parameters and of dtype {self.dtype}")

    def _check_order(self, order, n, batch_size):
        if order.dtype != np.intp or order.shape != (n,):
            raise ValueError("order must be an intp array of shape (n_samples,)")
        if not np.array_equal(np.sort(order), np.arange(n)):
            raise ValueError("order must be a permutation of range(n_samples)")
        if not 1 <= batch_size <= self.batch_rows:
            raise ValueError("batch_size must be in [1, batch_rows]")

    # ---------------------------------------------------------------- kernels
    def _params64(self):
        coefs = [w.astype(np.float64, copy=False) for w in self.coefs]
        intercepts = [b.astype(np.float64, copy=False) for b in self.intercepts]
        return coefs, intercepts

    def _forward(self, X, coefs, intercepts):
        """Return the list of activations; the last entry holds the logits."""
        activations = [X]
        a = X
        last = len(coefs) - 1
        for i, (w, b) in enumerate(zip(coefs, intercepts)):
            a = a @ w
            if sp.issparse(a):  # pragma: no cover - sparse @ dense is dense
                a = a.toarray()
            a = np.asarray(a)
            a += b
            if i != last:
                _activate(a, self.activation)
            activations.append(a)
        return activations

    def _batch(self, X, y, sample_weight, alpha, coefs, intercepts):
        """Loss and float64 gradients of one batch, as scikit-learn's _backprop."""
        n = X.shape[0]
        X = X.astype(np.float64, copy=False)
        activations = self._forward(X, coefs, intercepts)
        z = activations[-1]
        rows = np.arange(n)
        if self.out_activation == "softmax":
            z_max = z.max(axis=1)[:, np.newaxis]
            e = np.exp(z - z_max)
            s = e.sum(axis=1)[:, np.newaxis]
            per_sample = (np.log(s) + z_max)[:, 0] - z[rows, y]
            delta = e / s
            delta[rows, y] -= 1.0
        else:
            t = y.astype(np.float64)
            per_sample = np.where(t != 0, np.logaddexp(0.0, -z),
                                  np.logaddexp(0.0, z)).sum(axis=1)
            delta = expit(z) - t
        if sample_weight is None:
            sw_sum = n
            loss = per_sample.sum() / n
        else:
            sw_sum = sample_weight.sum()
            loss = (sample_weight * per_sample).sum() / sw_sum
            delta *= sample_weight.reshape(-1, 1)
        values = 0.0
        for w in coefs:
            w = w.ravel()
            values += np.dot(w, w)
        loss += (0.5 * alpha) * values / sw_sum

        n_layers = len(coefs)
        coef_grads = [None] * n_layers
        intercept_grads = [None] * n_layers
        for i in range(n_layers - 1, -1, -1):
            g = activations[i].T @ delta
            g += alpha * coefs[i]
            g /= sw_sum
            coef_grads[i] = g
            intercept_grads[i] = np.sum(delta, axis=0) / sw_sum
            if i > 0:
                delta = delta @ coefs[i].T
                _activation_derivative(activations[i], delta, self.activation)
        return float(loss), coef_grads, intercept_grads

    def _epoch(self, X, y, sample_weight, order, batch_size, alpha, update):
        n = self._check_X(X)
        self._check_y(y, n)
        self._check_sample_weight(sample_weight, n)
        self._check_order(order, n, batch_size)
        accumulated_loss = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            sw = None if sample_weight is None else sample_weight[idx]
            coefs, intercepts = self._params64()
            loss, coef_grads, intercept_grads = self._batch(
                X[idx], y[idx], sw, alpha, coefs, intercepts
            )
            accumulated_loss += loss * len(idx)
            update(coefs + intercepts, coef_grads + intercept_grads)
        return accumulated_loss

    # ------------------------------------------------------------- public API
    def forward(self, X, out):
        """Write the output-layer values (logits) of X into out and return out."""
        n = self._check_X(X)
        if (not isinstance(out, np.ndarray) or out.shape != (n, self.n_outputs)
                or out.dtype != self.dtype or not out.flags.writeable):
            raise ValueError("out must be a writeable array of shape "
                             f"({n}, {self.n_outputs}) and dtype {self.dtype}")
        coefs, intercepts = self._params64()
        for start in range(0, n, self.batch_rows):
            stop = min(start + self.batch_rows, n)
            Xb = X[start:stop].astype(np.float64, copy=False)
            out[start:stop] = self._forward(Xb, coefs, intercepts)[-1]
        return out

    def loss_grad(self, X, y, sample_weight, alpha, grads):
        """Full-batch objective; gradients are written into grads (coefs, then intercepts)."""
        L = len(self.coefs)
        coef_grads, intercept_grads = grads[:L], grads[L:]
        n = self._check_X(X)
        self._check_y(y, n)
        self._check_sample_weight(sample_weight, n)
        self._check_like("coef_grads", coef_grads, self.coefs)
        self._check_like("intercept_grads", intercept_grads, self.intercepts)
        coefs, intercepts = self._params64()
        loss, cg, ig = self._batch(X, y, sample_weight, alpha, coefs, intercepts)
        for dst, src in zip(list(coef_grads) + list(intercept_grads), cg + ig):
            dst[...] = src
        return loss

    def epoch(self, X, y, sample_weight, order, batch_size, alpha, optimizer):
        """One epoch of minibatch SGD or Adam; returns the accumulated loss."""
        h = optimizer.hyperparameters
        P = len(self.coefs) + len(self.intercepts)
        if optimizer.kind == "sgd":
            return self._sgd_epoch(X, y, sample_weight, order, batch_size, alpha,
                                   h["learning_rate"], h["momentum"], h["nesterov"],
                                   optimizer.state)
        loss, optimizer.t = self._adam_epoch(
            X, y, sample_weight, order, batch_size, alpha, h["learning_rate"], h["beta_1"],
            h["beta_2"], h["epsilon"], optimizer.t, optimizer.state[:P], optimizer.state[P:])
        return loss

    def _sgd_epoch(self, X, y, sample_weight, order, batch_size, alpha, learning_rate,
                   momentum, nesterov, velocities):
        """One epoch of minibatch SGD (scikit-learn's SGDOptimizer semantics)."""
        params = self.coefs + self.intercepts
        self._check_like("velocities", velocities, params)

        def update(params64, grads):
            for p, p64, v, g in zip(params, params64, velocities, grads):
                velocity = momentum * v.astype(np.float64) - learning_rate * g
                v[...] = velocity
                upd = velocity
                if nesterov:
                    upd = momentum * velocity - learning_rate * g
                p[...] = p64 + upd

        return self._epoch(X, y, sample_weight, order, batch_size, alpha, update)

    def _adam_epoch(self, X, y, sample_weight, order, batch_size, alpha,
                    learning_rate_init, beta_1, beta_2, epsilon, t, ms, vs):
        """One epoch of Adam; returns (accumulated_loss, new t)."""
        params = self.coefs + self.intercepts
        self._check_like("ms", ms, params)
        self._check_like("vs", vs, params)
        step = [int(t)]

        def update(params64, grads):
            step[0] += 1
            t_ = step[0]
            lr = learning_rate_init * np.sqrt(1 - beta_2**t_) / (1 - beta_1**t_)
            for p, p64, m, v, g in zip(params, params64, ms, vs, grads):
                m64 = beta_1 * m.astype(np.float64) + (1 - beta_1) * g
                v64 = beta_2 * v.astype(np.float64) + (1 - beta_2) * (g**2)
                m[...] = m64
                v[...] = v64
                p[...] = p64 + -lr * m64 / (np.sqrt(v64) + epsilon)

        loss = self._epoch(X, y, sample_weight, order, batch_size, alpha, update)
        return loss, step[0]
