/* Kernel body (see kernel.h): vectors of the hardware's own width (CS_NATIVE_BYTES: 16 for
 * SSE2 and NEON, 32 for AVX2, 64 for AVX-512) for the hot loops, exp and log on them, and the
 * row sums in the order of the 64-byte lanes.
 *
 * Contract: every sum a kernel forms here is accumulated in double in the lanes of a 64-byte
 * vector of cs_simd.h (element j of a row in logical lane j % TW; nsum below maps the native
 * lanes onto them), so no result depends on the native width, hence on the instruction set.
 *
 * NV is a native vector of T (NW lanes), NVD a native vector of double (ND lanes). */

#define NW (CS_NATIVE_BYTES / (int)sizeof(T))
#define ND (CS_NATIVE_BYTES / 8)

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
 * a vector may alias its element type), which compiles to one unaligned move. */
CS_INLINE NV nv_load(const T *p) { return *(const NV *)p; }
CS_INLINE void nv_store(T *p, NV v) { *(NV *)p = v; }
CS_INLINE NV nv_splat(T c) { return (NV){0} + c; }
CS_INLINE NV nv_sel(NVI mask, NV a, NV b)
{
    return (NV)(((NVI)a & mask) | ((NVI)b & ~mask));
}
/* Lane-wise maximum that ignores NaN in x (a NaN never wins): x > m ? x : m, which is exactly
 * what x86's max instructions compute with x first (a NaN operand or equal operands give the
 * second); GCC does not see that in the select, whose blend takes three cycles more. */
CS_INLINE NV nv_max(NV m, NV x)
{
#if defined(CS_SIMD_X86_64) && CS_NATIVE_BYTES == 16 && CS_F32
    return __builtin_ia32_maxps(x, m);
#elif defined(CS_SIMD_X86_64) && CS_NATIVE_BYTES == 16
    return __builtin_ia32_maxpd(x, m);
#elif defined(CS_SIMD_X86_64) && CS_NATIVE_BYTES == 32 && CS_F32
    return __builtin_ia32_maxps256(x, m);
#elif defined(CS_SIMD_X86_64) && CS_NATIVE_BYTES == 32
    return __builtin_ia32_maxpd256(x, m);
#else
    return nv_sel(x > m, x, m);
#endif
}

/* ---- exp --------------------------------------------------------------------------------
 * Accuracy (no -ffast-math, no contraction into FMA, so every path computes the same):
 *   - range reduction x = n ln2 + r with a two-constant (Cody-Waite) ln2, |r| <= ln2/2,
 *   - Taylor polynomial of degree 7 (float) or 13 (double): truncation < 0.1 ulp,
 *   - scaling by 2^n done as two exact power-of-two multiplications, so results that fall in
 *     the subnormal range are rounded once, correctly;
 *   - exp(-inf) = 0, exp(+inf) = +inf, exp(NaN) = NaN, underflow gives 0;
 *   - error below 1 ulp over the whole range.
 * The polynomial is evaluated in Estrin's scheme (powers of r^2 combine independent pairs,
 * which shortens the chain of dependent operations), in the form 1 + (r + r^2 Q(r)) so that
 * the last rounding is that of 1 + small. Where every lane's n is in the normal range, 2^n
 * is applied by adding n to the exponent bits of the polynomial, which gives exactly the
 * bits of the two multiplications; lanes near over- or underflow, infinities and NaN take
 * the general path (nv_exp_edge). The same operations in the same order on every path.
 *
 * 2^k for integral k (in the normal range) is made by adding 1.5 * 2^(mantissa bits), which
 * moves k into the low mantissa bits, and shifting it into the exponent field. */

/* Whether any lane of a comparison mask is set. */
CS_INLINE int nv_any(NVI mask)
{
#if defined(CS_SIMD_X86_64) && CS_NATIVE_BYTES == 16
    typedef float v4f __attribute__((vector_size(16)));
    return __builtin_ia32_movmskps((v4f)mask) != 0;
#elif defined(CS_SIMD_X86_64) && CS_NATIVE_BYTES == 32
    typedef float v8f __attribute__((vector_size(32)));
    return __builtin_ia32_movmskps256((v8f)mask) != 0;
#elif defined(CS_SIMD_X86_64) && CS_NATIVE_BYTES == 64 && !defined(_MSC_VER)
    return _mm512_test_epi32_mask((__m512i)mask, (__m512i)mask) != 0; /* vptestmd, kortest */
#else
    typedef long long nvl __attribute__((vector_size(CS_NATIVE_BYTES)));
    const nvl l = (nvl)mask;
    long long acc = 0;
    for (int i = 0; i < CS_NATIVE_BYTES / 8; i++)
        acc |= l[i];
    return acc != 0;
#endif
}

