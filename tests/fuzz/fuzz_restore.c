/*
 * fuzz_restore.c — libFuzzer target for the freestanding restorer's image
 * reader (restore/image.c r_load_image, restore/ident.c r_ident_load,
 * restore/memory.c r_check_layout), run hosted through restore_hosted.c.
 *
 * The input is an image, in a memfd. Each input runs twice, as given and
 * with its checksums recomputed (fuzz_util.h), since anyone can recompute
 * XXH3: the checks behind the checksums are the point. For each:
 *
 * 1. What `cairn run` decides before it execs the restorer (run_start.c
 *    check_image): libcairn's reader opens it, it is a process image, and
 *    cli/proc_check.c accepts its records.
 * 2. What the restorer does with it, in its own order: r_load_image, then
 *    r_check_layout and r_ident_load if that accepted it.
 * 3. Checks, each an abort() with a message on stderr:
 *    - a refusal says why (r_say) and is -1 or -2; r_exit only with 124 (corrupt) or 125;
 *    - an image the restorer accepts satisfies what the rest of the
 *      restorer relies on without looking again (memory.c, state.c,
 *      ident.c): counts within its tables, every mapping a range of whole
 *      pages in user space, a saved mapping's bytes of its size inside the
 *      file, every string it uses as a C string terminated in its buffer,
 *      at most CAIRN_PROC_MAX_SIGQ signals to queue again;
 *    - an image `cairn run` accepts the restorer accepts too, or cairn
 *      would exec a restorer that exits 125 on an image it called good,
 *      and the job could not be restored at all (r_check_layout is left
 *      out of this one: it compares with this kernel's vDSO).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cairn_image.h"
#include "fuzz_util.h"
#include "image_format.h"
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
        if (!(m->flags & CAIRN_MAPF_DATA))
            continue;
        uint64_t off = img.mem_off[i], len = img.mem_len[i];
        if (len != m->end - m->start)
            bug("accepted a saved mapping whose bytes are not its size", res);
        if (off < CAIRN_HEADER_SIZE || off > size || len > size - off)
            bug("accepted a saved mapping whose bytes are not inside the file", res);
    }
    for (uint64_t i = 0; i < c->nfiles; i++)
        if (!terminated(img.files[i].path, sizeof img.files[i].path))
            bug("accepted a file path unterminated", res);
    if (res->exit_status >= 0)
        return;
    int have;
    const struct cairn_proc_task *t = rh_task(&have);
    if (t->nsigq > CAIRN_PROC_MAX_SIGQ)
        bug("r_ident_load left more pending signals than its queue holds", res);
    if (have && !terminated(t->exe, sizeof t->exe))
        bug("r_ident_load left the exe path unterminated (ident.c opens it)", res);
}

/* `cairn run`'s verdict (run_start.c check_image, without the owner). */
static int cairn_run_accepts(int fd)
{
    cairn_image_t *ci;
    char why[512] = "";
    if (cairn_image_open_fd(&ci, fd, why, sizeof why) < 0)
        return 0;
    int ok = (cairn_image_info(ci)->flags & CAIRN_IMG_PROCESS) &&
             proc_check_image(ci, why, sizeof why) == 0;
    cairn_image_close(ci);
    return ok;
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
    int cairn_ok = cairn_run_accepts(fd);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct rh_result res;
    rh_run_path(path, RH_LAYOUT | RH_IDENT, &res);
    const char *v = getenv("CAIRN_FUZZ_VERBOSE");
    if (v && *v && strcmp(v, "0") != 0)
        fprintf(stderr, "fuzz_restore: %zu bytes: cairn run %s; r_load_image %d, "
                "r_check_layout %d, r_exit %d\n", size, cairn_ok ? "accepts" : "refuses",
                res.load, res.layout, res.exit_status);
    if (res.load < 0 && (res.load < -2 || !res.nsaid))
        bug("r_load_image refused without saying why", &res);
    if (res.layout < 0 && (res.layout != -1 || !res.nsaid))
        bug("r_check_layout refused without saying why", &res);
    /* 124: the image does not match its checksums (cairn run falls back to
       the previous generation); 125: unusable. */
    if (res.exit_status >= 0 &&
        ((res.exit_status != 124 && res.exit_status != 125) || !res.nsaid))
        bug("the restorer exited without saying why, or not with 124 or 125", &res);
    if (res.load == 0)
        check_accepted(size, &res);
    if (cairn_ok && (res.load < 0 || res.exit_status >= 0))
        bug("cairn run accepts this image, the restorer refuses it", &res);
    rh_reset();
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
