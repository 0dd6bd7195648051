/* SPDX-License-Identifier: MIT */
/*
 * test_shared.c — linked against the shared libcairn.so (the other unit
 * tests link libcairn.a), so both libraries are exercised: error strings
 * for every code, versions, a checkpoint/restore round trip through the
 * public API only, and that internal cairn__* symbols are not exported.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cairn.h"
#include "cairn_image.h"
#include "fixture.h"

static void test_strerror_every_code(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *text;
    } codes[] = {
#define ROW_(name, value, text) {CAIRN_E##name, text},
        CAIRN_ERRNO_MAP(ROW_)
#undef ROW_
    };
    size_t n = sizeof codes / sizeof codes[0];
    assert_int_equal(n, 12);
    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i].code <= -30001);
        assert_string_equal(cairn_strerror(codes[i].code), codes[i].text);
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(codes[i].code, codes[j].code);
            assert_string_not_equal(codes[i].text, codes[j].text);
        }
    }
    /* Published values never change. */
    assert_int_equal(CAIRN_ECORRUPT, -30001);
    assert_int_equal(CAIRN_EMISMATCH, -30004);
    assert_int_equal(CAIRN_EBUSY, -30006);
    assert_int_equal(CAIRN_ENOTSUP, -30012);
    assert_string_equal(cairn_strerror(0), "success");
    assert_string_equal(cairn_strerror(-ENOSPC), strerror(ENOSPC));
    assert_string_equal(cairn_strerror(-ENOSPC), "No space left on device");
    assert_string_equal(cairn_strerror(-EROFS), strerror(EROFS));
    assert_string_equal(cairn_strerror(-EACCES), strerror(EACCES));
    assert_string_equal(cairn_strerror(-30000), "unknown error");
    assert_string_equal(cairn_strerror(-30013), "unknown error");
    assert_string_equal(cairn_strerror(12345), "unknown error");
    assert_string_equal(cairn_strerror(-4096), "unknown error");
}

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(cairn_version(), CAIRN_VERSION_NUMBER);
    assert_string_equal(cairn_version_string(), CAIRN_VERSION_STRING);
}

static void test_round_trip_shared(void **state)
{
    struct th_dir *d = *state;
    double a[100];
    for (int i = 0; i < 100; i++)
        a[i] = i * 0.5;
    char *buf = strdup("grows");
    size_t len = 6;
    cairn_options_t o;
    cairn_options_init(&o);
    o.compress_level = 3;
    o.verbose = -1;
    cairn_t *c;
    assert_int_equal(cairn_open(&c, d->store, &o), 0);
    cairn_protect(c, "a", a, sizeof a);
    cairn_protect_buffer(c, "buf", (void **)&buf, &len);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    assert_int_equal(cairn_checkpoint(c), 0);
    cairn_close(c);
    memset(a, 0, sizeof a);
    free(buf);
    buf = NULL;
    len = 0;
    assert_int_equal(cairn_open(&c, d->store, &o), 0);
    cairn_protect(c, "a", a, sizeof a);
    cairn_protect_buffer(c, "buf", (void **)&buf, &len);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    assert_true(a[99] == 49.5);
    assert_int_equal(len, 6);
    assert_string_equal(buf, "grows");
    cairn_close(c);
    free(buf);
}

/* Only the API is exported from the shared library. */
static void test_exports(void **state)
{
    (void)state;
    assert_non_null(dlsym(RTLD_DEFAULT, "cairn_open"));
    assert_non_null(dlsym(RTLD_DEFAULT, "cairn_image_open"));
    assert_null(dlsym(RTLD_DEFAULT, "cairn__log"));
    assert_null(dlsym(RTLD_DEFAULT, "cairn__writer_begin"));
    assert_null(dlsym(RTLD_DEFAULT, "cairn__store_open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_every_code),
        cmocka_unit_test(test_version),
        th_unit_test(test_round_trip_shared),
        cmocka_unit_test(test_exports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