/* Whether every lane of a comparison mask is set. */
CS_INLINE int nv_all(NVI mask)
{
#if defined(CS_SIMD_X86_64) && CS_NATIVE_BYTES == 16
    typedef float v4f __attribute__((vector_size(16)));
    return __builtin_ia32_movmskps((v4f)mask) == 0xf;
#elif defined(CS_SIMD_X86_64) && CS_NATIVE_BYTES == 32
    typedef float v8f __attribute__((vector_size(32)));
    return __builtin_ia32_movmskps256((v8f)mask) == 0xff;
#elif defined(CS_SIMD_X86_64) && CS_NATIVE_BYTES == 64 && !defined(_MSC_VER)
    return _mm512_test_epi32_mask((__m512i)mask, (__m512i)mask) == 0xffff;
#else
    return !nv_any(~mask);
#endif
}

#if CS_F32
#define CS_EXP_MAGIC 0x1.8p23f /* adding and subtracting it rounds to an integer */
#define CS_EXP_MANT 23
#define CS_EXP_NMIN -125.0f /* 2^n p is normal for these n (p in [0.7, 1.42]) */
#define CS_EXP_NMAX 127.0f

/* n = round(x / ln2), with x / ln2 + magic (whose low bits hold n) in *t. */
CS_INLINE NV nv_exp_n(NV x, NV *t)
{
    *t = x * 0x1.715476p0f + CS_EXP_MAGIC;
    return *t - CS_EXP_MAGIC;
}

/* exp(x - n ln2), the reduced argument r = x - n ln2 in [-ln2/2, ln2/2] (float: Taylor of
 * degree 7). */
CS_INLINE NV nv_exp_poly(NV x, NV n)
{
    NV r = x - n * 0.693359375f; /* exact: 9 significant bits times |n| <= 150 */
    r = r - n * -2.12194440e-4f;
    const NV r2 = r * r, r4 = r2 * r2;
    const NV q1 = r * (1.0f / 6.0f) + 0.5f;
    const NV q2 = r * (1.0f / 120.0f) + (1.0f / 24.0f);
    const NV q3 = r * (1.0f / 5040.0f) + (1.0f / 720.0f);
    const NV q = (q1 + r2 * q2) + r4 * q3;
    return (r + r2 * q) + 1.0f;
}
#else
#define CS_EXP_MAGIC 0x1.8p52
#define CS_EXP_MANT 52
#define CS_EXP_NMIN -1021.0
#define CS_EXP_NMAX 1023.0

CS_INLINE NV nv_exp_n(NV x, NV *t)
{
    *t = x * 0x1.71547652b82fep0 + CS_EXP_MAGIC;
    return *t - CS_EXP_MAGIC;
}

/* exp(x - n ln2), as above (double: Taylor of degree 13). */
CS_INLINE NV nv_exp_poly(NV x, NV n)
{
    NV r = x - n * 0x1.62e42fee00000p-1; /* exact: ln2_hi has 32 bits */
    r = r - n * 0x1.a39ef35793c76p-33;
    const NV r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const NV a0 = r * (1.0 / 6.0) + 0.5;
    const NV a1 = r * (1.0 / 120.0) + (1.0 / 24.0);
    const NV a2 = r * (1.0 / 5040.0) + (1.0 / 720.0);
    const NV a3 = r * (1.0 / 362880.0) + (1.0 / 40320.0);
    const NV a4 = r * (1.0 / 39916800.0) + (1.0 / 3628800.0);
    const NV a5 = r * (1.0 / 6227020800.0) + (1.0 / 479001600.0);
    const NV q = ((a0 + r2 * a1) + r4 * (a2 + r2 * a3)) + r8 * (a4 + r2 * a5);
    return (r + r2 * q) + 1.0;
}
#endif

CS_INLINE NV nv_pow2(NV k)
{
    const NV biased = k + (CS_EXP_MAGIC + (CS_F32 ? 127 : 1023));
    return (NV)((NVI)biased << CS_EXP_MANT);
}

