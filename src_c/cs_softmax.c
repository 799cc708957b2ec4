/* csoftmax: the softmax family, dispatched at run time to the best SIMD path.
 * The block kernels are written once in cs_softmax_impl.h and instantiated for float and
 * double on each instruction set by cs_instantiate.h. */
#include <math.h>
#include <string.h>

#include "cs_dispatch.h"
#include "cs_parallel.h"
#include "cs_simd.h"
#include "cs_softmax.h"

typedef struct {
    const void *x;   /* input rows (y for the VJPs) */
    const void *y;   /* second input rows (dy), or NULL */
    void *out;
    ptrdiff_t n_cols;
} cs_softmax_args;

#define CS_TEMPLATE "cs_softmax_impl.h"
#include "cs_instantiate.h"
#undef CS_TEMPLATE

CS_TABLE(cs_block_fn, softmax_block, f32);
CS_TABLE(cs_block_fn, softmax_block, f64);
CS_TABLE(cs_block_fn, log_softmax_block, f32);
CS_TABLE(cs_block_fn, log_softmax_block, f64);
CS_TABLE(cs_block_fn, jacobian_block, f32);
CS_TABLE(cs_block_fn, jacobian_block, f64);
CS_TABLE(cs_block_fn, vjp_block, f32);
CS_TABLE(cs_block_fn, vjp_block, f64);
CS_TABLE(cs_block_fn, log_vjp_block, f32);
CS_TABLE(cs_block_fn, log_vjp_block, f64);

static int run(const cs_block_fn *table, const void *x, const void *y, void *out,
               ptrdiff_t n_rows, ptrdiff_t n_cols, ptrdiff_t work_per_row, int n_threads)
{
    if (n_rows < 0 || n_cols < 0)
        return CS_EINVAL;
    if (n_rows == 0 || n_cols == 0)
        return CS_OK;
    cs_softmax_args args = {x, y, out, n_cols};
    cs_run_rows(table[cs_simd_level()], &args, n_rows, work_per_row, n_threads);
    return CS_OK;
}

#define CS_UNARY(name, table, suf, T, work) \
    int name##_##suf(const T *x, T *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads) \
    { return run(table##_##suf##_table, x, NULL, out, n_rows, n_cols, (work), n_threads); }
#define CS_BINARY(name, table, suf, T) \
    int name##_##suf(const T *y, const T *dy, T *out, ptrdiff_t n_rows, ptrdiff_t n_cols, \
                     int n_threads) \
    { return run(table##_##suf##_table, y, dy, out, n_rows, n_cols, n_cols, n_threads); }

CS_UNARY(cs_softmax, softmax_block, f32, float, n_cols)
CS_UNARY(cs_softmax, softmax_block, f64, double, n_cols)
CS_UNARY(cs_log_softmax, log_softmax_block, f32, float, n_cols)
CS_UNARY(cs_log_softmax, log_softmax_block, f64, double, n_cols)
CS_UNARY(cs_softmax_jacobian, jacobian_block, f32, float, n_cols * n_cols)
CS_UNARY(cs_softmax_jacobian, jacobian_block, f64, double, n_cols * n_cols)
CS_BINARY(cs_softmax_vjp, vjp_block, f32, float)
CS_BINARY(cs_softmax_vjp, vjp_block, f64, double)
CS_BINARY(cs_log_softmax_vjp, log_vjp_block, f32, float)
CS_BINARY(cs_log_softmax_vjp, log_vjp_block, f64, double)
