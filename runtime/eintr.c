/* SPDX-License-Identifier: MIT */
/*
 * eintr.c — a checkpoint does not make the job's waits fail with EINTR.
 *
 * The checkpoint runs in a signal handler, and whenever a handler runs the
 * kernel ends poll, select, epoll_wait, the sleeps, the signal waits, SysV
 * IPC waits and futex waits with a timeout (sem_timedwait) with EINTR,
 * whatever SA_RESTART says (docs/TRANSPARENT.md). A job that treats EINTR
 * as an error (issue 11's poll loop) would fail because it was
 * checkpointed. So the runtime interposes these calls and repeats one,
 * with the time it had left, when it was ended by cairn's own handler and
 * by nothing else:
 *
 *  - cairn's handlers (checkpoint, park) note, per thread, that they
 *    interrupted a system call directly: the saved context is just after a
 *    `syscall` instruction with -EINTR in rax. Had one of the job's
 *    handlers been set up before ours, the context would be that handler's
 *    entry, and the EINTR is the job's;
 *  - a signal of the job's still pending when our handler ends, and not
 *    blocked by the mask it returns to, runs right after it, and its EINTR
 *    is the job's too: no note then. (One that mask blocks, say the
 *    signal a sigsuspend waits for, is delivered by the repeated call.)
 *
 * Calls that SA_RESTART restarts (read, write, wait4, flock, F_SETLKW,
 * futex waits without a timeout: sem_wait, pthread_cond_wait) need
 * nothing; cairn's handlers have SA_RESTART.
 *
 * What is not covered: a job handler for a signal above cairn's (64 only)
 * set up in the same instant; calls made with syscall() or inside libc;
 * socket calls with SO_RCVTIMEO/SO_SNDTIMEO (a job with a socket is not
 * signalled: cairn run refuses it from /proc first).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "eintr.h"
#include "ipc.h"
#include "signals.h"

#define EXPORT __attribute__((visibility("default")))

/* Per thread, how many waits cairn's handlers ended. A counter, not a
   flag: the runtime's own calls to these functions (inside the handler)
   must not clear what the handler noted. */
static __thread volatile unsigned interrupts __attribute__((tls_model("initial-exec")));
/* Per thread, how many handlers of the job's ran (handlers.c). */
static __thread volatile unsigned job_handlers __attribute__((tls_model("initial-exec")));

void rt_eintr_job_handler_ran(void)
{
    job_handlers++;
}

