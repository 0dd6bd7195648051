/* SPDX-License-Identifier: MIT */
/*
 * shrink_process.c — makes a small fuzz seed from a real process image.
 *
 *   cairn-fuzz-shrink-process [--with-task] [--zstd] IN OUT [KEYFILE]
 *
 * A process image of even a tiny job is ~5 MB (libc, the runtime's
 * buffers), far too big for a seed. This keeps its core and files records
 * as they are and its mappings' layout, but only a few
 * saved mappings, each cut to the page or two that matter: the ones holding
 * a thread's signal frame or rseq area (the core record's and, for a job
 * with threads, every thread record's), and the first page of up to
 * KEEP_OTHERS others. A sparse mapping (CAIRN_MAPF_SPARSE) keeps its range
 * (a sparse one may be a 2 TiB reservation: that is the point) and its page
 * list is cut instead: the pages of its runs that hold a frame or rseq
 * area, and the first page of up to KEEP_RUNS other runs, its memory
 * section holding just those; up to KEEP_SPARSE sparse mappings without
 * such an area are kept. Unsaved mappings (vDSO, guard pages) are kept
 * whole. The threads, thread-signal, timer, parent and tracking sections
 * are copied as they are (a delta mapping's list of the parent's pages is
 * cut like its page list; the tracking record's word is kept saved). The result passes proc_check like the original, so the fuzzer
 * starts from a valid process image. With KEYFILE the seed carries a MAC.
 * The optional task and pending-signal records are left out, unless
 * --with-task (seeds for the restorer's ident.c) or the job has threads
 * (the restorer restores threads only at the task record's pid). With
 * --zstd the memory sections (but a sparse mapping's) are zstd frames, as
 * in an image of `cairn run --compress` (cli/image_pack.c). Run by
 * tests/fuzz/gen-process-corpus.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn_mac.h"
#include "cairn_image.h"
#include "cairn_store.h"
#include "cairn_writer.h"
#include "proc_check.h"

#define PAGE 4096ull
#define KEEP_OTHERS 4
#define KEEP_SPARSE 4
#define KEEP_RUNS 3
#define UCONTEXT_MIN 304u
#define MAX_AREAS (2 + 2 * CAIRN_PROC_MAX_THREADS)

static int die(const char *what, const char *why)
{
    fprintf(stderr, "shrink_process: %s%s%s\n", what, why ? ": " : "", why ? why : "");
    exit(1);
}

/* The areas a restore needs saved: each thread's signal frame and rseq
   area, as page ranges [lo[k], hi[k]). */
static uint64_t area_lo[MAX_AREAS], area_hi[MAX_AREAS];
static unsigned nareas;

static void add_area(uint64_t addr, uint64_t size)
{
    if (!addr || nareas == MAX_AREAS)
        return;
    area_lo[nareas] = addr & ~(PAGE - 1);
    area_hi[nareas++] = (addr + size + PAGE - 1) & ~(PAGE - 1);
}

/* The hull of the areas within [lo, hi), clipped to it; 0 if none. */
static int areas_in(uint64_t lo, uint64_t hi, uint64_t *from, uint64_t *to)
{
    int any = 0;
    for (unsigned k = 0; k < nareas; k++)
        if (area_lo[k] < hi && area_hi[k] > lo) {
            uint64_t a = area_lo[k] > lo ? area_lo[k] : lo, b = area_hi[k] < hi ? area_hi[k] : hi;
            if (!any || a < *from)
                *from = a;
            if (!any || b > *to)
                *to = b;
            any = 1;
        }
    return any;
}

/* The new range of saved, not sparse, mapping m, or 0 if it is dropped. */
static int shrink_map(struct cairn_proc_map *m, int *others)
{
    uint64_t lo, hi;
    if (areas_in(m->start, m->end, &lo, &hi)) {
        m->start = lo;
        m->end = hi;
        return 1;
    }
    if ((*others)++ >= KEEP_OTHERS)
        return 0;
    m->end = m->start + PAGE;
    return 1;
}

/* Reads section i of img whole (raw); the caller frees it. */
static unsigned char *read_section(cairn_image_t *img, unsigned i)
{
    const cairn_section_info_t *s = cairn_image_section(img, i);
    unsigned char *buf = malloc(s->raw_size ? s->raw_size : 1);
    if (!buf || cairn_image_read(img, i, buf, s->raw_size) < 0)
        die("cannot read a section", cairn_image_error(img));
    return buf;
}

static int zstd_level; /* --zstd: 1 */

/* Copies section i of img (raw, or zstd with --zstd) into the writer. */
static void copy_section(cairn_image_t *img, struct cairn__writer *w, unsigned i,
                         uint64_t arg, uint64_t skip, uint64_t len)
{
    const cairn_section_info_t *s = cairn_image_section(img, i);
    unsigned char *buf = read_section(img, i);
    struct cairn__section sec = {.type = s->type, .flags = s->flags, .arg = arg};
    if (s->type == CAIRN_SEC_PROC_MEM)
        sec.level = zstd_level;
    if (cairn__writer_section(w, &sec, buf + skip, len) < 0)
        die("cannot write a section", NULL);
    free(buf);
}

