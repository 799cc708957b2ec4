/* csoftmax: softmax and sigmoid cross-entropy, dispatched at run time to the kernels of the
 * SIMD level in use (the kernels: src_c/kernels/xent_kernels.h). */
#include <stdint.h>
#include <stdlib.h>

#include "cs_kernels.h"
#include "cs_xent.h"

static const cs_block_fn xent_f32[] = CS_PATHS(xent_block_f32);
static const cs_block_fn xent_f64[] = CS_PATHS(xent_block_f64);
static const cs_block_fn sigmoid_xent_f32[] = CS_PATHS(sigmoid_xent_block_f32);
static const cs_block_fn sigmoid_xent_f64[] = CS_PATHS(sigmoid_xent_block_f64);
typedef cs_check_labels_kernel *cs_check_labels_fn;
static const cs_check_labels_fn check_labels_f32[] = CS_PATHS(check_labels_f32);
static const cs_check_labels_fn check_labels_f64[] = CS_PATHS(check_labels_f64);

/* Check the options. */
static int check_opts(const cs_xent_opts *o, ptrdiff_t n_rows, ptrdiff_t n_cols)
{
    if (o == NULL || n_rows < 0 || n_cols < 0 || (n_rows > 0 && n_cols == 0))
        return CS_EINVAL;
    if (!(o->label_smoothing >= 0.0 && o->label_smoothing <= 1.0))
        return CS_EINVAL;
    if (o->reduction != CS_REDUCE_NONE && o->reduction != CS_REDUCE_SUM &&
        o->reduction != CS_REDUCE_MEAN)
        return CS_EINVAL;
    return CS_OK;
}

/* The call's private copy of the hard labels (malloc'ed into *labels; NULL, and nothing
 * allocated, for probabilities), each label read once and checked as it is copied, by the
 * check of the dtype's table: every later pass reads the copy, so a label another thread
 * rewrites during the call can change the loss, never where the kernels read or write.
 * *n_ignored counts the ignored rows. */
static int copy_labels(const cs_check_labels_fn *check_labels, const int64_t *target,
                       const cs_xent_opts *o, ptrdiff_t n_rows, ptrdiff_t n_cols,
                       int64_t **labels, ptrdiff_t *n_ignored)
{
    *labels = NULL;
    *n_ignored = 0;
    if (target == NULL)
        return o->class_weight == NULL ? CS_OK : CS_EINVAL;
    if ((size_t)n_rows > SIZE_MAX / sizeof(int64_t) - 1)
        return CS_ENOMEM;
    *labels = malloc(((size_t)n_rows + 1) * sizeof(int64_t));
    if (*labels == NULL)
        return CS_ENOMEM;
    if (!check_labels[cs_simd_level()](target, *labels, n_rows, n_cols, o->ignore_index,
                                       n_ignored)) {
        free(*labels);
        *labels = NULL;
        return CS_EINVAL;
    }
    return CS_OK;
}

/* D of the mean (cs_xent.h), a blocked sum (cs_common.h); scratch: n_rows doubles. */
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

/* The body of the four softmax cross-entropy entry points. args holds the call's arrays
 * (logits, then target or target_dense, loss_rows, grad) and n_cols; the options fill the
 * rest. */
typedef struct {
    const cs_block_fn *block;
    const cs_check_labels_fn *check_labels;
    const cs_block_fn *sigmoid_block;
} cs_xent_kernels;

static int xent(const cs_xent_kernels *k, cs_xent_args *args, const cs_xent_opts *o,
                ptrdiff_t n_rows, int n_threads, cs_xent_out *out)
{
    const ptrdiff_t n_cols = args->n_cols;
    ptrdiff_t n_ignored;
    int64_t *target;
    if ((args->target == NULL && args->target_dense == NULL) || args->loss_rows == NULL ||
        check_opts(o, n_rows, n_cols) != CS_OK)
        return CS_EINVAL;
    const int status = copy_labels(k->check_labels, args->target, o, n_rows, n_cols, &target,
                                   &n_ignored);
    if (status != CS_OK)
        return status;
    args->target = target;
    const int mean = o->reduction == CS_REDUCE_MEAN;
    const double divisor =
        mean ? mean_divisor(target, o, n_ignored, n_rows, args->loss_rows) : 1.0;
    double cw_sum = 0.0;
    if (o->class_weight != NULL)
        for (ptrdiff_t j = 0; j < n_cols; j++)
            cw_sum += o->class_weight[j];
    args->sample_weight = o->sample_weight;
    args->class_weight = o->class_weight;
    args->class_weight_sum = cw_sum;
    args->ignore_index = target != NULL && n_ignored > 0 ? o->ignore_index : CS_XENT_NO_IGNORE;
    args->any_ignored = target != NULL && n_ignored > 0;
    args->label_smoothing = o->label_smoothing;
    args->grad_scale = mean ? 1.0 / divisor : 1.0;
    cs_run_rows(k->block[cs_simd_level()], args, n_rows, n_cols, n_threads);
    free(target);
    const double total = cs_blocked_sum(args->loss_rows, n_rows);
    out->loss = mean ? total / divisor : total;
    return CS_OK;
}

