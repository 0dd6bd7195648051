/* SPDX-License-Identifier: MIT */
/*
 * chaos_faults.c — the job under injected faults, in a user+mount namespace.
 *
 * A forked child enters a new user and mount namespace (unprivileged, or
 * as root alike), mounts a small tmpfs sized for three images, and runs
 * each scenario there:
 *   enospc    the tmpfs is filled while the job runs; later emptied
 *   readonly  the store directory is chmod'ed 0500 mid-run (the job runs
 *             without capabilities, so permissions bind it); later 0700
 *   deleted   the store directory is removed mid-run (rm -rf)
 *   eio       the job is restarted with fsync, then pwrite, failing with
 *             EIO (seccomp; see chaos_proc.c)
 * In each: checkpoints must fail while the fault lasts, the job must go on,
 * a kill during the fault must leave the last good generation valid and
 * restorable, and the final output must equal the uninterrupted run's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn_image.h"
#include "chaos.h"

static char fsdir[4096];

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int enter_namespace(const struct chaos_cfg *cfg)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    char map[64], opts[64];
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
        say("cannot create a user+mount namespace (%s): fault injection skipped",
            strerror(errno));
        return 1;
    }
    snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
    if (write_file("/proc/self/setgroups", "deny") < 0 ||
        write_file("/proc/self/uid_map", map) < 0)
        return -1;
    snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -1;
    snprintf(fsdir, sizeof fsdir, "%s/fs", cfg->work);
    snprintf(opts, sizeof opts, "size=%uk,mode=0700", 3 * cfg->state_kib + 256);
    if (mkdir(fsdir, 0700) < 0 || mount("cairn-chaos", fsdir, "tmpfs", 0, opts) < 0) {
        say("cannot mount a tmpfs at %s: %s", fsdir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Lets the (paced) job run until it has committed `commits` and failed
   `fails` checkpoints (1, the job then waits after that step), or until it
   has ended (0). */
static int run_until(struct job_proc *p, uint64_t commits, uint64_t fails,
                     struct chaos_counts *n)
{
    for (;;) {
        if (p->waiting && p->commits >= commits && p->fails >= fails)
            return 1;
        job_ack(p);
        if (job_read(p, n) < 0)
            return 0;
    }
}

static int fill(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    static char block[65536];
    if (fd < 0)
        return -1;
    while (write(fd, block, sizeof block) > 0) {
    }
    int e = errno;
    for (size_t sz = 4096; sz > 0; sz /= 2) /* the last partial blocks */
        while (write(fd, block, sz) > 0) {
        }
    close(fd);
    return e == ENOSPC ? 0 : -1;
}

struct scen {
    const struct chaos_cfg *cfg;
    struct chaos_counts *n;
    char store[4200], out[4200];
    int64_t expect; /* generation the next start must restore */
    int failed;
};

static void check(struct scen *s, int ok, const char *what)
{
    if (!ok) {
        say("fault scenario %s: %s", s->store, what);
        s->failed = 1;
        s->n->errors++;
    }
}

static void start(struct scen *s, struct job_proc *p, enum job_mode mode)
{
    if (job_start(p, s->cfg, s->store, s->out, mode) < 0) {
        check(s, 0, "cannot start the job");
        return;
    }
    while (p->restored_gen < 0 && job_read(p, s->n) == 0) {
    }
    run_until(p, 0, 0, s->n); /* the first step, then wait */
    if (s->expect >= 0 && p->restored_gen != s->expect) {
        say("%s: restored generation %lld, expected %lld", s->store,
            (long long)p->restored_gen, (long long)s->expect);
        s->n->lost++;
        s->failed = 1;
    }
}

/* Kills the job during a fault; the newest generation must be unchanged. */
static void kill_and_check(struct scen *s, struct job_proc *p)
{
    job_finish(p, 1, s->n);
    s->n->restarts++;
    int64_t g = store_check(s->store, s->n);
    if (g < 0)
        s->n->corrupt++;
    if (g != s->expect) {
        say("%s: after a kill during a fault the newest valid generation is %lld, "
            "expected %lld", s->store, (long long)g, (long long)s->expect);
        s->n->lost++;
        s->failed = 1;
    }
}

/* Lets the job finish and compares its output. */
static void finish(struct scen *s, struct job_proc *p)
{
    run_until(p, UINT64_MAX, 0, s->n);
    int st = job_finish(p, 0, s->n);
    check(s, WIFEXITED(st) && WEXITSTATUS(st) == 0 && p->done, "job did not finish");
    s->n->runs++;
    if (!files_equal(s->out, s->cfg->ref)) {
        s->n->mismatched_outputs++;
        check(s, 0, "output differs from the uninterrupted run");
    }
}

/* Runs a job until it has committed two generations, then kills it. */
static void prepare(struct scen *s, const char *name)
{
    struct job_proc p;
    snprintf(s->store, sizeof s->store, "%s/%s", fsdir, name);
    snprintf(s->out, sizeof s->out, "%s/out-%s", s->cfg->work, name);
    remove_tree(s->store);
    s->expect = 0;
    start(s, &p, JOB_NOCAPS);
    check(s, run_until(&p, 2, 0, s->n), "job ended before two checkpoints");
    job_finish(&p, 1, s->n);
    s->expect = store_check(s->store, s->n);
    check(s, s->expect > 0, "no valid generation after two commits");
}

/* Waits (up to 5 s) until libcairn's background pruning has brought the
   store down to `keep` generations, so that filling the disk now is not
   undone by a prune that was still to come. */
static void settle(const char *store, unsigned keep)
{
    for (int i = 0; i < 500; i++) {
        uint64_t gens[16];
        size_t n = 0;
        if (cairn_store_list(store, gens, 16, &n) < 0 || n <= keep)
            return;
        usleep(10000);
    }
}