/* The index of the one section of this type and arg. */
static unsigned section_of(cairn_image_t *img, unsigned type, uint64_t arg)
{
    for (unsigned i = 0; i < cairn_image_info(img)->section_count; i++)
        if (cairn_image_section(img, i)->type == type && cairn_image_section(img, i)->arg == arg)
            return i;
    die("a section is missing", NULL);
    return 0;
}

/* Sparse mapping `old` (new index k): its page list cut to the pages that
   hold an area, and the first page of up to KEEP_RUNS other runs, then a
   memory section of their bytes. With no area, 0 if it is dropped. */
static int shrink_sparse(cairn_image_t *img, const struct cairn_proc_map *m, uint64_t old,
                         struct cairn__writer *w, uint64_t k, int *sparse_others)
{
    unsigned ei = section_of(img, CAIRN_SEC_PROC_EXTENTS, old);
    unsigned mi = section_of(img, CAIRN_SEC_PROC_MEM, old);
    uint64_t lo, hi;
    int has_area = areas_in(m->start, m->end, &lo, &hi);
    if (!w) /* the first pass only decides */
        return has_area || (sparse_others && (*sparse_others)++ < KEEP_SPARSE);
    struct cairn_proc_extent *e = (struct cairn_proc_extent *)read_section(img, ei);
    unsigned char *mem = read_section(img, mi);
    uint64_t n = cairn_image_section(img, ei)->raw_size / sizeof *e, at = 0, nout = 0, total = 0;
    struct cairn_proc_extent *out = calloc(n ? n : 1, sizeof *out);
    struct cairn__part *parts = calloc(n ? n : 1, sizeof *parts);
    int runs = 0;
    for (uint64_t r = 0; r < n; at += e[r].length, r++) {
        uint64_t s = m->start + e[r].offset, t = s + e[r].length;
        if (!areas_in(s, t, &lo, &hi)) {
            if (runs++ >= KEEP_RUNS)
                continue;
            lo = s, hi = s + PAGE;
        }
        out[nout] = (struct cairn_proc_extent){lo - m->start, hi - lo};
        parts[nout++] = (struct cairn__part){mem + at + (lo - s), hi - lo};
        total += hi - lo;
    }
    struct cairn__section se = {.type = CAIRN_SEC_PROC_EXTENTS, .arg = k};
    struct cairn__section sm = {.type = CAIRN_SEC_PROC_MEM, .arg = k};
    if (cairn__writer_section(w, &se, out, nout * sizeof *out) < 0)
        die("cannot write a sparse mapping", NULL);
    if (m->flags & CAIRN_MAPF_DELTA) {
        /* The parent's runs likewise: the first page of up to KEEP_RUNS
           (parts of the original runs, so still apart from the kept ones). */
        unsigned bi = section_of(img, CAIRN_SEC_PROC_BASE, old);
        struct cairn_proc_extent *b = (struct cairn_proc_extent *)read_section(img, bi);
        uint64_t nb = cairn_image_section(img, bi)->raw_size / sizeof *b, kb = 0;
        for (uint64_t r = 0; r < nb && kb < KEEP_RUNS; r++)
            b[kb++] = (struct cairn_proc_extent){b[r].offset, PAGE};
        struct cairn__section sb = {.type = CAIRN_SEC_PROC_BASE, .arg = k};
        if (cairn__writer_section(w, &sb, b, kb * sizeof *b) < 0)
            die("cannot write a delta mapping", NULL);
        free(b);
    }
    if (cairn__writer_section_parts(w, &sm, parts, nout) < 0)
        die("cannot write a sparse mapping", NULL);
    (void)total;
    free(e);
    free(mem);
    free(out);
    free(parts);
    return 1;
}

