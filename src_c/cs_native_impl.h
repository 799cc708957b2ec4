/* Template (see cs_instantiate.h), part of cs_rows_impl.h: vectors of the hardware's own
 * width (CS_NATIVE_BYTES: 16 for SSE2 and NEON, 32 for AVX2, 64 for AVX-512) for the hot
 * loops.
 *
 * The 64-byte vectors of cs_simd.h fix the order of every sum, whatever the instruction set;
 * but GCC keeps a vector wider than the hardware's in memory, and turns its comparisons into
 * scalar code, so on AVX2 and SSE2 the loops over them run several times slower than they
 * should. The loops here use native vectors and reproduce the 64-byte order exactly: element
 * j of a row goes to logical lane j % TW, as TV_ACC puts it, so each path computes the same
 * bits as before.
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
typedef float CS_FN(nvh) __attribute__((vector_size(CS_NATIVE_BYTES / 2), aligned(4)));
typedef double NVD __attribute__((vector_size(CS_NATIVE_BYTES), aligned(8)));
#else
typedef double NV __attribute__((vector_size(CS_NATIVE_BYTES), aligned(8)));
typedef long long NVI __attribute__((vector_size(CS_NATIVE_BYTES)));
typedef NV NVD;
#endif
typedef long long CS_FN(nvdi) __attribute__((vector_size(CS_NATIVE_BYTES)));

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
/* Lane-wise maximum that ignores NaN in x (as cs_maxf / cs_maxd). */
CS_INLINE NV CS_FN(nv_max)(NV m, NV x) { return CS_FN(nv_sel)(x > m, x, m); }

#if CS_F32
CS_DEFINE_POW2F(CS_FN(nv_pow2), NV, NVI)
CS_DEFINE_VEXP_F32(CS_FN(nv_exp), NV, CS_FN(nv_sel), CS_FN(nv_pow2))
/* The lanes of the low and the high half, widened to double; and back (cs_lo_to_d, ...).
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
CS_DEFINE_POW2D(CS_FN(nv_pow2), NV, NVI)
CS_DEFINE_VEXP_F64(CS_FN(nv_exp), NV, CS_FN(nv_sel), CS_FN(nv_pow2))
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
