/* SPDX-License-Identifier: MIT */
/*
 * faults_mounts.c — a store that cannot be written, a full disk, and a
 * file size limit below the checkpoint (that one needs no mount).
 *
 * The test enters a private mount namespace first: as root directly, as an
 * ordinary user inside a user namespace that maps the user to root (which
 * this kernel allows unprivileged). There it can bind-mount a store
 * read-only and mount a 1 MiB tmpfs, for root and non-root alike, without
 * touching the machine's mounts. Without namespaces it exits 77 (ctest
 * SKIP) and says why.
 *
 * In each case the checkpoint fails with a message naming the store and
 * the reason, cairn_step() returns the error and the job goes on, the
 * previous generation stays byte-for-byte intact and restorable, and no
 * temp file is left. After a checkpoint signal the job still exits (143),
 * saying the checkpoint failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <cmocka.h>

#include "cairn.h"
#include "cairn_image.h"
#include "fixture.h"

#define KiB 1024u

/* ---- namespace and mounts -------------------------------------------------- */

static int write_proc(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Enters a private mount namespace; NULL on success, else why not. */
static const char *enter_mount_namespace(void)
{
    static char why[256];
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWNS) < 0) {
        /* Not root (or root without CAP_SYS_ADMIN): a user namespace. */
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
            snprintf(why, sizeof why,
                     "cannot create a user and mount namespace (unshare: %s); "
                     "unprivileged user namespaces are disabled here",
                     strerror(errno));
            return why;
        }
        char map[64];
        snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
        if (write_proc("/proc/self/setgroups", "deny") < 0 ||
            write_proc("/proc/self/uid_map", map) < 0)
            return "cannot write the user namespace's uid_map";
        snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
        if (write_proc("/proc/self/gid_map", map) < 0)
            return "cannot write the user namespace's gid_map";
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        snprintf(why, sizeof why, "cannot make / private in the new namespace: %s",
                 strerror(errno));
        return why;
    }
    return NULL;
}

/* Mount flags a remount must keep (locked in a user namespace). */
static unsigned long kept_flags(const char *path)
{
    struct statvfs sv;
    if (statvfs(path, &sv) < 0)
        return 0;
    unsigned long f = 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME)
        f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        f |= MS_RELATIME;
    return f;
}

static void bind_read_only(const char *path)
{
    if (mount(path, path, NULL, MS_BIND, NULL) < 0)
        fail_msg("bind mount %s: %s", path, strerror(errno));
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(path), NULL) < 0)
        fail_msg("remount %s read-only: %s", path, strerror(errno));
}

static void unmount(const char *path)
{
    if (umount2(path, MNT_DETACH) < 0)
        fail_msg("umount %s: %s", path, strerror(errno));
}

/* ---- the job ---------------------------------------------------------------- */

struct job {
    uint64_t counter;
    unsigned char *buf;
    size_t len;
};

static cairn_t *job_open(const char *store, struct job *j, int level)
{
    cairn_options_t o;
    cairn_options_init(&o);
    o.policy = CAIRN_POLICY_STEPS;
    o.every_steps = 1; /* every step is a checkpoint */
    o.keep = 2;
    o.compress_level = level;
    o.verbose = -1;
    cairn_t *c;
    assert_int_equal(cairn_open(&c, store, &o), 0);
    cairn_protect(c, "counter", &j->counter, sizeof j->counter);
    cairn_protect_buffer(c, "buf", (void **)&j->buf, &j->len);
    return c;
}

/* Sets the job's state for counter value v: a random buffer of len bytes. */
static void job_set(struct job *j, uint64_t v, size_t len)
{
    j->counter = v;
    free(j->buf);
    j->buf = malloc(len ? len : 1);
    j->len = len;
    th_fill_random(j->buf, len, v);
}

/* One step with stderr captured; returns the text, *rc the result. */
static char *step_captured(cairn_t *c, int *rc)
{
    struct th_capture cap;
    th_capture_begin(&cap);
    *rc = cairn_step(c);
    return th_capture_end(&cap);
}

