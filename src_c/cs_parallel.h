/* csoftmax: the one way a kernel splits its rows over threads.
 *
 * A kernel that loops over rows writes a block function fn(ctx, row0, row1) that handles
 * rows [row0, row1) and hands it to cs_run_rows with its n_threads. Rows never depend on
 * each other, so the split changes no result. Without OpenMP everything runs on the
 * calling thread.
 */
#ifndef CS_PARALLEL_H
#define CS_PARALLEL_H

#include "cs_common.h"

/* Below this many elements a kernel runs on the calling thread: starting a team costs more. */
#define CS_PARALLEL_MIN_ELEMS ((ptrdiff_t)32768)

typedef void (*cs_block_fn)(const void *ctx, ptrdiff_t row0, ptrdiff_t row1);

/* Split rows [0, n_rows) into one contiguous block per thread and call fn(ctx, row0, row1)
 * on each. Runs on the calling thread when n_rows * work_per_row < CS_PARALLEL_MIN_ELEMS,
 * n_threads <= 1, or in a child process forked after a parallel team ran (GNU OpenMP cannot
 * start a team in such a child: it would hang). n_threads is capped by the processors
 * OpenMP saw at the first parallel call (read once: asking costs a system call). */
void cs_run_rows(cs_block_fn fn, const void *ctx, ptrdiff_t n_rows, ptrdiff_t work_per_row,
                 int n_threads);

/* Threads an OpenMP parallel region would use by default: omp_get_max_threads() capped by
 * omp_get_thread_limit(), so OMP_NUM_THREADS, OMP_THREAD_LIMIT and threadpoolctl all apply.
 * 1 when the build has no OpenMP. */
int cs_max_threads(void);

/* Register the fork handler that makes a forked child run serially (once per process;
 * called when the extension is imported). */
void cs_parallel_init(void);

/* 1 when this process is a child forked after a parallel team ran, where kernels must run
 * on one thread (the Python layer resolves every thread count to 1 there). */
int cs_parallel_forked(void);

/* 1 when the build has OpenMP (threads can run), 0 when it is serial. */
int cs_openmp_enabled(void);

/* Wall-clock seconds from an arbitrary origin (OpenMP's clock; 0 without OpenMP, where
 * there is no team size to choose). */
double cs_wall_seconds(void);

#endif
