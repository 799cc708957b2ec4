# Declarations of the C kernels in src_c/ (see each header for the formulas and contracts).
# Nothing but `cdef extern` blocks lives here; csoftmax/_core.pyx wraps them.
from libc.stddef cimport ptrdiff_t
from libc.stdint cimport int64_t


cdef extern from "cs_common.h" nogil:
    int CS_OK
    int CS_ENOMEM
    int CS_EINVAL


cdef extern from "cs_parallel.h" nogil:
    int cs_max_threads()
    void cs_parallel_init()
    int cs_parallel_forked()
    int cs_openmp_enabled()


cdef extern from "cs_cast.h" nogil:
    int cs_cast_f64_f32(const double *x, float *out, int *finite, ptrdiff_t n, int n_threads)
    void cs_advise_small_pages(void *p, size_t nbytes)
    int cs_check_finite_f32(const float *x, int *finite, ptrdiff_t n, int n_threads)
    int cs_check_finite_f64(const double *x, int *finite, ptrdiff_t n, int n_threads)


cdef extern from "cs_dispatch.h" nogil:
    int CS_SIMD_N_LEVELS
    int cs_simd_supported()
    int cs_simd_level()
    int cs_simd_set_level(int level)
    int cs_simd_parse(const char *name)
    const char *cs_simd_name(int level)


cdef extern from "cs_softmax.h" nogil:
    int cs_softmax_f32(const float *x, const unsigned char *where, float *out,
                       ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
    int cs_softmax_f64(const double *x, const unsigned char *where, double *out,
                       ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
    int cs_log_softmax_f32(const float *x, const unsigned char *where, float *out,
                           ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
    int cs_log_softmax_f64(const double *x, const unsigned char *where, double *out,
                           ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
    int cs_softmax_jacobian_f32(const float *x, float *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                                int n_threads)
    int cs_softmax_jacobian_f64(const double *x, double *out, ptrdiff_t n_rows,
                                ptrdiff_t n_cols, int n_threads)
    ctypedef struct cs_vjp_check:
        double eps
        ptrdiff_t bad_row
    int cs_softmax_vjp_f32(const float *y, const float *dy, const unsigned char *where,
                           float *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads,
                           cs_vjp_check *check)
    int cs_softmax_vjp_f64(const double *y, const double *dy, const unsigned char *where,
                           double *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads,
                           cs_vjp_check *check)
    int cs_log_softmax_vjp_f32(const float *y, const float *dy, const unsigned char *where,
                               float *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
    int cs_log_softmax_vjp_f64(const double *y, const double *dy, const unsigned char *where,
                               double *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)


cdef extern from "cs_xent.h" nogil:
    int CS_REDUCE_NONE
    int CS_REDUCE_SUM
    int CS_REDUCE_MEAN
    int64_t CS_XENT_NO_IGNORE
    ctypedef struct cs_xent_opts:
        const double *sample_weight
        const double *class_weight
        int64_t ignore_index
        double label_smoothing
        int reduction
    ctypedef struct cs_xent_out:
        double *loss_rows
        double loss
    int cs_xent_hard_f32(const float *logits, const int64_t *target, const cs_xent_opts *opts,
                         cs_xent_out *out, float *grad, ptrdiff_t n_rows,
                         ptrdiff_t n_cols, int n_threads)
    int cs_xent_hard_f64(const double *logits, const int64_t *target, const cs_xent_opts *opts,
                         cs_xent_out *out, double *grad, ptrdiff_t n_rows,
                         ptrdiff_t n_cols, int n_threads)
    int cs_xent_soft_f32(const float *logits, const float *target_prob,
                         const cs_xent_opts *opts, cs_xent_out *out, float *grad,
                         ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
    int cs_xent_soft_f64(const double *logits, const double *target_prob,
                         const cs_xent_opts *opts, cs_xent_out *out,
                         double *grad, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
    int cs_sigmoid_xent_f32(const float *logits, const float *target,
                            const double *sample_weight, cs_xent_out *out,
                            float *grad, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
    int cs_sigmoid_xent_f64(const double *logits, const double *target,
                            const double *sample_weight, cs_xent_out *out,
                            double *grad, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)


cdef extern from "cs_optim.h" nogil:
    int CS_OPTIM_SGD
    int CS_OPTIM_ADAM
    ctypedef struct cs_optim:
        int kind
        double learning_rate
        double momentum
        int nesterov
        double beta_1, beta_2, epsilon
        int64_t t
        double step_size
    double cs_optim_learning_rate(const cs_optim *opt)


cdef extern from "cs_interrupt.h" nogil:
    ctypedef int sig_atomic_t
    int cs_sigint_catch()
    int cs_sigint_release()
    const volatile sig_atomic_t *cs_sigint_flag()


cdef extern from "cs_mlp.h" nogil:
    int CS_ACT_IDENTITY
    int CS_ACT_LOGISTIC
    int CS_ACT_TANH
    int CS_ACT_RELU
    int CS_FLOAT32
    int CS_FLOAT64
    ctypedef void (*cs_sgemm_fn)(char *, char *, int *, int *, int *, float *, float *, int *,
                                 float *, int *, float *, float *, int *) noexcept nogil
    ctypedef void (*cs_dgemm_fn)(char *, char *, int *, int *, int *, double *, double *, int *,
                                 double *, int *, double *, double *, int *) noexcept nogil
    ctypedef void (*cs_sgemv_fn)(char *, int *, int *, float *, float *, int *, float *, int *,
                                 float *, float *, int *) noexcept nogil
    ctypedef void (*cs_dgemv_fn)(char *, int *, int *, double *, double *, int *, double *,
                                 int *, double *, double *, int *) noexcept nogil
    ctypedef void (*cs_set_threads_fn)(int n) noexcept nogil
    ctypedef int (*cs_get_threads_fn)() noexcept nogil
    ctypedef struct cs_blas:
        cs_sgemm_fn sgemm
        cs_dgemm_fn dgemm
        cs_sgemv_fn sgemv
        cs_dgemv_fn dgemv
        cs_set_threads_fn set_threads
        cs_get_threads_fn get_threads
    ctypedef struct cs_mlp_spec:
        int dtype
        int n_layers
        const ptrdiff_t *units
        int activation
        int softmax_out
        ptrdiff_t batch_rows
        int gather_dense
        int n_threads
        int split_gemm
    ctypedef struct cs_mlp_data:
        ptrdiff_t n_rows
        const void *x
        const void *csr_data
        const int64_t *csr_indices
        const int64_t *csr_indptr
        ptrdiff_t csr_nnz
        const int64_t *y_idx
        const void *y
        const double *sample_weight
        const int64_t *order
        ptrdiff_t n_order
    ctypedef struct cs_mlp:
        pass
    int cs_mlp_create(cs_mlp **net, const cs_mlp_spec *spec, void *const *params, cs_blas blas)
    void cs_mlp_free(cs_mlp *net)
    int cs_mlp_forward(cs_mlp *net, const cs_mlp_data *data, void *logits)
    int cs_mlp_loss_grad(cs_mlp *net, const cs_mlp_data *data, double alpha, void *const *grads,
                         double *loss)
    ctypedef struct cs_mlp_progress:
        const volatile sig_atomic_t *stop
        ptrdiff_t n_done
        double loss_sum
    int cs_mlp_epoch(cs_mlp *net, const cs_mlp_data *data, ptrdiff_t batch_size, double alpha,
                     cs_optim *opt, void *const *state, cs_mlp_progress *progress)

