/* SPDX-License-Identifier: MIT */
/*
 * sigmask.c — the job may not block cairn's two signals.
 *
 * A thread that blocks CAIRN_CKPT_SIGNAL or CAIRN_PARK_SIGNAL can never be
 * parked, and a job with such a thread could never be checkpointed: Octave
 * starts a signal-watcher thread that blocks every signal, the JVM and
 * many libraries block "all" signals in their helper threads. As glibc
 * does for its own two internal signals, sigprocmask() and
 * pthread_sigmask() are interposed and leave cairn's signals out of a set
 * to be blocked; the old mask is reported as the kernel has it. Handlers
 * installed with a full sa_mask are treated the same (signals.c).
 *
 * Not covered: raw rt_sigprocmask system calls and glibc's internal ones
 * (pthread_create's short window, the SIGEV_THREAD helper thread). A thread
 * that keeps the signal blocked makes the checkpoint refused, naming it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "control.h"
#include "signals.h"

#define EXPORT __attribute__((visibility("default")))

typedef int mask_fn(int, const sigset_t *, sigset_t *);
static mask_fn *real_sigprocmask, *real_pthread_sigmask;

int rt_sigmask_raw(int how, const uint64_t *set, uint64_t *old)
{
    return (int)syscall(SYS_rt_sigprocmask, how, set, old, 8);
}

void rt_sigmask_unblockable(sigset_t *set)
{
    sigdelset(set, CAIRN_CKPT_SIGNAL);
    sigdelset(set, CAIRN_PARK_SIGNAL);
}

static const sigset_t *allowed(int how, const sigset_t *set, sigset_t *copy)
{
    if (!set || how == SIG_UNBLOCK)
        return set;
    *copy = *set;
    rt_sigmask_unblockable(copy);
    return copy;
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    if (!real_sigprocmask)
        real_sigprocmask = (mask_fn *)dlsym(RTLD_NEXT, "sigprocmask");
    if (!real_sigprocmask) {
        errno = ENOSYS;
        return -1;
    }
    sigset_t copy;
    return real_sigprocmask(how, allowed(how, set, &copy), old);
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    if (!real_pthread_sigmask)
        real_pthread_sigmask = (mask_fn *)dlsym(RTLD_NEXT, "pthread_sigmask");
    if (!real_pthread_sigmask)
        return ENOSYS;
    sigset_t copy;
    return real_pthread_sigmask(how, allowed(how, set, &copy), old);
}
