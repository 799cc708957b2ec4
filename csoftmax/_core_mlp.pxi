# csoftmax._core: the MLP engine and its optimizer (cs_optim.h, cs_mlp.h). Included by
# _core.pyx.

ACTIVATIONS = {
    "identity": CS_ACT_IDENTITY,
    "logistic": CS_ACT_LOGISTIC,
    "tanh": CS_ACT_TANH,
    "relu": CS_ACT_RELU,
}
_OPTIMIZERS = {"sgd": CS_OPTIM_SGD, "adam": CS_OPTIM_ADAM}
_DATA_ERROR = ("the MLP engine (sizes, batch size, alpha, or a row number, label or CSR index "
               "out of range)")


cdef cs_blas _BLAS
_BLAS.sgemm = NULL
_BLAS.dgemm = NULL
_BLAS.sgemv = NULL
_BLAS.dgemv = NULL
_BLAS.set_threads = NULL
_BLAS.get_threads = NULL

# OpenBLAS's thread-count functions, under the names of its builds (SciPy's wheels prefix
# theirs with scipy_, and the ILP64 ones suffix 64_).
_BLAS_THREAD_FUNCTIONS = [
    (prefix + "openblas_set_num_threads" + suffix, prefix + "openblas_get_num_threads" + suffix)
    for prefix in ("scipy_", "") for suffix in ("", "64_")
]


def _blas_thread_functions(size_t address):
    """Addresses of (set, get) thread-count functions of the BLAS holding the function at
    `address`, or (0, 0) when it is not an OpenBLAS found by dladdr (then engines leave the
    products to BLAS's own threads)."""
    import ctypes

    class DlInfo(ctypes.Structure):
        _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p),
                    ("sname", ctypes.c_char_p), ("saddr", ctypes.c_void_p)]

    try:
        dladdr = ctypes.CDLL(None).dladdr
        info = DlInfo()
        if not dladdr(ctypes.c_void_p(address), ctypes.byref(info)) or not info.fname:
            return 0, 0
        lib = ctypes.CDLL(info.fname.decode())
    except (AttributeError, OSError, TypeError):  # not POSIX, or not a shared library
        return 0, 0
    for set_name, get_name in _BLAS_THREAD_FUNCTIONS:
        if hasattr(lib, set_name) and hasattr(lib, get_name):
            return (ctypes.cast(getattr(lib, set_name), ctypes.c_void_p).value,
                    ctypes.cast(getattr(lib, get_name), ctypes.c_void_p).value)
    return 0, 0


cdef cs_blas _blas() except *:
    """scipy.linalg.cython_blas's sgemm and dgemm, looked up when the first engine is built
    (a cimport would import scipy.linalg, about 0.3 s, with every `import csoftmax`), and
    the thread-count functions of the BLAS they belong to, when it is OpenBLAS."""
    global _BLAS
    cdef size_t set_fn, get_fn
    if _BLAS.sgemm == NULL:
        from scipy.linalg import cython_blas

        s, d = cython_blas.__pyx_capi__["sgemm"], cython_blas.__pyx_capi__["dgemm"]
        _BLAS.dgemm = <cs_dgemm_fn>PyCapsule_GetPointer(d, PyCapsule_GetName(d))
        _BLAS.sgemm = <cs_sgemm_fn>PyCapsule_GetPointer(s, PyCapsule_GetName(s))
        s, d = cython_blas.__pyx_capi__["sgemv"], cython_blas.__pyx_capi__["dgemv"]
        _BLAS.dgemv = <cs_dgemv_fn>PyCapsule_GetPointer(d, PyCapsule_GetName(d))
        _BLAS.sgemv = <cs_sgemv_fn>PyCapsule_GetPointer(s, PyCapsule_GetName(s))
        set_fn, get_fn = _blas_thread_functions(<size_t>_BLAS.sgemm)
        if set_fn and get_fn:
            _BLAS.set_threads = <cs_set_threads_fn>set_fn
            _BLAS.get_threads = <cs_get_threads_fn>get_fn
    return _BLAS


