/* SPDX-License-Identifier: MIT */
/*
 * threads.h — stopping every thread of the job for a checkpoint, and
 * recording each one's state (threads.c).
 */
#ifndef CAIRN_RUNTIME_THREADS_H
#define CAIRN_RUNTIME_THREADS_H

#include "capture.h"

/* In the constructor: installs the park handler. 0 or -1. */
int rt_threads_init(void);

/*
 * In the main thread's checkpoint handler (all signals blocked): parks
 * every other thread in its handler and fills st->threads (main first),
 * st->core.nthreads and the other threads' pending signals. uc is the main
 * thread's ucontext. Returns 0 with all of them parked, or -1 with st->why
 * naming the thread that did not stop (none is left parked then).
 */
int rt_threads_stop(struct rt_state *st, void *uc);

/* Lets every parked thread go on (after the writer is forked, or after a
   refusal). Safe to call when none is parked. */
void rt_threads_release(void);

#endif
