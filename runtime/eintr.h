/* SPDX-License-Identifier: MIT */
/*
 * eintr.h — waits a checkpoint does not end (eintr.c).
 */
#ifndef CAIRN_RUNTIME_EINTR_H
#define CAIRN_RUNTIME_EINTR_H

/* In cairn's handlers, with their ucontext, before the thread's memory
   is taken: notes that the handler ended a system call of this thread. */
void rt_eintr_note(void *uc);

/* In a handler of the job's (handlers.c): it ran on this thread, so a
   wait it ended is not repeated. */
void rt_eintr_job_handler_ran(void);

#endif