/* exp on every input: clamped to where the result is 0 or inf, then scaled in two steps. */
__attribute__((noinline)) static NV nv_exp_edge(NV x)
{
    const NV lo = nv_splat(CS_F32 ? -104 : -746), hi = nv_splat(CS_F32 ? 89 : 710);
    x = nv_sel(x < lo, lo, x); /* NaN compares false and is kept */
    x = nv_sel(x > hi, hi, x);
    NV t;
    const NV n = nv_exp_n(x, &t);
    const NV p = nv_exp_poly(x, n);
    const NV h = (n * (T)0.5 + CS_EXP_MAGIC) - CS_EXP_MAGIC; /* n split: both factors normal */
    return (p * nv_pow2(h)) * nv_pow2(n - h);
}

/* p 2^n for n and t of nv_exp_n, where the result is normal: n's bits added to p's exponent. */
CS_INLINE NV nv_exp_normal(NV x, NV n, NV t)
{
    const NV p = nv_exp_poly(x, n);
    return (NV)((NVI)p + ((NVI)t << CS_EXP_MANT));
}

/* exp(x) = p 2^n where every lane's result is normal (the common case: n's bits are added to
 * p's exponent), else through nv_exp_edge. `normal` tests n's range; a NaN lane fails it. */
CS_INLINE NV nv_exp_scaled(NV x, NV n, NV t, NVI normal)
{
    if (__builtin_expect(nv_any(~normal), 0))
        return nv_exp_edge(x);
    return nv_exp_normal(x, n, t);
}

CS_INLINE NV nv_exp(NV x)
{
    NV t;
    const NV n = nv_exp_n(x, &t);
    return nv_exp_scaled(x, n, t, (n >= (T)CS_EXP_NMIN) & (n <= (T)CS_EXP_NMAX));
}

/* The first half of nv_exp_nonpos, for a loop that tests several vectors at once: n and t
 * (nv_exp_n) of x, and the lanes whose result is normal (not below the range, not NaN).
 * Where every lane is set, nv_exp_normal(x, n, t) is nv_exp_nonpos(x). */
CS_INLINE NVI nv_exp_nonpos_begin(NV x, NV *n, NV *t)
{
    *n = nv_exp_n(x, t);
    return (NVI)(*n >= (T)CS_EXP_NMIN);
}

/* nv_exp of an argument that is <= 0 or NaN, as every softmax exponential exp(x - max) is:
 * the same bits, with only the lower end of the range tested (n <= 0 < CS_EXP_NMAX). */
CS_INLINE NV nv_exp_nonpos(NV x)
{
    NV n, t;
    const NVI normal = nv_exp_nonpos_begin(x, &n, &t);
    return nv_exp_scaled(x, n, t, normal);
}
#undef CS_EXP_MAGIC
#undef CS_EXP_MANT
#undef CS_EXP_NMIN
#undef CS_EXP_NMAX

#if CS_F32
/* The lanes of the low and the high half, widened to double; and back (exact, and rounded to
 * nearest as a cast rounds: the same values whichever way they are computed). On x86
 * through the conversion instructions themselves, which compilers do not find in a
 * lane-by-lane loop. Not under clang-cl, whose immintrin.h may leave out the AVX headers
 * without /arch. */
