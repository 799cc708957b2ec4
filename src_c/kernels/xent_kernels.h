/* The labels' copy and check of cs_xent.c, in one pass: copy[i] = target[i], each label
 * read once and checked as it is copied (the later passes read the copy only, which no
 * other thread can change); whether every label is the ignored one or in [0, n_cols), and
 * how many are ignored. Without branches, so that it vectorizes: it is a serial pass over
 * the labels before the parallel kernel. */
int CS_KERNEL(check_labels)(const int64_t *target, int64_t *copy, ptrdiff_t n_rows,
                            ptrdiff_t n_cols, int64_t ignore, ptrdiff_t *n_ignored)
{
    int64_t ignored = 0, bad = 0;
    for (ptrdiff_t i = 0; i < n_rows; i++) {
        const int64_t t = target[i], skip = t == ignore;
        copy[i] = t;
        ignored += skip;
        bad |= ((uint64_t)t >= (uint64_t)n_cols) & !skip;
    }
    *n_ignored = (ptrdiff_t)ignored;
    return bad == 0;
}

/* sum_j t'_j (z_j - m) with t'_j = t_j * scale + shift, terms with t'_j == 0 skipped (they
 * contribute 0 even where z_j = -inf), each term formed in T, accumulated in double. */
CS_INLINE NV tdot_terms(const T *z, const T *t, NV vm, NV vs, NV vb)
{
    const NV tj = nv_load(t) * vs + vb;
    return nv_sel(tj != 0, tj * (nv_load(z) - vm), (NV){0});
}

CS_INLINE double row_tdot(const T *z, const T *t, ptrdiff_t n, T m, T scale, T shift)
{
    nsum s;
    nsum_init(&s);
    const NV vm = nv_splat(m), vs = nv_splat(scale), vb = nv_splat(shift);
    ptrdiff_t j = 0;
    for (; j + TW <= n; j += TW) {
        nsum_step(&s, j);
        for (int p = 0; p < TW; p += NW)
            nsum_add(&s, p, tdot_terms(z + j + p, t + j + p, vm, vs, vb));
    }
    for (; j + NW <= n; j += NW)
        nsum_add(&s, j, tdot_terms(z + j, t + j, vm, vs, vb));
    for (; j < n; j++) {
        const T tj = t[j] * scale + shift;
        if (tj != 0)
            nsum_add1(&s, j, (double)(tj * (z[j] - m)));
    }
    return nsum_finish(&s);
}

/* sum_j (z_j - m), each difference formed in T, accumulated in double */
CS_INLINE double row_sum_shifted(const T *z, ptrdiff_t n, T m)
{
    nsum s;
    nsum_init(&s);
    const NV vm = nv_splat(m);
    ptrdiff_t j = 0;
    for (; j + TW <= n; j += TW) {
        nsum_step(&s, j);
        for (int p = 0; p < TW; p += NW)
            nsum_add(&s, p, nv_load(z + j + p) - vm);
    }
    for (; j + NW <= n; j += NW)
        nsum_add(&s, j, nv_load(z + j) - vm);
    for (; j < n; j++)
        nsum_add1(&s, j, (double)(z[j] - m));
    return nsum_finish(&s);
}

/* g_j = g_j * scale + shift */
CS_INLINE void row_affine(T *g, ptrdiff_t n, T scale, T shift)
{
    const NV vs = nv_splat(scale), vb = nv_splat(shift);
    ptrdiff_t j = 0;
    for (; j + NW <= n; j += NW)
        nv_store(g + j, nv_load(g + j) * vs + vb);
    if (j < n)
        nv_store_part(g + j, n - j, nv_load_part(g + j, n - j, 0) * vs + vb);
}

/* g_j = e_j * c - coef * (t_j * keep + eps_n), where g holds e_j = exp(z_j - m) on entry */
CS_INLINE NV grad_soft_terms(NV g, NV t, NV vc, NV vw, NV vk, NV vb)
{
    return g * vc - (t * vk + vb) * vw;
}

