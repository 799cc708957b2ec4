/* csoftmax: float64 to float32 with a finiteness check, in one pass, the check alone, and
 * the page advice for the cast's buffer (see cs_cast.h). */
#if defined(__linux__)
#define _DEFAULT_SOURCE /* madvise under -std=c99 */
#endif
#include <stdint.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "cs_cast.h"
#include "cs_parallel.h"

typedef struct {
    const double *x;
    float *out;
    int non_finite; /* set by any block that met a NaN or an infinity */
} cs_cast_args;

/* Elements [i0, i1). A float is not finite when its exponent bits are all ones; the OR of
 * those tests is an integer reduction, which the compiler vectorizes with the cast. */
static void cs_cast_block(const void *ctx, ptrdiff_t i0, ptrdiff_t i1)
{
    const cs_cast_args *a = ctx;
    const double *x = a->x;
    float *out = a->out;
    uint32_t bad = 0;
    for (ptrdiff_t i = i0; i < i1; i++) {
        const float v = (float)x[i];
        uint32_t bits;
        memcpy(&bits, &v, sizeof bits);
        out[i] = v;
        bad |= (uint32_t)((bits & 0x7f800000u) == 0x7f800000u);
    }
    if (bad)
        __atomic_store_n(&((cs_cast_args *)a)->non_finite, 1, __ATOMIC_RELAXED);
}

int cs_cast_f64_f32(const double *x, float *out, int *finite, ptrdiff_t n, int n_threads)
{
    cs_cast_args a = {x, out, 0};
    if (n > 0)
        cs_run_rows(cs_cast_block, &a, n, 1, n_threads);
    *finite = !a.non_finite;
    return CS_OK;
}

typedef struct {
    const void *x;
    int non_finite;
} cs_check_args;

/* As cs_cast_block, without the cast: the exponent bits of each value (U, the unsigned
 * integer of T's width), all ones (EXP) for NaN and the infinities. */
#define CS_CHECK_BLOCK(NAME, T, U, EXP)                                                      \
    static void NAME(const void *ctx, ptrdiff_t i0, ptrdiff_t i1)                            \
    {                                                                                        \
        const cs_check_args *a = ctx;                                                        \
        const T *x = a->x;                                                                   \
        U bad = 0;                                                                           \
        for (ptrdiff_t i = i0; i < i1; i++) {                                                \
            U bits;                                                                          \
            memcpy(&bits, x + i, sizeof bits);                                               \
            bad |= (U)((bits & (EXP)) == (EXP));                                             \
        }                                                                                    \
        if (bad)                                                                             \
            __atomic_store_n(&((cs_check_args *)a)->non_finite, 1, __ATOMIC_RELAXED);        \
    }
CS_CHECK_BLOCK(cs_check_block_f32, float, uint32_t, 0x7f800000u)
CS_CHECK_BLOCK(cs_check_block_f64, double, uint64_t, 0x7ff0000000000000u)
#undef CS_CHECK_BLOCK

static int cs_check_finite(cs_block_fn block, const void *x, int *finite, ptrdiff_t n,
                           int n_threads)
{
    cs_check_args a = {x, 0};
    if (n > 0)
        cs_run_rows(block, &a, n, 1, n_threads);
    *finite = !a.non_finite;
    return CS_OK;
}

int cs_check_finite_f32(const float *x, int *finite, ptrdiff_t n, int n_threads)
{
    return cs_check_finite(cs_check_block_f32, x, finite, n, n_threads);
}

int cs_check_finite_f64(const double *x, int *finite, ptrdiff_t n, int n_threads)
{
    return cs_check_finite(cs_check_block_f64, x, finite, n, n_threads);
}

void cs_advise_small_pages(void *p, size_t nbytes)
{
#if defined(__linux__) && defined(MADV_NOHUGEPAGE)
    const long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
    const uintptr_t start = ((uintptr_t)p + (uintptr_t)page - 1) / (uintptr_t)page * page;
    const uintptr_t end = ((uintptr_t)p + nbytes) / (uintptr_t)page * page;
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_NOHUGEPAGE); /* advice: failure is harmless */
#else
    (void)p;
    (void)nbytes;
#endif
}
