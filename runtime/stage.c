/* SPDX-License-Identifier: MIT */
/*
 * stage.c — a delta checkpoint's pause that depends on what the job wrote,
 * not on how much memory it has (issue 13).
 *
 * The writer is a fork of the job, and fork copies the page tables of all
 * its private memory: 22–27 ms per GiB of 4 KiB pages, whatever changed.
 * For a delta, the writer needs of a large mapping only the pages written
 * since the parent image and the list of pages it holds. So, at the pause,
 * for each large mapping the tracker followed (dirty.c), the written pages
 * are copied into a buffer of their own and the mapping is marked
 * MADV_DONTFORK: the fork leaves it out, the writer writes the buffer, and
 * the mapping is MADV_DOFORK again as soon as the writer exists. The copy
 * costs ~0.15 ms per written MiB against fork's ~0.025 ms per held MiB, so
 * a mapping is staged only if it holds at least 8 times what was written
 * in it on 4 KiB pages (on huge pages fork is cheap: left alone).
 *
 * The buffer is kept from one checkpoint to the next (a memfd mapped
 * MAP_SHARED, see *The buffer* below): fresh pages cost this VM 0.45 ms per
 * MiB to get from the host, more than the copy itself.
 *
 * What the writer child itself touches must stay in its fork: the
 * runtime's state, its buffers, the alternate stack and its copy, the
 * thread's TLS, libc's and the runtime's statics. Mappings holding any of
 * those, small ones (under STAGE_MIN) and stacks are never staged; with
 * CAIRN_DEBUG_DIRTY (which hashes every page in the writer) nothing is.
 *
 * Like dirty.c this runs after the job's errno was given back, before the
 * fork: raw system calls only.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "capture.h"
#include "dirty.h"
#include "sparse.h"
#include "stage.h"

#define PAGE 4096ull
#define STAGE_MIN (16ull << 20)       /* smaller mappings fork cheaply */
#define STAGE_MAX_MAPS 64
#define STAGE_MAX_BYTES (1ull << 30)  /* copied at one pause, at most */
#define STAGE_RATIO 8                 /* held 4 KiB pages per written one */
#define STAGE_FRESH_RATIO 64          /* the same, to stage into a new buffer */
#define HELD_CAP ((long)CAIRN_PROC_MAX_EXTENTS)
#define POOL_CAP (1l << 22)           /* data and base lists of all maps */

extern char **environ;

struct arena {
    struct cairn_proc_extent held[HELD_CAP];
    struct cairn_proc_extent pool[POOL_CAP];
};

static struct {
    struct arena *arena;       /* mapped for one checkpoint, NORESERVE */
    long pool_used;
    struct rt_held held;
    struct rt_stage_map map[STAGE_MAX_MAPS];
    uint64_t nmaps, nbytes;
    uint64_t nheld;            /* what the staged mappings hold */
    uint64_t start[STAGE_MAX_MAPS], end[STAGE_MAX_MAPS];
    unsigned char *bytes;      /* the copied pages, nbytes */
    uint64_t copied;           /* nbytes once staged, for PAUSE */
    int forked;                /* marked MADV_DONTFORK */
    int prepared;              /* a new buffer for the writer to fill */
} S;

/*
 * The buffer. Its pages are the job's memory from one checkpoint to the
 * next, so that a pause copies into pages it already has. It is a memfd
 * ("cairn-stage") mapped MAP_SHARED:
 * - fork leaves the page tables of a shared mapping to the child's faults,
 *   and the job's own pages stay writable (a private buffer would be
 *   write-protected by the writer's fork and fault again at every pause);
 * - MADV_DONTFORK except for the writer's fork: a child of the job does not
 *   share it (its next capture does not find it and it takes a new one);
 * - the capture leaves it out of the image by its inode (rt_stage_owns);
 *   a capture that does not find it (a restored job, a forked child)
 *   forgets it without unmapping what may now be the job's;
 * - the writer reads it after the job resumed: the job fills it again only
 *   once that writer said it is done with it (busy, in its first page);
 * - a delta that finds no buffer it can use (the first of a run, or of a
 *   restored one; the last writer still busy; too small) makes one at the
 *   pause and copies into fresh pages if its mappings hold 64 times what
 *   was written (buffer_now); else it is not staged: its fork takes
 *   everything, as before, and a new buffer, mapped but empty, goes with
 *   it; that writer allocates the pages (MADV_POPULATE_WRITE, off the
 *   pause, where fresh pages cost this VM 0.3-0.75 ms per MiB), and the
 *   next delta maps them (~0.1 ms per MiB) and copies.
 * It is made for what a delta would copy and a half (2 MiB steps), and
 * made anew, smaller, when a pause copies less than a quarter of one over
 * 8 MiB.
 */
