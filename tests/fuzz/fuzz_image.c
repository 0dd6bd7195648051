/* SPDX-License-Identifier: MIT */
/*
 * fuzz_image.c — libFuzzer target for the image reader (cairn_image.h).
 *
 * The input is put in a memfd and opened with cairn_image_open_fd; when it
 * opens, every section is looked up, read into a buffer of its raw size
 * (sections above FUZZ_MAX_RAW are skipped) and the image verified. Each
 * input runs twice: as given, and with its checksums recomputed (see
 * fuzz_util.h) so the code behind the checksums is reached too.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cairn_image.h"
#include "fuzz_util.h"

static void read_sections(cairn_image_t *img)
{
    const cairn_image_info_t *info = cairn_image_info(img);
    for (unsigned i = 0; i < info->section_count; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        (void)cairn_section_type_name(s->type);
        (void)cairn_codec_name(s->codec);
        if (cairn_image_find(img, s->type, s->name) < 0)
            abort(); /* the section we hold must be found */
        if (s->raw_size > FUZZ_MAX_RAW)
            continue;
        void *dst = malloc(s->raw_size ? (size_t)s->raw_size : 1);
        if (!dst)
            continue;
        (void)cairn_image_read(img, i, dst, (size_t)s->raw_size);
        (void)cairn_image_read(img, i, dst, (size_t)s->raw_size + 1); /* wrong size */
        free(dst);
    }
    (void)cairn_image_section(img, info->section_count); /* past the end: NULL */
    (void)cairn_image_read(img, info->section_count, NULL, 0);
    unsigned bad = 0;
    (void)cairn_image_verify(img, &bad);
    (void)cairn_image_error(img);
}

static void run_one(const uint8_t *data, size_t size)
{
    int fd = memfd_create("cairn-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            abort();
        done += (size_t)n;
    }
    cairn_image_t *img;
    char why[256];
    if (cairn_image_open_fd(&img, fd, why, sizeof why) == 0) {
        read_sections(img);
        cairn_image_close(img);
    } else if (img != NULL || why[0] == '\0') {
        abort(); /* a failed open must say why and return no image */
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    run_one(data, size);
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (fuzz_fix_checksums(copy, size))
        run_one(copy, size);
    free(copy);
    return 0;
}
