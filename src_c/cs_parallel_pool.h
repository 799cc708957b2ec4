/* csoftmax: the thread pool behind cs_run_rows (included by cs_parallel.c only, in builds
 * with OpenMP and POSIX threads).
 *
 * Why not an OpenMP team: a parallel region ends at a barrier that every thread of the team
 * must reach, so when another process holds the core of one thread, the caller waits for
 * that thread to be scheduled again, often a whole time slice, even when the caller could
 * have done all the work meanwhile. Here the caller publishes a job, works on it too, and
 * waits only for the workers that joined it while chunks were left: a worker that wakes
 * late finds the job closed and goes back to waiting, and nobody waits for it. Chunks are
 * claimed one at a time, so a slowed thread takes fewer of them.
 *
 * Waiting: a worker spins on the job counter for CS_SPIN_SECONDS (the steps of a batch
 * follow each other faster than a wake-up), then sleeps on a condition variable; the caller
 * waiting for its joined workers does the same. So an idle pool gives its cores back within
 * tens of microseconds, whatever OMP_WAIT_POLICY or GOMP_SPINCOUNT say (those apply to
 * OpenMP's own teams, which csoftmax does not start here).
 *
 * One caller at a time: a call made while another thread's call holds the pool runs on its
 * calling thread (the result is the same). Workers are started when first needed, never
 * stopped, block every signal (Python handles them on its main thread), and are named
 * "csoftmax" where the system allows. A child forked after the pool started has no
 * workers; it runs serially (cs_parallel_forked). */

#define CS_POOL_MAX 256        /* workers at most (a team of 257 threads) */
#define CS_SPIN_SECONDS 50e-6 /* spinning before sleeping, for workers and the caller */

static pthread_mutex_t cs_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cs_pool_wake = PTHREAD_COND_INITIALIZER; /* workers, between jobs */
static pthread_cond_t cs_pool_done = PTHREAD_COND_INITIALIZER; /* the caller, at the end */

/* The pool's state (zero at start). */
static struct {
    cs_job job;          /* the job in progress (under lock) */
    unsigned long gen;   /* jobs published so far (written under lock, read atomically) */
    ptrdiff_t next;      /* the job's next chunk to claim (atomic) */
    int open;            /* 1 while workers may join the job (under lock) */
    int joined;          /* workers inside the job (written under lock, read atomically) */
    int sleepers;        /* workers asleep on wake (under lock) */
    int caller_waiting;  /* the caller is asleep on done (under lock) */
    int n_workers;       /* workers started (under lock) */
    int busy;            /* 1 while a caller holds the pool (atomic) */
} cs_pool;

/* The job counter each worker saw when it started (it waits for the next one). */
static unsigned long cs_pool_first_gen[CS_POOL_MAX];

static double cs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void cs_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Whether spins rounds of waiting have lasted beyond CS_SPIN_SECONDS (the clock is read
 * every 64 rounds; *t0 holds the start). */
static int cs_spun_out(unsigned spins, double *t0)
{
    if ((spins & 63) != 0)
        return 0;
    const double t = cs_now();
    if (spins == 0)
        *t0 = t;
    return t - *t0 > CS_SPIN_SECONDS;
}

/* Spin for up to CS_SPIN_SECONDS until a job after `seen` is published; 1 if one was. */
static int cs_spin_for_job(unsigned long seen)
{
    double t0 = 0.0;
    for (unsigned spins = 0; !cs_spun_out(spins, &t0); spins++) {
        if (__atomic_load_n(&cs_pool.gen, __ATOMIC_ACQUIRE) != seen)
            return 1;
        cs_pause();
    }
    return 0;
}

/* Spin for up to CS_SPIN_SECONDS until no worker is inside the job; 1 if none is. */
static int cs_spin_for_workers(void)
{
    double t0 = 0.0;
    for (unsigned spins = 0; !cs_spun_out(spins, &t0); spins++) {
        if (__atomic_load_n(&cs_pool.joined, __ATOMIC_ACQUIRE) == 0)
            return 1;
        cs_pause();
    }
    return 0;
}

