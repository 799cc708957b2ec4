/* Kernel body (see kernel.h): the passes of the MLP engine of cs_mlp.h, for one dtype, and its
 * entry points (dispatched from cs_mlp.c). B(net) is the engine's typed buffer table (its
 * parts: mlp_rows.h, mlp_csr.h, mlp_gemm.h, mlp_batch.h, mlp_team.h). Every kernel the
 * engine runs is one of this translation unit, so a call runs on one SIMD path throughout;
 * net->n_threads is the team of the call or batch in progress, spec.n_threads never changes. */

/* ---- passes -------------------------------------------------------------------------------- */

/* The batch's data term sum_i w_i l_i (net->wbuf holding w_i / sum(w)) from the output
 * layer's values z (m, n_out), and its gradient into delta: this unit's cross-entropy
 * kernel run as cs_xent_hard_* runs it for reduction "sum" without class weights, smoothing
 * or ignored labels (or as cs_sigmoid_xent_* runs the sigmoid one), minus the checks:
 * check_data checked the labels once for the call. */
static double output_loss(cs_mlp *net, const T *z, ptrdiff_t m, T *delta)
{
    const ptrdiff_t n_out = net->units[net->spec.n_layers];
    const int softmax = net->spec.softmax_out;
    const cs_xent_args args = {.logits = z,
                               .target = softmax ? net->yidx : NULL,
                               .target_dense = softmax ? NULL : B(net)->ybuf,
                               .sample_weight = net->wbuf,
                               .ignore_index = CS_XENT_NO_IGNORE,
                               .grad_scale = 1.0,
                               .loss_rows = net->loss_rows,
                               .grad = delta,
                               .n_cols = n_out};
    cs_run_rows(softmax ? CS_KERNEL(xent_block) : CS_KERNEL(sigmoid_xent_block), &args, m, n_out,
                net->n_threads);
    return cs_blocked_sum(net->loss_rows, m);
}

/* Forward pass of m rows: x0 is the dense batch, or NULL for the CSR rows net->rows[:m].
 * The output layer's pre-activation values go to logits (acts[L-1] when NULL). */
