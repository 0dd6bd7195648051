/* SPDX-License-Identifier: MIT */
/*
 * signals.h — the job's termination signals, virtualised (signals.c).
 *
 * SIGTERM and SIGINT mean "checkpoint now, then stop" under `cairn run`,
 * whoever receives them: a scheduler signals every process of the job, not
 * only cairn. While the job leaves such a signal at its default action, the
 * kernel runs the runtime's handler, which tells cairn ("TERM <signo>",
 * control.h) instead of letting the job die; the job's own calls to
 * sigaction()/signal()/... are recorded and answered from that record.
 */
#ifndef CAIRN_RUNTIME_SIGNALS_H
#define CAIRN_RUNTIME_SIGNALS_H

#include <signal.h>
#include <stdint.h>

/* In the constructor, once the control channel is known: takes over the
   termination signals if this process is the job itself (not a process the
   job started). Returns 0, or -1 if it left them alone. */
int rt_signals_init(int control_fd, int in_tree);

/* In the checkpoint handler (all signals blocked), before the capture: a
   termination signal pending at its default action is taken off the queue
   and reported to cairn now, so it is not saved in the image (a restored
   job would otherwise stop again at once). */
void rt_signals_before_capture(void);

/* sigmask.c: the runtime's own mask changes, not filtered (64-bit sets). */
int rt_sigmask_raw(int how, const uint64_t *set, uint64_t *old);
/* Takes cairn's two signals out of a set the job wants blocked. */
void rt_sigmask_unblockable(sigset_t *set);

#endif
