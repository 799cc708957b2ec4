"""The MLP training engine: whole epochs of minibatch steps without the GIL.

One minibatch step is: gather the batch, forward GEMMs (BLAS through scipy's cython_blas)
each followed by one fused bias + activation pass, the fused softmax + cross-entropy
gradient (or sigmoid + log-loss) as the output delta, backward GEMMs each followed by one
fused activation-derivative pass, and one fused L2 + Adam/SGD pass over each parameter
array. All buffers are allocated once, when the engine is built. Python is needed again
only when the epoch is over.

Loss and gradients follow scikit-learn's MLP exactly: for a batch with weights w,
loss = sum(w l) / sum(w) + alpha / 2 * sum ||W||^2 / sum(w), and the gradients are those of
that loss. The data term is the exact log-sum-exp cross-entropy (no probability clipping).
"""
from cython cimport floating
from libc.math cimport pow, sqrt
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy
from scipy.linalg.cython_blas cimport dgemm, sgemm

import numpy as np

from csoftmax._kernels cimport *

include "_status.pxi"

ACTIVATIONS = {
    "identity": CS_ACT_IDENTITY,
    "logistic": CS_ACT_LOGISTIC,
    "tanh": CS_ACT_TANH,
    "relu": CS_ACT_RELU,
}


# ---- row-major GEMMs on column-major BLAS ------------------------------------------------

cdef inline void _gemm(char ta, char tb, int m, int n, int k, floating alpha, floating *a,
                       int lda, floating *b, int ldb, floating beta, floating *c,
                       int ldc) noexcept nogil:
    if floating is float:
        sgemm(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc)
    else:
        dgemm(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc)


cdef inline void _mm(floating *a, floating *b, floating *c, int m, int k,
                     int n) noexcept nogil:
    """c (m, n) = a (m, k) @ b (k, n), all row-major."""
    _gemm(c'N', c'N', n, m, k, <floating>1, b, n, a, k, <floating>0, c, n)


cdef inline void _mm_nt(floating *d, floating *w, floating *c, int m, int n,
                        int k) noexcept nogil:
    """c (m, k) = d (m, n) @ w.T, w: (k, n)."""
    _gemm(c'T', c'N', k, m, n, <floating>1, w, n, d, n, <floating>0, c, k)


cdef inline void _mm_tn(floating *a, floating *d, floating *g, int m, int k,
                        int n) noexcept nogil:
    """g (k, n) = a.T @ d, a: (m, k), d: (m, n)."""
    _gemm(c'N', c'T', n, k, m, <floating>1, d, n, a, k, <floating>0, g, n)


# ---- the engine ------------------------------------------------------------------------

cdef struct Net:
    int n_layers          # weight layers
    int act               # hidden activation code
    int softmax_out       # 1: softmax + cross-entropy, 0: sigmoid + log-loss
    int n_threads
    Py_ssize_t batch_rows
    Py_ssize_t *units     # n_layers + 1 layer widths
    void **coefs          # (units[l], units[l+1])
    void **intercepts     # (units[l+1],)
    void **acts           # (batch_rows, units[l+1]): outputs of each layer
    void **deltas         # (batch_rows, units[l+1])
    void **gcoefs         # gradient buffers, shaped like coefs
    void **gints          # and like intercepts
    void *xbuf            # (batch_rows, units[0]) gathered batch (dense input)
    void *ybuf            # (batch_rows, units[-1]) gathered 0/1 targets (sigmoid output)
    int64_t *yidx         # (batch_rows,) gathered class indices (softmax output)
    int64_t *rows         # (batch_rows,) the batch's row numbers
    double *wbuf          # (batch_rows,) w_i / sum(w) of the batch
    double *loss_rows     # (batch_rows,)
    double *colacc        # (max units,) scratch for column sums


# One call's training data: dense rows or CSR, targets and optional weights.
cdef struct Data:
    void *x               # dense (n, n_features), or NULL for CSR
    void *csr_data
    int64_t *csr_indices
    int64_t *csr_indptr
    int64_t *y_idx        # softmax targets (n,)
    void *y               # sigmoid targets (n, n_outputs)
    double *sample_weight # (n,) or NULL