/* The body of the two sigmoid cross-entropy entry points (args as for xent). */
static int sigmoid_xent(const cs_xent_kernels *k, cs_xent_args *args, ptrdiff_t n_rows,
                        int n_threads, cs_xent_out *out)
{
    if (n_rows < 0 || args->n_cols < 0 || args->loss_rows == NULL)
        return CS_EINVAL;
    args->ignore_index = CS_XENT_NO_IGNORE;
    args->any_ignored = 0;
    args->grad_scale = 1.0;
    cs_run_rows(k->sigmoid_block[cs_simd_level()], args, n_rows, args->n_cols, n_threads);
    out->loss = cs_blocked_sum(args->loss_rows, n_rows);
    return CS_OK;
}

/* The arrays of a call as the bodies take them: the caller's row losses, or NULL (refused
 * by the bodies) when out is NULL; the options are filled in by the body. */
static cs_xent_args call_args(const void *logits, const int64_t *target,
                              const void *target_dense, cs_xent_out *out, void *grad,
                              ptrdiff_t n_cols)
{
    cs_xent_args a = {.logits = logits, .target = target, .target_dense = target_dense,
                      .loss_rows = out != NULL ? out->loss_rows : NULL, .grad = grad,
                      .n_cols = n_cols};
    return a;
}

/* The kernels of each dtype; every entry point below has one shape: its dtype's kernels and
 * its arrays, to one of the two bodies. */
static const cs_xent_kernels kernels_f32 = {xent_f32, check_labels_f32, sigmoid_xent_f32};
static const cs_xent_kernels kernels_f64 = {xent_f64, check_labels_f64, sigmoid_xent_f64};

int cs_xent_hard_f32(const float *logits, const int64_t *target, const cs_xent_opts *opts,
                     cs_xent_out *out, float *grad, ptrdiff_t n_rows, ptrdiff_t n_cols,
                     int n_threads)
{
    cs_xent_args a = call_args(logits, target, NULL, out, grad, n_cols);
    return xent(&kernels_f32, &a, opts, n_rows, n_threads, out);
}

int cs_xent_hard_f64(const double *logits, const int64_t *target, const cs_xent_opts *opts,
                     cs_xent_out *out, double *grad, ptrdiff_t n_rows, ptrdiff_t n_cols,
                     int n_threads)
{
    cs_xent_args a = call_args(logits, target, NULL, out, grad, n_cols);
    return xent(&kernels_f64, &a, opts, n_rows, n_threads, out);
}

int cs_xent_soft_f32(const float *logits, const float *target_prob, const cs_xent_opts *opts,
                     cs_xent_out *out, float *grad, ptrdiff_t n_rows, ptrdiff_t n_cols,
                     int n_threads)
{
    cs_xent_args a = call_args(logits, NULL, target_prob, out, grad, n_cols);
    return xent(&kernels_f32, &a, opts, n_rows, n_threads, out);
}

int cs_xent_soft_f64(const double *logits, const double *target_prob, const cs_xent_opts *opts,
                     cs_xent_out *out, double *grad, ptrdiff_t n_rows, ptrdiff_t n_cols,
                     int n_threads)
{
    cs_xent_args a = call_args(logits, NULL, target_prob, out, grad, n_cols);
    return xent(&kernels_f64, &a, opts, n_rows, n_threads, out);
}

int cs_sigmoid_xent_f32(const float *logits, const float *target, const double *sample_weight,
                        cs_xent_out *out, float *grad, ptrdiff_t n_rows, ptrdiff_t n_cols,
                        int n_threads)
{
    cs_xent_args a = call_args(logits, NULL, target, out, grad, n_cols);
    a.sample_weight = sample_weight;
    return sigmoid_xent(&kernels_f32, &a, n_rows, n_threads, out);
}

int cs_sigmoid_xent_f64(const double *logits, const double *target,
                        const double *sample_weight, cs_xent_out *out, double *grad,
                        ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    cs_xent_args a = call_args(logits, NULL, target, out, grad, n_cols);
    a.sample_weight = sample_weight;
    return sigmoid_xent(&kernels_f64, &a, n_rows, n_threads, out);
}
