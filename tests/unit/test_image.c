/* SPDX-License-Identifier: MIT */
/*
 * test_image.c — image writer and reader round trips.
 *
 * Sections of awkward sizes (0, 1, unaligned, around the writer's 4 MiB
 * chunk, 64 MiB), raw and zstd-compressed, with empty and 255-byte names,
 * and thousands of them, are written with the internal writer
 * (lib/image.h) and read back with the public reader (cairn_image.h):
 * bytes must come back identical, every payload 8-byte aligned, and the
 * image must verify. The same is then done through the application API.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cairn.h"
#include "cairn_image.h"
#include "fixture.h"
#include "cairn_store.h"
#include "cairn_writer.h"

#define MiB (1u << 20)

struct sec {
    char name[CAIRN_NAME_MAX + 2];
    unsigned char *data;
    size_t size;
    int level;
};

/* Writes secs[] as an image at path (generation gen); returns the writer's
   size and checks it equals the file size. */
static uint64_t write_image(const char *path, struct sec *secs, size_t n, uint64_t gen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    struct cairn__writer w = {.zstd = &cairn__writer_zstd};
    assert_int_equal(cairn__writer_begin(&w, fd, 0, gen), 0);
    for (size_t i = 0; i < n; i++) {
        struct cairn__section s = {
            .type = CAIRN_SEC_REGION,
            .name = secs[i].name,
            .name_len = strlen(secs[i].name),
            .arg = i,
            .level = secs[i].level,
        };
        assert_int_equal(cairn__writer_section(&w, &s, secs[i].data, secs[i].size), 0);
    }
    assert_int_equal(cairn__writer_finish(&w), 0);
    uint64_t size = w.off;
    cairn__writer_release(&w);
    assert_int_equal(lseek(fd, 0, SEEK_END), (off_t)size);
    close(fd);
    return size;
}

/* Opens path, checks the header and every section, reads them back. */
static void check_image(const char *path, struct sec *secs, size_t n, uint64_t gen)
{
    cairn_image_t *img;
    char why[320] = "";
    int rc = cairn_image_open(&img, path, why, sizeof why);
    if (rc != 0)
        fail_msg("open %s: %s (%s)", path, cairn_strerror(rc), why);
    const cairn_image_info_t *info = cairn_image_info(img);
    assert_int_equal(info->format_major, CAIRN_FORMAT_MAJOR);
    assert_int_equal(info->writer_version, CAIRN_VERSION_NUMBER);
    assert_int_equal(info->generation, gen);
    assert_int_equal(info->uid, getuid());
    assert_int_equal(info->pid, getpid());
    assert_int_equal(info->section_count, n);
    assert_int_equal(info->flags, 0);
    for (unsigned i = 0; i < n; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        assert_non_null(s);
        assert_string_equal(s->name, secs[i].name);
        assert_int_equal(s->type, CAIRN_SEC_REGION);
        assert_int_equal(s->raw_size, secs[i].size);
        assert_int_equal(s->arg, i);
        assert_int_equal(s->data_offset % CAIRN_DATA_ALIGN, 0);
        unsigned want_codec = secs[i].level > 0 && secs[i].size ? CAIRN_CODEC_ZSTD : 0;
        assert_int_equal(s->codec, want_codec);
        if (!want_codec)
            assert_int_equal(s->stored_size, s->raw_size);
        unsigned char *back = malloc(secs[i].size ? secs[i].size : 1);
        assert_non_null(back);
        rc = cairn_image_read(img, i, back, secs[i].size);
        if (rc != 0)
            fail_msg("read section %u: %s", i, cairn_image_error(img));
        if (secs[i].size && memcmp(back, secs[i].data, secs[i].size) != 0)
            fail_msg("section %u '%s' (%zu bytes) differs after the round trip", i,
                     secs[i].name, secs[i].size);
        /* A wrong destination size is refused, not overrun. */
        assert_int_equal(cairn_image_read(img, i, back, secs[i].size + 1), CAIRN_EINVAL);
        free(back);
        assert_int_equal(cairn_image_find(img, CAIRN_SEC_REGION, secs[i].name), (int)i);
    }
    assert_null(cairn_image_section(img, (unsigned)n));
    unsigned bad = 12345;
    assert_int_equal(cairn_image_verify(img, &bad), 0);
    assert_int_equal(bad, 12345);
    cairn_image_close(img);
}

