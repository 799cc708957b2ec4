/* csoftmax: shared definitions for every C kernel family.
 *
 * Conventions (all kernels):
 *   - C99, names prefixed `cs_`, dtype variants suffixed `_f32` / `_f64`.
 *   - Arguments: inputs, outputs, ptrdiff_t sizes, then `int n_threads`.
 *   - Arrays are C-contiguous row-major (n_rows, n_cols); the Python layer makes them so.
 *   - Return an int status: CS_OK, CS_ENOMEM (scratch allocation failed) or CS_EINVAL.
 *   - Every row is processed by exactly one thread and every reduction has a fixed order,
 *     so results are bitwise identical for any n_threads.
 */
#ifndef CS_COMMON_H
#define CS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define CS_OK 0
#define CS_ENOMEM 1
#define CS_EINVAL 2

#if defined(_OPENMP)
#include <omp.h>
#endif

#if defined(__GNUC__)
#define CS_INLINE static inline __attribute__((always_inline))
#else
#define CS_INLINE static inline
#endif

#define CS_CAT_(a, b, c) a##_##b##_##c
#define CS_CAT3(a, b, c) CS_CAT_(a, b, c)

/* Below this many elements a kernel runs on the calling thread: starting a team costs more. */
#define CS_PARALLEL_MIN_ELEMS ((ptrdiff_t)32768)

/* Split rows [0, n_rows) into one contiguous block per thread and call fn(ctx, row0, row1)
 * on each. Runs on the calling thread when n_rows * work_per_row is small or n_threads is 1.
 * Rows never depend on each other, so the split does not change any result. */
typedef void (*cs_block_fn)(const void *ctx, ptrdiff_t row0, ptrdiff_t row1);
void cs_run_rows(cs_block_fn fn, const void *ctx, ptrdiff_t n_rows, ptrdiff_t work_per_row,
                 int n_threads);

/* Threads an OpenMP parallel region would use by default: omp_get_max_threads() capped by
 * omp_get_thread_limit(), so OMP_NUM_THREADS, OMP_THREAD_LIMIT and threadpoolctl all apply.
 * 1 when the build has no OpenMP. */
int cs_max_threads(void);

/* SIMD levels, best last. The dispatcher picks the best the CPU has unless told otherwise. */
#define CS_SIMD_PORTABLE 0
#define CS_SIMD_AVX2 1
#define CS_SIMD_AVX512 2

/* Highest level this CPU (and this build) supports. */
int cs_simd_supported(void);
/* Level in use; first call reads CSOFTMAX_SIMD (portable|avx2|avx512|auto). */
int cs_simd_level(void);
/* Select a level; returns CS_EINVAL (and changes nothing) if the CPU lacks it. */
int cs_simd_set_level(int level);

#endif
