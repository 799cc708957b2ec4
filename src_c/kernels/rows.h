/* Kernel body (see kernel.h): the row primitives every softmax-like kernel is built from.
 * One row is n contiguous elements, processed in native vectors (vec.h); the
 * tail (n % NW elements) goes through a padded vector, so every element sees the same
 * arithmetic. Every sum is accumulated in double in the lanes of the 64-byte vectors of
 * cs_simd.h, in blocks merged pairwise (cs_pairsum), and reduced in a fixed order, so no
 * sum depends on the instruction set. */

/* Largest element, NaN ignored; -inf when every element is -inf or NaN. */
CS_INLINE T row_max(const T *x, ptrdiff_t n)
{
    NV m0 = nv_splat(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    ptrdiff_t j = 0;
    for (; j + 4 * NW <= n; j += 4 * NW) {
        m0 = nv_max(m0, nv_load(x + j));
        m1 = nv_max(m1, nv_load(x + j + NW));
        m2 = nv_max(m2, nv_load(x + j + 2 * NW));
        m3 = nv_max(m3, nv_load(x + j + 3 * NW));
    }
    for (; j + NW <= n; j += NW)
        m0 = nv_max(m0, nv_load(x + j));
    m0 = nv_max(nv_max(m0, m1), nv_max(m2, m3));
    T m = -INFINITY;
    for (int l = 0; l < NW; l++)
        m = m0[l] > m ? m0[l] : m;
    for (; j < n; j++)
        m = x[j] > m ? x[j] : m;
    return m;
}

/* The 64-byte steps of row_expsum at j, ..., with every argument in the range where the
 * exponential is normal (nv_exp_normal): each block of CS_SUM_BLOCK steps is summed in local
 * accumulators, kept in registers (the loop has no call and no store to s), and merged into s
 * as nsum_add and nsum_step would. Stops at the last full step of the row or before the first
 * step with a lane outside that range, and returns where it stopped. */
CS_INLINE ptrdiff_t row_expsum_steps(const T *x, T *e, ptrdiff_t n, NV vm, const T *pf, nsum *s)
{
    const ptrdiff_t full = n - n % TW;
    ptrdiff_t j = 0;
    while (j < full) {
        nsum_step(s, j);
        const ptrdiff_t stop = full - j > CS_SUM_BLOCK * TW ? j + CS_SUM_BLOCK * TW : full;
        NVD acc[NACC];
        for (int q = 0; q < NACC; q++)
            acc[q] = s->acc[q];
        for (; j < stop; j += TW) {
            __builtin_prefetch(pf + j, 0, 2);
            NV d[TW / NW], k[TW / NW], t[TW / NW];
            NVI normal = ~(NVI){0};
            for (int p = 0; p < TW / NW; p++) {
                d[p] = nv_load(x + j + p * NW) - vm;
                normal &= nv_exp_nonpos_begin(d[p], &k[p], &t[p]);
            }
            if (__builtin_expect(!nv_all(normal), 0))
                break;
            for (int p = 0; p < TW / NW; p++) {
                const NV v = nv_exp_normal(d[p], k[p], t[p]);
                if (e != NULL)
                    nv_store(e + j + p * NW, v);
                nacc_add(acc, p * NW, v);
            }
        }
        for (int q = 0; q < NACC; q++)
            s->acc[q] = acc[q];
        if (j < stop)
            break;
    }
    return j;
}

/* row_expsum from j on (where row_expsum_steps stopped, after its nsum_step for j), every
 * exponential through nv_exp_nonpos (lanes out of the normal range through nv_exp_edge).
 * Kept out of line: the fast loop above then has no call, around which its accumulators
 * would have to live in memory. */
__attribute__((noinline)) static void row_expsum_rest(const T *x, T *e, ptrdiff_t n, NV vm,
                                                     const T *pf, nsum *s, ptrdiff_t j)
{
    for (const ptrdiff_t j0 = j; j + TW <= n; j += TW) {
        __builtin_prefetch(pf + j, 0, 2);
        if (j != j0)
            nsum_step(s, j);
        for (int p = 0; p < TW; p += NW) {
            NV v = nv_exp_nonpos(nv_load(x + j + p) - vm);
            if (e != NULL)
                nv_store(e + j + p, v);
            nsum_add(s, p, v);
        }
    }
    for (; j + NW <= n; j += NW) {
        NV v = nv_exp_nonpos(nv_load(x + j) - vm);
        if (e != NULL)
            nv_store(e + j, v);
        nsum_add(s, j, v);
    }
    if (j < n) {
        NV v = nv_exp_nonpos(nv_load_part(x + j, n - j, -INFINITY) - vm);
        if (e != NULL)
            nv_store_part(e + j, n - j, v);
        nsum_add(s, j, v); /* the padding's exponentials are +0 (nsum_add_part) */
    }
}

/* sum_j exp(x_j - m), with exp(x_j - m) stored to e when e is not NULL (e may be x); m is
 * the row's max, so every argument is <= 0 or NaN. When next is not NULL, the n values
 * there (the next row) are prefetched, a 64-byte line per TW elements: the row max, which
 * streams the row in, then finds it in cache instead of waiting on memory. The full 64-byte
 * steps go through row_expsum_steps (one copy with e and one without, so that the loop does
 * not test e), the rest through row_expsum_rest: the sum is that of one loop over the row. */
CS_INLINE double row_expsum(const T *x, T *e, ptrdiff_t n, T m, const T *next)
{
    nsum s;
    nsum_init(&s);
    const NV vm = nv_splat(m);
    const T *pf = next != NULL ? next : x;
    const ptrdiff_t j = e != NULL ? row_expsum_steps(x, e, n, vm, pf, &s)
                                  : row_expsum_steps(x, NULL, n, vm, pf, &s);
    if (j < n)
        row_expsum_rest(x, e, n, vm, pf, &s, j);
    return nsum_finish(&s);
}

/* sum_j x_j */
CS_INLINE double row_sum(const T *x, ptrdiff_t n)
{
    nsum s;
    nsum_init(&s);
    ptrdiff_t j = 0;
    for (; j + TW <= n; j += TW) {
        nsum_step(&s, j);
        for (int p = 0; p < TW; p += NW)
            nsum_add(&s, p, nv_load(x + j + p));
    }
    for (; j + NW <= n; j += NW)
        nsum_add(&s, j, nv_load(x + j));
    if (j < n)
        nsum_add(&s, j, nv_load_part(x + j, n - j, 0)); /* nsum_add_part */
    return nsum_finish(&s);
}

CS_INLINE void row_fill(T *out, ptrdiff_t n, T value)
{
    for (ptrdiff_t j = 0; j < n; j++)
        out[j] = value;
}

/* out_j = e_j * s; four vectors a round, which GCC does not unroll by itself (the loop's
 * counter and branch were as many instructions as its loads, products and stores). */
CS_INLINE void row_scale(T *e, ptrdiff_t n, T s)
{
    const NV vs = nv_splat(s);
    ptrdiff_t j = 0;
    for (; j + 4 * NW <= n; j += 4 * NW) {
        const NV a = nv_load(e + j), b = nv_load(e + j + NW);
        const NV c = nv_load(e + j + 2 * NW), d = nv_load(e + j + 3 * NW);
        nv_store(e + j, a * vs);
        nv_store(e + j + NW, b * vs);
        nv_store(e + j + 2 * NW, c * vs);
        nv_store(e + j + 3 * NW, d * vs);
    }
    for (; j + NW <= n; j += NW)
        nv_store(e + j, nv_load(e + j) * vs);
    if (j < n)
        nv_store_part(e + j, n - j, nv_load_part(e + j, n - j, 0) * vs);
}

/* The shared front half of softmax and log-softmax of one row: the max m and
 * S = sum_j exp(x_j - m) (exp values stored to e when e is not NULL; the next row, when not
 * NULL, prefetched meanwhile).
 * Returns 0 when the row is undefined (every entry -inf, or any +inf or NaN): the
 * caller then writes NaN, as PyTorch and SciPy do. */
CS_INLINE int row_normalizer(const T *x, T *e, ptrdiff_t n, T *m_out, double *s_out,
                             const T *next)
{
    T m = row_max(x, n);
    if (!(m > -INFINITY && m < INFINITY))
        return 0;
    double s = row_expsum(x, e, n, m, next);
    if (s != s)
        return 0;
    *m_out = m;
    *s_out = s;
    return 1;
}
