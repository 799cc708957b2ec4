"""csoftmax's one compiled extension: thin wrappers over the C kernels of src_c/.

Design: one entry per operation. An entry takes ndarrays, checks in C that they are in
its kernel's layout (shapes, dtype, contiguity, outputs writeable and apart from the
inputs), so that no call reads or writes out of bounds, releases the GIL for one C call
and maps the returned status to an exception. The public Python modules validate and
convert everything else, and resolve the thread count, which the entries pass on
unchanged. Inputs are only read, so read-only and memory-mapped arrays are accepted.
The extension holds the one SIMD state (cs_dispatch.h).
"""
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer

cimport numpy as cnp
import numpy as np

cnp.import_array()
cs_parallel_init()  # a child forked after a parallel kernel ran will run serially


cdef int _raise_for(int status, str what="a kernel") except -1:
    if status == CS_ENOMEM:
        raise MemoryError(f"csoftmax: {what} could not allocate its memory")
    if status != CS_OK:
        raise ValueError(f"csoftmax: {what} rejected its arguments (status {status})")
    return 0


# ---- SIMD path and threads ----------------------------------------------------------------

def simd_supported():
    """Best SIMD level of this CPU: an index into simd_names()."""
    return cs_simd_supported()


def simd_level():
    """SIMD level in use."""
    return cs_simd_level()


def simd_names():
    """The names of the SIMD levels, by level."""
    return tuple(cs_simd_name(i).decode() for i in range(CS_SIMD_N_LEVELS))


def simd_parse(str name):
    """Level named `name`: -1 for "auto", -2 for a name that is not a level."""
    return cs_simd_parse(name.encode())


def set_simd_level(int level):
    """Use SIMD level `level` (-1: the best supported); ValueError if the CPU lacks it."""
    _raise_for(cs_simd_set_level(level))


def max_threads():
    """OpenMP's default team size here (1 without OpenMP, or in a fork child that must run
    serially)."""
    return cs_max_threads()


def cast_f64_f32(const double[::1] x not None, float[::1] out not None, int n_threads,
                 bint fresh=False):
    """out[:] = x as float32, in one pass that also reports whether every value came out
    finite (cs_cast.h): True, or False for a NaN, an infinity or a value beyond float32.
    ``fresh=True`` says that out was just allocated for this cast and never written: it is
    then advised to be backed by small pages first (cs_advise_small_pages)."""
    if x.shape[0] != out.shape[0]:
        raise ValueError(f"csoftmax: array shapes {x.shape[0]} and {out.shape[0]} do not match")
    cdef int finite = 1
    if x.shape[0]:
        with nogil:
            if fresh:
                cs_advise_small_pages(&out[0], <size_t>out.shape[0] * sizeof(float))
            cs_cast_f64_f32(&x[0], &out[0], &finite, x.shape[0], n_threads)
    return bool(finite)


def all_finite(x, int n_threads):
    """Whether every value of x, a C-contiguous float32 or float64 ndarray in native byte
    order, is finite (cs_check_finite_*): one pass, no temporary array, no warning."""
    if not (_plain(x, 0, cnp.NPY_FLOAT, NULL) or _plain(x, 0, cnp.NPY_DOUBLE, NULL)):
        raise ValueError("csoftmax: all_finite takes a C-contiguous float32 or float64 array")
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int finite = 1
    cdef ptrdiff_t n = cnp.PyArray_SIZE(a)
    cdef void *p = cnp.PyArray_DATA(a)
    with nogil:
        if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT:
            cs_check_finite_f32(<const float *>p, &finite, n, n_threads)
        else:
            cs_check_finite_f64(<const double *>p, &finite, n, n_threads)
    return bool(finite)


def openmp_enabled():
    """Whether this build has OpenMP (False: every kernel runs on the calling thread)."""
    return bool(cs_openmp_enabled())


cdef extern from *:
    """
    #if defined(__clang__) && defined(_MSC_VER)
    #define CS_COMPILER "clang-cl " __clang_version__
    #elif defined(__apple_build_version__)
    #define CS_COMPILER "apple-clang " __clang_version__
    #elif defined(__clang__)
    #define CS_COMPILER "clang " __clang_version__
    #elif defined(__GNUC__)
    #define CS_COMPILER "gcc " __VERSION__
    #else
    #define CS_COMPILER "unknown"
    #endif
    """
    const char *CS_COMPILER


