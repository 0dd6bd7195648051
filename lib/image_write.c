/* SPDX-License-Identifier: MIT */
/*
 * image_write.c — streams an image to a file descriptor.
 *
 * Each section's header is written last (with pwrite) because its sizes and
 * checksum are known only once the payload has streamed out. Payloads are
 * written from the caller's memory in chunks; each chunk is hashed just
 * before it is written, while it is still in cache.
 *
 * Large images are handed to writeback as they go (sync_file_range), so the
 * final fsync finds little left to do and the kernel's dirty-page throttling
 * does not stall the writer (see DESIGN.md section 7).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cairn_mac.h"
#include "cairn.h"
#include "cairn_writer.h"
#include "internal.h"

#define CHUNK CAIRN__WRITER_CHUNK
#define SYNC_WINDOW (64ull << 20) /* writeback window */

/* Starts writeback of what is written, and waits for the window before it,
   bounding dirty memory to about two windows. */
static void stream_writeback(struct cairn__writer *w)
{
    while (w->off - w->synced >= 2 * SYNC_WINDOW) {
        sync_file_range(w->fd, (off_t)w->synced, SYNC_WINDOW,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER);
        w->synced += SYNC_WINDOW;
        sync_file_range(w->fd, (off_t)w->synced, (off_t)(w->off - w->synced),
                        SYNC_FILE_RANGE_WRITE);
    }
}

static int write_at_end(struct cairn__writer *w, const void *buf, size_t len)
{
    int rc = cairn__pwrite_all(w->fd, buf, len, w->off);
    if (rc < 0)
        return rc;
    w->off += len;
    stream_writeback(w);
    if (w->progress)
        w->progress(w->progress_ctx, w->off);
    return 0;
}

int cairn__writer_append(struct cairn__writer *w, const void *buf, size_t len)
{
    return write_at_end(w, buf, len);
}

