/* SPDX-License-Identifier: MIT */
/*
 * image_pack.c — compressed process images, made and unmade by `cairn run`
 * (docs/FORMAT.md, "Compressed process images").
 *
 * The runtime in the job links no libzstd and the restorer has no libc, so
 * neither compresses: the writer child writes the image uncompressed into
 * a memfd of cairn's, and cairn packs it into the store's temp file here,
 * as zstd frames compressed on threads (cli/image_zpar.c), before the
 * usual commit. On restore, an image with compressed sections is
 * expanded into a sealed memfd, which the restorer reads as it reads any
 * image. Both directions re-encode the container
 * (section headers, chain, trailer; the MAC with the key) and check every
 * payload's raw checksum on the way, so what is stored and what is
 * restored are each covered by the checksums of the bytes the job had.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "cairn.h"
#include "cairn_image.h"
#include "cairn_io.h"
#include "cairn_mac.h"
#include "cairn_xxh3.h"
#include "container.h"
#include "image_format.h"
#include "image_pack.h"
#include "image_sync.h"
#include "image_zpar.h"
#include "process_format.h"

#define CHUNK (1u << 20)
#define SYNC_WINDOW (64ull << 20) /* as lib/image_write.c */

void (*image_pack_hook)(unsigned section, unsigned type);

/* ---- the output file ------------------------------------------------------ */

struct out {
    int fd;
    uint64_t off, synced;
    uint64_t chain;
    unsigned nsections;
    struct cairn__mac *mac;
    XXH3_state_t *xs;          /* the section's raw checksum, while put_zstd runs */
    struct image_sync *sync;   /* made durable as it goes (image_sync.c); NULL: at the end */
};

/* Hands what is written to writeback as it goes (lib/image_write.c). */
static void stream_writeback(struct out *o)
{
    while (o->off - o->synced >= 2 * SYNC_WINDOW) {
        sync_file_range(o->fd, (off_t)o->synced, SYNC_WINDOW,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER);
        o->synced += SYNC_WINDOW;
        sync_file_range(o->fd, (off_t)o->synced, (off_t)(o->off - o->synced),
                        SYNC_FILE_RANGE_WRITE);
    }
}

static int append(struct out *o, const void *buf, size_t len)
{
    int rc = cairn__pwrite_all(o->fd, buf, len, o->off);
    if (rc < 0)
        return rc;
    o->off += len;
    stream_writeback(o);
    image_sync_wrote(o->sync, o->off);
    return 0;
}