def compiler():
    """The compiler that built this extension, with its version."""
    return CS_COMPILER.decode().strip()


# ---- softmax family (cs_softmax.h) and cross-entropy (cs_xent.h) -------------------------
#
# One entry per operation: `rows` (softmax, log_softmax and their VJPs), `softmax_jacobian`
# and `cross_entropy`. Each checks in C, before any read, that the arrays are in the
# kernel's layout: exact ndarrays, C-contiguous, native byte order, of the kernel's dtype
# and of matching shapes, outputs writeable and apart from every input (or, where the
# kernel allows it, the very same memory). csoftmax.functional and csoftmax.losses call
# them with the user's arrays first: the commonest call is already in that layout and
# costs no conversion. Anything else gets None back and is validated and converted there,
# then passed to the same entry, where it is in the layout.

cdef enum:
    _SOFTMAX, _LOG_SOFTMAX, _SOFTMAX_VJP, _LOG_SOFTMAX_VJP

ROW_SOFTMAX, ROW_LOG_SOFTMAX = _SOFTMAX, _LOG_SOFTMAX
ROW_SOFTMAX_VJP, ROW_LOG_SOFTMAX_VJP = _SOFTMAX_VJP, _LOG_SOFTMAX_VJP

REDUCTIONS = {"none": CS_REDUCE_NONE, "sum": CS_REDUCE_SUM, "mean": CS_REDUCE_MEAN}
#: The ignore_index that ignores no label (the labels are checked to be classes first).
NO_IGNORE = CS_XENT_NO_IGNORE


cdef inline bint _plain(object a, int ndim, int typenum, cnp.npy_intp *shape):
    """a is an exact ndarray, C-contiguous, in native byte order, of this typenum and (when
    shape is not NULL) of this ndim and shape."""
    if type(a) is not np.ndarray:
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if (cnp.PyArray_TYPE(arr) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(arr)
            or not cnp.PyArray_ISNOTSWAPPED(arr)):
        return False
    if shape == NULL:
        return True
    if cnp.PyArray_NDIM(arr) != ndim:
        return False
    cdef int k
    for k in range(ndim):
        if cnp.PyArray_DIMS(arr)[k] != shape[k]:
            return False
    return True


cdef inline bint _writeable(object out, int ndim, int typenum, cnp.npy_intp *shape):
    return _plain(out, ndim, typenum, shape) and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out)


cdef inline bint _apart(object a, object b):
    """a and b (C-contiguous ndarrays, or None) share no byte."""
    if a is None or b is None:
        return True
    cdef char *pa = <char *>cnp.PyArray_DATA(<cnp.ndarray>a)
    cdef char *pb = <char *>cnp.PyArray_DATA(<cnp.ndarray>b)
    return (pa + cnp.PyArray_NBYTES(<cnp.ndarray>a) <= pb
            or pb + cnp.PyArray_NBYTES(<cnp.ndarray>b) <= pa)


cdef inline bint _same_or_apart(object a, object b):
    """a and b (C-contiguous ndarrays of one shape and dtype) are the same memory exactly,
    or share none."""
    return cnp.PyArray_DATA(<cnp.ndarray>a) == cnp.PyArray_DATA(<cnp.ndarray>b) or _apart(a, b)


cdef int _row_kernel(int op, bint f32, const void *x, const void *dy, void *out, ptrdiff_t n,
                     ptrdiff_t c, int n_threads) noexcept nogil:
    if op == _SOFTMAX:
        return (cs_softmax_f32(<const float *>x, <float *>out, n, c, n_threads) if f32 else
                cs_softmax_f64(<const double *>x, <double *>out, n, c, n_threads))
    if op == _LOG_SOFTMAX:
        return (cs_log_softmax_f32(<const float *>x, <float *>out, n, c, n_threads) if f32
                else cs_log_softmax_f64(<const double *>x, <double *>out, n, c, n_threads))
    if op == _SOFTMAX_VJP:
        return (cs_softmax_vjp_f32(<const float *>x, <const float *>dy, <float *>out, n, c,
                                   n_threads) if f32 else
                cs_softmax_vjp_f64(<const double *>x, <const double *>dy, <double *>out, n,
                                   c, n_threads))
    if op == _LOG_SOFTMAX_VJP:
        return (cs_log_softmax_vjp_f32(<const float *>x, <const float *>dy, <float *>out, n,
                                       c, n_threads) if f32 else
                cs_log_softmax_vjp_f64(<const double *>x, <const double *>dy, <double *>out,
                                       n, c, n_threads))
    return CS_EINVAL