cdef void _forward_batch(Net *net, Data *data, floating *x0, Py_ssize_t m,
                         floating *logits) noexcept nogil:
    """Forward pass of m rows; x0 is the dense batch (NULL: CSR rows net.rows[:m]).
    The output layer's pre-activation values go to `logits` (acts[-1] when NULL)."""
    cdef int l, L = net.n_layers
    cdef floating *a_in = x0
    cdef floating *z
    for l in range(L):
        z = logits if (l == L - 1 and logits != NULL) else <floating *>net.acts[l]
        if l == 0 and x0 == NULL:
            if floating is float:
                cs_mlp_csr_matmul_f32(<float *>data.csr_data, data.csr_indices,
                                      data.csr_indptr, net.rows, <float *>net.coefs[0], z, m,
                                      net.units[1])
            else:
                cs_mlp_csr_matmul_f64(<double *>data.csr_data, data.csr_indices,
                                      data.csr_indptr, net.rows, <double *>net.coefs[0], z, m,
                                      net.units[1])
        else:
            _mm(a_in, <floating *>net.coefs[l], z, m, net.units[l], net.units[l + 1])
        if floating is float:
            cs_mlp_bias_act_f32(z, <float *>net.intercepts[l],
                                net.act if l < L - 1 else CS_ACT_IDENTITY, m, net.units[l + 1],
                                net.n_threads)
        else:
            cs_mlp_bias_act_f64(z, <double *>net.intercepts[l],
                                net.act if l < L - 1 else CS_ACT_IDENTITY, m, net.units[l + 1],
                                net.n_threads)
        a_in = z


cdef double _batch_grad(Net *net, Data *data, floating *x0, Py_ssize_t m, void **gcoefs,
                        void **gints) noexcept nogil:
    """Forward and backward pass of the batch net.rows[:m] (x0: its dense rows, or NULL for
    CSR). net.wbuf must hold w_i / sum(w). Writes the data-term gradients (no L2) to
    gcoefs/gints and returns the data term sum(w l) / sum(w)."""
    cdef int l, L = net.n_layers
    cdef Py_ssize_t n_out = net.units[L]
    cdef floating *out = <floating *>net.acts[L - 1]
    cdef floating *delta = <floating *>net.deltas[L - 1]
    cdef floating *a_in
    cdef double loss
    _forward_batch(net, data, x0, m, <floating *>NULL)
    if net.softmax_out:
        if floating is float:
            cs_xent_hard_f32(out, net.yidx, net.wbuf, 0.0, CS_REDUCE_SUM, net.loss_rows, &loss,
                             delta, m, n_out, 1)
        else:
            cs_xent_hard_f64(out, net.yidx, net.wbuf, 0.0, CS_REDUCE_SUM, net.loss_rows, &loss,
                             delta, m, n_out, 1)
    else:
        if floating is float:
            cs_mlp_logistic_loss_f32(out, <float *>net.ybuf, net.wbuf, 1.0, net.loss_rows,
                                     delta, m, n_out)
        else:
            cs_mlp_logistic_loss_f64(out, <double *>net.ybuf, net.wbuf, 1.0, net.loss_rows,
                                     delta, m, n_out)
        loss = cs_blocked_sum(net.loss_rows, m)
    for l in range(L - 1, -1, -1):
        delta = <floating *>net.deltas[l]
        if l == 0:
            a_in = x0
        else:
            a_in = <floating *>net.acts[l - 1]
        if l == 0 and x0 == NULL:
            if floating is float:
                cs_mlp_csr_tmatmul_f32(<float *>data.csr_data, data.csr_indices,
                                       data.csr_indptr, net.rows, delta, <float *>gcoefs[0], m,
                                       net.units[0], net.units[1])
            else:
                cs_mlp_csr_tmatmul_f64(<double *>data.csr_data, data.csr_indices,
                                       data.csr_indptr, net.rows, delta, <double *>gcoefs[0],
                                       m, net.units[0], net.units[1])
        else:
            _mm_tn(a_in, delta, <floating *>gcoefs[l], m, net.units[l], net.units[l + 1])
        if floating is float:
            cs_mlp_col_sum_f32(delta, net.colacc, <float *>gints[l], m, net.units[l + 1])
        else:
            cs_mlp_col_sum_f64(delta, net.colacc, <double *>gints[l], m, net.units[l + 1])
        if l > 0:
            _mm_nt(delta, <floating *>net.coefs[l], <floating *>net.deltas[l - 1], m,
                   net.units[l + 1], net.units[l])
            if floating is float:
                cs_mlp_act_backward_f32(<float *>net.deltas[l - 1], <float *>net.acts[l - 1],
                                        net.act, m, net.units[l], net.n_threads)
            else:
                cs_mlp_act_backward_f64(<double *>net.deltas[l - 1], <double *>net.acts[l - 1],
                                        net.act, m, net.units[l], net.n_threads)
    return loss


