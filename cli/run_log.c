/* SPDX-License-Identifier: MIT */
/*
 * run_log.c — `cairn run`'s events in the store's log (lib/events.c, the
 * same lines libcairn writes, with "source":"cairn run"). Best effort: a log
 * that cannot be written never changes what cairn run does.
 */
#include <stdio.h>

#include "run.h"

void run_log(const struct run_ctx *r, struct cairn__event e)
{
    e.source = "cairn run";
    cairn__event_write(r->store.dirfd, &e);
}

void run_log_reason(const struct run_ctx *r, const char *event, const char *reason)
{
    struct cairn__event e = CAIRN_EVENT_INIT(event, NULL);
    e.reason = reason;
    run_log(r, e);
}

void run_log_start(const struct run_ctx *r)
{
    char cmd[CAIRN_EVENT_LINE_MAX];
    run_ident_command(&r->ident, cmd, sizeof cmd);
    struct cairn__event e = CAIRN_EVENT_INIT(CAIRN_EV_START, NULL);
    e.command = cmd;
    run_log(r, e);
}

void run_log_signal(const struct run_ctx *r, int sig, const char *what)
{
    struct cairn__event e = CAIRN_EVENT_INIT(CAIRN_EV_SIGNAL, NULL);
    e.signal = sig;
    e.reason = what;
    run_log(r, e);
}
