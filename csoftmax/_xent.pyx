"""Thin wrapper over the fused softmax + cross-entropy kernels of src_c/cs_xent.h.

Arguments are validated by csoftmax.losses; this layer releases the GIL for one kernel call.
"""
from cython cimport floating
from libc.stdint cimport int64_t

from csoftmax._kernels cimport *

include "_status.pxi"

REDUCTIONS = {"none": CS_REDUCE_NONE, "sum": CS_REDUCE_SUM, "mean": CS_REDUCE_MEAN}


def cross_entropy_hard(const floating[:, ::1] logits, const int64_t[::1] target,
                       const double[::1] sample_weight, double label_smoothing,
                       int reduction, double[::1] loss_rows, floating[:, ::1] grad,
                       int n_threads):
    """Loss (reduced per `reduction`) for integer labels; fills loss_rows and grad."""
    cdef int status
    cdef double loss = 0.0
    cdef const double *w = NULL if sample_weight is None else &sample_weight[0]
    cdef floating *g = NULL if grad is None else &grad[0, 0]
    with nogil:
        if floating is float:
            status = cs_xent_hard_f32(&logits[0, 0], &target[0], w, label_smoothing, reduction,
                                      &loss_rows[0], &loss, g, logits.shape[0],
                                      logits.shape[1], n_threads)
        else:
            status = cs_xent_hard_f64(&logits[0, 0], &target[0], w, label_smoothing, reduction,
                                      &loss_rows[0], &loss, g, logits.shape[0],
                                      logits.shape[1], n_threads)
    _raise_for(status)
    return loss


def cross_entropy_soft(const floating[:, ::1] logits, const floating[:, ::1] target,
                       const double[::1] sample_weight, double label_smoothing,
                       int reduction, double[::1] loss_rows, floating[:, ::1] grad,
                       int n_threads):
    """Loss (reduced per `reduction`) for probability targets; fills loss_rows and grad."""
    cdef int status
    cdef double loss = 0.0
    cdef const double *w = NULL if sample_weight is None else &sample_weight[0]
    cdef floating *g = NULL if grad is None else &grad[0, 0]
    with nogil:
        if floating is float:
            status = cs_xent_soft_f32(&logits[0, 0], &target[0, 0], w, label_smoothing,
                                      reduction, &loss_rows[0], &loss, g, logits.shape[0],
                                      logits.shape[1], n_threads)
        else:
            status = cs_xent_soft_f64(&logits[0, 0], &target[0, 0], w, label_smoothing,
                                      reduction, &loss_rows[0], &loss, g, logits.shape[0],
                                      logits.shape[1], n_threads)
    _raise_for(status)
    return loss
