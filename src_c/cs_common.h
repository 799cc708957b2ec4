/* csoftmax: definitions shared by every C kernel family.
 *
 * Conventions (all kernels):
 *   - C99, names prefixed `cs_`, dtype variants suffixed `_f32` / `_f64`.
 *   - Row kernels take inputs, outputs, ptrdiff_t sizes, then `int n_threads`; the optimizer
 *     (cs_optim.h) and the engine (cs_mlp.h) take their state struct first.
 *   - Arrays are C-contiguous row-major (n_rows, n_cols); the Python layer makes them so.
 *   - Return an int status: CS_OK, CS_ENOMEM (an allocation failed) or CS_EINVAL (arguments
 *     out of their domain; nothing written).
 *   - Every output element is computed by exactly one thread (a row, or for the column
 *     sums a column) and every reduction has a fixed order, so results are bitwise
 *     identical for any n_threads. The orders (none may change: results are bitwise
 *     stable across releases, SIMD paths and thread counts):
 *
 *     name          order                                       used for
 *     lane sum      element j of a row into lane j % 16 (float)  every row sum of the row
 *                   or j % 8 (double) of a 64-byte vector of    kernels: sum exp(x - m),
 *                   doubles; blocks of 128 vectors merged       <dy, y>, sum dy, sum t'(z - m),
 *                   pairwise (cs_pairsum), lanes folded by      sum (z - m); narrow rows the
 *                   CS_FOLD8 (cs_simd.h,                        same per row (kernels/vec.h,
 *                   kernels/vec.h)                              rows.h, narrow.h)
 *     blocked sum   blocks of 128 in order, block sums added    cross-entropy: *loss over
 *                   in order (cs_blocked_sum below)             loss_rows, the mean's divisor;
 *                                                               engine: a batch's loss, the sum
 *                                                               of its weights for w / sum(w)
 *     eight-way     element i into accumulator i % 8, folded    optimizer: sum(p^2) of a
 *     sum           by CS_FOLD8                                 parameter array, reported by
 *                   (kernels/optim_kernels.h)                   cs_optim_update_* and the epoch
 *     serial sum    one accumulator, in index order             engine: the batch's sum of raw
 *                                                               weights (the L2 divisor), the
 *                                                               column sums of the intercept
 *                                                               gradients (rows in order), the
 *                                                               squared weight norm of
 *                                                               cs_mlp_loss_grad, the epoch's
 *                                                               loss and the layers' norms;
 *                                                               cross-entropy: sum of class
 *                                                               weights, the weighted-label dot;
 *                                                               sigmoid: each row's loss
 *     compensated   Neumaier, in index order                    the Jacobian's diagonal entry
 *                                                               above 1/2
 *     The squared weight norm is an eight-way sum in an epoch and a serial sum in
 *     cs_mlp_loss_grad: both are kept, since each fixes its own bits.
 *
 * The layout of src_c/: cs_parallel (the one way rows are split over threads),
 * cs_dispatch (the one SIMD state), one header per kernel family with its entry points in
 * the .c file: cs_softmax, cs_xent, cs_optim, cs_mlp and cs_cast (the estimator's float64
 * input cast to float32); cs_kernels.h (what the entry points share with the kernels), and
 * kernels/, one translation unit per dtype and SIMD path compiling the kernel bodies
 * (kernels/kernel.h), with cs_simd.h (the 64-byte summation order).
 */
#ifndef CS_COMMON_H
#define CS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define CS_OK 0
#define CS_ENOMEM 1
#define CS_EINVAL 2

#if defined(__GNUC__) || defined(__clang__)
#define CS_INLINE static inline __attribute__((always_inline))
#else
#define CS_INLINE static inline
#endif

/* CS_READ_ONCE_I64(x, p): x = *p (int64_t), for memory another thread may change during the
 * call, where x is checked before it is used: the compiler may not read *p again in place
 * of x (GCC, Clang: an empty asm makes x opaque, which costs nothing; elsewhere *p is read
 * through a volatile pointer). CS_UNLIKELY(c): c, expected false. */
#if defined(__GNUC__) || defined(__clang__)
#define CS_READ_ONCE_I64(x, p)                                                                \
    do {                                                                                      \
        (x) = *(p);                                                                           \
        __asm__("" : "+r"(x));                                                                \
    } while (0)
#define CS_UNLIKELY(c) __builtin_expect(!!(c), 0)
#else
#define CS_READ_ONCE_I64(x, p) ((x) = *(const volatile int64_t *)(p))
#define CS_UNLIKELY(c) (c)
#endif

#define CS_CAT2_(a, b) a##_##b
#define CS_CAT2(a, b) CS_CAT2_(a, b)
#define CS_CAT3_(a, b, c) a##_##b##_##c
#define CS_CAT3(a, b, c) CS_CAT3_(a, b, c)

/* The fold of eight partial sums a[0..7] (scalars, or vectors lane by lane) that ends the
 * lane sum and the eight-way sum: one expression, so every such fold rounds alike. */
#define CS_FOLD8(a)                                                                           \
    ((((a)[0] + (a)[4]) + ((a)[2] + (a)[6])) + (((a)[1] + (a)[5]) + ((a)[3] + (a)[7])))

/* The blocked sum: sum_i v[i] in blocks of 128, then the block sums: deterministic and
 * with an error bound of about (128 + n / 128) ulp instead of n ulp. Eight blocks are summed
 * side by side (each in its own order, added to the total in block order: the same bits as
 * one block after another), so that eight chains of additions overlap instead of one. */
static inline double cs_blocked_sum(const double *v, ptrdiff_t n)
{
    double total = 0.0;
    ptrdiff_t b = 0;
    for (; b + 8 * 128 <= n; b += 8 * 128) {
        double block[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (ptrdiff_t i = 0; i < 128; i++)
            for (int k = 0; k < 8; k++)
                block[k] += v[b + 128 * k + i];
        for (int k = 0; k < 8; k++)
            total += block[k];
    }
    for (; b < n; b += 128) {
        const ptrdiff_t e = b + 128 < n ? b + 128 : n;
        double block = 0.0;
        for (ptrdiff_t i = b; i < e; i++)
            block += v[i];
        total += block;
    }
    return total;
}

#endif
