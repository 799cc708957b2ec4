/* Kernel body (see kernel.h), part of the MLP engine (mlp_kernels.h): a batch's rows,
 * targets and weights gathered from the training data. */

typedef struct {
    const int64_t *rows;
    const T *x;
    T *out;
    ptrdiff_t f;
} gather_args;

/* out[i] = x[rows[i]] for the batch rows [i0, i1): a copy from scattered rows, split over
 * the threads (it waits on memory more than on arithmetic). */
static void gather_block(const void *ctx, ptrdiff_t i0, ptrdiff_t i1)
{
    const gather_args *g = ctx;
    for (ptrdiff_t i = i0; i < i1; i++)
        memcpy(g->out + i * g->f, g->x + g->rows[i] * g->f, (size_t)g->f * sizeof(T));
}

/* The row of visit k, read once (CS_READ_ONCE_I64). */
static inline int64_t row_at(const cs_mlp_data *d, ptrdiff_t k)
{
    int64_t r = (int64_t)k;
    if (d->order != NULL)
        CS_READ_ONCE_I64(r, d->order + k);
    return r;
}

/* Row numbers and targets of the batch of visits [start, start + m) into net->rows and
 * net->yidx or ybuf, each row number and label read once from the caller's arrays and
 * checked as it is copied: cs_mlp.c checked them before the call, so one out of range means
 * another thread changed it since (CS_EINVAL). The passes read only the copies. */
static int gather_rows(cs_mlp *net, const cs_mlp_data *d, ptrdiff_t start, ptrdiff_t m)
{
    const ptrdiff_t n_out = net->units[net->spec.n_layers];
    uint64_t bad = 0;
    for (ptrdiff_t i = 0; i < m; i++) {
        const int64_t r = row_at(d, start + i);
        net->rows[i] = r;
        bad |= (uint64_t)r >= (uint64_t)d->n_rows;
    }
    if (bad)
        return CS_EINVAL;
    for (ptrdiff_t i = 0; i < m; i++) {
        if (net->spec.softmax_out) {
            int64_t y;
            CS_READ_ONCE_I64(y, d->y_idx + net->rows[i]);
            net->yidx[i] = y;
            bad |= (uint64_t)y >= (uint64_t)n_out;
        } else {
            memcpy(B(net)->ybuf + i * n_out, (const T *)d->y + net->rows[i] * n_out,
                   (size_t)n_out * sizeof(T));
        }
    }
    return bad ? CS_EINVAL : CS_OK;
}

/* Load the batch of visits [start, start + m): row numbers, targets (gather_rows) and
 * w_i / sum(w) of the batch. *x0 receives the dense batch (a slice of x when the rows are
 * consecutive, else gathered into xbuf, which cs_mlp_epoch made sure exists), or NULL for
 * CSR input. Returns CS_OK, or CS_EINVAL from gather_rows (nothing else done). */
static int gather(cs_mlp *net, const cs_mlp_data *d, ptrdiff_t start, ptrdiff_t m,
                  const T **x0)
{
    const ptrdiff_t f = net->units[0];
    if (gather_rows(net, d, start, m) != CS_OK)
        return CS_EINVAL;
    const int64_t first = net->rows[0];
    int consecutive = 1;
    for (ptrdiff_t i = 0; i < m; i++)
        consecutive &= net->rows[i] == first + i;
    if (d->sample_weight != NULL) {
        for (ptrdiff_t i = 0; i < m; i++)
            net->wbuf[i] = d->sample_weight[net->rows[i]];
        const double sw = cs_blocked_sum(net->wbuf, m);
        for (ptrdiff_t i = 0; i < m; i++)
            net->wbuf[i] /= sw;
    } else {
        for (ptrdiff_t i = 0; i < m; i++)
            net->wbuf[i] = 1.0 / (double)m;
    }
    *x0 = NULL;
    if (d->x == NULL)
        return CS_OK;
    if (consecutive) {
        *x0 = (const T *)d->x + first * f;
        return CS_OK;
    }
    gather_args g = {net->rows, (const T *)d->x, B(net)->xbuf, f};
    cs_run_rows(gather_block, &g, m, f, net->n_threads);
    *x0 = B(net)->xbuf;
    return CS_OK;
}

/* sum of the raw sample weights of the batch (its length when unweighted): a serial sum in
 * visit order, by which the L2 term is divided (gather normalises w by a blocked sum
 * instead: two orders of the table in cs_common.h). */
static double batch_weight(const cs_mlp *net, const cs_mlp_data *d, ptrdiff_t m)
{
    if (d->sample_weight == NULL)
        return (double)m;
    double s = 0.0;
    for (ptrdiff_t i = 0; i < m; i++)
        s += d->sample_weight[net->rows[i]];
    return s;
}
