/* csoftmax: float64 to float32 with a finiteness check, in one pass (see cs_cast.h). */
#include <stdint.h>
#include <string.h>

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
