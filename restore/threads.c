/* SPDX-License-Identifier: MIT */
/*
 * threads.c — the job's other threads, recreated by the restorer.
 *
 * The restorer's process becomes the main thread (its pid is the job's,
 * given by cairn run's namespace init); every other thread of the image's
 * threads section is created with clone3 at its own tid (set_tid: the
 * namespace init lends CAP_CHECKPOINT_RESTORE for it, ident.c), sharing
 * everything a pthread shares, with its FS base (CLONE_SETTLS) and its
 * clear_child_tid word (CLONE_CHILD_CLEARTID, which pthread_join waits
 * on) set by the kernel. It starts on a small stack of the restorer's
 * .bss, with every signal blocked, and sets what only a thread can set for
 * itself: GS base, robust futex list, rseq area, name, CPU affinity,
 * scheduling policy and nice value; it
 * gives up the capabilities it inherited, says it is ready and waits. Once
 * all are ready and the main thread has done its part, they are let go
 * together; each queues again the signals that were pending for it alone
 * (the kernel lets only the thread itself queue them with any si_code) and
 * resumes with rt_sigreturn on its own signal frame, which restores its
 * registers, signal mask and alternate stack as the park handler found
 * them. Locks and futex words are in memory and came back with it.
 *
 * A job with threads needs its thread ids back (glibc keeps each thread's
 * tid in its descriptor: pthread_kill, mutex owners, robust lists). Without
 * the namespace (CAIRN_NO_NAMESPACE=1, or a kernel that refuses one) the
 * restorer runs under another pid and refuses the image before it changes
 * anything.
 */
#include "restore.h"
#include "clone.h"
#include "rlib.h"
#include "sys_x86_64.h"

#define NR_futex 202
#define NR_sched_setaffinity 203
#define NR_set_tid_address 218
#define NR_set_robust_list 273
#define NR_rt_tgsigqueueinfo 297
#define NR_gettid 186
#define NR_setpriority 141
#define NR_sched_setscheduler 144
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define PR_SET_NAME 15
#define PID_MAX_LIMIT 4194304u
#define NR_sched_yield 24
#define EEXIST_ 17


#define THREAD_STACK (16u << 10)

/* The restorer's own pid, which check_threads compares with the image's.
   The fuzz harness that runs this file hosted (tests/fuzz/restore_hosted.c,
   which #includes it) defines it first, as the pid cairn run's namespace
   would have given the restorer; in the restorer it is always getpid(). */
#ifndef R_GETPID
#define R_GETPID() sys0(NR_getpid)
#endif

static struct cairn_proc_thread threads[CAIRN_PROC_MAX_THREADS];
static struct cairn_proc_tsig tsig[CAIRN_PROC_MAX_TSIGQ];
static uint64_t nthreads, ntsig;
static uint32_t ready, go; /* futex words */
static char stacks[CAIRN_PROC_MAX_THREADS][THREAD_STACK] __attribute__((aligned(64)));

static void futex_wait(uint32_t *word, uint32_t val)
{
    sys4(NR_futex, word, FUTEX_WAIT_PRIVATE, val, 0);
}

static void futex_wake(uint32_t *word)
{
    sys3(NR_futex, word, FUTEX_WAKE_PRIVATE, 0x7fffffff);
}

static int refuse(const char *a, const char *b, int rc)
{
    r_say("refusing to restore: ", a, b, (char *)0);
    return rc;
}

/* /proc/sys/kernel/pid_max: clone3 cannot give a tid at or above it. */
static uint64_t kernel_pid_max(void)
{
    char buf[32] = "";
    long fd = sys3(NR_open, "/proc/sys/kernel/pid_max", 0, 0);
    long n = fd < 0 ? -1 : sys3(NR_read, fd, buf, sizeof buf - 1);
    if (fd >= 0)
        sys1(NR_close, fd);
    if (n <= 0)
        return PID_MAX_LIMIT;
    buf[n] = 0;
    long v = r_parse_dec(buf);
    return v > 0 ? (uint64_t)v : PID_MAX_LIMIT;
}

/* The records agree with each other and with the core record. */
static int check_threads(long pid)
{
    char a[24];
    if (threads[0].tid != (uint64_t)pid || threads[0].frame_uc != img.core.frame_uc ||
        threads[0].fs_base != img.core.fs_base)
        return refuse("the threads section does not start with the main thread", "", -2);
    for (uint64_t i = 0; i < nthreads; i++) {
        if (threads[i].tid == 0 || threads[i].tid >= PID_MAX_LIMIT ||
            threads[i].affinity_words > CAIRN_PROC_AFFINITY_WORDS)
            return refuse("a thread record is out of range", "", -2);
        for (uint64_t j = 0; j < i; j++)
            if (threads[j].tid == threads[i].tid)
                return refuse("two threads have the same tid ", r_dec(a, threads[i].tid), -2);
    }
    long me = R_GETPID();
    uint64_t pid_max = kernel_pid_max();
    for (uint64_t i = 0; i < nthreads; i++)
        if (threads[i].tid >= pid_max)
            return refuse("a thread id of the job is above this kernel's pid_max ",
                          r_dec(a, pid_max), -1);
    if (me != pid)
        return refuse("the job had threads, which are restored only with their thread ids, "
                      "in cairn run's pid namespace: this restore runs as pid ",
                      r_dec(a, (uint64_t)me), -1);
    return 0;
}

