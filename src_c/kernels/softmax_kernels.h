/* Kernel body (see kernel.h): the block kernels of the softmax family.
 * Each processes rows [row0, row1) of a cs_softmax_args batch; cs_softmax.c dispatches. */

/* y * (dy - dot) and dy - exp(y) * sum, evaluated in double (float lanes are widened). */
CS_INLINE NV vjp_vec(NV y, NV dy, double dot)
{
#if CS_F32
    NVD lo = nv_lo_d(y) * (nv_lo_d(dy) - dot);
    NVD hi = nv_hi_d(y) * (nv_hi_d(dy) - dot);
    return nv_from_d(lo, hi);
#else
    return y * (dy - dot);
#endif
}

CS_INLINE NV log_vjp_vec(NV y, NV dy, double sum)
{
    NV e = nv_exp(y);
#if CS_F32
    NVD lo = nv_lo_d(dy) - nv_lo_d(e) * sum;
    NVD hi = nv_hi_d(dy) - nv_hi_d(e) * sum;
    return nv_from_d(lo, hi);
#else
    return dy - e * sum;
#endif
}

/* Rows [row0, row1) of softmax (log_softmax when take_log), narrow rows: groups of NW rows
 * in columns (narrow.h), each element computed as the row kernels below compute it. */
CS_INLINE void softmax_narrow(const cs_softmax_args *a, ptrdiff_t row0, ptrdiff_t row1,
                              int take_log)
{
    const ptrdiff_t n = a->n_cols;
    T xt[CS_NARROW_MAX * NW] __attribute__((aligned(64)));
    for (ptrdiff_t i = row0; i < row1; i += NW) {
        const ptrdiff_t k = row1 - i < NW ? row1 - i : NW;
        T *out = (T *)a->out + i * n;
        narrow_sums sums;
        NV m;
        narrow_load((const T *)a->in + i * n, n, k, xt, &m);
        narrow_expsum(xt, take_log ? NULL : xt, n, m, &sums);
        if (take_log) { /* (x - m) - log s, as the columns are stored */
            double logs[NW];
            narrow_logs(&sums, logs);
            NV vl;
            for (int r = 0; r < NW; r++)
                vl[r] = (T)logs[r];
            narrow_store(out, n, k, xt, CS_MAP_SHIFT, m, vl);
        } else { /* e / s */
            const NV none = {0};
            narrow_store(out, n, k, xt, CS_MAP_SCALE, narrow_ratio(&sums, 1.0),
                         none);
        }
        if (!narrow_all_defined(m, &sums))
            for (int r = 0; r < k; r++)
                if (!narrow_defined(m, &sums, r))
                    row_fill(out + r * n, n, NAN);
    }
}

/* Rows [row0, row1) of softmax (log_softmax when take_log) with the mask a->where (where.h),
 * every width through the row loop: the max and the sum run over the elements that take
 * part; the others get 0 (log: -inf). A row with no element taking part is all 0 (-inf); an
 * undefined row (cs_softmax.h) is NaN where its elements take part. */
__attribute__((noinline)) static void softmax_where(const cs_softmax_args *a, ptrdiff_t row0,
                                                   ptrdiff_t row1, int take_log)
{
    const ptrdiff_t n = a->n_cols;
    const T other = take_log ? -INFINITY : 0;
    for (ptrdiff_t i = row0; i < row1; i++) {
        const T *x = (const T *)a->in + i * n;
        const unsigned char *w = a->where + i * n;
        T *out = (T *)a->out + i * n;
        const T m = row_max_where(x, w, n);
        double s = NAN;
        if (m > -INFINITY && m < INFINITY)
            s = row_expsum_where(x, w, take_log ? NULL : out, n, m,
                                 i + 1 < row1 ? x + n : NULL);
        if (s != s) {
            row_fill_where(out, w, n, NAN, other);
            continue;
        }
        if (!take_log) {
            row_scale(out, n, (T)(1.0 / s));
            continue;
        }
        const NV vm = nv_splat(m), vl = nv_splat((T)log_d(s)), vo = nv_splat(other);
        ptrdiff_t j = 0;
        for (; j + NW <= n; j += NW)
            nv_store(out + j, nv_sel(nv_where(w + j), (nv_load(x + j) - vm) - vl, vo));
        if (j < n)
            nv_store_part(out + j, n - j,
                          nv_sel(nv_where_part(w + j, n - j),
                                 (nv_load_part(x + j, n - j, 0) - vm) - vl, vo));
    }
}

