/* SPDX-License-Identifier: MIT */
/*
 * run_start.c — `cairn run`: picks the image to restore (newest that
 * verifies, falling back to older generations; images of another user are
 * refused), checks that PROG can be checkpointed at all, and starts the job:
 * PROG with the runtime preloaded, or cairn-restore on the image.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cairn_image.h"
#include "cli.h"
#include "control.h"
#include "proc_check.h"
#include "run.h"

/* What check_image found. */
enum { IMG_REFUSED = -1, IMG_CORRUPT = 0, IMG_USABLE = 1, IMG_UNAUTHENTICATED = 2 };

/* Verifies generation gen (its MAC too in a keyed run), then what the
   restorer will rely on (proc_check). A corrupt image is quarantined; one
   that fails authentication is left in place: it may be good, and the key
   the wrong one. */
static int check_image(struct run_ctx *r, uint64_t gen, const char *path)
{
    char why[512] = "";
    cairn_image_t *img = NULL;
    unsigned bad = 0;
    int rc = cairn_image_open(&img, path, why, sizeof why);
    if (rc == 0 && r->keyed)
        rc = cairn_image_set_key(img, r->key);
    /* Unkeyed, the memory payloads are not read here: the restorer checks
       each one's checksum as it reads it into place (restore/memory.c), so
       the image is read once, and a mismatch makes it exit
       RUN_RESTORE_CORRUPT before anything outside it has changed (start()
       then falls back). proc_check_image below checks the records. */
    if (rc == 0 && r->keyed && (rc = cairn_image_verify(img, &bad)) < 0)
        snprintf(why, sizeof why, "section %u: %s", bad, cairn_image_error(img));
    if (rc == CAIRN_EAUTH) {
        fprintf(stderr, "cairn run: %s cannot be authenticated with the key %s (%s): not "
                        "restoring it; trying the previous generation\n", path, r->key_file,
                cairn_image_error(img));
        cairn_image_close(img);
        return IMG_UNAUTHENTICATED;
    }
    if (rc == 0 && (rc = proc_check_image(img, why, sizeof why)) < 0)
        rc = CAIRN_ECORRUPT;
    if (rc < 0) {
        fprintf(stderr, "cairn run: %s is corrupt or truncated (%s); trying the previous "
                        "generation\n", path, why[0] ? why : cairn_strerror(rc));
        cairn_image_close(img);
        cairn__store_quarantine(&r->store, gen, why);
        return IMG_CORRUPT;
    }
    const cairn_image_info_t *info = cairn_image_info(img);
    int ok = 1;
    if (info->uid != (uint32_t)getuid()) {
        fprintf(stderr, "cairn run: %s was written by uid %" PRIu32 ", not by you (uid %u): "
                        "refusing to restore it\n", path, info->uid, (unsigned)getuid());
        ok = -1;
    } else if (!(info->flags & CAIRN_IMG_PROCESS)) {
        fprintf(stderr, "cairn run: %s is not a process image (written by a program using "
                        "libcairn itself?): refusing to restore it\n", path);
        ok = -1;
    }
    cairn_image_close(img);
    return ok;
}

int run_pick_image(struct run_ctx *r, char *path, size_t len)
{
    uint64_t *gens = NULL;
    size_t n = 0;
    int rc = cairn__store_generations(&r->store, &gens, &n);
    if (rc < 0)
        return rc;
    int found = IMG_CORRUPT, unauthenticated = 0;
    while (n > 0 && (found == IMG_CORRUPT || found == IMG_UNAUTHENTICATED)) {
        uint64_t gen = gens[--n];
        char name[64];
        cairn__store_name(gen, name, sizeof name);
        snprintf(path, len, "%s/%s", r->store_abs, name);
        found = check_image(r, gen, path);
        unauthenticated += found == IMG_UNAUTHENTICATED;
        r->image_gen = gen;
    }
    free(gens);
    if (found == IMG_USABLE || found == IMG_REFUSED)
        return found;
    if (unauthenticated) { /* starting afresh would let retention delete them */
        fprintf(stderr, "cairn run: no image in %s can be authenticated with the key %s: "
                        "refusing to start the job afresh (check the key, or remove the "
                        "images)\n", r->store_abs, r->key_file);
        return IMG_REFUSED;
    }
    return 0;
}

/* Finds PROG on $PATH like execvp. */
static int find_program(const char *prog, char *out, size_t len)
{
    if (strchr(prog, '/')) {
        snprintf(out, len, "%s", prog);
        return access(out, X_OK);
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        const char *colon = strchrnul(p, ':');
        snprintf(out, len, "%.*s/%s", (int)(colon - p), p, prog);
        if (access(out, X_OK) == 0)
            return 0;
        p = *colon ? colon + 1 : colon;
    }
    return -1;
}

