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
    const double *class_weight; /* hard labels: c_j, or NULL */
    double class_weight_sum;    /* sum_j c_j */
    int64_t ignore_index;
    double label_smoothing;
    double grad_scale; /* 1 / D for the mean, else 1 */
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
typedef int (*cs_check_labels_fn)(const int64_t *, ptrdiff_t, ptrdiff_t, int64_t, ptrdiff_t *);
CS_TABLE(cs_check_labels_fn, check_labels, f32);

/* Check the options and the labels; *n_ignored counts the ignored rows. */
static int check_xent(const int64_t *target, const cs_xent_opts *o, ptrdiff_t n_rows,
                      ptrdiff_t n_cols, ptrdiff_t *n_ignored)
{
    if (o == NULL || n_rows < 0 || n_cols < 0 || (n_rows > 0 && n_cols == 0))
        return CS_EINVAL;
    if (!(o->label_smoothing >= 0.0 && o->label_smoothing <= 1.0))
        return CS_EINVAL;
    if (o->reduction != CS_REDUCE_NONE && o->reduction != CS_REDUCE_SUM &&
        o->reduction != CS_REDUCE_MEAN)
        return CS_EINVAL;
    *n_ignored = 0;
    if (target == NULL)
        return o->class_weight == NULL ? CS_OK : CS_EINVAL;
    return check_labels_f32_table[cs_simd_level()](target, n_rows, n_cols, o->ignore_index,
                                                   n_ignored)
               ? CS_OK
               : CS_EINVAL;
}

/* D of the mean (cs_xent.h), summed in the fixed blocked order; scratch: n_rows doubles. */
static double mean_divisor(const int64_t *target, const cs_xent_opts *o, ptrdiff_t n_ignored,
                           ptrdiff_t n_rows, double *scratch)
{
    if (target == NULL || (o->class_weight == NULL && n_ignored == 0))
        return o->sample_weight != NULL ? cs_blocked_sum(o->sample_weight, n_rows)
                                        : (double)n_rows;
    for (ptrdiff_t i = 0; i < n_rows; i++) {
        const int64_t y = target[i];
        const double w = o->sample_weight != NULL ? o->sample_weight[i] : 1.0;
        scratch[i] = y == o->ignore_index ? 0.0
                                          : (o->class_weight != NULL ? w * o->class_weight[y] : w);
    }
    return cs_blocked_sum(scratch, n_rows);
}

static int xent(const cs_block_fn *table, const void *logits, const int64_t *target,
                const void *target_prob, const cs_xent_opts *o, double *loss_rows, double *loss,
                void *grad, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    ptrdiff_t n_ignored;
    if (check_xent(target, o, n_rows, n_cols, &n_ignored) != CS_OK)
        return CS_EINVAL;
    const int mean = o->reduction == CS_REDUCE_MEAN;
    const double divisor = mean ? mean_divisor(target, o, n_ignored, n_rows, loss_rows) : 1.0;
    double cw_sum = 0.0;
    if (o->class_weight != NULL)
        for (ptrdiff_t j = 0; j < n_cols; j++)
            cw_sum += o->class_weight[j];
    cs_xent_args args = {logits, target, target_prob, o->sample_weight, o->class_weight, cw_sum,
                         target != NULL && n_ignored > 0 ? o->ignore_index : CS_XENT_NO_IGNORE,
                         o->label_smoothing, mean ? 1.0 / divisor : 1.0, loss_rows, grad,
                         n_cols};
    cs_run_rows(table[cs_simd_level()], &args, n_rows, n_cols, n_threads);
    const double total = cs_blocked_sum(loss_rows, n_rows);
    *loss = mean ? total / divisor : total;
    return CS_OK;
}

#define CS_XENT_ENTRY(name, suf, T, target_arg, hard)                                          \
    int name##_##suf(const T *logits, const target_arg *target, const cs_xent_opts *opts,      \
                     double *loss_rows, double *loss, T *grad, ptrdiff_t n_rows,              \
                     ptrdiff_t n_cols, int n_threads)                                         \
    {                                                                                         \
        if (target == NULL || loss_rows == NULL || loss == NULL)                              \
            return CS_EINVAL;                                                                 \
        return xent(xent_block_##suf##_table, logits, hard ? (const int64_t *)target : NULL,  \
                    hard ? NULL : (const void *)target, opts, loss_rows, loss, grad, n_rows,  \
                    n_cols, n_threads);                                                       \
    }

CS_XENT_ENTRY(cs_xent_hard, f32, float, int64_t, 1)
CS_XENT_ENTRY(cs_xent_hard, f64, double, int64_t, 1)
CS_XENT_ENTRY(cs_xent_soft, f32, float, float, 0)
CS_XENT_ENTRY(cs_xent_soft, f64, double, double, 0)

static int sigmoid_xent(const cs_block_fn *table, const void *logits, const void *target,
                        const double *sample_weight, double *loss_rows, double *loss,
                        void *grad, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    if (n_rows < 0 || n_cols < 0)
        return CS_EINVAL;
    cs_xent_args args = {logits, NULL, target, sample_weight, NULL, 0.0, CS_XENT_NO_IGNORE,
                         0.0, 1.0, loss_rows, grad, n_cols};
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
