/* csoftmax: SGD and Adam (see cs_optim.h); the sweeps are written once in cs_optim_impl.h. */
#include <math.h>

#include "cs_dispatch.h"
#include "cs_optim.h"
#include "cs_simd.h"

#define CS_TEMPLATE "cs_optim_impl.h"
#include "cs_instantiate.h"
#undef CS_TEMPLATE

typedef int (*cs_update_f32_fn)(const cs_optim *, float *, const float *, float *, float *,
                                ptrdiff_t, double, double *);
typedef int (*cs_update_f64_fn)(const cs_optim *, double *, const double *, double *, double *,
                                ptrdiff_t, double, double *);
CS_TABLE(cs_update_f32_fn, optim_update, f32);
CS_TABLE(cs_update_f64_fn, optim_update, f64);

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
                        ptrdiff_t n, double l2, double *sq_norm)
{
    return optim_update_f32_table[cs_simd_level()](opt, p, grad, s1, s2, n, l2, sq_norm);
}

int cs_optim_update_f64(const cs_optim *opt, double *p, const double *grad, double *s1,
                        double *s2, ptrdiff_t n, double l2, double *sq_norm)
{
    return optim_update_f64_table[cs_simd_level()](opt, p, grad, s1, s2, n, l2, sq_norm);
}
