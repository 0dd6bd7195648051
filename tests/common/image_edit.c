/* SPDX-License-Identifier: MIT */
/*
 * image_edit.c — see image_edit.h. Walks sections the way the writer lays
 * them out (format/container.h), so it also walks images it has broken.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "image_edit.h"

int ie_load(struct ie_image *im, const char *path)
{
    memset(im, 0, sizeof *im);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !(im->p = malloc((size_t)st.st_size + 1))) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    im->len = (size_t)st.st_size;
    ssize_t n = pread(fd, im->p, im->len, 0);
    close(fd);
    if (n != (ssize_t)im->len)
        return -1;
    ie_index(im);
    return 0;
}

int ie_from_bytes(struct ie_image *im, const void *bytes, size_t len)
{
    memset(im, 0, sizeof *im);
    if (!(im->p = malloc(len + 1)))
        return -1;
    memcpy(im->p, bytes, len);
    im->len = len;
    ie_index(im);
    return 0;
}

int ie_save(const struct ie_image *im, const char *path)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, im->p, im->len);
    return close(fd) == 0 && n == (ssize_t)im->len ? 0 : -1;
}

int ie_rewrite(const struct ie_image *im, const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = pwrite(fd, im->p, im->len, 0);
    int ok = n == (ssize_t)im->len && ftruncate(fd, (off_t)im->len) == 0;
    return close(fd) == 0 && ok ? 0 : -1;
}

void ie_free(struct ie_image *im)
{
    free(im->p);
    im->p = NULL;
}

int ie_copy(struct ie_image *dst, const struct ie_image *src)
{
    memcpy(dst, src, sizeof *dst);
    dst->p = malloc(src->len + 1);
    if (!dst->p)
        return -1;
    memcpy(dst->p, src->p, src->len);
    return 0;
}

void ie_index(struct ie_image *im)
{
    im->nsec = 0;
    if (im->len < CAIRN_IMAGE_MIN_SIZE)
        return;
    uint64_t end = im->len - CAIRN_TRAILER_SIZE, off = CAIRN_HEADER_SIZE;
    while (off + CAIRN_SECTION_HEADER_SIZE <= end && im->nsec < IE_MAX_SECTIONS &&
           memcmp(im->p + off, CAIRN_SECTION_MAGIC, 4) == 0) {
        struct cairn_section_header s;
        cairn_section_decode(im->p + off, &s);
        im->sec[im->nsec++] = off;
        uint64_t next = cairn_section_next(&s);
        if (next <= off)
            break;
        off = next;
    }
}

int ie_find(const struct ie_image *im, unsigned type)
{
    for (unsigned i = 0; i < im->nsec; i++)
        if (cairn_get16(im->p + im->sec[i] + CAIRN_SH_TYPE) == type)
            return (int)i;
    return -1;
}

unsigned char *ie_header(struct ie_image *im)
{
    return im->p;
}

unsigned char *ie_trailer(struct ie_image *im)
{
    return im->p + im->len - CAIRN_TRAILER_SIZE;
}

unsigned char *ie_section(struct ie_image *im, unsigned i)
{
    return im->p + im->sec[i];
}

unsigned char *ie_payload(struct ie_image *im, unsigned i)
{
    return im->p + cairn_get64(ie_section(im, i) + CAIRN_SH_DATA_OFFSET);
}

uint64_t ie_seal_section(struct ie_image *im, unsigned i, int flags)
{
    unsigned char *h = ie_section(im, i);
    struct cairn_section_header s;
    cairn_section_decode(h, &s);
    if ((flags & IE_SEAL_DATA) && s.codec == CAIRN_CODEC_NONE && s.data_offset < im->len &&
        s.stored_size <= im->len - s.data_offset)
        cairn_put64(h + CAIRN_SH_DATA_CHECKSUM, XXH3_64bits(im->p + s.data_offset, s.stored_size));
    unsigned name = s.name_len <= CAIRN_NAME_MAX ? s.name_len : 0;
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, h, CAIRN_SH_SUMMED);
    XXH3_64bits_update(&st, h + CAIRN_SH_NAME, name);
    uint64_t sum = XXH3_64bits_digest(&st);
    cairn_section_seal(h, sum);
    return sum;
}

void ie_seal_trailer(struct ie_image *im)
{
    unsigned char *t = ie_trailer(im);
    cairn_trailer_seal(t, XXH3_64bits(t, CAIRN_TR_SUMMED));
}

void ie_seal(struct ie_image *im, int flags)
{
    if (im->len < CAIRN_IMAGE_MIN_SIZE)
        return;
    uint64_t chain = XXH3_64bits(im->p, CAIRN_HDR_SUMMED);
    cairn_header_seal(im->p, chain);
    for (unsigned i = 0; i < im->nsec; i++) {
        uint64_t hsum = ie_seal_section(im, i, flags);
        unsigned char link[CAIRN_CHAIN_LINK_SIZE];
        cairn_chain_link(link, hsum, cairn_get64(ie_section(im, i) + CAIRN_SH_DATA_CHECKSUM));
        chain = XXH3_64bits_withSeed(link, sizeof link, chain);
    }
    cairn_put64(ie_trailer(im) + CAIRN_TR_CHAIN, chain);
    ie_seal_trailer(im);
}
