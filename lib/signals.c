/* SPDX-License-Identifier: MIT */
/*
 * signals.c — checkpoint signals. The handler only records the request;
 * the checkpoint itself happens in the next cairn_step(), where the
 * program's state is consistent and any function may be called.
 */
#include <signal.h>
#include <string.h>

#include "handle.h"

volatile sig_atomic_t cairn__sig_pending;
static volatile sig_atomic_t continue_signo; /* the last continue signal */

static void on_exit_signal(int signo)
{
    cairn__sig_pending = signo; /* an exit request wins over a continue one */
}

static void on_continue_signal(int signo)
{
    continue_signo = signo;
    if (cairn__sig_pending == 0)
        cairn__sig_pending = -1;
}

static int install(cairn_t *c, int signo, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART; /* the program's system calls carry on */
    sigemptyset(&sa.sa_mask);
    if (sigaction(signo, &sa, &c->saved[c->nsaved]) < 0)
        return -1;
    c->saved_signo[c->nsaved++] = signo;
    return 0;
}

int cairn__signals_install(cairn_t *c)
{
    for (int i = 0; i < CAIRN_MAX_SIGNALS && c->o.exit_signals[i] > 0; i++)
        if (install(c, c->o.exit_signals[i], on_exit_signal) < 0)
            return CAIRN_EINVAL;
    for (int i = 0; i < CAIRN_MAX_SIGNALS && c->o.continue_signals[i] > 0; i++)
        if (install(c, c->o.continue_signals[i], on_continue_signal) < 0)
            return CAIRN_EINVAL;
    return 0;
}

void cairn__signals_restore(cairn_t *c)
{
    while (c->nsaved > 0) {
        c->nsaved--;
        sigaction(c->saved_signo[c->nsaved], &c->saved[c->nsaved], NULL);
    }
}

int cairn__signals_take(void)
{
    /* An atomic exchange, so an exit signal landing now is never lost. */
    return __atomic_exchange_n(&cairn__sig_pending, 0, __ATOMIC_SEQ_CST);
}

int cairn__signals_continue_signo(void)
{
    return continue_signo;
}
