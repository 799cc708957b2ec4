/* csoftmax: a flag that SIGINT (Ctrl-C) sets while a long computation runs, so that the
 * computation stops at a point where its state is whole (an MLP epoch between two batches,
 * cs_mlp_progress) and the caller then raises KeyboardInterrupt.
 *
 * cs_sigint_catch installs a handler that only sets the flag, keeping the handler it
 * replaces (Python's); cs_sigint_release puts that one back. Python runs its signal
 * handlers in the main thread only, and only there may the handler be changed: the Cython
 * layer calls these from the main thread only, so a computation in another thread never
 * stops early and Ctrl-C reaches the main thread as usual. Catching does not nest.
 * POSIX (sigaction) only: elsewhere nothing is installed.
 */
#ifndef CS_INTERRUPT_H
#define CS_INTERRUPT_H

#include <signal.h>

/* Install the flag-setting handler, with the flag cleared: 1 when installed, 0 when not
 * (already installed; SIGINT ignored or left to its default action, which stays so; or no
 * sigaction on this platform). */
int cs_sigint_catch(void);

/* Put back the handler cs_sigint_catch replaced (nothing when it installed none); returns
 * whether SIGINT arrived meanwhile. */
int cs_sigint_release(void);

/* The flag: nonzero once SIGINT arrived while the handler was installed. */
const volatile sig_atomic_t *cs_sigint_flag(void);

#endif
