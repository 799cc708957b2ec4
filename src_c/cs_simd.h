/* csoftmax: the 64-byte vectors that fix the order of every row sum, written once with the
 * vector extensions of GCC and Clang.
 *
 * Each kernel family's .c file includes this header, then instantiates its template once per
 * instruction set through cs_instantiate.h, whose target regions make the same inline source
 * compile to SSE2, AVX2+FMA and AVX-512 code on x86-64 (and to NEON on ARM64, whose
 * baseline has it). The kernels compute on vectors of the hardware's own width
 * (cs_native_impl.h), but every row sum is accumulated in the lanes of a 64-byte vector of
 * doubles (element j of a row in lane j % 16 for float, j % 8 for double; cs_native_impl.h
 * maps its native lanes onto them), so no sum depends on the instruction set.
 *
 * The helpers themselves live in cs_simd_ops.h. GCC inlines them, defined once outside any
 * target region, into every path. Clang rejects a call passing 64-byte vectors between
 * functions of different instruction sets, even an inlined one, so with Clang
 * cs_instantiate.h defines a copy per path (cs_loadd_avx2, ...) inside that path's region.
 * Either way the plain names below mean the right copy.
 *
 * Compilers: GCC >= 10 and Clang >= 14 (clang-cl on Windows). GCC 12 and Clang have
 * __builtin_shufflevector, which the narrow-row transposes use (cs_narrow_impl.h); older
 * GCC moves those elements one by one, which gives the same values.
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

#define CS_WD 8  /* doubles per 64-byte vector */
#define CS_WF 16 /* floats per 64-byte vector: the lanes of a float row's sum */

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
#define cs_hsumd CS_V(cs_hsumd)
#define cs_pairsum_push CS_V(cs_pairsum_push)
#define cs_pairsum_finish CS_V(cs_pairsum_finish)

/* ---- long sums --------------------------------------------------------------------------- */

/* A row's sum is accumulated vector by vector in blocks of CS_SUM_BLOCK 64-byte steps; each
 * finished block is merged into a pairwise tree through a carry chain (as a binary counter
 * adds 1, cs_pairsum_push), and cs_pairsum_finish folds the tree in a fixed order (both in
 * cs_simd_ops.h). The error of a sum of n terms then grows like log(n) instead of n, and a
 * row of at most one block is summed exactly as a plain accumulation would sum it. Nothing
 * depends on the thread count or the instruction set. */
#define CS_SUM_BLOCK 128

typedef struct {
    cs_vd level[48]; /* level[i] holds the sum of 2^i blocks when bit i of mask is set */
    uint64_t mask;
} cs_pairsum;

#if !defined(CS_SIMD_OPS_PER_ISA)
#include "cs_simd_ops.h"
#endif

#endif
