/* SPDX-License-Identifier: MIT */
/*
 * identity.c — who the job is and which signals wait for it, recorded in
 * the checkpoint handler (all signals blocked) for the image's task and
 * pending-signal sections (process_format.h).
 *
 * Pending signals: the kernel shows which are pending per thread (SigPnd)
 * and for the whole process (ShdPnd) in /proc/thread-self/status, but not
 * their siginfo nor how many real-time ones are queued. So the handler
 * dequeues them one at a time with rt_sigtimedwait, one signal number at a
 * time, thread queue first as the kernel does (re-reading the masks after
 * each, which tells which queue the next one comes from), records the full
 * siginfo, and queues them all again at once in the same order with
 * rt_tgsigqueueinfo / rt_sigqueueinfo (allowed for any si_code when a
 * process signals itself). The restorer queues them the same way just
 * before it resumes the job, so they are delivered under the job's own
 * signal mask, exactly as in an uninterrupted run. The checkpoint signal
 * itself is left alone (a second request stays pending in the live job).
 *
 * Everything here is async-signal-safe; the records live in this library's
 * .bss, so after a restore they still hold the last checkpoint's values
 * (used to keep the executable's name when /proc/self/exe could not be
 * pointed back at it).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "control.h"
#include "identity.h"

static struct cairn_proc_task task;
static struct cairn_proc_siginfo sigq[CAIRN_PROC_MAX_SIGQ];

#define SIGBIT(s) (1ull << ((s) - 1))
#define NOT_SAVED (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP) | SIGBIT(CAIRN_CKPT_SIGNAL) | \
                   SIGBIT(CAIRN_PARK_SIGNAL))
#define THREAD_SIGQ_MAX 64 /* signals pending for one thread other than main */

/* The value of a "Name:\tHEX" line of a /proc status file. */
uint64_t rt_status_mask(const char *text, const char *name)
{
    for (const char *p = text; *p;) {
        if (rt_startswith(p, name)) {
            p += rt_strlen(name);
            while (*p == '\t' || *p == ' ')
                p++;
            return rt_parse_hex(&p);
        }
        while (*p && *p != '\n')
            p++;
        if (*p)
            p++;
    }
    return 0;
}

static int pending_masks(uint64_t *thread, uint64_t *shared)
{
    char buf[4096];
    if (rt_read_file("/proc/thread-self/status", buf, sizeof buf) < 0)
        return -1;
    *thread = rt_status_mask(buf, "SigPnd:") & ~NOT_SAVED;
    *shared = rt_status_mask(buf, "ShdPnd:") & ~NOT_SAVED;
    return 0;
}

static void queue_again(const struct cairn_proc_siginfo *q, long pid, long tid)
{
    if (q->flags & CAIRN_SIGQF_THREAD)
        syscall(SYS_rt_tgsigqueueinfo, pid, tid, (long)q->signo, q->info);
    else
        syscall(SYS_rt_sigqueueinfo, pid, (long)q->signo, q->info);
}

/* Dequeues every pending signal into sigq[], then queues them again. */
static int capture_pending(struct rt_state *st)
{
    uint64_t thread, shared;
    int rc = 0;
    task.nsigq = 0;
    while (pending_masks(&thread, &shared) == 0 && (thread | shared)) {
        if (task.nsigq == CAIRN_PROC_MAX_SIGQ) {
            st->why[0] = 0;
            rt_cat(st->why, sizeof st->why, "more than 128 signals are pending");
            rc = -1;
            break;
        }
        uint64_t from = thread ? thread : shared;
        int sig = __builtin_ctzll(from) + 1;
        uint64_t set = SIGBIT(sig);
        struct timespec zero = {0, 0};
        struct cairn_proc_siginfo *q = &sigq[task.nsigq];
        if (syscall(SYS_rt_sigtimedwait, &set, q->info, &zero, 8) != sig)
            break; /* gone meanwhile (cannot happen: all are blocked) */
        q->signo = (uint32_t)sig;
        q->flags = (thread & set) ? CAIRN_SIGQF_THREAD : 0;
        task.nsigq++;
    }
    long pid = getpid(), tid = syscall(SYS_gettid);
    for (uint64_t i = 0; i < task.nsigq; i++)
        queue_again(&sigq[i], pid, tid);
    if (rc < 0)
        task.nsigq = 0;
    return rc;
}

