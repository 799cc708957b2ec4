/* csoftmax: the SIGINT flag of long computations (see cs_interrupt.h). */
#if !defined(_XOPEN_SOURCE) && (defined(__unix__) || defined(__APPLE__))
#define _XOPEN_SOURCE 700 /* sigaction and SA_RESTART under -std=c99 */
#endif
#include "cs_interrupt.h"

static volatile sig_atomic_t sigint_flag = 0;

const volatile sig_atomic_t *cs_sigint_flag(void) { return &sigint_flag; }

#if defined(__unix__) || defined(__APPLE__)
#include <string.h>

static struct sigaction saved;
static int installed = 0;

static void on_sigint(int signum)
{
    (void)signum;
    sigint_flag = 1;
}

int cs_sigint_catch(void)
{
    struct sigaction act;
    if (installed)
        return 0;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_sigint;
    act.sa_flags = SA_RESTART;
    sigemptyset(&act.sa_mask);
    sigint_flag = 0;
    if (sigaction(SIGINT, &act, &saved) != 0)
        return 0;
    if (!(saved.sa_flags & SA_SIGINFO) &&
        (saved.sa_handler == SIG_IGN || saved.sa_handler == SIG_DFL)) {
        sigaction(SIGINT, &saved, NULL); /* Ctrl-C ignored, or ending the process: kept */
        return 0;
    }
    installed = 1;
    return 1;
}

int cs_sigint_release(void)
{
    if (installed) {
        sigaction(SIGINT, &saved, NULL);
        installed = 0;
    }
    return sigint_flag != 0;
}

#else /* no sigaction: computations run to their end */

int cs_sigint_catch(void) { return 0; }

int cs_sigint_release(void) { return sigint_flag != 0; }

#endif