static int pad_to(struct cairn__writer *w, uint64_t target)
{
    static const unsigned char zeros[4096]; /* a page: header + name + alignment */
    while (target > w->off) {
        uint64_t n = target - w->off < sizeof zeros ? target - w->off : sizeof zeros;
        int rc = write_at_end(w, zeros, (size_t)n);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int cairn__writer_begin(struct cairn__writer *w, int fd, uint32_t flags,
                        uint64_t generation)
{
    struct cairn__writer fresh = {.fd = fd};
    fresh.zstd = w->zstd;
    fresh.zc = w->zc; /* keep a compression context across images */
    fresh.zbuf = w->zbuf;
    fresh.zbuf_len = w->zbuf_len;
    fresh.mac = w->mac;
    fresh.progress = w->progress;
    fresh.progress_ctx = w->progress_ctx;
    *w = fresh;
    if (w->mac)
        flags |= CAIRN_IMG_MAC;

    struct cairn_file_header f = {
        .flags = flags,
        .writer_version = CAIRN_VERSION_NUMBER,
        .generation = generation,
        .created_ns = cairn__now_ns(CLOCK_REALTIME),
        .uid = (uint32_t)getuid(),
        .pid = (uint32_t)getpid(),
    };
    /* The nonce makes every header unique: see lib/auth.c. */
    if (getrandom(&f.nonce, sizeof f.nonce, GRND_NONBLOCK) != (ssize_t)sizeof f.nonce)
        f.nonce ^= cairn__now_ns(CLOCK_MONOTONIC) * 0x9e3779b97f4a7c15ull;
    struct utsname u;
    if (uname(&u) == 0) /* cairn_header_encode keeps a NUL */
        memcpy(f.host, u.nodename, strnlen(u.nodename, sizeof f.host - 1));
    unsigned char h[CAIRN_HEADER_SIZE];
    cairn_header_encode(h, &f);
    uint64_t sum = XXH3_64bits(h, CAIRN_HDR_SUMMED);
    cairn_header_seal(h, sum);
    w->chain = sum;
    if (w->mac)
        cairn__mac_header(w->mac, h, sizeof h);
    return write_at_end(w, h, sizeof h);
}

/* Raw payload: hash each chunk, then write it. */
static int put_raw(struct cairn__writer *w, const unsigned char *data, uint64_t size,
                   XXH3_state_t *st)
{
    while (size > 0) {
        size_t n = size < CHUNK ? (size_t)size : CHUNK;
        XXH3_64bits_update(st, data, n);
        if (w->mac)
            cairn__mac_section_data(w->mac, data, n);
        int rc = write_at_end(w, data, n);
        if (rc < 0)
            return rc;
        data += n;
        size -= n;
    }
    return 0;
}

/* Leaves room for the section's header and name; the payload goes at
   *data_off (aligned further if the section asks: a page-aligned memory
   payload can be mapped from the file by the restorer). */
static int open_section(struct cairn__writer *w, const struct cairn__section *s,
                        uint64_t *hdr_off, uint64_t *data_off, XXH3_state_t *st)
{
    if (s->name_len > CAIRN_NAME_MAX)
        return CAIRN_EINVAL;
    *hdr_off = w->off;
    *data_off = cairn_section_data_offset(*hdr_off, (unsigned)s->name_len);
    if (s->align > CAIRN_DATA_ALIGN)
        *data_off = cairn_align_up(*data_off, s->align);
    int rc = pad_to(w, *data_off); /* header and name are filled in by close_section */
    if (rc < 0)
        return rc;
    XXH3_64bits_reset(st);
    if (w->mac)
        cairn__mac_section_begin(w->mac, w->nsections);
    return 0;
}

static int close_section(struct cairn__writer *w, const struct cairn__section *s,
                         uint64_t hdr_off, uint64_t data_off, unsigned codec, uint64_t size,
                         XXH3_state_t *st);

int cairn__writer_section(struct cairn__writer *w, const struct cairn__section *s,
                          const void *data, uint64_t size)
{
    uint64_t hdr_off, data_off;
    XXH3_state_t st;
    int rc = open_section(w, s, &hdr_off, &data_off, &st);
    if (rc < 0)
        return rc;
    unsigned codec = s->level > 0 && size > 0 ? CAIRN_CODEC_ZSTD : CAIRN_CODEC_NONE;
    if (codec == CAIRN_CODEC_ZSTD && !w->zstd)
        return CAIRN_ECODEC; /* compression not linked in (cairn_writer.h) */
    rc = codec == CAIRN_CODEC_ZSTD ? w->zstd->put(w, data, size, s->level, &st)
                                   : put_raw(w, data, size, &st);
    if (rc < 0)
        return rc;
    return close_section(w, s, hdr_off, data_off, codec, size, &st);
}

int cairn__writer_section_parts(struct cairn__writer *w, const struct cairn__section *s,
                                const struct cairn__part *parts, size_t nparts)
{
    uint64_t hdr_off, data_off, size = 0;
    XXH3_state_t st;
    if (s->level > 0)
        return CAIRN_EINVAL; /* raw only: the parts are the payload as stored */
    int rc = open_section(w, s, &hdr_off, &data_off, &st);
    for (size_t i = 0; i < nparts && rc == 0; i++) {
        rc = put_raw(w, parts[i].data, parts[i].size, &st);
        size += parts[i].size;
    }
    if (rc < 0)
        return rc;
    return close_section(w, s, hdr_off, data_off, CAIRN_CODEC_NONE, size, &st);
}

static int close_section(struct cairn__writer *w, const struct cairn__section *s,
                         uint64_t hdr_off, uint64_t data_off, unsigned codec, uint64_t size,
                         XXH3_state_t *st)
{
    int rc;
    uint64_t stored = w->off - data_off;
    uint64_t sum = XXH3_64bits_digest(st);

    struct cairn_section_header sh = {
        .type = (uint16_t)s->type,
        .codec = (uint16_t)codec,
        .flags = s->flags,
        .name_len = (uint16_t)s->name_len,
        .data_offset = data_off,
        .stored_size = stored,
        .raw_size = size,
        .data_checksum = sum,
        .arg = s->arg,
    };
    unsigned char h[CAIRN_SECTION_HEADER_SIZE + CAIRN_NAME_MAX];
    cairn_section_encode(h, &sh, s->name);
    XXH3_state_t hs;
    XXH3_64bits_reset(&hs);
    XXH3_64bits_update(&hs, h, CAIRN_SH_SUMMED);
    XXH3_64bits_update(&hs, h + CAIRN_SH_NAME, s->name_len);
    uint64_t hsum = XXH3_64bits_digest(&hs);
    cairn_section_seal(h, hsum);
    if (w->mac) {
        unsigned char digest[CAIRN_MAC_BYTES];
        cairn__mac_section_digest(w->mac, digest);
        cairn__mac_section_fold(w->mac, h, CAIRN_SECTION_HEADER_SIZE + s->name_len, digest);
    }
    rc = cairn__pwrite_all(w->fd, h, CAIRN_SECTION_HEADER_SIZE + s->name_len, hdr_off);
    if (rc < 0)
        return rc;

    unsigned char link[CAIRN_CHAIN_LINK_SIZE];
    cairn_chain_link(link, hsum, sum);
    w->chain = XXH3_64bits_withSeed(link, sizeof link, w->chain);
    w->nsections++;
    return pad_to(w, cairn_align_up(w->off, CAIRN_DATA_ALIGN));
}

/* The MAC section: last, and not itself covered by the MAC. */
static int put_mac(struct cairn__writer *w)
{
    unsigned char tag[CAIRN_MAC_BYTES];
    struct cairn__mac *m = w->mac;
    cairn__mac_final(m, tag);
    w->mac = NULL;
    struct cairn__section s = {.type = CAIRN_SEC_MAC};
    int rc = cairn__writer_section(w, &s, tag, sizeof tag);
    w->mac = m;
    return rc;
}

int cairn__writer_finish(struct cairn__writer *w)
{
    if (w->mac) {
        int rc = put_mac(w);
        if (rc < 0)
            return rc;
    }
    struct cairn_trailer tr = {
        .section_count = w->nsections,
        .trailer_offset = w->off,
        .chain = w->chain,
    };
    unsigned char t[CAIRN_TRAILER_SIZE];
    cairn_trailer_encode(t, &tr);
    cairn_trailer_seal(t, XXH3_64bits(t, CAIRN_TR_SUMMED));
    int rc = write_at_end(w, t, sizeof t);
    if (rc < 0)
        return rc;
    if (fsync(w->fd) < 0)
        return -errno;
    return 0;
}

void cairn__writer_release(struct cairn__writer *w)
{
    if (w->zstd)
        w->zstd->release(w);
    free(w->zbuf);
    w->zc = NULL;
    w->zbuf = NULL;
    w->zbuf_len = 0;
}
