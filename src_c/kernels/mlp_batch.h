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

static inline int64_t row_at(const cs_mlp_data *d, ptrdiff_t k)
{
    return d->order != NULL ? d->order[k] : (int64_t)k;
}

/* Load the batch of visits [start, start + m): row numbers, targets and w_i / sum(w) of the
 * batch. Returns the dense batch (a slice of x when the rows are consecutive, else gathered
 * into xbuf, which cs_mlp_epoch made sure exists), or NULL for CSR input. */
static const T *gather(cs_mlp *net, const cs_mlp_data *d, ptrdiff_t start, ptrdiff_t m)
{
    const ptrdiff_t f = net->units[0], n_out = net->units[net->spec.n_layers];
    const int64_t first = row_at(d, start);
    int consecutive = 1;
    for (ptrdiff_t i = 0; i < m; i++) {
        net->rows[i] = row_at(d, start + i);
        consecutive &= net->rows[i] == first + i;
    }
    for (ptrdiff_t i = 0; i < m; i++) {
        if (net->spec.softmax_out)
            net->yidx[i] = d->y_idx[net->rows[i]];
        else
            memcpy(B(net)->ybuf + i * n_out, (const T *)d->y + net->rows[i] * n_out,
                   (size_t)n_out * sizeof(T));
    }
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
    if (d->x == NULL)
        return NULL;
    if (consecutive)
        return (const T *)d->x + first * f;
    gather_args g = {net->rows, (const T *)d->x, B(net)->xbuf, f};
    cs_run_rows(gather_block, &g, m, f, net->n_threads);
    return B(net)->xbuf;
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
