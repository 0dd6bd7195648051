/* SPDX-License-Identifier: MIT */
/*
 * exec.c — an exec never lets the checkpoint signal kill the job.
 *
 * A process of the job keeps its control channel across exec (a wrapper
 * script exec'ing the real program, a forked shell exec'ing a command).
 * Between the exec and the new program's constructor (runtime.c) there is
 * no handler for CAIRN_CKPT_SIGNAL, and the default action of a real-time
 * signal is to terminate: a checkpoint asked for in that instant would
 * kill the process. So every exec blocks the signal first. The signal mask
 * survives exec, a request arriving meanwhile stays pending, and the new
 * program's runtime unblocks it once its handler is in place (and handles
 * the pending request then). If the exec fails, the mask is put back and
 * a request that arrived is handled at once.
 *
 * A program without the runtime (a static binary, a cleared environment)
 * inherits the signal blocked; cairn refuses to checkpoint it anyway
 * (cli/run_tree.c) and never needs to signal it.
 *
 * glibc's exec functions call each other internally, not through the PLT,
 * so each one the job may call is interposed here.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <unistd.h>

#include "control.h"
#include "signals.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_EXECL_ARGS 4096

static void block_checkpoint(uint64_t *old)
{
    uint64_t ckpt = 1ull << (CAIRN_CKPT_SIGNAL - 1);
    rt_sigmask_raw(SIG_BLOCK, &ckpt, old);
}

/* After a failed exec: the mask as it was, errno as the exec left it. */
static int exec_failed(const uint64_t *old)
{
    int e = errno;
    rt_sigmask_raw(SIG_SETMASK, old, NULL);
    errno = e;
    return -1;
}

/* An exec function of glibc's, called with the checkpoint signal blocked;
   it returns only if the exec failed. */
#define EXEC_WRAPPER(name, params, args) \
    EXPORT int name params \
    { \
        static __typeof(name) *real; \
        if (!real) \
            real = (__typeof(name) *)dlsym(RTLD_NEXT, #name); \
        uint64_t old; \
        block_checkpoint(&old); \
        real args; \
        return exec_failed(&old); \
    }

EXEC_WRAPPER(execve, (const char *path, char *const argv[], char *const envp[]),
             (path, argv, envp))
EXEC_WRAPPER(fexecve, (int fd, char *const argv[], char *const envp[]), (fd, argv, envp))
EXEC_WRAPPER(execv, (const char *path, char *const argv[]), (path, argv))
EXEC_WRAPPER(execvp, (const char *file, char *const argv[]), (file, argv))
EXEC_WRAPPER(execvpe, (const char *file, char *const argv[], char *const envp[]),
             (file, argv, envp))

/* The execl family: the arguments into an array on the stack (up to the
   terminating NULL; envp after it for execle), then the execv form. */
static int gather(const char *arg0, va_list ap, char **argv)
{
    int n = 0;
    argv[n++] = (char *)arg0;
    while (argv[n - 1]) {
        if (n == MAX_EXECL_ARGS) {
            errno = E2BIG;
            return -1;
        }
        argv[n++] = va_arg(ap, char *);
    }
    return n;
}

EXPORT int execl(const char *path, const char *arg, ...)
{
    char *argv[MAX_EXECL_ARGS];
    va_list ap;
    va_start(ap, arg);
    int n = gather(arg, ap, argv);
    va_end(ap);
    return n < 0 ? -1 : execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
    char *argv[MAX_EXECL_ARGS];
    va_list ap;
    va_start(ap, arg);
    int n = gather(arg, ap, argv);
    va_end(ap);
    return n < 0 ? -1 : execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
    char *argv[MAX_EXECL_ARGS];
    va_list ap;
    va_start(ap, arg);
    int n = gather(arg, ap, argv);
    char *const *envp = n < 0 ? NULL : va_arg(ap, char *const *);
    va_end(ap);
    return n < 0 ? -1 : execve(path, argv, envp);
}