def blas_threads_controlled():
    """Whether engines can set the BLAS to one thread and split the products themselves."""
    return _blas().set_threads != NULL


cdef void *_ptr(a, dtype, shape, str name, bint writeable=False) except NULL:
    """Data pointer of `a`, which must be a C-contiguous, aligned ndarray of `dtype` and
    `shape` (None in `shape` matches any length). The caller keeps `a` alive."""
    if not isinstance(a, np.ndarray) or a.dtype != dtype or len(a.shape) != len(shape) or any(
        s is not None and s != t for s, t in zip(shape, a.shape)
    ):
        raise ValueError(f"{name}: expected a {np.dtype(dtype)} array of shape {tuple(shape)}")
    if not (a.flags.c_contiguous and a.flags.aligned) or (writeable and not a.flags.writeable):
        raise ValueError(f"{name}: expected a C-contiguous, aligned"
                         + (", writeable" if writeable else "") + " array")
    return cnp.PyArray_DATA(<cnp.ndarray>a)


cdef class Optimizer:
    """SGD or Adam: its hyper-parameters and scalar state (a cs_optim, see cs_optim.h), and
    `state`, the list of its per-parameter arrays (2 per layer for SGD's velocities, 4 for
    Adam's moments; coefs first, then intercepts). Picklable."""
    cdef cs_optim opt
    cdef public list state

    def __init__(self, str kind, list state, long long t=0, **hyperparameters):
        h = dict(learning_rate=1e-3, momentum=0.0, nesterov=False, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8)
        unknown = set(hyperparameters) - set(h)
        if unknown:
            raise TypeError(f"unknown hyper-parameters {sorted(unknown)}")
        h.update(hyperparameters)
        self.opt.kind = _OPTIMIZERS[kind]
        self.opt.learning_rate = h["learning_rate"]
        self.opt.momentum = h["momentum"]
        self.opt.nesterov = h["nesterov"]
        self.opt.beta_1 = h["beta_1"]
        self.opt.beta_2 = h["beta_2"]
        self.opt.epsilon = h["epsilon"]
        self.opt.t = t
        self.state = state

    @property
    def kind(self):
        return "adam" if self.opt.kind == CS_OPTIM_ADAM else "sgd"

    @property
    def t(self):
        """Adam's step count."""
        return self.opt.t

    @property
    def learning_rate(self):
        """SGD's current rate; Adam's bias-corrected rate of its last step."""
        return cs_optim_learning_rate(&self.opt)

    @learning_rate.setter
    def learning_rate(self, double value):
        if self.opt.kind != CS_OPTIM_SGD:
            raise AttributeError("Adam's learning rate follows from its step count")
        self.opt.learning_rate = value

    @property
    def hyperparameters(self):
        """learning_rate (SGD's current rate, Adam's initial one), momentum, nesterov,
        beta_1, beta_2 and epsilon."""
        o = self.opt
        return dict(learning_rate=o.learning_rate, momentum=o.momentum,
                    nesterov=bool(o.nesterov), beta_1=o.beta_1, beta_2=o.beta_2,
                    epsilon=o.epsilon)

    def __reduce__(self):
        return (_rebuild_optimizer, (self.kind, self.state, self.hyperparameters, self.opt.t))


def _rebuild_optimizer(kind, state, hyperparameters, t):
    return Optimizer(kind, state, t, **hyperparameters)


def _describe(a):
    if isinstance(a, np.ndarray):
        return f"a {a.ndim}-D array of shape {a.shape}"
    return f"a {type(a).__name__}"


