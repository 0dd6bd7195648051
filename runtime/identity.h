/* SPDX-License-Identifier: MIT */
/*
 * identity.h — the job's pid, parent, executable and pending signals
 * (identity.c), recorded by the checkpoint handler and written by the
 * writer child as the CAIRN_SEC_PROC_TASK and CAIRN_SEC_PROC_SIGQ sections.
 */
#ifndef CAIRN_RUNTIME_IDENTITY_H
#define CAIRN_RUNTIME_IDENTITY_H

#include "capture.h"
#include "cairn_writer.h"

/* In the handler: records the task and dequeues then requeues the pending
   signals. 0, or -1 with st->why set (too many pending signals). */
int rt_ident_capture(struct rt_state *st);

/* In the writer: the task section, and the pending signals if any. */
int rt_ident_write(struct cairn__writer *w);

/* In a parked thread's handler: its own pending signals into st->tsig. */
int rt_ident_thread_pending(struct rt_state *st);

/* In the writer: the threads and their signals (jobs with > 1 thread). */
int rt_ident_write_threads(struct cairn__writer *w, const struct rt_state *st);

/* The value of a "Name:\tHEX" line of a /proc status file (0 if absent). */
uint64_t rt_status_mask(const char *text, const char *name);

#endif
