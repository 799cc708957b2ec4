/* Kernel body (see kernel.h), part of the MLP engine (mlp_kernels.h): the row kernels around
 * the products: bias + activation, the activation's derivative, column sums. */

typedef struct {
    T *z;          /* (n_rows, n_cols), in place */
    const T *b;    /* (n_cols,) bias, or the activation values for act_backward */
    int act;
    ptrdiff_t n_cols;
} rows_args;

/* z = act(z + b), row by row. */
static void bias_act_block(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const rows_args *a = ctx;
    const ptrdiff_t n = a->n_cols;
    const T *b = a->b;
    for (ptrdiff_t i = row0; i < row1; i++) {
        T *zi = a->z + i * n;
        switch (a->act) {
        case CS_ACT_RELU:
            for (ptrdiff_t j = 0; j < n; j++) { /* NaN passes, as np.maximum(v, 0) */
                const T v = zi[j] + b[j];
                zi[j] = !(v <= 0) ? v : 0;
            }
            break;
        case CS_ACT_LOGISTIC:
            for (ptrdiff_t j = 0; j < n; j++)
                zi[j] = (T)(1.0 / (1.0 + exp(-(double)(zi[j] + b[j]))));
            break;
        case CS_ACT_TANH:
            for (ptrdiff_t j = 0; j < n; j++)
                zi[j] = (T)tanh((double)(zi[j] + b[j]));
            break;
        default:
            for (ptrdiff_t j = 0; j < n; j++)
                zi[j] += b[j];
        }
    }
}

/* delta *= act'(.), expressed through the activation's output a = act(z):
 * identity 1, logistic a (1 - a), tanh 1 - a^2, relu [a > 0] (a NaN a keeps delta). */
static void act_backward_block(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const rows_args *r = ctx;
    T *d = r->z + row0 * r->n_cols;
    const T *a = r->b + row0 * r->n_cols;
    const ptrdiff_t n = (row1 - row0) * r->n_cols;
    switch (r->act) {
    case CS_ACT_RELU:
        for (ptrdiff_t i = 0; i < n; i++)
            d[i] = !(a[i] <= 0) ? d[i] : 0;
        break;
    case CS_ACT_LOGISTIC:
        for (ptrdiff_t i = 0; i < n; i++)
            d[i] *= a[i] * (1 - a[i]);
        break;
    case CS_ACT_TANH:
        for (ptrdiff_t i = 0; i < n; i++)
            d[i] *= 1 - a[i] * a[i];
        break;
    default:
        break;
    }
}

typedef struct {
    const T *d;  /* (n_rows, n_cols) */
    double *acc; /* (n_cols,) accumulators */
    T *out;      /* (n_cols,) */
    ptrdiff_t n_rows, n_cols;
} colsum_args;

/* out[j] = sum_i d[i, j] for the columns [col0, col1), in double, rows in order. */
static void col_sum_block(const void *ctx, ptrdiff_t col0, ptrdiff_t col1)
{
    const colsum_args *a = ctx;
    for (ptrdiff_t j = col0; j < col1; j++)
        a->acc[j] = 0.0;
    for (ptrdiff_t i = 0; i < a->n_rows; i++) {
        const T *di = a->d + i * a->n_cols;
        for (ptrdiff_t j = col0; j < col1; j++)
            a->acc[j] += di[j];
    }
    for (ptrdiff_t j = col0; j < col1; j++)
        a->out[j] = (T)a->acc[j];
}