#define BUF_HEADER PAGE
#define MADV_POPULATE_READ_ 22          /* Linux 5.14 */
#define MADV_POPULATE_WRITE_ 23
#define BUF_ROUND (2ull << 20)         /* sizes: what a delta copies + 1/2, rounded up */
#define BUF_SHRINK (8ull << 20)        /* never made smaller than this */
static struct {
    unsigned char *map;        /* header page, then the copied pages */
    uint64_t len, ino;
    int seen;                  /* by this checkpoint's capture */
    int fresh;                 /* its pages not yet in the job's page table */
} B;

/* When a buffer is made at the pause (buffer_now). CAIRN_TEST_STAGE_FRESH,
   a test hook, makes it never (0) or whenever the mappings are staged at
   all (1), so that transparent_stage follows both ways, whatever the
   job's speed did to what it wrote between two checkpoints. */
static uint64_t fresh_ratio = STAGE_FRESH_RATIO;

void rt_stage_init(void)
{
    const char *v = getenv("CAIRN_TEST_STAGE_FRESH");
    if (v && (!strcmp(v, "0") || !strcmp(v, "1")))
        fresh_ratio = (uint64_t)(*v - '0');
}

static volatile uint64_t *busy_word(void)
{
    return (volatile uint64_t *)B.map;
}

static long raw6(long nr, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10),
                     "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return ret;
}

