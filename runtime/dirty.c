/* SPDX-License-Identifier: MIT */
/*
 * dirty.c — which pages the job wrote since its previous checkpoint, exact
 * to the page, for delta images (docs/FORMAT.md, "Delta images").
 *
 * The kernel does the tracking: a userfaultfd in asynchronous write-protect
 * mode (UFFD_FEATURE_WP_ASYNC, Linux 6.7; UFFD_USER_MODE_ONLY, so no
 * privilege is needed) registered on the job's private anonymous mappings.
 * A write to a protected page is resolved by the kernel itself (about a
 * microsecond, no thread of ours involved) and leaves the page unprotected;
 * the PAGEMAP_SCAN ioctl then lists the unprotected ("written") pages and,
 * with PM_SCAN_WP_MATCHING, protects them again in the same walk. Only
 * present or swapped pages are matched: protecting a hole would make the
 * kernel build page tables for it (a 2 TiB reservation...), and a hole
 * needs no tracking (the writer sees it as zero, and a page that appears
 * there later is a written one).
 *
 * When: at the checkpoint, in the job, as the very last step before the
 * writer forks, all threads parked. The writer is a fork and inherits no
 * registration (its vmas lose the userfaultfd), so protection lives in the
 * job: what the scan reports is exactly what changed between the previous
 * snapshot and this one, and the job's writes after the fork count for the
 * next. Between the scan and the fork nothing but this file's own memory
 * (a mapping between guard pages, never tracked) and the alternate stack
 * is written; errno is not touched (raw system calls).
 *
 * Mapping identity: a mapping of this capture is the "same" as one of the
 * previous capture (the parent image's) if it has the same range,
 * protection and kind and its registration is still in place (the scan
 * with PM_SCAN_CHECK_WPASYNC fails on a vma that was unmapped and mapped
 * again). The kernel merges adjacent registered vmas, and a restore maps
 * them one by one, so captured mappings are first split at the previous
 * capture's boundaries. A mapping inside a larger previous one is the same
 * too: the kernel had merged two neighbours before the first registration
 * (a large array and a small allocation just below it), and one of them
 * went since; what is left kept its registration and its protection, and
 * the parent's larger mapping holds its pages (docs/FORMAT.md, "Delta
 * images"). Anything else (created, moved, grown, protection changed) is
 * new: registered now and written whole.
 *
 * A delta is written only on the parent cairn run names (the last
 * committed generation) and only if that is the generation this protection
 * epoch started with: after a checkpoint that was not committed, the pages
 * written before it were protected again for nothing, and a full image
 * follows. A restored job is protected again by the restorer, which writes
 * the new descriptor into `fd` here (struct cairn_proc_track).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "dirty.h"
#include "dirty_uapi.h"
#include "stage.h"

#define PAGE 4096ull
#define VEC 256
#define MAX_RUNS (1u << 20) /* 16 MiB of runs: beyond, a mapping is written whole */

struct prev_map {
    uint64_t start, end;
    uint32_t prot, kind;
    uint32_t registered, pad;
};

/* Everything the tracker writes, in one mapping between guard pages (so
   that it stays a vma of its own, never merged with the job's). It is
   saved in every image (the runtime's memory is the job's), never tracked. */
struct region {
    int64_t fd;              /* the userfaultfd; the restorer rewrites it */
    int64_t owner;           /* the process fd is of: a forked child has the
                                parent's, bound to the parent's memory */
    /* /proc/self/pagemap, open only during rt_dirty_checkpoint: a descriptor
       kept open would be one of the job's, saved and reopened by a restore */
    long pagemap;
    uint64_t epoch_gen;      /* the snapshot this protection epoch began with */
    int have_parent;         /* the request named a parent */
    int delta;               /* this checkpoint writes a delta */
    struct cairn_proc_parent parent;
    uint64_t nprev;          /* the previous capture (the parent image's maps) */
    struct prev_map prev[2][CAIRN_PROC_MAX_MAPS];
    unsigned cur_prev;       /* which of the two is the previous capture */
    struct rt_dirty_map map[CAIRN_PROC_MAX_MAPS];
    struct page_region_ vec[VEC];
    uint64_t nruns;
    /* page-aligned, last: dropped in the job after each fork */
    struct rt_dirty_run runs[MAX_RUNS] __attribute__((aligned(4096)));
};