#if defined(CS_SIMD_X86_64) && !defined(_MSC_VER)
#define CS_CVT_INTRINSICS 1
#else
#define CS_CVT_INTRINSICS 0
#endif
#if CS_CVT_INTRINSICS && CS_NATIVE_BYTES == 16
CS_INLINE NVD nv_lo_d(NV v) { return (NVD)_mm_cvtps_pd((__m128)v); }
CS_INLINE NVD nv_hi_d(NV v)
{
    return (NVD)_mm_cvtps_pd(_mm_movehl_ps((__m128)v, (__m128)v));
}
CS_INLINE NV nv_from_d(NVD lo, NVD hi)
{
    return (NV)_mm_movelh_ps(_mm_cvtpd_ps((__m128d)lo), _mm_cvtpd_ps((__m128d)hi));
}
#elif CS_CVT_INTRINSICS && CS_NATIVE_BYTES == 32
CS_INLINE NVD nv_lo_d(NV v)
{
    return (NVD)_mm256_cvtps_pd(_mm256_castps256_ps128((__m256)v));
}
CS_INLINE NVD nv_hi_d(NV v)
{
    return (NVD)_mm256_cvtps_pd(_mm256_extractf128_ps((__m256)v, 1));
}
CS_INLINE NV nv_from_d(NVD lo, NVD hi)
{
    return (NV)_mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps((__m256d)lo)),
                                    _mm256_cvtpd_ps((__m256d)hi), 1);
}
#elif CS_CVT_INTRINSICS && CS_NATIVE_BYTES == 64
CS_INLINE NVD nv_lo_d(NV v)
{
    return (NVD)_mm512_cvtps_pd(_mm512_castps512_ps256((__m512)v));
}
CS_INLINE NVD nv_hi_d(NV v)
{
    return (NVD)_mm512_cvtps_pd(_mm512_extractf32x8_ps((__m512)v, 1));
}
CS_INLINE NV nv_from_d(NVD lo, NVD hi)
{
    return (NV)_mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps((__m512d)lo)),
                                  _mm512_cvtpd_ps((__m512d)hi), 1);
}
#else
CS_INLINE NVD nv_lo_d(NV v)
{
    NVD r;
    for (int i = 0; i < ND; i++)
        r[i] = (double)v[i];
    return r;
}
CS_INLINE NVD nv_hi_d(NV v)
{
    NVD r;
    for (int i = 0; i < ND; i++)
        r[i] = (double)v[i + ND];
    return r;
}
CS_INLINE NV nv_from_d(NVD lo, NVD hi)
{
    NV v;
    for (int i = 0; i < ND; i++) {
        v[i] = (float)lo[i];
        v[i + ND] = (float)hi[i];
    }
    return v;
}
#endif
#undef CS_CVT_INTRINSICS
#endif

/* ---- log of a normaliser ------------------------------------------------------------------
 * log(x) in double, lane by lane: every log of a row's sum of exponentials (log_softmax, the
 * cross-entropy loss) goes through it, the narrow kernels' NW rows at once and the row
 * kernels' one row at a time (log_d), so a row's result does not depend on the path or the
 * lanes around it.
 *   x = 2^k m with m in [sqrt(1/2), sqrt(2)), f = m - 1, s = f / (2 + f):
 *   log(m) = 2 atanh(s) = f - (f^2/2 - s (f^2/2 + R(s^2))),
 * with R the minimax polynomial of fdlibm's e_log.c (its coefficients Lg1..Lg7 below), and
 * k ln2 added as a two-part constant. Error below 1 ulp (the tests check the log of the
 * integers up to 10^5). Lanes that are not positive normal finite numbers (0, subnormal,
 * inf, NaN, negative) take libm's log. */
typedef long long nvdi __attribute__((vector_size(CS_NATIVE_BYTES)));

/* The reduction: x = 2^k m with m in [sqrt(1/2), sqrt(2)), for positive normal finite x. */
CS_INLINE NVD nvd_log_reduce(NVD x, NVD *k)
{
    typedef nvdi vi;
    const vi bits = (vi)x;
    NVD m = (NVD)((bits & 0x000fffffffffffffLL) | 0x3ff0000000000000LL); /* [1, 2) */
    NVD e = (NVD)(((bits >> 52) & 0x7ff) | 0x4330000000000000LL) - (0x1p52 + 1023.0);
    const vi big = m > 0x1.6a09e667f3bcdp0;
    m = (NVD)(((vi)(m * 0.5) & big) | ((vi)m & ~big));
    *k = (NVD)(((vi)(e + 1.0) & big) | ((vi)e & ~big));
    return m;
}

/* k ln2 + log(m) + c from the reduction, where lo = k ln2_lo + c holds the low part of k ln2
 * and a correction c far below log(m)'s ulp (0 for log, see nvd_log1p). */
CS_INLINE NVD nvd_log_poly(NVD m, NVD k, NVD lo)
{
    const NVD f = m - 1.0; /* exact */
    const NVD s = f / (2.0 + f), z = s * s, w = z * z;
    const double lg1 = 0x1.5555555555593p-1, lg2 = 0x1.999999997fa04p-2,
                 lg3 = 0x1.2492494229359p-2, lg4 = 0x1.c71c51d8e78afp-3,
                 lg5 = 0x1.7466496cb03dep-3, lg6 = 0x1.39a09d078c69fp-3,
                 lg7 = 0x1.2f112df3e5244p-3;
    const NVD t1 = w * (lg2 + w * (lg4 + w * lg6));
    const NVD t2 = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)));
    const NVD r = t2 + t1, hfsq = 0.5 * f * f;
    return k * 0x1.62e42fee00000p-1 - ((hfsq - (s * (hfsq + r) + lo)) - f);
}

