/* SPDX-License-Identifier: MIT */
/*
 * writer.c — writes a process image from the copy-on-write writer child.
 *
 * The child is a snapshot of the job at the moment of the checkpoint; it
 * streams every mapping straight from its (shared, copy-on-write) memory
 * through libcairn's writer, which allocates nothing for uncompressed
 * sections; of an anonymous mapping only the pages that hold anything
 * (sparse.c). An image that would not fit in the store's free space is
 * refused before its first byte. Being a throw-away copy, the child may change its own mappings
 * to read them: unreadable regions are made readable, and file pages past
 * the end of their file (which would raise SIGBUS) are replaced by zeros.
 * A large delta mapping may not be in the child at all: its written pages
 * were copied at the pause and it was left out of the fork (stage.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "capture.h"
#include "cairn_writer.h"
#include "dirty.h"
#include "identity.h"
#include "progress.h"
#include "sparse.h"
#include "stage.h"

#define PAGE 4096ull

/* Replaces the pages of a file mapping beyond the file's end by zeros. */
static void zero_past_eof(const struct cairn_proc_map *m)
{
    if (m->kind != CAIRN_MAP_FILE || m->name[0] != '/')
        return;
    int fd = open(m->name, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || syscall(SYS_fstat, fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        return;
    }
    close(fd);
    uint64_t avail = (uint64_t)sb.st_size > m->offset
                         ? ((uint64_t)sb.st_size - m->offset + PAGE - 1) & ~(PAGE - 1)
                         : 0;
    if (m->start + avail < m->end)
        mmap((void *)(m->start + avail), m->end - m->start - avail, PROT_READ,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static int section(struct cairn__writer *w, unsigned type, uint64_t arg, const void *data,
                   uint64_t size)
{
    struct cairn__section s = {.type = type, .arg = arg,
                               .align = type == CAIRN_SEC_PROC_MEM ? CAIRN_PROC_MEM_ALIGN : 0};
    return cairn__writer_section(w, &s, data, size);
}

/* The errors a store's file system gives a writer, named (no strerror: it
   may translate, and allocate, in the job's locale). */
static const char *error_name(int err)
{
    switch (err) {
    case ENOSPC: return "no space left on the device";
    case EDQUOT: return "disk quota exceeded";
    case EFBIG: return "file too large: the job's file size limit (ulimit -f)";
    case EIO: return "input/output error";
    case ENOMEM: return "out of memory";
    case EROFS: return "read-only file system";
    default: return NULL;
    }
}

static int fail(struct rt_state *st, const char *what, int rc)
{
    const char *name = error_name(-rc);
    st->why[0] = 0;
    rt_cat(st->why, sizeof st->why, what);
    rt_cat(st->why, sizeof st->why, " (");
    if (name) {
        rt_cat(st->why, sizeof st->why, name);
        rt_cat(st->why, sizeof st->why, ", ");
    }
    rt_cat(st->why, sizeof st->why, "error ");
    rt_cat_u64(st->why, sizeof st->why, (uint64_t)-rc);
    rt_cat(st->why, sizeof st->why, ")");
    return -1;
}

/* How the memory is to be written: which mappings sparse (sparse.c), and
   the image's size, known before the first byte is written. */
struct plan {
    int pagemap;                       /* /proc/self/pagemap, or -1 */
    struct cairn_proc_extent *ext;     /* CAIRN_PROC_MAX_EXTENTS, mapped here */
    struct cairn__part *parts;         /* as many */
    struct cairn_proc_extent *data;    /* a delta mapping's written runs (as many) */
    struct cairn_proc_extent *base;    /* and the parent's (as many) */
    uint64_t bytes;                    /* what the image will hold, about */
};

/* An anonymous mapping with saved bytes, written from its own memory. */
static int sparse_candidate(const struct rt_state *st, const struct cairn_proc_map *m)
{
    return (m->flags & CAIRN_MAPF_DATA) && (m->prot & PROT_READ) &&
           (m->kind == CAIRN_MAP_ANON || m->kind == CAIRN_MAP_STACK) &&
           !(m->start == st->alt_start && m->end - m->start == st->alt_size);
}

static long scan(const struct plan *p, const struct cairn_proc_map *m)
{
    if (p->pagemap < 0)
        return RT_SPARSE_UNSUPPORTED;
    return rt_sparse_scan(p->pagemap, m->start, m->end, p->ext, CAIRN_PROC_MAX_EXTENTS);
}

/*
 * A mapping the tracker followed since the parent image (dirty.c): of the
 * pages it holds (the n runs in p->ext, from this writer's own scan), those
 * written since go to p->data (saved here), the others to p->base (the
 * parent's). 0 with the counts, or -1 (too many runs: write it as before).
 */
static int split_delta(const struct plan *p, const struct cairn_proc_map *m,
                       const struct rt_dirty_map *dm, long n, long *nd, long *nb)
{
    const struct rt_dirty_run *w = rt_dirty_runs() + dm->first;
    return rt_split_written(p->ext, n, m->start, w, w + dm->count, p->data, nd, p->base, nb,
                            CAIRN_PROC_MAX_EXTENTS);
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

/* Memory a restore mapped from its image (capture.c) has its pages in the
   file, present or not, and a fork copies no page table of a file mapping
   the job never wrote: each readable piece is faulted in here (from the
   page cache) so that the scan for holes sees it whole. */
static int populate_backed(struct rt_state *st)
{
    for (uint64_t k = 0; k < st->nbacked; k++) {
        uint64_t a = st->backed[k].start, len = st->backed[k].end - a;
        if (madvise((void *)a, len, MADV_POPULATE_READ) < 0)
            return fail(st, "cannot read memory the restore mapped from its image (the "
                        "image was cut since?)", -errno);
    }
    return 0;
}

/* A staged mapping (stage.c): sparse, a delta if the parent holds any of
   its pages; 1 if mapping i is one. */
static int plan_staged(struct rt_state *st, uint64_t i, struct plan *p)
{
    const struct rt_stage_map *s = rt_stage_map(i);
    const struct rt_dirty_map *dm = rt_dirty_map(i);
    if (!s || !dm)
        return 0;
    struct cairn_proc_map *m = &st->maps[i];
    m->flags |= CAIRN_MAPF_SPARSE;
    if (s->nbase) {
        m->flags |= CAIRN_MAPF_DELTA;
        m->parent_index = dm->parent_index;
    }
    p->bytes += s->nbytes + (uint64_t)(s->ndata + s->nbase) * sizeof p->ext[0] + 384;
    return 1;
}

/* A staged mapping's sections: its page lists, then the copied pages. */
static int write_staged(struct rt_state *st, struct cairn__writer *w, uint64_t i,
                        const struct rt_stage_map *s)
{
    int rc = section(w, CAIRN_SEC_PROC_EXTENTS, i, s->data, (uint64_t)s->ndata * sizeof s->data[0]);
    if (rc == 0 && (st->maps[i].flags & CAIRN_MAPF_DELTA))
        rc = section(w, CAIRN_SEC_PROC_BASE, i, s->base, (uint64_t)s->nbase * sizeof s->base[0]);
    if (rc < 0)
        return fail(st, "cannot write a mapping's page list", rc);
    rc = section(w, CAIRN_SEC_PROC_MEM, i, s->bytes, s->nbytes);
    return rc < 0 ? fail(st, "cannot write a memory section", rc) : 0;
}

/* Marks the mappings to be written sparse and sums the image's size. */
static int make_plan(struct rt_state *st, struct plan *p)
{
    if (populate_backed(st) < 0)
        return -1;
    size_t buf = CAIRN_PROC_MAX_EXTENTS * (3 * sizeof *p->ext + sizeof *p->parts);
    void *mem = mmap(NULL, buf, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return fail(st, "cannot map the writer's page lists", -12);
    p->ext = mem;
    p->data = p->ext + CAIRN_PROC_MAX_EXTENTS;
    p->base = p->data + CAIRN_PROC_MAX_EXTENTS;
    p->parts = (struct cairn__part *)(p->base + CAIRN_PROC_MAX_EXTENTS);
    p->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    p->bytes = sizeof st->core + st->core.nmaps * (sizeof st->maps[0] + 128) +
               st->core.nfiles * (sizeof st->files[0] + sizeof st->file_id[0]) + (1u << 20);
    for (uint64_t i = 0; i < st->core.nmaps; i++) {
        struct cairn_proc_map *m = &st->maps[i];
        if (!(m->flags & CAIRN_MAPF_DATA))
            continue;
        if (plan_staged(st, i, p))
            continue;
        uint64_t len = m->end - m->start;
        long n = sparse_candidate(st, m) ? scan(p, m) : RT_SPARSE_UNSUPPORTED;
        uint64_t used = n >= 0 ? rt_sparse_bytes(p->ext, n) : len;
        const struct rt_dirty_map *dm = n >= 0 ? rt_dirty_map(i) : NULL;
        long nd, nb;
        if (dm && split_delta(p, m, dm, n, &nd, &nb) == 0 && nb > 0) {
            m->flags |= CAIRN_MAPF_SPARSE | CAIRN_MAPF_DELTA;
            m->parent_index = dm->parent_index;
            p->bytes += rt_sparse_bytes(p->data, nd) + (uint64_t)(nd + nb) * sizeof p->ext[0] + 384;
        } else if (n >= 0 && used < len) {
            m->flags |= CAIRN_MAPF_SPARSE;
            p->bytes += used + (uint64_t)n * sizeof p->ext[0] + 256;
        } else {
            p->bytes += len + 128;
        }
    }
    return 0;
}

/* "the image needs N MiB<and><limit MiB><tail>": -1. */
static int too_large(struct rt_state *st, uint64_t bytes, const char *and, uint64_t limit,
                     const char *tail)
{
    st->why[0] = 0;
    rt_cat(st->why, sizeof st->why, "the image needs ");
    rt_cat_u64(st->why, sizeof st->why, (bytes + (1u << 20) - 1) >> 20);
    rt_cat(st->why, sizeof st->why, and);
    rt_cat_u64(st->why, sizeof st->why, limit >> 20);
    rt_cat(st->why, sizeof st->why, tail);
    return -1;
}

/* Refuses an image larger than the job's file size limit (ulimit -f: a
   write past it fails with EFBIG, the writer having SIGXFSZ blocked),
   after raising this child's soft limit to the hard one: the writer is
   cairn's, and the limit the job set for itself stays as it was. */
static int check_file_size_limit(struct rt_state *st, uint64_t bytes)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_FSIZE, &rl);
        if (rl.rlim_cur == RLIM_INFINITY)
            return 0;
    }
    return bytes <= (uint64_t)rl.rlim_cur
               ? 0
               : too_large(st, bytes, " MiB and the job's file size limit (ulimit -f) is ",
                           (uint64_t)rl.rlim_cur, " MiB");
}

/* Refuses an image that cannot fit in its file system's free space. */
static int check_space(struct rt_state *st, int fd, uint64_t bytes)
{
    struct statfs fs;
    if (fstatfs(fd, &fs) < 0 || fs.f_blocks == 0)
        return 0; /* cannot tell, or no limit (cairn run's memfd: it compresses) */
    uint64_t avail = (uint64_t)fs.f_bavail * (uint64_t)fs.f_bsize;
    return bytes <= avail
               ? 0
               : too_large(st, bytes, " MiB and the store's file system has ", avail, " MiB free");
}

/* A sparse mapping: its extents, then the pages they list. A delta
   mapping: the runs saved here, the runs the parent holds, the pages. */
static int write_sparse(struct rt_state *st, struct cairn__writer *w, const struct plan *p,
                        uint64_t i)
{
    const struct cairn_proc_map *m = &st->maps[i];
    long n = scan(p, m), nb = 0;
    if (n < 0)
        return fail(st, "a sparse mapping could not be scanned again", -5);
    const struct cairn_proc_extent *ext = p->ext;
    if (m->flags & CAIRN_MAPF_DELTA) {
        const struct rt_dirty_map *dm = rt_dirty_map(i);
        if (!dm || split_delta(p, m, dm, n, &n, &nb) < 0)
            return fail(st, "a delta mapping could not be split again", -5);
        ext = p->data;
    }
    int rc = section(w, CAIRN_SEC_PROC_EXTENTS, i, ext, (uint64_t)n * sizeof ext[0]);
    if (rc == 0 && (m->flags & CAIRN_MAPF_DELTA))
        rc = section(w, CAIRN_SEC_PROC_BASE, i, p->base, (uint64_t)nb * sizeof p->base[0]);
    if (rc < 0)
        return fail(st, "cannot write a mapping's page list", rc);
    for (long k = 0; k < n; k++)
        p->parts[k] = (struct cairn__part){(const void *)(m->start + ext[k].offset),
                                           ext[k].length};
    struct cairn__section s = {.type = CAIRN_SEC_PROC_MEM, .arg = i, .align = CAIRN_PROC_MEM_ALIGN};
    rc = cairn__writer_section_parts(w, &s, p->parts, (size_t)n);
    return rc < 0 ? fail(st, "cannot write a memory section", rc) : 0;
}

static int write_memory(struct rt_state *st, struct cairn__writer *w, const struct plan *p)
{
    for (uint64_t i = 0; i < st->core.nmaps; i++) {
        const struct cairn_proc_map *m = &st->maps[i];
        if (!(m->flags & CAIRN_MAPF_DATA))
            continue;
        const struct rt_stage_map *s = rt_stage_map(i);
        if (s && (m->flags & CAIRN_MAPF_SPARSE)) {
            if (write_staged(st, w, i, s) < 0)
                return -1;
            continue;
        }
        if (m->flags & CAIRN_MAPF_SPARSE) {
            if (write_sparse(st, w, p, i) < 0)
                return -1;
            continue;
        }
        if (!(m->prot & PROT_READ))
            mprotect((void *)m->start, m->end - m->start, (int)m->prot | PROT_READ);
        zero_past_eof(m);
        const void *data = (const void *)m->start;
        if (m->start == st->alt_start && m->end - m->start == st->alt_size)
            data = st->alt_copy;
        int rc = section(w, CAIRN_SEC_PROC_MEM, i, data, m->end - m->start);
        if (rc < 0)
            return fail(st, "cannot write a memory section", rc);
    }
    return 0;
}

/* A delta image's parent record, and the tracker's record for the restorer. */
static int write_chain_records(const struct rt_state *st, struct cairn__writer *w)
{
    const struct cairn_proc_parent *parent = NULL;
    for (uint64_t i = 0; i < st->core.nmaps && !parent; i++)
        if (st->maps[i].flags & CAIRN_MAPF_DELTA)
            parent = rt_dirty_parent();
    struct cairn_proc_track track;
    struct cairn_proc_mapnote note;
    rt_mapnote(&note);
    int rc = section(w, CAIRN_SEC_PROC_MAPNOTE, 0, &note, sizeof note);
    if (rc == 0 && parent)
        rc = section(w, CAIRN_SEC_PROC_PARENT, 0, parent, sizeof *parent);
    if (rc == 0 && rt_dirty_track(&track))
        rc = section(w, CAIRN_SEC_PROC_TRACK, 0, &track, sizeof track);
    return rc;
}

int rt_write_image(struct rt_state *st, int fd, uint64_t generation, uint64_t *bytes)
{
    struct plan plan = {0};
    if (make_plan(st, &plan) < 0 || check_space(st, fd, plan.bytes) < 0 ||
        check_file_size_limit(st, plan.bytes) < 0)
        return -1;
    struct cairn__writer w = {.mac = st->mac};
    rt_progress_start(&w, (int)st->core.control_fd, plan.bytes);
    int rc = cairn__writer_begin(&w, fd, CAIRN_IMG_PROCESS, generation);
    if (rc == 0)
        rc = section(&w, CAIRN_SEC_PROC_CORE, 0, &st->core, sizeof st->core);
    if (rc == 0)
        rc = section(&w, CAIRN_SEC_PROC_MAPS, 0, st->maps,
                     st->core.nmaps * sizeof st->maps[0]);
    if (rc == 0)
        rc = section(&w, CAIRN_SEC_PROC_FILES, 0, st->files,
                     st->core.nfiles * sizeof st->files[0]);
    if (rc == 0)
        rc = section(&w, CAIRN_SEC_PROC_FILEID, 0, st->file_id,
                     st->core.nfiles * sizeof st->file_id[0]);
    if (rc == 0 && st->have_job)
        rc = section(&w, CAIRN_SEC_PROC_JOB, 0, &st->job, sizeof st->job);
    if (rc == 0 && st->cpu.magic)
        rc = section(&w, CAIRN_SEC_PROC_CPU, 0, &st->cpu, sizeof st->cpu);
    if (rc == 0)
        rc = rt_ident_write(&w);
    if (rc == 0)
        rc = rt_ident_write_threads(&w, st);
    if (rc == 0 && st->nepoll)
        rc = section(&w, CAIRN_SEC_PROC_EPOLL, 0, st->epoll, st->nepoll * sizeof st->epoll[0]);
    if (rc == 0 && st->tree_len)
        rc = section(&w, CAIRN_SEC_PROC_TREE, 0, st->tree, st->tree_len);
    if (rc == 0 && st->pipe_data_len)
        rc = section(&w, CAIRN_SEC_PROC_PIPEDATA, 0, st->pipe_data, st->pipe_data_len);
    if (rc == 0 && st->ipc_len)
        rc = section(&w, CAIRN_SEC_PROC_IPC, 0, st->pipe_data + st->pipe_data_len, st->ipc_len);
    if (rc == 0 && st->ntimers)
        rc = section(&w, CAIRN_SEC_PROC_TIMERS, 0, st->timers,
                     st->ntimers * sizeof st->timers[0]);
    rc = rc == 0 ? write_chain_records(st, &w) : rc;
    if (rc < 0)
        return fail(st, "cannot write the image header sections", rc);
    if (write_memory(st, &w, &plan) < 0)
        return -1;
    rt_dirty_debug(st, generation); /* CAIRN_DEBUG_DIRTY only */
    rc = cairn__writer_finish(&w);
    if (rc < 0)
        return fail(st, "cannot finish the image", rc);
    *bytes = w.off;
    return 0;
}
