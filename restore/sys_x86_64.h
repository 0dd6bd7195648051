/* SPDX-License-Identifier: MIT */
/*
 * sys_x86_64.h — raw Linux system calls for the freestanding restorer.
 * Returns are the kernel's: a negative errno on failure.
 */
#ifndef CAIRN_RESTORE_SYS_X86_64_H
#define CAIRN_RESTORE_SYS_X86_64_H

#include <stdint.h>

#define NR_read 0
#define NR_write 1
#define NR_open 2
#define NR_close 3
#define NR_fstat 5
#define NR_lseek 8
#define NR_mmap 9
#define NR_mprotect 10
#define NR_munmap 11
#define NR_rt_sigaction 13
#define NR_rt_sigprocmask 14
#define NR_pread64 17
#define NR_access 21
#define NR_mremap 25
#define NR_dup2 33
#define NR_setitimer 38
#define NR_getpid 39
#define NR_exit 60
#define NR_fcntl 72
#define NR_ftruncate 77
#define NR_getcwd 79
#define NR_chdir 80
#define NR_umask 95
#define NR_prctl 157
#define NR_arch_prctl 158
#define NR_exit_group 231
#define NR_prlimit64 302
#define NR_rseq 334
#define NR_close_range 436

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define sys0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(n, a, b, c, d, e) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* Resumes the job: the stack pointer goes to its signal frame's ucontext
   and rt_sigreturn restores every register, the FPU/xsave state included. */
__attribute__((noreturn)) void restore_sigreturn(uint64_t uc);

#define ARCH_SET_FS 0x1002
#define ARCH_SET_GS 0x1001

#endif
