/* csoftmax: the run-time choice of the SIMD path (see cs_dispatch.h). */
#include <string.h>

#include "cs_dispatch.h"

#if defined(CS_SIMD_X86_64) && defined(_MSC_VER)
#include <immintrin.h>
#include <intrin.h>
#endif

static const char *const cs_names[] = {
    "portable",
#if defined(CS_SIMD_X86_64)
    "avx2",
    "avx512",
#endif
};
/* The list and the count of cs_dispatch.h agree (a negative array size fails to compile). */
typedef char cs_levels_counted_[sizeof cs_names / sizeof cs_names[0] == CS_SIMD_N_LEVELS ? 1 : -1];

static int cs_level = -1; /* -1: not chosen yet */

/* The level is one int, read and written whole; relaxed atomics where the compiler has them
 * (MSVC's volatile int accesses are atomic on its targets). */
#if defined(__GNUC__) || defined(__clang__)
#define CS_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define CS_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#else
#define CS_LOAD(p) (*(volatile int *)(p))
#define CS_STORE(p, v) (*(volatile int *)(p) = (v))
#endif

#if defined(CS_SIMD_X86_64) && defined(_MSC_VER)
/* clang-cl (Windows): CPUID and XGETBV directly, as its __builtin_cpu_supports needs a
 * runtime library that is not linked there; the OS must save the wide registers too. */
__attribute__((target("xsave"))) static int cs_x86_level(void)
{
    int r[4];
    __cpuid(r, 0);
    if (r[0] < 7)
        return CS_SIMD_PORTABLE;
    __cpuid(r, 1);
    const int fma = (r[2] >> 12) & 1, osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1;
    if (!(fma && osxsave && avx))
        return CS_SIMD_PORTABLE;
    const unsigned long long xcr0 = _xgetbv(0);
    __cpuidex(r, 7, 0);
    const int avx2 = (r[1] >> 5) & 1;
    const int avx512 = ((r[1] >> 16) & 1) && ((r[1] >> 17) & 1) && ((r[1] >> 30) & 1) &&
                       ((r[1] >> 31) & 1); /* F, DQ, BW, VL */
    if ((xcr0 & 0xe6) == 0xe6 && avx2 && avx512)
        return CS_SIMD_AVX512;
    if ((xcr0 & 0x6) == 0x6 && avx2)
        return CS_SIMD_AVX2;
    return CS_SIMD_PORTABLE;
}
#elif defined(CS_SIMD_X86_64)
static int cs_x86_level(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
        return CS_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return CS_SIMD_AVX2;
    return CS_SIMD_PORTABLE;
}
#endif

int cs_simd_supported(void)
{
#if defined(CS_SIMD_X86_64)
    return cs_x86_level();
#else
    return CS_SIMD_PORTABLE;
#endif
}

int cs_simd_level(void)
{
    int level = CS_LOAD(&cs_level);
    if (level >= 0)
        return level;
    level = cs_simd_supported();
    CS_STORE(&cs_level, level);
    return level;
}

int cs_simd_set_level(int level)
{
    if (level == CS_SIMD_AUTO)
        level = cs_simd_supported();
    if (level < CS_SIMD_PORTABLE || level > cs_simd_supported())
        return CS_EINVAL;
    CS_STORE(&cs_level, level);
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
