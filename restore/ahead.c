/* SPDX-License-Identifier: MIT */
/*
 * ahead.c — a helper thread that faults mapped memory in ahead of its hash.
 *
 * A region mapped from the image (mapped.c) costs two things before the
 * job may run: MADV_POPULATE_READ puts the image's page-cache pages into
 * its page tables (about 0.09 s per GiB here, a page-table entry per 4 KiB
 * page), and its checksum is computed over the mapped bytes (XXH3 on one
 * core, 0.08-0.11 s per GiB). The two do not depend on each other beyond
 * order, so on a machine with a second CPU a helper thread does the first,
 * block by block, while the restorer hashes the blocks already faulted in
 * (docs/BENCHMARKS.md, "Restore after idle memory"). For a cold image the
 * helper is also the one that waits for the disk.
 *
 * The helper is a thread of the job's process-to-be, so it takes a thread
 * id in the job's pid namespace, where threads.c must later recreate the
 * job's threads and every other process of the tree its own, each at a
 * chosen id. So the helper takes the id of this process's own second
 * thread (clone3 set_tid), which no other process can need; a process of
 * one thread takes the id the kernel gives only when it is the job's only
 * process. Otherwise, on one CPU, or if the clone fails, there is no helper
 * and mapped.c faults the blocks in itself, as before. r_ahead_end() ends
 * the helper and waits until its id is free, before threads.c runs.
 */
#include "clone.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"

#define NR_madvise 28
#define NR_sched_yield 24
#define NR_futex 202
#define NR_sched_getaffinity 204
#define NR_fadvise64 221
#define NR_tgkill 234
#define FUTEX_WAIT 0
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define FADV_WILLNEED 3
#define MADV_POPULATE_READ 22
#define EINVAL_ 22
#define ESRCH_ 3
#define HELPER_STACK (16u << 10)
#define MIN_LEN (32ull << 20) /* a shorter run is faulted in by the restorer */

/* The run being faulted in, posted by the restorer (seq counts posts) and
   taken block by block by the helper (blocks: how many are in place). */
static struct {
    uint32_t seq, blocks, quit;
    uint32_t alive; /* cleared by the kernel when the helper has exited */
    int fd;
    uint64_t addr, len, off;
    long rc; /* the helper's first failure, for the restorer to report */
} w;
static long helper_tid; /* 0: none yet; -1: none to be had */
struct r_ahead_stats r_ahead_stats;
static char helper_stack[HELPER_STACK] __attribute__((aligned(64)));

static uint32_t load(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void wait_while(uint32_t *word, uint32_t val)
{
    sys4(NR_futex, word, FUTEX_WAIT_PRIVATE, val, 0);
}

static void wake(uint32_t *word)
{
    sys3(NR_futex, word, FUTEX_WAKE_PRIVATE, 0x7fffffff);
}

long r_fault_in(int fd, uint64_t addr, uint64_t done, uint64_t b, uint64_t off)
{
    if (done % R_AHEAD_DISK == 0) /* a cold image: keep the disk busy meanwhile */
        sys4(NR_fadvise64, fd, off + (done ? done + R_AHEAD_DISK : 0),
             done ? R_AHEAD_DISK : 2 * R_AHEAD_DISK, FADV_WILLNEED);
    long rc = sys3(NR_madvise, addr + done, b, MADV_POPULATE_READ);
    return rc == -EINVAL_ ? 0 : rc; /* -EINVAL: before Linux 5.14, the reads fault */
}

static void helper_main(uint64_t arg)
{
    (void)arg;
    for (uint32_t seen = 0;;) {
        uint32_t s;
        while ((s = load(&w.seq)) == seen)
            wait_while(&w.seq, s);
        seen = s;
        if (load(&w.quit))
            sys1(NR_exit, 0);
        for (uint64_t done = 0; done < w.len;) {
            uint64_t b = w.len - done < R_BLOCK ? w.len - done : R_BLOCK;
            long rc = r_fault_in(w.fd, w.addr, done, b, w.off);
            if (rc < 0 && !w.rc)
                w.rc = rc;
            done += b;
            __atomic_store_n(&w.blocks, w.blocks + 1, __ATOMIC_RELEASE);
            wake(&w.blocks);
        }
    }
}

static int cpus(void)
{
    uint64_t mask[16] = {0};
    long n = sys3(NR_sched_getaffinity, 0, sizeof mask, (long)mask);
    int count = 0;
    for (long i = 0; i < n / 8; i++) /* no libgcc: no __builtin_popcount */
        for (uint64_t m = mask[i]; m; m &= m - 1)
            count++;
    return count;
}

/* Starts the helper at this process's second thread's tid, or at the
   kernel's choice in a job of one process and one thread: its tid, or -1
   for no helper. */
static int start_helper(void)
{
    uint64_t tid = r_threads_spare_tid();
    if (cpus() < 2 || (!tid && r_tree_nprocs() > 1))
        return -1;
    w.alive = 1;
    struct clone_args args = {
        .flags = R_CLONE_THREAD_FLAGS | CLONE_CHILD_CLEARTID,
        .child_tid = (uint64_t)(uintptr_t)&w.alive,
        .stack = (uint64_t)(uintptr_t)helper_stack,
        .stack_size = HELPER_STACK,
        .set_tid = tid ? (uint64_t)(uintptr_t)&tid : 0,
        .set_tid_size = tid ? 1 : 0};
    long rc = r_clone_thread(&args, sizeof args, helper_main, 0);
    if (rc <= 0)
        w.alive = 0;
    else
        r_ahead_stats = (struct r_ahead_stats){.tid = rc, .borrowed = tid != 0};
    return rc > 0 ? (int)rc : -1;
}

int r_ahead_start(int fd, uint64_t addr, uint64_t len, uint64_t off)
{
    if (len < MIN_LEN || helper_tid < 0 || (!helper_tid && (helper_tid = start_helper()) < 0))
        return 0;
    w.fd = fd;
    w.addr = addr;
    w.len = len;
    w.off = off;
    w.rc = 0;
    r_ahead_stats.bytes += len;
    __atomic_store_n(&w.blocks, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&w.seq, w.seq + 1, __ATOMIC_RELEASE);
    wake(&w.seq);
    return 1;
}

void r_ahead_wait(uint64_t upto)
{
    uint32_t need = (uint32_t)((upto + R_BLOCK - 1) / R_BLOCK), n;
    while ((n = load(&w.blocks)) < need)
        wait_while(&w.blocks, n);
    if (w.rc < 0)
        r_fail("cannot read a region mapped from the image", w.rc);
}

void r_ahead_end(void)
{
    if (helper_tid <= 0)
        return;
    __atomic_store_n(&w.quit, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&w.seq, w.seq + 1, __ATOMIC_RELEASE);
    wake(&w.seq);
    /* the kernel's wake at a thread's exit is not a private futex's */
    uint32_t a;
    while ((a = load(&w.alive)) != 0)
        sys4(NR_futex, &w.alive, FUTEX_WAIT, a, 0);
    /* cleared a moment before the thread is gone and its id free */
    long pid = sys0(NR_getpid);
    while (sys3(NR_tgkill, pid, helper_tid, 0) != -ESRCH_)
        sys0(NR_sched_yield);
    helper_tid = -1;
}
