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
    double cs_blocked_sum(const double *v, ptrdiff_t n)


cdef extern from "cs_mlp.h" nogil:
    int CS_ACT_IDENTITY
    int CS_ACT_LOGISTIC
    int CS_ACT_TANH
    int CS_ACT_RELU
    int cs_mlp_bias_act_f32(float *z, const float *b, int act, ptrdiff_t n_rows,
                            ptrdiff_t n_cols, int n_threads)
    int cs_mlp_bias_act_f64(double *z, const double *b, int act, ptrdiff_t n_rows,
                            ptrdiff_t n_cols, int n_threads)
    int cs_mlp_act_backward_f32(float *delta, const float *a, int act, ptrdiff_t n_rows,
                                ptrdiff_t n_cols, int n_threads)
    int cs_mlp_act_backward_f64(double *delta, const double *a, int act, ptrdiff_t n_rows,
                                ptrdiff_t n_cols, int n_threads)
    int cs_mlp_logistic_loss_f32(const float *z, const float *y, const double *sample_weight,
                                 double scale, double *loss_rows, float *grad,
                                 ptrdiff_t n_rows, ptrdiff_t n_cols)
    int cs_mlp_logistic_loss_f64(const double *z, const double *y,
                                 const double *sample_weight, double scale, double *loss_rows,
                                 double *grad, ptrdiff_t n_rows, ptrdiff_t n_cols)
    int cs_mlp_col_sum_f32(const float *d, double *acc, float *out, ptrdiff_t n_rows,
                           ptrdiff_t n_cols)
    int cs_mlp_col_sum_f64(const double *d, double *acc, double *out, ptrdiff_t n_rows,
                           ptrdiff_t n_cols)
    double cs_mlp_adam_f32(float *p, const float *grad, float *m, float *v, ptrdiff_t n,
                           double l2, double lr, double b1, double b2, double eps)
    double cs_mlp_adam_f64(double *p, const double *grad, double *m, double *v, ptrdiff_t n,
                           double l2, double lr, double b1, double b2, double eps)
    double cs_mlp_sgd_f32(float *p, const float *grad, float *vel, ptrdiff_t n, double l2,
                          double lr, double momentum, int nesterov)
    double cs_mlp_sgd_f64(double *p, const double *grad, double *vel, ptrdiff_t n, double l2,
                          double lr, double momentum, int nesterov)
    double cs_mlp_l2_f32(const float *p, float *grad, ptrdiff_t n, double l2)
    double cs_mlp_l2_f64(const double *p, double *grad, ptrdiff_t n, double l2)
    int cs_mlp_csr_matmul_f32(const float *data, const int64_t *indices,
                              const int64_t *indptr, const int64_t *rows, const float *w,
                              float *z, ptrdiff_t n_rows, ptrdiff_t n_out)
    int cs_mlp_csr_matmul_f64(const double *data, const int64_t *indices,
                              const int64_t *indptr, const int64_t *rows, const double *w,
                              double *z, ptrdiff_t n_rows, ptrdiff_t n_out)
    int cs_mlp_csr_tmatmul_f32(const float *data, const int64_t *indices,
                               const int64_t *indptr, const int64_t *rows, const float *d,
                               float *g, ptrdiff_t n_rows, ptrdiff_t n_features,
                               ptrdiff_t n_out)
    int cs_mlp_csr_tmatmul_f64(const double *data, const int64_t *indices,
                               const int64_t *indptr, const int64_t *rows, const double *d,
                               double *g, ptrdiff_t n_rows, ptrdiff_t n_features,
                               ptrdiff_t n_out)