cdef list _layer_units(list coefs, list intercepts):
    """[fan_in, fan_out of each layer], once the fitted state is checked to be what the
    engine reads: coefs_ 2-D arrays whose shapes chain layer to layer, intercepts_ 1-D
    arrays of their layer's fan_out, every layer with at least one unit. A tampered or
    corrupted model gives a ValueError naming the attribute, never a read out of bounds."""
    units = []
    for l, c in enumerate(coefs):
        if not isinstance(c, np.ndarray) or c.ndim != 2:
            raise ValueError(f"coefs_[{l}] must be a 2-D (fan_in, fan_out) array; got "
                             f"{_describe(c)}")
        if l and c.shape[0] != units[l]:
            raise ValueError(f"coefs_[{l}] has shape {c.shape}, but the layer before it has "
                             f"{units[l]} units: the shapes of coefs_ must chain")
        if not l:
            units.append(c.shape[0])
        units.append(c.shape[1])
    for l, b in enumerate(intercepts):
        if not isinstance(b, np.ndarray) or b.shape != (units[l + 1],):
            raise ValueError(f"intercepts_[{l}] must be a 1-D array of shape ({units[l + 1]},)"
                             f", the fan_out of coefs_[{l}]; got {_describe(b)}")
    if min(units) < 1:
        raise ValueError(f"every layer needs at least one unit; coefs_ give {units}")
    if any(c.dtype != coefs[0].dtype for c in coefs + intercepts):
        raise ValueError("coefs_ and intercepts_ must all have one dtype; got "
                         f"{sorted({str(c.dtype) for c in coefs + intercepts})}")
    return units


