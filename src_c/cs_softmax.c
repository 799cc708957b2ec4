/* csoftmax: the softmax family's entry points, each dispatched at run time to its kernel for
 * the SIMD level in use (the kernels: src_c/kernels/softmax_kernels.h). */
#include "cs_kernels.h"
#include "cs_softmax.h"

static const cs_block_fn softmax_f32[] = CS_PATHS(softmax_block_f32);
static const cs_block_fn softmax_f64[] = CS_PATHS(softmax_block_f64);
static const cs_block_fn log_softmax_f32[] = CS_PATHS(log_softmax_block_f32);
static const cs_block_fn log_softmax_f64[] = CS_PATHS(log_softmax_block_f64);
static const cs_block_fn jacobian_f32[] = CS_PATHS(jacobian_block_f32);
static const cs_block_fn jacobian_f64[] = CS_PATHS(jacobian_block_f64);
static const cs_block_fn vjp_f32[] = CS_PATHS(vjp_block_f32);
static const cs_block_fn vjp_f64[] = CS_PATHS(vjp_block_f64);
static const cs_block_fn log_vjp_f32[] = CS_PATHS(log_vjp_block_f32);
static const cs_block_fn log_vjp_f64[] = CS_PATHS(log_vjp_block_f64);

/* The body every entry point shares: check the sizes, then split the rows of args over the
 * threads, each element of a row costing work_per_row / n_cols. */
static int run(const cs_block_fn *table, cs_softmax_args *args, ptrdiff_t n_rows,
               ptrdiff_t work_per_row, int n_threads)
{
    if (n_rows < 0 || args->n_cols < 0)
        return CS_EINVAL;
    if (args->check != NULL)
        args->check->bad_row = -1;
    if (n_rows == 0 || args->n_cols == 0)
        return CS_OK;
    cs_run_rows(table[cs_simd_level()], args, n_rows, work_per_row, n_threads);
    return CS_OK;
}

#define CS_ARGS(x, dy, where, out, n_cols, bad) \
    (&(cs_softmax_args){(x), (dy), (out), (n_cols), (where), (bad)})

int cs_softmax_f32(const float *x, const unsigned char *where, float *out, ptrdiff_t n_rows,
                   ptrdiff_t n_cols, int n_threads)
{
    return run(softmax_f32, CS_ARGS(x, NULL, where, out, n_cols, NULL), n_rows, n_cols,
               n_threads);
}

int cs_softmax_f64(const double *x, const unsigned char *where, double *out, ptrdiff_t n_rows,
                   ptrdiff_t n_cols, int n_threads)
{
    return run(softmax_f64, CS_ARGS(x, NULL, where, out, n_cols, NULL), n_rows, n_cols,
               n_threads);
}

int cs_log_softmax_f32(const float *x, const unsigned char *where, float *out,
                       ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    return run(log_softmax_f32, CS_ARGS(x, NULL, where, out, n_cols, NULL), n_rows, n_cols,
               n_threads);
}

int cs_log_softmax_f64(const double *x, const unsigned char *where, double *out,
                       ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    return run(log_softmax_f64, CS_ARGS(x, NULL, where, out, n_cols, NULL), n_rows, n_cols,
               n_threads);
}

int cs_softmax_jacobian_f32(const float *x, float *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                            int n_threads)
{
    return run(jacobian_f32, CS_ARGS(x, NULL, NULL, out, n_cols, NULL), n_rows,
               n_cols * n_cols, n_threads);
}

int cs_softmax_jacobian_f64(const double *x, double *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                            int n_threads)
{
    return run(jacobian_f64, CS_ARGS(x, NULL, NULL, out, n_cols, NULL), n_rows,
               n_cols * n_cols, n_threads);
}

int cs_softmax_vjp_f32(const float *y, const float *dy, const unsigned char *where, float *out,
                       ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads, cs_vjp_check *check)
{
    return run(vjp_f32, CS_ARGS(y, dy, where, out, n_cols, check), n_rows, n_cols,
               n_threads);
}

int cs_softmax_vjp_f64(const double *y, const double *dy, const unsigned char *where,
                       double *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads,
                       cs_vjp_check *check)
{
    return run(vjp_f64, CS_ARGS(y, dy, where, out, n_cols, check), n_rows, n_cols,
               n_threads);
}

int cs_log_softmax_vjp_f32(const float *y, const float *dy, const unsigned char *where,
                           float *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    return run(log_vjp_f32, CS_ARGS(y, dy, where, out, n_cols, NULL), n_rows, n_cols,
               n_threads);
}

int cs_log_softmax_vjp_f64(const double *y, const double *dy, const unsigned char *where,
                           double *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads)
{
    return run(log_vjp_f64, CS_ARGS(y, dy, where, out, n_cols, NULL), n_rows, n_cols,
               n_threads);
}