cdef floating *_gather(Net *net, Data *data, const int64_t *order, Py_ssize_t m,
                       floating *dummy) noexcept nogil:
    """Load batch rows order[:m]: row numbers, targets and normalised weights. Returns the
    dense batch (a slice of X when the rows are consecutive), or NULL for CSR input."""
    cdef Py_ssize_t i, f = net.units[0], n_out = net.units[net.n_layers]
    cdef double sw = 0.0
    cdef bint consecutive = 1
    for i in range(m):
        net.rows[i] = order[i]
        if order[i] != order[0] + i:
            consecutive = 0
    if net.softmax_out:
        for i in range(m):
            net.yidx[i] = data.y_idx[order[i]]
    else:
        for i in range(m):
            memcpy(<floating *>net.ybuf + i * n_out, <floating *>data.y + order[i] * n_out,
                   n_out * sizeof(floating))
    if data.sample_weight != NULL:
        for i in range(m):
            net.wbuf[i] = data.sample_weight[order[i]]
        sw = cs_blocked_sum(net.wbuf, m)
        for i in range(m):
            net.wbuf[i] /= sw
    else:
        for i in range(m):
            net.wbuf[i] = 1.0 / m
    if data.x == NULL:
        return NULL
    if consecutive:
        return <floating *>data.x + order[0] * f
    for i in range(m):
        memcpy(<floating *>net.xbuf + i * f, <floating *>data.x + order[i] * f,
               f * sizeof(floating))
    return <floating *>net.xbuf


