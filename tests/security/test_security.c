/* SPDX-License-Identifier: MIT */
/*
 * test_security.c — authenticated images and stores nobody else can tamper
 * with (issue 5 items 3 and 4).
 *
 * The central case: an attacker who can write to the store rewrites a
 * region and fixes up every XXH3 checksum. Without a key that image is
 * restored (checksums catch accidents, not attacks); with a key it is
 * refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn.h"
#include "cairn_image.h"
#include "fixture.h"
#include "image_edit.h"

/* One scratch directory for the group: the store, and two key files. */
static struct th_dir fx;
static const char *const dir = fx.root, *const store = fx.store;
static char keyfile[700], key2[700];

static int setup(void **state)
{
    (void)state;
    th_fixture_begin(&fx);
    snprintf(keyfile, sizeof keyfile, "%s/key", dir);
    snprintf(key2, sizeof key2, "%s/key2", dir);
    const char *keys[] = {keyfile, key2};
    for (int k = 0; k < 2; k++) {
        int fd = open(keys[k], O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        char material[48];
        memset(material, 'a' + k, sizeof material);
        assert_int_equal(write(fd, material, sizeof material), (ssize_t)sizeof material);
        close(fd);
    }
    setenv("CAIRN_QUIET", "1", 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    th_fixture_end(&fx);
    return 0;
}

struct job {
    cairn_t *c;
    long counter;
    double values[64];
};

/* Opens the store with an optional key and protects the job's state. */
static int open_job(struct job *j, const char *key)
{
    cairn_options_t o;
    cairn_options_init(&o);
    o.key_file = key;
    int rc = cairn_open(&j->c, store, &o);
    if (rc < 0)
        return rc;
    cairn_protect(j->c, "counter", &j->counter, sizeof j->counter);
    cairn_protect(j->c, "values", j->values, sizeof j->values);
    return 0;
}

/* Writes one checkpoint with counter = n. */
static void write_image(const char *key, long n)
{
    struct job j = {0};
    assert_int_equal(open_job(&j, key), 0);
    assert_true(cairn_restore(j.c) >= 0);
    j.counter = n;
    for (int i = 0; i < 64; i++)
        j.values[i] = n * 0.5 + i;
    assert_int_equal(cairn_checkpoint(j.c), 0);
    cairn_close(j.c);
}

/* Restores with a key (or none); returns cairn_restore's result. */
static int restore_job(const char *key, long *counter)
{
    struct job j = {0};
    int rc = open_job(&j, key);
    if (rc < 0)
        return rc;
    rc = cairn_restore(j.c);
    *counter = j.counter;
    cairn_close(j.c);
    return rc;
}

static void reset_store(void)
{
    if (th_exists(store))
        assert_int_equal(th_rmtree(store), 0);
}

static void newest_path(char *buf, size_t len)
{
    uint64_t gens[16];
    size_t n = 0;
    assert_int_equal(cairn_store_list(store, gens, 16, &n), 0);
    assert_true(n > 0);
    assert_int_equal(cairn_store_image_path(store, gens[n - 1], buf, len), 0);
}

static void test_mac_round_trip(void **state)
{
    (void)state;
    reset_store();
    write_image(keyfile, 42);
    long counter = 0;
    assert_int_equal(restore_job(keyfile, &counter), CAIRN_RESTORED);
    assert_int_equal(counter, 42);

    char path[600];
    newest_path(path, sizeof path);
    cairn_image_t *img;
    assert_int_equal(cairn_image_open(&img, path, NULL, 0), 0);
    assert_true(cairn_image_info(img)->flags & CAIRN_IMG_MAC);
    unsigned char key[CAIRN_KEY_SIZE];
    assert_int_equal(cairn_key_load(keyfile, key), 0);
    assert_int_equal(cairn_image_set_key(img, key), 0);
    assert_int_equal(cairn_image_verify(img, NULL), 0);
    cairn_image_close(img);
}

static void test_wrong_key_refused_and_kept(void **state)
{
    (void)state;
    reset_store();
    write_image(keyfile, 7);
    long counter = 0;
    assert_int_equal(restore_job(key2, &counter), CAIRN_EAUTH);
    char path[600];
    newest_path(path, sizeof path); /* not set aside: the right key restores it */
    assert_int_equal(restore_job(keyfile, &counter), CAIRN_RESTORED);
    assert_int_equal(counter, 7);
}

static void test_unauthenticated_image_refused_with_key(void **state)
{
    (void)state;
    reset_store();
    write_image(NULL, 9);
    long counter = 0;
    assert_int_equal(restore_job(keyfile, &counter), CAIRN_EAUTH);
    assert_int_equal(restore_job(NULL, &counter), CAIRN_RESTORED);
}

/* Sets the first byte of region "counter" to v, then recomputes the data,
   header, chain and trailer checksums, as an attacker who knows the format
   would after editing a payload. */
static void tamper_counter(const char *path, unsigned char v)
{
    cairn_image_t *img;
    assert_int_equal(cairn_image_open(&img, path, NULL, 0), 0);
    int idx = cairn_image_find(img, CAIRN_SEC_REGION, "counter");
    assert_true(idx >= 0);
    cairn_image_close(img);
    static struct ie_image im;
    assert_int_equal(ie_load(&im, path), 0);
    assert_true((unsigned)idx < im.nsec);
    ie_payload(&im, (unsigned)idx)[0] = v;
    ie_seal(&im, IE_SEAL_DATA);
    assert_int_equal(ie_rewrite(&im, path), 0);
    ie_free(&im);
}

static void test_forged_image_needs_a_key_to_be_caught(void **state)
{
    (void)state;
    char path[600];
    long counter = 0;

    reset_store();
    write_image(NULL, 1);
    newest_path(path, sizeof path);
    tamper_counter(path, 99);
    assert_int_equal(restore_job(NULL, &counter), CAIRN_RESTORED);
    assert_int_equal(counter, 99); /* checksums alone are fooled */

    reset_store();
    write_image(keyfile, 1);
    write_image(keyfile, 2);
    newest_path(path, sizeof path);
    tamper_counter(path, 99);
    assert_int_equal(restore_job(keyfile, &counter), CAIRN_RESTORED);
    assert_int_equal(counter, 1); /* forged newest refused, previous one used */
}

static void test_key_file_must_be_private(void **state)
{
    (void)state;
    reset_store();
    assert_int_equal(chmod(keyfile, 0644), 0);
    struct job j = {0};
    assert_int_equal(open_job(&j, keyfile), CAIRN_EAUTH);
    assert_int_equal(chmod(keyfile, 0600), 0);
}

static void test_default_key_created_private(void **state)
{
    (void)state;
    reset_store();
    char home[600], path[700];
    snprintf(home, sizeof home, "%s/home", dir);
    setenv("XDG_CONFIG_HOME", home, 1);
    write_image("default", 5);
    snprintf(path, sizeof path, "%s/cairn/key", home);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    long counter = 0;
    assert_int_equal(restore_job("default", &counter), CAIRN_RESTORED);
    assert_int_equal(counter, 5);
    unsetenv("XDG_CONFIG_HOME");
}

static void test_shared_writable_store_refused(void **state)
{
    (void)state;
    reset_store();
    assert_int_equal(mkdir(store, 0777), 0);
    assert_int_equal(chmod(store, 0777), 0);
    struct job j = {0};
    assert_int_equal(open_job(&j, NULL), -EPERM);
    assert_int_equal(chmod(store, 01777), 0); /* sticky, as /tmp: allowed */
    assert_int_equal(open_job(&j, NULL), 0);
    cairn_close(j.c);
}

static void test_store_of_another_user_refused(void **state)
{
    (void)state;
    reset_store();
    cairn_t *c;
    if (geteuid() == 0) {
        assert_int_equal(mkdir(store, 0700), 0);
        assert_int_equal(chown(store, 65534, 65534), 0);
        assert_int_equal(cairn_open(&c, store, NULL), -EPERM);
    } else {
        assert_int_equal(cairn_open(&c, "/", NULL), -EPERM); /* root's */
    }
}

static void test_symlinked_image_not_followed(void **state)
{
    (void)state;
    reset_store();
    write_image(NULL, 3);
    char path[600], elsewhere[600];
    newest_path(path, sizeof path);
    snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere.cairn", dir);
    assert_int_equal(rename(path, elsewhere), 0);
    assert_int_equal(symlink(elsewhere, path), 0);
    long counter = 0;
    assert_true(restore_job(NULL, &counter) < 0);
    unlink(elsewhere);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac_round_trip),
        cmocka_unit_test(test_wrong_key_refused_and_kept),
        cmocka_unit_test(test_unauthenticated_image_refused_with_key),
        cmocka_unit_test(test_forged_image_needs_a_key_to_be_caught),
        cmocka_unit_test(test_key_file_must_be_private),
        cmocka_unit_test(test_default_key_created_private),
        cmocka_unit_test(test_shared_writable_store_refused),
        cmocka_unit_test(test_store_of_another_user_refused),
        cmocka_unit_test(test_symlinked_image_not_followed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
