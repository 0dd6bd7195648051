/* SPDX-License-Identifier: MIT */
/*
 * shrink_process.c — makes a small fuzz seed from a real process image.
 *
 *   cairn-fuzz-shrink-process [--with-task] IN OUT [KEYFILE]
 *
 * A process image of even a tiny job is ~12 MB (libc, the runtime's
 * buffers), far too big for a seed. This keeps its core and files records
 * as they are and its mappings' layout, but only a few
 * saved mappings, each cut to the page or two that matter: the one holding
 * the thread's signal frame, the one holding the rseq area, and the first
 * page of up to KEEP_OTHERS others. Unsaved mappings (vDSO, guard pages)
 * are kept whole. The result passes proc_check like the original, so the
 * fuzzer starts from a valid process image. With KEYFILE the seed carries
 * a MAC. The optional task and pending-signal records are left out, unless
 * --with-task (seeds for the restorer's ident.c). Run by
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
#define UCONTEXT_MIN 304u

static int die(const char *what, const char *why)
{
    fprintf(stderr, "shrink_process: %s%s%s\n", what, why ? ": " : "", why ? why : "");
    exit(1);
}

/* The new range of saved mapping m, or 0 if it is dropped. */
static int shrink_map(const struct cairn_proc_core *c, struct cairn_proc_map *m, int *others)
{
    uint64_t addr[2] = {c->frame_uc, c->rseq_addr}, size[2] = {UCONTEXT_MIN, 32};
    for (int k = 0; k < 2; k++)
        if (addr[k] && addr[k] >= m->start && addr[k] < m->end) {
            uint64_t lo = addr[k] & ~(PAGE - 1);
            uint64_t hi = (addr[k] + size[k] + PAGE - 1) & ~(PAGE - 1);
            m->start = lo;
            m->end = hi < m->end ? hi : m->end;
            return 1;
        }
    if ((*others)++ >= KEEP_OTHERS)
        return 0;
    m->end = m->start + PAGE;
    return 1;
}

/* Copies section i of img (raw) into the writer. */
static void copy_section(cairn_image_t *img, struct cairn__writer *w, unsigned i,
                         uint64_t arg, uint64_t skip, uint64_t len)
{
    const cairn_section_info_t *s = cairn_image_section(img, i);
    unsigned char *buf = malloc(s->raw_size ? s->raw_size : 1);
    if (!buf || cairn_image_read(img, i, buf, s->raw_size) < 0)
        die("cannot read a section", cairn_image_error(img));
    struct cairn__section sec = {.type = s->type, .flags = s->flags, .arg = arg};
    if (cairn__writer_section(w, &sec, buf + skip, len) < 0)
        die("cannot write a section", NULL);
    free(buf);
}

int main(int argc, char **argv)
{
    int with_task = argc > 1 && strcmp(argv[1], "--with-task") == 0;
    argv += with_task, argc -= with_task;
    if (argc < 3 || argc > 4)
        die("usage: cairn-fuzz-shrink-process [--with-task] IN OUT [KEYFILE]", NULL);
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
    int others = 0;
    for (uint64_t i = 0; i < p.nmaps; i++) {
        struct cairn_proc_map m = p.maps[i];
        if ((m.flags & CAIRN_MAPF_DATA) && !shrink_map(&p.core, &m, &others))
            continue;
        skip[n] = m.start - p.maps[i].start;
        from[n] = i;
        maps[n++] = m;
    }
    struct cairn_proc_core core = p.core;
    core.nmaps = n;

    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    struct cairn__writer w = {0};
    unsigned char key[CAIRN_KEY_BYTES];
    if (argc == 4 && (cairn__key_load(argv[3], key, 0) < 0 || !(w.mac = cairn__mac_new(key))))
        die("cannot use the key", argv[3]);
    struct cairn__section sc = {.type = CAIRN_SEC_PROC_CORE};
    struct cairn__section sm = {.type = CAIRN_SEC_PROC_MAPS};
    if (fd < 0 || cairn__writer_begin(&w, fd, CAIRN_IMG_PROCESS, 1) < 0 ||
        cairn__writer_section(&w, &sc, &core, sizeof core) < 0 ||
        cairn__writer_section(&w, &sm, maps, n * sizeof *maps) < 0)
        die("cannot write", argv[2]);
    unsigned nsec = cairn_image_info(img)->section_count;
    /* Files; optional records added since (task, signals) are left out
       unless asked for, so the seeds keep the layout of format 1.0 that the
       golden inspect test (tests/cli/cases/inspect_process.sh) prints. */
    for (unsigned i = 0; i < nsec; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        if (s->type == CAIRN_SEC_PROC_FILES ||
            (with_task && (s->type == CAIRN_SEC_PROC_TASK || s->type == CAIRN_SEC_PROC_SIGQ)))
            copy_section(img, &w, i, s->arg, 0, s->raw_size);
    }
    for (uint64_t k = 0; k < n; k++) {
        if (!(maps[k].flags & CAIRN_MAPF_DATA))
            continue;
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
