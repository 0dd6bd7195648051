/* SPDX-License-Identifier: MIT */
/*
 * dirty_debug.c — a test-only check of delta images (CAIRN_DEBUG_DIRTY=DIR).
 *
 * The writer child records a hash of every page of every trackable mapping
 * of its snapshot in DIR/h-<gen> (an absent page and a zero page hash the
 * same). Writing a delta on parent P, it then compares each page of a
 * delta mapping that it did NOT write (the tracker reported it clean)
 * with P's record for that address (records are per process, DIR/h-<gen>-<pid>:
 * a process tree's members are deltas on their own images): a page that differs is one the chain
 * would restore wrong. The job's own pagemap entries, read just before the
 * scan, tell the two causes apart: a page the job wrote (present and not
 * write-protected) that the scan did not list is MISSED by the tracker; a
 * protected one was changed by a writer child (its own statics, the copy
 * of the alternate stack: harmless) or rebuilt wrong by a restore (the
 * restorer's DIR/r-<gen>, restore/debug.c, compared with DIR/h-<gen>,
 * tells). One line per mapping in DIR/report. Never in production: it
 * reads every page of the job.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"
#include "debug_hash.h"
#include "dirty.h"

#define PAGE 4096ull

struct dbg_rec {
    uint64_t start, end;
    uint32_t kind, prot, flags, pad;
    char name[64];
};

static char dir[256];
static uint64_t *jobpm;          /* the job's pagemap entries at the scan */
static uint64_t jobpm_cap = 1u << 24;
static uint64_t jobpm_start[CAIRN_PROC_MAX_MAPS]; /* map i's first entry */

int rt_dirty_debug_on(void)
{
    return dir[0] != 0;
}

