/* Kernel body (see kernel.h): the row primitives of the masked softmax family (the `where`
 * mask of cs_softmax.h) and of the softmax VJP's check of its input.
 *
 * A mask is one byte per element, nonzero where the element takes part. It is read in the
 * passes that already read the row, lane for lane beside the data: an element left out is
 * replaced by -inf in the max, by 0 in the sums, and gets a fixed value in the output.
 * Where every byte is nonzero each function computes exactly what its unmasked counterpart
 * of rows.h computes, in the same order, so an all-true mask gives the same bits as none.
 * The primitives take w == NULL for "no mask"; they are inlined, so a call with a literal
 * NULL compiles without any mask code. */

#if CS_NARROW_LANES == 16
typedef unsigned char NVB __attribute__((vector_size(16), aligned(1)));
#elif CS_NARROW_LANES == 8
typedef unsigned char NVB __attribute__((vector_size(8), aligned(1)));
#elif CS_NARROW_LANES == 4
typedef unsigned char NVB __attribute__((vector_size(4), aligned(1)));
#else
typedef unsigned char NVB __attribute__((vector_size(2), aligned(1)));
#endif

/* (CS_NARROW_LANES is NW, narrow.h.) The NW mask bytes at w as lanes: all ones where nonzero. */
CS_INLINE NVI nv_where(const unsigned char *w)
{
    NVB b;
    memcpy(&b, w, sizeof b);
    return (NVI)(__builtin_convertvector(b, NVI) != 0);
}

/* The first k < NW bytes at w, the other lanes left out. */
CS_INLINE NVI nv_where_part(const unsigned char *w, ptrdiff_t k)
{
    unsigned char buf[NW] = {0};
    memcpy(buf, w, (size_t)k);
    return nv_where(buf);
}

CS_INLINE NV nv_min(NV m, NV x) { return nv_sel(x < m, x, m); } /* a NaN x never wins */

/* row_max of the elements that take part: -inf when none does. */
CS_INLINE T row_max_where(const T *x, const unsigned char *w, ptrdiff_t n)
{
    const NV ninf = nv_splat(-INFINITY);
    NV m0 = ninf, m1 = m0, m2 = m0, m3 = m0;
    ptrdiff_t j = 0;
#define CS_LDW(o) nv_sel(nv_where(w + j + (o)), nv_load(x + j + (o)), ninf)
    for (; j + 4 * NW <= n; j += 4 * NW) {
        m0 = nv_max(m0, CS_LDW(0));
        m1 = nv_max(m1, CS_LDW(NW));
        m2 = nv_max(m2, CS_LDW(2 * NW));
        m3 = nv_max(m3, CS_LDW(3 * NW));
    }
    for (; j + NW <= n; j += NW)
        m0 = nv_max(m0, CS_LDW(0));
#undef CS_LDW
    m0 = nv_max(nv_max(m0, m1), nv_max(m2, m3));
    T m = -INFINITY;
    for (int l = 0; l < NW; l++)
        m = m0[l] > m ? m0[l] : m;
    for (; j < n; j++)
        if (w[j])
            m = x[j] > m ? x[j] : m;
    return m;
}

/* exp(x - m) where lanes k take part, else 0 (the exponent of a lane left out is 0, so it
 * never takes exp's slow path for huge or NaN values). */
CS_INLINE NV exp_where(NV x, NV vm, NVI k)
{
    const NV zero = {0};
    return nv_sel(k, nv_exp_nonpos(nv_sel(k, x - vm, zero)), zero);
}

/* row_expsum of the elements that take part; the others store 0 to e. */
CS_INLINE double row_expsum_where(const T *x, const unsigned char *w, T *e, ptrdiff_t n,
                                  T m, const T *next)
{
    nsum s;
    nsum_init(&s);
    const NV vm = nv_splat(m);
    ptrdiff_t j = 0;
    for (; j + TW <= n; j += TW) {
        if (next != NULL)
            __builtin_prefetch(next + j, 0, 2);
        nsum_step(&s, j);
        for (int p = 0; p < TW; p += NW) {
            NV v = exp_where(nv_load(x + j + p), vm, nv_where(w + j + p));
            if (e != NULL)
                nv_store(e + j + p, v);
            nsum_add(&s, p, v);
        }
    }
    for (; j + NW <= n; j += NW) {
        NV v = exp_where(nv_load(x + j), vm, nv_where(w + j));
        if (e != NULL)
            nv_store(e + j, v);
        nsum_add(&s, j, v);
    }
    if (j < n) {
        NV v = exp_where(nv_load_part(x + j, n - j, -INFINITY), vm,
                         nv_where_part(w + j, n - j));
        if (e != NULL)
            nv_store_part(e + j, n - j, v);
        nsum_add(&s, j, v); /* the padding gives +0 (nsum_add_part) */
    }
    return nsum_finish(&s);
}

