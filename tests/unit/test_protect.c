/* SPDX-License-Identifier: MIT */
/*
 * test_protect.c — protect/restore semantics.
 *
 * FRESH versus RESTORED; calls in the wrong state (CAIRN_ESTATE); duplicate
 * names; buffers that grow or shrink across a restore (realloc); and an
 * image whose regions differ from the protected ones (a region missing,
 * extra, or of another size): CAIRN_EMISMATCH, a message on stderr naming
 * the region, protected memory untouched and the image left in place.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cairn.h"
#include "fixture.h"

static cairn_t *open_store(const char *store)
{
    cairn_options_t o;
    cairn_options_init(&o);
    o.verbose = -1; /* errors only */
    cairn_t *c;
    assert_int_equal(cairn_open(&c, store, &o), 0);
    return c;
}

static void test_fresh_then_restored(void **state)
{
    struct th_dir *d = *state;
    double x = 3.25;
    int n[4] = {1, 2, 3, 4};
    cairn_t *c = open_store(d->store);
    assert_int_equal(cairn_protect(c, "x", &x, sizeof x), 0);
    assert_int_equal(cairn_protect(c, "n", n, sizeof n), 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    assert_true(x == 3.25); /* untouched on a fresh start */
    assert_int_equal(cairn_checkpoint(c), 0);
    x = -1;
    n[2] = 99;
    cairn_close(c);

    c = open_store(d->store);
    cairn_protect(c, "n", n, sizeof n); /* order does not matter */
    cairn_protect(c, "x", &x, sizeof x);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    assert_true(x == 3.25);
    assert_int_equal(n[2], 3);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    assert_int_equal(st.generation, 1);
    assert_int_equal(st.restores, 1);
    cairn_close(c);
}

/* Calls in the wrong state, with the message that explains. */
static void test_state_errors(void **state)
{
    struct th_dir *d = *state;
    int x = 0, y = 0;
    cairn_t *c = open_store(d->store);
    assert_int_equal(cairn_checkpoint(c), CAIRN_ESTATE); /* before restore */
    assert_int_equal(cairn_complete(c), CAIRN_ESTATE);
    assert_int_equal(cairn_step(c), 0); /* nothing is due before restore */
    assert_int_equal(cairn_protect(c, "x", &x, sizeof x), 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    struct th_capture cap;
    th_capture_begin(&cap);
    int rc = cairn_protect(c, "late_region", &y, sizeof y);
    char *err = th_capture_end(&cap);
    assert_int_equal(rc, CAIRN_ESTATE);
    th_assert_contains(err, "\"late_region\"");
    th_assert_contains(err, "after cairn_restore()");
    free(err);
    void *p = NULL;
    size_t sz = 0;
    assert_int_equal(cairn_protect_buffer(c, "late_buf", &p, &sz), CAIRN_ESTATE);
    assert_int_equal(cairn_restore(c), CAIRN_ESTATE); /* only once */
    assert_int_equal(cairn_complete(c), 0);
    assert_int_equal(cairn_checkpoint(c), CAIRN_ESTATE); /* after complete */
    assert_int_equal(cairn_complete(c), CAIRN_ESTATE);
    cairn_close(c);
    cairn_close(NULL);
    assert_int_equal(cairn_restore(NULL), CAIRN_EINVAL);
    assert_int_equal(cairn_checkpoint(NULL), CAIRN_EINVAL);
    assert_int_equal(cairn_complete(NULL), CAIRN_EINVAL);
}

static void test_duplicate_names(void **state)
{
    struct th_dir *d = *state;
    int a = 0, b = 0;
    void *p = NULL;
    size_t sz = 0;
    cairn_t *c = open_store(d->store);
    assert_int_equal(cairn_protect(c, "dup", &a, sizeof a), 0);
    struct th_capture cap;
    th_capture_begin(&cap);
    int rc = cairn_protect(c, "dup", &b, sizeof b);
    int rc2 = cairn_protect_buffer(c, "dup", &p, &sz);
    char *err = th_capture_end(&cap);
    assert_int_equal(rc, CAIRN_EINVAL);
    assert_int_equal(rc2, CAIRN_EINVAL);
    th_assert_contains(err, "region \"dup\" is protected twice");
    free(err);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    cairn_close(c);
}

/* A buffer saved at one size and restored into one of another size (or
   NULL) is realloc'ed to the saved size. */
static void buffer_case(const char *store, size_t saved, size_t at_restore, int start_null)
{
    th_rmtree(store);
    unsigned char *buf = malloc(saved ? saved : 1);
    size_t size = saved;
    th_fill_random(buf, saved, saved);
    unsigned char *want = malloc(saved ? saved : 1);
    memcpy(want, buf, saved);
    int tag = 7;
    cairn_t *c = open_store(store);
    assert_int_equal(cairn_protect(c, "tag", &tag, sizeof tag), 0);
    assert_int_equal(cairn_protect_buffer(c, "buf", (void **)&buf, &size), 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    assert_int_equal(cairn_checkpoint(c), 0);
    cairn_close(c);
    free(buf);

    buf = start_null ? NULL : calloc(1, at_restore ? at_restore : 1);
    size = start_null ? 0 : at_restore;
    tag = 0;
    c = open_store(store);
    cairn_protect_buffer(c, "buf", (void **)&buf, &size);
    cairn_protect(c, "tag", &tag, sizeof tag);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    assert_int_equal(size, saved);
    assert_int_equal(tag, 7);
    if (saved) {
        assert_non_null(buf);
        assert_memory_equal(buf, want, saved);
    }
    /* The next checkpoint writes the buffer at its current size. */
    unsigned char *grown = realloc(buf, saved + 10);
    assert_non_null(grown);
    buf = grown;
    memset(buf + saved, 0xee, 10);
    size = saved + 10;
    assert_int_equal(cairn_checkpoint(c), 0);
    cairn_close(c);

    size_t size2 = 1;
    unsigned char *buf2 = malloc(1);
    c = open_store(store);
    cairn_protect_buffer(c, "buf", (void **)&buf2, &size2);
    cairn_protect(c, "tag", &tag, sizeof tag);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    assert_int_equal(size2, saved + 10);
    assert_memory_equal(buf2, buf, saved + 10);
    cairn_close(c);
    free(buf);
    free(buf2);
    free(want);
}

static void test_buffer_grows_and_shrinks(void **state)
{
    struct th_dir *d = *state;
    buffer_case(d->store, 10, 3, 0);          /* grows */
    buffer_case(d->store, 100, 1000, 0);      /* shrinks */
    buffer_case(d->store, 5 << 20, 1, 0);     /* grows a lot */
    buffer_case(d->store, 4096, 4096, 0);     /* same size */
    buffer_case(d->store, 333, 0, 1);         /* from NULL */
    buffer_case(d->store, 0, 64, 0);          /* saved empty */
    buffer_case(d->store, 0, 0, 1);           /* empty, from NULL */
}

/* Writes an image with regions a (8 bytes), b (16), c (4). */
static void write_abc(const char *store)
{
    uint64_t a = 1;
    unsigned char b[16] = {2};
    int32_t cc = 3;
    cairn_t *c = open_store(store);
    cairn_protect(c, "a", &a, sizeof a);
    cairn_protect(c, "b", b, sizeof b);
    cairn_protect(c, "c", &cc, sizeof cc);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    assert_int_equal(cairn_checkpoint(c), 0);
    cairn_close(c);
}

/* Opens, protects what `protect` says, restores with stderr captured;
   checks EMISMATCH, the message, untouched memory and the image kept. */
static void mismatch_case(const char *store, int with_a, int with_b, size_t b_size,
                          int with_c, int with_d, const char *needle1, const char *needle2)
{
    uint64_t a = 0xaaaa;
    unsigned char b[32];
    memset(b, 0x55, sizeof b);
    int32_t cc = 0x1234, dd = 0x4321;
    cairn_t *c = open_store(store);
    if (with_a)
        cairn_protect(c, "a", &a, sizeof a);
    if (with_b)
        cairn_protect(c, "b", b, b_size);
    if (with_c)
        cairn_protect(c, "c", &cc, sizeof cc);
    if (with_d)
        cairn_protect(c, "d", &dd, sizeof dd);
    struct th_capture cap;
    th_capture_begin(&cap);
    int rc = cairn_restore(c);
    char *err = th_capture_end(&cap);
    assert_int_equal(rc, CAIRN_EMISMATCH);
    th_assert_contains(err, th_gen_path(store, 1));
    th_assert_contains(err, needle1);
    th_assert_contains(err, needle2);
    free(err);
    /* Nothing was filled, and the image was not set aside. */
    assert_int_equal(a, 0xaaaa);
    assert_int_equal(b[0], 0x55);
    assert_int_equal(cc, 0x1234);
    assert_true(th_exists(th_gen_path(store, 1)));
    assert_int_equal(th_count_names(store, NULL, ".corrupt"), 0);
    /* No checkpoint may follow a failed restore. */
    assert_int_equal(cairn_checkpoint(c), CAIRN_ESTATE);
    cairn_close(c);
}

static void test_mismatch(void **state)
{
    struct th_dir *d = *state;
    write_abc(d->store);
    /* The program protects d too: the image lacks it. */
    mismatch_case(d->store, 1, 1, 16, 1, 1, "region \"d\"", "lacks");
    /* The program no longer protects c: the image has an extra region. */
    mismatch_case(d->store, 1, 1, 16, 0, 0, "region \"c\" (4 bytes)",
                  "the program does not protect");
    /* b has another size. */
    mismatch_case(d->store, 1, 1, 32, 1, 0, "region \"b\" has 16 bytes in the image",
                  "protects 32");
    /* Nothing protected at all. */
    mismatch_case(d->store, 0, 0, 0, 0, 0, "region \"a\"", "does not protect");
    /* The matching set still restores. */
    uint64_t a = 0;
    unsigned char b[16] = {0};
    int32_t cc = 0;
    cairn_t *c = open_store(d->store);
    cairn_protect(c, "c", &cc, sizeof cc);
    cairn_protect(c, "a", &a, sizeof a);
    cairn_protect(c, "b", b, sizeof b);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    assert_int_equal(a, 1);
    assert_int_equal(b[0], 2);
    assert_int_equal(cc, 3);
    cairn_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        th_unit_test(test_fresh_then_restored),
        th_unit_test(test_state_errors),
        th_unit_test(test_duplicate_names),
        th_unit_test(test_buffer_grows_and_shrinks),
        th_unit_test(test_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
