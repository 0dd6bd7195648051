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

/* The image is of this job (run_ident.c); images without the record (older
   cairn) are taken as they are. */
static int check_identity(struct run_ctx *r, cairn_image_t *img, char *why, size_t why_len)
{
    static struct cairn_proc_job was;
    int i = cairn_image_find(img, CAIRN_SEC_PROC_JOB, NULL);
    if (i < 0)
        return 0;
    int rc = cairn_image_read(img, (unsigned)i, &was, sizeof was);
    if (rc < 0) {
        snprintf(why, why_len, "%s", cairn_image_error(img));
        return rc;
    }
    return run_ident_compare(&was, &r->ident, why, why_len);
}

/*
 * The store policy's check of one generation (lib/pick.c), on the very
 * descriptor the restorer will read: its structure, in a keyed run its MAC
 * over the whole image, then what the restorer relies on (proc_check).
 * Unkeyed, the memory payloads are not read here: the restorer checks each
 * one's checksum as it reads it into place (restore/memory.c), so the image
 * is read once, and a mismatch makes it exit RUN_RESTORE_CORRUPT before
 * anything outside it has changed (start() then falls back).
 */
/* A process tree's section: the whole section bytes, or none (len 0). */
struct tree_copy {
    unsigned char bytes[CAIRN_PROC_TREE_MAX];
    size_t len;
};

static int read_tree(cairn_image_t *img, struct tree_copy *t, char *why, size_t why_len)
{
    uint64_t size = 0;
    t->len = 0;
    int i = cairn_image_find(img, CAIRN_SEC_PROC_TREE, NULL);
    if (i < 0)
        return 0;
    const cairn_section_info_t *si = cairn_image_section(img, (unsigned)i);
    size = si ? si->raw_size : 0;
    const struct cairn_proc_tree *h = (const void *)t->bytes;
    int rc = size < sizeof *h || size > sizeof t->bytes ? CAIRN_ECORRUPT
             : cairn_image_read(img, (unsigned)i, t->bytes, (size_t)size);
    if (rc == 0 && (h->nmembers < 1 || h->nmembers > CAIRN_PROC_MAX_MEMBERS ||
                    h->npipes > CAIRN_PROC_MAX_PIPES || h->nshm > CAIRN_PROC_MAX_SHM ||
                    size < sizeof *h + h->nmembers * sizeof(struct cairn_proc_member) +
                               h->npipes * sizeof(struct cairn_proc_pipe) +
                               h->nshm * sizeof(struct cairn_proc_shm)))
        rc = CAIRN_ECORRUPT; /* the object records after them: proc_tree_check.c */
    if (rc < 0) {
        snprintf(why, why_len, "its process tree section is unreadable or malformed");
        return CAIRN_ECORRUPT;
    }
    t->len = (size_t)size;
    return 0;
}

static int check_process(struct run_ctx *r, int fd, struct tree_copy *tree, char *why,
                         size_t why_len, int identity);

static int check_ancestor(struct run_ctx *r, int fd, char *why, size_t why_len);

static void drop_members(struct run_ctx *r)
{
    r->chain.member_full = r->chain.member_delta = 0;
    for (size_t i = 0; i < r->nmember_fds; i++) {
        close(r->member_fd[i]);
        run_chain_member_drop(&r->member_parents[i]);
    }
    r->nmember_fds = 0;
}

/* The member images of generation gen's tree: each opened through the
   store, checked as the first one was, and of the same checkpoint. */
static int check_members(struct run_ctx *r, uint64_t gen, const struct tree_copy *tree,
                         char *why, size_t why_len)
{
    static struct tree_copy theirs;
    const struct cairn_proc_tree *h = (const void *)tree->bytes;
    const struct cairn_proc_member *m = (const void *)(tree->bytes + sizeof *h);
    drop_members(r);
    for (uint64_t i = 1; i < h->nmembers; i++) {
        if (m[i].state != CAIRN_PROC_MEMBER_IMAGE)
            continue;
        int fd = -1;
        char what[400] = "";
        int rc = cairn__store_open_member(&r->store, gen, m[i].pid, &fd, what, sizeof what);
        if (rc == 0 && (rc = check_process(r, fd, &theirs, what, sizeof what, 1)) == 0 &&
            (theirs.len != tree->len || memcmp(theirs.bytes, tree->bytes, tree->len) != 0)) {
            snprintf(what, sizeof what, "not of the same checkpoint");
            rc = CAIRN_ECORRUPT;
        }
        /* A delta: the same process's images it needs, in older generations. */
        struct run_parents *parents = &r->member_parents[r->nmember_fds];
        parents->n = 0;
        if (rc == 0)
            rc = run_chain_member_check(r, (pid_t)m[i].pid, fd, check_ancestor, parents, what,
                                        sizeof what);
        if (rc < 0) {
            if (fd >= 0)
                close(fd);
            drop_members(r);
            snprintf(why, why_len, "the image of its process %" PRIu64 ": %s", m[i].pid, what);
            return rc == CAIRN_EMISMATCH ? CAIRN_ECORRUPT : rc;
        }
        r->member_fd[r->nmember_fds] = fd;
        r->member_pid[r->nmember_fds++] = (pid_t)m[i].pid;
    }
    return 0;
}