CS_INLINE NVD nvd_log(NVD x)
{
    const nvdi ok = (x >= 0x1p-1022) & (x <= 0x1.fffffffffffffp1023); /* NaN fails both */
    NVD k;
    const NVD m = nvd_log_reduce(x, &k);
    NVD y = nvd_log_poly(m, k, k * 0x1.a39ef35793c76p-33);
    if (__builtin_expect(nv_any((NVI)~ok), 0))
        for (int i = 0; i < ND; i++)
            if (!ok[i])
                y[i] = log(x[i]);
    return y;
}

/* log1p(x) in the lanes of p (x in [0, 1]) and nvd_log(s) in the others, from one
 * evaluation. log1p as fdlibm's s_log1p.c forms it: u = 1 + x is rounded, c = x - (u - 1)
 * is that rounding's error (exact), and log1p(x) = log(u) + c / u to far below an ulp, with
 * c / u added with the low part of k ln2: relative to log1p(x), where log(1 + x) keeps only
 * the digits of x above an ulp of 1. The log lanes add c = +0 there: nvd_log's bits. Lanes
 * outside these domains take libm's log1p or log. */
CS_INLINE NVD nvd_log_or_log1p(NVD s, NVD x, nvdi p)
{
    const NVD u = 1.0 + x;
    const NVD c = (NVD)((nvdi)((x - (u - 1.0)) / u) & p);
    const nvdi ok = (((x >= 0.0) & (x <= 1.0)) & p) |
                    (((s >= 0x1p-1022) & (s <= 0x1.fffffffffffffp1023)) & ~p);
    NVD k;
    const NVD m = nvd_log_reduce((NVD)(((nvdi)u & p) | ((nvdi)s & ~p)), &k);
    NVD y = nvd_log_poly(m, k, k * 0x1.a39ef35793c76p-33 + c);
    if (__builtin_expect(nv_any((NVI)~ok), 0))
        for (int i = 0; i < ND; i++)
            if (!ok[i])
                y[i] = p[i] ? log1p(x[i]) : log(s[i]);
    return y;
}

/* log1p(x) lane by lane (nvd_log_or_log1p). */
CS_INLINE NVD nvd_log1p(NVD x) { return nvd_log_or_log1p(x, x, ~(nvdi){0}); }

/* nvd_log and nvd_log1p of one value. */
CS_INLINE double log_d(double x) { return nvd_log((NVD){0} + x)[0]; }
CS_INLINE double log1p_d(double x) { return nvd_log1p((NVD){0} + x)[0]; }

/* ---- sums in the order of the 64-byte vectors ----------------------------------------- */

/* A row sum in progress: acc[q] holds logical double lanes q*ND .. q*ND + ND - 1, where
 * logical lane c (c < TW) collects the elements j with j % TW == c (for float, lanes 0-7 are
 * row_expsum's a0 and lanes 8-15 its a1). */
#define NACC (TW / ND)
typedef struct {
    NVD acc[NACC];
    cs_pairsum ps;
} nsum;

CS_INLINE void nsum_init(nsum *s)
{
    for (int q = 0; q < NACC; q++)
        s->acc[q] = (NVD){0};
    s->ps.mask = 0;
}

/* a0 + a1 of the 64-byte accumulators, as one cs_vd. */
CS_INLINE cs_vd nsum_fold(const nsum *s)
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

/* nsum_add on the accumulators acc of one block, held apart from an nsum (a loop's locals). */
CS_INLINE void nacc_add(NVD *acc, ptrdiff_t j, NV v)
{
    const int q = (int)(j % TW) / ND;
#if CS_F32
    acc[q] += nv_lo_d(v);
    acc[q + 1] += nv_hi_d(v);
#else
    acc[q] += v;
#endif
}

/* Add the native vector v of elements j .. j + NW - 1 (j % NW == 0). In a loop over the
 * pieces of a 64-byte step, j % TW is a constant of the unrolled loop, and the
 * accumulators stay in registers. */
CS_INLINE void nsum_add(nsum *s, ptrdiff_t j, NV v)
{
    nacc_add(s->acc, j, v);
}