static struct region *R;
static size_t region_len;

/* A system call that leaves errno alone (errno is the job's memory). */
static long raw3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

/* Raw system calls only: it also runs in the handler (a forked child's
   first checkpoint), where errno is the job's. */
static int open_uffd(void)
{
    long fd = raw3(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY_, 0, 0);
    if (fd < 0)
        return -1;
    struct uffdio_api_ api = {.api = UFFD_API_,
                              .features = UFFD_FEATURE_WP_ASYNC_ | UFFD_FEATURE_WP_UNPOPULATED_};
    if (raw3(SYS_ioctl, fd, UFFDIO_API_, (long)&api) < 0) {
        raw3(SYS_close, fd, 0, 0);
        return -1;
    }
    /* Above the job's usual numbers, as the control channel's users expect. */
    long high = raw3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 100);
    if (high >= 0) {
        raw3(SYS_close, fd, 0, 0);
        fd = high;
    }
    R->owner = raw3(SYS_getpid, 0, 0, 0);
    return (int)fd;
}

/* A process forked by the job (a member of a process tree) inherits the
   parent's descriptor, whose registrations and protections act on the
   parent's memory: it drops it and starts tracking its own, from a full
   image (the inherited previous capture is the parent's). */
static void own_tracker(void)
{
    if (R->fd < 0 || R->owner == raw3(SYS_getpid, 0, 0, 0))
        return;
    raw3(SYS_close, R->fd, 0, 0);
    R->fd = open_uffd();
    R->nprev = 0;
    R->epoch_gen = 0;
}

