/* csoftmax: what the kernels of src_c/kernels/ share with the entry points that dispatch to
 * them (cs_softmax.c, cs_xent.c, cs_optim.c, cs_mlp.c): the argument blocks the kernels
 * read, the engine's state, and the prototype of every exported kernel.
 *
 * Each kernel exists once per dtype and SIMD level, named <kernel>_<dtype>_<level>
 * (softmax_block_f32_avx2): src_c/kernels/f32_avx2.c defines the float ones for AVX2, and so
 * on. An entry point calls table[cs_simd_level()] of a table built with CS_PATHS
 * (cs_dispatch.h). A level a build lacks (AVX2 off x86-64) is declared here and never
 * defined nor referenced.
 */
#ifndef CS_KERNELS_H
#define CS_KERNELS_H

#include "cs_common.h"
#include "cs_dispatch.h"
#include "cs_mlp.h"
#include "cs_optim.h"
#include "cs_parallel.h"
#include "cs_softmax.h"
#include "cs_xent.h"

/* ---- argument blocks ---------------------------------------------------------------------- */

typedef struct {
    const void *in; /* x for softmax, log_softmax and the Jacobian; y for the VJPs */
    const void *dy; /* the VJPs' upstream gradient, else NULL */
    void *out;
    ptrdiff_t n_cols;
    const unsigned char *where; /* (n_rows, n_cols) mask, nonzero = take part; NULL: all do */
    cs_vjp_check *check; /* softmax_vjp: the check of y (cs_softmax.h), bad_row updated
                            atomically; NULL: y is not checked */
} cs_softmax_args;

typedef struct {
    const void *logits;
    const int64_t *target;   /* hard labels, or NULL */
    const void *target_dense; /* (n_rows, n_cols) targets, or NULL: probabilities (softmax
                                 cross-entropy) or per-column targets (sigmoid) */
    const double *sample_weight;
    const double *class_weight; /* hard labels: c_j, or NULL */
    double class_weight_sum;    /* sum_j c_j */
    int64_t ignore_index;
    int any_ignored; /* whether some label equals ignore_index (which may be any int64) */
    double label_smoothing;
    double grad_scale; /* 1 / D for the mean, else 1 */
    double *loss_rows;
    void *grad;
    ptrdiff_t n_cols;
} cs_xent_args;

/* An optimizer step over n parameters (cs_optim_update_*): the arrays are of the dtype. */
typedef struct {
    const cs_optim *opt;
    void *p, *s1, *s2;
    const void *grad;
    double l2;
} cs_sweep_args;

/* An Adam step costs about as much per element as a few elements of a row kernel (a square
 * root and a division): the weight of an element in cs_run_rows's threshold. */
#define CS_OPTIM_WORK 4

/* The engine's arrays, typed: params are the caller's, the rest point into net->mem. */
#define CS_MLP_BUFS(T)                                                                        \
    struct {                                                                                  \
        T **coefs, **intercepts; /* params */                                                 \
        T **acts, **deltas;      /* (batch_rows, units[l+1]): layer outputs, their deltas */  \
        T **gcoefs, **gints;     /* gradients, shaped like params */                          \
        T *xbuf, *ybuf;          /* a gathered dense batch (or NULL), its sigmoid targets */  \
        T **ext;                 /* 4L slots: a call's gradient or optimizer-state arrays */  \
    }

struct cs_mlp {
    cs_mlp_spec spec;
    ptrdiff_t *units; /* L + 1 (spec.units points here) */
    cs_blas blas;
    union {
        CS_MLP_BUFS(float) f32;
        CS_MLP_BUFS(double) f64;
    } b;
    int64_t *yidx, *rows; /* (batch_rows,) gathered class indices and row numbers */
    double *wbuf;         /* (batch_rows,) w_i / sum(w) of the batch */
    double *loss_rows;    /* (batch_rows,) */
    double *colacc;       /* (max units,) column-sum accumulators */
    void *mem;            /* the one allocation behind the buffers above */
    ptrdiff_t team_interval; /* the adaptive team's probe interval, kept from one epoch to
                                the next (kernels/mlp_team.h); 0 before the first */
    int team_one;            /* 1 when the last epoch ended on one thread */
    int n_threads;           /* the threads of the call or batch in progress: spec.n_threads,
                                or the adaptive team's choice for the batch */
};

/* ---- the kernels, per dtype and level ----------------------------------------------------- */

/* Rows [row0, row1) of a batch described by ctx (a cs_softmax_args or cs_xent_args). */
typedef void cs_block_kernel(const void *ctx, ptrdiff_t row0, ptrdiff_t row1);