CS_INLINE void row_grad_soft(T *g, const T *t, ptrdiff_t n, T c, T coef, T keep, T eps_n)
{
    const NV vc = nv_splat(c), vw = nv_splat(coef), vk = nv_splat(keep),
             vb = nv_splat(eps_n);
    ptrdiff_t j = 0;
    for (; j + NW <= n; j += NW)
        nv_store(g + j, grad_soft_terms(nv_load(g + j),
                                        nv_load(t + j), vc, vw, vk, vb));
    if (j < n)
        nv_store_part(g + j, n - j,
                      grad_soft_terms(nv_load_part(g + j, n - j, 0),
                                      nv_load_part(t + j, n - j, 0), vc,
                                      vw, vk, vb));
}

/* Hard label y with class weights c (cs_xent.h): returns l and writes the gradient row
 * (scaled by coef) over g, which holds e_j = exp(z_j - m) on entry. Scalar: the weighted
 * path is the rarer one. */
static double weighted_hard_row(const cs_xent_args *a, const T *z, T *g, int64_t y, T m,
                                double s, double log_s, double coef)
{
    const ptrdiff_t n = a->n_cols;
    const double *c = a->class_weight;
    const double eps = a->label_smoothing, eps_n = eps / (double)n, cy = c[y];
    const double total = (1.0 - eps) * cy + eps_n * a->class_weight_sum; /* sum_j t'_j */
    double loss = total * log_s;
    if (eps < 1.0 && cy != 0.0)
        loss -= (1.0 - eps) * cy * (double)(z[y] - m);
    if (eps > 0.0) {
        double dot = 0.0; /* sum_j c_j (z_j - m), terms with c_j == 0 skipped */
        for (ptrdiff_t j = 0; j < n; j++)
            if (c[j] != 0.0)
                dot += c[j] * (double)(z[j] - m);
        loss -= eps_n * dot;
    }
    if (g != NULL) {
        const double e_y = (double)g[y];
        for (ptrdiff_t j = 0; j < n; j++)
            g[j] = (T)(coef * (total * ((double)g[j] / s) - eps_n * c[j]));
        g[y] = (T)(coef * (total * (e_y / s) - (1.0 - eps) * cy - eps_n * cy));
    }
    return loss;
}

/* log s for a row whose label y holds the max m, so that e_y = 1 and s = 1 + r with
 * r = sum_{j != y} e_j: log1p(r) (nvd_log1p), accurate relative to r, where log(s) is only
 * accurate to an ulp of 1 (a loss of 1e-9 would keep 7 of its digits). r from the
 * exponentials e when they are stored, else formed again from z. */
static double log_s_of_max_label(const T *z, const T *e, ptrdiff_t n, int64_t y, T m)
{
    double r = 0.0;
    if (e != NULL) {
        for (ptrdiff_t j = 0; j < n; j++)
            r += j == y ? 0.0 : (double)e[j];
        return log1p_d(r);
    }
    const NV vm = nv_splat(m);
    for (ptrdiff_t j = 0; j < n; j += NW) {
        const NV v = nv_exp_nonpos((j + NW <= n ? nv_load(z + j)
                                                : nv_load_part(z + j, n - j, -INFINITY)) - vm);
        for (int l = 0; l < NW && j + l < n; l++)
            r += j + l == y ? 0.0 : (double)v[l];
    }
    return log1p_d(r);
}

/* The labels y of a narrow group (lanes r >= k get the ignored label) and the logits at them,
 * zy[r] = z_r,y (z_r,0 for an ignored label, never used): each read once. */
CS_INLINE void narrow_labels(const cs_xent_args *a, const T *z, ptrdiff_t i, ptrdiff_t k,
                             int64_t y[NW], T zy[NW])
{
    const ptrdiff_t n = a->n_cols;
    const int64_t ignore = a->ignore_index, *target = a->target + i;
    if (k == NW)
        memcpy(y, target, NW * sizeof *y);
    else
        for (int r = 0; r < NW; r++)
            y[r] = r < k ? target[r] : ignore;
    for (int r = 0; r < k; r++)
        zy[r] = z[r * n + (y[r] != ignore ? y[r] : 0)];
    for (ptrdiff_t r = k; r < NW; r++)
        zy[r] = 0;
}

