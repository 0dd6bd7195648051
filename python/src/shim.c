/*
 * shim.c — the Python module's window into libcairn's handle. See shim.h
 * for why it exists; keep it the only file of python/ that includes a
 * private header of lib/.
 */
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "shim.h"

#include "cairn_options.h"
#include "cairn_time.h"
#include "handle.h"
#include "internal.h"

int cairn_py_step_due(const cairn_t *c, int *sig)
{
    /* The same test as cairn_step(), in the same order, for the step it
       would count. */
    *sig = cairn__sig_pending;
    return *sig != 0 || c->steps + 1 >= c->due_step ||
           (c->due_ns != UINT64_MAX && cairn__now_ns(CLOCK_MONOTONIC_COARSE) >= c->due_ns);
}

void cairn_py_count_step(cairn_t *c)
{
    c->steps++;
}

int cairn_py_verbosity(const cairn_t *c)
{
    return c->o.verbose;
}

int cairn_py_take_exit_code(cairn_t *c)
{
    int code = c->o.exit_code;
    c->o.exit_code = -1;
    return code;
}

int cairn_py_signal_status(const cairn_t *c, int sig)
{
    if (c->o.signal_exit_status >= 0)
        return c->o.signal_exit_status;
    if (sig <= 0)
        sig = c->o.exit_signals[0] > 0 ? c->o.exit_signals[0] : SIGTERM;
    return 128 + sig;
}

int cairn_py_handles_signal(const cairn_t *c, int sig)
{
    for (int i = 0; i < CAIRN_MAX_SIGNALS; i++)
        if ((c->o.exit_signals[i] > 0 && c->o.exit_signals[i] == sig) ||
            (c->o.continue_signals[i] > 0 && c->o.continue_signals[i] == sig))
            return 1;
    return 0;
}

void cairn_py_forget_signals(cairn_t *c)
{
    cairn__signals_restore(c); /* sigaction only */
    cairn__sig_pending = 0;
}

void cairn_py_log(const cairn_t *c, int level, const char *message)
{
    cairn__log(c->o.verbose, level, "%s", message);
}

int cairn_py_parse_duration(const char *s, double *seconds)
{
    return cairn__parse_duration(s, seconds);
}

int cairn_py_signal_from_name(const char *s)
{
    return cairn__signal_from_name(s);
}
