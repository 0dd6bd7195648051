/* SPDX-License-Identifier: MIT */
/*
 * eintr.c — a checkpoint does not make the job's waits fail with EINTR.
 *
 * The checkpoint runs in a signal handler, and whenever a handler runs the
 * kernel ends poll, select, epoll_wait and the sleeps with EINTR, whatever
 * SA_RESTART says (docs/TRANSPARENT.md). A job that treats EINTR as an
 * error (issue 11's poll loop) would fail because it was checkpointed. So
 * the runtime interposes these calls and repeats one, with the time it had
 * left, when it was ended by cairn's own handler and by nothing else:
 *
 *  - cairn's handlers (checkpoint, park) note, per thread, that they
 *    interrupted a system call directly: the saved context is just after a
 *    `syscall` instruction with -EINTR in rax. Had one of the job's
 *    handlers been set up before ours, the context would be that handler's
 *    entry, and the EINTR is the job's;
 *  - a signal of the job's still pending when our handler ends would run
 *    right after it, and its EINTR is the job's too: no note then.
 *
 * What is not covered: a job handler for a signal above cairn's (64 only)
 * set up in the same instant; calls made with syscall() or inside libc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "eintr.h"

#define EXPORT __attribute__((visibility("default")))

/* Per thread, how many waits cairn's handlers ended. A counter, not a
   flag: the runtime's own calls to these functions (inside the handler)
   must not clear what the handler noted. */
static __thread volatile unsigned interrupts __attribute__((tls_model("initial-exec")));

void rt_eintr_note(void *uc)
{
    const ucontext_t *u = uc;
    const unsigned char *rip = (const unsigned char *)u->uc_mcontext.gregs[REG_RIP];
    if (u->uc_mcontext.gregs[REG_RAX] != -EINTR || rip[-2] != 0x0f || rip[-1] != 0x05)
        return;
    uint64_t pending = 0, caught = 0;
    if (syscall(SYS_rt_sigpending, &pending, 8) == 0 && pending) {
        /* Any pending signal the job may handle: its EINTR, not ours. */
        for (int s = 1; s <= 64 && !caught; s++)
            if (pending & (1ull << (s - 1))) {
                struct sigaction a;
                caught = syscall(SYS_rt_sigaction, s, NULL, &a, 8) == 0 &&
                         a.sa_handler != SIG_DFL && a.sa_handler != SIG_IGN;
            }
        if (caught)
            return;
    }
    interrupts++;
}

/* 1 if the call that just failed with EINTR was ended by a checkpoint. */
static int ours(int rc, unsigned before)
{
    return rc < 0 && errno == EINTR && interrupts != before;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A timeout in ms (-1: none) less the time since t0; 0 once it ran out. */
static int left_ms(int timeout, int64_t t0)
{
    if (timeout < 0)
        return timeout;
    int64_t left = timeout - (now_ms() - t0);
    return left > 0 ? (int)left : 0;
}

#define REAL(name) \
    static __typeof(name) *real_##name; \
    if (!real_##name) \
        real_##name = (__typeof(name) *)dlsym(RTLD_NEXT, #name)

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    REAL(poll);
    int64_t t0 = now_ms();
    int rc, t = timeout;
    unsigned before;
    do {
        before = interrupts;
        rc = real_poll(fds, n, t);
    } while (ours(rc, before) && ((t = left_ms(timeout, t0)) != 0 || timeout < 0));
    return rc < 0 && errno == EINTR && t == 0 && timeout > 0 ? 0 : rc;
}

EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
    REAL(epoll_wait);
    int64_t t0 = now_ms();
    int rc, t = timeout;
    unsigned before;
    do {
        before = interrupts;
        rc = real_epoll_wait(epfd, ev, max, t);
    } while (ours(rc, before) && ((t = left_ms(timeout, t0)) != 0 || timeout < 0));
    return rc < 0 && errno == EINTR && t == 0 && timeout > 0 ? 0 : rc;
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
                       const sigset_t *mask)
{
    REAL(epoll_pwait);
    int64_t t0 = now_ms();
    int rc, t = timeout;
    unsigned before;
    do {
        before = interrupts;
        rc = real_epoll_pwait(epfd, ev, max, t, mask);
    } while (ours(rc, before) && ((t = left_ms(timeout, t0)) != 0 || timeout < 0));
    return rc < 0 && errno == EINTR && t == 0 && timeout > 0 ? 0 : rc;
}

/* select() leaves the time left in *tv (Linux), so a repeat just goes on. */
EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    REAL(select);
    fd_set r0, w0, e0; /* an interrupted select clears nothing, but be exact */
    if (r)
        r0 = *r;
    if (w)
        w0 = *w;
    if (e)
        e0 = *e;
    int rc;
    for (;;) {
        unsigned before = interrupts;
        rc = real_select(n, r, w, e, tv);
        if (!ours(rc, before))
            return rc;
        if (r)
            *r = r0;
        if (w)
            *w = w0;
        if (e)
            *e = e0;
    }
}

/* A relative sleep leaves the time left in *rem: the repeat sleeps that. */
EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
    REAL(nanosleep);
    struct timespec want = *req, left;
    int rc;
    for (;;) {
        unsigned before = interrupts;
        rc = real_nanosleep(&want, &left);
        if (!ours(rc, before))
            break;
        want = left;
    }
    if (rc < 0 && rem)
        *rem = left;
    return rc;
}

EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                           struct timespec *rem)
{
    REAL(clock_nanosleep);
    struct timespec want = *req, left = {0, 0};
    int rc;
    for (;;) {
        unsigned before = interrupts;
        rc = real_clock_nanosleep(clock, flags, &want, &left);
        if (rc != EINTR || interrupts == before) /* it returns the error, not -1 */
            break;
        if (!(flags & TIMER_ABSTIME))
            want = left;
    }
    if (rc == EINTR && rem && !(flags & TIMER_ABSTIME))
        *rem = left;
    return rc;
}
