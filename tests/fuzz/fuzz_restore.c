/*
 * fuzz_restore.c — libFuzzer target for the freestanding restorer's image
 * reader (restore/image.c r_load_image, restore/ident.c r_ident_load,
 * restore/memory.c r_check_layout and fill_sparse, restore/threads.c
 * r_threads_load, restore/timers.c r_timers_load), run hosted through
 * restore_hosted.c.
 *
 * The input is an image, in a memfd. Each input runs twice, as given and
 * with its checksums recomputed (fuzz_util.h), since anyone can recompute
 * XXH3: the checks behind the checksums are the point. For each:
 *
 * 1. What `cairn run` decides before it execs the restorer (run_start.c
 *    check_image): libcairn's reader opens it, it is a process image, and
 *    cli/proc_check.c accepts its records; one with compressed sections is
 *    expanded (cli/image_pack.c), and the restorer reads what came out.
 * 2. What the restorer does with it, in its own order: r_load_image, then
 *    r_check_layout, r_ident_load, r_threads_load and r_timers_load if that
 *    accepted it, then fill_sparse of each sparse mapping (into a scratch
 *    reservation: the page-list checks and the runs' checksum, as
 *    r_rebuild_memory would run it).
 * 3. Checks, each an abort() with a message on stderr:
 *    - a refusal says why (r_say) and is -1 or -2; r_exit only with 124 (corrupt) or 125;
 *    - an image the restorer accepts satisfies what the rest of the
 *      restorer relies on without looking again (memory.c, state.c,
 *      ident.c): counts within its tables, every mapping a range of whole
 *      pages in user space, a saved mapping's bytes of its size inside the
 *      file, every string it uses as a C string terminated in its buffer,
 *      at most CAIRN_PROC_MAX_SIGQ signals to queue again; a sparse
 *      mapping's bytes and page list inside the file and within their
 *      tables; thread records (r_threads_load accepted) of the core
 *      record's count, the first at the restorer's pid, distinct tids a
 *      pid can be, affinity masks within their array, names terminated;
 *      pending thread signals and timers within their tables;
 *    - an image `cairn run` accepts the restorer accepts too, or cairn
 *      would exec a restorer that exits 125 on an image it called good,
 *      and the job could not be restored at all (r_check_layout is left
 *      out of this one: it compares with this kernel's vDSO; so is
 *      r_timers_load's refusal on a kernel without
 *      PR_TIMER_CREATE_RESTORE_IDS, and fill_sparse's R_EXIT_CORRUPT when
 *      libcairn too finds that the mapping's memory section does not match
 *      its checksum: cairn run does not read the memory sections, the
 *      restorer checks them as it reads them into place). With threads,
 *      what cairn run accepts also has every thread's signal frame in a
 *      saved writable mapping (restore_sigreturn jumps there).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn_image.h"
#include "fuzz_util.h"
#include "image_format.h"
#include "image_pack.h"
#include "proc_check.h"
#include "restore_hosted.h"

static __attribute__((noreturn)) void bug(const char *what, const struct rh_result *res)
{
    fprintf(stderr, "fuzz_restore: %s (r_load_image %d, r_check_layout %d, r_exit %d; "
                    "restorer said: %s)\n", what, res->load, res->layout, res->exit_status,
            res->said[0] ? res->said : "nothing");
    abort();
}

static int terminated(const char *s, size_t cap)
{
    return memchr(s, 0, cap) != NULL;
}

/* What memory.c and state.c take from img without checking it again. */
static void check_accepted(size_t size, const struct rh_result *res)
{
    const struct cairn_proc_core *c = &img.core;
    if (img.fd < 0)
        bug("accepted without an open image", res);
    if (c->magic != CAIRN_PROC_MAGIC || c->version != CAIRN_PROC_VERSION ||
        c->arch != CAIRN_PROC_ARCH_X86_64)
        bug("accepted a process record of another version", res);
    if (c->nmaps > CAIRN_PROC_MAX_MAPS || c->nfiles > CAIRN_PROC_MAX_FILES)
        bug("accepted more mappings or files than the tables hold", res);
    if (!terminated(c->comm, sizeof c->comm) || !terminated(c->cwd, sizeof c->cwd))
        bug("accepted with comm or cwd unterminated", res);
    for (uint64_t i = 0; i < c->nmaps; i++) {
        const struct cairn_proc_map *m = &img.maps[i];
        if (m->start >= m->end || m->end > CAIRN_PROC_TASK_TOP || (m->start | m->end) % 4096)
            bug("accepted a mapping that is not whole pages in user space", res);
        if (!terminated(m->name, sizeof m->name))
            bug("accepted a mapping name unterminated", res);
        if (!(m->flags & CAIRN_MAPF_DATA) || (m->flags & CAIRN_MAPF_SPARSE))
            continue; /* sparse: below */
        uint64_t off = img.mem_off[i], len = img.mem_len[i];
        if (len != m->end - m->start)
            bug("accepted a saved mapping whose bytes are not its size", res);
        if (off < CAIRN_HEADER_SIZE || off > size || len > size - off)
            bug("accepted a saved mapping whose bytes are not inside the file", res);
    }
    for (uint64_t i = 0; i < c->nfiles; i++)
        if (!terminated(img.files[i].path, sizeof img.files[i].path))
            bug("accepted a file path unterminated", res);
    for (uint64_t i = 0; i < c->nmaps; i++) {
        const struct cairn_proc_map *m = &img.maps[i];
        if (!(m->flags & CAIRN_MAPF_SPARSE))
            continue;
        uint64_t off = img.mem_off[i], len = img.mem_len[i];
        uint64_t eoff = img.ext_off[i], elen = img.ext_len[i];
        if (!(m->flags & CAIRN_MAPF_DATA) || len > m->end - m->start)
            bug("accepted a sparse mapping with more bytes than its size, or none saved", res);
        if (len && (off < CAIRN_HEADER_SIZE || off > size || len > size - off))
            bug("accepted a sparse mapping whose bytes are not inside the file", res);
        if (elen % sizeof(struct cairn_proc_extent) ||
            elen > CAIRN_PROC_MAX_EXTENTS * sizeof(struct cairn_proc_extent))
            bug("accepted a page list that is not whole runs within fill_sparse's table", res);
        if (elen && (eoff < CAIRN_HEADER_SIZE || eoff > size || elen > size - eoff))
            bug("accepted a page list that is not inside the file", res);
    }
    if (res->exit_status >= 0 && res->threads == 1)
        return; /* r_ident_load exited */
    int have;
    const struct cairn_proc_task *t = rh_task(&have);
    if (t->nsigq > CAIRN_PROC_MAX_SIGQ)
        bug("r_ident_load left more pending signals than its queue holds", res);
    if (have && !terminated(t->exe, sizeof t->exe))
        bug("r_ident_load left the exe path unterminated (ident.c opens it)", res);
    if (res->threads != 0)
        return;
    uint64_t n, nq, nt;
    const struct cairn_proc_tsig *q;
    const struct cairn_proc_thread *th = rh_threads(&n, &q, &nq);
    if (n != c->nthreads)
        bug("r_threads_load accepted a thread count not the core record's", res);
    if (n > 1) {
        if (n > CAIRN_PROC_MAX_THREADS || nq > CAIRN_PROC_MAX_TSIGQ)
            bug("r_threads_load accepted more threads or signals than its tables hold", res);
        if (!have || th[0].tid != t->pid || th[0].frame_uc != c->frame_uc ||
            th[0].fs_base != c->fs_base)
            bug("r_threads_load accepted a first thread that is not the main one", res);
        for (uint64_t i = 0; i < n; i++) {
            if (th[i].tid == 0 || th[i].tid >= (1u << 22) ||
                th[i].affinity_words > CAIRN_PROC_AFFINITY_WORDS ||
                !terminated(th[i].comm, sizeof th[i].comm))
                bug("r_threads_load accepted a thread record out of range", res);
            for (uint64_t j = 0; j < i; j++)
                if (th[j].tid == th[i].tid)
                    bug("r_threads_load accepted two threads with one tid", res);
        }
    } else if (nq) {
        bug("r_threads_load kept thread signals of a job without threads", res);
    }
    if (res->timers == 0) {
        rh_timers(&nt);
        if (nt > CAIRN_PROC_MAX_TIMERS)
            bug("r_timers_load accepted more timers than its table holds", res);
    }
}