/* One signal pending for the calling thread alone into a free record of
   st->tsig (other threads fill it at the same time); its index, or -1. */
static long dequeue_own(struct rt_state *st, int sig, pid_t tid)
{
    uint32_t i = __atomic_fetch_add(&st->ntsig, 1, __ATOMIC_RELAXED);
    if (i >= CAIRN_PROC_MAX_TSIGQ)
        return -1;
    struct cairn_proc_tsig *q = &st->tsig[i];
    uint64_t set = SIGBIT(sig);
    struct timespec zero = {0, 0};
    q->tid = (uint32_t)tid;
    q->signo = 0; /* a hole, should the signal be gone */
    if (syscall(SYS_rt_sigtimedwait, &set, q->info, &zero, 8) == sig)
        q->signo = (uint32_t)sig;
    return (long)i;
}

/* In a thread's park handler (threads.c): the signals pending for that
   thread alone, dequeued into st->tsig and queued again in the same order
   (only the thread itself may queue them: any si_code). 0, or -1 if there
   were too many. The shared queue is the main thread's business. */
int rt_ident_thread_pending(struct rt_state *st)
{
    uint64_t any = 0;
    if (syscall(SYS_rt_sigpending, &any, 8) < 0 || !(any & ~NOT_SAVED))
        return 0; /* the usual case: nothing pending, no /proc read */
    char buf[4096];
    uint32_t mine[THREAD_SIGQ_MAX];
    unsigned n = 0;
    int rc = 0;
    pid_t pid = getpid(), tid = (pid_t)syscall(SYS_gettid);
    while (rt_read_file("/proc/thread-self/status", buf, sizeof buf) > 0) {
        uint64_t thread = rt_status_mask(buf, "SigPnd:") & ~NOT_SAVED;
        if (!thread)
            break;
        long i = n < THREAD_SIGQ_MAX ? dequeue_own(st, __builtin_ctzll(thread) + 1, tid) : -1;
        if (i < 0) {
            rc = -1;
            break;
        }
        mine[n++] = (uint32_t)i;
        if (!st->tsig[i].signo)
            break;
    }
    for (unsigned k = 0; k < n; k++)
        if (st->tsig[mine[k]].signo)
            syscall(SYS_rt_tgsigqueueinfo, pid, tid, (long)st->tsig[mine[k]].signo,
                    st->tsig[mine[k]].info);
    return rc;
}

int rt_ident_capture(struct rt_state *st)
{
    task.pid = (uint64_t)getpid();
    task.ppid = (uint64_t)getppid();
    /* After a restore whose restorer could not set the exe link, it names
       cairn-restore: keep the name recorded before (this is .bss). */
    char exe[sizeof task.exe];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        size_t len = (size_t)n;
        if (!(len >= 14 && rt_streq(exe + len - 14, "/cairn-restore")))
            for (size_t i = 0; i <= len; i++)
                task.exe[i] = exe[i];
    }
    return capture_pending(st);
}

int rt_ident_write(struct cairn__writer *w)
{
    struct cairn__section s = {.type = CAIRN_SEC_PROC_TASK};
    int rc = cairn__writer_section(w, &s, &task, sizeof task);
    if (rc == 0 && task.nsigq) {
        s.type = CAIRN_SEC_PROC_SIGQ;
        rc = cairn__writer_section(w, &s, sigq, task.nsigq * sizeof sigq[0]);
    }
    return rc;
}

/* The threads section (and the other threads' signals) of a job with
   more than one thread; a single-threaded job's image stays as it was. */
int rt_ident_write_threads(struct cairn__writer *w, const struct rt_state *st)
{
    if (st->core.nthreads < 2)
        return 0;
    struct cairn__section s = {.type = CAIRN_SEC_PROC_THREADS};
    int rc = cairn__writer_section(w, &s, st->threads, st->core.nthreads * sizeof st->threads[0]);
    uint32_t n = st->ntsig < CAIRN_PROC_MAX_TSIGQ ? st->ntsig : CAIRN_PROC_MAX_TSIGQ;
    if (rc == 0 && n) {
        s.type = CAIRN_SEC_PROC_TSIGQ;
        rc = cairn__writer_section(w, &s, st->tsig, n * sizeof st->tsig[0]);
    }
    return rc;
}
