/* csoftmax: the one SIMD state of the extension.
 *
 * The kernels are compiled once per dtype and instruction set of the target architecture
 * (src_c/kernels/), and each entry point calls table[cs_simd_level()] of a table of
 * CS_SIMD_N_LEVELS entries (cs_kernels.h). The level starts at the best this CPU supports; the
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

/* The levels, lowest first. A level's name is the suffix of its kernels
 * (softmax_block_f32_avx2, ...): src_c/kernels/ compiles one translation unit per dtype and
 * level, and CS_PATHS(base) lists base_<level> for every level, in level order, as the
 * dispatch tables of the cs_*.c files hold them. */
#if defined(CS_SIMD_X86_64)
#define CS_SIMD_N_LEVELS 3
#define CS_SIMD_AVX2 1
#define CS_SIMD_AVX512 2
#define CS_PATHS(base) {base##_portable, base##_avx2, base##_avx512}
#else
#define CS_SIMD_N_LEVELS 1
#define CS_PATHS(base) {base##_portable}
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

/* CS_TARGET_BEGIN("avx2,fma") ... CS_TARGET_END: the one target region of a translation unit
 * of src_c/kernels/. Every function defined inside is compiled for those instructions. GCC:
 * `#pragma GCC target`; Clang: `#pragma clang attribute push`, which gives the attribute to
 * every function the region defines (Clang ignores the GCC pragma). Headers of intrinsics
 * (<immintrin.h>) are included before the region: they carry their own targets. */
#define CS_PRAGMA_(text) _Pragma(#text)
#if defined(__clang__)
#define CS_TARGET_BEGIN(isa)                                                                  \
    CS_PRAGMA_(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define CS_TARGET_END CS_PRAGMA_(clang attribute pop)
#else
#define CS_TARGET_BEGIN(isa) CS_PRAGMA_(GCC push_options) CS_PRAGMA_(GCC target(isa))
#define CS_TARGET_END CS_PRAGMA_(GCC pop_options)
#endif

#endif
