/* csoftmax: the MLP engine -- forward pass, loss and gradient, backward pass and whole epochs
 * of minibatch optimizer steps, in C without the GIL.
 *
 * Design
 *   - One opaque cs_mlp per network shape and dtype. It references the caller's parameter
 *     arrays (updated in place) and owns every scratch buffer, allocated once by
 *     cs_mlp_create for batches of up to spec.batch_rows rows.
 *   - The GEMMs go through the BLAS functions passed in cs_blas (the Cython layer hands in
 *     scipy.linalg.cython_blas's sgemm/dgemm, which need no GIL); everything around them is
 *     fused row kernels: bias + activation, the output loss and delta (cs_xent.h), the
 *     activation derivative, column sums, and the optimizer sweep (cs_optim.h).
 *   - Written once in kernels/mlp_kernels.h (and its parts, kernels/mlp_*.h) and compiled
 *     per dtype and instruction set like every kernel family. Each entry point picks its
 *     kernel once, and that kernel calls only kernels of its own translation unit (the
 *     cross-entropy and optimizer ones included), so a call runs on one SIMD path even if
 *     the level is changed meanwhile.
 *   - Every entry point validates what it reads (sizes, row numbers, labels, CSR indices)
 *     and returns CS_OK, CS_EINVAL (nothing trained) or CS_ENOMEM. Sizes passed to BLAS
 *     (each layer width and the batch rows) must fit in an int; their products need not.
 *   - What the passes read again after that check as an index is read once more where it
 *     is used and checked there, so that another thread writing to the caller's arrays
 *     during a call can change results, never where the engine reads or writes: a batch's
 *     row numbers and labels are copied into the engine's own buffers and checked as they
 *     are copied (one out of range stops an epoch before the batch, with CS_EINVAL, the
 *     batches before it done); each CSR row start and column index is read once per use
 *     and one out of range is left out of the product.
 *   - One engine serves one call at a time: its scratch is shared by its calls.
 *   - Row kernels split rows over n_threads (cs_parallel.h); so do the GEMMs, in blocks of
 *     result rows fixed by the shape, when cs_blas can set BLAS to one thread for the call
 *     (spec.split_gemm). Results never depend on n_threads. An epoch may run some batches
 *     on one thread when the machine is busy (kernels/mlp_team.h), which changes no result;
 *     the team size it picks lives in the engine, spec.n_threads never changes.
 *
 * The objective (scikit-learn's): for a batch with weights w (1 when absent),
 *   loss = sum_i w_i l_i / sum_i w_i + alpha / 2 * sum_l ||W_l||^2 / sum_i w_i
 * with l_i the exact log-sum-exp softmax cross-entropy (softmax output) or the summed sigmoid
 * cross-entropy (logistic output), and the gradients are those of that loss. Weights must be
 * non-negative; a minibatch whose weights are all zero takes no optimizer step.
 */
#ifndef CS_MLP_H
#define CS_MLP_H

#include <signal.h>

#include "cs_common.h"
#include "cs_optim.h"

#define CS_ACT_IDENTITY 0
#define CS_ACT_LOGISTIC 1
#define CS_ACT_TANH 2
#define CS_ACT_RELU 3

#define CS_FLOAT32 0
#define CS_FLOAT64 1

/* BLAS ?gemm with the Fortran calling convention, as scipy.linalg.cython_blas exports it. */
typedef void (*cs_sgemm_fn)(char *transa, char *transb, int *m, int *n, int *k, float *alpha,
                            float *a, int *lda, float *b, int *ldb, float *beta, float *c,
                            int *ldc);
typedef void (*cs_dgemm_fn)(char *transa, char *transb, int *m, int *n, int *k, double *alpha,
                            double *a, int *lda, double *b, int *ldb, double *beta, double *c,
                            int *ldc);
/* BLAS ?gemv, likewise: a one-row product without the packing ?gemm does first. */
typedef void (*cs_sgemv_fn)(char *trans, int *m, int *n, float *alpha, float *a, int *lda,
                            float *x, int *incx, float *beta, float *y, int *incy);
typedef void (*cs_dgemv_fn)(char *trans, int *m, int *n, double *alpha, double *a, int *lda,
                            double *x, int *incx, double *beta, double *y, int *incy);