/* Restores the store and checks it holds counter v (and its buffer). */
static void expect_restores(const char *store, uint64_t v, size_t len)
{
    struct job j = {0}, want = {0};
    cairn_t *c = job_open(store, &j, 0);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    cairn_close(c);
    job_set(&want, v, len);
    assert_int_equal(j.counter, v);
    assert_int_equal(j.len, len);
    assert_memory_equal(j.buf, want.buf, len);
    free(j.buf);
    free(want.buf);
}

struct snapshot {
    uint64_t gens[8];
    size_t n;
    unsigned char *bytes[8];
    size_t len[8];
};

static void snapshot_take(const char *store, struct snapshot *s)
{
    s->n = th_generations(store, s->gens, 8);
    for (size_t i = 0; i < s->n; i++)
        s->bytes[i] = th_read_file(th_gen_path(store, s->gens[i]), &s->len[i]);
}

/* The store holds exactly the snapshot's generations, unchanged, and no
   temp file. */
static void snapshot_check(const char *store, struct snapshot *s)
{
    uint64_t gens[8];
    assert_int_equal(th_generations(store, gens, 8), s->n);
    for (size_t i = 0; i < s->n; i++) {
        assert_int_equal(gens[i], s->gens[i]);
        size_t len;
        unsigned char *now = th_read_file(th_gen_path(store, gens[i]), &len);
        assert_int_equal(len, s->len[i]);
        assert_memory_equal(now, s->bytes[i], len);
        free(now);
    }
    assert_int_equal(th_count_names(store, ".tmp-", NULL), 0);
}

static void snapshot_free(struct snapshot *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->bytes[i]);
}

/* In a child: open, restore, SIGTERM, step; stderr goes to err_path.
   Returns the child's exit status. */
static int term_in_child(const char *store, const char *err_path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
            _exit(90);
        static struct job j;
        cairn_options_t o;
        cairn_options_init(&o);
        o.interval = 1e6;
        static cairn_t *c; /* reachable at exit(), for LeakSanitizer */
        if (cairn_open(&c, store, &o) < 0)
            _exit(91);
        cairn_protect(c, "counter", &j.counter, sizeof j.counter);
        cairn_protect_buffer(c, "buf", (void **)&j.buf, &j.len);
        if (cairn_restore(c) != CAIRN_RESTORED)
            _exit(92);
        j.counter++;
        raise(SIGTERM);
        cairn_step(c);
        _exit(93); /* cairn_step() should have exited */
    }
    return th_wait(pid);
}

static char *read_text(const char *path)
{
    size_t len;
    char *t = (char *)th_read_file(path, &len);
    assert_non_null(t);
    t[len] = '\0';
    return t;
}

/* ---- read-only store ---------------------------------------------------------- */

