/* csoftmax: row splitting over OpenMP threads (see cs_parallel.h). */
#include "cs_parallel.h"

#if defined(_OPENMP)
#include <omp.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define CS_HAVE_ATFORK 1
#endif

/* cs_teams_started: a parallel team has run in this process; cs_forked_child: this is a
 * fork child of such a process. */
#if defined(_OPENMP)
static volatile int cs_teams_started = 0;
#endif
static volatile int cs_forked_child = 0;

#if defined(CS_HAVE_ATFORK) && defined(_OPENMP)
static void cs_after_fork_in_child(void)
{
    if (cs_teams_started)
        cs_forked_child = 1;
}
#endif

void cs_parallel_init(void)
{
#if defined(CS_HAVE_ATFORK) && defined(_OPENMP)
    static int registered = 0;
    if (!registered) {
        registered = 1;
        pthread_atfork(NULL, NULL, cs_after_fork_in_child);
    }
#endif
}

int cs_parallel_forked(void) { return cs_forked_child; }

#if defined(_OPENMP)
/* The processors OpenMP sees, read once (omp_get_num_procs() makes a system call each
 * time). A later change of the affinity is not seen; the cap only keeps a kernel from
 * starting more threads than there are processors, and no result depends on it. */
static int cs_procs(void)
{
    static volatile int n_procs = 0;
    if (n_procs < 1)
        n_procs = omp_get_num_procs();
    return n_procs;
}
#endif

void cs_run_rows(cs_block_fn fn, const void *ctx, ptrdiff_t n_rows, ptrdiff_t work_per_row,
                 int n_threads)
{
    if (n_rows <= 0)
        return;
    int nt = n_threads;
    if (nt < 1 || n_rows * work_per_row < CS_PARALLEL_MIN_ELEMS || cs_forked_child)
        nt = 1;
    if ((ptrdiff_t)nt > n_rows)
        nt = (int)n_rows;
#if defined(_OPENMP)
    if (nt > 1 && nt > cs_procs())
        nt = cs_procs();
#endif
    if (nt <= 1) {
        fn(ctx, 0, n_rows);
        return;
    }
#if defined(_OPENMP)
    cs_teams_started = 1;
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
    if (cs_forked_child)
        return 1;
#if defined(_OPENMP)
    int n = omp_get_max_threads();
    int limit = omp_get_thread_limit();
    return n < limit ? n : limit;
#else
    return 1;
#endif
}

int cs_openmp_enabled(void)
{
#if defined(_OPENMP)
    return 1;
#else
    return 0;
#endif
}

double cs_wall_seconds(void)
{
#if defined(_OPENMP)
    return omp_get_wtime();
#else
    return 0.0;
#endif
}