/* The lanes whose label holds the max m and whose sum is below 2 (s = 1 + r with r < 1),
 * half h of the group (ND lanes) in at_max[h]; returns whether there is one. */
CS_INLINE int narrow_at_max(const cs_xent_args *a, NV m, const narrow_sums *sums,
                            const int64_t y[NW], const T zy[NW], nvdi at_max[NW / ND])
{
    const NV vzy = nv_load(zy);
    nvdi any = {0};
    for (int h = 0; h < NW / ND; h++) {
        nvdi label;
        memcpy(&label, y + h * ND, sizeof label);
        at_max[h] = (label != a->ignore_index) & (sums->s[h] < 2.0) &
                    (nv_half_d(vzy, h) == nv_half_d(m, h)); /* exact widening */
        any |= at_max[h];
    }
    return nv_any((NVI)any);
}

/* log_s[r] for every lane of a narrow group: log_s_of_max_label for the lanes in at_max, from
 * the exponentials in the columns xt (each lane's terms in the row loop's order, in its own
 * double lane: the same bits), log_d(s) for the others (as narrow_logs), ND lanes at once. */
static void narrow_logs_max_label(const T *xt, ptrdiff_t n, const narrow_sums *sums,
                                  const int64_t y[NW], const nvdi at_max[NW / ND],
                                  double log_s[NW])
{
    NVD rest[NW / ND];
    nvdi label[NW / ND];
    for (int h = 0; h < NW / ND; h++) {
        rest[h] = (NVD){0};
        memcpy(&label[h], y + h * ND, sizeof label[h]);
    }
    for (ptrdiff_t j = 0; j < n; j++) { /* the label's term adds +0, as in the row loop */
        const NV v = nv_load(xt + j * NW);
        for (int h = 0; h < NW / ND; h++)
            rest[h] += (NVD)((nvdi)nv_half_d(v, h) & ~(label[h] == j));
    }
    for (int h = 0; h < NW / ND; h++) {
        const NVD l = nvd_log_or_log1p(sums->s[h], rest[h], at_max[h]);
        memcpy(log_s + h * ND, &l, sizeof l);
    }
}

/* Loss of row i (hard label, no class weights) from its max m and log_s = log_d(s) (the
 * narrow kernel computes the logs of a group of rows at once). */
CS_INLINE double hard_row_loss(const cs_xent_args *a, const T *z, int64_t y, T m, double log_s)
{
    const ptrdiff_t n = a->n_cols;
    const double eps = a->label_smoothing, eps_n = eps / (double)n;
    double loss = log_s;
    if (eps < 1.0) /* with eps == 1 the label has weight 0, even if z[y] = -inf */
        loss -= (1.0 - eps) * (double)(z[y] - m);
    if (eps > 0)
        loss -= eps_n * row_sum_shifted(z, n, m);
    return loss;
}

/* The shift of the row's gradient g = e * scale + shift, scale = coef / s (then g[y] set
 * apart); coef is the gradient's weight. */
CS_INLINE T hard_grad_shift(const cs_xent_args *a, double coef)
{
    const double eps_n = a->label_smoothing / (double)a->n_cols;
    return (T)(-coef * eps_n);
}

/* The gradient entry of the label: coef (e_y / s - (1 - eps) - eps / n). */
CS_INLINE T hard_label_grad(const cs_xent_args *a, double e_y, double s, double coef)
{
    const double eps = a->label_smoothing, eps_n = eps / (double)a->n_cols;
    return (T)(coef * (e_y / s - (1.0 - eps) - eps_n));
}

/* A full group of the plain case (no sample weights, no label smoothing, no ignored row,
 * every row defined), lane by lane in vectors: with w = 1 and eps = 0 the row loop below
 * computes l = log s - (z_y - m), g = e (c / s) + (-c 0) and g_y = c ((e_y / s - 1) - 0),
 * c = grad_scale, and so does this, each operation the same IEEE operation on the same
 * doubles. */
