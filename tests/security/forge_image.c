/*
 * forge_image.c — test helper playing an attacker who can write to a store
 * but has no key: overwrites bytes in a section's payload, then recomputes
 * every XXH3 checksum it invalidated (the section's data and header
 * checksums, the chain, the trailer), so that the image still verifies
 * without a key.
 *
 *   forge_image IMAGE TYPE INDEX OFFSET HEXBYTES
 *
 * TYPE is a section type (0x100 = process core, ...), INDEX which section
 * of that type (0 = first), OFFSET a byte offset into its payload and
 * HEXBYTES the bytes to put there ("ff00..."). Exit 0 on success.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "image_format.h"

static int die(const char *msg)
{
    fprintf(stderr, "forge_image: %s\n", msg);
    return 1;
}

/* Decodes HEXBYTES into out; returns the byte count or -1. */
static long parse_hex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return (long)(n / 2);
}

/* Recomputes section checksums (all of them: cheap here), chain, trailer. */
static void fix_checksums(unsigned char *f, uint64_t size)
{
    uint64_t chain = cairn_get64(f + 120), off = CAIRN_HEADER_SIZE;
    uint64_t trailer = size - CAIRN_TRAILER_SIZE;
    while (off < trailer) {
        unsigned char *h = f + off;
        unsigned name_len = cairn_get16(h + 12);
        uint64_t data = cairn_get64(h + 16), stored = cairn_get64(h + 24);
        if (cairn_get16(h + 6) == CAIRN_CODEC_NONE)
            cairn_put64(h + 40, XXH3_64bits(f + data, stored));
        XXH3_state_t st;
        XXH3_64bits_reset(&st);
        XXH3_64bits_update(&st, h, 56);
        XXH3_64bits_update(&st, h + CAIRN_SECTION_HEADER_SIZE, name_len);
        cairn_put64(h + 56, XXH3_64bits_digest(&st));
        unsigned char link[16];
        cairn_put64(link, cairn_get64(h + 56));
        cairn_put64(link + 8, cairn_get64(h + 40));
        chain = XXH3_64bits_withSeed(link, 16, chain);
        off = cairn_align_up(data + stored, CAIRN_DATA_ALIGN);
    }
    cairn_put64(f + trailer + 24, chain);
    cairn_put64(f + trailer + 56, XXH3_64bits(f + trailer, 56));
}

int main(int argc, char **argv)
{
    if (argc != 6)
        return die("usage: forge_image IMAGE TYPE INDEX OFFSET HEXBYTES");
    unsigned type = (unsigned)strtoul(argv[2], NULL, 0);
    long index = strtol(argv[3], NULL, 0);
    uint64_t at = strtoull(argv[4], NULL, 0);
    unsigned char bytes[256];
    long nbytes = parse_hex(argv[5], bytes, sizeof bytes);
    int fd = open(argv[1], O_RDWR);
    struct stat st;
    if (nbytes < 0 || fd < 0 || fstat(fd, &st) < 0)
        return die("bad arguments or unreadable image");
    uint64_t size = (uint64_t)st.st_size;
    unsigned char *f = malloc(size);
    if (!f || pread(fd, f, size, 0) != (ssize_t)size)
        return die("cannot read the image");
    uint64_t off = CAIRN_HEADER_SIZE, trailer = size - CAIRN_TRAILER_SIZE;
    int done = 0;
    while (off < trailer && !done) {
        const unsigned char *h = f + off;
        uint64_t data = cairn_get64(h + 16), stored = cairn_get64(h + 24);
        if (cairn_get16(h + 4) == type && index-- == 0) {
            if (at > stored || (uint64_t)nbytes > stored - at)
                return die("offset beyond the section's payload");
            memcpy(f + data + at, bytes, (size_t)nbytes);
            done = 1;
        }
        off = cairn_align_up(data + stored, CAIRN_DATA_ALIGN);
    }
    if (!done)
        return die("no such section");
    fix_checksums(f, size);
    if (pwrite(fd, f, size, 0) != (ssize_t)size)
        return die("cannot write the image");
    free(f);
    close(fd);
    return 0;
}