/* s = exp(x - max) / sum exp(x - max) */
void CS_KERNEL(softmax_block)(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const cs_softmax_args *a = ctx;
    const ptrdiff_t n = a->n_cols;
    if (a->where != NULL) {
        softmax_where(a, row0, row1, 0);
        return;
    }
    if (CS_NARROW_ROWS && n <= CS_NARROW_MAX) {
        softmax_narrow(a, row0, row1, 0);
        return;
    }
    for (ptrdiff_t i = row0; i < row1; i++) {
        const T *x = (const T *)a->in + i * n;
        T *out = (T *)a->out + i * n;
        T m;
        double s;
        if (row_normalizer(x, out, n, &m, &s, i + 1 < row1 ? x + n : NULL))
            row_scale(out, n, (T)(1.0 / s));
        else
            row_fill(out, n, NAN);
    }
}

/* log s = (x - max) - log(sum exp(x - max)); subtracting the max first keeps the result
 * exact where x equals the max, however large the logits. */
void CS_KERNEL(log_softmax_block)(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const cs_softmax_args *a = ctx;
    const ptrdiff_t n = a->n_cols;
    if (a->where != NULL) {
        softmax_where(a, row0, row1, 1);
        return;
    }
    if (CS_NARROW_ROWS && n <= CS_NARROW_MAX) {
        softmax_narrow(a, row0, row1, 1);
        return;
    }
    for (ptrdiff_t i = row0; i < row1; i++) {
        const T *x = (const T *)a->in + i * n;
        T *out = (T *)a->out + i * n;
        T m;
        double s;
        if (!row_normalizer(x, NULL, n, &m, &s, i + 1 < row1 ? x + n : NULL)) {
            row_fill(out, n, NAN);
            continue;
        }
        const NV vm = nv_splat(m), vl = nv_splat((T)log_d(s));
        ptrdiff_t j = 0;
        for (; j + NW <= n; j += NW)
            nv_store(out + j, (nv_load(x + j) - vm) - vl);
        if (j < n)
            nv_store_part(out + j, n - j,
                          (nv_load_part(x + j, n - j, 0) - vm) - vl);
    }
}

/* J = diag(s) - s s^T, one n-by-n block per row. s is first computed into the block's last
 * row. The diagonal s_i (1 - s_i) loses accuracy when s_i is close to 1, so for the (at
 * most one) entry above 1/2 it is computed from the exponentials instead (see below). */
void CS_KERNEL(jacobian_block)(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const cs_softmax_args *a = ctx;
    const ptrdiff_t n = a->n_cols;
    for (ptrdiff_t r = row0; r < row1; r++) {
        const T *x = (const T *)a->in + r * n;
        T *J = (T *)a->out + r * n * n;
        T *s = J + (n - 1) * n;
        T m;
        double sum;
        if (!row_normalizer(x, s, n, &m, &sum, NULL)) {
            row_fill(J, n * n, NAN);
            continue;
        }
        /* s holds e_j = exp(x_j - m) here. The entry above 1/2, if any, is the one with
         * e_j > S / 2; its diagonal is computed from the exponentials, before they are
         * rounded into probabilities: J_bb = (e_b / S') (R / S'), with R = sum_{j != b} e_j
         * summed with Neumaier's compensation and S' = e_b + R. (S itself is accurate to a
         * few ulp, but 1 - s_b = R / S' must be accurate relative to R, not to S.) */
        ptrdiff_t big = -1;
        for (ptrdiff_t j = 0; j < n; j++)
            if ((double)s[j] > 0.5 * sum)
                big = j;
        double diag_big = 0.0;
        if (big >= 0) {
            double rest = 0.0, comp = 0.0;
            for (ptrdiff_t j = 0; j < n; j++) {
                if (j == big)
                    continue;
                const double v = (double)s[j], t = rest + v;
                comp += fabs(rest) >= fabs(v) ? (rest - t) + v : (v - t) + rest;
                rest = t;
            }
            rest += comp;
            const double total = (double)s[big] + rest;
            diag_big = ((double)s[big] / total) * (rest / total);
        }
        row_scale(s, n, (T)(1.0 / sum));
        /* Rows 0..n-2 read s from the last row; the last row is rewritten in place. */
        for (ptrdiff_t i = 0; i < n; i++) {
            const T si = s[i];
            T *Ji = J + i * n;
            for (ptrdiff_t j = 0; j < n; j++)
                Ji[j] = -si * s[j];
            Ji[i] = (T)(i == big ? diag_big : (double)si * (1.0 - (double)si));
        }
    }
}

