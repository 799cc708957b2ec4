/* Part of cs_simd.h: the vector helpers, under the names CS_V(name) that the aliases of
 * cs_simd.h give to the plain names. Included once by cs_simd.h (GCC), or once per
 * instruction set by cs_instantiate.h, inside its target region (Clang); so no include
 * guard. */

/* ---- loads, stores, selection ---------------------------------------------------------- */

CS_INLINE cs_vd cs_loadd(const double *p) { cs_vd v; memcpy(&v, p, sizeof v); return v; }
CS_INLINE cs_vf cs_loadf(const float *p) { cs_vf v; memcpy(&v, p, sizeof v); return v; }
CS_INLINE void cs_stored(double *p, cs_vd v) { memcpy(p, &v, sizeof v); }
CS_INLINE void cs_storef(float *p, cs_vf v) { memcpy(p, &v, sizeof v); }

/* mask ? a : b, lane by lane (mask lanes are all ones or all zeros). */
CS_INLINE cs_vd cs_seld(cs_vdi mask, cs_vd a, cs_vd b)
{
    return (cs_vd)(((cs_vdi)a & mask) | ((cs_vdi)b & ~mask));
}
CS_INLINE cs_vf cs_self(cs_vfi mask, cs_vf a, cs_vf b)
{
    return (cs_vf)(((cs_vfi)a & mask) | ((cs_vfi)b & ~mask));
}

/* Lane-wise maximum that ignores NaN in `x` (a NaN never wins). */
CS_INLINE cs_vd cs_maxd(cs_vd m, cs_vd x) { return cs_seld(x > m, x, m); }
CS_INLINE cs_vf cs_maxf(cs_vf m, cs_vf x) { return cs_self(x > m, x, m); }

/* Horizontal reductions in a fixed order (independent of the instruction set). */
CS_INLINE double cs_hsumd(cs_vd a)
{
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}
CS_INLINE double cs_hmaxd(cs_vd a)
{
    double m = a[0];
    for (int i = 1; i < CS_WD; i++)
        m = a[i] > m ? a[i] : m;
    return m;
}
CS_INLINE float cs_hmaxf(cs_vf a)
{
    float m = a[0];
    for (int i = 1; i < CS_WF; i++)
        m = a[i] > m ? a[i] : m;
    return m;
}

CS_INLINE cs_vd cs_lo_to_d(cs_vf v) { return __builtin_convertvector(CS_LO8F(v), cs_vd); }
CS_INLINE cs_vd cs_hi_to_d(cs_vf v) { return __builtin_convertvector(CS_HI8F(v), cs_vd); }
CS_INLINE cs_vf cs_d_to_f(cs_vd lo, cs_vd hi)
{
    cs_vf8 a = __builtin_convertvector(lo, cs_vf8);
    cs_vf8 b = __builtin_convertvector(hi, cs_vf8);
    return CS_JOIN8F(a, b);
}

/* ---- long sums (see cs_pairsum in cs_simd.h) ------------------------------------------- */

CS_INLINE void cs_pairsum_push(cs_pairsum *p, cs_vd block)
{
    int i = 0;
    while ((p->mask >> i) & 1u) {
        block = p->level[i] + block;
        p->mask &= ~((uint64_t)1 << i);
        i++;
    }
    p->level[i] = block;
    p->mask |= (uint64_t)1 << i;
}

CS_INLINE double cs_pairsum_finish(const cs_pairsum *p, cs_vd last)
{
    for (int i = 0; p->mask >> i; i++)
        if ((p->mask >> i) & 1u)
            last = p->level[i] + last;
    return cs_hsumd(last);
}

/* ---- exp ------------------------------------------------------------------------------- */

/* The exp of cs_simd.h, written once as macros over the vector type so that the native-width
 * vectors of the row kernels (cs_native_impl.h) compute exactly the same values, lane by
 * lane. VT is the vector type, VI the integer vector of its lane width, SEL the lane select.
 *
 * 2^k for integral k in [-1022, 1023] held in a double vector: k is moved into the low
 * mantissa bits by adding 1.5*2^52, then shifted into the exponent field. */
