/* SPDX-License-Identifier: MIT */
/*
 * arch_x86_64.h — the runtime's architecture-specific parts: thread
 * pointer bases, the rseq area, and a fork that does not run the job's
 * atfork handlers.
 */
#ifndef CAIRN_RUNTIME_ARCH_X86_64_H
#define CAIRN_RUNTIME_ARCH_X86_64_H

#include "process_format.h"

/* Fills arch, fs_base, gs_base and the rseq fields of core. */
void rt_arch_capture(struct cairn_proc_core *core);
/* A copy-on-write child whose parent is the job's parent (cairn), so the job
   sees no child and no SIGCHLD. Returns as fork(). */
long rt_arch_fork_writer(void);
/* In the writer child: stops the kernel writing into its memory (rseq). */
void rt_arch_writer_detach(const struct cairn_proc_core *core);
/* Ends the calling process at once (the writer child). */
__attribute__((noreturn)) void rt_arch_exit(int status);
/* Calls fn(arg) with the stack pointer at top (16-byte aligned, in memory
   that is not being saved); fn must not return. */
__attribute__((noreturn)) void rt_arch_call_on_stack(void *top, void (*fn)(void *), void *arg);

#endif