cdef class MLPEngine:
    """A cs_mlp engine over the parameter arrays `coefs` (fan_in, fan_out) and `intercepts`
    (fan_out,): C-contiguous, writeable, of one float dtype, referenced (the epochs update
    them in place), with scratch for batches of up to `batch_rows` rows.

    The matrix products are split over the engine's `n_threads` too, with BLAS set to one
    thread for the call, when its thread count can be set (see `blas_threads_controlled`);
    otherwise BLAS's own threads do them."""
    cdef cs_mlp *net
    cdef readonly object dtype
    cdef list params
    cdef list units
    cdef Py_ssize_t n_out
    cdef bint softmax_out
    cdef bint busy  # a call is running: the engine's scratch serves one call at a time
    cdef readonly Py_ssize_t rows_done  # by the finished batches of the last epoch call

    def __cinit__(self, list coefs, list intercepts, str activation, str out_activation,
                  Py_ssize_t batch_rows, int n_threads, bint gather_dense=False):
        cdef Py_ssize_t L = len(coefs), l
        if L < 1 or len(intercepts) != L:
            raise ValueError("coefs and intercepts must be non-empty lists of equal length")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}")
        if out_activation not in ("softmax", "logistic"):
            raise ValueError(f"unknown out_activation {out_activation!r}")
        self.units = _layer_units(coefs, intercepts)
        self.dtype = coefs[0].dtype
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"coefs must be float32 or float64 arrays; got {self.dtype}")
        self.n_out = self.units[L]
        self.params = list(coefs) + list(intercepts)
        self.softmax_out = out_activation == "softmax"
        cdef ptrdiff_t *units = <ptrdiff_t *>malloc((L + 1) * sizeof(ptrdiff_t))
        cdef void **ptrs = <void **>malloc(2 * L * sizeof(void *))
        cdef cs_mlp_spec spec
        cdef cs_blas blas
        cdef int status
        try:
            if units == NULL or ptrs == NULL:
                raise MemoryError()
            for l in range(L + 1):
                units[l] = self.units[l]
            for l in range(L):
                ptrs[l] = _ptr(coefs[l], self.dtype, self.units[l:l + 2], "coefs", True)
                ptrs[L + l] = _ptr(intercepts[l], self.dtype, self.units[l + 1:l + 2], "intercepts",
                                  True)
            spec.dtype = CS_FLOAT32 if self.dtype == np.float32 else CS_FLOAT64
            spec.n_layers = <int>L
            spec.units = units
            spec.activation = ACTIVATIONS[activation]
            spec.softmax_out = self.softmax_out
            spec.batch_rows = batch_rows
            spec.gather_dense = gather_dense
            spec.n_threads = n_threads
            spec.split_gemm = 1
            blas = _blas()
            with nogil:
                status = cs_mlp_create(&self.net, &spec, ptrs, blas)
            _raise_for(status, "MLPEngine")
        finally:
            free(units)
            free(ptrs)

    def __dealloc__(self):
        cs_mlp_free(self.net)

    cdef int _data(self, cs_mlp_data *d, X, y, sample_weight, order) except -1:
        """Point d at the arrays (the caller keeps them alive)."""
        cdef Py_ssize_t n = X.shape[0], n_in = self.units[0], n_out = self.n_out
        d.n_rows = n
        d.x = d.csr_data = d.y = NULL
        d.csr_indices = d.csr_indptr = d.y_idx = d.order = NULL
        d.sample_weight = NULL
        d.n_order = d.csr_nnz = 0
        if isinstance(X, np.ndarray):
            d.x = _ptr(X, self.dtype, (n, n_in), "X")
        else:  # CSR, from csoftmax.neural_network._engine
            d.csr_indptr = <int64_t *>_ptr(X.indptr, np.int64, (n + 1,), "X.indptr")
            d.csr_indices = <int64_t *>_ptr(X.indices, np.int64, (None,), "X.indices")
            d.csr_data = _ptr(X.data, self.dtype, (X.indices.shape[0],), "X.data")
            d.csr_nnz = X.indices.shape[0]
            if X.shape[1] != n_in or X.indptr[n] > X.indices.shape[0]:
                raise ValueError("X: inconsistent CSR matrix")
        if y is not None and self.softmax_out:
            d.y_idx = <int64_t *>_ptr(y, np.int64, (n,), "y")
        elif y is not None:
            d.y = _ptr(y, self.dtype, (n, n_out), "y")
        if sample_weight is not None:
            d.sample_weight = <double *>_ptr(sample_weight, np.float64, (n,), "sample_weight")
        if order is not None:
            d.order = <int64_t *>_ptr(order, np.int64, (None,), "order")
            d.n_order = order.shape[0]
        return 0

    cdef void **_pointers(self, list arrays, Py_ssize_t n_sets, str name) except NULL:
        """malloc'ed table of the data pointers of n_sets lists shaped like the params."""
        cdef Py_ssize_t P = len(self.params), i
        if len(arrays) != n_sets * P:
            raise ValueError(f"{name}: expected {n_sets * P} arrays shaped like the parameters")
        cdef void **table = <void **>malloc(max(1, len(arrays)) * sizeof(void *))
        if table == NULL:
            raise MemoryError()
        try:
            for i in range(len(arrays)):
                table[i] = _ptr(arrays[i], self.dtype, self.params[i % P].shape, name, True)
        except BaseException:
            free(table)
            raise
        return table

    def forward(self, X, out):
        """Write the output layer's pre-activation values (logits) of X's rows to out."""
        cdef cs_mlp_data d
        cdef int status
        self._data(&d, X, None, None, None)
        cdef void *o = _ptr(out, self.dtype, (X.shape[0], self.n_out), "out", True)
        self._enter()
        try:
            with nogil:
                status = cs_mlp_forward(self.net, &d, o)
        finally:
            self.busy = False
        _raise_for(status, _DATA_ERROR)
        return out

    def loss_grad(self, X, y, sample_weight, double alpha, list grads):
        """Full-batch objective, with its gradient written to grads (coefs, then
        intercepts), as scikit-learn's MLP defines them."""
        cdef cs_mlp_data d
        cdef int status
        cdef double loss = 0.0
        self._data(&d, X, y, sample_weight, None)
        cdef void **g = self._pointers(grads, 1, "grads")
        self._enter()
        try:
            with nogil:
                status = cs_mlp_loss_grad(self.net, &d, alpha, g, &loss)
        finally:
            self.busy = False
            free(g)
        _raise_for(status, _DATA_ERROR)
        return loss

    cdef int _enter(self) except -1:
        if self.busy:
            raise RuntimeError("this MLPEngine is running a call in another thread; an engine "
                               "serves one call at a time")
        self.busy = True
        return 0

    def epoch(self, X, y, sample_weight, order, Py_ssize_t batch_size, double alpha,
              Optimizer optimizer not None, SigintGuard guard=None):
        """One epoch over the rows `order` of X; returns the sum over the minibatches of the
        batch objective times the batch length.

        With a `guard` that catches Ctrl-C, the epoch stops at the first batch boundary after
        SIGINT arrives and calls guard.check(): KeyboardInterrupt (from Python's handler)
        leaves the parameters and the optimizer state as the finished batches made them,
        and `rows_done` says how many rows those batches held; a handler that does not raise
        lets the epoch go on, with the bits of an epoch never stopped."""
        cdef cs_mlp_data d
        cdef cs_mlp_progress run
        cdef int status
        self._data(&d, X, y, sample_weight, order)
        cdef Py_ssize_t n_visits = d.n_order if order is not None else d.n_rows
        cdef void **st = self._pointers(optimizer.state,
                                        2 if optimizer.opt.kind == CS_OPTIM_ADAM else 1,
                                        "optimizer.state")
        run.n_done = 0
        run.loss_sum = 0.0
        self.rows_done = 0
        self._enter()
        try:
            while True:
                run.stop = cs_sigint_flag() if guard is not None and guard.active else NULL
                with nogil:
                    status = cs_mlp_epoch(self.net, &d, batch_size, alpha, &optimizer.opt, st,
                                          &run)
                self.rows_done = run.n_done
                if status != CS_OK or run.n_done == n_visits:
                    break
                guard.check()  # stopped by SIGINT: KeyboardInterrupt, or go on
        finally:
            self.busy = False
            free(st)
        _raise_for(status, _DATA_ERROR)
        return run.loss_sum