static void forward_batch(cs_mlp *net, const cs_mlp_data *d, const T *x0, ptrdiff_t m,
                          T *logits)
{
    const int L = net->spec.n_layers, nt = net->n_threads;
    const ptrdiff_t *u = net->units;
    const T *a_in = x0;
    for (int l = 0; l < L; l++) {
        T *z = (l == L - 1 && logits != NULL) ? logits : B(net)->acts[l];
        if (l == 0 && x0 == NULL) {
            csr_args c = {d->csr_data, d->csr_indices, d->csr_indptr, net->rows, z,
                          B(net)->coefs[0], m, u[1], d->csr_nnz, u[0]};
            cs_run_rows(csr_matmul_block, &c, m, u[1], nt);
        } else {
            gemm(net, GEMM_AB, a_in, B(net)->coefs[l], z, (int)m, (int)u[l], (int)u[l + 1]);
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
    const int L = net->spec.n_layers, nt = net->n_threads;
    const ptrdiff_t *u = net->units;
    for (int l = L - 1; l >= 0; l--) {
        T *delta = B(net)->deltas[l];
        if (l == 0 && x0 == NULL) {
            for (ptrdiff_t k = 0; k < u[0] * u[1]; k++)
                gcoefs[0][k] = 0;
            csr_args c = {d->csr_data, d->csr_indices, d->csr_indptr, net->rows, delta,
                          gcoefs[0], m, u[1], d->csr_nnz, u[0]};
            cs_run_rows(csr_tmatmul_block, &c, u[1], m, nt);
        } else {
            const T *a_in = l == 0 ? x0 : B(net)->acts[l - 1];
            gemm(net, GEMM_ATB, a_in, delta, gcoefs[l], (int)m, (int)u[l], (int)u[l + 1]);
        }
        colsum_args cs = {delta, net->colacc, gints[l], m, u[l + 1]};
        cs_run_rows(col_sum_block, &cs, u[l + 1], m, nt);
        if (l > 0) {
            gemm(net, GEMM_ABT, delta, B(net)->coefs[l], B(net)->deltas[l - 1], (int)m,
                 (int)u[l], (int)u[l + 1]);
            rows_args r = {B(net)->deltas[l - 1], B(net)->acts[l - 1],
                           net->spec.activation, u[l]};
            cs_run_rows(act_backward_block, &r, m, u[l], nt);
        }
    }
}

/* Forward and backward pass of the gathered batch of m rows (net->wbuf holding w_i / sum(w)):
 * data-term gradients to gcoefs/gints, and the data term sum(w l) / sum(w) to *loss. */
static void batch_grad(cs_mlp *net, const cs_mlp_data *d, const T *x0, ptrdiff_t m,
                       T *const *gcoefs, T *const *gints, double *loss)
{
    const int L = net->spec.n_layers;
    T *out = B(net)->acts[L - 1], *delta = B(net)->deltas[L - 1];
    forward_batch(net, d, x0, m, NULL);
    *loss = output_loss(net, out, m, delta);
    backward_batch(net, d, x0, m, gcoefs, gints);
}

/* ---- entry points (dispatched from cs_mlp.c) ----------------------------------------------- */

int CS_KERNEL(mlp_forward)(cs_mlp *net, const cs_mlp_data *d, void *logits)
{
    net->n_threads = net->spec.n_threads;
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
    net->n_threads = net->spec.n_threads;
    cs_mlp_data d = *data;
    d.order = NULL; /* every row, in order */
    T **gc = B(net)->ext;
    for (int l = 0; l < 2 * L; l++)
        gc[l] = (T *)grads[l];
    double data_loss, sq = 0.0;
    const T *x0;
    if (gather(net, &d, 0, n, &x0) != CS_OK)
        return CS_EINVAL;
    const double sw = batch_weight(net, &d, n);
    batch_grad(net, &d, x0, n, gc, gc + L, &data_loss);
    const T l2 = (T)(alpha / sw);
    for (int l = 0; l < L; l++) {
        const T *p = B(net)->coefs[l];
        T *g = gc[l];
        for (ptrdiff_t k = 0; k < net->units[l] * net->units[l + 1]; k++) {
            sq += (double)p[k] * (double)p[k]; /* a serial sum (cs_common.h) */
            g[k] += l2 * p[k];
        }
    }
    *loss = data_loss + 0.5 * alpha * sq / sw;
    return CS_OK;
}

/* One optimizer update of n parameters p (cs_optim_update_* without its checks: the kind
 * was checked by cs_mlp_epoch); returns sum(p^2) before the step. */
static double optim_update(const cs_mlp *net, const cs_optim *opt, T *p, const T *grad, T *s1,
                           T *s2, ptrdiff_t n, double l2)
{
    const double sq = CS_KERNEL(sum_squares)(p, n);
    const cs_sweep_args a = {opt, p, s1, s2, grad, l2};
    cs_run_rows(CS_KERNEL(optim_sweep_block), &a, n, CS_OPTIM_WORK, net->n_threads);
    return sq;
}

/* One optimizer step over every parameter array; returns the sum of the squared coefs. */
static double optim_step(cs_mlp *net, cs_optim *opt, T *const *state, double l2)
{
    const int L = net->spec.n_layers;
    T *const *s2 = opt->kind == CS_OPTIM_ADAM ? state + 2 * L : NULL;
    double sq = 0.0;
    cs_optim_begin_step(opt);
    for (int l = 0; l < L; l++) {
        const ptrdiff_t fan_out = net->units[l + 1];
        sq += optim_update(net, opt, B(net)->coefs[l], B(net)->gcoefs[l], state[l],
                           s2 != NULL ? s2[l] : NULL, net->units[l] * fan_out, l2);
        optim_update(net, opt, B(net)->intercepts[l], B(net)->gints[l], state[L + l],
                     s2 != NULL ? s2[L + l] : NULL, fan_out, 0.0);
    }
    return sq;
}

/* The batches of the epoch from visit progress->n_done on, until the last or until
 * progress->stop is set (checked before each batch), progress updated after each. Returns
 * CS_OK, or CS_EINVAL when a batch's row numbers or labels changed since they were checked
 * (the batches before it done). */
static int epoch_batches(cs_mlp *net, const cs_mlp_data *d, ptrdiff_t batch_size,
                         double alpha, cs_optim *opt, cs_mlp_progress *progress,
                         team_state *team)
{
    const ptrdiff_t n = d->order != NULL ? d->n_order : d->n_rows;
    T **typed_state = B(net)->ext;
    double acc = progress->loss_sum;
    ptrdiff_t batch = 0, start = progress->n_done;
    int status = CS_OK;
    for (; start < n; batch++) {
        if (progress->stop != NULL && *progress->stop)
            break;
        const ptrdiff_t m = start + batch_size <= n ? batch_size : n - start;
        const int nt = team_next(team, batch);
        const double t0 = cs_wall_seconds();
        net->n_threads = nt;
        const T *x0;
        if (gather(net, d, start, m, &x0) != CS_OK) {
            status = CS_EINVAL;
            break;
        }
        const double sw = batch_weight(net, d, m);
        double loss, sq;
        if (sw == 0.0) { /* every weight of the batch is zero: it has nothing to teach */
            start += m;
            continue;
        }
        batch_grad(net, d, x0, m, B(net)->gcoefs, B(net)->gints, &loss);
        sq = optim_step(net, opt, typed_state, alpha / sw);
        acc += (loss + 0.5 * alpha * sq / sw) * (double)m;
        start += m;
        team_record(team, nt, cs_wall_seconds() - t0, m, batch);
    }
    progress->loss_sum = acc;
    progress->n_done = start;
    return status;
}

int CS_KERNEL(mlp_epoch)(cs_mlp *net, const cs_mlp_data *d, ptrdiff_t batch_size,
                         double alpha, cs_optim *opt, void *const *state,
                         cs_mlp_progress *progress)
{
    const int n_state = (opt->kind == CS_OPTIM_ADAM ? 4 : 2) * net->spec.n_layers;
    T **typed_state = B(net)->ext;
    for (int k = 0; k < n_state; k++)
        typed_state[k] = (T *)state[k];
    const ptrdiff_t interval = net->team_interval > 0 ? net->team_interval : CS_TEAM_PROBE_FIRST;
    const int full = net->spec.n_threads, cur = net->team_one ? 1 : full;
    team_state team = {full, cur, 0.0, 0, interval - 1, interval, 0, 0, 0.0, 0};
    const int status = epoch_batches(net, d, batch_size, alpha, opt, progress, &team);
    net->team_interval = team.interval;
    net->team_one = team.full > 1 && team.cur == 1;
    return status;
}
