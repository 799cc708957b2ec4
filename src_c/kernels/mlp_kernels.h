/* Kernel body (see kernel.h): the passes of the MLP engine of cs_mlp.h, for one dtype.
 * B(net) is the engine's typed buffer table; every pass reads and writes only through it. */
#define B(net) (&(net)->b.CS_SUF)
#define XENT_HARD CS_CAT2(cs_xent_hard, CS_SUF)
#define SIGMOID_XENT CS_CAT2(cs_sigmoid_xent, CS_SUF)
#define OPTIM_UPDATE CS_CAT2(cs_optim_update, CS_SUF)

/* ---- row kernels --------------------------------------------------------------------------- */

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
            for (ptrdiff_t j = 0; j < n; j++) {
                const T v = zi[j] + b[j];
                zi[j] = v > 0 ? v : 0;
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
 * identity 1, logistic a (1 - a), tanh 1 - a^2, relu [a > 0]. */
static void act_backward_block(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const rows_args *r = ctx;
    T *d = r->z + row0 * r->n_cols;
    const T *a = r->b + row0 * r->n_cols;
    const ptrdiff_t n = (row1 - row0) * r->n_cols;
    switch (r->act) {
    case CS_ACT_RELU:
        for (ptrdiff_t i = 0; i < n; i++)
            d[i] = a[i] > 0 ? d[i] : 0;
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

typedef struct {
    const T *data;
    const int64_t *indices, *indptr, *rows;
    T *dense;               /* z (n_rows, n_out) or d (n_rows, n_out) */
    T *g;                   /* (n_features, n_out) for the transposed product */
    ptrdiff_t n_rows, n_out;
} csr_args;

/* z[i] = X[rows[i]] @ w for the rows [row0, row1) (w is passed as g). */
static void csr_matmul_block(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const csr_args *a = ctx;
    const ptrdiff_t n_out = a->n_out;
    for (ptrdiff_t i = row0; i < row1; i++) {
        T *zi = a->dense + i * n_out;
        for (ptrdiff_t j = 0; j < n_out; j++)
            zi[j] = 0;
        const int64_t r = a->rows[i];
        for (int64_t p = a->indptr[r]; p < a->indptr[r + 1]; p++) {
            const T v = a->data[p];
            const T *wk = a->g + a->indices[p] * n_out;
            for (ptrdiff_t j = 0; j < n_out; j++)
                zi[j] += v * wk[j];
        }
    }
}

/* g[:, col0:col1] = X[rows]^T @ d[:, col0:col1], rows in order (g zeroed first by caller). */
static void csr_tmatmul_block(const void *ctx, ptrdiff_t col0, ptrdiff_t col1)
{
    const csr_args *a = ctx;
    const ptrdiff_t n_out = a->n_out;
    for (ptrdiff_t i = 0; i < a->n_rows; i++) {
        const T *di = a->dense + i * n_out;
        const int64_t r = a->rows[i];
        for (int64_t p = a->indptr[r]; p < a->indptr[r + 1]; p++) {
            const T v = a->data[p];
            T *gk = a->g + a->indices[p] * n_out;
            for (ptrdiff_t j = col0; j < col1; j++)
                gk[j] += v * di[j];
        }
    }
}

/* ---- GEMMs: row-major products on column-major BLAS ---------------------------------------- */

/* C = A B in BLAS's column-major terms, with alpha = 1 and beta = 0. */
#if CS_F32
#define CS_GEMM(net, ta, tb, m, n, k, a, lda, b, ldb, c, ldc) \
    (net)->blas.sgemm(&(ta), &(tb), &(m), &(n), &(k), &one, (T *)(a), &(lda), (T *)(b), &(ldb), \
                      &zero, (c), &(ldc))
#else
#define CS_GEMM(net, ta, tb, m, n, k, a, lda, b, ldb, c, ldc) \
    (net)->blas.dgemm(&(ta), &(tb), &(m), &(n), &(k), &one, (T *)(a), &(lda), (T *)(b), &(ldb), \
                      &zero, (c), &(ldc))
#endif

/* c (m, n) = a (m, k) @ b (k, n). Up to CS_GEMV_MAX_ROWS rows go through ?gemv, a row at a
 * time, when cs_blas has it: ?gemm first packs all of b, which a few rows do not repay.
 * Which call computes a block depends only on its shape, never on the thread count. */
#define CS_GEMV_MAX_ROWS 16
static void mm(const cs_mlp *net, const T *a, const T *b, T *c, int m, int k, int n)
{
    char no = 'N';
    T one = 1, zero = 0;
#if CS_F32
    cs_sgemv_fn gemv = net->blas.sgemv;
#else
    cs_dgemv_fn gemv = net->blas.dgemv;
#endif
    if (m <= CS_GEMV_MAX_ROWS && gemv != NULL) {
        int inc = 1;
        for (int i = 0; i < m; i++)
            gemv(&no, &n, &k, &one, (T *)b, &n, (T *)a + (ptrdiff_t)i * k, &inc, &zero,
                 c + (ptrdiff_t)i * n, &inc);
        return;
    }
    CS_GEMM(net, no, no, n, m, k, b, n, a, k, c, n);
}

/* c (m, k) = d (m, n) @ w.T, w: (k, n) */
static void mm_nt(const cs_mlp *net, const T *d, const T *w, T *c, int m, int n, int k)
{
    char tr = 'T', no = 'N';
    T one = 1, zero = 0;
    CS_GEMM(net, tr, no, k, m, n, w, n, d, n, c, k);
}

/* g (k, n) = a.T @ d, a: (m, k) with row stride lda, d: (m, n) */
static void mm_tn(const cs_mlp *net, const T *a, const T *d, T *g, int m, int k, int n,
                         int lda)
{
    char no = 'N', tr = 'T';
    T one = 1, zero = 0;
    CS_GEMM(net, no, tr, n, k, m, d, n, a, lda, g, n);
}

/* The three products, split into blocks of rows of their result (one per CS_GEMM_BLOCK_ROWS
 * rows, at most CS_GEMM_MAX_BLOCKS; two from 2 * CS_GEMM_MIN_BLOCK_ROWS rows, since BLAS
 * runs on one thread meanwhile), spread over the threads, each
 * block a call to the (then single-threaded) BLAS. The blocks depend only on the shape,
 * never on the thread count, so every entry is computed by the same BLAS call whatever
 * n_threads is (BLAS's kernels may sum in another order for another shape).
 * kind 0: c = a @ b, (m, k) x (k, n); kind 1: c = a @ b.T, (m, n) x (k, n)^T;
 * kind 2: c = a.T @ b, (m, k)^T x (m, n), blocks of the k rows of c. */
#define CS_GEMM_BLOCK_ROWS 96
#define CS_GEMM_MIN_BLOCK_ROWS 32
#define CS_GEMM_MAX_BLOCKS 4

typedef struct {
    const cs_mlp *net;
    const T *a, *b;
    T *c;
    int kind, m, k, n;
    ptrdiff_t rows, blocks; /* of c */
} gemm_args;

/* Blocks [blk0, blk1), one BLAS call each (never merged: the calls are the same whichever
 * thread makes them). */
static void gemm_block(const void *ctx, ptrdiff_t blk0, ptrdiff_t blk1)
{
    const gemm_args *g = ctx;
    for (ptrdiff_t blk = blk0; blk < blk1; blk++) {
        const ptrdiff_t r0 = g->rows * blk / g->blocks;
        const int rows = (int)(g->rows * (blk + 1) / g->blocks - r0);
        if (rows == 0)
            continue;
        if (g->kind == 0)
            mm(g->net, g->a + r0 * g->k, g->b, g->c + r0 * g->n, rows, g->k, g->n);
        else if (g->kind == 1)
            mm_nt(g->net, g->a + r0 * g->n, g->b, g->c + r0 * g->k, rows, g->n, g->k);
        else
            mm_tn(g->net, g->a + r0, g->b, g->c + r0 * g->n, g->m, rows, g->n, g->k);
    }
}

static void gemm(const cs_mlp *net, int kind, const T *a, const T *b, T *c, int m, int k,
                        int n)
{
    const ptrdiff_t rows = kind == 2 ? k : m;
    ptrdiff_t blocks = rows / CS_GEMM_BLOCK_ROWS;
    blocks = blocks > CS_GEMM_MAX_BLOCKS ? CS_GEMM_MAX_BLOCKS : blocks;
    if (blocks < 2) /* BLAS runs on one thread here: two blocks as soon as they are worth it */
        blocks = rows >= 2 * CS_GEMM_MIN_BLOCK_ROWS ? 2 : 1;
    if (!net->spec.split_gemm) /* BLAS's own threads do the whole product */
        blocks = 1;
    gemm_args g = {net, a, b, c, kind, m, k, n, rows, blocks};
    cs_run_rows(gemm_block, &g, blocks, (ptrdiff_t)m * k * n / blocks,
                net->spec.n_threads);
}

/* ---- passes -------------------------------------------------------------------------------- */

/* Forward pass of m rows: x0 is the dense batch, or NULL for the CSR rows net->rows[:m].
 * The output layer's pre-activation values go to logits (acts[L-1] when NULL). */
static void forward_batch(cs_mlp *net, const cs_mlp_data *d, const T *x0, ptrdiff_t m,
                                 T *logits)
{
    const int L = net->spec.n_layers, nt = net->spec.n_threads;
    const ptrdiff_t *u = net->units;
    const T *a_in = x0;
    for (int l = 0; l < L; l++) {
        T *z = (l == L - 1 && logits != NULL) ? logits : B(net)->acts[l];
        if (l == 0 && x0 == NULL) {
            csr_args c = {d->csr_data, d->csr_indices, d->csr_indptr, net->rows, z,
                                 B(net)->coefs[0], m, u[1]};
            cs_run_rows(csr_matmul_block, &c, m, u[1], nt);
        } else {
            gemm(net, 0, a_in, B(net)->coefs[l], z, (int)m, (int)u[l], (int)u[l + 1]);
        }
        rows_args r = {z, B(net)->intercepts[l],
                              l < L - 1 ? net->spec.activation : CS_ACT_IDENTITY, u[l + 1]};
        cs_run_rows(bias_act_block, &r, m, u[l + 1], nt);
        a_in = z;
    }
}

/* Gradients of the data term into gcoefs/gints, from the output deltas in deltas[L-1]. */
static void backward_batch(cs_mlp *net, const cs_mlp_data *d, const T *x0, ptrdiff_t m,
                                  T *const *gcoefs, T *const *gints)
{
    const int L = net->spec.n_layers, nt = net->spec.n_threads;
    const ptrdiff_t *u = net->units;
    for (int l = L - 1; l >= 0; l--) {
        T *delta = B(net)->deltas[l];
        if (l == 0 && x0 == NULL) {
            for (ptrdiff_t k = 0; k < u[0] * u[1]; k++)
                gcoefs[0][k] = 0;
            csr_args c = {d->csr_data, d->csr_indices, d->csr_indptr, net->rows, delta,
                                 gcoefs[0], m, u[1]};
            cs_run_rows(csr_tmatmul_block, &c, u[1], m, nt);
        } else {
            const T *a_in = l == 0 ? x0 : B(net)->acts[l - 1];
            gemm(net, 2, a_in, delta, gcoefs[l], (int)m, (int)u[l], (int)u[l + 1]);
        }
        colsum_args cs = {delta, net->colacc, gints[l], m, u[l + 1]};
        cs_run_rows(col_sum_block, &cs, u[l + 1], m, nt);
        if (l > 0) {
            gemm(net, 1, delta, B(net)->coefs[l], B(net)->deltas[l - 1], (int)m,
                        (int)u[l], (int)u[l + 1]);
            rows_args r = {B(net)->deltas[l - 1], B(net)->acts[l - 1],
                                  net->spec.activation, u[l]};
            cs_run_rows(act_backward_block, &r, m, u[l], nt);
        }
    }
}

/* Forward and backward pass of the gathered batch of m rows (net->wbuf holding w_i / sum(w)):
 * data-term gradients to gcoefs/gints, and the data term sum(w l) / sum(w) to *loss. */
static int batch_grad(cs_mlp *net, const cs_mlp_data *d, const T *x0, ptrdiff_t m,
                             T *const *gcoefs, T *const *gints, double *loss)
{
    const int L = net->spec.n_layers;
    const ptrdiff_t n_out = net->units[L];
    T *out = B(net)->acts[L - 1], *delta = B(net)->deltas[L - 1];
    int status;
    forward_batch(net, d, x0, m, NULL);
    if (net->spec.softmax_out) {
        const cs_xent_opts opts = {net->wbuf, NULL, CS_XENT_NO_IGNORE, 0.0, CS_REDUCE_SUM};
        status = XENT_HARD(out, net->yidx, &opts, net->loss_rows, loss, delta, m, n_out,
                           net->spec.n_threads);
    }
    else
        status = SIGMOID_XENT(out, B(net)->ybuf, net->wbuf, net->loss_rows, loss, delta, m,
                              n_out, net->spec.n_threads);
    if (status != CS_OK)
        return status;
    backward_batch(net, d, x0, m, gcoefs, gints);
    return CS_OK;
}

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
    cs_run_rows(gather_block, &g, m, f, net->spec.n_threads);
    return B(net)->xbuf;
}

/* sum of the raw sample weights of the batch (its length when unweighted): a serial sum in
 * visit order, by which the L2 term is divided (gather normalises w by cs_blocked_sum
 * instead: two different fixed orders, see the table in cs_common.h). */
static double batch_weight(const cs_mlp *net, const cs_mlp_data *d, ptrdiff_t m)
{
    if (d->sample_weight == NULL)
        return (double)m;
    double s = 0.0;
    for (ptrdiff_t i = 0; i < m; i++)
        s += d->sample_weight[net->rows[i]];
    return s;
}

/* ---- entry points (dispatched from cs_mlp.c) ----------------------------------------------- */

int CS_KERNEL(mlp_forward)(cs_mlp *net, const cs_mlp_data *d, void *logits)
{
    const ptrdiff_t n = d->n_rows, br = net->spec.batch_rows;
    const ptrdiff_t f = net->units[0], n_out = net->units[net->spec.n_layers];
    for (ptrdiff_t start = 0; start < n; start += br) {
        const ptrdiff_t m = start + br <= n ? br : n - start;
        for (ptrdiff_t i = 0; i < m; i++)
            net->rows[i] = start + i;
        const T *x0 = d->x != NULL ? (const T *)d->x + start * f : NULL;
        forward_batch(net, d, x0, m, (T *)logits + start * n_out);
    }
    return CS_OK;
}

int CS_KERNEL(mlp_loss_grad)(cs_mlp *net, const cs_mlp_data *data, double alpha,
                                void *const *grads, double *loss)
{
    const int L = net->spec.n_layers;
    const ptrdiff_t n = data->n_rows;
    cs_mlp_data d = *data;
    d.order = NULL; /* every row, in order */
    T **gc = B(net)->ext;
    for (int l = 0; l < 2 * L; l++)
        gc[l] = (T *)grads[l];
    double data_loss, sq = 0.0;
    const T *x0 = gather(net, &d, 0, n);
    const double sw = batch_weight(net, &d, n);
    const int status = batch_grad(net, &d, x0, n, gc, gc + L, &data_loss);
    if (status != CS_OK)
        return status;
    const T l2 = (T)(alpha / sw);
    for (int l = 0; l < L; l++) {
        const T *p = B(net)->coefs[l];
        T *g = gc[l];
        for (ptrdiff_t k = 0; k < net->units[l] * net->units[l + 1]; k++) {
            sq += (double)p[k] * (double)p[k];
            g[k] += l2 * p[k];
        }
    }
    *loss = data_loss + 0.5 * alpha * sq / sw;
    return CS_OK;
}

/* One optimizer step over every parameter array; *sq_norm = sum of the squared coefs. */
static int optim_step(cs_mlp *net, cs_optim *opt, T *const *state, double l2,
                             double *sq_norm)
{
    const int L = net->spec.n_layers;
    T *const *s2 = opt->kind == CS_OPTIM_ADAM ? state + 2 * L : NULL;
    int status = CS_OK;
    double sq = 0.0, sq_l, unused;
    cs_optim_begin_step(opt);
    for (int l = 0; l < L && status == CS_OK; l++) {
        const ptrdiff_t fan_out = net->units[l + 1];
        status = OPTIM_UPDATE(opt, B(net)->coefs[l], B(net)->gcoefs[l], state[l],
                              s2 != NULL ? s2[l] : NULL, net->units[l] * fan_out, l2, &sq_l,
                              net->spec.n_threads);
        sq += sq_l;
        if (status == CS_OK)
            status = OPTIM_UPDATE(opt, B(net)->intercepts[l], B(net)->gints[l], state[L + l],
                                  s2 != NULL ? s2[L + l] : NULL, fan_out, 0.0, &unused,
                                  net->spec.n_threads);
    }
    *sq_norm = sq;
    return status;
}

/* The team of an epoch adapts to the machine (no result depends on it): now and then one
 * batch runs with the other team size (one thread, or all n_threads), and the epoch goes on
 * with whichever processed its rows faster, by a margin (one thread must be 1/0.6 times as
 * fast to replace the team, the team 1/0.9 times). The rules (docs/performance.rst tells
 * the runs that set them):
 *   - the first probe of an engine comes after CS_TEAM_PROBE_FIRST batches; the interval then
 *     doubles up to CS_TEAM_PROBE_EVERY (CS_TEAM_PROBE_EVERY_ALONE while on one thread),
 *     starting again from the first after a switch; the interval and the team size in use
 *     are kept from epoch to epoch (cs_mlp.team_interval, cs_mlp.team_one);
 *   - a probe of the full team first runs CS_TEAM_PROBE_WARM batch(es) that are not judged
 *     (the sleeping threads wake and fill their caches), then is judged on
 *     CS_TEAM_PROBE_JUDGED batches together; it stops, lost, at the first batch more than
 *     CS_TEAM_PROBE_ABORT times as slow a row as one thread's;
 *   - a probe of one thread is one batch, judged alone. */
#define CS_TEAM_PROBE_FIRST 4
#define CS_TEAM_PROBE_EVERY 32
#define CS_TEAM_PROBE_EVERY_ALONE 64
#define CS_TEAM_PROBE_WARM 1
#define CS_TEAM_PROBE_JUDGED 4
#define CS_TEAM_PROBE_ABORT 2.0

typedef struct {
    int full, cur;  /* n_threads, and the team size in use */
    double seconds; /* time and rows of the batches at cur since the last probe */
    ptrdiff_t rows;
    ptrdiff_t next_probe, interval; /* the batch of the next probe, and the one after */
    int probe_left, probe_warm; /* batches of the probe in progress still to run, and of
                                   those, warm-up batches not judged */
    double probe_seconds;       /* time and rows of its judged batches so far */
    ptrdiff_t probe_rows;
} team;

/* The team size of the next batch (starting or continuing a probe when one is due). */
static int team_next(team *t, ptrdiff_t batch)
{
    const int other = t->cur == t->full ? 1 : t->full;
    if (t->probe_left > 0)
        return other;
    if (t->full > 1 && batch >= t->next_probe && t->rows > 0) {
        const int team = other == t->full;
        t->probe_warm = team ? CS_TEAM_PROBE_WARM : 0;
        t->probe_left = t->probe_warm + (team ? CS_TEAM_PROBE_JUDGED : 1);
        t->probe_seconds = 0.0;
        t->probe_rows = 0;
        return other;
    }
    return t->cur;
}

static void team_record(team *t, int used, double seconds, ptrdiff_t rows,
                               ptrdiff_t batch)
{
    if (used == t->cur) {
        t->seconds += seconds;
        t->rows += rows;
        return;
    }
    t->probe_left--;
    const double cur_rate = t->seconds / (double)t->rows;
    int won = 0;
    if (used == t->full && seconds / (double)rows > CS_TEAM_PROBE_ABORT * cur_rate) {
        t->probe_left = 0; /* a team batch this slow: the machine is busy, the probe is lost */
    } else if (t->probe_warm > 0) { /* a warm-up batch of a team probe: not judged */
        t->probe_warm--;
        return;
    } else {
        t->probe_seconds += seconds;
        t->probe_rows += rows;
        if (t->probe_left > 0)
            return;
        /* Leaving the full team takes a clear win (a noisy batch must not make a quiet
         * machine lose its threads); going back to it, any real one. */
        const double margin = used == 1 ? 0.6 : 0.9;
        won = t->probe_seconds / (double)t->probe_rows < margin * cur_rate;
    }
    if (won) {
        t->cur = used;
        t->interval = CS_TEAM_PROBE_FIRST;
    } else {
        const ptrdiff_t cap = t->cur == 1 ? CS_TEAM_PROBE_EVERY_ALONE : CS_TEAM_PROBE_EVERY;
        t->interval = 2 * t->interval < cap ? 2 * t->interval : cap;
    }
    t->next_probe = batch + t->interval;
    t->seconds = 0.0;
    t->rows = 0;
}

static int epoch_batches(cs_mlp *net, const cs_mlp_data *d, ptrdiff_t batch_size,
                                double alpha, cs_optim *opt, double *loss_sum,
                                team *team)
{
    const ptrdiff_t n = d->order != NULL ? d->n_order : d->n_rows;
    T **typed_state = B(net)->ext;
    double acc = 0.0;
    ptrdiff_t batch = 0;
    for (ptrdiff_t start = 0; start < n; batch++) {
        const ptrdiff_t m = start + batch_size <= n ? batch_size : n - start;
        const int nt = team_next(team, batch);
        const double t0 = cs_wall_seconds();
        net->spec.n_threads = nt;
        const T *x0 = gather(net, d, start, m);
        const double sw = batch_weight(net, d, m);
        double loss, sq;
        if (sw == 0.0) { /* every weight of the batch is zero: it has nothing to teach */
            start += m;
            continue;
        }
        int status = batch_grad(net, d, x0, m, B(net)->gcoefs, B(net)->gints, &loss);
        if (status == CS_OK)
            status = optim_step(net, opt, typed_state, alpha / sw, &sq);
        if (status != CS_OK)
            return status;
        acc += (loss + 0.5 * alpha * sq / sw) * (double)m;
        start += m;
        team_record(team, nt, cs_wall_seconds() - t0, m, batch);
    }
    *loss_sum = acc;
    return CS_OK;
}

int CS_KERNEL(mlp_epoch)(cs_mlp *net, const cs_mlp_data *d, ptrdiff_t batch_size,
                            double alpha, cs_optim *opt, void *const *state, double *loss_sum)
{
    const int n_state = (opt->kind == CS_OPTIM_ADAM ? 4 : 2) * net->spec.n_layers;
    T **typed_state = B(net)->ext;
    for (int k = 0; k < n_state; k++)
        typed_state[k] = (T *)state[k];
    const ptrdiff_t interval = net->team_interval > 0 ? net->team_interval : CS_TEAM_PROBE_FIRST;
    const int full = net->spec.n_threads, cur = net->team_one ? 1 : full;
    team team = {full, cur, 0.0, 0, interval - 1, interval, 0, 0, 0.0, 0};
    const int status = epoch_batches(net, d, batch_size, alpha, opt, loss_sum, &team);
    net->spec.n_threads = team.full;
    net->team_interval = team.interval;
    net->team_one = team.full > 1 && team.cur == 1;
    return status;
}

#undef B
#undef CS_GEMM
#undef XENT_HARD
#undef SIGMOID_XENT
#undef OPTIM_UPDATE
