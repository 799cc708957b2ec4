/* Template (see cs_instantiate.h): the row primitives every softmax-like kernel is built from.
 * One row is n contiguous elements, processed in native vectors (cs_native_impl.h); the
 * tail (n % NW elements) goes through a padded vector, so every element sees the same
 * arithmetic. Every sum is accumulated in double in the lanes of the 64-byte vectors of
 * cs_simd.h, in blocks merged pairwise (cs_pairsum), and reduced in a fixed order, so no
 * sum depends on the instruction set. */

#include "cs_native_impl.h"

/* Largest element, NaN ignored; -inf when every element is -inf or NaN. */
CS_INLINE T CS_FN(row_max)(const T *x, ptrdiff_t n)
{
    NV m0 = CS_FN(nv_splat)(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
    ptrdiff_t j = 0;
    for (; j + 4 * NW <= n; j += 4 * NW) {
        m0 = CS_FN(nv_max)(m0, CS_FN(nv_load)(x + j));
        m1 = CS_FN(nv_max)(m1, CS_FN(nv_load)(x + j + NW));
        m2 = CS_FN(nv_max)(m2, CS_FN(nv_load)(x + j + 2 * NW));
        m3 = CS_FN(nv_max)(m3, CS_FN(nv_load)(x + j + 3 * NW));
    }
    for (; j + NW <= n; j += NW)
        m0 = CS_FN(nv_max)(m0, CS_FN(nv_load)(x + j));
    m0 = CS_FN(nv_max)(CS_FN(nv_max)(m0, m1), CS_FN(nv_max)(m2, m3));
    T m = -INFINITY;
    for (int l = 0; l < NW; l++)
        m = m0[l] > m ? m0[l] : m;
    for (; j < n; j++)
        m = x[j] > m ? x[j] : m;
    return m;
}

/* sum_j exp(x_j - m), with exp(x_j - m) stored to e when e is not NULL (e may be x); m is
 * the row's max, so every argument is <= 0 or NaN. When next is not NULL, the n values
 * there (the next row) are prefetched, a 64-byte line per TW elements: the row max, which
 * streams the row in, then finds it in cache instead of waiting on memory. */
CS_INLINE double CS_FN(row_expsum)(const T *x, T *e, ptrdiff_t n, T m, const T *next)
{
    CS_FN(nsum) s;
    CS_FN(nsum_init)(&s);
    const NV vm = CS_FN(nv_splat)(m);
    ptrdiff_t j = 0;
    for (; j + TW <= n; j += TW) {
        if (next != NULL)
            __builtin_prefetch(next + j, 0, 2);
        CS_FN(nsum_step)(&s, j);
        for (int p = 0; p < TW; p += NW) {
            NV v = CS_FN(nv_exp_nonpos)(CS_FN(nv_load)(x + j + p) - vm);
            if (e != NULL)
                CS_FN(nv_store)(e + j + p, v);
            CS_FN(nsum_add)(&s, p, v);
        }
    }
    for (; j + NW <= n; j += NW) {
        NV v = CS_FN(nv_exp_nonpos)(CS_FN(nv_load)(x + j) - vm);
        if (e != NULL)
            CS_FN(nv_store)(e + j, v);
        CS_FN(nsum_add)(&s, j, v);
    }
    if (j < n) {
        NV v = CS_FN(nv_exp_nonpos)(CS_FN(nv_load_part)(x + j, n - j, -INFINITY) - vm);
        if (e != NULL)
            CS_FN(nv_store_part)(e + j, n - j, v);
        for (ptrdiff_t k = 0; j + k < n; k++)
            CS_FN(nsum_add1)(&s, j + k, (double)v[k]);
    }
    return CS_FN(nsum_finish)(&s);
}

/* sum_j x_j */
CS_INLINE double CS_FN(row_sum)(const T *x, ptrdiff_t n)
{
    CS_FN(nsum) s;
    CS_FN(nsum_init)(&s);
    ptrdiff_t j = 0;
    for (; j + TW <= n; j += TW) {
        CS_FN(nsum_step)(&s, j);
        for (int p = 0; p < TW; p += NW)
            CS_FN(nsum_add)(&s, p, CS_FN(nv_load)(x + j + p));
    }
    for (; j + NW <= n; j += NW)
        CS_FN(nsum_add)(&s, j, CS_FN(nv_load)(x + j));
    for (; j < n; j++)
        CS_FN(nsum_add1)(&s, j, (double)x[j]);
    return CS_FN(nsum_finish)(&s);
}

/* sum_j a_j b_j, each product formed in double */
CS_INLINE double CS_FN(row_dot)(const T *a, const T *b, ptrdiff_t n)
{
    CS_FN(nsum) s;
    CS_FN(nsum_init)(&s);
    ptrdiff_t j = 0;
    for (; j + TW <= n; j += TW) {
        CS_FN(nsum_step)(&s, j);
        for (int p = 0; p < TW; p += NW)
            CS_FN(nsum_add_mul)(&s, p, CS_FN(nv_load)(a + j + p), CS_FN(nv_load)(b + j + p));
    }
    for (; j + NW <= n; j += NW)
        CS_FN(nsum_add_mul)(&s, j, CS_FN(nv_load)(a + j), CS_FN(nv_load)(b + j));
    for (; j < n; j++)
        CS_FN(nsum_add1)(&s, j, (double)a[j] * (double)b[j]);
    return CS_FN(nsum_finish)(&s);
}

CS_INLINE void CS_FN(row_fill)(T *out, ptrdiff_t n, T value)
{
    for (ptrdiff_t j = 0; j < n; j++)
        out[j] = value;
}

/* out_j = e_j * s */
CS_INLINE void CS_FN(row_scale)(T *e, ptrdiff_t n, T s)
{
    const NV vs = CS_FN(nv_splat)(s);
    ptrdiff_t j = 0;
    for (; j + NW <= n; j += NW)
        CS_FN(nv_store)(e + j, CS_FN(nv_load)(e + j) * vs);
    if (j < n)
        CS_FN(nv_store_part)(e + j, n - j, CS_FN(nv_load_part)(e + j, n - j, 0) * vs);
}

/* The shared front half of softmax and log-softmax of one row: the max m and
 * S = sum_j exp(x_j - m) (exp values stored to e when e is not NULL; the next row, when not
 * NULL, prefetched meanwhile).
 * Returns 0 when the row is undefined (every entry -inf, or any +inf or NaN): the
 * caller then writes NaN, as PyTorch and SciPy do. */
CS_INLINE int CS_FN(row_normalizer)(const T *x, T *e, ptrdiff_t n, T *m_out, double *s_out,
                                    const T *next)
{
    T m = CS_FN(row_max)(x, n);
    if (!(m > -INFINITY && m < INFINITY))
        return 0;
    double s = CS_FN(row_expsum)(x, e, n, m, next);
    if (s != s)
        return 0;
    *m_out = m;
    *s_out = s;
    return 1;
}

#include "cs_narrow_impl.h"
