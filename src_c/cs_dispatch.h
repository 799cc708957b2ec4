/* csoftmax: the one SIMD state of the extension.
 *
 * Every kernel family is compiled once per instruction set of the target architecture
 * (cs_instantiate.h) and builds a table of CS_SIMD_N_LEVELS entries per kernel; its entry
 * points call table[cs_simd_level()]. The level starts at the best this CPU supports; the
 * Python layer reads the CSOFTMAX_SIMD environment variable at import and calls
 * cs_simd_set_level.
 *
 * The levels depend on the architecture, and this header is the one place that lists them:
 *   - x86-64 with GCC or Clang: "portable" (baseline x86-64, i.e. SSE2), "avx2" (AVX2+FMA)
 *     and "avx512" (AVX-512 F/DQ/VL/BW), chosen at run time from the CPU's features;
 *   - anything else: "portable" only, the code compiled for the architecture's baseline
 *     (on ARM64 that baseline includes NEON, which the 64-byte vectors of cs_simd.h use).
 * A level is listed only where its instructions are really compiled in, so the name
 * simd_backend() reports is the instruction set the kernels run.
 * The names accepted are exactly those of cs_simd_parse: the level names and "auto".
 */
#ifndef CS_DISPATCH_H
#define CS_DISPATCH_H

#include "cs_common.h"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define CS_SIMD_X86_64 1
#endif

/* CS_SIMD_FOREACH(X, a) expands X(a, isa) for every level, lowest first: the level's name is
 * the ISA suffix of its functions (softmax_block_f32_avx2, ...). CS_SIMD_N_LEVELS counts
 * them. */
#if defined(CS_SIMD_X86_64)
#define CS_SIMD_FOREACH(X, a) X(a, portable) X(a, avx2) X(a, avx512)
#define CS_SIMD_N_LEVELS 3
#define CS_SIMD_AVX2 1
#define CS_SIMD_AVX512 2
#else
#define CS_SIMD_FOREACH(X, a) X(a, portable)
#define CS_SIMD_N_LEVELS 1
#endif
#define CS_SIMD_PORTABLE 0
#define CS_SIMD_AUTO (-1)

/* Highest level this CPU (and this build) supports. */
int cs_simd_supported(void);
/* Level in use now. */
int cs_simd_level(void);
/* Select a level (CS_SIMD_AUTO: the best supported). CS_EINVAL, changing nothing, when the
 * CPU lacks it or the level is unknown. */
int cs_simd_set_level(int level);
/* The level named `name` (CS_SIMD_AUTO for "auto"); -2 for a name that is not a level. */
int cs_simd_parse(const char *name);
/* The name of a level ("portable", "avx2", ...); NULL outside [0, CS_SIMD_N_LEVELS). */
const char *cs_simd_name(int level);

#endif