static void round_trip(const char *dir, struct sec *secs, size_t n)
{
    char path[700];
    snprintf(path, sizeof path, "%s/image.cairn", dir);
    write_image(path, secs, n, 42);
    check_image(path, secs, n, 42);
    unlink(path);
}

static void test_empty_image(void **state)
{
    struct th_dir *d = *state;
    round_trip(d->root, NULL, 0);
}

/* Awkward sizes, random (incompressible) and zero (very compressible)
   data, raw and compressed. */
static void test_awkward_sizes(void **state)
{
    struct th_dir *d = *state;
    static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 9, 63, 65, 4095, 4097, 65537,
                                   4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 9 * MiB + 3};
    size_t n = sizeof sizes / sizeof sizes[0];
    struct sec secs[2 * sizeof sizes / sizeof sizes[0]];
    for (int level = 0; level <= 3; level += 3) {
        for (size_t i = 0; i < 2 * n; i++) {
            size_t sz = sizes[i % n];
            secs[i].size = sz;
            secs[i].level = level;
            secs[i].data = calloc(1, sz ? sz : 1);
            if (i < n)
                th_fill_random(secs[i].data, sz, i + 1);
            snprintf(secs[i].name, sizeof secs[i].name, "%s-%zu",
                     i < n ? "random" : "zeros", sz);
        }
        round_trip(d->root, secs, 2 * n);
        for (size_t i = 0; i < 2 * n; i++)
            free(secs[i].data);
    }
}

/* Alternating raw and compressed sections in one image. */
static void test_mixed_codecs(void **state)
{
    struct th_dir *d = *state;
    struct sec secs[6];
    for (int i = 0; i < 6; i++) {
        secs[i].size = 1000 + 333 * (size_t)i;
        secs[i].level = i % 2 ? 1 + i : 0;
        secs[i].data = malloc(secs[i].size);
        th_fill_random(secs[i].data, secs[i].size, 77 + (uint64_t)i);
        memset(secs[i].data, 'a', secs[i].size / 2);
        snprintf(secs[i].name, sizeof secs[i].name, "s%d", i);
    }
    round_trip(d->root, secs, 6);
    for (int i = 0; i < 6; i++)
        free(secs[i].data);
}

/* A 64 MiB region, raw and compressed (half random, half a pattern). */
static void test_64mib(void **state)
{
    struct th_dir *d = *state;
    struct sec s = {.size = 64 * MiB};
    s.data = malloc(s.size);
    assert_non_null(s.data);
    th_fill_random(s.data, s.size / 2, 64);
    for (size_t i = s.size / 2; i < s.size; i++)
        s.data[i] = (unsigned char)(i * 31 / 4096);
    strcpy(s.name, "big");
    round_trip(d->root, &s, 1);
    s.level = 1;
    round_trip(d->root, &s, 1);
    free(s.data);
}

/* Names: empty, one byte, exactly 255 bytes; 256 is refused. */
static void test_names(void **state)
{
    struct th_dir *d = *state;
    unsigned char byte = 0xab;
    struct sec secs[3] = {{.data = &byte, .size = 1}, {.data = &byte, .size = 1},
                          {.data = &byte, .size = 1, .level = 1}};
    strcpy(secs[1].name, "x");
    memset(secs[2].name, 'n', 255);
    secs[2].name[255] = '\0';
    round_trip(d->root, secs, 3);

    char path[700];
    snprintf(path, sizeof path, "%s/long.cairn", d->root);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    struct cairn__writer w = {0};
    assert_int_equal(cairn__writer_begin(&w, fd, 0, 1), 0);
    char longname[257];
    memset(longname, 'n', 256);
    longname[256] = '\0';
    struct cairn__section s = {.type = CAIRN_SEC_REGION, .name = longname, .name_len = 256};
    assert_int_equal(cairn__writer_section(&w, &s, &byte, 1), CAIRN_EINVAL);
    cairn__writer_release(&w);
    close(fd);
}