int rt_dirty_init(void)
{
    region_len = (sizeof *R + PAGE - 1) & ~(PAGE - 1);
    unsigned char *mem = mmap(NULL, region_len + 2 * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        return -1;
    mprotect(mem, PAGE, PROT_NONE);
    mprotect(mem + PAGE + region_len, PAGE, PROT_NONE);
    R = (struct region *)(mem + PAGE);
    rt_dirty_debug_init();
    rt_stage_init();
    /* CAIRN_FULL_EVERY=1: cairn run asks for no delta (cli/run_chain.c),
       so nothing is tracked and nothing costs; any other value, or none
       (the default, 8), tracks. */
    const char *every = getenv("CAIRN_FULL_EVERY");
    R->fd = every && !strcmp(every, "1") ? -1 : open_uffd();
    return 0;
}

int rt_dirty_fd(void)
{
    return R ? (int)R->fd : -1;
}

int rt_dirty_own_fd(void)
{
    return R && R->fd >= 0 && R->owner == raw3(SYS_getpid, 0, 0, 0) ? (int)R->fd : -1;
}

static uint64_t hex(const char **p)
{
    uint64_t v = 0;
    while (**p == ' ')
        (*p)++;
    for (;; (*p)++) {
        char c = **p;
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;
        if (d == 16)
            return v;
        v = v << 4 | d;
    }
}

void rt_dirty_request(const char *line)
{
    if (!R)
        return;
    R->have_parent = 0;
    const char *p = line;
    for (int field = 0; field < 3 && *p; field++) { /* CKPT gen name */
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    if (p[0] != 'P' || p[1] != ' ')
        return;
    p += 2;
    struct cairn_proc_parent *q = &R->parent;
    *q = (struct cairn_proc_parent){.magic = CAIRN_PROC_PARENT_MAGIC, .version = 1};
    q->generation = hex(&p);
    q->header_checksum = hex(&p);
    q->chain = hex(&p);
    q->base_generation = hex(&p);
    q->depth = (uint32_t)hex(&p);
    q->process = (uint32_t)hex(&p); /* a tree's member: its own pid (0 if absent) */
    R->have_parent = q->generation != 0 && q->depth > 0 && q->depth < CAIRN_PROC_MAX_CHAIN;
}

/* The runtime's own mappings that are written after the scan. */
static int own(const struct rt_state *st, const struct cairn_proc_map *m)
{
    uint64_t r = (uint64_t)(uintptr_t)R;
    return (m->start < r + region_len && m->end > r) ||
           (m->start < st->alt_start + st->alt_size && m->end > st->alt_start);
}

/* The previous capture's mapping that holds m's range, with its
   protection and kind, registered: its index, or -1 (binary search: in
   address order, disjoint). Usually the same range; a larger one when the
   kernel had merged m with a neighbour before tracking began, and the
   neighbour went since (unmapped, or moved: the pages left keep their
   registration and their protection). */
static long find_prev(const struct prev_map *prev, uint64_t n, const struct cairn_proc_map *m)
{
    uint64_t lo = 0, hi = n; /* the first that starts above m->start */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (prev[mid].start <= m->start)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct prev_map *q = lo > 0 ? &prev[lo - 1] : NULL;
    if (q && q->end >= m->end && q->prot == m->prot && q->kind == m->kind && q->registered)
        return (long)(lo - 1);
    return -1;
}

/* Splits st->maps[i] at the boundaries of registered previous mappings
   strictly inside it (the kernel merged them, or a restore mapped them
   one by one). */
static void split_at_prev(struct rt_state *st, const struct prev_map *prev, uint64_t n)
{
    for (uint64_t i = 0; i < st->core.nmaps; i++) {
        struct cairn_proc_map *m = &st->maps[i];
        if (!cairn_proc_trackable(m))
            continue;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t cut = prev[k].start > m->start && prev[k].start < m->end ? prev[k].start
                           : prev[k].end > m->start && prev[k].end < m->end   ? prev[k].end
                                                                              : 0;
            if (!cut || !prev[k].registered || st->core.nmaps == CAIRN_PROC_MAX_MAPS)
                continue;
            memmove(m + 1, m, (st->core.nmaps - i) * sizeof *m);
            st->core.nmaps++;
            m->end = cut;
            m[1].start = cut;
            if (m[1].kind == CAIRN_MAP_FILE)
                m[1].offset += cut - m->start;
            break; /* m is now the lower part; the upper one is split next */
        }
    }
}

/* One PAGEMAP_SCAN of the walk a describes, which then goes on at
   a->walk_end: the regions it put in R->vec, or a negative errno (-5:
   the kernel made no progress). */
static long scan_step(struct pm_scan_arg_ *a)
{
    long got = raw3(SYS_ioctl, R->pagemap, PAGEMAP_SCAN_, (long)a);
    if (got >= 0 && a->walk_end <= a->start)
        return -5;
    return got;
}

/* Lists in held the pages [start, end) holds on 4 KiB pages, present or
   swapped but not the zero page, as writer.c's scan would. Listing the
   held pages themselves costs the kernel about 12 ns for each of them
   (13 ms at 4 GiB); so the walk asks for the others instead (holes, zero
   pages), with the categories inverted, and held is what lies between
   them: 2.5 ms at 4 GiB for the same list. Huge pages are matched too, so
   that held says whether there are any; swapped pages match as "not
   present" and are held. No page is protected: a hole must stay one. */
static long list_held(uint64_t start, uint64_t end, struct rt_held *held)
{
    const uint64_t kinds = PAGE_IS_PRESENT_ | PAGE_IS_SWAPPED_ | PAGE_IS_PFNZERO_;
    uint64_t from = start; /* held from here up to the next page not held */
    for (uint64_t at = start; at < end;) {
        struct pm_scan_arg_ a = {.size = sizeof a, .start = at, .end = end,
                                 .vec = (uint64_t)(uintptr_t)R->vec, .vec_len = VEC,
                                 .category_inverted = PAGE_IS_PRESENT_ | PAGE_IS_SWAPPED_,
                                 .category_anyof_mask = PAGE_IS_PRESENT_ | PAGE_IS_PFNZERO_ |
                                                        PAGE_IS_HUGE_,
                                 .return_mask = kinds | PAGE_IS_HUGE_};
        long got = scan_step(&a);
        if (got < 0)
            return got;
        for (long k = 0; k < got; k++) {
            uint64_t c = R->vec[k].categories;
            if (c & PAGE_IS_HUGE_)
                held->huge = 1; /* fork copies it cheaply: not staged */
            if (c & (PAGE_IS_HUGE_ | PAGE_IS_SWAPPED_))
                continue;
            if (R->vec[k].start > from)
                rt_held_add(held, from, R->vec[k].start);
            from = R->vec[k].end;
        }
        at = a.walk_end;
    }
    if (from < end)
        rt_held_add(held, from, end);
    return 0;
}

/* Scans [start, end): written pages are listed (record) and protected
   again. 0, 1 if the run list overflowed (protected all the same), or a
   negative errno (-EPERM: the range is not registered). With held (a
   mapping stage.c may stage), the pages it holds are listed too, in a
   second walk (the job is parked: nothing changes between the two). A
   run is merged only with one of this same scan: the previous mapping's
   last run may end exactly where this one starts (a restored data
   segment, anonymous now, just below the heap), and a run extended
   across the boundary would be counted in that mapping's list and lost
   from this one's (the writer would then take those written pages from
   the parent image). */
static long scan(uint64_t start, uint64_t end, int record, struct rt_held *held)
{
    int overflow = 0;
    const uint64_t first = R->nruns;
    for (uint64_t at = start; at < end;) {
        struct pm_scan_arg_ a = {.size = sizeof a,
                                 .flags = PM_SCAN_WP_MATCHING_ | PM_SCAN_CHECK_WPASYNC_,
                                 .start = at, .end = end,
                                 .vec = (uint64_t)(uintptr_t)R->vec, .vec_len = VEC,
                                 .category_mask = PAGE_IS_WRITTEN_,
                                 .category_anyof_mask = PAGE_IS_PRESENT_ | PAGE_IS_SWAPPED_,
                                 .return_mask = PAGE_IS_WRITTEN_};
        long got = scan_step(&a);
        if (got < 0)
            return got;
        for (long k = 0; record && k < got; k++) {
            struct rt_dirty_run *last = R->nruns > first ? &R->runs[R->nruns - 1] : NULL;
            if (last && last->end == R->vec[k].start)
                last->end = R->vec[k].end;
            else if (R->nruns < MAX_RUNS)
                R->runs[R->nruns++] = (struct rt_dirty_run){R->vec[k].start, R->vec[k].end};
            else
                overflow = 1;
        }
        at = a.walk_end;
    }
    if (held) {
        long rc = list_held(start, end, held);
        if (rc < 0)
            return rc;
    }
    return overflow;
}

static int register_range(uint64_t start, uint64_t end)
{
    struct uffdio_register_ r = {.start = start, .len = end - start,
                                 .mode = UFFDIO_REGISTER_MODE_WP_};
    return raw3(SYS_ioctl, R->fd, UFFDIO_REGISTER_, (long)&r) < 0 ? -1 : 0;
}

/* One captured mapping: its plan (R->map[i]) and whether it is registered. */
static int track_one(const struct rt_state *st, uint64_t i, const struct prev_map *prev,
                     uint64_t nprev)
{
    const struct cairn_proc_map *m = &st->maps[i];
    R->map[i] = (struct rt_dirty_map){.mode = RT_DIRTY_WHOLE};
    if (!cairn_proc_trackable(m) || own(st, m))
        return 0;
    long j = find_prev(prev, nprev, m);
    uint64_t first = R->nruns;
    struct rt_held *held = j >= 0 && R->delta ? rt_stage_held(st, i) : NULL;
    long rc = j >= 0 ? scan(m->start, m->end, R->delta, held) : -1;
    if (rc == 0 && R->delta) {
        R->map[i] = (struct rt_dirty_map){RT_DIRTY_DELTA, (uint32_t)j, first, R->nruns - first};
        if (held)
            rt_stage_consider(i, R->runs + first, R->nruns - first, held);
        return 1;
    }
    R->nruns = first; /* overflowed, or not to be recorded: written whole */
    if (rc >= 0)
        return 1;
    /* New (or mapped again): register, protect what it holds. */
    if (register_range(m->start, m->end) < 0)
        return 0;
    return scan(m->start, m->end, 0, NULL) >= 0;
}

void rt_dirty_checkpoint(struct rt_state *st, uint64_t gen)
{
    if (!R)
        return;
    R->nruns = 0;
    R->delta = 0;
    rt_stage_reset();
    own_tracker();
    if (R->fd < 0) {
        for (uint64_t i = 0; i < st->core.nmaps; i++)
            R->map[i] = (struct rt_dirty_map){.mode = RT_DIRTY_WHOLE};
        R->epoch_gen = 0;
        return;
    }
    R->pagemap = raw3(SYS_open, (long)"/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
    if (R->pagemap < 0) { /* cannot scan: every mapping whole, tracking starts again */
        for (uint64_t i = 0; i < st->core.nmaps; i++)
            R->map[i] = (struct rt_dirty_map){.mode = RT_DIRTY_WHOLE};
        R->nprev = 0;
        R->epoch_gen = 0;
        return;
    }
    const struct prev_map *prev = R->prev[R->cur_prev];
    struct prev_map *next = R->prev[R->cur_prev ^ 1];
    uint64_t nprev = R->nprev;
    R->delta = R->have_parent && R->epoch_gen != 0 && R->parent.generation == R->epoch_gen;
    split_at_prev(st, prev, nprev);
    rt_dirty_debug_pagemap(st, R->pagemap); /* CAIRN_DEBUG_DIRTY only */
    int any = 0;
    for (uint64_t i = 0; i < st->core.nmaps; i++) {
        const struct cairn_proc_map *m = &st->maps[i];
        int registered = track_one(st, i, prev, nprev);
        any |= R->map[i].mode == RT_DIRTY_DELTA;
        next[i] = (struct prev_map){m->start, m->end, m->prot, m->kind, (uint32_t)registered, 0};
    }
    R->delta = R->delta && any;
    R->cur_prev ^= 1;
    R->nprev = st->core.nmaps;
    R->epoch_gen = gen;
    raw3(SYS_close, R->pagemap, 0, 0);
    R->pagemap = -1;
}

void rt_dirty_after_fork(void)
{
    if (!R || !R->nruns)
        return;
    uint64_t used = (R->nruns * sizeof R->runs[0] + PAGE - 1) & ~(PAGE - 1);
    madvise(R->runs, used, MADV_DONTNEED);
    R->nruns = 0;
}

const struct rt_dirty_map *rt_dirty_map(uint64_t i)
{
    return R && R->delta && i < CAIRN_PROC_MAX_MAPS && R->map[i].mode == RT_DIRTY_DELTA
               ? &R->map[i]
               : NULL;
}

const struct rt_dirty_run *rt_dirty_runs(void)
{
    return R ? R->runs : NULL;
}

const struct cairn_proc_parent *rt_dirty_parent(void)
{
    return R && R->delta ? &R->parent : NULL;
}

int rt_dirty_track(struct cairn_proc_track *t)
{
    if (!R || R->fd < 0)
        return 0;
    *t = (struct cairn_proc_track){.uffd_fd = (uint64_t)R->fd,
                                   .flag_addr = (uint64_t)(uintptr_t)&R->fd};
    return 1;
}
