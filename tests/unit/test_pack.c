/* SPDX-License-Identifier: MIT */
/*
 * test_pack.c — compressed process images as `cairn run --compress`
 * makes them (cli/image_pack.c, cli/image_zpar.c): an uncompressed image
 * with memory sections of text, random bytes and both mixed is packed,
 * then expanded, and each payload comes back bit for bit; the mixed one
 * is several zstd frames, some of raw blocks; the packed bytes are the
 * same on threads as without; a byte flipped in a raw block or in a
 * compressed one makes the expansion fail, not the restore go on.
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <zstd.h>

#include "cairn.h"
#include "cairn_image.h"
#include "cairn_writer.h"
#include "image_pack.h"
#include "image_zpar.h"
#include "process_format.h"

#define MiB (1u << 20)

static void fill_random(unsigned char *p, size_t n, uint64_t *x)
{
    for (size_t i = 0; i < n; i++) {
        *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
        p[i] = (unsigned char)(*x >> 24);
    }
}

static void fill_text(unsigned char *p, size_t n, uint64_t *x)
{
    static const char *const w[8] = {"step", "energy", "flux", "ok", "mesh", "cell",
                                     "residual", "node"};
    char line[96];
    for (size_t i = 0, step = 0; i < n;) {
        *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
        int k = snprintf(line, sizeof line, "step %09zu %s=%.4f %s\n", step++, w[*x & 7],
                         (double)((*x >> 8) & 0xfffff) / 1000.0, w[(*x >> 40) & 7]);
        size_t m = (size_t)k < n - i ? (size_t)k : n - i;
        memcpy(p + i, line, m);
        i += m;
    }
}

/* The payloads: 0 mixed (text and random by turns, 5 MiB and 123 bytes,
   not a multiple of anything), 1 random (1 MiB), 2 text (300 KiB), 3
   zeros (2 MiB), 4 too small to compress (10 KiB of text). */
#define NSEC 5
static unsigned char *payload[NSEC];
static const size_t payload_len[NSEC] = {5 * MiB + 123, MiB, 300u << 10, 2 * MiB, 10u << 10};

static void make_payloads(void)
{
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < NSEC; i++)
        assert_non_null(payload[i] = calloc(1, payload_len[i]));
    for (size_t off = 0; off < payload_len[0]; off += 384u << 10) {
        size_t n = payload_len[0] - off < (384u << 10) ? payload_len[0] - off : 384u << 10;
        (off / (384u << 10)) % 2 ? fill_random(payload[0] + off, n, &x)
                                 : fill_text(payload[0] + off, n, &x);
    }
    fill_random(payload[1], payload_len[1], &x);
    fill_text(payload[2], payload_len[2], &x);
    fill_text(payload[4], payload_len[4], &x);
}

/* The uncompressed image, as the writer child makes it, in a memfd. */
static int raw_image(void)
{
    int fd = memfd_create("raw", MFD_CLOEXEC);
    assert_true(fd >= 0);
    struct cairn__writer w = {0};
    assert_int_equal(cairn__writer_begin(&w, fd, 0, 7), 0);
    for (int i = 0; i < NSEC; i++) {
        struct cairn__section s = {.type = CAIRN_SEC_PROC_MEM, .arg = (uint64_t)i,
                                   .align = CAIRN_PROC_MEM_ALIGN};
        assert_int_equal(cairn__writer_section(&w, &s, payload[i], payload_len[i]), 0);
    }
    assert_int_equal(cairn__writer_finish(&w), 0);
    cairn__writer_release(&w);
    return fd;
}

static int pack(int raw, int workers, struct pack_stats *st)
{
    int fd = memfd_create("packed", MFD_CLOEXEC);
    assert_true(fd >= 0);
    struct pack_opts po = {.level = 1, .workers = workers};
    char why[400] = "";
    int rc = image_pack(raw, fd, &po, st, why, sizeof why);
    if (rc != 0)
        fail_msg("image_pack: %s (%s)", cairn_strerror(rc), why);
    return fd;
}