/* Thousands of small regions. */
static void test_many_sections(void **state)
{
    struct th_dir *d = *state;
    enum { N = 3000 };
    struct sec *secs = calloc(N, sizeof *secs);
    for (size_t i = 0; i < N; i++) {
        secs[i].size = i % 37;
        secs[i].level = i % 5 == 0 ? 1 : 0;
        secs[i].data = malloc(secs[i].size + 1);
        th_fill_random(secs[i].data, secs[i].size, i);
        snprintf(secs[i].name, sizeof secs[i].name, "region/%zu", i);
    }
    round_trip(d->root, secs, N);
    for (size_t i = 0; i < N; i++)
        free(secs[i].data);
    free(secs);
}

/* Through the API: protect, checkpoint, restore in a new handle into zeroed
   memory; with and without compression; every kind of size and name. */
static void api_round_trip(const char *store, int level)
{
    enum { N = 8 };
    /* 64 MiB raw here; compressed it is covered by test_64mib. */
    const size_t sizes[N] = {0, 1, 3, 4097, 4 * MiB + 5, level ? MiB + 7 : 64 * MiB, 17, 255};
    unsigned char *orig[N], *mem[N];
    char names[N][CAIRN_NAME_MAX + 1];
    for (int i = 0; i < N; i++) {
        orig[i] = malloc(sizes[i] + 1);
        mem[i] = malloc(sizes[i] + 1);
        th_fill_random(orig[i], sizes[i], (uint64_t)i + 1000);
        memcpy(mem[i], orig[i], sizes[i]);
        memset(names[i], 'a' + i, i == N - 1 ? 255 : (size_t)i + 1);
        names[i][i == N - 1 ? 255 : i + 1] = '\0';
    }
    for (int pass = 0; pass < 2; pass++) {
        cairn_options_t o;
        cairn_options_init(&o);
        o.compress_level = level;
        o.verbose = -1;
        cairn_t *c;
        assert_int_equal(cairn_open(&c, store, &o), 0);
        for (int i = 0; i < N; i++)
            assert_int_equal(cairn_protect(c, names[i], mem[i], sizes[i]), 0);
        int rc = cairn_restore(c);
        assert_int_equal(rc, pass == 0 ? CAIRN_FRESH : CAIRN_RESTORED);
        if (pass == 0)
            assert_int_equal(cairn_checkpoint(c), 0);
        cairn_close(c);
        for (int i = 0; i < N; i++) {
            if (pass == 1 && memcmp(mem[i], orig[i], sizes[i]) != 0)
                fail_msg("region %d (%zu bytes, level %d) differs", i, sizes[i], level);
            memset(mem[i], 0, sizes[i]); /* the restore must fill it */
        }
    }
    for (int i = 0; i < N; i++) {
        free(orig[i]);
        free(mem[i]);
    }
    th_rmtree(store);
}

static void test_api_round_trip(void **state)
{
    struct th_dir *d = *state;
    api_round_trip(d->store, 0);
    api_round_trip(d->store, 1);
    api_round_trip(d->store, 9);
}

/* Name rules at the API: 1..255 bytes, NULL pointer only with size 0. */
static void test_api_names(void **state)
{
    struct th_dir *d = *state;
    cairn_t *c;
    assert_int_equal(cairn_open(&c, d->store, NULL), 0);
    char n256[257];
    memset(n256, 'z', 256);
    n256[256] = '\0';
    int x = 0;
    assert_int_equal(cairn_protect(c, n256, &x, sizeof x), CAIRN_EINVAL);
    assert_int_equal(cairn_protect(c, "", &x, sizeof x), CAIRN_EINVAL);
    assert_int_equal(cairn_protect(c, NULL, &x, sizeof x), CAIRN_EINVAL);
    assert_int_equal(cairn_protect(c, "p", NULL, 4), CAIRN_EINVAL);
    assert_int_equal(cairn_protect(c, "empty", NULL, 0), 0);
    assert_int_equal(cairn_protect_buffer(c, "b", NULL, NULL), CAIRN_EINVAL);
    assert_int_equal(cairn_protect(NULL, "q", &x, sizeof x), CAIRN_EINVAL);
    n256[255] = '\0';
    assert_int_equal(cairn_protect(c, n256, &x, sizeof x), 0);
    cairn_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        th_unit_test(test_empty_image),
        th_unit_test(test_awkward_sizes),
        th_unit_test(test_mixed_codecs),
        th_unit_test(test_64mib),
        th_unit_test(test_names),
        th_unit_test(test_many_sections),
        th_unit_test(test_api_round_trip),
        th_unit_test(test_api_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