/* row_sum of the elements that take part (all when w is NULL). */
CS_INLINE double row_sum_where(const T *x, const unsigned char *w, ptrdiff_t n)
{
    const NV zero = {0};
    nsum s;
    nsum_init(&s);
    ptrdiff_t j = 0;
    for (; j + TW <= n; j += TW) {
        nsum_step(&s, j);
        for (int p = 0; p < TW; p += NW) {
            NV v = nv_load(x + j + p);
            nsum_add(&s, p, w != NULL ? nv_sel(nv_where(w + j + p), v, zero) : v);
        }
    }
    for (; j + NW <= n; j += NW) {
        NV v = nv_load(x + j);
        nsum_add(&s, j, w != NULL ? nv_sel(nv_where(w + j), v, zero) : v);
    }
    for (; j < n; j++)
        nsum_add1(&s, j, w == NULL || w[j] ? (double)x[j] : 0.0);
    return nsum_finish(&s);
}

/* What the softmax VJP's input pass learns about y, for the check (vjp_input_ok). */
typedef struct {
    double dot; /* sum_j y_j dy_j over the elements that take part (row_vjp_input) */
    double sum; /* sum_j y_j over them, accumulated in T lanes (a check needs no more) */
    T lo;       /* their smallest y (NaN ignored) */
} vjp_input;

/* One vector of the softmax VJP's input pass (row_vjp_input) at element j. */
CS_INLINE void vjp_input_add(nsum *s, NV *sy, NV *lo, ptrdiff_t j, NV u, NV v,
                             const unsigned char *w, int check)
{
    if (w != NULL) {
        const NV zero = {0};
        const NVI k = nv_where(w + j);
        u = nv_sel(k, u, zero);
        v = nv_sel(k, v, zero);
    }
    nsum_add_mul(s, j, u, v);
    if (check) {
        *sy += v;
        *lo = nv_min(*lo, v);
    }
}

/* The pass of the softmax VJP over y and dy: <y, dy> (each product formed in double,
 * summed in nsum's order, as row_sum sums) and, when check is set, the sum and the
 * smallest entry of y; elements left out by w count as y = dy = 0. */
CS_INLINE void row_vjp_input(const T *y, const T *dy, const unsigned char *w, ptrdiff_t n,
                             int check, vjp_input *in)
{
    nsum s;
    nsum_init(&s);
    NV sy = {0}, lo = nv_splat(INFINITY);
    ptrdiff_t j = 0;
    for (; j + TW <= n; j += TW) {
        nsum_step(&s, j);
        for (int p = 0; p < TW; p += NW)
            vjp_input_add(&s, &sy, &lo, p, nv_load(dy + j + p), nv_load(y + j + p),
                          w != NULL ? w + j : NULL, check);
    }
    for (; j + NW <= n; j += NW)
        vjp_input_add(&s, &sy, &lo, j, nv_load(dy + j), nv_load(y + j), w, check);
    double sum = 0.0;
    T l = INFINITY;
    for (int q = 0; q < NW; q++) {
        sum += (double)sy[q];
        l = lo[q] < l ? lo[q] : l;
    }
    for (; j < n; j++) {
        const int take = w == NULL || w[j];
        const T v = take ? y[j] : 0;
        nsum_add1(&s, j, take ? (double)dy[j] * (double)v : 0.0);
        sum += (double)v;
        l = v < l ? v : l;
    }
    in->dot = nsum_finish(&s);
    in->sum = sum;
    in->lo = l;
}

/* Whether y can be a softmax output of n columns: no entry below -tol and the sum within
 * tol of 1 (or exactly 0 with a mask: a row left out entirely), so that no entry exceeds
 * 1 + n tol either; tol = (n + 8) eps, the rounding a sum of n probabilities formed with
 * machine epsilon eps may carry, eps that of T at least. A row holding NaN passes (an
 * undefined row's softmax is NaN; its VJP stays NaN). */
CS_INLINE int vjp_input_ok(const vjp_input *in, ptrdiff_t n, int masked, double eps)
{
    const double eps_t = CS_F32 ? 0x1p-23 : 0x1p-52;
    const double tol = (double)(n + 8) * (eps > eps_t ? eps : eps_t);
    if ((double)in->lo < -tol)
        return 0;
    return !(fabs(in->sum - 1.0) > tol) || (masked && in->sum == 0.0);
}

/* *bad = min(*bad, row), where -1 stands for none, atomically (rows run on several threads). */
CS_INLINE void flag_bad_row(ptrdiff_t *bad, ptrdiff_t row)
{
    ptrdiff_t cur = __atomic_load_n(bad, __ATOMIC_RELAXED);
    while ((cur < 0 || row < cur) &&
           !__atomic_compare_exchange_n(bad, &cur, row, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* out_j = take_j ? value : other (a row whose softmax is undefined, or that is left out). */
CS_INLINE void row_fill_where(T *out, const unsigned char *w, ptrdiff_t n, T value, T other)
{
    for (ptrdiff_t j = 0; j < n; j++)
        out[j] = w[j] ? value : other;
}