/* Runs the job until two checkpoints failed on the full disk. A commit
   meanwhile means space came back: libcairn's background pruning removed
   an old generation after the fill (under load it can come late), so the
   disk is filled again (FILLER.1, .2, ...) rather than the scenario lost. */
static int fail_twice_full(struct scen *s, struct job_proc *p, const char *filler, int *extra)
{
    uint64_t seen = p->commits, fails = p->fails;
    for (;;) {
        if (p->waiting && p->fails >= fails + 2)
            return 1;
        if (p->waiting && p->commits != seen) {
            char more[4300];
            snprintf(more, sizeof more, "%s.%d", filler, ++*extra);
            if (fill(more) < 0)
                return 0;
            seen = p->commits;
        }
        job_ack(p);
        if (job_read(p, s->n) < 0)
            return 0;
    }
}

static void scen_enospc(struct scen *s)
{
    struct job_proc p;
    char filler[4200];
    snprintf(filler, sizeof filler, "%s/filler", fsdir);
    prepare(s, "enospc");
    start(s, &p, JOB_NOCAPS);
    settle(s->store, 2);
    check(s, fill(filler) == 0, "cannot fill the tmpfs");
    s->n->faults++;
    s->n->enospc++;
    int extra = 0;
    check(s, fail_twice_full(s, &p, filler, &extra), "no checkpoint failed on a full disk");
    s->expect = store_check(s->store, s->n); /* it may have committed before */
    kill_and_check(s, &p);
    start(s, &p, JOB_NOCAPS);
    check(s, fail_twice_full(s, &p, filler, &extra), "no checkpoint failed on a full disk");
    unlink(filler);
    for (char more[4300]; extra > 0; extra--) {
        snprintf(more, sizeof more, "%s.%d", filler, extra);
        unlink(more);
    }
    check(s, run_until(&p, p.commits + 1, 0, s->n), "no commit once space was back");
    finish(s, &p);
}

static void scen_readonly(struct scen *s)
{
    struct job_proc p;
    prepare(s, "readonly");
    start(s, &p, JOB_NOCAPS);
    chmod(s->store, 0500);
    s->n->faults++;
    s->n->readonly++;
    check(s, run_until(&p, 0, 2, s->n), "no checkpoint failed in a read-only store");
    s->expect = store_check(s->store, s->n); /* it may have committed before */
    kill_and_check(s, &p);
    start(s, &p, JOB_NOCAPS);
    check(s, run_until(&p, 0, 2, s->n), "no checkpoint failed in a read-only store");
    chmod(s->store, 0700);
    check(s, run_until(&p, p.commits + 1, 0, s->n), "no commit once writable again");
    finish(s, &p);
}

/* The store is removed mid-run: libcairn recreates it, later checkpoints
   commit again, and a restart resumes from the recreated store. */
static void scen_deleted(struct scen *s, uint64_t *commits_after)
{
    struct job_proc p;
    prepare(s, "deleted");
    start(s, &p, JOB_NOCAPS);
    check(s, remove_tree(s->store) == 0, "cannot remove the store");
    s->n->faults++;
    s->n->deleted++;
    uint64_t before = p.commits;
    check(s, run_until(&p, before + 2, 0, s->n),
          "no checkpoint committed after the store was deleted");
    *commits_after += p.commits - before;
    job_finish(&p, 1, s->n);
    s->n->restarts++;
    s->expect = store_check(s->store, s->n);
    check(s, s->expect > 0, "no valid generation in the recreated store");
    start(s, &p, JOB_NOCAPS);
    finish(s, &p);
}

static void scen_eio(struct scen *s)
{
    struct job_proc p;
    prepare(s, "eio");
    for (int m = 0; m < 2; m++) {
        start(s, &p, m == 0 ? JOB_EIO_FSYNC : JOB_EIO_WRITE);
        s->n->faults++;
        s->n->eio++;
        check(s, run_until(&p, 0, 2, s->n), "no checkpoint failed with EIO");
        check(s, p.commits == 0, "a checkpoint was committed despite EIO");
        kill_and_check(s, &p);
    }
    start(s, &p, JOB_NOCAPS);
    finish(s, &p);
}

static int fault_child(const struct chaos_cfg *cfg, struct chaos_counts *n, unsigned rounds)
{
    int rc = enter_namespace(cfg);
    if (rc != 0)
        return rc < 0 ? 2 : 1;
    struct scen s = {.cfg = cfg, .n = n};
    uint64_t commits_after_delete = 0;
    for (unsigned r = 0; r < rounds; r++) {
        scen_enospc(&s);
        scen_readonly(&s);
        scen_deleted(&s, &commits_after_delete);
        scen_eio(&s);
    }
    say("faults: after the store was deleted the job recreated it and committed %llu "
        "checkpoints",
        (unsigned long long)commits_after_delete);
    umount2(fsdir, MNT_DETACH);
    return s.failed ? 2 : 0;
}

int run_faults(const struct chaos_cfg *cfg, struct chaos_counts *n)
{
    struct chaos_counts *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE,
                                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        return -1;
    memset(shared, 0, sizeof *shared);
    unsigned rounds = 1 + (unsigned)(cfg->cycles / 1000);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fault_child(cfg, shared, rounds));
    int st = 0;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    uint64_t *dst = (uint64_t *)n, *src = (uint64_t *)shared;
    for (size_t i = 0; i < sizeof *n / sizeof(uint64_t); i++)
        dst[i] += src[i];
    munmap(shared, sizeof *shared);
    if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 2)
        return -1;
    return WEXITSTATUS(st) == 1 ? 1 : 0;
}
