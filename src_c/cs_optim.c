/* csoftmax: SGD and Adam (see cs_optim.h); the sweeps are the kernels of
 * src_c/kernels/optim_kernels.h, dispatched at run time. */
#include <math.h>

#include "cs_kernels.h"
#include "cs_optim.h"

static const cs_block_fn optim_sweep_f32[] = CS_PATHS(optim_sweep_block_f32);
static const cs_block_fn optim_sweep_f64[] = CS_PATHS(optim_sweep_block_f64);
static cs_sum_squares_f32_kernel *const sum_squares_f32[] = CS_PATHS(sum_squares_f32);
static cs_sum_squares_f64_kernel *const sum_squares_f64[] = CS_PATHS(sum_squares_f64);

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

int cs_optim_update_f32(const cs_optim *opt, float *p, const float *grad, float *const *state,
                        ptrdiff_t n, double l2, double *sq_norm, int n_threads)
{
    if (opt->kind != CS_OPTIM_SGD && opt->kind != CS_OPTIM_ADAM)
        return CS_EINVAL;
    *sq_norm = sum_squares_f32[cs_simd_level()](p, n);
    const cs_sweep_args a = {opt, p, state[0], opt->kind == CS_OPTIM_ADAM ? state[1] : NULL,
                             grad, l2};
    cs_run_rows(optim_sweep_f32[cs_simd_level()], &a, n, CS_OPTIM_WORK, n_threads);
    return CS_OK;
}

int cs_optim_update_f64(const cs_optim *opt, double *p, const double *grad,
                        double *const *state, ptrdiff_t n, double l2, double *sq_norm,
                        int n_threads)
{
    if (opt->kind != CS_OPTIM_SGD && opt->kind != CS_OPTIM_ADAM)
        return CS_EINVAL;
    *sq_norm = sum_squares_f64[cs_simd_level()](p, n);
    const cs_sweep_args a = {opt, p, state[0], opt->kind == CS_OPTIM_ADAM ? state[1] : NULL,
                             grad, l2};
    cs_run_rows(optim_sweep_f64[cs_simd_level()], &a, n, CS_OPTIM_WORK, n_threads);
    return CS_OK;
}
