/* Template for cs_mlp.c: included once with T = float (SUF f32), once with T = double. */

int CS_MLP_FN(cs_mlp_bias_act)(T *z, const T *b, int act, ptrdiff_t n_rows, ptrdiff_t n_cols,
                               int n_threads)
{
    const int nt = n_rows * n_cols >= CS_PARALLEL_MIN_ELEMS ? n_threads : 1;
    ptrdiff_t i;
    (void)nt;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (i = 0; i < n_rows; i++) {
        T *zi = z + i * n_cols;
        switch (act) {
        case CS_ACT_RELU:
            for (ptrdiff_t j = 0; j < n_cols; j++) {
                const T v = zi[j] + b[j];
                zi[j] = v > 0 ? v : 0;
            }
            break;
        case CS_ACT_LOGISTIC:
            for (ptrdiff_t j = 0; j < n_cols; j++)
                zi[j] = (T)(1.0 / (1.0 + exp(-(double)(zi[j] + b[j]))));
            break;
        case CS_ACT_TANH:
            for (ptrdiff_t j = 0; j < n_cols; j++)
                zi[j] = (T)tanh((double)(zi[j] + b[j]));
            break;
        default:
            for (ptrdiff_t j = 0; j < n_cols; j++)
                zi[j] += b[j];
        }
    }
    return CS_OK;
}

int CS_MLP_FN(cs_mlp_act_backward)(T *delta, const T *a, int act, ptrdiff_t n_rows,
                                   ptrdiff_t n_cols, int n_threads)
{
    const ptrdiff_t n = n_rows * n_cols;
    const int nt = n >= CS_PARALLEL_MIN_ELEMS ? n_threads : 1;
    ptrdiff_t i;
    (void)nt;
    switch (act) {
    case CS_ACT_RELU:
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (i = 0; i < n; i++)
            delta[i] = a[i] > 0 ? delta[i] : 0;
        break;
    case CS_ACT_LOGISTIC:
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (i = 0; i < n; i++)
            delta[i] *= a[i] * (1 - a[i]);
        break;
    case CS_ACT_TANH:
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (i = 0; i < n; i++)
            delta[i] *= 1 - a[i] * a[i];
        break;
    default:
        break;
    }
    return CS_OK;
}

int CS_MLP_FN(cs_mlp_logistic_loss)(const T *z, const T *y, const double *sample_weight,
                                    double scale, double *loss_rows, T *grad, ptrdiff_t n_rows,
                                    ptrdiff_t n_cols)
{
    for (ptrdiff_t i = 0; i < n_rows; i++) {
        const double w = sample_weight != NULL ? sample_weight[i] : 1.0;
        double loss = 0.0;
        for (ptrdiff_t j = 0; j < n_cols; j++) {
            const double zj = z[i * n_cols + j], yj = y[i * n_cols + j];
            const double e = exp(-fabs(zj)); /* in (0, 1]: never overflows */
            loss += (zj > 0 ? zj : 0.0) - yj * zj + log1p(e);
            const double p = zj >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
            grad[i * n_cols + j] = (T)(w * scale * (p - yj));
        }
        loss_rows[i] = w * loss;
    }
    return CS_OK;
}

int CS_MLP_FN(cs_mlp_col_sum)(const T *d, double *acc, T *out, ptrdiff_t n_rows,
                              ptrdiff_t n_cols)
{
    for (ptrdiff_t j = 0; j < n_cols; j++)
        acc[j] = 0.0;
    for (ptrdiff_t i = 0; i < n_rows; i++)
        for (ptrdiff_t j = 0; j < n_cols; j++)
            acc[j] += d[i * n_cols + j];
    for (ptrdiff_t j = 0; j < n_cols; j++)
        out[j] = (T)acc[j];
    return CS_OK;
}

double CS_MLP_FN(cs_mlp_adam)(T *p, const T *grad, T *m, T *v, ptrdiff_t n, double l2,
                              double lr, double b1, double b2, double eps)
{
    const T tl2 = (T)l2, tb1 = (T)b1, tb2 = (T)b2, c1 = (T)(1.0 - b1), c2 = (T)(1.0 - b2);
    const T tlr = (T)lr, teps = (T)eps;
    double sq = 0.0;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T w = p[i];
        sq += (double)w * (double)w;
        const T g = grad[i] + tl2 * w;
        const T mi = tb1 * m[i] + c1 * g;
        const T vi = tb2 * v[i] + c2 * (g * g);
        m[i] = mi;
        v[i] = vi;
        p[i] = w + (-tlr * mi) / (CS_MLP_SQRT(vi) + teps);
    }
    return sq;
}

double CS_MLP_FN(cs_mlp_sgd)(T *p, const T *grad, T *vel, ptrdiff_t n, double l2, double lr,
                             double momentum, int nesterov)
{
    const T tl2 = (T)l2, tlr = (T)lr, tmu = (T)momentum;
    double sq = 0.0;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T w = p[i];
        sq += (double)w * (double)w;
        const T g = grad[i] + tl2 * w;
        const T u = tmu * vel[i] - tlr * g;
        vel[i] = u;
        p[i] = w + (nesterov ? tmu * u - tlr * g : u);
    }
    return sq;
}

double CS_MLP_FN(cs_mlp_l2)(const T *p, T *grad, ptrdiff_t n, double l2)
{
    const T tl2 = (T)l2;
    double sq = 0.0;
    for (ptrdiff_t i = 0; i < n; i++) {
        sq += (double)p[i] * (double)p[i];
        grad[i] += tl2 * p[i];
    }
    return sq;
}

int CS_MLP_FN(cs_mlp_csr_matmul)(const T *data, const int64_t *indices, const int64_t *indptr,
                                 const int64_t *rows, const T *w, T *z, ptrdiff_t n_rows,
                                 ptrdiff_t n_out)
{
    for (ptrdiff_t i = 0; i < n_rows; i++) {
        T *zi = z + i * n_out;
        for (ptrdiff_t j = 0; j < n_out; j++)
            zi[j] = 0;
        const int64_t r = rows[i];
        for (int64_t p = indptr[r]; p < indptr[r + 1]; p++) {
            const T v = data[p];
            const T *wk = w + indices[p] * n_out;
            for (ptrdiff_t j = 0; j < n_out; j++)
                zi[j] += v * wk[j];
        }
    }
    return CS_OK;
}

int CS_MLP_FN(cs_mlp_csr_tmatmul)(const T *data, const int64_t *indices, const int64_t *indptr,
                                  const int64_t *rows, const T *d, T *g, ptrdiff_t n_rows,
                                  ptrdiff_t n_features, ptrdiff_t n_out)
{
    for (ptrdiff_t k = 0; k < n_features * n_out; k++)
        g[k] = 0;
    for (ptrdiff_t i = 0; i < n_rows; i++) {
        const T *di = d + i * n_out;
        const int64_t r = rows[i];
        for (int64_t p = indptr[r]; p < indptr[r + 1]; p++) {
            const T v = data[p];
            T *gk = g + indices[p] * n_out;
            for (ptrdiff_t j = 0; j < n_out; j++)
                gk[j] += v * di[j];
        }
    }
    return CS_OK;
}
