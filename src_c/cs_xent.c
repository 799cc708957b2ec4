/* csoftmax: softmax and sigmoid cross-entropy, dispatched at run time to the best SIMD path.
 * The row kernels are written once in cs_xent_impl.h (see cs_instantiate.h). */
#include <math.h>
#include <string.h>

#include "cs_dispatch.h"
#include "cs_parallel.h"
#include "cs_simd.h"
#include "cs_xent.h"

typedef struct {
    const void *logits;
    const int64_t *target;   /* hard labels, or NULL */
    const void *target_prob; /* probabilities, or NULL */
    const double *sample_weight;
    double label_smoothing;
    double grad_scale; /* 1 / sum(w) for the mean, else 1 */
    double *loss_rows;
    void *grad;
    ptrdiff_t n_cols;
} cs_xent_args;

#define CS_TEMPLATE "cs_xent_impl.h"
#include "cs_instantiate.h"
#undef CS_TEMPLATE

CS_TABLE(cs_block_fn, xent_block, f32);
CS_TABLE(cs_block_fn, xent_block, f64);
CS_TABLE(cs_block_fn, sigmoid_xent_block, f32);
CS_TABLE(cs_block_fn, sigmoid_xent_block, f64);

static int xent(const cs_block_fn *table, const void *logits, const int64_t *target,
                const void *target_prob, const double *sample_weight, double label_smoothing,
                int reduction, double *loss_rows, double *loss, void *grad, ptrdiff_t n_rows,
                ptrdiff_t n_cols, int n_threads)
{
    if (n_rows < 0 || n_cols < 0 || (n_rows > 0 && n_cols == 0))
        return CS_EINVAL;
    if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
        return CS_EINVAL;
    if (reduction != CS_REDUCE_NONE && reduction != CS_REDUCE_SUM && reduction != CS_REDUCE_MEAN)
        return CS_EINVAL;
    if (target != NULL)
        for (ptrdiff_t i = 0; i < n_rows; i++)
            if (target[i] < 0 || target[i] >= n_cols)
                return CS_EINVAL;
    double w_sum = (double)n_rows;
    if (sample_weight != NULL)
        w_sum = cs_blocked_sum(sample_weight, n_rows);
    cs_xent_args args = {logits, target, target_prob, sample_weight, label_smoothing,
                         reduction == CS_REDUCE_MEAN ? 1.0 / w_sum : 1.0, loss_rows, grad,
                         n_cols};
    cs_run_rows(table[cs_simd_level()], &args, n_rows, n_cols, n_threads);
    double total = cs_blocked_sum(loss_rows, n_rows);
    *loss = reduction == CS_REDUCE_MEAN ? total / w_sum : total;
    return CS_OK;
}

int cs_xent_hard_f32(const float *logits, const int64_t *target, const double *sample_weight,
                     double label_smoothing, int reduction, double *loss_rows, double *loss,
                     float *grad, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    if (target == NULL)
        return CS_EINVAL;
    return xent(xent_block_f32_table, logits, target, NULL, sample_weight, label_smoothing, reduction,
                loss_rows, loss, grad, n_rows, n_cols, n_threads);
}

int cs_xent_hard_f64(const double *logits, const int64_t *target, const double *sample_weight,
                     double label_smoothing, int reduction, double *loss_rows, double *loss,
                     double *grad, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    if (target == NULL)
        return CS_EINVAL;
    return xent(xent_block_f64_table, logits, target, NULL, sample_weight, label_smoothing, reduction,
                loss_rows, loss, grad, n_rows, n_cols, n_threads);
}

int cs_xent_soft_f32(const float *logits, const float *target_prob, const double *sample_weight,
                     double label_smoothing, int reduction, double *loss_rows, double *loss,
                     float *grad, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    if (target_prob == NULL)
        return CS_EINVAL;
    return xent(xent_block_f32_table, logits, NULL, target_prob, sample_weight, label_smoothing,
                reduction, loss_rows, loss, grad, n_rows, n_cols, n_threads);
}

int cs_xent_soft_f64(const double *logits, const double *target_prob,
                     const double *sample_weight, double label_smoothing, int reduction,
                     double *loss_rows, double *loss, double *grad, ptrdiff_t n_rows,
                     ptrdiff_t n_cols, int n_threads)
{
    if (target_prob == NULL)
        return CS_EINVAL;
    return xent(xent_block_f64_table, logits, NULL, target_prob, sample_weight, label_smoothing,
                reduction, loss_rows, loss, grad, n_rows, n_cols, n_threads);
}

static int sigmoid_xent(const cs_block_fn *table, const void *logits, const void *target,
                        const double *sample_weight, double *loss_rows, double *loss,
                        void *grad, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    if (n_rows < 0 || n_cols < 0)
        return CS_EINVAL;
    cs_xent_args args = {logits, NULL, target, sample_weight, 0.0, 1.0, loss_rows, grad, n_cols};
    cs_run_rows(table[cs_simd_level()], &args, n_rows, n_cols, n_threads);
    *loss = cs_blocked_sum(loss_rows, n_rows);
    return CS_OK;
}

int cs_sigmoid_xent_f32(const float *logits, const float *target, const double *sample_weight,
                        double *loss_rows, double *loss, float *grad, ptrdiff_t n_rows,
                        ptrdiff_t n_cols, int n_threads)
{
    return sigmoid_xent(sigmoid_xent_block_f32_table, logits, target, sample_weight, loss_rows,
                        loss, grad, n_rows, n_cols, n_threads);
}

int cs_sigmoid_xent_f64(const double *logits, const double *target,
                        const double *sample_weight, double *loss_rows, double *loss,
                        double *grad, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    return sigmoid_xent(sigmoid_xent_block_f64_table, logits, target, sample_weight, loss_rows,
                        loss, grad, n_rows, n_cols, n_threads);
}
