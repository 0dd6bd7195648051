/* SPDX-License-Identifier: MIT */
/*
 * clone.h — clone3 in the restorer: the kernel's argument struct and the
 * flags of the threads it makes (threads.c: the job's threads; ahead.c:
 * its helper) and of the processes of a tree (tree.c).
 */
#ifndef CAIRN_RESTORE_CLONE_H
#define CAIRN_RESTORE_CLONE_H

#include <stdint.h>

#define CLONE_VM 0x100ull
#define CLONE_FS 0x200ull
#define CLONE_FILES 0x400ull
#define CLONE_SIGHAND 0x800ull
#define CLONE_PARENT 0x00008000ull
#define CLONE_THREAD 0x10000ull
#define CLONE_SYSVSEM 0x40000ull
#define CLONE_SETTLS 0x80000ull
#define CLONE_CHILD_CLEARTID 0x200000ull
/* What a thread shares with the rest of its process, as a pthread does. */
#define R_CLONE_THREAD_FLAGS                                                                \
    (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)

struct clone_args { /* the kernel's, up to set_tid_size (CLONE_ARGS_SIZE_VER1) */
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
    uint64_t stack, stack_size, tls, set_tid, set_tid_size;
};

/* start_x86_64.S: clone3(args, size); the child calls fn(arg) on its new
   stack and never returns. The parent gets the tid or a negative errno. */
long r_clone_thread(struct clone_args *args, uint64_t size, void (*fn)(uint64_t), uint64_t arg);

#endif