static void *cs_pool_worker(void *arg)
{
    const int id = (int)(intptr_t)arg;
    unsigned long seen = cs_pool_first_gen[id];
#if defined(__linux__)
    pthread_setname_np(pthread_self(), "csoftmax"); /* as ps, top and debuggers show it */
#elif defined(__APPLE__)
    pthread_setname_np("csoftmax");
#endif
    for (;;) {
        if (!cs_spin_for_job(seen)) {
            pthread_mutex_lock(&cs_pool_lock);
            cs_pool.sleepers++;
            while (cs_pool.gen == seen)
                pthread_cond_wait(&cs_pool_wake, &cs_pool_lock);
            cs_pool.sleepers--;
            pthread_mutex_unlock(&cs_pool_lock);
        }
        pthread_mutex_lock(&cs_pool_lock);
        seen = cs_pool.gen;
        const int join = cs_pool.open && id < cs_pool.job.helpers;
        const cs_job job = cs_pool.job;
        if (join)
            __atomic_store_n(&cs_pool.joined, cs_pool.joined + 1, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&cs_pool_lock);
        if (!join)
            continue;
        cs_run_chunks(&job, &cs_pool.next);
        pthread_mutex_lock(&cs_pool_lock);
        __atomic_store_n(&cs_pool.joined, cs_pool.joined - 1, __ATOMIC_RELEASE);
        if (cs_pool.joined == 0 && cs_pool.caller_waiting)
            pthread_cond_signal(&cs_pool_done);
        pthread_mutex_unlock(&cs_pool_lock);
    }
    return NULL;
}

/* Start workers up to `want` (under lock); returns how many there are. */
static int cs_pool_grow(int want)
{
    want = want < CS_POOL_MAX ? want : CS_POOL_MAX;
    if (cs_pool.n_workers >= want)
        return cs_pool.n_workers;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the workers inherit the mask */
    while (cs_pool.n_workers < want) {
        pthread_attr_t attr;
        pthread_t thread;
        const int id = cs_pool.n_workers;
        cs_pool_first_gen[id] = cs_pool.gen;
        if (pthread_attr_init(&attr) != 0)
            break;
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attr, cs_pool_worker, (void *)(intptr_t)id);
        pthread_attr_destroy(&attr);
        if (failed)
            break; /* fewer workers: the caller does their share */
        cs_pool.n_workers++;
        cs_teams_started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return cs_pool.n_workers;
}

/* Run the job on the caller and up to job->helpers workers. Returns 0, having run nothing,
 * when another caller holds the pool. */
static int cs_pool_run(cs_job *job)
{
    if (__atomic_exchange_n(&cs_pool.busy, 1, __ATOMIC_ACQUIRE))
        return 0;
    pthread_mutex_lock(&cs_pool_lock);
    const int workers = cs_pool_grow(job->helpers);
    job->helpers = job->helpers < workers ? job->helpers : workers;
    cs_pool.job = *job;
    cs_pool.next = 0;
    cs_pool.open = 1;
    __atomic_store_n(&cs_pool.gen, cs_pool.gen + 1, __ATOMIC_RELEASE);
    if (cs_pool.sleepers > 0)
        pthread_cond_broadcast(&cs_pool_wake);
    pthread_mutex_unlock(&cs_pool_lock);

    cs_run_chunks(job, &cs_pool.next);

    /* Every chunk is claimed: close the job, then wait for the workers inside it. */
    pthread_mutex_lock(&cs_pool_lock);
    cs_pool.open = 0;
    pthread_mutex_unlock(&cs_pool_lock);
    /* (A worker's chunks happen before its release store of joined, and each worker's
     * before the next one's under the lock: reading 0 with acquire orders them all.) */
    if (!cs_spin_for_workers()) {
        pthread_mutex_lock(&cs_pool_lock);
        cs_pool.caller_waiting = 1;
        while (cs_pool.joined > 0)
            pthread_cond_wait(&cs_pool_done, &cs_pool_lock);
        cs_pool.caller_waiting = 0;
        pthread_mutex_unlock(&cs_pool_lock);
    }
    __atomic_store_n(&cs_pool.busy, 0, __ATOMIC_RELEASE);
    return 1;
}