int main(int argc, char **argv)
{
    int with_task = argc > 1 && strcmp(argv[1], "--with-task") == 0;
    argv += with_task, argc -= with_task;
    zstd_level = argc > 1 && strcmp(argv[1], "--zstd") == 0;
    argv += zstd_level, argc -= zstd_level;
    if (argc < 3 || argc > 4)
        die("usage: cairn-fuzz-shrink-process [--with-task] [--zstd] IN OUT [KEYFILE]", NULL);
    char why[512];
    cairn_image_t *img;
    struct proc_records p;
    if (cairn_image_open(&img, argv[1], why, sizeof why) < 0)
        die(argv[1], why);
    if (proc_load(img, &p, why, sizeof why) < 0 || proc_check(img, &p, why, sizeof why) < 0)
        die(argv[1], why);
    /* New map table; old index -> new index, and where its bytes start. */
    uint64_t *from = calloc(p.nmaps, sizeof *from), *skip = calloc(p.nmaps, sizeof *skip);
    struct cairn_proc_map *maps = calloc(p.nmaps, sizeof *maps);
    uint64_t n = 0;
    int others = 0, sparse_others = 0;
    add_area(p.core.frame_uc, UCONTEXT_MIN);
    add_area(p.core.rseq_addr, 32);
    for (uint64_t t = 0; t < p.nthreads; t++) {
        add_area(p.threads[t].frame_uc, UCONTEXT_MIN);
        add_area(p.threads[t].rseq_addr, 32);
    }
    int ti = cairn_image_find(img, CAIRN_SEC_PROC_TRACK, NULL);
    if (ti >= 0) { /* the word the restorer writes stays in a saved page */
        struct cairn_proc_track *t = (struct cairn_proc_track *)read_section(img, (unsigned)ti);
        add_area(t->flag_addr, 8);
        free(t);
    }
    for (uint64_t i = 0; i < p.nmaps; i++) {
        struct cairn_proc_map m = p.maps[i];
        if (m.flags & CAIRN_MAPF_SPARSE) {
            if (!shrink_sparse(img, &m, i, NULL, 0, &sparse_others))
                continue;
        } else if ((m.flags & CAIRN_MAPF_DATA) && !shrink_map(&m, &others))
            continue;
        skip[n] = m.start - p.maps[i].start;
        from[n] = i;
        maps[n++] = m;
    }
    struct cairn_proc_core core = p.core;
    core.nmaps = n;

    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    struct cairn__writer w = {.zstd = zstd_level ? &cairn__writer_zstd : NULL};
    unsigned char key[CAIRN_KEY_BYTES];
    if (argc == 4 && (cairn__key_load(argv[3], key, 0) < 0 || !(w.mac = cairn__mac_new(key))))
        die("cannot use the key", argv[3]);
    struct cairn__section sc = {.type = CAIRN_SEC_PROC_CORE};
    struct cairn__section sm = {.type = CAIRN_SEC_PROC_MAPS};
    if (fd < 0 || cairn__writer_begin(&w, fd, CAIRN_IMG_PROCESS,
                                      cairn_image_info(img)->generation) < 0 ||
        cairn__writer_section(&w, &sc, &core, sizeof core) < 0 ||
        cairn__writer_section(&w, &sm, maps, n * sizeof *maps) < 0)
        die("cannot write", argv[2]);
    unsigned nsec = cairn_image_info(img)->section_count;
    /* Files; optional records added since (task, signals) are left out
       unless asked for, so the seeds keep the layout of format 1.0 that the
       golden inspect test (tests/cli/cases/inspect_process.sh) prints. A
       job with threads keeps its task record: the restorer checks the
       first thread's tid against its pid. Threads, their signals, the
       timers, a process tree's section, its pipes' and sockets' bytes, the
       epoll entries and the IPC section (0x114) are kept as they are (none
       of them in a format 1.0 seed). The CPU record (0x116) goes with the
       task record: `cairn inspect` prints it against the machine it runs
       on, which a golden output cannot hold. */
    with_task |= p.nthreads > 1;
    for (unsigned i = 0; i < nsec; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        if (s->type == CAIRN_SEC_PROC_FILES || s->type == CAIRN_SEC_PROC_THREADS ||
            s->type == CAIRN_SEC_PROC_TSIGQ || s->type == CAIRN_SEC_PROC_TIMERS ||
            s->type == CAIRN_SEC_PROC_IPC ||
            s->type == CAIRN_SEC_PROC_TREE || s->type == CAIRN_SEC_PROC_PIPEDATA ||
            s->type == CAIRN_SEC_PROC_EPOLL ||
            s->type == CAIRN_SEC_PROC_PARENT || s->type == CAIRN_SEC_PROC_TRACK ||
            (with_task && (s->type == CAIRN_SEC_PROC_TASK || s->type == CAIRN_SEC_PROC_SIGQ ||
                           s->type == CAIRN_SEC_PROC_CPU)))
            copy_section(img, &w, i, s->arg, 0, s->raw_size);
    }
    for (uint64_t k = 0; k < n; k++) {
        if (!(maps[k].flags & CAIRN_MAPF_DATA))
            continue;
        if (maps[k].flags & CAIRN_MAPF_SPARSE) {
            shrink_sparse(img, &maps[k], from[k], &w, k, NULL);
            continue;
        }
        for (unsigned i = 0; i < nsec; i++) {
            const cairn_section_info_t *s = cairn_image_section(img, i);
            if (s->type == CAIRN_SEC_PROC_MEM && s->arg == from[k])
                copy_section(img, &w, i, k, skip[k], maps[k].end - maps[k].start);
        }
    }
    if (cairn__writer_finish(&w) < 0)
        die("cannot finish", argv[2]);
    cairn__mac_free(w.mac);
    cairn__writer_release(&w);
    close(fd);
    cairn_image_t *out;
    if (cairn_image_open(&out, argv[2], why, sizeof why) < 0 ||
        (argc == 4 && cairn_image_set_key(out, key) < 0) || cairn_image_verify(out, NULL) < 0 ||
        proc_check_image(out, why, sizeof why) < 0)
        die("the seed does not check", why);
    cairn_image_close(out);
    printf("%s: %llu of %llu mappings\n", argv[2], (unsigned long long)n,
           (unsigned long long)p.nmaps);
    proc_release(&p);
    cairn_image_close(img);
    free(from);
    free(skip);
    free(maps);
    return 0;
}
