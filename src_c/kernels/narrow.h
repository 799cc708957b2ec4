/* Kernel body (see kernel.h): the row primitives for narrow
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

/* Up to 16 64-byte vectors a row: the row loop's fixed cost per row (horizontal max and sum,
 * the padded tail) made a row of 2 TW + 1 columns cost about twice as much per element as
 * one of 2 TW, and a row of 8 TW + 1 a third more than one of 8 TW, while the columns here
 * cost the same per element at any width (callgrind: 8.4 to 9.3 instructions per float32
 * logit on AVX2 from 33 to 128 columns; timed, 0.70 to 0.74 ns a float32 logit on AVX-512
 * from 128 to 256 columns, against 1.0 to 1.1 in the row loop from 129 to 140). */
#define CS_NARROW_MAX (16 * TW)

/* CS_NARROW_ROWS is 1 when narrow rows take this path. The C tests build the kernels a second
 * time with CS_FORCE_ROW_PATH (exported as <kernel>_rowpath_<dtype>_<level>, kernel.h), where
 * it is 0 and every row goes through the row loop, and compare the two builds byte for byte
 * (tests/c/test_narrow.c): the narrow path is checked to be the row loop's special case. The
 * extension is never built with it, so the switch costs nothing there. */
#ifdef CS_FORCE_ROW_PATH
#define CS_NARROW_ROWS 0
#else
#define CS_NARROW_ROWS 1
#endif

/* What a store does to each column vector v of a group on its way out: */
enum {
    CS_MAP_NONE,   /* v */
    CS_MAP_SCALE,  /* v a (softmax: e / s) */
    CS_MAP_AFFINE, /* v a + b (the cross-entropy gradient) */
    CS_MAP_SHIFT   /* (v - a) - b (log_softmax: (x - m) - log s) */
};

CS_INLINE NV narrow_map(NV v, int op, NV a, NV b)
{
    switch (op) {
    case CS_MAP_SCALE:
        return v * a;
    case CS_MAP_AFFINE:
        return v * a + b;
    case CS_MAP_SHIFT:
        return (v - a) - b;
    default:
        return v;
    }
}

/* Blocks of NW x NW elements are transposed in registers when the compiler has
 * __builtin_shufflevector; without it elements move one by one. */
#define CS_NARROW_LANES (CS_F32 ? CS_NATIVE_BYTES / 4 : CS_NATIVE_BYTES / 8) /* NW, for #if */
#if (CS_NARROW_LANES == 2 || CS_NARROW_LANES == 4 || CS_NARROW_LANES == 8 ||                 \
     CS_NARROW_LANES == 16) &&                                                                 \
    (defined(__clang__) || __GNUC__ >= 12)
#define CS_NARROW_TB 1

/* v[0..NW-1] becomes its transpose (lane r of v[j] moves to lane j of v[r]): rounds of
 * interleaves, of single lanes, then pairs, then quadruples (with 16 lanes, then blocks of
 * 4 x 4 moved whole: transpose_block16). */
#if CS_NARROW_LANES == 16
/* 16 lanes: interleaves of single lanes and of pairs within each 128-bit quarter leave
 * u[q + c] holding, in quarter k, column 4k + c of rows q .. q + 3; two rounds of quarter
 * moves then gather the four quarters of each column. */