/* The BLAS's thread count (OpenBLAS's openblas_set/get_num_threads), or NULL when unknown. */
typedef void (*cs_set_threads_fn)(int n);
typedef int (*cs_get_threads_fn)(void);
typedef struct {
    cs_sgemm_fn sgemm;
    cs_dgemm_fn dgemm;
    cs_sgemv_fn sgemv; /* may be NULL: ?gemm then does one-row products too */
    cs_dgemv_fn dgemv;
    cs_set_threads_fn set_threads;
    cs_get_threads_fn get_threads;
} cs_blas;

typedef struct {
    int dtype;              /* CS_FLOAT32 or CS_FLOAT64 */
    int n_layers;           /* weight layers L >= 1 */
    const ptrdiff_t *units; /* L + 1 layer widths, each in [1, INT_MAX] */
    int activation;         /* of the hidden layers: CS_ACT_* */
    int softmax_out;        /* 1: softmax + cross-entropy; 0: sigmoid + cross-entropy */
    ptrdiff_t batch_rows;   /* the most rows one step processes */
    int gather_dense;       /* 1: epochs will visit dense rows out of order, which needs a
                               (batch_rows, units[0]) gather buffer; 0: CSR input or forward
                               and full-batch passes only */
    int n_threads;          /* for the row kernels, and the products when split_gemm */
    int split_gemm;         /* 1: split the products too over n_threads, each thread
                               calling BLAS on its block, with BLAS set to one thread for
                               the call (only when cs_blas can set its thread count) */
} cs_mlp_spec;

/* Rows of training or prediction data, of the network's dtype. */
typedef struct {
    ptrdiff_t n_rows;
    const void *x;               /* dense (n_rows, units[0]), or NULL for CSR: */
    const void *csr_data;        /*   CSR values, */
    const int64_t *csr_indices;  /*   column indices in [0, units[0]), */
    const int64_t *csr_indptr;   /*   (n_rows + 1) row starts, in [0, csr_nnz], */
    ptrdiff_t csr_nnz;           /*   the length of csr_data and csr_indices */
    const int64_t *y_idx;        /* softmax targets (n_rows,) in [0, units[L]), or NULL */
    const void *y;               /* sigmoid targets (n_rows, units[L]), or NULL */
    const double *sample_weight; /* (n_rows,) or NULL */
    const int64_t *order;        /* the rows to visit, in order (n_order), or NULL: all */
    ptrdiff_t n_order;
} cs_mlp_data;

typedef struct cs_mlp cs_mlp;

/* Build an engine over params: 2L pointers, the coefs (units[l], units[l+1]) then the
 * intercepts (units[l+1],), C-contiguous, of spec->dtype, kept alive by the caller.
 * *net is NULL on failure. */
int cs_mlp_create(cs_mlp **net, const cs_mlp_spec *spec, void *const *params, cs_blas blas);
void cs_mlp_free(cs_mlp *net);

/* logits (n_rows, units[L]) = the output layer's pre-activation values of all rows of data,
 * in order (data->order plays no part), computed batch_rows rows at a time. */
int cs_mlp_forward(cs_mlp *net, const cs_mlp_data *data, void *logits);

/* Full-batch objective of all rows (n_rows <= batch_rows) into *loss, and its gradient into
 * grads (2L arrays shaped like params). Needs targets. */
int cs_mlp_loss_grad(cs_mlp *net, const cs_mlp_data *data, double alpha, void *const *grads,
                     double *loss);

/* Where an epoch is (cs_mlp_epoch): it may stop between two batches, and go on from there
 * in a later call. */
typedef struct {
    const volatile sig_atomic_t *stop; /* a flag read before each batch: nonzero stops the
                                          epoch there (a signal handler may set it); NULL:
                                          never stop */
    ptrdiff_t n_done;                  /* in: visits already done, 0 or a multiple of
                                          batch_size; out: with the finished batches */
    double loss_sum;                   /* in and out: the sum over the finished batches of
                                          the batch objective times the batch length */
} cs_mlp_progress;

/* One epoch, or its rest: the rows data->order[n_done..n_order) in minibatches of
 * batch_size, one optimizer step per batch, until they are done or progress->stop is set.
 * state: 2L arrays shaped like params (velocities or Adam's first moments), then, for Adam,
 * 2L more (second moments). On return progress->n_done and ->loss_sum describe the batches
 * done so far; the parameters and the optimizer state are those after the last of them.
 * An epoch stopped and then continued gives the bits of one call. */
int cs_mlp_epoch(cs_mlp *net, const cs_mlp_data *data, ptrdiff_t batch_size, double alpha,
                 cs_optim *opt, void *const *state, cs_mlp_progress *progress);

#endif