/* The check of the softmax VJP's input (vjp_input_ok) for the first k lanes of a narrow
 * group, from the lanes' sums ys and smallest entries lo of y. */
static void narrow_vjp_check(const cs_softmax_args *a, ptrdiff_t i, ptrdiff_t k, NV ys, NV lo)
{
    for (int r = 0; r < k; r++) {
        const vjp_input in = {0.0, (double)ys[r], lo[r]};
        if (!vjp_input_ok(&in, a->n_cols, 0, a->check->eps))
            flag_bad_row(&a->check->bad_row, i + r);
    }
}

/* Rows [row0, row1) of softmax_vjp (log_softmax_vjp when take_log), narrow rows: y and dy of
 * a group of NW rows in columns, each element computed as the row kernels below compute it.
 * The whole group is loaded before its result is stored, so out may be y or dy. The softmax
 * VJP's check of y (a->check) runs in the loop that reads y's columns.
 * Used up to CS_NARROW_VJP_MAX = 1.5 x TW columns (the row loop takes wider rows; both give
 * the same bits). */
#define CS_NARROW_VJP_MAX (3 * TW / 2)
CS_INLINE void vjp_narrow(const cs_softmax_args *a, ptrdiff_t row0, ptrdiff_t row1,
                          int take_log)
{
    const ptrdiff_t n = a->n_cols;
    const int check = !take_log && a->check != NULL;
    T yt[CS_NARROW_VJP_MAX * NW] __attribute__((aligned(64)));
    T dyt[CS_NARROW_VJP_MAX * NW] __attribute__((aligned(64)));
    for (ptrdiff_t i = row0; i < row1; i += NW) {
        const ptrdiff_t k = row1 - i < NW ? row1 - i : NW;
        narrow_sums sums;
        NV ys = {0}, lo = nv_splat(INFINITY);
        narrow_load((const T *)a->in + i * n, n, k, yt, NULL);
        narrow_load((const T *)a->dy + i * n, n, k, dyt, NULL);
        if (take_log)
            narrow_sum(dyt, n, &sums);
        else
            narrow_dot(yt, dyt, n, &sums);
        for (ptrdiff_t j = 0; j < n; j++) {
            const NV y = nv_load(yt + j * NW), dy = nv_load(dyt + j * NW);
            NV v;
#if CS_F32
            if (take_log) {
                const NV e = nv_exp(y);
                v = nv_from_d(nv_lo_d(dy) - nv_lo_d(e) * sums.s[0],
                              nv_hi_d(dy) - nv_hi_d(e) * sums.s[1]);
            } else {
                v = nv_from_d(nv_lo_d(y) * (nv_lo_d(dy) - sums.s[0]),
                              nv_hi_d(y) * (nv_hi_d(dy) - sums.s[1]));
            }
#else
            v = take_log ? dy - nv_exp(y) * sums.s[0] : y * (dy - sums.s[0]);
#endif
            if (check) {
                ys += y;
                lo = nv_min(lo, y);
            }
            nv_store(yt + j * NW, v);
        }
        if (check)
            narrow_vjp_check(a, i, k, ys, lo);
        const NV none = {0};
        narrow_store((T *)a->out + i * n, n, k, yt, CS_MAP_NONE, none, none);
    }
}

/* out = the VJP of a row from y, dy and its row constant c (log: log_vjp_vec with c the sum
 * of dy, else vjp_vec with c = <dy, y>), 0 where the mask w (or NULL) drops an element. */