/* 1 if path is an ELF executable without an interpreter (static). */
static int is_static_elf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    Elf64_Ehdr eh;
    int is_static = 0;
    if (fd < 0 || pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
        goto out;
    is_static = 1;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != sizeof ph)
            break;
        if (ph.p_type == PT_INTERP)
            is_static = 0;
    }
out:
    if (fd >= 0)
        close(fd);
    return is_static;
}

int run_spawn(struct run_ctx *r, const char *image)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        cli_error("run", "socketpair: %s", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    r->ctl = sv[0];
    r->job_ctl = sv[1];
    r->restoring = image != NULL;
    fflush(NULL);
    r->job = run_ns_fork(r, image); /* the job, or its namespace's init */
    if (r->job < 0) {
        cli_error("run", "fork: %s", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    if (r->job == 0)
        run_exec_job(r, image);
    close(r->job_ctl);
    r->job_ctl = -1;
    return 0;
}

static void write_pid_file(struct run_ctx *r)
{
    char tmp[PATH_MAX + 32], path[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s/.tmp-pid-%ld", r->store_abs, (long)getpid());
    snprintf(path, sizeof path, "%s/" RUN_PID_FILE, r->store_abs);
    FILE *f = fopen(tmp, "we");
    if (!f)
        return;
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) == 0)
        rename(tmp, path);
}

/* What to start: 1 the image now in `image`, 0 PROG afresh, or an exit
   status, negated. */
static int pick(struct run_ctx *r, char *image, size_t len)
{
    int found = run_pick_image(r, image, len);
    if (found < 0)
        return -CLI_EXIT_ERROR;
    if (found == 0) {
        char prog[PATH_MAX];
        if (find_program(r->prog_argv[0], prog, sizeof prog) < 0) {
            cli_error("run", "%s: program not found", r->prog_argv[0]);
            return -RUN_EXIT_NOT_FOUND;
        }
        if (is_static_elf(prog)) {
            cli_error("run", "%s is statically linked: cairn run cannot checkpoint it (the "
                             "runtime is injected with LD_PRELOAD)", prog);
            return -RUN_EXIT_CANNOT_CHECKPOINT;
        }
    } else if (r->verbose) {
        fprintf(stderr, "cairn: restoring %s\n", image);
    }
    return found;
}

/* The restorer found image's memory not matching its checksums. */
static void set_aside(struct run_ctx *r, const char *image)
{
    const char *why = "a memory section does not match its checksum (found by the restorer)";
    fprintf(stderr, "cairn run: %s is corrupt (%s); trying the previous generation\n", image,
            why);
    cairn__store_quarantine(&r->store, r->image_gen, why);
    r->ready = 0;
    r->line_len = 0;
}

static int start(struct run_ctx *r)
{
    char image[PATH_MAX + 64];
    int found = pick(r, image, sizeof image);
    if (found < 0)
        return -found;
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGUSR1, r->exit_signal};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&set, sigs[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (;;) {
        int rc = run_spawn(r, found ? image : NULL);
        if (rc)
            return rc;
        write_pid_file(r);
        rc = run_supervise(r);
        if (rc != RUN_RETRY_OLDER)
            return rc;
        set_aside(r, image);
        if ((found = pick(r, image, sizeof image)) < 0)
            return -found;
    }
}

/* --key, else $CAIRN_KEY_FILE: loads the image key. 0 or -1 (said why). */
static int load_key(struct run_ctx *r)
{
    if (!r->key_file)
        r->key_file = cli_env()->key_file;
    if (!r->key_file)
        return 0;
    int rc = cairn_key_load(r->key_file, r->key);
    if (rc < 0) {
        cli_error("run", "cannot use the image key %s: %s", r->key_file, cairn_strerror(rc));
        return -1;
    }
    r->keyed = 1;
    return 0;
}

int run_main(struct run_ctx *r)
{
    if (load_key(r) < 0)
        return CLI_EXIT_ERROR;
    int rc = cairn__store_open(&r->store, r->store_dir, r->verbose);
    if (rc < 0) {
        cli_error("run", "cannot open the store %s: %s", r->store_dir, cairn_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    if (!realpath(r->store_dir, r->store_abs)) {
        cli_error("run", "%s: %s", r->store_dir, strerror(errno));
        cairn__store_close(&r->store);
        return CLI_EXIT_ERROR;
    }
    rc = start(r);
    char pid_path[PATH_MAX + 32];
    snprintf(pid_path, sizeof pid_path, "%s/" RUN_PID_FILE, r->store_abs);
    unlink(pid_path);
    cairn__store_close(&r->store);
    return rc;
}
