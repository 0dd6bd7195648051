/* SPDX-License-Identifier: MIT */
/*
 * arch_x86_64.c — x86_64 parts of the runtime (see arch_x86_64.h).
 *
 * The register file itself needs no code here: the kernel saved it, with the
 * whole xsave area, in the signal frame on the runtime's alternate stack,
 * and that frame is part of the memory image. The restorer resumes the job
 * by rt_sigreturn on that very frame.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <dlfcn.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch_x86_64.h"

/* glibc's rseq registration: the kernel records 32 bytes (not __rseq_size)
   with this signature (DESIGN.md section 4). */
#define RSEQ_LEN_REGISTERED 32u
#define RSEQ_SIG_GLIBC 0x53053053u

/* glibc 2.35's __rseq_offset and __rseq_size, looked up at run time so that
   the runtime loads on older glibc (2.28 and later), which registers no
   rseq area: none is recorded then. */
static long rseq_offset;
static unsigned rseq_size;

void rt_arch_init(void)
{
    const ptrdiff_t *off = dlsym(RTLD_DEFAULT, "__rseq_offset");
    const unsigned *size = dlsym(RTLD_DEFAULT, "__rseq_size");
    if (off && size) {
        rseq_offset = (long)*off;
        rseq_size = *size;
    }
}

void rt_arch_thread(struct cairn_proc_thread *t)
{
    unsigned long fs = 0, gs = 0;
    syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
    syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
    t->fs_base = fs;
    t->gs_base = gs;
    if (rseq_size > 0) {
        t->rseq_addr = fs + (uint64_t)rseq_offset;
        t->rseq_len = RSEQ_LEN_REGISTERED;
        t->rseq_sig = RSEQ_SIG_GLIBC;
    }
}

void rt_arch_capture(struct cairn_proc_core *core)
{
    struct cairn_proc_thread t = {0};
    rt_arch_thread(&t);
    core->arch = CAIRN_PROC_ARCH_X86_64;
    core->fs_base = t.fs_base;
    core->gs_base = t.gs_base;
    core->rseq_addr = t.rseq_addr;
    core->rseq_len = t.rseq_len;
    core->rseq_sig = t.rseq_sig;
}

void rt_arch_writer_detach(const struct cairn_proc_core *core)
{
    /* The kernel keeps writing the cpu number into a registered rseq area;
       in the writer that would change memory while it is hashed. */
    if (core->rseq_addr)
        syscall(SYS_rseq, (void *)core->rseq_addr, (unsigned)core->rseq_len,
                1 /* RSEQ_FLAG_UNREGISTER */, (unsigned)core->rseq_sig);
}

/* glibc's tcbhead_t: the words libc's code reads through %fs. */
#define TCB_SELF_TCB 0      /* void *tcb */
#define TCB_SELF 16         /* void *self: THREAD_SELF */
#define TCB_MULTIPLE_THREADS 24

void rt_arch_writer_tls(uint64_t fs, uint64_t lo, uint64_t hi, unsigned char *buf)
{
    memcpy(buf, (const void *)lo, hi - lo);
    unsigned char *tp = buf + (fs - lo);
    uint64_t self = (uint64_t)(uintptr_t)tp;
    memcpy(tp + TCB_SELF_TCB, &self, sizeof self);
    memcpy(tp + TCB_SELF, &self, sizeof self);
    int single = 0; /* no cancellation bookkeeping around system calls */
    memcpy(tp + TCB_MULTIPLE_THREADS, &single, sizeof single);
    syscall(SYS_arch_prctl, ARCH_SET_FS, self);
}

long rt_arch_futex_raw(uint32_t *word, int op, uint32_t val)
{
    long ret;
    register long r10 __asm__("r10") = 0;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"((long)SYS_futex), "D"(word), "S"((long)op), "d"((long)val), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

void rt_arch_exit(int status)
{
    for (;;)
        syscall(SYS_exit_group, status);
}

void rt_arch_call_on_stack(void *top, void (*fn)(void *), void *arg)
{
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "call *%1\n\t"
                     "ud2"
                     :
                     : "r"(top), "r"(fn), "D"(arg)
                     : "memory");
    __builtin_unreachable();
}