CS_INLINE void vjp_store_row(T *out, const T *y, const T *dy, ptrdiff_t n,
                             const unsigned char *w, double c, int log)
{
    const NV zero = {0};
    ptrdiff_t j = 0;
    for (; j + NW <= n; j += NW) {
        const NV yv = nv_load(y + j), dv = nv_load(dy + j);
        const NV v = log ? log_vjp_vec(yv, dv, c) : vjp_vec(yv, dv, c);
        nv_store(out + j, w != NULL ? nv_sel(nv_where(w + j), v, zero) : v);
    }
    if (j < n) {
        const NV yv = nv_load_part(y + j, n - j, 0), dv = nv_load_part(dy + j, n - j, 0);
        NV v = log ? log_vjp_vec(yv, dv, c) : vjp_vec(yv, dv, c);
        if (w != NULL)
            v = nv_sel(nv_where_part(w + j, n - j), v, zero);
        nv_store_part(out + j, n - j, v);
    }
}

/* Row i of softmax_vjp, w its mask or NULL (inlined, so the unmasked row has no mask code). */
CS_INLINE void vjp_row(const cs_softmax_args *a, ptrdiff_t i, const unsigned char *w)
{
    const ptrdiff_t n = a->n_cols;
    const T *y = (const T *)a->in + i * n;
    const T *dy = (const T *)a->dy + i * n;
    T *out = (T *)a->out + i * n;
    vjp_input in;
    row_vjp_input(y, dy, w, n, a->check != NULL, &in);
    if (a->check != NULL && !vjp_input_ok(&in, n, w != NULL, a->check->eps))
        flag_bad_row(&a->check->bad_row, i);
    vjp_store_row(out, y, dy, n, w, in.dot, 0);
}

/* The masked rows, apart: the unmasked kernel's code stays as it was without masks. */
__attribute__((noinline)) static void vjp_where_rows(const cs_softmax_args *a, ptrdiff_t row0,
                                                     ptrdiff_t row1)
{
    for (ptrdiff_t i = row0; i < row1; i++)
        vjp_row(a, i, a->where + i * a->n_cols);
}

/* dx = y * (dy - <dy, y>) with y = softmax(x), over the elements the mask (when given) keeps;
 * 0 for the others. With a->check, y is checked to be a softmax output (vjp_input_ok) in
 * the pass that forms <dy, y>. out may be y or dy. */
void CS_KERNEL(vjp_block)(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const cs_softmax_args *a = ctx;
    if (a->where != NULL) {
        vjp_where_rows(a, row0, row1);
        return;
    }
    if (CS_NARROW_ROWS && a->n_cols <= CS_NARROW_VJP_MAX) {
        vjp_narrow(a, row0, row1, 0);
        return;
    }
    for (ptrdiff_t i = row0; i < row1; i++)
        vjp_row(a, i, NULL);
}

/* Row i of log_softmax_vjp, w its mask or NULL. */
CS_INLINE void log_vjp_row(const cs_softmax_args *a, ptrdiff_t i, const unsigned char *w)
{
    const ptrdiff_t n = a->n_cols;
    const T *y = (const T *)a->in + i * n;
    const T *dy = (const T *)a->dy + i * n;
    T *out = (T *)a->out + i * n;
    const double sum = w == NULL ? row_sum(dy, n) : row_sum_where(dy, w, n);
    vjp_store_row(out, y, dy, n, w, sum, 1);
}

__attribute__((noinline)) static void log_vjp_where_rows(const cs_softmax_args *a,
                                                         ptrdiff_t row0, ptrdiff_t row1)
{
    for (ptrdiff_t i = row0; i < row1; i++)
        log_vjp_row(a, i, a->where + i * a->n_cols);
}

/* dx = dy - exp(y) * sum(dy) with y = log_softmax(x), the sum over the elements the mask
 * (when given) keeps; 0 for the others. out may be y or dy. */
void CS_KERNEL(log_vjp_block)(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const cs_softmax_args *a = ctx;
    if (a->where != NULL) {
        log_vjp_where_rows(a, row0, row1);
        return;
    }
    if (CS_NARROW_ROWS && a->n_cols <= CS_NARROW_VJP_MAX) {
        vjp_narrow(a, row0, row1, 1);
        return;
    }
    for (ptrdiff_t i = row0; i < row1; i++)
        log_vjp_row(a, i, NULL);
}
