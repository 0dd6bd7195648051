/* SPDX-License-Identifier: MIT */
/*
 * handlers.h — the job's signal handlers, counted as they run (handlers.c).
 */
#ifndef CAIRN_RUNTIME_HANDLERS_H
#define CAIRN_RUNTIME_HANDLERS_H

#include <signal.h>

/* k is what the kernel is to be given for the job's action act on sig (a
   copy of it, its mask already adjusted): if act is a handler, k's becomes
   the counting trampoline, and act is recorded as the one it calls. */
void rt_handler_counted(int sig, const struct sigaction *act, struct sigaction *k);

/* The job's action recorded for sig (what the trampoline calls). */
struct sigaction rt_handler_recorded(int sig);

/* An action the kernel reported: the trampoline is replaced by `job`, the
   job's action recorded when it was set. */
void rt_handler_report(struct sigaction *oact, const struct sigaction *job);

#endif
