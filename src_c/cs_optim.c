/* csoftmax: SGD and Adam (see cs_optim.h); the sweeps are the kernels of
 * src_c/kernels/optim_kernels.h, dispatched at run time. */
#include <math.h>

#include "cs_kernels.h"
#include "cs_optim.h"

static cs_sweep_f32_kernel *const optim_sweep_f32[] = CS_PATHS(optim_sweep_f32);
static cs_sweep_f64_kernel *const optim_sweep_f64[] = CS_PATHS(optim_sweep_f64);
static cs_sum_squares_f32_kernel *const sum_squares_f32[] = CS_PATHS(sum_squares_f32);
static cs_sum_squares_f64_kernel *const sum_squares_f64[] = CS_PATHS(sum_squares_f64);

/* An Adam step costs about as much per element as a few elements of a row kernel (a square
 * root and a division): the weight of an element in cs_run_rows's threshold. */
#define CS_OPTIM_WORK 4

typedef struct {
    const cs_optim *opt;
    void *p, *s1, *s2;
    const void *grad;
    double l2;
} cs_sweep_args;

static void sweep_block_f32(const void *ctx, ptrdiff_t i0, ptrdiff_t i1)
{
    const cs_sweep_args *a = ctx;
    optim_sweep_f32[cs_simd_level()](a->opt, a->p, a->grad, a->s1, a->s2, i0, i1, a->l2);
}

static void sweep_block_f64(const void *ctx, ptrdiff_t i0, ptrdiff_t i1)
{
    const cs_sweep_args *a = ctx;
    optim_sweep_f64[cs_simd_level()](a->opt, a->p, a->grad, a->s1, a->s2, i0, i1, a->l2);
}

static double adam_step_size(const cs_optim *o)
{
    const double t = (double)o->t;
    return o->learning_rate * sqrt(1.0 - pow(o->beta_2, t)) / (1.0 - pow(o->beta_1, t));
}

void cs_optim_begin_step(cs_optim *o)
{
    if (o->kind == CS_OPTIM_ADAM) {
        o->t += 1;
        o->step_size = adam_step_size(o);
    } else {
        o->step_size = o->learning_rate;
    }
}

double cs_optim_learning_rate(const cs_optim *o)
{
    if (o->kind == CS_OPTIM_ADAM && o->t > 0)
        return adam_step_size(o);
    return o->learning_rate;
}

int cs_optim_update_f32(const cs_optim *opt, float *p, const float *grad, float *s1, float *s2,
                        ptrdiff_t n, double l2, double *sq_norm, int n_threads)
{
    if (opt->kind != CS_OPTIM_SGD && opt->kind != CS_OPTIM_ADAM)
        return CS_EINVAL;
    *sq_norm = sum_squares_f32[cs_simd_level()](p, n);
    const cs_sweep_args a = {opt, p, s1, s2, grad, l2};
    cs_run_rows(sweep_block_f32, &a, n, CS_OPTIM_WORK, n_threads);
    return CS_OK;
}

int cs_optim_update_f64(const cs_optim *opt, double *p, const double *grad, double *s1,
                        double *s2, ptrdiff_t n, double l2, double *sq_norm, int n_threads)
{
    if (opt->kind != CS_OPTIM_SGD && opt->kind != CS_OPTIM_ADAM)
        return CS_EINVAL;
    *sq_norm = sum_squares_f64[cs_simd_level()](p, n);
    const cs_sweep_args a = {opt, p, s1, s2, grad, l2};
    cs_run_rows(sweep_block_f64, &a, n, CS_OPTIM_WORK, n_threads);
    return CS_OK;
}
