/* csoftmax: row splitting over OpenMP threads (see cs_parallel.h). */
#include "cs_parallel.h"

#if defined(_OPENMP)
#include <omp.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define CS_HAVE_ATFORK 1
#endif

/* cs_teams_started: a team has run in this process; cs_forked_child: this is a fork child
 * of such a process. */
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

/* A job: rows [0, n_rows) in n_chunks chunks of `chunk` rows (the last may be shorter). */
typedef struct {
    cs_block_fn fn;
    const void *ctx;
    ptrdiff_t n_rows, chunk, n_chunks;
} cs_job;

#if defined(_OPENMP)
/* Claim chunks from *next until none is left, and run them; returns how many it ran. */
static ptrdiff_t cs_run_chunks(const cs_job *job, ptrdiff_t *next)
{
    for (ptrdiff_t ran = 0;; ran++) {
        const ptrdiff_t c = __atomic_fetch_add(next, 1, __ATOMIC_RELAXED);
        if (c >= job->n_chunks)
            return ran;
        const ptrdiff_t r0 = c * job->chunk;
        const ptrdiff_t r1 = r0 + job->chunk < job->n_rows ? r0 + job->chunk : job->n_rows;
        job->fn(job->ctx, r0, r1);
    }
}
#endif

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

#if defined(_OPENMP)
/* Measuring progress. A team ends at OpenMP's barrier, so when another process holds a
 * helper's core the caller does every chunk and then waits for the helper to arrive (a time
 * slice, milliseconds), or waits for a chunk the helper began before it lost its core. The
 * caller's own rate (its chunks in the time it worked) tells how long one thread would have
 * taken; a team that did not beat that by CS_SOLO_GAIN, and whose caller waited longer than
 * CS_SOLO_WAIT_US at the end (waking a thread on a quiet machine takes less: a small team
 * that lost to that is the work's fault, not the machine's), lost. Teams then stay off for
 * a pause of at least CS_SOLO_MIN_US and CS_SOLO_CALLS times the team's own time (a long
 * call is not teamed again at once) that doubles with each lost team, never past
 * CS_SOLO_MAX_US.
 * A team that paid off halves it, and below the least it is forgotten: on a busy machine
 * a team now and then finds its helper running, which must not bring the next slow team at
 * once. No result depends on it: the chunks are the same. Every calling thread shares the
 * two words, read and written atomically, as a hint. */
#define CS_SOLO_MIN_US 1000LL
#define CS_SOLO_MAX_US 250000LL
#define CS_SOLO_CALLS 4.0
#define CS_SOLO_WAIT_US 100.0
#define CS_SOLO_GAIN 0.9
static long long cs_solo_until_us = 0, cs_solo_pause_us = 0;

static long long cs_now_us(void) { return (long long)(omp_get_wtime() * 1e6); }

/* Judge a team of n_chunks chunks, of which the caller ran `mine` in `worked` seconds before
 * waiting `waited` seconds for the others. */
static void cs_judge_team(ptrdiff_t n_chunks, ptrdiff_t mine, double worked, double waited)
{
    long long pause = __atomic_load_n(&cs_solo_pause_us, __ATOMIC_RELAXED);
    const double took = worked + waited;
    const int lost = waited * 1e6 > CS_SOLO_WAIT_US &&
                     took * (double)mine > CS_SOLO_GAIN * worked * (double)n_chunks;
    if (lost) {
        const double least = CS_SOLO_CALLS * took * 1e6;
        pause = pause <= 0 ? CS_SOLO_MIN_US : pause * 2;
        pause = (double)pause > least ? pause : (long long)least;
        pause = pause < CS_SOLO_MAX_US ? pause : CS_SOLO_MAX_US;
        __atomic_store_n(&cs_solo_pause_us, pause, __ATOMIC_RELAXED);
        __atomic_store_n(&cs_solo_until_us, cs_now_us() + pause, __ATOMIC_RELAXED);
    } else if (pause != 0) {
        pause = pause / 2 >= CS_SOLO_MIN_US ? pause / 2 : 0;
        __atomic_store_n(&cs_solo_pause_us, pause, __ATOMIC_RELAXED);
    }
}
#endif

/* Rows per chunk: at least CS_CHUNK_MIN_ELEMS of work, and at most CS_CHUNKS_MAX chunks. */
static ptrdiff_t cs_chunk_rows(ptrdiff_t n_rows, ptrdiff_t work_per_row)
{
    const ptrdiff_t w = work_per_row > 0 ? work_per_row : 1;
    ptrdiff_t c = w >= CS_CHUNK_MIN_ELEMS ? 1 : (CS_CHUNK_MIN_ELEMS + w - 1) / w;
    const ptrdiff_t fewest = (n_rows + CS_CHUNKS_MAX - 1) / CS_CHUNKS_MAX;
    return c > fewest ? c : fewest;
}

/* The team for a job: n_threads, capped by the processors and by the work
 * (CS_PARALLEL_MIN_ELEMS a thread) and the chunks; 1 in a fork child. */
static int cs_team_size(int n_threads, ptrdiff_t n_rows, ptrdiff_t work_per_row,
                        ptrdiff_t n_chunks)
{
    if (n_threads <= 1 || cs_forked_child || n_chunks <= 1)
        return 1;
    const double by_work = (double)n_rows * (double)work_per_row / (double)CS_PARALLEL_MIN_ELEMS;
    double nt = n_threads;
    nt = nt < by_work ? nt : by_work;
    nt = nt < (double)n_chunks ? nt : (double)n_chunks;
#if defined(_OPENMP)
    nt = nt < (double)cs_procs() ? nt : (double)cs_procs();
#endif
    return nt >= 2.0 ? (int)nt : 1;
}

void cs_run_rows(cs_block_fn fn, const void *ctx, ptrdiff_t n_rows, ptrdiff_t work_per_row,
                 int n_threads)
{
    if (n_rows <= 0)
        return;
    const ptrdiff_t chunk = cs_chunk_rows(n_rows, work_per_row);
    const cs_job job = {fn, ctx, n_rows, chunk, (n_rows + chunk - 1) / chunk};
    const int nt = cs_team_size(n_threads, n_rows, work_per_row, job.n_chunks);
    if (nt <= 1) {
        fn(ctx, 0, n_rows);
        return;
    }
#if defined(_OPENMP)
    if (cs_now_us() < __atomic_load_n(&cs_solo_until_us, __ATOMIC_RELAXED)) {
        fn(ctx, 0, n_rows); /* a recent team waited for busy cores (cs_judge_team) */
        return;
    }
    ptrdiff_t next = 0, mine = 0;
    double worked = 0.0;
    cs_teams_started = 1;
    const double t0 = omp_get_wtime();
    /* Each thread claims chunks until none is left; one that starts late (its core busy)
     * finds fewer or none, so the others do its share. */
#pragma omp parallel num_threads(nt)
    {
        const ptrdiff_t ran = cs_run_chunks(&job, &next);
        if (omp_get_thread_num() == 0) {
            worked = omp_get_wtime() - t0;
            mine = ran;
        }
    }
    cs_judge_team(job.n_chunks, mine, worked, omp_get_wtime() - t0 - worked);
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