def rows(int op, x, dy, out, axis, int n_threads):
    """Row kernel `op` (ROW_*) over the last axis of x, with dy for a VJP, written to out (a
    new array when None), on `n_threads` threads (a count csoftmax._utils resolved): the
    result, or None when the arrays are not in the kernel's layout.

    That layout: x (and dy) exact ndarrays, C-contiguous float32 or float64 of one dtype and
    shape, 1 or 2 dimensions, not empty; axis an int naming the last axis; out None, or
    such an array of x's dtype and shape, writeable, and the very memory of an input or
    apart from them.
    """
    if type(x) is not np.ndarray or type(axis) is not int:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef int ndim = cnp.PyArray_NDIM(xa), typenum = cnp.PyArray_TYPE(xa)
    if ndim < 1 or ndim > 2 or (axis != -1 and axis != ndim - 1):
        return None
    if typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE:
        return None
    cdef cnp.npy_intp *shape = cnp.PyArray_DIMS(xa)
    if not _plain(x, ndim, typenum, NULL) or cnp.PyArray_SIZE(xa) == 0:
        return None
    cdef bint vjp = op == _SOFTMAX_VJP or op == _LOG_SOFTMAX_VJP
    if vjp and not _plain(dy, ndim, typenum, shape):
        return None
    cdef cnp.ndarray res
    if out is None:
        res = cnp.PyArray_EMPTY(ndim, shape, typenum, 0)
    elif (_writeable(out, ndim, typenum, shape) and _same_or_apart(out, x)
          and (not vjp or _same_or_apart(out, dy))):
        res = <cnp.ndarray>out
    else:
        return None
    cdef ptrdiff_t n = shape[0] if ndim == 2 else 1
    cdef ptrdiff_t c = shape[ndim - 1]
    cdef const void *px = cnp.PyArray_DATA(xa)
    cdef const void *pd = cnp.PyArray_DATA(<cnp.ndarray>dy) if vjp else NULL
    cdef void *po = cnp.PyArray_DATA(res)
    cdef bint f32 = typenum == cnp.NPY_FLOAT
    cdef int status
    with nogil:
        status = _row_kernel(op, f32, px, pd, po, n, c, n_threads)
    _raise_for(status)
    return res


def softmax_jacobian(x, out, int n_threads):
    """out[i] = the softmax Jacobian of row x[i], on `n_threads` threads: x a C-contiguous
    float32 or float64 (n_rows, n_cols) ndarray, not empty, out a writeable C-contiguous
    (n_rows, n_cols, n_cols) ndarray of its dtype that shares no memory with it."""
    if type(x) is not np.ndarray or cnp.PyArray_NDIM(<cnp.ndarray>x) != 2:
        raise ValueError("csoftmax: softmax_jacobian takes 2-D rows")
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef int typenum = cnp.PyArray_TYPE(xa)
    cdef cnp.npy_intp shape[3]
    shape[0] = cnp.PyArray_DIMS(xa)[0]
    shape[1] = shape[2] = cnp.PyArray_DIMS(xa)[1]
    if ((typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE)
            or not _plain(x, 2, typenum, shape) or cnp.PyArray_SIZE(xa) == 0
            or not _writeable(out, 3, typenum, shape) or not _apart(out, x)):
        raise ValueError("csoftmax: softmax_jacobian's arrays are not in the kernel's layout")
    cdef const void *px = cnp.PyArray_DATA(xa)
    cdef void *po = cnp.PyArray_DATA(<cnp.ndarray>out)
    cdef int status
    with nogil:
        if typenum == cnp.NPY_FLOAT:
            status = cs_softmax_jacobian_f32(<const float *>px, <float *>po, shape[0],
                                             shape[1], n_threads)
        else:
            status = cs_softmax_jacobian_f64(<const double *>px, <double *>po, shape[0],
                                             shape[1], n_threads)
    _raise_for(status)
    return out