void rt_eintr_note(void *uc)
{
    const ucontext_t *u = uc;
    const unsigned char *rip = (const unsigned char *)u->uc_mcontext.gregs[REG_RIP];
    if (u->uc_mcontext.gregs[REG_RAX] != -EINTR || rip[-2] != 0x0f || rip[-1] != 0x05)
        return;
    uint64_t pending = 0, caught = 0, after;
    /* The mask in force once the handler returns (for sigsuspend, ppoll,
       pselect and epoll_pwait: the one from before the call): a signal it
       blocks does not run then, and ends nothing. */
    memcpy(&after, &u->uc_sigmask, sizeof after);
    if (syscall(SYS_rt_sigpending, &pending, 8) == 0 && (pending &= ~after)) {
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

/* ---- the one retry loop ------------------------------------------------- */

#define NO_TIMEOUT (-1)

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* One attempt at a wait, given the time left (ns, NO_TIMEOUT: none); -1
   with errno on failure, as the call it stands for. */
typedef long attempt_fn(void *call, int64_t left);

/* Calls attempt until it ends other than by cairn's handler with EINTR,
   each time with what is left of `timeout` ns (NO_TIMEOUT: none; an
   absolute deadline is the call's own business). Once the time ran out
   it tries once more with 0 left, so that the result is what the call
   gives at its timeout (0 fds, EAGAIN, ...), readiness included. */
static long repeat(attempt_fn *attempt, void *call, int64_t timeout)
{
    int64_t end = timeout > 0 ? now_ns() + timeout : 0, left = timeout;
    for (;;) {
        unsigned before = interrupts, ran = job_handlers;
        long rc = attempt(call, left);
        /* A handler of the job's ran: the EINTR is the job's, even if
           cairn's handler noted one too (handlers.c says when). */
        if (rc != -1 || errno != EINTR || interrupts == before || job_handlers != ran)
            return rc;
        if (timeout > 0 && (left = end - now_ns()) < 0)
            left = 0;
    }
}

/* A timespec timeout in ns; NO_TIMEOUT for none, and for one the kernel
   refuses (EINVAL), which the attempts then pass on as given (`raw`). */
static int64_t ts_ns(const struct timespec *t)
{
    if (!t || t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1000000000)
        return NO_TIMEOUT;
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static struct timespec ns_ts(int64_t ns)
{
    return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

/* poll-style timeouts in ms (negative: none), rounded up when converted
   back so that a wait never ends before its time. */
static int64_t ms_ns(int ms)
{
    return ms < 0 ? NO_TIMEOUT : (int64_t)ms * 1000000;
}

static int ns_ms(int64_t ns)
{
    return ns < 0 ? -1 : (int)((ns + 999999) / 1000000);
}

#define REAL(name) \
    static __typeof(name) *real_##name; \
    if (!real_##name) \
        real_##name = (__typeof(name) *)dlsym(RTLD_NEXT, #name)

/* A function the running glibc lacks (epoll_pwait2 before 2.35, ...). */
#define REAL_OR_ENOSYS(name) \
    REAL(name); \
    if (!real_##name) { \
        errno = ENOSYS; \
        return -1; \
    }

/* A wait's temporary signal mask, as sigprocmask's (sigmask.c): never
   blocking cairn's two signals. */
static const sigset_t *job_mask(const sigset_t *mask, sigset_t *copy)
{
    if (!mask)
        return NULL;
    *copy = *mask;
    rt_sigmask_unblockable(copy);
    return copy;
}

/* ---- descriptor waits ----------------------------------------------------- */

struct poll_call {
    struct pollfd *fds;
    nfds_t n;
    const struct timespec *raw;
    const sigset_t *mask;
    sigset_t copy;
    int epfd, max;
    struct epoll_event *ev;
};

static long poll_attempt(void *c, int64_t left)
{
    struct poll_call *p = c;
    REAL(poll);
    return real_poll(p->fds, p->n, ns_ms(left));
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    struct poll_call c = {.fds = fds, .n = n};
    return (int)repeat(poll_attempt, &c, ms_ns(timeout));
}

static long ppoll_attempt(void *c, int64_t left)
{
    struct poll_call *p = c;
    REAL(ppoll);
    struct timespec t = ns_ts(left);
    return real_ppoll(p->fds, p->n, left < 0 ? p->raw : &t, p->mask);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                 const sigset_t *mask)
{
    struct poll_call c = {.fds = fds, .n = n, .raw = timeout};
    c.mask = job_mask(mask, &c.copy);
    return (int)repeat(ppoll_attempt, &c, ts_ns(timeout));
}

static long epoll_wait_attempt(void *c, int64_t left)
{
    struct poll_call *p = c;
    REAL(epoll_wait);
    return real_epoll_wait(p->epfd, p->ev, p->max, ns_ms(left));
}

EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
    struct poll_call c = {.epfd = epfd, .ev = ev, .max = max};
    return (int)repeat(epoll_wait_attempt, &c, ms_ns(timeout));
}

static long epoll_pwait_attempt(void *c, int64_t left)
{
    struct poll_call *p = c;
    REAL(epoll_pwait);
    return real_epoll_pwait(p->epfd, p->ev, p->max, ns_ms(left), p->mask);
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
                       const sigset_t *mask)
{
    struct poll_call c = {.epfd = epfd, .ev = ev, .max = max};
    c.mask = job_mask(mask, &c.copy);
    return (int)repeat(epoll_pwait_attempt, &c, ms_ns(timeout));
}

typedef int epoll_pwait2_fn(int, struct epoll_event *, int, const struct timespec *,
                            const sigset_t *);
static epoll_pwait2_fn *real_epoll_pwait2;

static long epoll_pwait2_attempt(void *c, int64_t left)
{
    struct poll_call *p = c;
    struct timespec t = ns_ts(left);
    return real_epoll_pwait2(p->epfd, p->ev, p->max, left < 0 ? p->raw : &t, p->mask);
}

/* glibc 2.35; declared here for the headers of an older one. */
EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *timeout,
                        const sigset_t *mask)
{
    if (!real_epoll_pwait2)
        real_epoll_pwait2 = (epoll_pwait2_fn *)dlsym(RTLD_NEXT, "epoll_pwait2");
    if (!real_epoll_pwait2) {
        errno = ENOSYS;
        return -1;
    }
    struct poll_call c = {.epfd = epfd, .ev = ev, .max = max, .raw = timeout};
    c.mask = job_mask(mask, &c.copy);
    return (int)repeat(epoll_pwait2_attempt, &c, ts_ns(timeout));
}

/* select and pselect: the sets as given at each attempt (an interrupted
   call clears nothing, but be exact), and select's timeval left with the
   time not slept, as Linux does. */
struct select_call {
    int n;
    fd_set *set[3], copy[3];
    const struct timespec *raw;
    const sigset_t *mask;
    sigset_t mask_copy;
    struct timeval tv;
};

static void select_sets(struct select_call *s, int save)
{
    for (int i = 0; i < 3; i++)
        if (s->set[i] && save)
            s->copy[i] = *s->set[i];
        else if (s->set[i])
            *s->set[i] = s->copy[i];
}

static long select_attempt(void *c, int64_t left)
{
    struct select_call *s = c;
    REAL(select);
    select_sets(s, 0);
    int64_t us = (left + 999) / 1000;
    s->tv = (struct timeval){.tv_sec = us / 1000000, .tv_usec = us % 1000000};
    return real_select(s->n, s->set[0], s->set[1], s->set[2], left < 0 ? NULL : &s->tv);
}

EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    REAL(select);
    if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0))
        return real_select(n, r, w, e, tv); /* its EINVAL */
    struct select_call c = {.n = n, .set = {r, w, e}};
    select_sets(&c, 1);
    int64_t timeout = tv ? (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000 : NO_TIMEOUT;
    int rc = (int)repeat(select_attempt, &c, timeout);
    if (tv)
        *tv = c.tv;
    return rc;
}

static long pselect_attempt(void *c, int64_t left)
{
    struct select_call *s = c;
    REAL(pselect);
    select_sets(s, 0);
    struct timespec t = ns_ts(left);
    return real_pselect(s->n, s->set[0], s->set[1], s->set[2], left < 0 ? s->raw : &t, s->mask);
}

EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
                   const sigset_t *mask)
{
    struct select_call c = {.n = n, .set = {r, w, e}, .raw = timeout};
    c.mask = job_mask(mask, &c.mask_copy);
    select_sets(&c, 1);
    return (int)repeat(pselect_attempt, &c, ts_ns(timeout));
}

