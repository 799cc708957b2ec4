/* Template (see cs_instantiate.h), part of cs_rows_impl.h: the row primitives for narrow
 * rows (n <= CS_NARROW_MAX), processed NW rows at a time in columns.
 *
 * A narrow row fills less than a vector or two, so the row primitives would spend their
 * time on the padded tail and on horizontal reductions. Here a group of up to NW rows is
 * loaded into a column buffer (column j of the group is one native vector, lane r holding
 * row r), and every step is vertical: the max, exp and the sums of NW rows come out of the
 * same instructions.
 *
 * Each lane's sum is formed in exactly the order row_expsum uses for that row (element j
 * goes to accumulator lane j % TW; for float the two halves of the 64-byte accumulator are
 * then added, and the eight lanes folded as cs_hsumd folds them), so a narrow row gives the
 * same bits as it would through the row primitives. */

#define CS_NARROW_MAX (2 * TW)

/* xt[j * NW + r] = x[r * n + j] for the k <= NW rows at x; lanes r >= k get 0. */
CS_INLINE void CS_FN(narrow_load)(const T *x, ptrdiff_t n, ptrdiff_t k, T *xt)
{
    if (k == NW) {
        for (ptrdiff_t r = 0; r < NW; r++)
            for (ptrdiff_t j = 0; j < n; j++)
                xt[j * NW + r] = x[r * n + j];
        return;
    }
    for (ptrdiff_t r = 0; r < NW; r++)
        for (ptrdiff_t j = 0; j < n; j++)
            xt[j * NW + r] = r < k ? x[r * n + j] : 0;
}

/* The inverse of narrow_load for the first k lanes. */
CS_INLINE void CS_FN(narrow_store)(T *out, ptrdiff_t n, ptrdiff_t k, const T *xt)
{
    for (ptrdiff_t r = 0; r < k; r++)
        for (ptrdiff_t j = 0; j < n; j++)
            out[r * n + j] = xt[j * NW + r];
}

/* The sums of a group, one double per lane: lanes h*ND .. h*ND + ND - 1 in s[h]. */
typedef struct {
    NVD s[NW / ND];
} CS_FN(narrow_sums);

/* Per lane r of the column buffer xt (n columns): m_r = max_j x_rj (NaN ignored), returned;
 * e_rj = exp(x_rj - m_r), stored to et when et is not NULL (et may be xt); and
 * s_r = sum_j e_rj, summed in the order of row_expsum (see the top of this file). */
CS_INLINE NV CS_FN(narrow_expsum)(const T *xt, T *et, ptrdiff_t n, CS_FN(narrow_sums) *sums)
{
    NV m = CS_FN(nv_splat)(-INFINITY);
    for (ptrdiff_t j = 0; j < n; j++)
        m = CS_FN(nv_max)(m, CS_FN(nv_load)(xt + j * NW));
    /* acc[c][h]: the running sum of logical lane c of row_expsum, for the rows of half h. */
    NVD acc[TW][NW / ND];
    for (ptrdiff_t c = 0; c < TW; c++)
        for (int h = 0; h < NW / ND; h++)
            acc[c][h] = (NVD){0};
    for (ptrdiff_t j = 0; j < n; j++) {
        NV e = CS_FN(nv_exp)(CS_FN(nv_load)(xt + j * NW) - m);
        if (et != NULL)
            CS_FN(nv_store)(et + j * NW, e);
#if CS_F32
        acc[j % TW][0] += CS_FN(nv_lo_d)(e);
        acc[j % TW][1] += CS_FN(nv_hi_d)(e);
#else
        acc[j % TW][0] += e;
#endif
    }
    /* b_l = a0[l] + a1[l] of row_expsum (for double a1 is zero), then cs_hsumd's fold. */
    for (int h = 0; h < NW / ND; h++) {
        NVD b[CS_WD];
        for (int l = 0; l < CS_WD; l++)
#if CS_F32
            b[l] = acc[l][h] + acc[l + CS_WD][h];
#else
            b[l] = acc[l][h] + (NVD){0};
#endif
        sums->s[h] = ((b[0] + b[4]) + (b[2] + b[6])) + ((b[1] + b[5]) + (b[3] + b[7]));
    }
    return m;
}

/* The lanes of numerator / s, each rounded from double to T as a scalar would be. */
CS_INLINE NV CS_FN(narrow_ratio)(const CS_FN(narrow_sums) *sums, double numerator)
{
#if CS_F32
    return CS_FN(nv_from_d)(numerator / sums->s[0], numerator / sums->s[1]);
#else
    return numerator / sums->s[0];
#endif
}

/* Lane r's sum, and whether its row is defined (as row_normalizer decides). */
CS_INLINE double CS_FN(narrow_sum_at)(const CS_FN(narrow_sums) *sums, int r)
{
    return sums->s[r / ND][r % ND];
}

CS_INLINE int CS_FN(narrow_defined)(NV m, const CS_FN(narrow_sums) *sums, int r)
{
    const double s = CS_FN(narrow_sum_at)(sums, r);
    return m[r] > -INFINITY && m[r] < INFINITY && s == s;
}