/* The saved writable mapping of img holding [addr, addr + size), if any. */
static int in_saved_writable(uint64_t addr, uint64_t size)
{
    for (uint64_t i = 0; i < img.core.nmaps; i++) {
        const struct cairn_proc_map *m = &img.maps[i];
        if (addr >= m->start && addr < m->end && size <= m->end - addr &&
            (m->flags & CAIRN_MAPF_DATA) && (m->prot & 3) == 3)
            return 1;
    }
    return 0;
}

/* 1 if this kernel can create POSIX timers with given ids (timers.c's
   r_timers_load refuses otherwise: not the image's fault). */
static int kernel_restores_timer_ids(void)
{
    static int known = -1;
    if (known < 0)
        known = prctl(77 /* PR_TIMER_CREATE_RESTORE_IDS */, 2 /* GET */, 0, 0, 0) >= 0;
    return known;
}

/* libcairn reads mapping m's memory section through its checksum. */
static int memory_section_good(cairn_image_t *ci, uint64_t m)
{
    for (unsigned i = 0; i < cairn_image_info(ci)->section_count; i++) {
        const cairn_section_info_t *s = cairn_image_section(ci, i);
        if (s->type != CAIRN_SEC_PROC_MEM || s->arg != m)
            continue;
        void *buf = malloc(s->raw_size ? (size_t)s->raw_size : 1);
        int ok = buf && cairn_image_read(ci, i, buf, (size_t)s->raw_size) == 0;
        free(buf);
        return ok;
    }
    return 0;
}