/* Add the products of the native vectors u and v at j, each formed in double. */
CS_INLINE void nsum_add_mul(nsum *s, ptrdiff_t j, NV u, NV v)
{
    const int q = (int)(j % TW) / ND;
#if CS_F32
    s->acc[q] += nv_lo_d(u) * nv_lo_d(v);
    s->acc[q + 1] += nv_hi_d(u) * nv_hi_d(v);
#else
    s->acc[q] += u * v;
#endif
}

/* Close a block of CS_SUM_BLOCK 64-byte steps when j (a multiple of TW) starts a new one. */
CS_INLINE void nsum_step(nsum *s, ptrdiff_t j)
{
    if (j != 0 && (j / TW) % CS_SUM_BLOCK == 0) {
        cs_pairsum_push(&s->ps, nsum_fold(s));
        for (int q = 0; q < NACC; q++)
            s->acc[q] = (NVD){0};
    }
}

/* Note nsum_add_part (cited where a row's tail is summed): the last, partial vector of a
 * row is added whole, its padding lanes +0. That adds exactly what adding its k elements
 * one by one would: an accumulator starts at +0 and, rounding to nearest, never becomes -0
 * (x + y is -0 only when both are), and x + (+0) is x for every other x, infinities and
 * NaN included. */

/* Add the element v at j (past the last full native vector of the row). */
CS_INLINE void nsum_add1(nsum *s, ptrdiff_t j, double v)
{
    const int c = (int)(j % TW);
    s->acc[c / ND][c % ND] += v;
}

CS_INLINE double nsum_finish(const nsum *s)
{
    return cs_pairsum_finish(&s->ps, nsum_fold(s));
}

/* The k < NW elements at p, padded with pad; and the first k lanes of v stored to p. The
 * load is a masked load with AVX2 and AVX-512 (the lanes masked off touch no memory), the
 * store a masked store with AVX-512; elsewhere a buffer and a loop (AVX2's masked store
 * costs as much as the loop here, and more on AMD when rows narrower than a vector each
 * take one). */
#if defined(CS_SIMD_X86_64) && (CS_NATIVE_BYTES == 32 || CS_NATIVE_BYTES == 64) &&             \
    !defined(_MSC_VER)
#define CS_MASKED_PART 1
#if CS_NATIVE_BYTES == 32
/* Lanes i < k set (all ones), as the mask operand of vmaskmov. */
CS_INLINE NVI nv_lanes_below(ptrdiff_t k)
{
    NVI iota;
    for (int i = 0; i < NW; i++)
        iota[i] = i;
    return iota < (NVI){0} + (__typeof__(iota[0]))k;
}
#else
CS_INLINE unsigned nv_lanes_below(ptrdiff_t k) { return (1u << k) - 1u; } /* 0 <= k < 32 */
#endif
#else
#define CS_MASKED_PART 0
#endif

CS_INLINE NV nv_load_part(const T *p, ptrdiff_t k, T pad)
{
#if CS_MASKED_PART && CS_NATIVE_BYTES == 64 && CS_F32
    return (NV)_mm512_mask_loadu_ps((__m512)nv_splat(pad), (__mmask16)nv_lanes_below(k), p);
#elif CS_MASKED_PART && CS_NATIVE_BYTES == 64
    return (NV)_mm512_mask_loadu_pd((__m512d)nv_splat(pad), (__mmask8)nv_lanes_below(k), p);
#elif CS_MASKED_PART
    const NVI in = nv_lanes_below(k);
#if CS_F32
    const NV v = (NV)_mm256_maskload_ps(p, (__m256i)in);
#else
    const NV v = (NV)_mm256_maskload_pd(p, (__m256i)in);
#endif
    return nv_sel(in, v, nv_splat(pad));
#else
    T buf[NW];
    for (int i = 0; i < NW; i++)
        buf[i] = i < k ? p[i] : pad;
    return nv_load(buf);
#endif
}

CS_INLINE void nv_store_part(T *p, ptrdiff_t k, NV v)
{
#if CS_MASKED_PART && CS_NATIVE_BYTES == 64 && CS_F32
    _mm512_mask_storeu_ps(p, (__mmask16)nv_lanes_below(k), (__m512)v);
#elif CS_MASKED_PART && CS_NATIVE_BYTES == 64
    _mm512_mask_storeu_pd(p, (__mmask8)nv_lanes_below(k), (__m512d)v);
#else
    for (ptrdiff_t i = 0; i < k; i++)
        p[i] = v[i];
#endif
}
