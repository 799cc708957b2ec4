/* csoftmax: 64-byte vectors and a vectorized exp, written once with the vector extensions
 * of GCC and Clang.
 *
 * Each kernel family's .c file includes this header, then instantiates its template once per
 * instruction set through cs_instantiate.h, whose target regions make the same inline source
 * compile to SSE2, AVX2+FMA and AVX-512 code on x86-64 (and to NEON on ARM64, whose
 * baseline has it). A vector always holds 64 bytes (8 doubles or 16 floats); on narrower
 * hardware the compiler splits it into two or four registers.
 *
 * The helpers themselves live in cs_simd_ops.h. GCC inlines them, defined once outside any
 * target region, into every path (as it always has, so its code is unchanged). Clang rejects
 * a call passing 64-byte vectors between functions of different instruction sets, even an
 * inlined one, so with Clang cs_instantiate.h defines a copy per path (cs_loadd_avx2, ...)
 * inside that path's region. Either way the plain names below mean the right copy.
 *
 * Compilers: GCC >= 10 and Clang >= 14 (clang-cl on Windows). The only GCC-specific
 * difference is __builtin_shufflevector, which GCC has from version 12 on; older GCC
 * gathers the lanes one by one, which gives the same values.
 *
 * Accuracy of cs_vexp_f64 / cs_vexp_f32 (no -ffast-math anywhere):
 *   - range reduction x = n ln2 + r with a two-constant (Cody-Waite) ln2, |r| <= ln2/2,
 *   - Taylor polynomial of degree 13 (f64) or 7 (f32): truncation < 0.1 ulp,
 *   - scaling by 2^n done as two exact power-of-two multiplications, so results that fall in
 *     the subnormal range are rounded once, correctly;
 *   - exp(-inf) = 0, exp(+inf) = +inf, exp(NaN) = NaN, underflow gives 0.
 *   Measured against libm over the softmax range the error is at most a couple of ulp.
 */
#ifndef CS_SIMD_H
#define CS_SIMD_H

#if !defined(__GNUC__) && !defined(__clang__)
#error "csoftmax's kernels need the vector extensions of GCC or Clang (on Windows: clang-cl)"
#endif

#include <math.h>
#include <string.h>

#include "cs_common.h"

typedef double cs_vd __attribute__((vector_size(64), aligned(8)));
typedef float cs_vf __attribute__((vector_size(64), aligned(4)));
typedef float cs_vf8 __attribute__((vector_size(32), aligned(4)));
typedef long long cs_vdi __attribute__((vector_size(64)));
typedef int cs_vfi __attribute__((vector_size(64)));

#define CS_WD 8  /* doubles per vector */
#define CS_WF 16 /* floats per vector */
#define CS_SPLATD(c) ((cs_vd){0} + (double)(c))
#define CS_SPLATF(c) ((cs_vf){0} + (float)(c))

/* The lanes of the halves of a float vector, and two halves joined (cs_simd_ops.h). */
#if defined(__clang__) || __GNUC__ >= 12
#define CS_LO8F(v) __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)
#define CS_HI8F(v) __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15)
#define CS_JOIN8F(a, b) \
    __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#else
#define CS_LO8F(v) ((cs_vf8){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]})
#define CS_HI8F(v) ((cs_vf8){v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]})
#define CS_JOIN8F(a, b)                                                                       \
    ((cs_vf){a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],                                  \
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]})
#endif
/* The copy of a helper of cs_simd_ops.h to use: with Clang the one of the instruction set
 * being instantiated (CS_ISA), with GCC the one shared copy. Each alias below names the
 * helper itself inside its own expansion, where the preprocessor does not expand it again
 * (C99 6.10.3.4), so with Clang cs_loadd means cs_loadd_avx2 in the AVX2 instantiation. */
#if defined(__clang__)
#define CS_SIMD_OPS_PER_ISA 1
#define CS_V(name) CS_CAT2(name, CS_ISA)
#else
#define CS_V(name) CS_CAT2(name, shared)
#endif
#define cs_loadd CS_V(cs_loadd)
#define cs_loadf CS_V(cs_loadf)
#define cs_stored CS_V(cs_stored)
#define cs_storef CS_V(cs_storef)
#define cs_seld CS_V(cs_seld)
#define cs_self CS_V(cs_self)
#define cs_maxd CS_V(cs_maxd)
#define cs_maxf CS_V(cs_maxf)
#define cs_hsumd CS_V(cs_hsumd)
#define cs_hmaxd CS_V(cs_hmaxd)
#define cs_hmaxf CS_V(cs_hmaxf)
#define cs_lo_to_d CS_V(cs_lo_to_d)
#define cs_hi_to_d CS_V(cs_hi_to_d)
#define cs_d_to_f CS_V(cs_d_to_f)
#define cs_pow2d CS_V(cs_pow2d)
#define cs_vexp_f64 CS_V(cs_vexp_f64)
#define cs_pow2f CS_V(cs_pow2f)
#define cs_vexp_f32 CS_V(cs_vexp_f32)
#define cs_pairsum_push CS_V(cs_pairsum_push)
#define cs_pairsum_finish CS_V(cs_pairsum_finish)

/* ---- long sums --------------------------------------------------------------------------- */

/* A row's sum is accumulated vector by vector in blocks of CS_SUM_BLOCK steps; each finished
 * block is merged into a pairwise tree through a carry chain (as a binary counter adds 1,
 * cs_pairsum_push), and cs_pairsum_finish folds the tree in a fixed order (both in
 * cs_simd_ops.h). The error of a sum of n terms then grows like log(n) instead of n, and a
 * row of at most one block is summed exactly as a plain accumulation would sum it. Nothing
 * depends on the thread count or the instruction set. */
#define CS_SUM_BLOCK 128

typedef struct {
    cs_vd level[48]; /* level[i] holds the sum of 2^i blocks when bit i of mask is set */
    uint64_t mask;
} cs_pairsum;

/* In a loop over vector steps j (of tw elements): close the block when j starts a new one. */
#define CS_SUM_STEP(ps, a0, a1, j, tw)                                                        \
    do {                                                                                      \
        if ((j) != 0 && ((j) / (tw)) % CS_SUM_BLOCK == 0) {                                   \
            cs_pairsum_push(&(ps), (a0) + (a1));                                              \
            (a0) = CS_SPLATD(0.0);                                                            \
            (a1) = CS_SPLATD(0.0);                                                            \
        }                                                                                     \
    } while (0)

#if !defined(CS_SIMD_OPS_PER_ISA)
#include "cs_simd_ops.h"
#endif

#endif