/* ---- sleeps ----------------------------------------------------------------- */

/* Sleeps: each repeat sleeps what the kernel said was left (rem), on the
   sleep's own clock; an absolute one waits until the same time. */
struct sleep_call {
    clockid_t clock;
    int flags;
    struct timespec want, rem;
};

static long nanosleep_attempt(void *c, int64_t left)
{
    (void)left;
    struct sleep_call *s = c;
    REAL(nanosleep);
    long rc = real_nanosleep(&s->want, &s->rem);
    if (rc < 0)
        s->want = s->rem; /* for a repeat */
    return rc;
}

EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
    REAL(nanosleep);
    if (!req || req->tv_nsec < 0 || req->tv_nsec >= 1000000000 || req->tv_sec < 0)
        return real_nanosleep(req, rem); /* its EINVAL/EFAULT */
    struct sleep_call c = {.want = *req};
    int rc = (int)repeat(nanosleep_attempt, &c, NO_TIMEOUT);
    if (rc < 0 && errno == EINTR && rem)
        *rem = c.rem;
    return rc;
}

/* clock_nanosleep returns the error rather than setting errno. */
static long clock_nanosleep_attempt(void *c, int64_t left)
{
    (void)left;
    struct sleep_call *s = c;
    REAL(clock_nanosleep);
    int err = real_clock_nanosleep(s->clock, s->flags, &s->want, &s->rem);
    if (err == EINTR && !(s->flags & TIMER_ABSTIME))
        s->want = s->rem;
    errno = err;
    return err ? -1 : 0;
}

EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                           struct timespec *rem)
{
    REAL(clock_nanosleep);
    if (!req || req->tv_nsec < 0 || req->tv_nsec >= 1000000000 || req->tv_sec < 0)
        return real_clock_nanosleep(clock, flags, req, rem);
    int saved = errno;
    struct sleep_call c = {.clock = clock, .flags = flags, .want = *req};
    long rc = repeat(clock_nanosleep_attempt, &c, NO_TIMEOUT);
    int err = rc < 0 ? errno : 0;
    if (err == EINTR && rem && !(flags & TIMER_ABSTIME))
        *rem = c.rem;
    errno = saved;
    return err;
}

/* glibc's sleep() and usleep() call nanosleep inside libc, not through the
   interposed symbol: they are interposed themselves, as glibc has them. */
EXPORT unsigned int sleep(unsigned int seconds)
{
    int saved = errno;
    struct timespec t = {.tv_sec = seconds, .tv_nsec = 0};
    if (nanosleep(&t, &t) < 0)
        return (unsigned int)t.tv_sec; /* the whole seconds not slept */
    errno = saved;
    return 0;
}

EXPORT int usleep(useconds_t usec)
{
    struct timespec t = {.tv_sec = usec / 1000000, .tv_nsec = (long)(usec % 1000000) * 1000};
    return nanosleep(&t, NULL);
}

/* ---- signal waits ------------------------------------------------------------ */

struct sig_call {
    const sigset_t *set;
    siginfo_t *info;
    const struct timespec *raw;
    sigset_t copy;
};

/* pause and sigsuspend end only with a handler's EINTR: a repeat when it
   was cairn's. A signal of the job's arriving meanwhile stays pending and
   ends the repeated call at once. */
static long pause_attempt(void *c, int64_t left)
{
    (void)c;
    (void)left;
    REAL(pause);
    return real_pause();
}

EXPORT int pause(void)
{
    return (int)repeat(pause_attempt, NULL, NO_TIMEOUT);
}

static long sigsuspend_attempt(void *c, int64_t left)
{
    (void)left;
    REAL(sigsuspend);
    return real_sigsuspend(((struct sig_call *)c)->set);
}

EXPORT int sigsuspend(const sigset_t *mask)
{
    struct sig_call c;
    c.set = job_mask(mask, &c.copy);
    return (int)repeat(sigsuspend_attempt, &c, NO_TIMEOUT);
}

static long sigtimedwait_attempt(void *c, int64_t left)
{
    struct sig_call *s = c;
    REAL(sigtimedwait);
    struct timespec t = ns_ts(left);
    return real_sigtimedwait(s->set, s->info, left < 0 ? s->raw : &t);
}

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
    struct sig_call c = {.set = set, .info = info, .raw = timeout};
    return (int)repeat(sigtimedwait_attempt, &c, ts_ns(timeout));
}

/* glibc's sigwaitinfo calls sigtimedwait inside libc. */
EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
    return sigtimedwait(set, info, NULL);
}

/* ---- semaphores and SysV IPC --------------------------------------------------- */

struct sem_call {
    sem_t *sem;
    clockid_t clock;
    const struct timespec *abs;
};

