/* csoftmax: the run-time choice of the SIMD path (see cs_dispatch.h). */
#include <string.h>

#include "cs_dispatch.h"

static const char *const cs_names[CS_SIMD_N_LEVELS] = {"portable", "avx2", "avx512"};
static int cs_level = -1; /* -1: not chosen yet */

int cs_simd_supported(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))
        return CS_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return CS_SIMD_AVX2;
#endif
    return CS_SIMD_PORTABLE;
}

int cs_simd_level(void)
{
    int level = __atomic_load_n(&cs_level, __ATOMIC_RELAXED);
    if (level >= 0)
        return level;
    level = cs_simd_supported();
    __atomic_store_n(&cs_level, level, __ATOMIC_RELAXED);
    return level;
}

int cs_simd_set_level(int level)
{
    if (level == CS_SIMD_AUTO)
        level = cs_simd_supported();
    if (level < CS_SIMD_PORTABLE || level > cs_simd_supported())
        return CS_EINVAL;
    __atomic_store_n(&cs_level, level, __ATOMIC_RELAXED);
    return CS_OK;
}

int cs_simd_parse(const char *name)
{
    if (name == NULL)
        return -2;
    if (strcmp(name, "auto") == 0)
        return CS_SIMD_AUTO;
    for (int i = 0; i < CS_SIMD_N_LEVELS; i++)
        if (strcmp(name, cs_names[i]) == 0)
            return i;
    return -2;
}

const char *cs_simd_name(int level)
{
    return level >= 0 && level < CS_SIMD_N_LEVELS ? cs_names[level] : NULL;
}