static void *raw_map(uint64_t len, int flags)
{
    long p = raw6(SYS_mmap, 0, (long)len, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    return p < 0 && p > -4096 ? NULL : (void *)p;
}

static void raw_unmap(void *p, uint64_t len)
{
    if (p)
        raw6(SYS_munmap, (long)p, (long)len, 0, 0, 0, 0);
}

static long buffer_advise(int advice)
{
    return raw6(SYS_madvise, (long)B.map, (long)B.len, advice, 0, 0, 0);
}

void rt_stage_reset(void)
{
    S.nmaps = 0;
    S.nbytes = 0;
    S.nheld = 0;
    S.pool_used = 0;
    S.forked = 0;
    S.copied = 0;
    S.bytes = NULL;
    S.arena = NULL; /* the last one was dropped after its fork */
}

/* ---- the buffer ------------------------------------------------------------ */

void rt_stage_maps_listing(void)
{
    B.seen = 0;
}

int rt_stage_owns(uint64_t start, uint64_t end, uint64_t ino)
{
    if (!B.map || start != (uint64_t)(uintptr_t)B.map || end != start + B.len || ino != B.ino)
        return 0;
    B.seen = 1;
    return 1;
}

void rt_stage_release(void)
{
    if (!B.map || !(S.forked || S.prepared))
        return;
    if (S.prepared) /* the pages, allocated here, off the job's pause */
        buffer_advise(MADV_POPULATE_WRITE_);
    __atomic_store_n(busy_word(), 0, __ATOMIC_RELEASE);
}

static void drop_buffer(void)
{
    raw_unmap(B.map, B.len); /* a writer still reading it keeps its mapping */
    B.map = NULL;
}

/* Whether the kept buffer can take nbytes of pages now; drops it if not.
   A buffer this capture did not find is already forgotten (rt_stage_before_fork). */
static int buffer_ready(uint64_t nbytes)
{
    if (B.map && (__atomic_load_n(busy_word(), __ATOMIC_ACQUIRE) || B.len < BUF_HEADER + nbytes ||
                  (B.len > BUF_SHRINK && (B.len - BUF_HEADER) / 4 > nbytes)))
        drop_buffer();
    return B.map != NULL;
}

/* A new buffer for about nbytes, not populated and not yet MADV_DONTFORK.
   0, or -1 if it could not be made. */
static int make_buffer(uint64_t nbytes)
{
    uint64_t need = BUF_HEADER + nbytes, len = (need + need / 2 + BUF_ROUND - 1) & ~(BUF_ROUND - 1);
    long fd = raw6(SYS_memfd_create, (long)"cairn-stage", MFD_CLOEXEC, 0, 0, 0, 0);
    if (fd < 0)
        return -1;
    struct stat sb;
    long p = -1;
    if (raw6(SYS_ftruncate, fd, (long)len, 0, 0, 0, 0) == 0 &&
        raw6(SYS_fstat, fd, (long)&sb, 0, 0, 0, 0) == 0)
        p = raw6(SYS_mmap, 0, (long)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    raw6(SYS_close, fd, 0, 0, 0, 0, 0);
    if (p < 0 && p > -4096)
        return -1;
    B = (__typeof__(B)){.map = (unsigned char *)p, .len = len, .ino = sb.st_ino, .seen = 1};
    return 0;
}

/* A new buffer that this checkpoint's writer, a fork, populates
   (rt_stage_release): the next delta copies into its pages. */
static void prepare_buffer(uint64_t nbytes)
{
    if (make_buffer(nbytes) < 0)
        return;
    B.fresh = 1;
    *busy_word() = 1;
    S.prepared = 1;
}

/* No buffer is ready (the first delta of a run, or of a restored one...).
   Copying into fresh pages costs this VM 0.65-0.85 ms per MiB written
   (3.4 once, right after a 16 GiB job gave its memory back to the host),
   against fork's 0.025 ms per MiB held: when the staged mappings hold 64
   times what was written in them, a new buffer filled at the pause stops
   the job for less than the fork of everything, in all but the worst case
   (1% written: 33-40 ms against 71-93 at 4 GiB, 171 against 300 at 16).
   Else the fork takes everything and its writer prepares the next delta's
   buffer off the pause. The pages are taken before the copy: a write to
   a page of shmem the kernel cannot allocate is a SIGBUS, where
   MADV_POPULATE_WRITE fails, and then the fork takes everything. */
static int buffer_now(uint64_t nbytes)
{
    if (fresh_ratio && S.nheld >= fresh_ratio * nbytes && make_buffer(nbytes) == 0) {
        if (buffer_advise(MADV_POPULATE_WRITE_) == 0)
            return 1;
        drop_buffer();
        return 0;
    }
    prepare_buffer(nbytes);
    return 0;
}

static int overlaps(const struct cairn_proc_map *m, uint64_t start, uint64_t len)
{
    return start < m->end && start + len > m->start;
}

/* Memory the writer child reads or writes itself (see the top). */
static int writer_touches(const struct rt_state *st, const struct cairn_proc_map *m)
{
    static int anchor; /* the runtime's own statics */
    if (overlaps(m, (uint64_t)(uintptr_t)st, sizeof *st) ||
        overlaps(m, (uint64_t)(uintptr_t)st->pipe_data,
                 CAIRN_PROC_MAX_PIPE_DATA + CAIRN_PROC_MAX_IPC_DATA) ||
        overlaps(m, st->alt_start, st->alt_size) ||
        overlaps(m, (uint64_t)(uintptr_t)st->alt_copy, st->alt_size ? st->alt_size : 1) ||
        overlaps(m, st->core.fs_base, 1) || overlaps(m, (uint64_t)(uintptr_t)&anchor, 1) ||
        overlaps(m, (uint64_t)(uintptr_t)&environ, 1))
        return 1;
    for (uint64_t k = 0; k < st->nbacked; k++) /* populated by the writer */
        if (overlaps(m, st->backed[k].start, st->backed[k].end - st->backed[k].start))
            return 1;
    return 0;
}

struct rt_held *rt_stage_held(const struct rt_state *st, uint64_t i)
{
    const struct cairn_proc_map *m = &st->maps[i];
    if (S.nmaps == STAGE_MAX_MAPS || m->kind != CAIRN_MAP_ANON || m->end - m->start < STAGE_MIN ||
        rt_dirty_debug_on() || writer_touches(st, m))
        return NULL;
    if (!S.arena && !(S.arena = raw_map(sizeof *S.arena, MAP_NORESERVE)))
        return NULL;
    S.held = (struct rt_held){.start = m->start, .end = m->end, .ext = S.arena->held, .cap = HELD_CAP};
    return &S.held;
}

void rt_held_add(struct rt_held *h, uint64_t start, uint64_t end)
{
    if (!h->overflow &&
        rt_extent_append(h->ext, &h->n, h->cap, start - h->start, end - h->start) < 0)
        h->overflow = 1;
}

void rt_stage_consider(uint64_t i, const struct rt_dirty_run *w, uint64_t nw,
                       const struct rt_held *h)
{
    if (h->overflow || h->huge || S.nmaps == STAGE_MAX_MAPS || !S.arena)
        return;
    long cap = (POOL_CAP - S.pool_used) / 2;
    cap = cap < HELD_CAP ? cap : HELD_CAP;
    struct cairn_proc_extent *data = S.arena->pool + S.pool_used, *base = data + cap;
    struct rt_stage_map s = {.index = i, .data = data, .base = base};
    if (cap <= 0 ||
        rt_split_written(h->ext, h->n, h->start, w, w + nw, data, &s.ndata, base, &s.nbase, cap))
        return;
    s.nbytes = rt_sparse_bytes(data, s.ndata);
    uint64_t held = rt_sparse_bytes(h->ext, h->n);
    if (s.nbytes * STAGE_RATIO > held ||
        S.nbytes + s.nbytes > STAGE_MAX_BYTES)
        return;
    /* The base list goes right after the data list: the pool stays dense. */
    memmove(data + s.ndata, base, (size_t)s.nbase * sizeof *base);
    s.base = data + s.ndata;
    S.pool_used += s.ndata + s.nbase;
    S.start[S.nmaps] = h->start;
    S.end[S.nmaps] = h->end;
    S.map[S.nmaps++] = s;
    S.nbytes += s.nbytes;
    S.nheld += held;
}

/* Marks the first n staged mappings; how many it could. */
static uint64_t mark(uint64_t n, int advice)
{
    for (uint64_t k = 0; k < n; k++)
        if (raw6(SYS_madvise, (long)S.start[k], (long)(S.end[k] - S.start[k]), advice, 0, 0, 0) < 0)
            return k;
    return n;
}

void rt_stage_before_fork(const struct rt_state *st)
{
    /* A restored job's record is the one its image's writer saw at its
       fork: forked or prepared, and a buffer that is not mapped here. Left
       so, a full checkpoint (no S.nmaps) would give its writer a stale
       address to write the busy word to (rt_stage_release: SIGSEGV, or a
       write into whatever is mapped there now), and rt_stage_after_fork
       would unmap that address in the job. */
    if (B.map && !B.seen)
        B.map = NULL; /* not this process's: forget, never unmap */
    S.forked = 0;
    S.prepared = 0;
    if (!S.nmaps)
        return;
    if (!buffer_ready(S.nbytes) && !buffer_now(S.nbytes)) {
        S.nmaps = 0; /* this fork takes it all; the next delta is staged */
        return;
    }
    /* Its pages are there (the writer made them), not yet in this page
       table. Read faults map them writable (a shared mapping of shmem
       needs no write notification) and 16 at a time: 0.11 ms per MiB,
       where write faults, one per page, cost 0.25. */
    if (B.fresh && buffer_advise(MADV_POPULATE_READ_) < 0) {
        drop_buffer(); /* its writer could not take every page: no SIGBUS in the copy */
        S.nmaps = 0;
        return;
    }
    B.fresh = 0;
    *busy_word() = 1;
    S.bytes = B.map + BUF_HEADER;
    uint64_t at = 0;
    for (uint64_t k = 0; k < S.nmaps; k++) {
        struct rt_stage_map *s = &S.map[k];
        const struct cairn_proc_map *m = &st->maps[s->index];
        s->bytes = S.bytes + at;
        for (long e = 0; e < s->ndata; e++) {
            memcpy(S.bytes + at, (const void *)(m->start + s->data[e].offset), s->data[e].length);
            at += s->data[e].length;
        }
    }
    uint64_t marked = mark(S.nmaps, MADV_DONTFORK);
    if (marked < S.nmaps ||
        buffer_advise(MADV_DOFORK) < 0) {
        mark(marked, MADV_DOFORK); /* undo what was marked; the fork takes it all */
        *busy_word() = 0;
        S.nmaps = 0;
        return;
    }
    S.forked = 1;
    S.copied = S.nbytes;
}

void rt_stage_after_fork(void)
{
    if (S.forked)
        mark(S.nmaps, MADV_DOFORK);
    if ((S.forked || S.prepared) &&
        buffer_advise(MADV_DONTFORK) < 0)
        drop_buffer(); /* a child of the job would share it */
    S.forked = 0;
    S.prepared = 0;
    raw_unmap(S.arena, sizeof *S.arena); /* the writer has its copy */
    S.bytes = NULL;
    S.arena = NULL;
    S.nmaps = 0;
}

uint64_t rt_stage_copied(void)
{
    return S.copied;
}

const struct rt_stage_map *rt_stage_map(uint64_t i)
{
    for (uint64_t k = 0; k < S.nmaps; k++)
        if (S.map[k].index == i)
            return &S.map[k];
    return NULL;
}
