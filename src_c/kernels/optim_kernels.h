/* Kernel body (see kernel.h): the parameter sweeps of the optimizers in cs_optim.h.
 *
 * The squared norm of the weights (for the L2 term of the reported loss) is summed apart
 * from the update, as an eight-way sum (cs_common.h): element i in double accumulator i % 8,
 * folded in a fixed order, so that the sum vectorizes and its bits depend on
 * nothing but the values. */

double CS_KERNEL(sum_squares)(const T *p, ptrdiff_t n)
{
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += (double)p[i + k] * (double)p[i + k];
    for (int k = 0; i < n; i++, k++)
        acc[k] += (double)p[i] * (double)p[i];
    return CS_FOLD8(acc);
}

static void sgd_sweep(const cs_optim *o, T *p, const T *grad, T *vel, ptrdiff_t n,
                      double l2)
{
    const T tl2 = (T)l2, tlr = (T)o->step_size, tmu = (T)o->momentum;
    const int nesterov = o->nesterov;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T w = p[i];
        const T g = grad[i] + tl2 * w;
        const T u = tmu * vel[i] - tlr * g;
        vel[i] = u;
        p[i] = w + (nesterov ? tmu * u - tlr * g : u);
    }
}

static void adam_sweep(const cs_optim *o, T *p, const T *grad, T *m, T *v, ptrdiff_t n,
                       double l2)
{
    const T tl2 = (T)l2, tb1 = (T)o->beta_1, tb2 = (T)o->beta_2;
    const T c1 = (T)(1.0 - o->beta_1), c2 = (T)(1.0 - o->beta_2);
    const T tlr = (T)o->step_size, teps = (T)o->epsilon;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T w = p[i];
        const T g = grad[i] + tl2 * w;
        const T mi = tb1 * m[i] + c1 * g;
        const T vi = tb2 * v[i] + c2 * (g * g);
        m[i] = mi;
        v[i] = vi;
        p[i] = w + (-tlr * mi) / (T_SQRT(vi) + teps);
    }
}

/* Elements [i0, i1) of the step of a cs_sweep_args (the caller has checked the kind). Every
 * element is computed on its own, each operation rounded in T (vector and scalar lanes
 * alike: no contraction, and IEEE sqrt and division), so any split of the range gives the
 * same bits. */
void CS_KERNEL(optim_sweep_block)(const void *ctx, ptrdiff_t i0, ptrdiff_t i1)
{
    const cs_sweep_args *a = ctx;
    T *p = a->p, *s1 = a->s1, *s2 = a->s2;
    const T *grad = a->grad;
    if (a->opt->kind == CS_OPTIM_SGD)
        sgd_sweep(a->opt, p + i0, grad + i0, s1 + i0, i1 - i0, a->l2);
    else
        adam_sweep(a->opt, p + i0, grad + i0, s1 + i0, s2 + i0, i1 - i0, a->l2);
}
