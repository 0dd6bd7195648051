/* SPDX-License-Identifier: MIT */
/*
 * threads.c — parks every thread of the job while the main thread takes
 * the checkpoint.
 *
 * cairn sends the checkpoint signal to the main thread only (tgkill). Its
 * handler (runtime.c) calls rt_threads_stop(), which lists
 * /proc/self/task and queues CAIRN_PARK_SIGNAL to each other thread with
 * rt_tgsigqueueinfo, the value naming the quiesce and the thread's slot.
 * Each thread's park handler records its own state (registers stay in
 * its signal frame, which is in memory and so in the image; FS/GS bases,
 * rseq area, robust list, clear_child_tid, name, affinity, scheduling
 * policy and nice value go in its
 * slot), dequeues the signals pending for it alone, says it is parked and
 * sleeps on a futex until the quiesce ends. The main thread waits until
 * every listed thread is parked or gone, then lists the threads once more:
 * a thread created meanwhile was created by one that had not parked yet,
 * so a listing taken after all were parked, which finds no new thread,
 * shows the whole job stopped. Then the main thread captures the process,
 * forks the writer and releases them all at once (rt_threads_release).
 *
 * The quiesce is a number, odd while it runs: a park signal of an earlier,
 * abandoned quiesce that arrives late finds another number and returns at
 * once. A thread that keeps the park signal blocked for 200 ms (glibc's
 * internal threads: the SIGEV_THREAD timer helper), or does not stop
 * within STOP_TIMEOUT for another reason, makes the checkpoint refused
 * with its tid and name, and the job goes on. The runtime keeps the job's own sigprocmask and
 * pthread_sigmask calls from blocking cairn's two signals (signals.c).
 *
 * All of it runs in signal handlers: raw system calls and the
 * preallocated struct rt_state only.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch_x86_64.h"
#include "cairn_time.h"
#include "control.h"
#include "eintr.h"
#include "identity.h"
#include "threads.h"

#define STOP_TIMEOUT_NS (3ull * 1000000000u)
#define BLOCKED_NS (200ull * 1000000u) /* blocking the park signal this long: refused */
#define POLL_NS 1000000 /* re-list for threads created or gone, every 1 ms */

static _Atomic uint32_t phase;    /* odd: a quiesce is running */
static _Atomic uint32_t arrivals; /* futex the main thread sleeps on */
static _Atomic uint32_t overflow; /* a thread found no room for its signals */
static struct rt_state *cur;

/* Slot k (1..nslots) is threads[k] of the state while the quiesce runs. */
static struct {
    pid_t tid;
    int gone;
    _Atomic uint32_t parked; /* the quiesce it parked in */
    uint64_t blocked_since;  /* seen blocking the park signal since (0: not) */
} slot[CAIRN_PROC_MAX_THREADS];
static uint32_t nslots;

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, (uint32_t *)word, op | FUTEX_PRIVATE_FLAG, val, ts, NULL, 0);
}

/* What a thread records of itself; the registers are in its frame at uc. */
static void record_thread(struct cairn_proc_thread *t, void *uc)
{
    *t = (struct cairn_proc_thread){.tid = (uint64_t)syscall(SYS_gettid),
                                    .frame_uc = (uint64_t)(uintptr_t)uc};
    rt_arch_thread(t);
    void *head = NULL;
    size_t len = 0;
    if (syscall(SYS_get_robust_list, 0, &head, &len) == 0 && head) {
        t->robust_head = (uint64_t)(uintptr_t)head;
        t->robust_len = len;
    }
    int *tidp = NULL;
    if (prctl(PR_GET_TID_ADDRESS, &tidp, 0, 0, 0) == 0)
        t->clear_child_tid = (uint64_t)(uintptr_t)tidp;
    prctl(PR_GET_NAME, t->comm, 0, 0, 0);
    long n = syscall(SYS_sched_getaffinity, 0, sizeof t->affinity, t->affinity);
    if (n > 0)
        t->affinity_words = (uint64_t)n / 8;
    struct sched_param sp = {0};
    long policy = syscall(SYS_sched_getscheduler, 0);
    if (policy >= 0 && syscall(SYS_sched_getparam, 0, &sp) == 0) {
        t->policy = (uint64_t)policy + 1;
        t->rt_priority = (uint64_t)sp.sched_priority;
        /* the raw call returns 20 - nice, never negative */
        t->nice = 20 - syscall(SYS_getpriority, PRIO_PROCESS, 0);
    }
}