/* Expands fd and compares every payload with what was written. */
static void check_expanded(int fd)
{
    int mfd = -1;
    char why[400] = "";
    int rc = image_expand(fd, &mfd, why, sizeof why);
    if (rc != 1)
        fail_msg("image_expand: %d (%s)", rc, why);
    cairn_image_t *img;
    assert_int_equal(cairn_image_open_fd(&img, mfd, why, sizeof why), 0);
    for (unsigned i = 0; i < NSEC; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        assert_int_equal(s->codec, CAIRN_CODEC_NONE);
        assert_int_equal(s->data_offset % CAIRN_PROC_MEM_ALIGN, 0);
        unsigned char *back = malloc(payload_len[i]);
        assert_non_null(back);
        assert_int_equal(cairn_image_read(img, i, back, payload_len[i]), 0);
        if (memcmp(back, payload[i], payload_len[i]))
            fail_msg("payload %u differs after pack and expand", i);
        free(back);
    }
    cairn_image_close(img);
    close(mfd);
}

static unsigned char *slurp(int fd, size_t *len)
{
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    unsigned char *p = malloc((size_t)sb.st_size);
    assert_non_null(p);
    assert_int_equal(pread(fd, p, (size_t)sb.st_size, 0), sb.st_size);
    *len = (size_t)sb.st_size;
    return p;
}

static void test_round_trip(void **state)
{
    (void)state;
    int raw = raw_image();
    struct pack_stats st;
    int fd = pack(raw, 2, &st);
    assert_int_equal(st.compressed, 3); /* mixed, text, zeros */
    assert_int_equal(st.passed, 1);     /* random */
    assert_true(st.raw_blocks >= 5 * (128u << 10)); /* the mixed one's random runs */
    assert_true(st.stored < st.raw * 7 / 10);
    cairn_image_t *img;
    char why[400];
    assert_int_equal(cairn_image_open_fd(&img, fd, why, sizeof why), 0);
    const unsigned want[NSEC] = {CAIRN_CODEC_ZSTD, CAIRN_CODEC_NONE, CAIRN_CODEC_ZSTD,
                                 CAIRN_CODEC_ZSTD, CAIRN_CODEC_NONE};
    for (unsigned i = 0; i < NSEC; i++)
        assert_int_equal(cairn_image_section(img, i)->codec, want[i]);
    unsigned bad = 99;
    assert_int_equal(cairn_image_verify(img, &bad), 0);
    /* The mixed payload is several frames (one at least per MiB). */
    const cairn_section_info_t *s = cairn_image_section(img, 0);
    size_t len;
    unsigned char *all = slurp(fd, &len);
    unsigned frames = 0;
    for (uint64_t at = s->data_offset; at < s->data_offset + s->stored_size; frames++) {
        size_t n = ZSTD_findFrameCompressedSize(all + at, (size_t)(s->data_offset +
                                                                     s->stored_size - at));
        assert_false(ZSTD_isError(n));
        at += n;
    }
    assert_true(frames >= 6);
    free(all);
    cairn_image_close(img);
    check_expanded(fd);
    close(fd);
    close(raw);
}

