/* SPDX-License-Identifier: MIT */
/*
 * arch_x86_64.h — the runtime's architecture-specific parts: thread
 * pointer bases, the rseq area, and a fork that does not run the job's
 * atfork handlers.
 */
#ifndef CAIRN_RUNTIME_ARCH_X86_64_H
#define CAIRN_RUNTIME_ARCH_X86_64_H

#include <stdint.h>

#include "process_format.h"

/* In the constructor: finds glibc's rseq registration, if any. */
void rt_arch_init(void);
/* Fills arch, fs_base, gs_base and the rseq fields of core. */
void rt_arch_capture(struct cairn_proc_core *core);
/* The same of the calling thread, into its thread record. */
void rt_arch_thread(struct cairn_proc_thread *t);
/* In the writer child: stops the kernel writing into its memory (rseq). */
void rt_arch_writer_detach(const struct cairn_proc_core *core);
/*
 * In the writer child, before it calls into libc: the thread pointer moves
 * to a private copy (at buf) of the main thread's TLS and TCB [lo, hi),
 * which hold fs. libc writes there (errno; in a multi-threaded process the
 * cancellation state around every write, which the hash and the written
 * bytes would see differently), and [lo, hi) is memory being saved.
 */
void rt_arch_writer_tls(uint64_t fs, uint64_t lo, uint64_t hi, unsigned char *buf);
/* futex(2) without errno (a parked thread's errno is part of the image). */
long rt_arch_futex_raw(uint32_t *word, int op, uint32_t val);
/* Ends the calling process at once (the writer child). */
__attribute__((noreturn)) void rt_arch_exit(int status);
/* Calls fn(arg) with the stack pointer at top (16-byte aligned, in memory
   that is not being saved); fn must not return. */
__attribute__((noreturn)) void rt_arch_call_on_stack(void *top, void (*fn)(void *), void *arg);

#endif