static void test_read_only_store(void **state)
{
    struct th_dir *d = *state;
    struct job j = {0};
    cairn_t *c = job_open(d->store, &j, 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    for (uint64_t v = 1; v <= 2; v++) {
        job_set(&j, v, 1000 * v);
        assert_int_equal(cairn_step(c), CAIRN_CHECKPOINTED);
    }
    cairn_close(c);
    struct snapshot snap;
    snapshot_take(d->store, &snap);
    assert_int_equal(snap.n, 2);

    bind_read_only(d->store);
    c = job_open(d->store, &j, 0); /* opens: the lock is skipped on a read-only store */
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    assert_int_equal(j.counter, 2);
    for (int attempt = 1; attempt <= 3; attempt++) {
        j.counter++;
        int rc;
        char *err = step_captured(c, &rc);
        assert_int_equal(rc, -EROFS);
        th_assert_contains(err, d->store);
        th_assert_contains(err, "checkpoint failed: Read-only file system");
        th_assert_contains(err, "the previous checkpoint (generation 2) is kept");
        free(err);
        cairn_stats_t st;
        cairn_get_stats(c, &st);
        assert_int_equal(st.failed, (uint64_t)attempt);
        assert_int_equal(st.checkpoints, 0);
    }
    cairn_close(c);

    /* A checkpoint signal: the job still exits, and says the checkpoint
       failed. */
    char err_path[700];
    snprintf(err_path, sizeof err_path, "%s/child.err", d->root);
    assert_int_equal(term_in_child(d->store, err_path), 143);
    char *err = read_text(err_path);
    th_assert_contains(err, "Read-only file system");
    th_assert_contains(err, "signal 15: checkpoint FAILED, exiting with status 143");
    free(err);

    unmount(d->store);
    snapshot_check(d->store, &snap);
    expect_restores(d->store, 2, 2000);
    snapshot_free(&snap);
    free(j.buf);
}

/* A new store in a read-only directory, and an empty read-only store. */
static void test_read_only_new_store(void **state)
{
    struct th_dir *d = *state;
    char parent[700], store[800];
    snprintf(parent, sizeof parent, "%s/ro", d->root);
    snprintf(store, sizeof store, "%s/store", parent);
    assert_int_equal(mkdir(parent, 0700), 0);
    bind_read_only(parent);
    cairn_t *c;
    struct th_capture cap;
    th_capture_begin(&cap);
    int rc = cairn_open(&c, store, NULL);
    char *err = th_capture_end(&cap);
    assert_int_equal(rc, -EROFS);
    th_assert_contains(err, store);
    th_assert_contains(err, "cannot create store directory: Read-only file system");
    free(err);
    unmount(parent);

    assert_int_equal(mkdir(store, 0700), 0);
    bind_read_only(store);
    struct job j = {0};
    c = job_open(store, &j, 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    job_set(&j, 1, 10);
    char *e = step_captured(c, &rc);
    assert_int_equal(rc, -EROFS);
    th_assert_contains(e, store);
    th_assert_contains(e, "checkpoint failed: Read-only file system; there is no earlier "
                          "checkpoint");
    free(e);
    cairn_close(c);
    unmount(store);
    assert_int_equal(th_count_names(store, NULL, NULL), 2); /* . and .. */
    free(j.buf);
}

/* ---- ENOSPC ------------------------------------------------------------------- */

static void mount_small_tmpfs(const char *dir)
{
    assert_int_equal(mkdir(dir, 0700), 0);
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700") < 0)
        fail_msg("mount a 1 MiB tmpfs on %s: %s", dir, strerror(errno));
}

/* Fills the file system holding dir; returns the filler's path. */
static void fill_up(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    static unsigned char block[4096];
    while (write(fd, block, sizeof block) > 0)
        ;
    int e = errno;
    close(fd);
    assert_int_equal(e, ENOSPC);
}

/* A checkpoint that does not fit fails with -ENOSPC; the job goes on, the
   previous generation stays, no temp file is left; once space is back
   checkpoints succeed again. Raw and compressed. */
static void enospc_case(const char *root, int level)
{
    char mnt[700], store[800], filler[800];
    snprintf(mnt, sizeof mnt, "%s/mnt%d", root, level);
    snprintf(store, sizeof store, "%s/store", mnt);
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    mount_small_tmpfs(mnt);

    struct job j = {0};
    cairn_t *c = job_open(store, &j, level);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    job_set(&j, 1, 256 * KiB);
    assert_int_equal(cairn_step(c), CAIRN_CHECKPOINTED); /* generation 1 */
    struct snapshot snap;
    snapshot_take(store, &snap);

    /* 900 KiB (random, so zstd cannot shrink it) next to 256 KiB: full. */
    job_set(&j, 2, 900 * KiB);
    int rc;
    char *err = step_captured(c, &rc);
    assert_int_equal(rc, -ENOSPC);
    th_assert_contains(err, store);
    th_assert_contains(err, "checkpoint failed: No space left on device");
    th_assert_contains(err, "the previous checkpoint (generation 1) is kept and the job goes on");
    free(err);
    snapshot_check(store, &snap);

    /* Full before the checkpoint starts: fails at the header. */
    job_set(&j, 3, 10 * KiB);
    fill_up(filler);
    err = step_captured(c, &rc);
    assert_int_equal(rc, -ENOSPC);
    th_assert_contains(err, "No space left on device");
    free(err);
    snapshot_check(store, &snap);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.checkpoints, 1);

    /* Space again: the job's next checkpoint succeeds. */
    unlink(filler);
    job_set(&j, 4, 100 * KiB);
    assert_int_equal(cairn_step(c), CAIRN_CHECKPOINTED);
    cairn_get_stats(c, &st);
    assert_int_equal(st.generation, 2);
    cairn_close(c);
    expect_restores(store, 4, 100 * KiB);
    snapshot_free(&snap);

    /* A checkpoint signal on a full disk: exit 143 after saying so, and
       the newest generation is still there. */
    snapshot_take(store, &snap);
    fill_up(filler);
    char err_path[800];
    snprintf(err_path, sizeof err_path, "%s/child.err", root);
    assert_int_equal(term_in_child(store, err_path), 143);
    err = read_text(err_path);
    th_assert_contains(err, "No space left on device");
    th_assert_contains(err, "checkpoint FAILED, exiting with status 143");
    free(err);
    unlink(filler);
    snapshot_check(store, &snap);
    expect_restores(store, 4, 100 * KiB);
    snapshot_free(&snap);
    free(j.buf);
    unmount(mnt);
}

static void test_enospc_raw(void **state)
{
    struct th_dir *d = *state;
    enospc_case(d->root, 0);
}

static void test_enospc_zstd(void **state)
{
    struct th_dir *d = *state;
    enospc_case(d->root, 1);
}

/* ---- a file size limit ----------------------------------------------------- */

/* A checkpoint that may not fit under the file size limit (ulimit -f) is
   refused before its first byte with -EFBIG, saying so: a write past the
   limit would raise SIGXFSZ and kill the job (this test, before). The job
   goes on, the previous generation stays; a state that fits checkpoints
   again. Raw and compressed. */
static void fsize_case(const char *root, int level)
{
    char store[800];
    snprintf(store, sizeof store, "%s/fsize%d", root, level);
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    struct job j = {0};
    cairn_t *c = job_open(store, &j, level);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    job_set(&j, 1, 64 * KiB);
    assert_int_equal(cairn_step(c), CAIRN_CHECKPOINTED); /* generation 1 */
    struct snapshot snap;
    snapshot_take(store, &snap);

    struct rlimit lim = {512 * KiB, old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    job_set(&j, 2, 900 * KiB);
    int rc;
    char *err = step_captured(c, &rc);
    assert_int_equal(rc, -EFBIG);
    th_assert_contains(err, "and the job's file size limit (ulimit -f) is 524288 bytes");
    th_assert_contains(err, "the previous checkpoint (generation 1) is kept and the job goes on");
    free(err);
    snapshot_check(store, &snap);

    job_set(&j, 3, 100 * KiB);
    assert_int_equal(cairn_step(c), CAIRN_CHECKPOINTED);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    cairn_close(c);
    expect_restores(store, 3, 100 * KiB);
    snapshot_free(&snap);
    free(j.buf);
}

static void test_fsize_raw(void **state)
{
    struct th_dir *d = *state;
    fsize_case(d->root, 0);
}

static void test_fsize_zstd(void **state)
{
    struct th_dir *d = *state;
    fsize_case(d->root, 1);
}

int main(void)
{
    const char *why = enter_mount_namespace();
    if (why) {
        fprintf(stderr, "faults_mounts: SKIPPED: %s\n", why);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        th_unit_test(test_read_only_store),
        th_unit_test(test_read_only_new_store),
        th_unit_test(test_enospc_raw),
        th_unit_test(test_enospc_zstd),
        th_unit_test(test_fsize_raw),
        th_unit_test(test_fsize_zstd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