CS_INLINE void transpose_block16(NV *v)
{
    NV t[16], u[16];
    for (int p = 0; p < 16; p += 2) {
        t[p] = __builtin_shufflevector(v[p], v[p + 1], 0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25,
                                       12, 28, 13, 29);
        t[p + 1] = __builtin_shufflevector(v[p], v[p + 1], 2, 18, 3, 19, 6, 22, 7, 23, 10, 26,
                                           11, 27, 14, 30, 15, 31);
    }
    for (int q = 0; q < 16; q += 4)
        for (int h = 0; h < 2; h++) {
            u[q + 2 * h] = __builtin_shufflevector(t[q + h], t[q + h + 2], 0, 1, 16, 17, 4, 5,
                                                   20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
            u[q + 2 * h + 1] = __builtin_shufflevector(t[q + h], t[q + h + 2], 2, 3, 18, 19, 6,
                                                       7, 22, 23, 10, 11, 26, 27, 14, 15, 30,
                                                       31);
        }
    for (int c = 0; c < 4; c++) {
        /* y: quarters 0, 1 (y0) and 2, 3 (y1) of rows 0-3 then 4-7; z the same of 8-15 */
        const NV y0 = __builtin_shufflevector(u[c], u[4 + c], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17,
                                              18, 19, 20, 21, 22, 23);
        const NV y1 = __builtin_shufflevector(u[c], u[4 + c], 8, 9, 10, 11, 12, 13, 14, 15, 24,
                                              25, 26, 27, 28, 29, 30, 31);
        const NV z0 = __builtin_shufflevector(u[8 + c], u[12 + c], 0, 1, 2, 3, 4, 5, 6, 7, 16,
                                              17, 18, 19, 20, 21, 22, 23);
        const NV z1 = __builtin_shufflevector(u[8 + c], u[12 + c], 8, 9, 10, 11, 12, 13, 14,
                                              15, 24, 25, 26, 27, 28, 29, 30, 31);
        v[c] = __builtin_shufflevector(y0, z0, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24,
                                       25, 26, 27);
        v[4 + c] = __builtin_shufflevector(y0, z0, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23,
                                           28, 29, 30, 31);
        v[8 + c] = __builtin_shufflevector(y1, z1, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19,
                                           24, 25, 26, 27);
        v[12 + c] = __builtin_shufflevector(y1, z1, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23,
                                            28, 29, 30, 31);
    }
}
#endif

CS_INLINE void transpose_block(NV *v)
{
#if CS_NARROW_LANES == 2
    const NV a = __builtin_shufflevector(v[0], v[1], 0, 2);
    v[1] = __builtin_shufflevector(v[0], v[1], 1, 3);
    v[0] = a;
#elif CS_NARROW_LANES == 4
    NV t[4];
    for (int p = 0; p < 4; p += 2) {
        t[p] = __builtin_shufflevector(v[p], v[p + 1], 0, 4, 1, 5);
        t[p + 1] = __builtin_shufflevector(v[p], v[p + 1], 2, 6, 3, 7);
    }
    v[0] = __builtin_shufflevector(t[0], t[2], 0, 1, 4, 5);
    v[1] = __builtin_shufflevector(t[0], t[2], 2, 3, 6, 7);
    v[2] = __builtin_shufflevector(t[1], t[3], 0, 1, 4, 5);
    v[3] = __builtin_shufflevector(t[1], t[3], 2, 3, 6, 7);
#elif CS_NARROW_LANES == 16
    transpose_block16(v);
#else
    NV t[8], u[8];
    for (int p = 0; p < 8; p += 2) {
        t[p] = __builtin_shufflevector(v[p], v[p + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[p + 1] = __builtin_shufflevector(v[p], v[p + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int q = 0; q < 8; q += 4) {
        u[q] = __builtin_shufflevector(t[q], t[q + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[q + 1] = __builtin_shufflevector(t[q], t[q + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[q + 2] = __builtin_shufflevector(t[q + 1], t[q + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[q + 3] = __builtin_shufflevector(t[q + 1], t[q + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        v[i] = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        v[i + 4] = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
#endif
}

/* Columns j0 .. j0 + NW - 1 of the NW rows at x (row stride n) into xt, and back. The load
 * also folds columns c0 .. NW - 1 of the block, in order, into the running max *m when m is
 * not NULL (the columns a block shares with the one before are not folded twice). */
CS_INLINE void narrow_load_block(const T *x, ptrdiff_t n, ptrdiff_t j0, T *xt, NV *m,
                                 int c0)
{
    NV v[NW];
    for (int r = 0; r < NW; r++)
        v[r] = nv_load(x + r * n + j0);
    transpose_block(v);
    for (int c = 0; c < NW; c++) {
        nv_store(xt + (j0 + c) * NW, v[c]);
        if (m != NULL && c >= c0)
            *m = nv_max(*m, v[c]);
    }
}

/* The store applies op to each column vector first (narrow_map). */
CS_INLINE void narrow_store_block(T *out, ptrdiff_t n, ptrdiff_t j0, const T *xt, int op,
                                  NV a, NV b)
{
    NV v[NW];
    for (int c = 0; c < NW; c++)
        v[c] = narrow_map(nv_load(xt + (j0 + c) * NW), op, a, b);
    transpose_block(v);
    for (int r = 0; r < NW; r++)
        nv_store(out + r * n + j0, v[r]);
}

#if CS_NARROW_LANES == 8
/* With 8 lanes the last t <= 4 columns of a group move as a half block: each row's last 4
 * columns are one half vector, rows r and r + 4 share a vector, and two rounds of
 * interleaves within 128-bit lanes (the first two rounds of transpose_block) turn 4 such
 * vectors into the 4 columns, or back. A full overlapping block would transpose 8 columns
 * for these few. */
#define CS_NARROW_HALF 1
typedef T NH __attribute__((vector_size(CS_NATIVE_BYTES / 2), aligned(sizeof(T))));

CS_INLINE void transpose_half(NV *v)
{
    NV t[4];
    for (int p = 0; p < 4; p += 2) {
        t[p] = __builtin_shufflevector(v[p], v[p + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[p + 1] = __builtin_shufflevector(v[p], v[p + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    v[0] = __builtin_shufflevector(t[0], t[2], 0, 1, 8, 9, 4, 5, 12, 13);
    v[1] = __builtin_shufflevector(t[0], t[2], 2, 3, 10, 11, 6, 7, 14, 15);
    v[2] = __builtin_shufflevector(t[1], t[3], 0, 1, 8, 9, 4, 5, 12, 13);
    v[3] = __builtin_shufflevector(t[1], t[3], 2, 3, 10, 11, 6, 7, 14, 15);
}

/* Columns j0 .. j0 + 3 of the 8 rows at x into xt, folding columns c0 .. 3 into *m. */
CS_INLINE void narrow_load_half(const T *x, ptrdiff_t n, ptrdiff_t j0, T *xt, NV *m,
                                int c0)
{
    NV v[4];
    for (int r = 0; r < 4; r++)
        v[r] = __builtin_shufflevector(*(const NH *)(x + r * n + j0),
                                       *(const NH *)(x + (r + 4) * n + j0), 0, 1, 2, 3, 4, 5,
                                       6, 7);
    transpose_half(v);
    for (int c = 0; c < 4; c++) {
        nv_store(xt + (j0 + c) * NW, v[c]);
        if (m != NULL && c >= c0)
            *m = nv_max(*m, v[c]);
    }
}

CS_INLINE void narrow_store_half(T *out, ptrdiff_t n, ptrdiff_t j0, const T *xt, int op,
                                 NV a, NV b)
{
    NV v[4];
    for (int c = 0; c < 4; c++)
        v[c] = narrow_map(nv_load(xt + (j0 + c) * NW), op, a, b);
    transpose_half(v);
    for (int r = 0; r < 4; r++) {
        *(NH *)(out + r * n + j0) = __builtin_shufflevector(v[r], v[r], 0, 1, 2, 3);
        *(NH *)(out + (r + 4) * n + j0) = __builtin_shufflevector(v[r], v[r], 4, 5, 6, 7);
    }
}
#else
#define CS_NARROW_HALF 0
#endif
#else
#define CS_NARROW_TB 0
#endif

/* xt[j * NW + r] = x[r * n + j] for the k <= NW rows at x; lanes r >= k get 0. When m is
 * not NULL it is set to the lanes' max over the columns, max_j x_rj (NaN ignored), folded
 * in column order as a loop over xt would fold it. */
CS_INLINE void narrow_load(const T *x, ptrdiff_t n, ptrdiff_t k, T *xt, NV *m)
{
    if (m != NULL)
        *m = nv_splat(-INFINITY);
#if CS_NARROW_TB
    if (k == NW && n >= NW) {
        ptrdiff_t j = 0;
        for (; j + NW <= n; j += NW)
            narrow_load_block(x, n, j, xt, m, 0);
#if CS_NARROW_HALF
        if (j < n && n - j <= NW / 2) { /* the last columns as a half block */
            narrow_load_half(x, n, n - NW / 2, xt, m, (int)(j - (n - NW / 2)));
            return;
        }
#endif
        if (j < n) /* the last columns as one more block, overlapping the one before */
            narrow_load_block(x, n, n - NW, xt, m, (int)(j - (n - NW)));
        return;
    }
#if CS_MASKED_PART && CS_NATIVE_BYTES == 64 /* (see nv_load_part) */
    if (k == NW && n < NW) { /* each row one masked load */
        NV v[NW];
        for (int r = 0; r < NW; r++)
            v[r] = nv_load_part(x + r * n, n, 0);
        transpose_block(v);
        for (ptrdiff_t c = 0; c < n; c++) {
            nv_store(xt + c * NW, v[c]);
            if (m != NULL)
                *m = nv_max(*m, v[c]);
        }
        return;
    }
#endif
#endif
    for (ptrdiff_t r = 0; r < NW; r++)
        for (ptrdiff_t j = 0; j < n; j++)
            xt[j * NW + r] = r < k ? x[r * n + j] : 0;
    if (m != NULL)
        for (ptrdiff_t j = 0; j < n; j++)
            *m = nv_max(*m, nv_load(xt + j * NW));
}

/* The inverse of narrow_load for the first k lanes, each column vector v stored as
 * narrow_map(v, op, a, b). */
CS_INLINE void narrow_store(T *out, ptrdiff_t n, ptrdiff_t k, T *xt, int op, NV a, NV b)
{
#if CS_NARROW_TB
    if (k == NW && n >= NW) {
        ptrdiff_t j = 0;
        for (; j + NW <= n; j += NW)
            narrow_store_block(out, n, j, xt, op, a, b);
#if CS_NARROW_HALF
        if (j < n && n - j <= NW / 2) { /* overlapping too when fewer than NW / 2 are left */
            narrow_store_half(out, n, n - NW / 2, xt, op, a, b);
            return;
        }
#endif
        if (j < n) /* overlapping: its first columns are stored again, with the same values */
            narrow_store_block(out, n, n - NW, xt, op, a, b);
        return;
    }
#if CS_MASKED_PART && CS_NATIVE_BYTES == 64
    if (k == NW && n < NW) { /* each row one masked store */
        NV v[NW];
        for (ptrdiff_t c = 0; c < NW; c++)
            v[c] = c < n ? narrow_map(nv_load(xt + c * NW), op, a, b) : nv_splat(0);
        transpose_block(v);
        for (int r = 0; r < NW; r++)
            nv_store_part(out + r * n, n, v[r]);
        return;
    }
#endif
#endif
    if (op != CS_MAP_NONE)
        for (ptrdiff_t j = 0; j < n; j++)
            nv_store(xt + j * NW, narrow_map(nv_load(xt + j * NW), op, a, b));
    for (ptrdiff_t r = 0; r < k; r++)
        for (ptrdiff_t j = 0; j < n; j++)
            out[r * n + j] = xt[j * NW + r];
}

/* The sums of a group, one double per lane: lanes h*ND .. h*ND + ND - 1 in s[h]. */
typedef struct {
    NVD s[NW / ND];
} narrow_sums;

/* acc[c][h]: the running sum of logical lane c of the row primitives (element j goes to
 * c = j % TW), for the rows of half h of the group (lanes h*ND .. h*ND + ND - 1). */
CS_INLINE void narrow_acc_zero(NVD acc[TW][NW / ND])
{
    for (ptrdiff_t c = 0; c < TW; c++)
        for (int h = 0; h < NW / ND; h++)
            acc[c][h] = (NVD){0};
}

/* Lanes h*ND .. h*ND + ND - 1 of v, widened to double (exactly). */
CS_INLINE NVD nv_half_d(NV v, int h)
{
#if CS_F32
    return h == 0 ? nv_lo_d(v) : nv_hi_d(v);
#else
    (void)h;
    return v;
#endif
}

/* Column j's values, widened to double, added to logical lane j % TW. */
CS_INLINE void narrow_acc_add(NVD acc[TW][NW / ND], ptrdiff_t j, NV v)
{
#if CS_F32
    acc[j % TW][0] += nv_lo_d(v);
    acc[j % TW][1] += nv_hi_d(v);
#else
    acc[j % TW][0] += v;
#endif
}

/* The sums from the accumulators as the row primitives fold theirs: b_l = a0[l] + a1[l] (for
 * double a1 is zero), then the fold of cs_hsumd (CS_FOLD8). */
CS_INLINE void narrow_fold(NVD acc[TW][NW / ND], narrow_sums *sums)
{
    for (int h = 0; h < NW / ND; h++) {
        NVD b[CS_WD];
        for (int l = 0; l < CS_WD; l++)
#if CS_F32
            b[l] = acc[l][h] + acc[l + CS_WD][h];
#else
            b[l] = acc[l][h] + (NVD){0};
#endif
        sums->s[h] = CS_FOLD8(b); /* as cs_hsumd folds a row's lanes */
    }
}

/* Per lane r of the column buffer xt (n columns), given m_r = max_j x_rj (narrow_load):
 * e_rj = exp(x_rj - m_r), stored to et when et is not NULL (et may be xt); and
 * s_r = sum_j e_rj, summed in the order of row_expsum (see the top of this file). */
CS_INLINE void narrow_expsum(const T *xt, T *et, ptrdiff_t n, NV m,
                             narrow_sums *sums)
{
    NVD acc[TW][NW / ND];
    narrow_acc_zero(acc);
    for (ptrdiff_t j = 0; j < n; j++) {
        NV e = nv_exp_nonpos(nv_load(xt + j * NW) - m);
        if (et != NULL)
            nv_store(et + j * NW, e);
        narrow_acc_add(acc, j, e);
    }
    narrow_fold(acc, sums);
}

/* Per lane: sum_j y_rj dy_rj (each product formed in double), in the order of
 * row_vjp_input. */
CS_INLINE void narrow_dot(const T *yt, const T *dyt, ptrdiff_t n,
                          narrow_sums *sums)
{
    NVD acc[TW][NW / ND];
    narrow_acc_zero(acc);
    for (ptrdiff_t j = 0; j < n; j++) {
        const NV u = nv_load(yt + j * NW), v = nv_load(dyt + j * NW);
#if CS_F32
        acc[j % TW][0] += nv_lo_d(u) * nv_lo_d(v);
        acc[j % TW][1] += nv_hi_d(u) * nv_hi_d(v);
#else
        acc[j % TW][0] += u * v;
#endif
    }
    narrow_fold(acc, sums);
}

/* Per lane: sum_j x_rj, in the order of row_sum. */
CS_INLINE void narrow_sum(const T *xt, ptrdiff_t n, narrow_sums *sums)
{
    NVD acc[TW][NW / ND];
    narrow_acc_zero(acc);
    for (ptrdiff_t j = 0; j < n; j++)
        narrow_acc_add(acc, j, nv_load(xt + j * NW));
    narrow_fold(acc, sums);
}

/* The lanes of numerator / s, each rounded from double to T as a scalar would be. */
CS_INLINE NV narrow_ratio(const narrow_sums *sums, double numerator)
{
#if CS_F32
    return nv_from_d(numerator / sums->s[0], numerator / sums->s[1]);
#else
    return numerator / sums->s[0];
#endif
}

/* Lane r's sum, and whether its row is defined (as row_normalizer decides). */
CS_INLINE double narrow_sum_at(const narrow_sums *sums, int r)
{
    return sums->s[r / ND][r % ND];
}

CS_INLINE int narrow_defined(NV m, const narrow_sums *sums, int r)
{
    const double s = narrow_sum_at(sums, r);
    return m[r] > -INFINITY && m[r] < INFINITY && s == s;
}

/* Whether every lane's row is defined (the common case, tested with vector compares). */
CS_INLINE int narrow_all_defined(NV m, const narrow_sums *sums)
{
    if (nv_any(~((m > -INFINITY) & (m < INFINITY))))
        return 0;
    for (int h = 0; h < NW / ND; h++)
        if (nv_any((NVI)(sums->s[h] != sums->s[h])))
            return 0;
    return 1;
}

/* logs[r] = log_d(s_r) for every lane r of the group, by vectors of ND sums. */
CS_INLINE void narrow_logs(const narrow_sums *sums, double logs[NW])
{
    for (int h = 0; h < NW / ND; h++) {
        const NVD ls = nvd_log(sums->s[h]);
        for (int l = 0; l < ND; l++)
            logs[h * ND + l] = ls[l];
    }
}