cdef int _xent_kernel(bint hard, bint f32, const void *z, const void *t, cs_xent_opts *o,
                      double *loss_rows, double *loss, void *g, ptrdiff_t n, ptrdiff_t c,
                      int n_threads) noexcept nogil:
    if hard:
        return (cs_xent_hard_f32(<const float *>z, <const int64_t *>t, o, loss_rows, loss,
                                 <float *>g, n, c, n_threads) if f32 else
                cs_xent_hard_f64(<const double *>z, <const int64_t *>t, o, loss_rows, loss,
                                 <double *>g, n, c, n_threads))
    return (cs_xent_soft_f32(<const float *>z, <const float *>t, o, loss_rows, loss,
                             <float *>g, n, c, n_threads) if f32 else
            cs_xent_soft_f64(<const double *>z, <const double *>t, o, loss_rows, loss,
                             <double *>g, n, c, n_threads))


cdef bint _xent_options(cs_xent_opts *o, tuple options, bint hard):
    """Fill o from options = (axis, ignore_index, label_smoothing, reduction); False when
    they are not of the kernel's types and ranges (axis the int 1)."""
    if options is None or len(options) != 4:
        return False
    axis, ignore_index, label_smoothing, reduction = options
    if (type(axis) is not int or axis != 1 or type(ignore_index) is not int
            or type(label_smoothing) is not float or type(reduction) is not str):
        return False
    code = REDUCTIONS.get(reduction)
    if (code is None or not 0.0 <= <double>label_smoothing <= 1.0
            or not -0x8000000000000000 <= ignore_index <= 0x7fffffffffffffff):
        return False
    o.ignore_index = ignore_index if hard else CS_XENT_NO_IGNORE
    o.label_smoothing = label_smoothing
    o.reduction = code
    return True


def cross_entropy(logits, target, class_weight, sample_weight, tuple options,
                  bint return_grad, out, int n_threads):
    """Softmax cross-entropy of (n_rows, n_cols) logits on `n_threads` threads (a count
    csoftmax._utils resolved): the loss (reduced per options[2]), with the gradient when
    `return_grad` (written to out, or a new array when out is None), as
    csoftmax.cross_entropy returns them for such logits; or None when the arguments are
    not in the kernel's layout, or a label is not a class.

    That layout: logits an exact C-contiguous float32/float64 2-D ndarray, not empty;
    target its int64 label per row (hard) or probabilities of its dtype and shape (soft);
    class_weight (hard labels only) and sample_weight None or C-contiguous float64 arrays
    of one weight per class and per row, finite and non-negative (the caller checks their
    values); options (axis, ignore_index, label_smoothing, reduction) the class axis 1, an
    int, a float in [0, 1] and a key of REDUCTIONS; out None, or with return_grad an array of the logits' dtype
    and shape, writeable and apart from every input.
    """
    if type(logits) is not np.ndarray or cnp.PyArray_NDIM(<cnp.ndarray>logits) != 2:
        return None
    cdef cnp.ndarray z = <cnp.ndarray>logits
    cdef int typenum = cnp.PyArray_TYPE(z)
    if ((typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE)
            or not _plain(logits, 2, typenum, NULL) or cnp.PyArray_SIZE(z) == 0):
        return None
    cdef cnp.npy_intp *shape = cnp.PyArray_DIMS(z)
    cdef bint hard = _plain(target, 1, cnp.NPY_INT64, shape)
    if not hard and not (_plain(target, 2, typenum, shape) and class_weight is None):
        return None
    cdef cs_xent_opts o
    if not _xent_options(&o, options, hard):
        return None
    if ((class_weight is not None and not _plain(class_weight, 1, cnp.NPY_DOUBLE, shape + 1))
            or (sample_weight is not None
                and not _plain(sample_weight, 1, cnp.NPY_DOUBLE, shape))):
        return None
    o.class_weight = o.sample_weight = NULL
    if class_weight is not None:
        o.class_weight = <const double *>cnp.PyArray_DATA(<cnp.ndarray>class_weight)
    if sample_weight is not None:
        o.sample_weight = <const double *>cnp.PyArray_DATA(<cnp.ndarray>sample_weight)
    cdef cnp.ndarray grad = None
    if out is not None:  # the kernel reads every input after writing the gradient
        if not (return_grad and _writeable(out, 2, typenum, shape) and _apart(out, z)
                and _apart(out, target) and _apart(out, class_weight)
                and _apart(out, sample_weight)):
            return None
        grad = <cnp.ndarray>out
    elif return_grad:
        grad = cnp.PyArray_EMPTY(2, shape, typenum, 0)
    cdef cnp.ndarray loss_rows = cnp.PyArray_EMPTY(1, shape, cnp.NPY_DOUBLE, 0)
    cdef const void *pz = cnp.PyArray_DATA(z)
    cdef const void *pt = cnp.PyArray_DATA(<cnp.ndarray>target)
    cdef void *pg = cnp.PyArray_DATA(grad) if return_grad else NULL
    cdef double *pl = <double *>cnp.PyArray_DATA(loss_rows)
    cdef double loss = 0.0
    cdef bint f32 = typenum == cnp.NPY_FLOAT
    cdef int status
    with nogil:
        status = _xent_kernel(hard, f32, pz, pt, &o, pl, &loss, pg, shape[0], shape[1],
                              n_threads)
    if status == CS_EINVAL and hard:
        return None  # a label out of range: csoftmax.losses names it
    _raise_for(status)
    dtype = z.dtype
    result = (loss_rows.astype(dtype, copy=False) if o.reduction == CS_REDUCE_NONE
              else dtype.type(loss))
    return (result, grad) if return_grad else result