/* A delta image's parents are checked as the image is, but for the job
   record: their child's record of them (run_chain.c) ties them to it. */
static int check_ancestor(struct run_ctx *r, int fd, char *why, size_t why_len)
{
    static struct tree_copy tree;
    return check_process(r, fd, &tree, why, why_len, 0);
}

static int check_image(void *ctx, uint64_t gen, int fd, char *why, size_t why_len)
{
    static struct tree_copy tree;
    struct run_ctx *r = ctx;
    r->chain.member_full = r->chain.member_delta = 0; /* a tree's members add theirs */
    int rc = check_process(r, fd, &tree, why, why_len, 1);
    if (rc == 0 && tree.len)
        rc = check_members(r, gen, &tree, why, why_len);
    if (rc == 0)
        rc = run_chain_check(r, fd, check_ancestor, why, why_len);
    return rc;
}

static int check_process(struct run_ctx *r, int fd, struct tree_copy *tree, char *why,
                         size_t why_len, int identity)
{
    cairn_image_t *img = NULL;
    unsigned bad = 0;
    int rc = cairn_image_open_fd(&img, fd, why, why_len);
    if (rc < 0)
        return rc;
    if (r->keyed && (rc = cairn_image_set_key(img, r->key)) == 0 &&
        (rc = cairn_image_verify(img, &bad)) < 0)
        snprintf(why, why_len, "%s%s%s%s (section %u)",
                 rc == CAIRN_EAUTH ? "cannot be authenticated with the key " : "",
                 rc == CAIRN_EAUTH ? r->key_file : "", rc == CAIRN_EAUTH ? ": " : "",
                 cairn_image_error(img), bad);
    const cairn_image_info_t *info = cairn_image_info(img);
    if (rc == 0 && !(info->flags & CAIRN_IMG_PROCESS)) {
        snprintf(why, why_len, "not a process image (written by a program using libcairn "
                               "itself?): this store holds another kind of job");
        rc = CAIRN_EMISMATCH;
    }
    if (rc == 0 && info->uid != (uint32_t)getuid()) {
        snprintf(why, why_len, "written by uid %" PRIu32 " (its header says), not by you (uid "
                               "%u): refused", info->uid, (unsigned)getuid());
        rc = -EPERM;
    }
    if (rc == 0 && (rc = proc_check_image(img, why, why_len)) < 0)
        rc = CAIRN_ECORRUPT;
    if (rc == 0)
        rc = run_cpu_check(img, why, why_len);
    if (rc == 0 && identity)
        rc = check_identity(r, img, why, why_len);
    if (rc == 0)
        rc = read_tree(img, tree, why, why_len);
    cairn_image_close(img);
    return rc;
}

static int pick_checked(struct run_ctx *r)
{
    uint64_t gen = 0;
    int fd = -1;
    run_drop_image(r);
    int rc = cairn__store_pick(&r->store, check_image, r, &gen, &fd);
    if (rc == 1) {
        char name[64];
        cairn__store_name(gen, name, sizeof name);
        snprintf(r->image_name, sizeof r->image_name, "%s/%s", r->store_abs, name);
        r->image_gen = gen;
        r->image_fd = fd;
    }
    return rc;
}

/* A compressed generation is expanded for the restorer (run_compress.c),
   which checks every payload: one that fails is set aside, as one the
   restorer finds corrupt, and the previous generation is tried. */
int run_pick_image(struct run_ctx *r)
{
    for (;;) {
        int rc = pick_checked(r);
        char why[512];
        if (rc != 1 || run_compress_expand(r, why, sizeof why) == 0)
            return rc;
        fprintf(stderr, "cairn run: %s is corrupt (%s); trying the previous generation\n",
                r->image_name, why);
        uint64_t gen = r->image_gen;
        run_drop_image(r);
        cairn__store_quarantine(&r->store, gen, why);
    }
}