static void xent_narrow_plain(const cs_xent_args *a, ptrdiff_t i, const T *zy, T *xt,
                              NV m, const narrow_sums *sums,
                              const double log_s[NW])
{
    const ptrdiff_t n = a->n_cols;
    const double coef = 1.0 * a->grad_scale;
    const NV dz = nv_load(zy) - m; /* z_y - m, formed in T */
    double e_y[NW], g_y[NW];
    int64_t y[NW];
    for (int r = 0; r < NW; r++) {
        y[r] = a->target[i + r];
        e_y[r] = (double)xt[y[r] * NW + r];
    }
    for (int h = 0; h < NW / ND; h++) {
        const NVD s = sums->s[h];
        const NVD loss = *(const NVD *)(log_s + h * ND) - nv_half_d(dz, h);
        const NVD gy = coef * ((*(const NVD *)(e_y + h * ND) / s - 1.0) - 0.0);
        memcpy(a->loss_rows + i + h * ND, &loss, sizeof loss);
        memcpy(g_y + h * ND, &gy, sizeof gy);
    }
    if (a->grad == NULL)
        return;
    T *g = (T *)a->grad + i * n;
    narrow_store(g, n, NW, xt, CS_MAP_AFFINE, narrow_ratio(sums, coef),
                 nv_splat((T)(-coef * 0.0)));
    for (int r = 0; r < NW; r++)
        g[r * n + y[r]] = (T)g_y[r];
}

/* Hard labels without class weights on narrow rows: groups of NW rows in columns
 * (narrow.h), every value computed as the row loop of xent_block computes it. */
static void xent_narrow(const cs_xent_args *a, ptrdiff_t row0, ptrdiff_t row1)
{
    const ptrdiff_t n = a->n_cols;
    const int plain = a->sample_weight == NULL && a->label_smoothing == 0.0 && !a->any_ignored;
    T xt[CS_NARROW_MAX * NW] __attribute__((aligned(64)));
    for (ptrdiff_t i = row0; i < row1; i += NW) {
        const ptrdiff_t k = row1 - i < NW ? row1 - i : NW;
        const T *z = (const T *)a->logits + i * n;
        narrow_sums sums;
        NV m;
        narrow_load(z, n, k, xt, &m);
        narrow_expsum(xt, xt, n, m, &sums);
        T scale[NW] = {0}, shift[NW] = {0};
        double coef[NW], e_y[NW], log_s[NW];
        int64_t y[NW];
        T zy[NW];
        nvdi at_max[NW / ND];
        narrow_labels(a, z, i, k, y, zy);
        if (narrow_at_max(a, m, &sums, y, zy, at_max)) /* some as log1p of the other terms */
            narrow_logs_max_label(xt, n, &sums, y, at_max, log_s);
        else
            narrow_logs(&sums, log_s);
        if (plain && k == NW && narrow_all_defined(m, &sums)) {
            xent_narrow_plain(a, i, zy, xt, m, &sums, log_s);
            continue;
        }
        for (int r = 0; r < k; r++) {
            const int64_t y = a->target[i + r];
            const double w = a->sample_weight != NULL ? a->sample_weight[i + r] : 1.0;
            if (y == a->ignore_index) {
                a->loss_rows[i + r] = 0.0;
            } else if (!narrow_defined(m, &sums, r)) {
                a->loss_rows[i + r] = NAN;
            } else {
                const double s = narrow_sum_at(&sums, r);
                coef[r] = w * a->grad_scale;
                e_y[r] = (double)xt[y * NW + r];
                a->loss_rows[i + r] = w * hard_row_loss(a, z + r * n, y, m[r], log_s[r]);
                scale[r] = (T)(coef[r] / s);
                shift[r] = hard_grad_shift(a, coef[r]);
            }
        }
        if (a->grad == NULL)
            continue;
        T *g = (T *)a->grad + i * n; /* e * scale + shift, as the columns are stored */
        narrow_store(g, n, k, xt, CS_MAP_AFFINE, nv_load(scale),
                     nv_load(shift));
        for (int r = 0; r < k; r++) {
            const int64_t y = a->target[i + r];
            if (y == a->ignore_index)
                row_fill(g + r * n, n, 0);
            else if (!narrow_defined(m, &sums, r))
                row_fill(g + r * n, n, NAN);
            else
                g[r * n + y] = hard_label_grad(a, e_y[r], narrow_sum_at(&sums, r),
                                               coef[r]);
        }
    }
}