int r_threads_load(long pid)
{
    nthreads = img.core.nthreads;
    if (nthreads <= 1 && !img.rec_threads.present)
        return 0;
    if (nthreads < 2 || nthreads > CAIRN_PROC_MAX_THREADS || !img.rec_threads.present ||
        img.rec_threads.len != nthreads * sizeof threads[0] || pid <= 0)
        return refuse("the threads section does not match the core record", "", -2);
    int rc = r_read_record("threads", &img.rec_threads, threads, sizeof threads);
    if (rc < 0)
        return rc;
    if (img.rec_tsigq.present) {
        if (img.rec_tsigq.len % sizeof tsig[0] || img.rec_tsigq.len > sizeof tsig)
            return refuse("the threads' signal section is not whole records", "", -2);
        if ((rc = r_read_record("thread signals", &img.rec_tsigq, tsig, sizeof tsig)) < 0)
            return rc;
        ntsig = img.rec_tsigq.len / sizeof tsig[0];
    }
    for (uint64_t i = 0; i < nthreads; i++)
        threads[i].comm[sizeof threads[i].comm - 1] = 0;
    return check_threads(pid);
}

/* What every thread sets for itself (the main thread's GS base, rseq area
   and name come from the core record, state.c). */
/* The thread's scheduling policy and nice value, where the kernel allows
   them (a real-time policy or a lower nice needs CAP_SYS_NICE: left as is). */
static void scheduling(const struct cairn_proc_thread *t)
{
    if (!t->policy)
        return;
    struct { int32_t priority; } param = {(int32_t)t->rt_priority};
    long policy = (long)t->policy - 1;
    if (policy != 0 || t->rt_priority) /* SCHED_OTHER, priority 0: what it has */
        sys3(NR_sched_setscheduler, 0, policy, &param);
    if (t->nice >= -20 && t->nice <= 19 && t->nice != 0)
        sys3(NR_setpriority, 0 /* PRIO_PROCESS */, 0, t->nice);
}

static void common_state(const struct cairn_proc_thread *t)
{
    if (t->robust_head)
        sys2(NR_set_robust_list, t->robust_head, t->robust_len);
    if (t->affinity_words) /* CPUs this machine lacks: the kernel refuses, left as is */
        sys3(NR_sched_setaffinity, 0, t->affinity_words * 8, t->affinity);
    scheduling(t);
}

static void own_state(const struct cairn_proc_thread *t)
{
    common_state(t);
    if (t->gs_base)
        sys2(NR_arch_prctl, ARCH_SET_GS, t->gs_base);
    if (t->rseq_addr) {
        long rc = sys4(NR_rseq, t->rseq_addr, t->rseq_len, 0, t->rseq_sig);
        if (rc < 0)
            r_fail("cannot register a thread's rseq area", rc);
    }
    sys5(NR_prctl, PR_SET_NAME, t->comm, 0, 0, 0);
}

static void requeue_own(const struct cairn_proc_thread *t)
{
    long pid = sys0(NR_getpid);
    for (uint64_t i = 0; i < ntsig; i++)
        if (tsig[i].tid == t->tid && tsig[i].signo)
            sys4(NR_rt_tgsigqueueinfo, pid, t->tid, tsig[i].signo, tsig[i].info);
}

__attribute__((noreturn)) static void thread_main(uint64_t i)
{
    const struct cairn_proc_thread *t = &threads[i];
    own_state(t);
    r_ident_drop_caps();
    __atomic_fetch_add(&ready, 1, __ATOMIC_SEQ_CST);
    futex_wake(&ready);
    while (!__atomic_load_n(&go, __ATOMIC_SEQ_CST))
        futex_wait(&go, 0);
    requeue_own(t);
    restore_sigreturn(t->frame_uc);
}

void r_threads_spawn(void)
{
    char a[24];
    for (uint64_t i = 1; i < nthreads; i++) {
        const struct cairn_proc_thread *t = &threads[i];
        uint64_t tid = t->tid;
        struct clone_args args = {
            .flags = R_CLONE_THREAD_FLAGS | CLONE_SETTLS |
                     (t->clear_child_tid ? CLONE_CHILD_CLEARTID : 0),
            .child_tid = t->clear_child_tid,
            .stack = (uint64_t)(uintptr_t)stacks[i],
            .stack_size = THREAD_STACK,
            .tls = t->fs_base,
            .set_tid = (uint64_t)(uintptr_t)&tid,
            .set_tid_size = 1};
        long rc = r_clone_thread(&args, sizeof args, thread_main, i);
        /* a tid the helper thread had (ahead.c) is free a moment after it
           looks gone */
        for (int tries = 0; rc == -EEXIST_ && i == 1 && tries < 1000; tries++) {
            sys0(NR_sched_yield);
            rc = r_clone_thread(&args, sizeof args, thread_main, i);
        }
        if (rc < 0) {
            r_say("cannot recreate thread ", r_dec(a, tid), " at its own tid", (char *)0);
            r_fail("clone3", rc);
        }
    }
    uint32_t n;
    while ((n = __atomic_load_n(&ready, __ATOMIC_SEQ_CST)) != nthreads - 1 && nthreads > 1)
        futex_wait(&ready, n);
    if (nthreads > 1) {
        common_state(&threads[0]);
        if (threads[0].clear_child_tid)
            sys1(NR_set_tid_address, threads[0].clear_child_tid);
    }
}

uint64_t r_threads_spare_tid(void)
{
    return nthreads > 1 ? threads[1].tid : 0;
}

void r_threads_go(void)
{
    __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
    futex_wake(&go);
}