__attribute__((format(printf, 4, 5)))
static int fail(char *why, size_t len, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- one section ---------------------------------------------------------- */

/* Header and name at hdr_off, zeros up to data_off; the chain and the MAC
   take the section in. */
static int put_header(struct out *o, uint64_t hdr_off, const struct cairn_section_header *sh,
                      const char *name)
{
    unsigned char h[CAIRN_SECTION_HEADER_SIZE + CAIRN_NAME_MAX + CAIRN_DATA_ALIGN] = {0};
    cairn_section_encode(h, sh, name);
    XXH3_state_t hs;
    XXH3_64bits_reset(&hs);
    XXH3_64bits_update(&hs, h, CAIRN_SH_SUMMED);
    XXH3_64bits_update(&hs, h + CAIRN_SH_NAME, sh->name_len);
    uint64_t hsum = XXH3_64bits_digest(&hs);
    cairn_section_seal(h, hsum);
    if (o->mac) {
        unsigned char digest[CAIRN_MAC_BYTES];
        cairn__mac_section_digest(o->mac, digest);
        cairn__mac_section_fold(o->mac, h, CAIRN_SECTION_HEADER_SIZE + sh->name_len, digest);
    }
    unsigned char link[CAIRN_CHAIN_LINK_SIZE];
    cairn_chain_link(link, hsum, sh->data_checksum);
    o->chain = XXH3_64bits_withSeed(link, sizeof link, o->chain);
    o->nsections++;
    uint64_t name_end = hdr_off + CAIRN_SECTION_HEADER_SIZE + sh->name_len;
    int rc = cairn__pwrite_all(o->fd, h, (size_t)(name_end - hdr_off), hdr_off);
    static const unsigned char zeros[4096]; /* up to a page-aligned payload */
    for (uint64_t at = name_end; rc == 0 && at < sh->data_offset;) {
        size_t n = sh->data_offset - at < sizeof zeros ? (size_t)(sh->data_offset - at)
                                                       : sizeof zeros;
        rc = cairn__pwrite_all(o->fd, zeros, n, at);
        at += n;
    }
    return rc;
}

/* Hashes (and MACs) a chunk of the raw payload. */
static void take_in(struct out *o, XXH3_state_t *st, const unsigned char *p, size_t n)
{
    XXH3_64bits_update(st, p, n);
    if (o->mac)
        cairn__mac_section_data(o->mac, p, n);
}

static int put_raw(struct out *o, const unsigned char *p, uint64_t size, XXH3_state_t *st)
{
    for (uint64_t done = 0; done < size;) {
        size_t n = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
        if (st)
            take_in(o, st, p + done, n);
        int rc = append(o, p + done, n);
        if (rc < 0)
            return rc;
        done += n;
    }
    return 0;
}

/* zpar_run's emit: the chunk's raw bytes hashed, its frames written. */
static int put_frames(void *ctx, const unsigned char *raw, size_t raw_len,
                      const unsigned char *frames, size_t frames_len)
{
    struct out *o = ctx;
    take_in(o, o->xs, raw, raw_len);
    return append(o, frames, frames_len);
}

/* The payload as zstd frames, compressed on the pool; the raw bytes are
   hashed on the way. */
static int put_zstd(struct out *o, struct zpar *zp, const unsigned char *p, uint64_t size,
                    XXH3_state_t *st, uint64_t *raw_bytes)
{
    o->xs = st;
    int rc = zpar_run(zp, p, size, put_frames, o, raw_bytes);
    o->xs = NULL;
    return rc;
}

/* Section i of the raw image (its payload at p): written compressed if it
   is a memory section that shrinks, else as it is. */
static int pack_section(struct out *o, struct zpar *zp, const cairn_section_info_t *s,
                        const unsigned char *p, unsigned i, struct pack_stats *st,
                        char *why, size_t len)
{
    struct cairn_section_header sh = {.type = (uint16_t)s->type, .flags = s->flags,
                                      .name_len = (uint16_t)strlen(s->name),
                                      .raw_size = s->raw_size, .arg = s->arg};
    uint64_t hdr_off = o->off;
    sh.data_offset = cairn_section_data_offset(hdr_off, sh.name_len);
    o->off = sh.data_offset;
    XXH3_state_t xs;
    XXH3_64bits_reset(&xs);
    if (o->mac)
        cairn__mac_section_begin(o->mac, o->nsections);
    int rc, try_zstd = s->type == CAIRN_SEC_PROC_MEM && s->raw_size >= PACK_MIN_SECTION;
    uint64_t raw_bytes = 0;
    rc = try_zstd ? put_zstd(o, zp, p, s->raw_size, &xs, &raw_bytes)
                  : put_raw(o, p, s->raw_size, &xs);
    if (rc == 0 && try_zstd && o->off - sh.data_offset < s->raw_size) {
        sh.codec = CAIRN_CODEC_ZSTD;
        st->compressed++;
        st->raw_blocks += raw_bytes;
    } else if (rc == 0 && try_zstd) { /* incompressible: stored as it is, mappable */
        sh.data_offset = cairn_align_up(sh.data_offset, CAIRN_PROC_MEM_ALIGN);
        o->off = sh.data_offset;
        rc = put_raw(o, p, s->raw_size, NULL);
        st->passed++;
    }
    if (rc < 0)
        return fail(why, len, rc, "cannot write section %u: %s", i, cairn_strerror(rc));
    sh.stored_size = o->off - sh.data_offset;
    sh.data_checksum = XXH3_64bits_digest(&xs);
    if (sh.data_checksum != s->checksum)
        return fail(why, len, CAIRN_ECORRUPT, "section %u (%s) of the uncompressed image does "
                    "not match its checksum", i, cairn_section_type_name(s->type));
    static const unsigned char zeros[CAIRN_DATA_ALIGN];
    uint64_t end = cairn_align_up(o->off, CAIRN_DATA_ALIGN);
    rc = end > o->off ? append(o, zeros, (size_t)(end - o->off)) : 0;
    if (rc == 0)
        rc = put_header(o, hdr_off, &sh, s->name);
    if (rc < 0)
        return fail(why, len, rc, "cannot write section %u: %s", i, cairn_strerror(rc));
    if (image_pack_hook)
        image_pack_hook(i, s->type);
    return 0;
}

/* The MAC section, made again over what was written (lib/image_write.c). */
static int put_mac(struct out *o)
{
    unsigned char tag[CAIRN_MAC_BYTES];
    cairn__mac_final(o->mac, tag);
    struct cairn__mac *m = o->mac;
    o->mac = NULL;
    struct cairn_section_header sh = {.type = CAIRN_SEC_MAC, .raw_size = sizeof tag,
                                      .stored_size = sizeof tag,
                                      .data_checksum = XXH3_64bits(tag, sizeof tag)};
    uint64_t hdr_off = o->off;
    sh.data_offset = cairn_section_data_offset(hdr_off, 0);
    o->off = sh.data_offset;
    int rc = append(o, tag, sizeof tag);
    if (rc == 0)
        rc = put_header(o, hdr_off, &sh, "");
    o->mac = m;
    return rc;
}

static int put_trailer(struct out *o)
{
    struct cairn_trailer tr = {.section_count = o->nsections, .trailer_offset = o->off,
                               .chain = o->chain};
    unsigned char t[CAIRN_TRAILER_SIZE];
    cairn_trailer_encode(t, &tr);
    cairn_trailer_seal(t, XXH3_64bits(t, CAIRN_TR_SUMMED));
    int rc = append(o, t, sizeof t);
    if (rc == 0 && ftruncate(o->fd, (off_t)o->off) < 0) /* a raw retry's leftovers */
        rc = -errno;
    int synced = image_sync_stop(o->sync);
    o->sync = NULL;
    if (rc == 0 && synced < 0)
        rc = synced;
    if (rc == 0 && fsync(o->fd) < 0)
        rc = -errno;
    return rc;
}

/* ---- pack ------------------------------------------------------------------ */

static int pack_sections(struct out *o, cairn_image_t *img, const unsigned char *map,
                         const struct pack_opts *po, struct pack_stats *st, char *why,
                         size_t len)
{
    struct zpar *zp = zpar_new(po->level, po->workers);
    int rc = zp ? 0 : fail(why, len, -ENOMEM, "out of memory");
    const cairn_image_info_t *info = cairn_image_info(img);
    for (unsigned i = 0; rc == 0 && i < info->section_count; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        if (s->codec != CAIRN_CODEC_NONE)
            rc = fail(why, len, CAIRN_ECORRUPT, "section %u (%s) is already compressed", i,
                      cairn_section_type_name(s->type));
        else if (s->type == CAIRN_SEC_MAC) /* made again, last */
            continue;
        else
            rc = pack_section(o, zp, s, map + s->data_offset, i, st, why, len);
    }
    if (rc == 0 && o->mac && (rc = put_mac(o)) < 0)
        fail(why, len, rc, "cannot write the MAC section: %s", cairn_strerror(rc));
    if (rc == 0 && (rc = put_trailer(o)) < 0)
        fail(why, len, rc, "cannot finish the image: %s", cairn_strerror(rc));
    zpar_free(zp);
    return rc;
}

int image_pack(int in_fd, int out_fd, const struct pack_opts *po, struct pack_stats *st,
               char *why, size_t len)
{
    struct stat sb;
    cairn_image_t *img = NULL;
    *st = (struct pack_stats){0};
    if (fstat(in_fd, &sb) < 0 || sb.st_size < (off_t)(CAIRN_HEADER_SIZE + CAIRN_TRAILER_SIZE))
        return fail(why, len, CAIRN_ECORRUPT, "the writer's image is empty or cut");
    int rc = cairn_image_open_fd(&img, in_fd, why, len);
    if (rc < 0)
        return rc;
    const cairn_image_info_t *info = cairn_image_info(img);
    const unsigned char *key = info->flags & CAIRN_IMG_MAC ? po->key : NULL;
    if ((info->flags & CAIRN_IMG_MAC) && !po->key) {
        cairn_image_close(img);
        return fail(why, len, CAIRN_EINVAL, "a keyed image, and no key");
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, in_fd, 0);
    if (map == MAP_FAILED) {
        cairn_image_close(img);
        return fail(why, len, -errno, "cannot map the writer's image: %s", strerror(errno));
    }
    madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
    struct out o = {.fd = out_fd, .off = CAIRN_HEADER_SIZE, .sync = image_sync_start(out_fd)};
    o.chain = cairn_get64((const unsigned char *)map + CAIRN_HDR_CHECKSUM);
    rc = key && !(o.mac = cairn__mac_new(key)) ? -ENOMEM : 0;
    if (rc == 0 && o.mac)
        cairn__mac_header(o.mac, map, CAIRN_HEADER_SIZE);
    if (rc == 0)
        rc = cairn__pwrite_all(out_fd, map, CAIRN_HEADER_SIZE, 0);
    if (rc < 0)
        fail(why, len, rc, "cannot write the header: %s", cairn_strerror(rc));
    else
        rc = pack_sections(&o, img, map, po, st, why, len);
    image_sync_stop(o.sync); /* a failure's: the temp file goes */
    if (o.mac)
        cairn__mac_free(o.mac);
    munmap(map, (size_t)sb.st_size);
    cairn_image_close(img);
    st->raw = (uint64_t)sb.st_size;
    st->stored = o.off;
    return rc;
}

/* ---- expand ---------------------------------------------------------------- */

/* An image cannot hold more than the user address space (the raw sizes
   of a hostile image are checked against its mappings by proc_check). */
#define EXPANDED_MAX (1ull << 47)

/* Where each section's payload goes in the uncompressed form, and its size
   (0: over EXPANDED_MAX): the layout lib/image_write.c gives an
   uncompressed image, memory payloads page-aligned. */
static uint64_t expanded_layout(cairn_image_t *img, uint64_t *data_off)
{
    uint64_t off = CAIRN_HEADER_SIZE;
    const cairn_image_info_t *info = cairn_image_info(img);
    for (unsigned i = 0; i < info->section_count; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        data_off[i] = cairn_section_data_offset(off, (unsigned)strlen(s->name));
        if (s->type == CAIRN_SEC_PROC_MEM) /* the restorer maps it from the memfd */
            data_off[i] = cairn_align_up(data_off[i], CAIRN_PROC_MEM_ALIGN);
        if (s->raw_size > EXPANDED_MAX || data_off[i] + s->raw_size > EXPANDED_MAX)
            return 0;
        off = cairn_align_up(data_off[i] + s->raw_size, CAIRN_DATA_ALIGN);
    }
    return off + CAIRN_TRAILER_SIZE;
}

/* Threads that expand: one per core, at most 8 (as cli/run_compress.c packs). */
static int expand_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

/* Below this many stored bytes of zstd, an image is expanded without threads. */
#define EXPAND_THREADS_MIN (4ull << 20)
#define EXPAND_WINDOW (32u << 20) /* stored bytes read at a time */

/* A zstd section's frames, read EXPAND_WINDOW bytes at a time, decompressed
   on the pool into dst, then checked against the section's checksum.
   -E2BIG: a frame larger than the window (an image of one frame per
   section, before cli/image_zpar.c): the caller streams it instead. */
static int expand_zstd(int fd, struct zpar *zp, const cairn_section_info_t *s, unsigned char *dst)
{
    size_t cap = s->stored_size < EXPAND_WINDOW ? (size_t)s->stored_size : EXPAND_WINDOW;
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf)
        return -ENOMEM;
    uint64_t in = 0, out = 0; /* stored bytes taken, raw bytes made */
    size_t have = 0;          /* bytes at buf, from stored offset in */
    int rc = 0;
    for (;;) {
        size_t n = cap - have < s->stored_size - in - have ? cap - have
                                                           : (size_t)(s->stored_size - in - have);
        if ((rc = cairn__pread_all(fd, buf + have, n, s->data_offset + in + have)) < 0)
            break;
        have += n;
        int final = in + have == s->stored_size;
        size_t used;
        uint64_t made;
        rc = zpar_expand(zp, buf, have, dst + out, s->raw_size - out, final, &used, &made);
        in += used;
        out += made;
        if (rc < 0 || final)
            break;
        if (used == 0) {
            rc = -E2BIG;
            break;
        }
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    free(buf);
    if (rc == 0 && (out != s->raw_size || XXH3_64bits(dst, (size_t)s->raw_size) != s->checksum))
        rc = CAIRN_ECORRUPT;
    return rc;
}

/* The payload of section i at dst, checked: zstd frames on the pool. */
static int expand_section(int fd, cairn_image_t *img, struct zpar *zp, unsigned i,
                          unsigned char *dst, char *why, size_t len)
{
    const cairn_section_info_t *s = cairn_image_section(img, i);
    int rc = s->codec == CAIRN_CODEC_ZSTD ? expand_zstd(fd, zp, s, dst) : -E2BIG;
    if (rc == -E2BIG) /* raw, or a frame over the window: streamed by libcairn */
        return cairn_image_read(img, i, dst, (size_t)s->raw_size) < 0
                   ? fail(why, len, CAIRN_ECORRUPT, "section %u: %s", i, cairn_image_error(img))
                   : 0;
    if (rc == CAIRN_ECORRUPT)
        return fail(why, len, rc, "section %u (%s): its zstd frames do not decompress to its "
                    "checksum", i, cairn_section_type_name(s->type));
    return rc < 0 ? fail(why, len, rc, "section %u: %s", i, cairn_strerror(rc)) : 0;
}

static int expand_into(int fd, cairn_image_t *img, unsigned char *map, const uint64_t *data_off,
                       char *why, size_t len)
{
    if (pread(fd, map, CAIRN_HEADER_SIZE, 0) != CAIRN_HEADER_SIZE)
        return fail(why, len, -EIO, "cannot read the header");
    uint64_t chain = cairn_get64(map + CAIRN_HDR_CHECKSUM), off = CAIRN_HEADER_SIZE;
    const cairn_image_info_t *info = cairn_image_info(img);
    uint64_t zstored = 0;
    for (unsigned i = 0; i < info->section_count; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        zstored += s->codec == CAIRN_CODEC_ZSTD ? s->stored_size : 0;
    }
    struct zpar *zp = zpar_new(1, zstored >= EXPAND_THREADS_MIN ? expand_workers() : 0);
    if (!zp)
        return fail(why, len, -ENOMEM, "out of memory");
    for (unsigned i = 0; i < info->section_count; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        int rc = expand_section(fd, img, zp, i, map + data_off[i], why, len);
        if (rc < 0) {
            zpar_free(zp);
            return rc;
        }
        struct cairn_section_header sh = {
            .type = (uint16_t)s->type, .flags = s->flags, .name_len = (uint16_t)strlen(s->name),
            .data_offset = data_off[i], .stored_size = s->raw_size, .raw_size = s->raw_size,
            .data_checksum = s->checksum, .arg = s->arg};
        unsigned char *h = map + off;
        cairn_section_encode(h, &sh, s->name);
        XXH3_state_t hs;
        XXH3_64bits_reset(&hs);
        XXH3_64bits_update(&hs, h, CAIRN_SH_SUMMED);
        XXH3_64bits_update(&hs, h + CAIRN_SH_NAME, sh.name_len);
        uint64_t hsum = XXH3_64bits_digest(&hs);
        cairn_section_seal(h, hsum);
        unsigned char link[CAIRN_CHAIN_LINK_SIZE];
        cairn_chain_link(link, hsum, s->checksum);
        chain = XXH3_64bits_withSeed(link, sizeof link, chain);
        off = cairn_align_up(data_off[i] + s->raw_size, CAIRN_DATA_ALIGN);
    }
    zpar_free(zp);
    struct cairn_trailer tr = {.section_count = info->section_count, .trailer_offset = off,
                               .chain = chain};
    cairn_trailer_encode(map + off, &tr);
    cairn_trailer_seal(map + off, XXH3_64bits(map + off, CAIRN_TR_SUMMED));
    return 0;
}

static int any_compressed(cairn_image_t *img)
{
    const cairn_image_info_t *info = cairn_image_info(img);
    for (unsigned i = 0; i < info->section_count; i++)
        if (cairn_image_section(img, i)->codec != CAIRN_CODEC_NONE)
            return 1;
    return 0;
}

int image_expand(int fd, int *out, char *why, size_t len)
{
    cairn_image_t *img = NULL;
    int rc = cairn_image_open_fd(&img, fd, why, len);
    if (rc < 0 || !any_compressed(img)) {
        cairn_image_close(img);
        return rc;
    }
    unsigned n = cairn_image_info(img)->section_count;
    uint64_t *data_off = calloc(n ? n : 1, sizeof *data_off);
    uint64_t size = data_off ? expanded_layout(img, data_off) : 0;
    int mfd = size ? memfd_create("cairn-image", MFD_CLOEXEC | MFD_ALLOW_SEALING) : -1;
    void *map = MAP_FAILED;
    if (data_off && !size)
        rc = fail(why, len, CAIRN_ECORRUPT, "its sections add up to more than %llu bytes",
                  EXPANDED_MAX);
    else if (mfd < 0 || ftruncate(mfd, (off_t)size) < 0 ||
        (map = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0)) == MAP_FAILED)
        rc = fail(why, len, -ENOMEM, "no memory for the uncompressed image: %s",
                  strerror(errno));
    else
        rc = expand_into(fd, img, map, data_off, why, len);
    if (map != MAP_FAILED)
        munmap(map, (size_t)size);
    if (rc == 0 && fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
                                               F_SEAL_SEAL) < 0)
        rc = fail(why, len, -errno, "cannot seal the uncompressed image: %s",
                  strerror(errno));
    if (rc < 0 && mfd >= 0)
        close(mfd);
    free(data_off);
    cairn_image_close(img);
    if (rc < 0)
        return rc;
    *out = mfd;
    return 1;
}