void rt_dirty_debug_init(void)
{
    const char *d = getenv("CAIRN_DEBUG_DIRTY");
    if (d && strlen(d) < sizeof dir - 32)
        strcpy(dir, d);
    if (dir[0]) {
        void *p = mmap(NULL, jobpm_cap * 8, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        jobpm = p == MAP_FAILED ? NULL : p;
    }
}

/* The process the writer saves (its pid in the job), set in the job before
   the fork: each process of a tree has its own records, DIR/h-<gen>-<pid>. */
static uint64_t job_pid;

static void path_of(char *buf, size_t cap, const char *what, uint64_t gen)
{
    buf[0] = 0;
    rt_cat(buf, cap, dir);
    rt_cat(buf, cap, what);
    rt_cat_u64(buf, cap, gen);
    if (what[1] == 'h') {
        rt_cat(buf, cap, "-");
        rt_cat_u64(buf, cap, job_pid);
    }
}

void rt_dirty_debug_pagemap(const struct rt_state *st, long pagemap)
{
    uint64_t at = 0;
    if (!jobpm)
        return;
    job_pid = (uint64_t)getpid();
    for (uint64_t i = 0; i < st->core.nmaps; i++) {
        const struct cairn_proc_map *m = &st->maps[i];
        uint64_t n = (m->end - m->start) / PAGE;
        jobpm_start[i] = ~0ull;
        if (!cairn_proc_trackable(m) || at + n > jobpm_cap)
            continue;
        if (pread((int)pagemap, jobpm + at, n * 8, (off_t)(m->start / PAGE * 8)) != (ssize_t)(n * 8))
            continue;
        jobpm_start[i] = at;
        at += n;
    }
}


static int wanted(const struct rt_state *st, const struct cairn_proc_map *m)
{
    return cairn_proc_trackable(m) && m->start != st->alt_start;
}

/* Hash of each page of m into h (absent or zero: 0). */
static void hash_pages(int pagemap, const struct cairn_proc_map *m, uint64_t *h)
{
    uint64_t pm[512]; /* on the writer's stack: the runtime's memory is saved */
    uint64_t n = (m->end - m->start) / PAGE;
    for (uint64_t k = 0; k < n; k += 512) {
        uint64_t c = n - k < 512 ? n - k : 512;
        if (pread(pagemap, pm, c * 8, (off_t)((m->start / PAGE + k) * 8)) != (ssize_t)(c * 8))
            memset(pm, 0xff, sizeof pm); /* cannot tell: read them */
        for (uint64_t j = 0; j < c; j++) {
            const void *p = (const void *)(m->start + (k + j) * PAGE);
            int held = (pm[j] >> 62) & 3;
            h[k + j] = held ? cairn_debug_page_hash(p) : 0;
        }
    }
}

/* The parent's hash of the page at a, or 1 (no record: never a hash here). */
static int parent_hash(const unsigned char *f, size_t len, uint64_t a, uint64_t *out)
{
    size_t off = 8;
    uint64_t nrec;
    memcpy(&nrec, f, 8);
    for (uint64_t r = 0; r < nrec && off + sizeof(struct dbg_rec) <= len; r++) {
        struct dbg_rec rec;
        memcpy(&rec, f + off, sizeof rec);
        off += sizeof rec;
        uint64_t n = (rec.end - rec.start) / PAGE;
        if (a >= rec.start && a < rec.end && off + n * 8 <= len) {
            memcpy(out, f + off + (a - rec.start) / PAGE * 8, 8);
            return 0;
        }
        off += n * 8;
    }
    return -1;
}

static int dirty_at(const struct rt_dirty_map *dm, uint64_t a)
{
    const struct rt_dirty_run *w = rt_dirty_runs() + dm->first;
    for (uint64_t k = 0; k < dm->count; k++)
        if (a >= w[k].start && a < w[k].end)
            return 1;
    return 0;
}

/* Whether the job's own pagemap entry for a, read just before the scan,
   says written (present and not write-protected): -1 if not recorded. */
static int job_wrote(uint64_t i, const struct cairn_proc_map *m, uint64_t a)
{
    if (!jobpm || jobpm_start[i] == ~0ull)
        return -1;
    uint64_t e = jobpm[jobpm_start[i] + (a - m->start) / PAGE];
    return (e >> 63) && !((e >> 57) & 1);
}

static void say(int fd, uint64_t gen, uint64_t pgen, const struct cairn_proc_map *m, uint64_t i,
                uint64_t first, uint64_t bad, uint64_t missed, uint64_t checked)
{
    char line[512] = "gen ";
    rt_cat_u64(line, sizeof line, gen);
    rt_cat(line, sizeof line, " on ");
    rt_cat_u64(line, sizeof line, pgen);
    rt_cat(line, sizeof line, ": map ");
    rt_cat_u64(line, sizeof line, i);
    rt_cat(line, sizeof line, " ");
    rt_cat_hex(line, sizeof line, m->start);
    rt_cat(line, sizeof line, "-");
    rt_cat_hex(line, sizeof line, m->end);
    rt_cat(line, sizeof line, " kind ");
    rt_cat_u64(line, sizeof line, m->kind);
    rt_cat(line, sizeof line, " '");
    rt_cat(line, sizeof line, m->name);
    rt_cat(line, sizeof line, "': ");
    rt_cat_u64(line, sizeof line, bad);
    rt_cat(line, sizeof line, " of ");
    rt_cat_u64(line, sizeof line, checked);
    rt_cat(line, sizeof line, " clean pages differ from the parent's, first at +");
    rt_cat_hex(line, sizeof line, first - m->start);
    if (missed) {
        rt_cat(line, sizeof line, "; MISSED ");
        rt_cat_u64(line, sizeof line, missed);
        rt_cat(line, sizeof line, " written by the job (unprotected at the scan) and not listed\n");
    } else {
        rt_cat(line, sizeof line, "; all protected at the scan (changed by a writer child, "
                                  "or rebuilt wrong by a restore)\n");
    }
    if (write(fd, line, strlen(line)) < 0)
        return;
}

/* A delta mapping's clean pages against the parent's record. */
static void check_map(int rep, const struct rt_state *st, uint64_t i, const uint64_t *h,
                      const unsigned char *pf, size_t plen, uint64_t pgen, uint64_t gen)
{
    const struct cairn_proc_map *m = &st->maps[i];
    const struct rt_dirty_map *dm = rt_dirty_map(i);
    if (!dm || !(m->flags & CAIRN_MAPF_DELTA))
        return;
    uint64_t bad = 0, missed = 0, checked = 0, first = 0;
    for (uint64_t a = m->start; a < m->end; a += PAGE) {
        uint64_t ph;
        if (dirty_at(dm, a))
            continue;
        checked++;
        if (parent_hash(pf, plen, a, &ph) < 0)
            ph = ~0ull;
        if (ph == h[(a - m->start) / PAGE])
            continue;
        if (!bad++)
            first = a;
        missed += job_wrote(i, m, a) == 1;
    }
    if (bad)
        say(rep, gen, pgen, m, i, first, bad, missed, checked);
}

void rt_dirty_debug(const struct rt_state *st, uint64_t gen)
{
    if (!dir[0])
        return;
    char path[320];
    int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    path_of(path, sizeof path, "/h-", gen);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    path_of(path, sizeof path, "/report", 0);
    path[strlen(path) - 1] = 0;
    int rep = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const struct cairn_proc_parent *par = rt_dirty_parent();
    unsigned char *pf = MAP_FAILED;
    size_t plen = 0;
    if (par) {
        path_of(path, sizeof path, "/h-", par->generation);
        int pfd = open(path, O_RDONLY | O_CLOEXEC);
        plen = pfd >= 0 ? (size_t)lseek(pfd, 0, SEEK_END) : 0;
        if (plen >= 8)
            pf = mmap(NULL, plen, PROT_READ, MAP_PRIVATE, pfd, 0);
        if (pfd >= 0)
            close(pfd);
    }
    uint64_t nrec = 0;
    for (uint64_t i = 0; i < st->core.nmaps; i++)
        nrec += wanted(st, &st->maps[i]);
    if (write(out, &nrec, 8) < 0)
        nrec = 0;
    for (uint64_t i = 0; i < st->core.nmaps; i++) {
        const struct cairn_proc_map *m = &st->maps[i];
        if (!wanted(st, m))
            continue;
        uint64_t n = (m->end - m->start) / PAGE;
        uint64_t *h = mmap(NULL, n * 8, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (h == MAP_FAILED)
            continue;
        hash_pages(pagemap, m, h);
        struct dbg_rec rec = {m->start, m->end, m->kind, m->prot, m->flags, 0, {0}};
        memcpy(rec.name, m->name, sizeof rec.name);
        if (write(out, &rec, sizeof rec) < 0 || write(out, h, n * 8) < 0)
            rec.pad = 1; /* the record is short: the check below still runs */
        if (pf != MAP_FAILED)
            check_map(rep, st, i, h, pf, plen, par->generation, gen);
        munmap(h, n * 8);
    }
    char line[96] = "gen ";
    rt_cat_u64(line, sizeof line, gen);
    rt_cat(line, sizeof line, par ? (pf != MAP_FAILED ? " delta checked" : " delta, no parent record")
                                  : " full");
    rt_cat(line, sizeof line, " (pid ");
    rt_cat_u64(line, sizeof line, job_pid);
    rt_cat(line, sizeof line, ")\n");
    if (write(rep, line, strlen(line)) < 0)
        line[0] = 0;
    close(out);
    close(rep);
    close(pagemap);
}