static void on_park(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    int saved_errno = errno;
    uint64_t v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
    uint32_t ph = (uint32_t)(v >> 32), k = (uint32_t)v;
    if (si->si_code != SI_QUEUE || si->si_pid != getpid() || !(ph & 1) ||
        ph != atomic_load(&phase) || k == 0 || k >= CAIRN_PROC_MAX_THREADS)
        goto out; /* not the quiesce that is running */
    rt_eintr_note(uc); /* before its memory is saved: a restore repeats the wait too */
    record_thread(&cur->threads[k], uc);
    if (rt_ident_thread_pending(cur) < 0)
        atomic_store(&overflow, 1);
    /* From the moment it is parked the thread's memory may be saved: its
       errno is the job's again, and nothing below sets it. */
    errno = saved_errno;
    atomic_store(&slot[k].parked, ph);
    atomic_fetch_add(&arrivals, 1);
    rt_arch_futex_raw((uint32_t *)&arrivals, FUTEX_WAKE_PRIVATE, 1);
    while (atomic_load(&phase) == ph)
        rt_arch_futex_raw((uint32_t *)&phase, FUTEX_WAIT_PRIVATE, ph);
    return;
out:
    errno = saved_errno;
}

int rt_threads_init(void)
{
    struct sigaction sa = {.sa_sigaction = on_park, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigfillset(&sa.sa_mask);
    return sigaction(CAIRN_PARK_SIGNAL, &sa, NULL);
}

static int known(pid_t tid)
{
    for (uint32_t k = 1; k <= nslots; k++)
        if (slot[k].tid == tid)
            return 1;
    return 0;
}

static void send_park(uint32_t k, uint32_t ph)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = CAIRN_PARK_SIGNAL;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_ptr = (void *)(uintptr_t)((uint64_t)ph << 32 | k);
    if (syscall(SYS_rt_tgsigqueueinfo, getpid(), slot[k].tid, CAIRN_PARK_SIGNAL, &si) < 0)
        slot[k].gone = errno == ESRCH;
}

/* Lists the threads, signals each new one: how many were new, or -1. */
static int list_and_signal(struct rt_state *st, uint32_t ph)
{
    char buf[4096];
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return rt_refuse_num(st, "cannot list the job's threads (/proc/self/task, errno ",
                             (uint64_t)errno, ")");
    pid_t self = getpid();
    int added = 0;
    long n;
    while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            const char *p = d->d_name;
            pid_t tid = (pid_t)rt_parse_dec(&p);
            if (d->d_name[0] == '.' || tid == self || known(tid))
                continue;
            if (nslots + 1 >= CAIRN_PROC_MAX_THREADS) {
                close(fd);
                return rt_refuse_num(st, "the job has more than ",
                                     CAIRN_PROC_MAX_THREADS - 1, " threads");
            }
            slot[++nslots] = (__typeof__(slot[0])){.tid = tid};
            send_park(nslots, ph);
            added++;
        }
    }
    close(fd);
    return added;
}

/* The first listed thread neither parked nor gone (0: none); with
   check_gone, threads that have exited are marked first. */
static uint32_t first_running(uint32_t ph, int check_gone)
{
    for (uint32_t k = 1; k <= nslots; k++) {
        if (slot[k].gone || atomic_load(&slot[k].parked) == ph)
            continue;
        if (check_gone && syscall(SYS_tgkill, getpid(), slot[k].tid, 0) < 0 && errno == ESRCH) {
            slot[k].gone = 1;
            continue;
        }
        return k;
    }
    return 0;
}

/* Whether the thread in slot k blocks the park signal now (its status). */
static int blocks_park(uint32_t k)
{
    char path[64] = "/proc/self/task/", text[2048];
    rt_cat_u64(path, sizeof path, (uint64_t)slot[k].tid);
    rt_cat(path, sizeof path, "/status");
    return rt_read_file(path, text, sizeof text) > 0 &&
           (rt_status_mask(text, "SigBlk:") >> (CAIRN_PARK_SIGNAL - 1) & 1);
}

