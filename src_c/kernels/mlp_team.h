/* Kernel body (see kernel.h), part of the MLP engine (mlp_kernels.h): the adaptive
 * thread team of an epoch. */

/* The team of an epoch adapts to the machine (no result depends on it): now and then one
 * batch runs with the other team size (one thread, or all n_threads), and the epoch goes on
 * with whichever processed its rows faster, by a margin (one thread must be 1/0.6 times as
 * fast to replace the team, the team 1/0.9 times). The rules (docs/performance.rst tells
 * the runs that set them):
 *   - the first probe of an engine comes after CS_TEAM_PROBE_FIRST batches; the interval then
 *     doubles up to CS_TEAM_PROBE_EVERY (CS_TEAM_PROBE_EVERY_ALONE while on one thread),
 *     starting again from the first after a switch; the interval and the team size in use
 *     are kept from epoch to epoch (cs_mlp.team_interval, cs_mlp.team_one);
 *   - a probe of the full team first runs CS_TEAM_PROBE_WARM batch(es) that are not judged
 *     (the sleeping threads wake and fill their caches), then is judged on
 *     CS_TEAM_PROBE_JUDGED batches together; it stops, lost, at the first batch more than
 *     CS_TEAM_PROBE_ABORT times as slow a row as one thread's;
 *   - a probe of one thread is one batch, judged alone. */
#define CS_TEAM_PROBE_FIRST 4
#define CS_TEAM_PROBE_EVERY 32
#define CS_TEAM_PROBE_EVERY_ALONE 64
#define CS_TEAM_PROBE_WARM 1
#define CS_TEAM_PROBE_JUDGED 4
#define CS_TEAM_PROBE_ABORT 2.0

typedef struct {
    int full, cur;  /* n_threads, and the team size in use */
    double seconds; /* time and rows of the batches at cur since the last probe */
    ptrdiff_t rows;
    ptrdiff_t next_probe, interval; /* the batch of the next probe, and the one after */
    int probe_left, probe_warm; /* batches of the probe in progress still to run, and of
                                   those, warm-up batches not judged */
    double probe_seconds;       /* time and rows of its judged batches so far */
    ptrdiff_t probe_rows;
} team_state;

/* The team size of the next batch (starting or continuing a probe when one is due). */
static int team_next(team_state *t, ptrdiff_t batch)
{
    const int other = t->cur == t->full ? 1 : t->full;
    if (t->probe_left > 0)
        return other;
    if (t->full > 1 && batch >= t->next_probe && t->rows > 0) {
        const int team = other == t->full;
        t->probe_warm = team ? CS_TEAM_PROBE_WARM : 0;
        t->probe_left = t->probe_warm + (team ? CS_TEAM_PROBE_JUDGED : 1);
        t->probe_seconds = 0.0;
        t->probe_rows = 0;
        return other;
    }
    return t->cur;
}

static void team_record(team_state *t, int used, double seconds, ptrdiff_t rows,
                        ptrdiff_t batch)
{
    if (used == t->cur) {
        t->seconds += seconds;
        t->rows += rows;
        return;
    }
    t->probe_left--;
    const double cur_rate = t->seconds / (double)t->rows;
    int won = 0;
    if (used == t->full && seconds / (double)rows > CS_TEAM_PROBE_ABORT * cur_rate) {
        t->probe_left = 0; /* a team batch this slow: the machine is busy, the probe is lost */
    } else if (t->probe_warm > 0) { /* a warm-up batch of a team probe: not judged */
        t->probe_warm--;
        return;
    } else {
        t->probe_seconds += seconds;
        t->probe_rows += rows;
        if (t->probe_left > 0)
            return;
        /* Leaving the full team takes a clear win (a noisy batch must not make a quiet
         * machine lose its threads); going back to it, any real one. */
        const double margin = used == 1 ? 0.6 : 0.9;
        won = t->probe_seconds / (double)t->probe_rows < margin * cur_rate;
    }
    if (won) {
        t->cur = used;
        t->interval = CS_TEAM_PROBE_FIRST;
    } else {
        const ptrdiff_t cap = t->cur == 1 ? CS_TEAM_PROBE_EVERY_ALONE : CS_TEAM_PROBE_EVERY;
        t->interval = 2 * t->interval < cap ? 2 * t->interval : cap;
    }
    t->next_probe = batch + t->interval;
    t->seconds = 0.0;
    t->rows = 0;
}
