/* csoftmax: the one SIMD state of the extension.
 *
 * Every kernel family is compiled once per instruction set (cs_instantiate.h) and builds a
 * table of CS_SIMD_N_LEVELS entries per kernel; its entry points call
 * table[cs_simd_level()]. The level starts at the best this CPU supports; the Python layer
 * reads the CSOFTMAX_SIMD environment variable at import and calls cs_simd_set_level.
 * The names accepted are exactly those of cs_simd_parse: "portable", "avx2", "avx512"
 * and "auto".
 */
#ifndef CS_DISPATCH_H
#define CS_DISPATCH_H

#include "cs_common.h"

/* SIMD levels, best last. */
#define CS_SIMD_PORTABLE 0
#define CS_SIMD_AVX2 1
#define CS_SIMD_AVX512 2
#define CS_SIMD_N_LEVELS 3
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
/* The name of a level ("portable", "avx2", "avx512"); NULL outside [0, CS_SIMD_N_LEVELS). */
const char *cs_simd_name(int level);

#endif
