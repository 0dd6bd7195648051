/* SPDX-License-Identifier: MIT */
/*
 * test_store.c — the checkpoint store: generations and retention, falling
 * back from a corrupt newest image, cairn_complete() and the lock.
 *
 *  - generation numbers increase by one, across restarts, and only the
 *    newest `keep` (1, 2, 5, and CAIRN_KEEP) remain; no temp file is left;
 *  - a corrupt newest image is skipped with a message naming the file and
 *    set aside as *.corrupt, and the previous generation is restored;
 *  - if every image is corrupt, restore fails (never FRESH), and so does
 *    the next run: the job must not silently start over;
 *  - cairn_complete() leaves only the "finished" marker; a rerun is FRESH;
 *  - a second process opening the same store gets CAIRN_EBUSY.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cairn.h"
#include "cairn_image.h"
#include "fixture.h"

static cairn_t *open_keep(const char *store, unsigned keep, uint64_t *value)
{
    cairn_options_t o;
    cairn_options_init(&o);
    o.keep = keep;
    o.verbose = -1;
    cairn_t *c;
    assert_int_equal(cairn_open(&c, store, &o), 0);
    assert_int_equal(cairn_protect(c, "value", value, sizeof *value), 0);
    return c;
}

/* n checkpoints, the k-th holding value first + k. */
static void checkpoints(cairn_t *c, uint64_t *value, uint64_t first, int n)
{
    for (int k = 0; k < n; k++) {
        *value = first + (uint64_t)k;
        assert_int_equal(cairn_checkpoint(c), 0);
    }
}

static void retention_case(const char *store, unsigned keep)
{
    th_rmtree(store);
    uint64_t v = 0;
    cairn_t *c = open_keep(store, keep, &v);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    uint64_t gens[32];
    for (int k = 1; k <= 8; k++) {
        checkpoints(c, &v, 100 + (uint64_t)k, 1);
        /* Old generations are removed by a background thread after the
           commit: one more than `keep` may still be there. */
        size_t n = th_generations(store, gens, 32);
        size_t want = (size_t)k < keep ? (size_t)k : keep;
        assert_true(n >= want && n <= want + ((size_t)k > keep));
        for (size_t i = 0; i < n; i++)
            assert_int_equal(gens[i], (uint64_t)k - n + 1 + i); /* the newest ones */
        assert_int_equal(th_count_names(store, ".tmp-", NULL), 0);
    }
    cairn_close(c); /* waits for the pruning */
    assert_int_equal(th_generations(store, gens, 32), keep < 8 ? keep : 8);
    /* After a restart numbering goes on from the newest. */
    c = open_keep(store, keep, &v);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    assert_int_equal(v, 108);
    checkpoints(c, &v, 200, 1);
    cairn_close(c);
    size_t n = th_generations(store, gens, 32);
    assert_int_equal(gens[n - 1], 9);
    assert_int_equal(n, keep < 9 ? keep : 9);
}

static void test_retention(void **state)
{
    struct th_dir *d = *state;
    retention_case(d->store, 1);
    retention_case(d->store, 2);
    retention_case(d->store, 5);
}

static void test_keep_from_env(void **state)
{
    struct th_dir *d = *state;
    setenv("CAIRN_KEEP", "3", 1);
    uint64_t v = 0;
    cairn_t *c = open_keep(d->store, 2, &v);
    unsetenv("CAIRN_KEEP");
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    checkpoints(c, &v, 1, 6);
    cairn_close(c);
    uint64_t gens[8];
    assert_int_equal(th_generations(d->store, gens, 8), 3);
    assert_int_equal(gens[0], 4);
}

