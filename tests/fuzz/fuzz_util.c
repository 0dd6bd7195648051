/* SPDX-License-Identifier: MIT */
/*
 * fuzz_util.c — checksum fix-up and input splitting for the fuzz targets.
 *
 * This is harness code reading hostile bytes: every access is checked
 * against the buffer size with overflow-safe arithmetic.
 */
#include "fuzz_util.h"

#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#include <zstd.h>

#include "image_format.h"

static int put_if_changed(unsigned char *p, uint64_t v)
{
    if (cairn_get64(p) == v)
        return 0;
    cairn_put64(p, v);
    return 1;
}

/* XXH3 of a section's raw payload, if it can be computed; else keeps old. */
static uint64_t payload_sum(const unsigned char *h, const unsigned char *buf, uint64_t end)
{
    uint64_t old = cairn_get64(h + 40);
    uint64_t doff = cairn_get64(h + 16), stored = cairn_get64(h + 24);
    uint64_t raw = cairn_get64(h + 32);
    if (doff > end || stored > end - doff)
        return old;
    if (cairn_get16(h + 6) == CAIRN_CODEC_NONE)
        return XXH3_64bits(buf + doff, (size_t)stored);
    if (cairn_get16(h + 6) != CAIRN_CODEC_ZSTD || raw == 0 || raw > FUZZ_MAX_RAW)
        return old;
    void *dst = malloc((size_t)raw);
    if (!dst)
        return old;
    size_t n = ZSTD_decompress(dst, (size_t)raw, buf + doff, (size_t)stored);
    uint64_t sum = (!ZSTD_isError(n) && n == raw) ? XXH3_64bits(dst, n) : old;
    free(dst);
    return sum;
}

int fuzz_fix_checksums(unsigned char *buf, size_t size)
{
    if (size < CAIRN_HEADER_SIZE + CAIRN_TRAILER_SIZE)
        return 0;
    int changed = put_if_changed(buf + 120, XXH3_64bits(buf, 120));
    uint64_t chain = cairn_get64(buf + 120);
    uint64_t end = size - CAIRN_TRAILER_SIZE, off = CAIRN_HEADER_SIZE;
    while (end - off >= CAIRN_SECTION_HEADER_SIZE && memcmp(buf + off, "SECT", 4) == 0) {
        unsigned char *h = buf + off;
        unsigned name_len = cairn_get16(h + 12);
        if (name_len > CAIRN_NAME_MAX || end - off - CAIRN_SECTION_HEADER_SIZE < name_len)
            break;
        changed |= put_if_changed(h + 40, payload_sum(h, buf, end));
        XXH3_state_t st;
        XXH3_64bits_reset(&st);
        XXH3_64bits_update(&st, h, 56);
        XXH3_64bits_update(&st, h + CAIRN_SECTION_HEADER_SIZE, name_len);
        changed |= put_if_changed(h + 56, XXH3_64bits_digest(&st));
        unsigned char link[16];
        memcpy(link, h + 56, 8);
        memcpy(link + 8, h + 40, 8);
        chain = XXH3_64bits_withSeed(link, sizeof link, chain);
        uint64_t doff = cairn_get64(h + 16), stored = cairn_get64(h + 24);
        if (doff <= off || doff > end || stored > end - doff)
            break;
        off = cairn_align_up(doff + stored, CAIRN_DATA_ALIGN);
        if (off > end)
            break;
    }
    unsigned char *t = buf + end;
    changed |= put_if_changed(t + 24, chain);
    changed |= put_if_changed(t + 56, XXH3_64bits(t, 56));
    return changed;
}

size_t fuzz_first_image_len(const uint8_t *data, size_t size)
{
    for (size_t i = CAIRN_HEADER_SIZE; i + CAIRN_TRAILER_SIZE <= size; i += 8)
        if (memcmp(data + i, CAIRN_TRAILER_MAGIC, 8) == 0)
            return i + CAIRN_TRAILER_SIZE;
    return size;
}

void fuzz_quiet(void)
{
    static int done;
    if (!done) {
        setenv("CAIRN_QUIET", "1", 1);
        done = 1;
    }
}