#define CS_DEFINE_POW2D(name, VT, VI)                                                        \
    CS_INLINE VT name(VT k)                                                                   \
    {                                                                                         \
        VT biased = k + (0x1.8p52 + 1023.0);                                                  \
        return (VT)((VI)biased << 52);                                                        \
    }

#define CS_DEFINE_VEXP_F64(name, VT, SEL, POW2)                                               \
    CS_INLINE VT name(VT x)                                                                   \
    {                                                                                         \
        const double magic = 0x1.8p52; /* adding and subtracting it rounds to an integer */  \
        const VT lo = (VT){0} - 746.0, hi = (VT){0} + 710.0;                                  \
        x = SEL(x < lo, lo, x); /* NaN compares false and is kept */                          \
        x = SEL(x > hi, hi, x);                                                               \
        VT n = (x * 0x1.71547652b82fep0 + magic) - magic; /* round(x / ln2) */                \
        VT r = x - n * 0x1.62e42fee00000p-1;              /* exact: ln2_hi has 32 bits */     \
        r = r - n * 0x1.a39ef35793c76p-33;                                                    \
        VT p = r * (1.0 / 6227020800.0) + (1.0 / 479001600.0);                                \
        p = p * r + (1.0 / 39916800.0);                                                       \
        p = p * r + (1.0 / 3628800.0);                                                        \
        p = p * r + (1.0 / 362880.0);                                                         \
        p = p * r + (1.0 / 40320.0);                                                          \
        p = p * r + (1.0 / 5040.0);                                                           \
        p = p * r + (1.0 / 720.0);                                                            \
        p = p * r + (1.0 / 120.0);                                                            \
        p = p * r + (1.0 / 24.0);                                                             \
        p = p * r + (1.0 / 6.0);                                                              \
        p = p * r + 0.5;                                                                      \
        p = p * r + 1.0;                                                                      \
        p = p * r + 1.0;                                                                      \
        /* n in [-1077, 1024]: split it so both factors are normal powers of two. */          \
        VT h = (n * 0.5 + magic) - magic;                                                     \
        return (p * POW2(h)) * POW2(n - h);                                                   \
    }

#define CS_DEFINE_POW2F(name, VT, VI)                                                        \
    CS_INLINE VT name(VT k)                                                                   \
    {                                                                                         \
        VT biased = k + (0x1.8p23f + 127.0f);                                                 \
        return (VT)((VI)biased << 23);                                                        \
    }

#define CS_DEFINE_VEXP_F32(name, VT, SEL, POW2)                                               \
    CS_INLINE VT name(VT x)                                                                   \
    {                                                                                         \
        const float magic = 0x1.8p23f;                                                        \
        const VT lo = (VT){0} - 104.0f, hi = (VT){0} + 89.0f;                                 \
        x = SEL(x < lo, lo, x);                                                               \
        x = SEL(x > hi, hi, x);                                                               \
        VT n = (x * 0x1.715476p0f + magic) - magic;                                           \
        VT r = x - n * 0.693359375f; /* exact: 9 significant bits times |n| <= 150 */         \
        r = r - n * -2.12194440e-4f;                                                          \
        VT p = r * (1.0f / 5040.0f) + (1.0f / 720.0f);                                        \
        p = p * r + (1.0f / 120.0f);                                                          \
        p = p * r + (1.0f / 24.0f);                                                           \
        p = p * r + (1.0f / 6.0f);                                                            \
        p = p * r + 0.5f;                                                                     \
        p = p * r + 1.0f;                                                                     \
        p = p * r + 1.0f;                                                                     \
        VT h = (n * 0.5f + magic) - magic;                                                    \
        return (p * POW2(h)) * POW2(n - h);                                                   \
    }

CS_DEFINE_POW2D(cs_pow2d, cs_vd, cs_vdi)
CS_DEFINE_VEXP_F64(cs_vexp_f64, cs_vd, cs_seld, cs_pow2d)
CS_DEFINE_POW2F(cs_pow2f, cs_vf, cs_vfi)
CS_DEFINE_VEXP_F32(cs_vexp_f32, cs_vf, cs_self, cs_pow2f)
