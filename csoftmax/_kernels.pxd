# Declarations of the C kernels in src_c/ (see each header for the formulas and contracts).
# Nothing but `cdef extern` blocks lives here.
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport int64_t


cdef extern from "cs_common.h" nogil:
    int CS_OK
    int CS_ENOMEM
    int CS_EINVAL
    int CS_SIMD_PORTABLE
    int CS_SIMD_AVX2
    int CS_SIMD_AVX512
    int cs_simd_supported()
    int cs_simd_level()
    int cs_simd_set_level(int level)
    int cs_max_threads()


cdef extern from "cs_softmax.h" nogil:
    int cs_softmax_f32(const float *x, float *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                       int n_threads)
    int cs_softmax_f64(const double *x, double *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                       int n_threads)
    int cs_log_softmax_f32(const float *x, float *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                           int n_threads)
    int cs_log_softmax_f64(const double *x, double *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                           int n_threads)
    int cs_softmax_jacobian_f32(const float *x, float *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                                int n_threads)
    int cs_softmax_jacobian_f64(const double *x, double *out, ptrdiff_t n_rows,
                                ptrdiff_t n_cols, int n_threads)
    int cs_softmax_vjp_f32(const float *y, const float *dy, float *out, ptrdiff_t n_rows,
                           ptrdiff_t n_cols, int n_threads)
    int cs_softmax_vjp_f64(const double *y, const double *dy, double *out, ptrdiff_t n_rows,
                           ptrdiff_t n_cols, int n_threads)
    int cs_log_softmax_vjp_f32(const float *y, const float *dy, float *out, ptrdiff_t n_rows,
                               ptrdiff_t n_cols, int n_threads)
    int cs_log_softmax_vjp_f64(const double *y, const double *dy, double *out,
                               ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)


cdef extern from "cs_xent.h" nogil:
    int CS_REDUCE_NONE
    int CS_REDUCE_SUM
    int CS_REDUCE_MEAN
    int cs_xent_hard_f32(const float *logits, const int64_t *target,
                         const double *sample_weight, double label_smoothing, int reduction,
                         double *loss_rows, double *loss, float *grad, ptrdiff_t n_rows,
                         ptrdiff_t n_cols, int n_threads)
    int cs_xent_hard_f64(const double *logits, const int64_t *target,
                         const double *sample_weight, double label_smoothing, int reduction,
                         double *loss_rows, double *loss, double *grad, ptrdiff_t n_rows,
                         ptrdiff_t n_cols, int n_threads)
    int cs_xent_soft_f32(const float *logits, const float *target_prob,
                         const double *sample_weight, double label_smoothing, int reduction,
                         double *loss_rows, double *loss, float *grad, ptrdiff_t n_rows,
                         ptrdiff_t n_cols, int n_threads)
    int cs_xent_soft_f64(const double *logits, const double *target_prob,
                         const double *sample_weight, double label_smoothing, int reduction,
                         double *loss_rows, double *loss, double *grad, ptrdiff_t n_rows,
                         ptrdiff_t n_cols, int n_threads)