void run_drop_image(struct run_ctx *r)
{
    drop_members(r);
    run_chain_drop(r);
    if (r->image_fd >= 0)
        close(r->image_fd);
    r->image_fd = -1;
    r->image_name[0] = 0;
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
    int sv[2], rv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rv) < 0) {
        cli_error("run", "socketpair: %s", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    r->ctl = sv[0];
    r->job_ctl = sv[1];
    r->reg = rv[0];
    r->job_reg = rv[1];
    while (r->nmembers) /* a previous attempt's */
        close(r->members[--r->nmembers].ctl);
    r->restoring = image != NULL;
    if (run_output_begin(r) < 0) /* a restore first appends what it covers */
        return CLI_EXIT_ERROR;
    r->keep_fds[0] = 0;
    if (image) /* outside the job's pid namespace: every process is seen */
        run_shared_files(r, r->keep_fds, sizeof r->keep_fds);
    fflush(NULL);
    r->job = run_ns_fork(r, image); /* the job, or its namespace's init */
    if (r->job < 0) {
        if (errno == ENOTRECOVERABLE) /* the init said why (run_ns.c) */
            return CLI_EXIT_ERROR;
        cli_error("run", "fork: %s", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    if (r->job == 0)
        run_exec_job(r, image);
    close(r->job_ctl);
    run_tree_keep_register(r->job_reg);
    close(r->job_reg);
    r->job_ctl = r->job_reg = -1;
    run_output_parent(r);
    return 0;
}

/* cairn-run.pid, for `cairn checkpoint`: created in the store through its
   descriptor (O_EXCL, O_NOFOLLOW, mode 0600), then renamed into place, so a
   link planted under either name is never followed. */
static void write_pid_file(struct run_ctx *r)
{
    char tmp[64], line[32];
    snprintf(tmp, sizeof tmp, ".tmp-pid-%ld", (long)getpid());
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    unlinkat(r->store.dirfd, tmp, 0);
    int fd = openat(r->store.dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
    if (fd < 0)
        return;
    int ok = write(fd, line, (size_t)n) == n;
    if (close(fd) == 0 && ok && renameat(r->store.dirfd, tmp, r->store.dirfd, RUN_PID_FILE) == 0)
        return;
    unlinkat(r->store.dirfd, tmp, 0);
}

/* What to start: 1 the image now in r->image_fd, 0 PROG afresh, or an
   exit status, negated. */
static int pick(struct run_ctx *r)
{
    int found = run_pick_image(r);
    if (found < 0)
        return -CLI_EXIT_ERROR;
    char why[PATH_MAX + 256];
    if (!run_companions_ok(found, why, sizeof why)) {
        cli_error("run", "%s", why);
        return -CLI_EXIT_ERROR;
    }
    if (found == 0) {
        char prog[PATH_MAX];
        if (run_find_program(r->prog_argv[0], prog, sizeof prog) < 0) {
            cli_error("run", "%s: program not found", r->prog_argv[0]);
            return -RUN_EXIT_NOT_FOUND;
        }
        if (is_static_elf(prog)) {
            cli_error("run", "%s is statically linked: cairn run cannot checkpoint it (the "
                             "runtime is injected with LD_PRELOAD)", prog);
            return -RUN_EXIT_CANNOT_CHECKPOINT;
        }
    } else if (r->verbose) {
        fprintf(stderr, "cairn: restoring %s\n", r->image_name);
    }
    return found;
}

/* The restorer found image's memory not matching its checksums. */
static void set_aside(struct run_ctx *r)
{
    const char *why = "a memory section does not match its checksum (found by the restorer)";
    fprintf(stderr, "cairn run: %s is corrupt (%s); trying the previous generation\n",
            r->image_name, why);
    uint64_t bad = run_chain_corrupt(r); /* the picked image, or one of its parents */
    if (bad != r->image_gen)
        fprintf(stderr, "cairn run: the corrupt one is its parent generation %" PRIu64 "\n", bad);
    run_drop_image(r);
    cairn__store_quarantine(&r->store, bad, why);
    r->ready = 0;
    r->line_len = 0;
}

static int start(struct run_ctx *r)
{
    int found = pick(r);
    if (found < 0)
        return -found;
    sigset_t set;
    sigemptyset(&set);
    /* SIGXFSZ too, so that a write past the file size limit (ulimit -f)
       the job runs under fails with EFBIG, a failed checkpoint, instead of
       killing cairn and the job with it (run_supervise does not read it;
       the job gets the mask cairn started with, run_exec_job). */
    int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGUSR1, SIGXFSZ, r->exit_signal};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&set, sigs[i]);
    sigprocmask(SIG_BLOCK, &set, &r->job_mask); /* the job starts with the mask cairn got */
    for (;;) {
        int rc = run_spawn(r, found ? r->image_name : NULL);
        if (rc)
            return rc;
        write_pid_file(r);
        rc = run_supervise(r);
        if (rc != RUN_RETRY_OLDER)
            return rc;
        set_aside(r);
        if ((found = pick(r)) < 0)
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

/* --fresh: every generation is renamed *.old, kept but never restored. */
static void set_all_aside(struct run_ctx *r)
{
    uint64_t *gens = NULL;
    size_t n = 0;
    if (cairn__store_generations(&r->store, &gens, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        cairn__store_set_aside(&r->store, gens[i], ".old", "cairn run --fresh");
    free(gens);
}

int run_main(struct run_ctx *r)
{
    if (load_key(r) < 0)
        return CLI_EXIT_ERROR;
    run_ident_compute(r);
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
    if (r->fresh)
        set_all_aside(r);
    cairn__store_set_holder(&r->store, SIGUSR1); /* what cairn checkpoint sends */
    run_output_open(r);
    run_log_start(r);
    rc = start(r);
    unlinkat(r->store.dirfd, RUN_PID_FILE, 0);
    run_drop_image(r);
    cairn__store_close(&r->store);
    return rc;
}
