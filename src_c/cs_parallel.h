/* csoftmax: the one way a kernel splits its rows over threads.
 *
 * A kernel that loops over rows writes a block function fn(ctx, row0, row1) that handles
 * rows [row0, row1) and hands it to cs_run_rows with its n_threads. Rows never depend on
 * each other, so the split changes no result. Without OpenMP everything runs on the
 * calling thread.
 *
 * The rows are cut into chunks that depend only on n_rows and work_per_row (never on the
 * thread count), and the threads claim chunks one at a time, so a thread slowed by another
 * process takes fewer of them instead of holding the others back (the team is OpenMP's; its
 * idle threads spin as GOMP_SPINCOUNT says, which csoftmax/__init__.py shortens).
 */
#ifndef CS_PARALLEL_H
#define CS_PARALLEL_H

#include "cs_common.h"

/* Work (elements, or work_per_row units) each thread of a team must get: smaller calls use
 * fewer threads, and below twice this one runs on the calling thread (waking a thread costs
 * more than the work it would take). */
#define CS_PARALLEL_MIN_ELEMS ((ptrdiff_t)32768)
/* A chunk holds at least CS_CHUNK_MIN_ELEMS of work, and a call has at most CS_CHUNKS_MAX. */
#define CS_CHUNK_MIN_ELEMS ((ptrdiff_t)8192)
#define CS_CHUNKS_MAX ((ptrdiff_t)64)

typedef void (*cs_block_fn)(const void *ctx, ptrdiff_t row0, ptrdiff_t row1);

/* Call fn(ctx, row0, row1) on chunks covering rows [0, n_rows), spread over a team of up to
 * n_threads threads, the caller included. The team is capped by the work (one thread per
 * CS_PARALLEL_MIN_ELEMS of n_rows * work_per_row), by the chunks, and by the processors
 * OpenMP saw at the first parallel call (read once: asking costs a system call). Runs as one
 * call fn(ctx, 0, n_rows) on the calling thread when the team is 1 and in a child process
 * forked after a team ran (GNU OpenMP cannot start a team there: it would hang). */
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