# ---- the MLP engine (cs_optim.h, cs_mlp.h) -------------------------------------------------

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
    """Data pointer of `a`, which must be a C-contiguous ndarray of `dtype` and `shape`
    (None in `shape` matches any length). The caller keeps `a` alive."""
    if not isinstance(a, np.ndarray) or a.dtype != dtype or len(a.shape) != len(shape) or any(
        s is not None and s != t for s, t in zip(shape, a.shape)
    ):
        raise ValueError(f"{name}: expected a {np.dtype(dtype)} array of shape {tuple(shape)}")
    if not a.flags.c_contiguous or (writeable and not a.flags.writeable):
        raise ValueError(f"{name}: expected a C-contiguous" + (", writeable" if writeable else "")
                         + " array")
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

    def __cinit__(self, list coefs, list intercepts, str activation, str out_activation,
                  Py_ssize_t batch_rows, int n_threads, bint gather_dense=False):
        cdef Py_ssize_t L = len(coefs), l
        if L < 1 or len(intercepts) != L:
            raise ValueError("coefs and intercepts must be non-empty lists of equal length")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}")
        if out_activation not in ("softmax", "logistic"):
            raise ValueError(f"unknown out_activation {out_activation!r}")
        self.dtype = np.dtype(getattr(coefs[0], "dtype", None))
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"coefs must be float32 or float64 arrays; got {self.dtype}")
        self.units = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
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
        d.n_order = 0
        if isinstance(X, np.ndarray):
            d.x = _ptr(X, self.dtype, (n, n_in), "X")
        else:  # CSR, from csoftmax.neural_network._engine
            d.csr_indptr = <int64_t *>_ptr(X.indptr, np.int64, (n + 1,), "X.indptr")
            d.csr_indices = <int64_t *>_ptr(X.indices, np.int64, (None,), "X.indices")
            d.csr_data = _ptr(X.data, self.dtype, (X.indices.shape[0],), "X.data")
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
              Optimizer optimizer not None):
        """One epoch over the rows `order` of X; returns the sum over the minibatches of the
        batch objective times the batch length."""
        cdef cs_mlp_data d
        cdef int status
        cdef double loss_sum = 0.0
        self._data(&d, X, y, sample_weight, order)
        cdef void **st = self._pointers(optimizer.state,
                                        2 if optimizer.opt.kind == CS_OPTIM_ADAM else 1,
                                        "optimizer.state")
        self._enter()
        try:
            with nogil:
                status = cs_mlp_epoch(self.net, &d, batch_size, alpha, &optimizer.opt, st,
                                      &loss_sum)
        finally:
            self.busy = False
            free(st)
        _raise_for(status, _DATA_ERROR)
        return loss_sum