void CS_KERNEL(xent_block)(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const cs_xent_args *a = ctx;
    const ptrdiff_t n = a->n_cols;
    const double eps = a->label_smoothing, eps_n = eps / (double)n;
    if (CS_NARROW_ROWS && a->target != NULL && a->class_weight == NULL &&
        n <= CS_NARROW_MAX) {
        xent_narrow(a, row0, row1);
        return;
    }
    for (ptrdiff_t i = row0; i < row1; i++) {
        const T *z = (const T *)a->logits + i * n;
        T *g = a->grad != NULL ? (T *)a->grad + i * n : NULL;
        const double w = a->sample_weight != NULL ? a->sample_weight[i] : 1.0;
        if (a->target != NULL && a->target[i] == a->ignore_index) {
            a->loss_rows[i] = 0.0;
            if (g != NULL)
                row_fill(g, n, 0);
            continue;
        }
        T m;
        double s;
        if (!row_normalizer(z, g, n, &m, &s, i + 1 < row1 ? z + n : NULL)) {
            a->loss_rows[i] = NAN;
            if (g != NULL)
                row_fill(g, n, NAN);
            continue;
        }
        double log_s = log_d(s);
        const double coef = w * a->grad_scale;
        if (a->target != NULL && s < 2.0 && z[a->target[i]] == m) /* s = 1 + r: log1p(r) */
            log_s = log_s_of_max_label(z, g, n, a->target[i], m);
        double loss;
        if (a->target != NULL && a->class_weight != NULL) {
            loss = weighted_hard_row(a, z, g, a->target[i], m, s, log_s, coef);
        } else if (a->target != NULL) {
            const int64_t y = a->target[i];
            const T scale = (T)(coef / s), shift = hard_grad_shift(a, coef);
            loss = hard_row_loss(a, z, y, m, log_s);
            if (g != NULL) {
                const double e_y = (double)g[y];
                row_affine(g, n, scale, shift);
                g[y] = hard_label_grad(a, e_y, s, coef);
            }
        } else {
            const T *t = (const T *)a->target_dense + i * n;
            const double t_sum = (1.0 - eps) * row_sum(t, n) + eps;
            loss = t_sum * log_s - row_tdot(z, t, n, m, (T)(1.0 - eps), (T)eps_n);
            if (g != NULL)
                row_grad_soft(g, t, n, (T)(coef * t_sum / s), (T)coef, (T)(1.0 - eps),
                              (T)eps_n);
        }
        a->loss_rows[i] = w * loss;
    }
}

/* Sigmoid cross-entropy of rows [row0, row1): loss in the softplus form, which never
 * overflows (exp(-|z|) is in (0, 1]), gradient sigmoid(z) - y, both evaluated in double. */
void CS_KERNEL(sigmoid_xent_block)(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const cs_xent_args *a = ctx;
    const ptrdiff_t n = a->n_cols;
    for (ptrdiff_t i = row0; i < row1; i++) {
        const T *z = (const T *)a->logits + i * n;
        const T *y = (const T *)a->target_dense + i * n;
        T *g = a->grad != NULL ? (T *)a->grad + i * n : NULL;
        const double w = a->sample_weight != NULL ? a->sample_weight[i] : 1.0;
        double loss = 0.0;
        for (ptrdiff_t j = 0; j < n; j++) {
            const double zj = z[j], yj = y[j];
            const double e = exp(-fabs(zj));
            loss += (zj > 0 ? zj : 0.0) - yj * zj + log1p(e);
            if (g != NULL)
                g[j] = (T)(w * ((zj >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - yj));
        }
        a->loss_rows[i] = w * loss;
    }
}
