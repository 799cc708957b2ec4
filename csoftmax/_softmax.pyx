"""Thin wrappers over the softmax kernels of src_c/cs_softmax.h.

Each function takes C-contiguous 2-D (n_rows, n_cols) memoryviews already validated by
csoftmax.functional, releases the GIL for one kernel call and maps its status to an
exception. Input views are const, so read-only and memory-mapped arrays are accepted.
"""
from cython cimport floating

from csoftmax._kernels cimport *

include "_status.pxi"


def softmax(const floating[:, ::1] x, floating[:, ::1] out, int n_threads):
    cdef int status
    with nogil:
        if floating is float:
            status = cs_softmax_f32(&x[0, 0], &out[0, 0], x.shape[0], x.shape[1], n_threads)
        else:
            status = cs_softmax_f64(&x[0, 0], &out[0, 0], x.shape[0], x.shape[1], n_threads)
    _raise_for(status)


def log_softmax(const floating[:, ::1] x, floating[:, ::1] out, int n_threads):
    cdef int status
    with nogil:
        if floating is float:
            status = cs_log_softmax_f32(&x[0, 0], &out[0, 0], x.shape[0], x.shape[1],
                                        n_threads)
        else:
            status = cs_log_softmax_f64(&x[0, 0], &out[0, 0], x.shape[0], x.shape[1],
                                        n_threads)
    _raise_for(status)


def softmax_jacobian(const floating[:, ::1] x, floating[:, :, ::1] out, int n_threads):
    cdef int status
    with nogil:
        if floating is float:
            status = cs_softmax_jacobian_f32(&x[0, 0], &out[0, 0, 0], x.shape[0], x.shape[1],
                                             n_threads)
        else:
            status = cs_softmax_jacobian_f64(&x[0, 0], &out[0, 0, 0], x.shape[0], x.shape[1],
                                             n_threads)
    _raise_for(status)


def softmax_vjp(const floating[:, ::1] y, const floating[:, ::1] dy, floating[:, ::1] out,
                int n_threads):
    cdef int status
    with nogil:
        if floating is float:
            status = cs_softmax_vjp_f32(&y[0, 0], &dy[0, 0], &out[0, 0], y.shape[0],
                                        y.shape[1], n_threads)
        else:
            status = cs_softmax_vjp_f64(&y[0, 0], &dy[0, 0], &out[0, 0], y.shape[0],
                                        y.shape[1], n_threads)
    _raise_for(status)


def log_softmax_vjp(const floating[:, ::1] y, const floating[:, ::1] dy, floating[:, ::1] out,
                    int n_threads):
    cdef int status
    with nogil:
        if floating is float:
            status = cs_log_softmax_vjp_f32(&y[0, 0], &dy[0, 0], &out[0, 0], y.shape[0],
                                            y.shape[1], n_threads)
        else:
            status = cs_log_softmax_vjp_f64(&y[0, 0], &dy[0, 0], &out[0, 0], y.shape[0],
                                            y.shape[1], n_threads)
    _raise_for(status)
