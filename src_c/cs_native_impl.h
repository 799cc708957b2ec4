/* Template (see cs_instantiate.h), part of cs_rows_impl.h: vectors of the hardware's own
 * width (CS_NATIVE_BYTES: 16 for SSE2 and NEON, 32 for AVX2, 64 for AVX-512) for the hot
 * loops.
 *
 * The lanes of a 64-byte vector (cs_simd.h) fix the order of every sum, whatever the
 * instruction set. The kernels no longer compute on 64-byte vectors: GCC keeps a vector
 * wider than the hardware's in memory and turns its comparisons into scalar code, so on AVX2
 * and SSE2 such loops ran several times slower than they should. The loops use native
 * vectors and reproduce the 64-byte order exactly (element j of a row is summed in logical
 * lane j % TW, nsum below), so every path computes the same bits.
 *
 * NV is a native vector of T (NW lanes), NVD a native vector of double (ND lanes). */

#define NW (CS_NATIVE_BYTES / (int)sizeof(T))
#define ND (CS_NATIVE_BYTES / 8)
#define NV CS_FN(nv)
#define NVI CS_FN(nvi)
#define NVD CS_FN(nvd)

#if CS_F32
typedef float NV __attribute__((vector_size(CS_NATIVE_BYTES), aligned(4)));
typedef int NVI __attribute__((vector_size(CS_NATIVE_BYTES)));
typedef double NVD __attribute__((vector_size(CS_NATIVE_BYTES), aligned(8)));
#else
typedef double NV __attribute__((vector_size(CS_NATIVE_BYTES), aligned(8)));
typedef long long NVI __attribute__((vector_size(CS_NATIVE_BYTES)));
typedef NV NVD;
#endif

/* Unaligned loads and stores through the vector type itself (its alignment is that of T, and
 * a vector may alias its element type): GCC expands a memcpy of a 32-byte vector as two
 * 16-byte moves through the stack. */
CS_INLINE NV CS_FN(nv_load)(const T *p) { return *(const NV *)p; }
CS_INLINE void CS_FN(nv_store)(T *p, NV v) { *(NV *)p = v; }
CS_INLINE NV CS_FN(nv_splat)(T c) { return (NV){0} + c; }
CS_INLINE NV CS_FN(nv_sel)(NVI mask, NV a, NV b)
{
    return (NV)(((NVI)a & mask) | ((NVI)b & ~mask));
}
/* Lane-wise maximum that ignores NaN in x (a NaN never wins). */
CS_INLINE NV CS_FN(nv_max)(NV m, NV x) { return CS_FN(nv_sel)(x > m, x, m); }

/* ---- exp --------------------------------------------------------------------------------
 * Accuracy (no -ffast-math, no contraction into FMA, so every path computes the same):
 *   - range reduction x = n ln2 + r with a two-constant (Cody-Waite) ln2, |r| <= ln2/2,
 *   - Taylor polynomial of degree 7 (float) or 13 (double): truncation < 0.1 ulp,
 *   - scaling by 2^n done as two exact power-of-two multiplications, so results that fall in
 *     the subnormal range are rounded once, correctly;
 *   - exp(-inf) = 0, exp(+inf) = +inf, exp(NaN) = NaN, underflow gives 0.
 *   Measured against libm over the softmax range the error is at most a couple of ulp.
 * 2^k for integral k (in the normal range) is made by adding 1.5 * 2^(mantissa bits), which
 * moves k into the low mantissa bits, and shifting it into the exponent field. */
#if CS_F32
CS_INLINE NV CS_FN(nv_pow2)(NV k)
{
    const NV biased = k + (0x1.8p23f + 127.0f);
    return (NV)((NVI)biased << 23);
}

CS_INLINE NV CS_FN(nv_exp)(NV x)
{
    const float magic = 0x1.8p23f; /* adding and subtracting it rounds to an integer */
    const NV lo = CS_FN(nv_splat)(-104.0f), hi = CS_FN(nv_splat)(89.0f);
    x = CS_FN(nv_sel)(x < lo, lo, x); /* NaN compares false and is kept */
    x = CS_FN(nv_sel)(x > hi, hi, x);
    const NV n = (x * 0x1.715476p0f + magic) - magic; /* round(x / ln2) */
    NV r = x - n * 0.693359375f; /* exact: 9 significant bits times |n| <= 150 */
    r = r - n * -2.12194440e-4f;
    NV p = r * (1.0f / 5040.0f) + (1.0f / 720.0f);
    p = p * r + (1.0f / 120.0f);
    p = p * r + (1.0f / 24.0f);
    p = p * r + (1.0f / 6.0f);
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const NV h = (n * 0.5f + magic) - magic; /* n split so both factors are normal */
    return (p * CS_FN(nv_pow2)(h)) * CS_FN(nv_pow2)(n - h);
}

/* The lanes of the low and the high half, widened to double; and back.
 * Lane by lane: GCC 12 lowers __builtin_convertvector of four floats to double as two
 * two-lane conversions and a shuffle, but this form to one vcvtps2pd. */
CS_INLINE NVD CS_FN(nv_lo_d)(NV v)
{
    NVD r;
    for (int i = 0; i < ND; i++)
        r[i] = (double)v[i];
    return r;
}
CS_INLINE NVD CS_FN(nv_hi_d)(NV v)
{
    NVD r;
    for (int i = 0; i < ND; i++)
        r[i] = (double)v[i + ND];
    return r;
}
CS_INLINE NV CS_FN(nv_from_d)(NVD lo, NVD hi)
{
    NV v;
    for (int i = 0; i < ND; i++) {
        v[i] = (float)lo[i];
        v[i + ND] = (float)hi[i];
    }
    return v;
}
#else
CS_INLINE NV CS_FN(nv_pow2)(NV k)
{
    const NV biased = k + (0x1.8p52 + 1023.0);
    return (NV)((NVI)biased << 52);
}

