# cython: boundscheck=True, wraparound=True, initializedcheck=True
# The boundary runs with bounds checks (setup.py turns them off by default): a wrong shape
# raises IndexError or ValueError, never reads out of bounds. The hot loops are in C.
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
from libc.signal cimport SIGINT, raise_ as c_raise
from libc.stdlib cimport free, malloc
from cpython.exc cimport PyErr_CheckSignals
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
    """Level named `name`: -1 for "auto", -2 for a name that is not a level (one holding a
    NUL too, which C would read as its end)."""
    if "\x00" in name:
        return -2
    return cs_simd_parse(name.encode())


def set_simd_level(int level):
    """Use SIMD level `level` (-1: the best supported); ValueError if the CPU lacks it."""
    _raise_for(cs_simd_set_level(level))


def max_threads():
    """OpenMP's default team size here (1 without OpenMP, or in a fork child that must run
    serially)."""
    return cs_max_threads()


def parallel_forked():
    """Whether this process is a child forked after a parallel kernel ran, where kernels
    must run on one thread (csoftmax._utils.check_n_threads reads it after a fork)."""
    return bool(cs_parallel_forked())


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
    """Whether every value of x, a C-contiguous, aligned float32 or float64 ndarray in native
    byte order, is finite (cs_check_finite_*): one pass, no temporary array, no warning."""
    if not (_plain(x, 0, cnp.NPY_FLOAT, NULL) or _plain(x, 0, cnp.NPY_DOUBLE, NULL)):
        raise ValueError("csoftmax: all_finite takes a C-contiguous float32 or float64 array, "
                         "aligned for its dtype")
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


# ---- the kernel entries (_core_softmax.pxi, _core_xent.pxi) and their layout checks --------
#
# One entry per operation: `rows` (softmax, log_softmax and their VJPs), `softmax_jacobian`
# and `cross_entropy`. Each checks in C, before any read, that the arrays are in the
# kernel's layout: exact ndarrays, C-contiguous, aligned, native byte order, of the kernel's dtype
# and of matching shapes, outputs writeable and apart from every input (or, where the
# kernel allows it, the very same memory). csoftmax.functional and csoftmax.losses call
# them with the user's arrays first: the commonest call is already in that layout and
# costs no conversion. Anything else gets None back and is validated and converted there,
# then passed to the same entry, where it is in the layout.


cdef inline bint _plain(object a, int ndim, int typenum, cnp.npy_intp *shape):
    """a is an exact ndarray, C-contiguous, aligned for its dtype (C may not read a double
    from an address that is not a multiple of 8), in native byte order, of this typenum and
    (when shape is not NULL) of this ndim and shape."""
    if type(a) is not np.ndarray:
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if (cnp.PyArray_TYPE(arr) != typenum or not cnp.PyArray_IS_C_CONTIGUOUS(arr)
            or not cnp.PyArray_ISALIGNED(arr) or not cnp.PyArray_ISNOTSWAPPED(arr)):
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


include "_core_softmax.pxi"
include "_core_xent.pxi"
include "_core_mlp.pxi"