/* The stored bytes do not depend on the threads. */
static void test_same_without_threads(void **state)
{
    (void)state;
    int raw = raw_image();
    struct pack_stats a, b;
    int fa = pack(raw, 2, &a), fb = pack(raw, 0, &b);
    size_t la, lb;
    unsigned char *pa = slurp(fa, &la), *pb = slurp(fb, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    free(pa);
    free(pb);
    check_expanded(fb);
    close(fa);
    close(fb);
    close(raw);
}

/* Flips the byte at off of the packed image; the expansion must fail. */
static void expect_corrupt(int fd, uint64_t off)
{
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
    c ^= 0x5a;
    assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
    int mfd = -1;
    char why[400] = "";
    int rc = image_expand(fd, &mfd, why, sizeof why);
    assert_int_equal(rc, CAIRN_ECORRUPT);
    assert_non_null(strstr(why, "section 0"));
    c ^= 0x5a;
    assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
}

static void test_corrupt(void **state)
{
    (void)state;
    int raw = raw_image();
    struct pack_stats st;
    int fd = pack(raw, 2, &st);
    size_t len;
    unsigned char *all = slurp(fd, &len);
    /* A raw block: random bytes of the mixed payload, found as they are. */
    const unsigned char *needle = payload[0] + (384u << 10) + 1000;
    unsigned char *hit = memmem(all, len, needle, 64);
    assert_non_null(hit);
    expect_corrupt(fd, (uint64_t)(hit - all) + 10);
    /* A compressed block: the middle of the first frame (text). */
    cairn_image_t *img;
    char why[400];
    assert_int_equal(cairn_image_open_fd(&img, fd, why, sizeof why), 0);
    const cairn_section_info_t *s = cairn_image_section(img, 0);
    size_t first = ZSTD_findFrameCompressedSize(all + s->data_offset, (size_t)s->stored_size);
    assert_false(ZSTD_isError(first));
    uint64_t mid = s->data_offset + first / 2;
    cairn_image_close(img);
    expect_corrupt(fd, mid);
    check_expanded(fd); /* each flip was undone */
    free(all);
    close(fd);
    close(raw);
}

/* An image of one frame per section, as cairn packed them before the
   frames (and as libcairn's writer does), expands as it did. */
static void test_one_frame_image(void **state)
{
    (void)state;
    int fd = memfd_create("old", MFD_CLOEXEC);
    assert_true(fd >= 0);
    struct cairn__writer w = {.zstd = &cairn__writer_zstd};
    assert_int_equal(cairn__writer_begin(&w, fd, 0, 7), 0);
    for (int i = 0; i < NSEC; i++) {
        struct cairn__section s = {.type = CAIRN_SEC_PROC_MEM, .arg = (uint64_t)i,
                                   .level = i == 0 || i == 2 ? 1 : 0};
        assert_int_equal(cairn__writer_section(&w, &s, payload[i], payload_len[i]), 0);
    }
    assert_int_equal(cairn__writer_finish(&w), 0);
    cairn__writer_release(&w);
    size_t len;
    unsigned char *all = slurp(fd, &len);
    cairn_image_t *img;
    char why[400];
    assert_int_equal(cairn_image_open_fd(&img, fd, why, sizeof why), 0);
    const cairn_section_info_t *s = cairn_image_section(img, 0);
    assert_int_equal(s->codec, CAIRN_CODEC_ZSTD);
    assert_int_equal(ZSTD_findFrameCompressedSize(all + s->data_offset, (size_t)s->stored_size),
                     s->stored_size);
    cairn_image_close(img);
    free(all);
    check_expanded(fd);
    close(fd);
}

/* A raw frame is a zstd frame: libzstd decodes it to its bytes. */
static void test_raw_frame(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 4096, ZPAR_BLOCK, ZPAR_BLOCK + 1, ZPAR_CHUNK};
    uint64_t x = 1234567;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        unsigned char *src = malloc(n), *frame = malloc(zpar_raw_frame_size(n)), *back = malloc(n);
        assert_true(src && frame && back);
        fill_random(src, n, &x);
        size_t f = zpar_raw_frame(frame, src, n);
        assert_int_equal(f, zpar_raw_frame_size(n));
        assert_int_equal(ZSTD_getFrameContentSize(frame, f), n);
        assert_int_equal(ZSTD_findFrameCompressedSize(frame, f), f);
        assert_int_equal(ZSTD_decompress(back, n, frame, f), n);
        assert_memory_equal(back, src, n);
        free(src);
        free(frame);
        free(back);
    }
}

int main(void)
{
    make_payloads();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_frame),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_same_without_threads),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_one_frame_image),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    for (int i = 0; i < NSEC; i++)
        free(payload[i]);
    return rc;
}
