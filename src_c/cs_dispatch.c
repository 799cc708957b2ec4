/* Run-time choice of the SIMD path. The kernels are compiled three times (cs_*_isa_*.c),
 * once per instruction set; the cs_* entry points read cs_simd_level() and call one. */
#include <stdlib.h>
#include <string.h>

#include "cs_common.h"

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
    const char *env = getenv("CSOFTMAX_SIMD");
    if (env != NULL) {
        if (strcmp(env, "portable") == 0)
            level = CS_SIMD_PORTABLE;
        else if (strcmp(env, "avx2") == 0 && level >= CS_SIMD_AVX2)
            level = CS_SIMD_AVX2;
    }
    __atomic_store_n(&cs_level, level, __ATOMIC_RELAXED);
    return level;
}

int cs_simd_set_level(int level)
{
    if (level < CS_SIMD_PORTABLE || level > cs_simd_supported())
        return CS_EINVAL;
    __atomic_store_n(&cs_level, level, __ATOMIC_RELAXED);
    return CS_OK;
}

void cs_run_rows(cs_block_fn fn, const void *ctx, ptrdiff_t n_rows, ptrdiff_t work_per_row,
                 int n_threads)
{
    if (n_rows <= 0)
        return;
    int nt = n_threads;
    if (nt < 1 || n_rows * work_per_row < CS_PARALLEL_MIN_ELEMS)
        nt = 1;
    if ((ptrdiff_t)nt > n_rows)
        nt = (int)n_rows;
    if (nt == 1) {
        fn(ctx, 0, n_rows);
        return;
    }
#if defined(_OPENMP)
#pragma omp parallel num_threads(nt)
    {
        ptrdiff_t tid = omp_get_thread_num(), nth = omp_get_num_threads();
        ptrdiff_t r0 = n_rows * tid / nth, r1 = n_rows * (tid + 1) / nth;
        if (r1 > r0)
            fn(ctx, r0, r1);
    }
#else
    fn(ctx, 0, n_rows);
#endif
}

int cs_max_threads(void)
{
#if defined(_OPENMP)
    int n = omp_get_max_threads();
    int limit = omp_get_thread_limit();
    return n < limit ? n : limit;
#else
    return 1;
#endif
}