/* "thread T (name) did not stop ..." for the thread in slot k. */
static int refuse_thread(struct rt_state *st, uint32_t k)
{
    char path[64] = "/proc/self/task/", name[32] = "";
    rt_cat_u64(path, sizeof path, (uint64_t)slot[k].tid);
    rt_cat(path, sizeof path, "/comm");
    long n = rt_read_file(path, name, sizeof name);
    if (n > 0 && name[n - 1] == '\n')
        name[n - 1] = 0;
    rt_refuse_num(st, "thread ", (uint64_t)slot[k].tid, " (");
    rt_cat(st->why, sizeof st->why, name);
    if (blocks_park(k))
        rt_cat(st->why, sizeof st->why, ") does not stop for the checkpoint: it blocks "
               "cairn's park signal (63), as glibc's SIGEV_THREAD timer helper does");
    else
        rt_cat(st->why, sizeof st->why, ") did not stop for the checkpoint within 3 s");
    return -1;
}

/* A running thread that has kept the park signal blocked for BLOCKED_NS
   (glibc's own helper threads block everything), or 0. */
static uint32_t stuck_blocked(uint32_t ph, uint64_t now)
{
    for (uint32_t k = 1; k <= nslots; k++) {
        if (slot[k].gone || atomic_load(&slot[k].parked) == ph)
            continue;
        if (!blocks_park(k))
            slot[k].blocked_since = 0;
        else if (!slot[k].blocked_since)
            slot[k].blocked_since = now;
        else if (now - slot[k].blocked_since > BLOCKED_NS)
            return k;
    }
    return 0;
}

/* Waits until every thread is parked and a last listing finds no new one. */
static int wait_parked(struct rt_state *st, uint32_t ph, uint64_t t0)
{
    for (;;) {
        uint32_t seen = atomic_load(&arrivals);
        if (first_running(ph, 0) == 0) {
            int added = list_and_signal(st, ph);
            if (added <= 0)
                return added;
            continue;
        }
        if (cairn__now_ns(CLOCK_MONOTONIC) - t0 > STOP_TIMEOUT_NS) {
            uint32_t k = first_running(ph, 1);
            return k ? refuse_thread(st, k) : 0;
        }
        struct timespec ts = {0, POLL_NS};
        if (futex(&arrivals, FUTEX_WAIT, seen, &ts) < 0 && errno == ETIMEDOUT) {
            first_running(ph, 1);
            uint32_t k = stuck_blocked(ph, cairn__now_ns(CLOCK_MONOTONIC));
            if (k)
                return refuse_thread(st, k);
            if (list_and_signal(st, ph) < 0)
                return -1;
        }
    }
}

/* Moves the parked threads' records after the main thread's, in order. */
static void compact(struct rt_state *st, uint32_t ph)
{
    uint32_t n = 1;
    for (uint32_t k = 1; k <= nslots; k++)
        if (!slot[k].gone && atomic_load(&slot[k].parked) == ph) {
            if (n != k)
                st->threads[n] = st->threads[k];
            n++;
        }
    st->core.nthreads = n;
}

int rt_threads_stop(struct rt_state *st, void *uc)
{
    cur = st;
    st->ntsig = 0;
    nslots = 0;
    atomic_store(&overflow, 0);
    uint32_t ph = (atomic_load(&phase) | 1) + 2;
    atomic_store(&phase, ph);
    record_thread(&st->threads[0], uc);
    uint64_t t0 = cairn__now_ns(CLOCK_MONOTONIC);
    int rc = list_and_signal(st, ph);
    if (rc >= 0)
        rc = wait_parked(st, ph, t0);
    if (rc == 0 && atomic_load(&overflow))
        rc = rt_refuse_num(st, "more than ", CAIRN_PROC_MAX_TSIGQ,
                           " signals are pending for the job's threads");
    if (rc < 0) {
        rt_threads_release();
        return -1;
    }
    compact(st, ph);
    return 0;
}

void rt_threads_release(void)
{
    uint32_t ph = atomic_load(&phase);
    if (!(ph & 1))
        return;
    atomic_store(&phase, ph + 1);
    futex(&phase, FUTEX_WAKE, INT_MAX, NULL);
}