cs_block_kernel softmax_block_f32_portable, softmax_block_f32_avx2, softmax_block_f32_avx512;
cs_block_kernel softmax_block_f64_portable, softmax_block_f64_avx2, softmax_block_f64_avx512;
cs_block_kernel log_softmax_block_f32_portable, log_softmax_block_f32_avx2,
    log_softmax_block_f32_avx512;
cs_block_kernel log_softmax_block_f64_portable, log_softmax_block_f64_avx2,
    log_softmax_block_f64_avx512;
cs_block_kernel jacobian_block_f32_portable, jacobian_block_f32_avx2, jacobian_block_f32_avx512;
cs_block_kernel jacobian_block_f64_portable, jacobian_block_f64_avx2, jacobian_block_f64_avx512;
cs_block_kernel vjp_block_f32_portable, vjp_block_f32_avx2, vjp_block_f32_avx512;
cs_block_kernel vjp_block_f64_portable, vjp_block_f64_avx2, vjp_block_f64_avx512;
cs_block_kernel log_vjp_block_f32_portable, log_vjp_block_f32_avx2, log_vjp_block_f32_avx512;
cs_block_kernel log_vjp_block_f64_portable, log_vjp_block_f64_avx2, log_vjp_block_f64_avx512;
cs_block_kernel xent_block_f32_portable, xent_block_f32_avx2, xent_block_f32_avx512;
cs_block_kernel xent_block_f64_portable, xent_block_f64_avx2, xent_block_f64_avx512;
cs_block_kernel sigmoid_xent_block_f32_portable, sigmoid_xent_block_f32_avx2,
    sigmoid_xent_block_f32_avx512;
cs_block_kernel sigmoid_xent_block_f64_portable, sigmoid_xent_block_f64_avx2,
    sigmoid_xent_block_f64_avx512;

/* copy[i] = target[i], each label read once, and whether every label is ignore or in
 * [0, n_cols); *n_ignored counts the ignored ones. */
typedef int cs_check_labels_kernel(const int64_t *target, int64_t *copy, ptrdiff_t n_rows,
                                   ptrdiff_t n_cols, int64_t ignore, ptrdiff_t *n_ignored);
cs_check_labels_kernel check_labels_f32_portable, check_labels_f32_avx2,
    check_labels_f32_avx512;
cs_check_labels_kernel check_labels_f64_portable, check_labels_f64_avx2,
    check_labels_f64_avx512;

/* Elements [i0, i1) of an optimizer step (cs_optim.h) of a cs_sweep_args; and sum(p^2) in
 * double. */
cs_block_kernel optim_sweep_block_f32_portable, optim_sweep_block_f32_avx2,
    optim_sweep_block_f32_avx512;
cs_block_kernel optim_sweep_block_f64_portable, optim_sweep_block_f64_avx2,
    optim_sweep_block_f64_avx512;
typedef double cs_sum_squares_f32_kernel(const float *p, ptrdiff_t n);
typedef double cs_sum_squares_f64_kernel(const double *p, ptrdiff_t n);
cs_sum_squares_f32_kernel sum_squares_f32_portable, sum_squares_f32_avx2,
    sum_squares_f32_avx512;
cs_sum_squares_f64_kernel sum_squares_f64_portable, sum_squares_f64_avx2,
    sum_squares_f64_avx512;

/* The engine's passes (cs_mlp.h), after cs_mlp.c has checked their arguments. */
typedef int cs_mlp_forward_kernel(cs_mlp *net, const cs_mlp_data *data, void *logits);
typedef int cs_mlp_loss_grad_kernel(cs_mlp *net, const cs_mlp_data *data, double alpha,
                                    void *const *grads, double *loss);
typedef int cs_mlp_epoch_kernel(cs_mlp *net, const cs_mlp_data *data, ptrdiff_t batch_size,
                                double alpha, cs_optim *opt, void *const *state,
                                cs_mlp_progress *progress);
cs_mlp_forward_kernel mlp_forward_f32_portable, mlp_forward_f32_avx2, mlp_forward_f32_avx512;
cs_mlp_forward_kernel mlp_forward_f64_portable, mlp_forward_f64_avx2, mlp_forward_f64_avx512;
cs_mlp_loss_grad_kernel mlp_loss_grad_f32_portable, mlp_loss_grad_f32_avx2,
    mlp_loss_grad_f32_avx512;
cs_mlp_loss_grad_kernel mlp_loss_grad_f64_portable, mlp_loss_grad_f64_avx2,
    mlp_loss_grad_f64_avx512;
cs_mlp_epoch_kernel mlp_epoch_f32_portable, mlp_epoch_f32_avx2, mlp_epoch_f32_avx512;
cs_mlp_epoch_kernel mlp_epoch_f64_portable, mlp_epoch_f64_avx2, mlp_epoch_f64_avx512;

#endif
