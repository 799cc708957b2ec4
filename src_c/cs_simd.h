/* csoftmax: the 64-byte vectors that fix the order of every row sum, written once with the
 * vector extensions of GCC and Clang.
 *
 * Included by the kernel bodies (kernels/kernel.h) inside the target region of their
 * translation unit, so these helpers, like every other kernel helper, are compiled with that
 * unit's instruction set. The kernels compute on vectors of the hardware's own width
 * (kernels/vec.h), but every row sum is accumulated in the lanes of a 64-byte vector of
 * doubles (element j of a row in lane j % 16 for float, j % 8 for double; kernels/vec.h maps
 * its native lanes onto them), so no sum depends on the instruction set.
 *
 * Compilers: GCC >= 10 and Clang >= 14 (clang-cl on Windows). GCC 12 and Clang have
 * __builtin_shufflevector, which the narrow-row transposes use (kernels/narrow.h); older
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

CS_INLINE cs_vd cs_loadd(const double *p) { cs_vd v; memcpy(&v, p, sizeof v); return v; }

/* The sum of the lanes, in a fixed order (independent of the instruction set). */
CS_INLINE double cs_hsumd(cs_vd a)
{
    return CS_FOLD8(a);
}

/* ---- the lane sum (the table of summation orders is in cs_common.h) ----------------------- */

/* A row's sum is accumulated vector by vector in blocks of CS_SUM_BLOCK 64-byte steps; each
 * finished block is merged into a pairwise tree through a carry chain (as a binary counter
 * adds 1, cs_pairsum_push), and cs_pairsum_finish folds the tree in a fixed order. The error
 * of a sum of n terms then grows like log(n) instead of n, and a row of at most one block is
 * summed exactly as a plain accumulation would sum it. Nothing depends on the thread count or
 * the instruction set. */
#define CS_SUM_BLOCK 128

typedef struct {
    cs_vd level[48]; /* level[i] holds the sum of 2^i blocks when bit i of mask is set */
    uint64_t mask;
} cs_pairsum;

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

#endif