/* sem_wait is restarted (SA_RESTART); the timed ones are not. Absolute
   deadlines: the repeat waits until the same one. */
static long sem_timedwait_attempt(void *c, int64_t left)
{
    (void)left;
    struct sem_call *s = c;
    REAL(sem_timedwait);
    return real_sem_timedwait(s->sem, s->abs);
}

EXPORT int sem_timedwait(sem_t *sem, const struct timespec *abs)
{
    struct sem_call c = {.sem = sem, .abs = abs};
    return (int)repeat(sem_timedwait_attempt, &c, NO_TIMEOUT);
}

typedef int sem_clockwait_fn(sem_t *, clockid_t, const struct timespec *);
static sem_clockwait_fn *real_sem_clockwait;

static long sem_clockwait_attempt(void *c, int64_t left)
{
    (void)left;
    struct sem_call *s = c;
    return real_sem_clockwait(s->sem, s->clock, s->abs);
}

/* glibc 2.30. */
EXPORT int sem_clockwait(sem_t *sem, clockid_t clock, const struct timespec *abs)
{
    if (!real_sem_clockwait)
        real_sem_clockwait = (sem_clockwait_fn *)dlsym(RTLD_NEXT, "sem_clockwait");
    if (!real_sem_clockwait) {
        errno = ENOSYS;
        return -1;
    }
    struct sem_call c = {.sem = sem, .clock = clock, .abs = abs};
    return (int)repeat(sem_clockwait_attempt, &c, NO_TIMEOUT);
}

/* SysV semaphores and message queues end with EINTR whatever SA_RESTART
   says; the job may have them, even if a checkpoint refuses them. */
struct ipc_call {
    int id;
    const struct timespec *raw;
    struct sembuf *ops;
    size_t nops;
    void *msg;
    size_t size;
    long type;
    int flags;
};

static long semtimedop_attempt(void *c, int64_t left)
{
    struct ipc_call *s = c;
    REAL(semtimedop);
    struct timespec t = ns_ts(left);
    return real_semtimedop(s->id, s->ops, s->nops, left < 0 ? s->raw : &t);
}

EXPORT int semop(int id, struct sembuf *ops, size_t nops)
{
    struct ipc_call c = {.id = id, .ops = ops, .nops = nops};
    int rc = (int)repeat(semtimedop_attempt, &c, NO_TIMEOUT);
    if (rc == 0)
        rt_ipc_note_undo(id, ops, nops); /* ipc.c: SEM_UNDO refuses checkpoints */
    return rc;
}

EXPORT int semtimedop(int id, struct sembuf *ops, size_t nops, const struct timespec *timeout)
{
    struct ipc_call c = {.id = id, .ops = ops, .nops = nops, .raw = timeout};
    int rc = (int)repeat(semtimedop_attempt, &c, ts_ns(timeout));
    if (rc == 0)
        rt_ipc_note_undo(id, ops, nops);
    return rc;
}

static long msgrcv_attempt(void *c, int64_t left)
{
    (void)left;
    struct ipc_call *s = c;
    REAL(msgrcv);
    return real_msgrcv(s->id, s->msg, s->size, s->type, s->flags);
}

EXPORT ssize_t msgrcv(int id, void *msg, size_t size, long type, int flags)
{
    struct ipc_call c = {.id = id, .msg = msg, .size = size, .type = type, .flags = flags};
    return repeat(msgrcv_attempt, &c, NO_TIMEOUT);
}

static long msgsnd_attempt(void *c, int64_t left)
{
    (void)left;
    struct ipc_call *s = c;
    REAL(msgsnd);
    return real_msgsnd(s->id, s->msg, s->size, s->flags);
}

EXPORT int msgsnd(int id, const void *msg, size_t size, int flags)
{
    struct ipc_call c = {.id = id, .msg = (void *)msg, .size = size, .flags = flags};
    return (int)repeat(msgsnd_attempt, &c, NO_TIMEOUT);
}