/* `cairn run`'s verdict (run_start.c check_image, without the owner);
   *out stays open if it opened. */
static int cairn_run_checks(int fd, cairn_image_t **out)
{
    char why[512] = "";
    *out = NULL;
    if (cairn_image_open_fd(out, fd, why, sizeof why) < 0) {
        *out = NULL;
        return 0;
    }
    return (cairn_image_info(*out)->flags & CAIRN_IMG_PROCESS) &&
           proc_check_image(*out, why, sizeof why) == 0;
}

/* The same, then run_pick_image's expansion of a compressed image
   (cli/image_pack.c): the restorer is given the expanded memfd, *fd then,
   which cairn run must accept again. */
static int cairn_run_accepts(int *fd, cairn_image_t **out)
{
    char why[512] = "";
    int mfd = -1;
    if (!cairn_run_checks(*fd, out))
        return 0;
    int rc = image_expand(*fd, &mfd, why, sizeof why);
    if (rc == 0)
        return 1;
    cairn_image_close(*out);
    *out = NULL;
    if (rc < 0) /* set aside as corrupt: the restorer never sees it */
        return 0;
    close(*fd);
    *fd = mfd;
    if (!cairn_run_checks(*fd, out))
        bug("cairn run refuses the image it expanded", &(struct rh_result){0});
    return 1;
}

static void run_one(const uint8_t *data, size_t size)
{
    int fd = memfd_create("cairn-fuzz-restore", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            abort();
        done += (size_t)n;
    }
    cairn_image_t *ci;
    int cairn_ok = cairn_run_accepts(&fd, &ci);
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        abort();
    size = (size_t)sb.st_size; /* of the image the restorer reads */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct rh_result res;
    rh_run_path(path, RH_LAYOUT | RH_IDENT | RH_THREADS | RH_SPARSE, &res);
    const char *v = getenv("CAIRN_FUZZ_VERBOSE");
    if (v && *v && strcmp(v, "0") != 0)
        fprintf(stderr, "fuzz_restore: %zu bytes: cairn run %s; r_load_image %d, "
                "r_check_layout %d, r_threads_load %d, r_timers_load %d, fill_sparse %u "
                "(%u skipped, exit in %ld), r_exit %d\n", size,
                cairn_ok ? "accepts" : "refuses", res.load, res.layout, res.threads,
                res.timers, res.sparse_filled, res.sparse_skipped, res.fill_map,
                res.exit_status);
    if (res.load < 0 && (res.load < -2 || !res.nsaid))
        bug("r_load_image refused without saying why", &res);
    if (res.layout < 0 && (res.layout != -1 || !res.nsaid))
        bug("r_check_layout refused without saying why", &res);
    if ((res.threads < 0 && (res.threads < -2 || !res.nsaid)) ||
        (res.timers < 0 && (res.timers < -2 || !res.nsaid)))
        bug("r_threads_load or r_timers_load refused without saying why", &res);
    /* 124: the image does not match its checksums (cairn run falls back to
       the previous generation); 125: unusable. */
    if (res.exit_status >= 0 &&
        ((res.exit_status != 124 && res.exit_status != 125) || !res.nsaid))
        bug("the restorer exited without saying why, or not with 124 or 125", &res);
    if (res.load == 0)
        check_accepted(size, &res);
    /* fill_sparse found the mapping's bytes corrupt: so must libcairn. */
    int bad_memory = res.exit_status == 124 /* R_EXIT_CORRUPT */ && res.fill_map >= 0 && ci &&
                     !memory_section_good(ci, (uint64_t)res.fill_map);
    if (cairn_ok && (res.load < 0 || (res.exit_status >= 0 && !bad_memory) ||
                     res.threads < 0 ||
                     (res.timers < 0 && !(res.timers == -1 && !kernel_restores_timer_ids()))))
        bug("cairn run accepts this image, the restorer refuses it", &res);
    if (cairn_ok && res.threads == 0 && img.core.nthreads > 1) {
        uint64_t n, nq;
        const struct cairn_proc_tsig *q;
        const struct cairn_proc_thread *th = rh_threads(&n, &q, &nq);
        for (uint64_t i = 0; i < n; i++)
            if (th[i].frame_uc % 8 || !in_saved_writable(th[i].frame_uc, 304))
                bug("cairn run accepts a thread whose signal frame is not in saved "
                    "writable memory", &res);
    }
    rh_reset();
    if (ci)
        cairn_image_close(ci);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    run_one(data, size);
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (fuzz_fix_checksums(copy, size))
        run_one(copy, size);
    free(copy);
    return 0;
}