/* Default: 2 generations; image file modes are 0600, store 0700. */
static void test_defaults_and_modes(void **state)
{
    struct th_dir *d = *state;
    cairn_t *c;
    uint64_t v = 0;
    assert_int_equal(cairn_open(&c, d->store, NULL), 0);
    cairn_protect(c, "value", &v, sizeof v);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    checkpoints(c, &v, 1, 4);
    cairn_close(c);
    uint64_t gens[8];
    assert_int_equal(th_generations(d->store, gens, 8), 2);
    struct stat st;
    assert_int_equal(stat(th_gen_path(d->store, 4), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(d->store, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

/* A temp file left by a writer that died is removed on open. */
static void test_stale_temp_removed(void **state)
{
    struct th_dir *d = *state;
    uint64_t v = 0;
    cairn_t *c = open_keep(d->store, 2, &v);
    cairn_close(c);
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s/.tmp-00000000000000000001-99999", d->store);
    th_write_file(tmp, "half an image", 13);
    c = open_keep(d->store, 2, &v);
    assert_false(th_exists(tmp));
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    cairn_close(c);
}

/* Flips one byte in the payload of the image's last section. */
static void corrupt_payload(const char *path)
{
    cairn_image_t *img;
    assert_int_equal(cairn_image_open(&img, path, NULL, 0), 0);
    unsigned n = cairn_image_info(img)->section_count;
    uint64_t off = cairn_image_section(img, n - 1)->data_offset;
    cairn_image_close(img);
    int fd = open(path, O_RDWR);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
    b ^= 0x40;
    assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
    close(fd);
}

static void test_fallback_to_previous(void **state)
{
    struct th_dir *d = *state;
    uint64_t v = 0;
    cairn_t *c = open_keep(d->store, 3, &v);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    checkpoints(c, &v, 11, 3); /* gens 1, 2, 3 hold 11, 12, 13 */
    cairn_close(c);
    size_t len1;
    unsigned char *gen2 = th_read_file(th_gen_path(d->store, 2), &len1);
    corrupt_payload(th_gen_path(d->store, 3));

    v = 0;
    c = open_keep(d->store, 3, &v);
    struct th_capture cap;
    th_capture_begin(&cap);
    int rc = cairn_restore(c);
    char *err = th_capture_end(&cap);
    assert_int_equal(rc, CAIRN_RESTORED);
    assert_int_equal(v, 12);
    th_assert_contains(err, "skipping ");
    th_assert_contains(err, th_gen_path(d->store, 3));
    th_assert_contains(err, "checksum mismatch");
    th_assert_contains(err, "'value'");
    free(err);
    char aside[800];
    snprintf(aside, sizeof aside, "%s.corrupt", th_gen_path(d->store, 3));
    assert_true(th_exists(aside));
    assert_false(th_exists(th_gen_path(d->store, 3)));
    /* The restored generation is byte-for-byte what was written. */
    size_t len2;
    unsigned char *now = th_read_file(th_gen_path(d->store, 2), &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(gen2, now, len1);
    free(now);
    free(gen2);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    assert_int_equal(st.generation, 2);
    /* The job goes on from there. */
    checkpoints(c, &v, 50, 1);
    cairn_close(c);
    v = 0;
    c = open_keep(d->store, 3, &v);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    assert_int_equal(v, 50);
    cairn_close(c);
}

static void test_all_corrupt_is_an_error(void **state)
{
    struct th_dir *d = *state;
    uint64_t v = 0;
    cairn_t *c = open_keep(d->store, 2, &v);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    checkpoints(c, &v, 1, 2);
    cairn_close(c);
    corrupt_payload(th_gen_path(d->store, 1));
    corrupt_payload(th_gen_path(d->store, 2));
    for (int run = 0; run < 2; run++) {
        v = 777;
        c = open_keep(d->store, 2, &v);
        struct th_capture cap;
        th_capture_begin(&cap);
        int rc = cairn_restore(c);
        char *err = th_capture_end(&cap);
        assert_int_equal(rc, CAIRN_ECORRUPT); /* not CAIRN_FRESH, on any run */
        th_assert_contains(err, th_gen_path(d->store, 1));
        th_assert_contains(err, th_gen_path(d->store, 2));
        th_assert_contains(err, "none of the 2 checkpoint images is usable");
        free(err);
        assert_int_equal(cairn_checkpoint(c), CAIRN_ESTATE);
        cairn_close(c);
    }
}

static void test_complete(void **state)
{
    struct th_dir *d = *state;
    uint64_t v = 0;
    cairn_t *c = open_keep(d->store, 2, &v);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    checkpoints(c, &v, 1, 3);
    assert_int_equal(cairn_complete(c), 0);
    cairn_close(c);
    char marker[700];
    snprintf(marker, sizeof marker, "%s/finished", d->store);
    assert_true(th_exists(marker));
    assert_int_equal(cairn_store_is_finished(d->store), 1);
    assert_int_equal(th_generations(d->store, NULL, 0), 0);
    size_t len;
    char *text = (char *)th_read_file(marker, &len);
    text[len] = '\0';
    th_assert_contains(text, "3 checkpoints");
    free(text);

    v = 0;
    struct th_capture cap;
    assert_int_equal(cairn_open(&c, d->store, NULL), 0); /* default verbosity */
    cairn_protect(c, "value", &v, sizeof v);
    th_capture_begin(&cap);
    int rc = cairn_restore(c);
    char *err = th_capture_end(&cap);
    assert_int_equal(rc, CAIRN_FRESH);
    assert_int_equal(v, 0);
    th_assert_contains(err, "previous run finished");
    free(err);
    /* A new run's first checkpoint clears the marker. */
    checkpoints(c, &v, 5, 1);
    assert_false(th_exists(marker));
    assert_int_equal(cairn_store_is_finished(d->store), 0);
    cairn_close(c);
}

/* Runs open in a child process; returns its exit status: 0 if it got
   CAIRN_EBUSY with the message, 1 if it opened the store, 2 otherwise. */
static int open_in_child(const char *store)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct th_capture cap;
        cairn_t *c;
        th_capture_begin(&cap);
        int rc = cairn_open(&c, store, NULL);
        char *err = th_capture_end(&cap);
        if (rc == 0)
            _exit(1);
        _exit(rc == CAIRN_EBUSY && strstr(err, store) &&
                      strstr(err, "locked by another running process")
                  ? 0
                  : 2);
    }
    return th_wait(pid);
}

static void test_lock(void **state)
{
    struct th_dir *d = *state;
    uint64_t v = 0;
    cairn_t *c = open_keep(d->store, 2, &v);
    assert_int_equal(open_in_child(d->store), 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    checkpoints(c, &v, 1, 1);
    assert_int_equal(open_in_child(d->store), 0);
    cairn_close(c);
    assert_int_equal(open_in_child(d->store), 1); /* free again */
    /* Two handles in one process conflict as well. */
    c = open_keep(d->store, 2, &v);
    cairn_t *c2;
    assert_int_equal(cairn_open(&c2, d->store, NULL), CAIRN_EBUSY);
    cairn_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        th_unit_test(test_retention),
        th_unit_test(test_keep_from_env),
        th_unit_test(test_defaults_and_modes),
        th_unit_test(test_stale_temp_removed),
        th_unit_test(test_fallback_to_previous),
        th_unit_test(test_all_corrupt_is_an_error),
        th_unit_test(test_complete),
        th_unit_test(test_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
