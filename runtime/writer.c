/* SPDX-License-Identifier: MIT */
/*
 * writer.c — writes a process image from the copy-on-write writer child.
 *
 * The child is a snapshot of the job at the moment of the checkpoint; it
 * streams every mapping straight from its (shared, copy-on-write) memory
 * through libcairn's writer, which allocates nothing for uncompressed
 * sections. Being a throw-away copy, the child may change its own mappings
 * to read them: unreadable regions are made readable, and file pages past
 * the end of their file (which would raise SIGBUS) are replaced by zeros.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "identity.h"
#include "cairn_writer.h"

#define PAGE 4096ull

/* Replaces the pages of a file mapping beyond the file's end by zeros. */
static void zero_past_eof(const struct cairn_proc_map *m)
{
    if (m->kind != CAIRN_MAP_FILE || m->name[0] != '/')
        return;
    int fd = open(m->name, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
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
    struct cairn__section s = {.type = type, .arg = arg};
    return cairn__writer_section(w, &s, data, size);
}

static int fail(struct rt_state *st, const char *what, int rc)
{
    st->why[0] = 0;
    rt_cat(st->why, sizeof st->why, what);
    rt_cat(st->why, sizeof st->why, " (error ");
    rt_cat_u64(st->why, sizeof st->why, (uint64_t)-rc);
    rt_cat(st->why, sizeof st->why, ")");
    return -1;
}

int rt_write_image(struct rt_state *st, int fd, uint64_t generation, uint64_t *bytes)
{
    struct cairn__writer w = {.mac = st->mac};
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
    if (rc == 0)
        rc = rt_ident_write(&w);
    if (rc == 0)
        rc = rt_ident_write_threads(&w, st);
    if (rc < 0)
        return fail(st, "cannot write the image header sections", rc);
    for (uint64_t i = 0; i < st->core.nmaps; i++) {
        const struct cairn_proc_map *m = &st->maps[i];
        if (!(m->flags & CAIRN_MAPF_DATA))
            continue;
        if (!(m->prot & PROT_READ))
            mprotect((void *)m->start, m->end - m->start, (int)m->prot | PROT_READ);
        zero_past_eof(m);
        const void *data = (const void *)m->start;
        if (m->start == st->alt_start && m->end - m->start == st->alt_size)
            data = st->alt_copy;
        rc = section(&w, CAIRN_SEC_PROC_MEM, i, data, m->end - m->start);
        if (rc < 0)
            return fail(st, "cannot write a memory section", rc);
    }
    rc = cairn__writer_finish(&w);
    if (rc < 0)
        return fail(st, "cannot finish the image", rc);
    *bytes = w.off;
    return 0;
}