cdef class SigintGuard:
    """Ctrl-C for computations that stop at a point where their state is whole (an epoch
    of MLPEngine between two batches), as a context manager.

    Entered in the main thread while Python handles SIGINT, it installs a C handler that
    only sets a flag (cs_interrupt.h), which such computations read, and which check() and
    the exit hand to Python's handler: KeyboardInterrupt is then raised there and nowhere
    else. Elsewhere (another thread, where Python never runs signal handlers; SIGINT
    ignored, or not handled by Python) it does nothing, and computations run to their end.
    """
    cdef readonly bint active

    def __enter__(self):
        import threading

        import _signal  # signal.getsignal's own function, without its enum conversion

        if (threading.current_thread() is threading.main_thread()
                and callable(_signal.getsignal(SIGINT))):
            self.active = cs_sigint_catch()
        return self

    def __exit__(self, exc_type, exc, traceback):
        if self.active:
            self.active = False
            if cs_sigint_release():
                _deliver_sigint(exc_type is None)
        return False

    @property
    def pending(self):
        """Whether SIGINT arrived and was not handed on yet."""
        return self.active and cs_sigint_flag()[0] != 0

    def check(self):
        """When SIGINT arrived: hand it to the handler the guard replaced (Python's default
        one raises KeyboardInterrupt), then, if that returns, catch Ctrl-C again."""
        if not self.pending:
            return
        self.active = False
        cs_sigint_release()
        _deliver_sigint(True)
        self.active = cs_sigint_catch()


cdef int _deliver_sigint(bint now) except -1:
    """Send SIGINT again, now that its handler is back in place; with `now`, run Python's
    handler at once (raising what it raises), else at Python's next check."""
    c_raise(SIGINT)
    if now:
        PyErr_CheckSignals()
    return 0