cdef double _batch_sw(Data *data, const int64_t *order, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t i
    if data.sample_weight == NULL:
        return <double>m
    cdef double s = 0.0
    for i in range(m):
        s += data.sample_weight[order[i]]
    return s


cdef double _epoch(Net *net, Data *data, const int64_t *order, Py_ssize_t n,
                   Py_ssize_t batch_size, double alpha, int adam, double lr, double momentum,
                   int nesterov, double beta_1, double beta_2, double epsilon, long long *t,
                   void **state1, void **state2, floating *dummy) noexcept nogil:
    """One epoch; returns sum over batches of batch_loss * batch_len."""
    cdef Py_ssize_t start, m, l, L = net.n_layers, size
    cdef double acc = 0.0, loss, sw, l2, sq, step_lr
    cdef floating *x0
    start = 0
    while start < n:
        m = batch_size if start + batch_size <= n else n - start
        x0 = _gather(net, data, order + start, m, dummy)
        sw = _batch_sw(data, order + start, m)
        loss = _batch_grad(net, data, x0, m, net.gcoefs, net.gints)
        l2 = alpha / sw
        sq = 0.0
        if adam:
            t[0] += 1
            step_lr = lr * sqrt(1.0 - pow(beta_2, <double>t[0])) / (1.0 - pow(beta_1, <double>t[0]))
        else:
            step_lr = lr
        for l in range(L):
            size = net.units[l] * net.units[l + 1]
            if adam:
                if floating is float:
                    sq += cs_mlp_adam_f32(<float *>net.coefs[l], <float *>net.gcoefs[l],
                                          <float *>state1[l], <float *>state2[l], size, l2,
                                          step_lr, beta_1, beta_2, epsilon)
                    cs_mlp_adam_f32(<float *>net.intercepts[l], <float *>net.gints[l],
                                    <float *>state1[L + l], <float *>state2[L + l],
                                    net.units[l + 1], 0.0, step_lr, beta_1, beta_2, epsilon)
                else:
                    sq += cs_mlp_adam_f64(<double *>net.coefs[l], <double *>net.gcoefs[l],
                                          <double *>state1[l], <double *>state2[l], size, l2,
                                          step_lr, beta_1, beta_2, epsilon)
                    cs_mlp_adam_f64(<double *>net.intercepts[l], <double *>net.gints[l],
                                    <double *>state1[L + l], <double *>state2[L + l],
                                    net.units[l + 1], 0.0, step_lr, beta_1, beta_2, epsilon)
            else:
                if floating is float:
                    sq += cs_mlp_sgd_f32(<float *>net.coefs[l], <float *>net.gcoefs[l],
                                         <float *>state1[l], size, l2, step_lr, momentum,
                                         nesterov)
                    cs_mlp_sgd_f32(<float *>net.intercepts[l], <float *>net.gints[l],
                                   <float *>state1[L + l], net.units[l + 1], 0.0, step_lr,
                                   momentum, nesterov)
                else:
                    sq += cs_mlp_sgd_f64(<double *>net.coefs[l], <double *>net.gcoefs[l],
                                         <double *>state1[l], size, l2, step_lr, momentum,
                                         nesterov)
                    cs_mlp_sgd_f64(<double *>net.intercepts[l], <double *>net.gints[l],
                                   <double *>state1[L + l], net.units[l + 1], 0.0, step_lr,
                                   momentum, nesterov)
        acc += (loss + 0.5 * alpha * sq / sw) * m
        start += m
    return acc


cdef class MLPEngine:
    """Training and inference engine over a fixed set of weight arrays.

    Parameters
    ----------
    coefs, intercepts : list of ndarray
        C-contiguous, writeable arrays of one float dtype, shaped (fan_in, fan_out) and
        (fan_out,). They are referenced, not copied: the epochs update them in place.
    activation : {"identity", "logistic", "tanh", "relu"}
    out_activation : {"softmax", "logistic"}
    batch_rows : int
        The most rows any later call processes at once; buffers are sized for it here.
    n_threads : int
        Threads for the element-wise kernels (BLAS uses its own pool).
    """
    cdef Net net
    cdef object dtype
    cdef bint _f32
    cdef list _keep      # the arrays whose data the Net points to

    def __cinit__(self):
        self.net.units = NULL
        self.net.coefs = NULL
        self.net.intercepts = NULL
        self.net.acts = NULL
        self.net.deltas = NULL
        self.net.gcoefs = NULL
        self.net.gints = NULL

    def __init__(self, list coefs, list intercepts, str activation, str out_activation,
                 Py_ssize_t batch_rows, int n_threads):
        cdef int L = len(coefs), l
        if L < 1 or len(intercepts) != L:
            raise ValueError("coefs and intercepts must be non-empty lists of equal length")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}")
        if out_activation not in ("softmax", "logistic"):
            raise ValueError(f"unknown out_activation {out_activation!r}")
        if batch_rows < 1 or n_threads < 1:
            raise ValueError("batch_rows and n_threads must be >= 1")
        self.dtype = np.dtype(coefs[0].dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TypeError("coefs must be float32 or float64")
        self._f32 = self.dtype == np.float32
        units = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
        for l in range(L):
            self._check(coefs[l], (units[l], units[l + 1]), "coefs")
            self._check(intercepts[l], (units[l + 1],), "intercepts")
        self.net.n_layers = L
        self.net.act = ACTIVATIONS[activation]
        self.net.softmax_out = out_activation == "softmax"
        self.net.n_threads = n_threads
        self.net.batch_rows = batch_rows
        self.net.units = <Py_ssize_t *>malloc((L + 1) * sizeof(Py_ssize_t))
        self.net.coefs = <void **>malloc(6 * L * sizeof(void *))
        if self.net.units == NULL or self.net.coefs == NULL:
            raise MemoryError()
        self.net.intercepts = self.net.coefs + L
        self.net.acts = self.net.coefs + 2 * L
        self.net.deltas = self.net.coefs + 3 * L
        self.net.gcoefs = self.net.coefs + 4 * L
        self.net.gints = self.net.coefs + 5 * L
        for l in range(L + 1):
            self.net.units[l] = units[l]
        acts = [np.empty((batch_rows, u), self.dtype) for u in units[1:]]
        deltas = [np.empty((batch_rows, u), self.dtype) for u in units[1:]]
        gcoefs = [np.empty_like(c) for c in coefs]
        gints = [np.empty_like(b) for b in intercepts]
        for l in range(L):
            self.net.coefs[l] = _ptr(coefs[l])
            self.net.intercepts[l] = _ptr(intercepts[l])
            self.net.acts[l] = _ptr(acts[l])
            self.net.deltas[l] = _ptr(deltas[l])
            self.net.gcoefs[l] = _ptr(gcoefs[l])
            self.net.gints[l] = _ptr(gints[l])
        xbuf = np.empty((batch_rows, units[0]), self.dtype)
        ybuf = np.empty((batch_rows, units[L]), self.dtype)
        yidx = np.empty(batch_rows, np.int64)
        rows = np.empty(batch_rows, np.int64)
        wbuf = np.empty(batch_rows, np.float64)
        loss_rows = np.empty(batch_rows, np.float64)
        colacc = np.empty(max(units), np.float64)
        self.net.xbuf = _ptr(xbuf)
        self.net.ybuf = _ptr(ybuf)
        self.net.yidx = <int64_t *>_ptr(yidx)
        self.net.rows = <int64_t *>_ptr(rows)
        self.net.wbuf = <double *>_ptr(wbuf)
        self.net.loss_rows = <double *>_ptr(loss_rows)
        self.net.colacc = <double *>_ptr(colacc)
        self._keep = [coefs, intercepts, acts, deltas, gcoefs, gints, xbuf, ybuf, yidx, rows,
                      wbuf, loss_rows, colacc]

    def __dealloc__(self):
        free(self.net.units)
        free(self.net.coefs)

    def _check(self, a, shape, name):
        if not isinstance(a, np.ndarray) or a.dtype != self.dtype or a.shape != shape:
            raise ValueError(f"{name}: expected a {self.dtype} array of shape {shape}")
        if not (a.flags.c_contiguous and a.flags.writeable):
            raise ValueError(f"{name}: arrays must be C-contiguous and writeable")

    cdef Py_ssize_t _data(self, Data *d, X, y, sample_weight, list keep) except -1:
        """Fill d from Python objects (validated and converted here, once per call)."""
        cdef Py_ssize_t n = X.shape[0], n_out = self.net.units[self.net.n_layers]
        if X.ndim != 2 or X.shape[1] != self.net.units[0]:
            raise ValueError(f"X must have {self.net.units[0]} columns")
        d.x = NULL
        d.csr_data = NULL
        d.csr_indices = NULL
        d.csr_indptr = NULL
        d.y_idx = NULL
        d.y = NULL
        d.sample_weight = NULL
        if hasattr(X, "indptr"):
            if X.format != "csr":
                raise ValueError("sparse X must be CSR")
            data = np.ascontiguousarray(X.data, dtype=self.dtype)
            indices = np.ascontiguousarray(X.indices, dtype=np.int64)
            indptr = np.ascontiguousarray(X.indptr, dtype=np.int64)
            if indices.size and (indices.min() < 0 or indices.max() >= self.net.units[0]):
                raise ValueError("X has column indices out of range")
            keep += [data, indices, indptr]
            d.csr_data = _ptr(data)
            d.csr_indices = <int64_t *>_ptr(indices)
            d.csr_indptr = <int64_t *>_ptr(indptr)
        else:
            self._check_input(X, (n, self.net.units[0]), self.dtype, "X")
            d.x = _ptr(X)
        if y is not None:
            if self.net.softmax_out:
                y = np.ascontiguousarray(y, dtype=np.int64)
                if y.shape != (n,) or (n and (y.min() < 0 or y.max() >= n_out)):
                    raise ValueError(f"y must be ({n},) class indices in [0, {n_out})")
                d.y_idx = <int64_t *>_ptr(y)
            else:
                y = np.ascontiguousarray(y, dtype=self.dtype)
                if y.shape != (n, n_out):
                    raise ValueError(f"y must have shape {(n, n_out)}")
                d.y = _ptr(y)
            keep.append(y)
        if sample_weight is not None:
            sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != (n,):
                raise ValueError(f"sample_weight must have shape ({n},)")
            keep.append(sample_weight)
            d.sample_weight = <double *>_ptr(sample_weight)
        return n

    def _check_input(self, a, shape, dtype, name):
        if not isinstance(a, np.ndarray) or a.dtype != dtype or a.shape != shape:
            raise ValueError(f"{name}: expected a {dtype} array of shape {shape}")
        if not a.flags.c_contiguous:
            raise ValueError(f"{name} must be C-contiguous")

    def forward(self, X, out):
        """Write the output layer's pre-activation values (logits) of X's rows to out."""
        cdef Data d
        cdef list keep = []
        cdef Py_ssize_t n = self._data(&d, X, None, None, keep)
        cdef Py_ssize_t start, m, i, br = self.net.batch_rows
        cdef Py_ssize_t n_out = self.net.units[self.net.n_layers], f = self.net.units[0]
        self._check(out, (n, n_out), "out")
        cdef char *o = <char *>_ptr(out)
        cdef size_t es = self.dtype.itemsize
        with nogil:
            start = 0
            while start < n:
                m = br if start + br <= n else n - start
                for i in range(m):
                    self.net.rows[i] = start + i
                if self._f32:
                    _forward_batch[float](&self.net, &d,
                                          NULL if d.x == NULL else <float *>d.x + start * f, m,
                                          <float *>(o + start * n_out * es))
                else:
                    _forward_batch[double](&self.net, &d,
                                           NULL if d.x == NULL else <double *>d.x + start * f,
                                           m, <double *>(o + start * n_out * es))
                start += m
        return out

    def loss_grad(self, X, y, sample_weight, double alpha, list coef_grads,
                  list intercept_grads):
        """Full-batch objective and its gradient (as scikit-learn's _backprop)."""
        cdef Data d
        cdef list keep = []
        cdef Py_ssize_t n = self._data(&d, X, y, sample_weight, keep), l
        cdef int L = self.net.n_layers
        if n > self.net.batch_rows or n < 1:
            raise ValueError(f"loss_grad takes 1 to {self.net.batch_rows} rows; got {n}")
        for l in range(L):
            self._check(coef_grads[l], (self.net.units[l], self.net.units[l + 1]), "coef_grads")
            self._check(intercept_grads[l], (self.net.units[l + 1],), "intercept_grads")
        order = np.arange(n, dtype=np.int64)
        cdef int64_t *o = <int64_t *>_ptr(order)
        cdef void **gc = <void **>malloc(2 * L * sizeof(void *))
        if gc == NULL:
            raise MemoryError()
        for l in range(L):
            gc[l] = _ptr(coef_grads[l])
            gc[L + l] = _ptr(intercept_grads[l])
        cdef double loss, sw, sq = 0.0
        try:
            with nogil:
                sw = _batch_sw(&d, o, n)
                if self._f32:
                    loss = _batch_grad[float](&self.net, &d, _gather[float](&self.net, &d, o, n, NULL),
                                              n, gc, gc + L)
                    for l in range(L):
                        sq += cs_mlp_l2_f32(<float *>self.net.coefs[l], <float *>gc[l],
                                            self.net.units[l] * self.net.units[l + 1],
                                            alpha / sw)
                else:
                    loss = _batch_grad[double](&self.net, &d, _gather[double](&self.net, &d, o, n, NULL),
                                               n, gc, gc + L)
                    for l in range(L):
                        sq += cs_mlp_l2_f64(<double *>self.net.coefs[l], <double *>gc[l],
                                            self.net.units[l] * self.net.units[l + 1],
                                            alpha / sw)
        finally:
            free(gc)
        return loss + 0.5 * alpha * sq / sw

    def _run_epoch(self, X, y, sample_weight, order, Py_ssize_t batch_size, double alpha,
                   int adam, double lr, double momentum, int nesterov, double beta_1,
                   double beta_2, double epsilon, long long t, list state1, list state2):
        cdef Data d
        cdef list keep = []
        cdef Py_ssize_t n = self._data(&d, X, y, sample_weight, keep), l
        cdef int L = self.net.n_layers
        order = np.ascontiguousarray(order, dtype=np.int64)
        if order.ndim != 1 or (order.size and (order.min() < 0 or order.max() >= n)):
            raise ValueError("order must be a 1-D array of row numbers of X")
        if batch_size < 1 or batch_size > self.net.batch_rows:
            raise ValueError(f"batch_size must be in [1, {self.net.batch_rows}]")
        cdef int64_t *o = <int64_t *>_ptr(order)
        cdef Py_ssize_t n_order = order.shape[0]
        cdef void **st = <void **>malloc(4 * L * sizeof(void *))
        if st == NULL:
            raise MemoryError()
        for l in range(L):
            self._check(state1[l], (self.net.units[l], self.net.units[l + 1]), "state")
            self._check(state1[L + l], (self.net.units[l + 1],), "state")
            st[l] = _ptr(state1[l])
            st[L + l] = _ptr(state1[L + l])
            if adam:
                self._check(state2[l], (self.net.units[l], self.net.units[l + 1]), "state")
                self._check(state2[L + l], (self.net.units[l + 1],), "state")
                st[2 * L + l] = _ptr(state2[l])
                st[3 * L + l] = _ptr(state2[L + l])
        cdef double acc
        try:
            with nogil:
                if self._f32:
                    acc = _epoch[float](&self.net, &d, o, n_order, batch_size, alpha, adam, lr,
                                        momentum, nesterov, beta_1, beta_2, epsilon, &t, st,
                                        st + 2 * L, NULL)
                else:
                    acc = _epoch[double](&self.net, &d, o, n_order, batch_size, alpha, adam, lr,
                                         momentum, nesterov, beta_1, beta_2, epsilon, &t, st,
                                         st + 2 * L, NULL)
        finally:
            free(st)
        return acc, t

    def sgd_epoch(self, X, y, sample_weight, order, batch_size, alpha, learning_rate, momentum,
                  nesterov, velocities):
        """One epoch of minibatch SGD; returns sum of batch_loss * batch_len."""
        acc, _ = self._run_epoch(X, y, sample_weight, order, batch_size, alpha, 0,
                                 learning_rate, momentum, bool(nesterov), 0.0, 0.0, 0.0, 0,
                                 list(velocities), None)
        return acc

    def adam_epoch(self, X, y, sample_weight, order, batch_size, alpha, learning_rate_init,
                   beta_1, beta_2, epsilon, t, ms, vs):
        """One epoch of minibatch Adam; returns (sum of batch_loss * batch_len, new t)."""
        return self._run_epoch(X, y, sample_weight, order, batch_size, alpha, 1,
                               learning_rate_init, 0.0, 0, beta_1, beta_2, epsilon, t,
                               list(ms), list(vs))


cdef void *_ptr(a) except NULL:
    """Data pointer of a NumPy array (callers keep the array alive)."""
    cdef size_t addr = a.ctypes.data
    if addr == 0:
        # Zero-size arrays may have no storage; hand out a valid dummy address.
        return <void *>_ptr_dummy
    return <void *>addr


cdef double _ptr_dummy_storage[1]
cdef void *_ptr_dummy = <void *>_ptr_dummy_storage