CS_INLINE NV CS_FN(nv_exp)(NV x)
{
    const double magic = 0x1.8p52; /* adding and subtracting it rounds to an integer */
    const NV lo = CS_FN(nv_splat)(-746.0), hi = CS_FN(nv_splat)(710.0);
    x = CS_FN(nv_sel)(x < lo, lo, x); /* NaN compares false and is kept */
    x = CS_FN(nv_sel)(x > hi, hi, x);
    const NV n = (x * 0x1.71547652b82fep0 + magic) - magic; /* round(x / ln2) */
    NV r = x - n * 0x1.62e42fee00000p-1;                    /* exact: ln2_hi has 32 bits */
    r = r - n * 0x1.a39ef35793c76p-33;
    NV p = r * (1.0 / 6227020800.0) + (1.0 / 479001600.0);
    p = p * r + (1.0 / 39916800.0);
    p = p * r + (1.0 / 3628800.0);
    p = p * r + (1.0 / 362880.0);
    p = p * r + (1.0 / 40320.0);
    p = p * r + (1.0 / 5040.0);
    p = p * r + (1.0 / 720.0);
    p = p * r + (1.0 / 120.0);
    p = p * r + (1.0 / 24.0);
    p = p * r + (1.0 / 6.0);
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    const NV h = (n * 0.5 + magic) - magic; /* n in [-1077, 1024]: both factors normal */
    return (p * CS_FN(nv_pow2)(h)) * CS_FN(nv_pow2)(n - h);
}
#endif

/* ---- sums in the order of the 64-byte vectors ----------------------------------------- */

/* A row sum in progress: acc[q] holds logical double lanes q*ND .. q*ND + ND - 1, where
 * logical lane c (c < TW) collects the elements j with j % TW == c (for float, lanes 0-7 are
 * row_expsum's a0 and lanes 8-15 its a1). */
#define NACC (TW / ND)
typedef struct {
    NVD acc[NACC];
    cs_pairsum ps;
} CS_FN(nsum);

CS_INLINE void CS_FN(nsum_init)(CS_FN(nsum) *s)
{
    for (int q = 0; q < NACC; q++)
        s->acc[q] = (NVD){0};
    s->ps.mask = 0;
}

/* a0 + a1 of the 64-byte accumulators, as one cs_vd. */
CS_INLINE cs_vd CS_FN(nsum_fold)(const CS_FN(nsum) *s)
{
    double lanes[CS_WD];
    for (int q = 0; q < CS_WD / ND; q++) {
#if CS_F32
        NVD v = s->acc[q] + s->acc[q + CS_WD / ND];
#else
        NVD v = s->acc[q] + (NVD){0};
#endif
        memcpy(lanes + q * ND, &v, sizeof v);
    }
    return cs_loadd(lanes);
}

/* Add the native vector v of elements j .. j + NW - 1 (j % NW == 0). In a loop over the
 * pieces of a 64-byte step, j % TW is a constant of the unrolled loop, and the
 * accumulators stay in registers. */
CS_INLINE void CS_FN(nsum_add)(CS_FN(nsum) *s, ptrdiff_t j, NV v)
{
    const int q = (int)(j % TW) / ND;
#if CS_F32
    s->acc[q] += CS_FN(nv_lo_d)(v);
    s->acc[q + 1] += CS_FN(nv_hi_d)(v);
#else
    s->acc[q] += v;
#endif
}

/* Add the products of the native vectors u and v at j, each formed in double. */
CS_INLINE void CS_FN(nsum_add_mul)(CS_FN(nsum) *s, ptrdiff_t j, NV u, NV v)
{
    const int q = (int)(j % TW) / ND;
#if CS_F32
    s->acc[q] += CS_FN(nv_lo_d)(u) * CS_FN(nv_lo_d)(v);
    s->acc[q + 1] += CS_FN(nv_hi_d)(u) * CS_FN(nv_hi_d)(v);
#else
    s->acc[q] += u * v;
#endif
}

/* Close a block of CS_SUM_BLOCK 64-byte steps when j (a multiple of TW) starts a new one. */
CS_INLINE void CS_FN(nsum_step)(CS_FN(nsum) *s, ptrdiff_t j)
{
    if (j != 0 && (j / TW) % CS_SUM_BLOCK == 0) {
        cs_pairsum_push(&s->ps, CS_FN(nsum_fold)(s));
        for (int q = 0; q < NACC; q++)
            s->acc[q] = (NVD){0};
    }
}

/* Add the element v at j (past the last full native vector of the row). */
CS_INLINE void CS_FN(nsum_add1)(CS_FN(nsum) *s, ptrdiff_t j, double v)
{
    const int c = (int)(j % TW);
    s->acc[c / ND][c % ND] += v;
}

CS_INLINE double CS_FN(nsum_finish)(const CS_FN(nsum) *s)
{
    return cs_pairsum_finish(&s->ps, CS_FN(nsum_fold)(s));
}

/* The k < NW elements at p, padded with pad; and the first k lanes of v stored to p. */
CS_INLINE NV CS_FN(nv_load_part)(const T *p, ptrdiff_t k, T pad)
{
    T buf[NW];
    for (int i = 0; i < NW; i++)
        buf[i] = i < k ? p[i] : pad;
    return CS_FN(nv_load)(buf);
}

CS_INLINE void CS_FN(nv_store_part)(T *p, ptrdiff_t k, NV v)
{
    for (ptrdiff_t i = 0; i < k; i++)
        p[i] = v[i];
}
