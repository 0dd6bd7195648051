/* SPDX-License-Identifier: MIT */
/*
 * image_read.c — opens and verifies images. Every image is hostile.
 *
 * Opening checks the structure only: trailer (the image was completely
 * written), header, and each section header with its checksum, and that the
 * sections tile the file exactly between header and trailer. Every length
 * and offset is checked against the file size before it is used, with
 * overflow-safe arithmetic. Payloads are read, decompressed and checked only
 * by cairn_image_read() and cairn_image_verify().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "cairn_mac.h"
#include "cairn_xxh3.h"
#include "cairn_image.h"
#include "image_format.h"
#include "internal.h"

#define READ_CHUNK (512u << 10) /* hashed while still in L2 */

struct cairn_image {
    int fd;
    int own_fd;
    cairn_image_info_t info;
    cairn_section_info_t *sec;
    uint64_t trailer_off;
    ZSTD_DCtx *zd;
    unsigned char *buf; /* READ_CHUNK bytes, allocated on first payload read */
    uint64_t *hdr_off;  /* where each section header starts */
    /* Authentication (cairn_image_set_key): each payload's BLAKE2b digest,
       taken as it is read. */
    struct cairn__mac *mac;
    unsigned char key[CAIRN_KEY_BYTES];
    unsigned char (*digest)[CAIRN_MAC_BYTES];
    unsigned char *digested;
    char err[320];
};

const char *cairn_section_type_name(unsigned type)
{
    switch (type) {
    case CAIRN_SEC_JOB:
        return "job";
    case CAIRN_SEC_REGION:
        return "region";
    case CAIRN_SEC_MAC:
        return "mac";
    default:
        if (type >= CAIRN_SEC_PROCESS_FIRST && type <= CAIRN_SEC_PROCESS_LAST)
            return "process";
        return "unknown";
    }
}

const char *cairn_codec_name(unsigned codec)
{
    switch (codec) {
    case CAIRN_CODEC_NONE:
        return "none";
    case CAIRN_CODEC_ZSTD:
        return "zstd";
    default:
        return "unknown";
    }
}

static int fail(cairn_image_t *img, int rc, const char *fmt, ...) CAIRN_PRINTF(3, 4);
static int fail(cairn_image_t *img, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(img->err, sizeof img->err, fmt, ap);
    va_end(ap);
    return rc;
}

/* Reads bytes that the structure says exist; a short read means truncation. */
static int read_at(cairn_image_t *img, void *buf, size_t len, uint64_t off,
                   const char *what)
{
    int rc = cairn__pread_all(img->fd, buf, len, off);
    if (rc == CAIRN_ETRUNCATED)
        return fail(img, rc, "%s at byte %llu: file ends early", what,
                    (unsigned long long)off);
    if (rc < 0)
        return fail(img, rc, "%s at byte %llu: read failed: %s", what,
                    (unsigned long long)off, strerror(-rc));
    return 0;
}

static int check_trailer(cairn_image_t *img, uint64_t size, uint32_t *count,
                         uint64_t *chain)
{
    unsigned char t[CAIRN_TRAILER_SIZE];
    uint64_t off = size - CAIRN_TRAILER_SIZE;
    int rc = read_at(img, t, sizeof t, off, "trailer");
    if (rc < 0)
        return rc;
    struct cairn_trailer tr;
    cairn_trailer_decode(t, &tr);
    switch (cairn_trailer_check(t, XXH3_64bits(t, CAIRN_TR_SUMMED), size)) {
    case CAIRN_TRAILER_OK:
        break;
    case CAIRN_TRAILER_MISSING:
        return fail(img, CAIRN_ETRUNCATED,
                    "no end marker in the last %u bytes: the image was not "
                    "completely written (truncated or interrupted)",
                    CAIRN_TRAILER_SIZE);
    case CAIRN_TRAILER_CHECKSUM:
        return fail(img, CAIRN_ECORRUPT, "trailer at byte %llu: checksum mismatch",
                    (unsigned long long)off);
    case CAIRN_TRAILER_OFFSET:
        return fail(img, CAIRN_ETRUNCATED,
                    "trailer says the image is %llu bytes, the file has %llu",
                    (unsigned long long)(tr.trailer_offset + CAIRN_TRAILER_SIZE),
                    (unsigned long long)size);
    case CAIRN_TRAILER_COUNT:
        return fail(img, CAIRN_ECORRUPT, "trailer: %u sections cannot fit in %llu bytes",
                    tr.section_count, (unsigned long long)size);
    }
    *count = tr.section_count;
    *chain = tr.chain;
    img->trailer_off = off;
    return 0;
}

static int check_header(cairn_image_t *img, uint64_t *chain)
{
    unsigned char h[CAIRN_HEADER_SIZE];
    int rc = read_at(img, h, sizeof h, 0, "header");
    if (rc < 0)
        return rc;
    struct cairn_file_header f;
    cairn_header_decode(h, &f);
    switch (cairn_header_check(h, XXH3_64bits(h, CAIRN_HDR_SUMMED))) {
    case CAIRN_HEADER_OK:
        break;
    case CAIRN_HEADER_FOREIGN:
        return fail(img, CAIRN_EFOREIGN, "bad magic: not a cairn image");
    case CAIRN_HEADER_NEWER:
    case CAIRN_HEADER_OLDER:
        return fail(img, f.format_major > CAIRN_FORMAT_MAJOR ? CAIRN_EVERSION : CAIRN_EFOREIGN,
                    "image format %u.%u; this cairn reads format %u.x", f.format_major,
                    f.format_minor, CAIRN_FORMAT_MAJOR);
    case CAIRN_HEADER_CHECKSUM:
        return fail(img, CAIRN_ECORRUPT, "header: checksum mismatch");
    case CAIRN_HEADER_SIZE_WRONG:
        return fail(img, CAIRN_ECORRUPT, "header: size %u, expected %u", f.header_size,
                    CAIRN_HEADER_SIZE);
    case CAIRN_HEADER_FLAGS_UNKNOWN:
        return fail(img, CAIRN_EVERSION, "header: unknown flags 0x%x (written by a newer cairn)",
                    f.flags & ~CAIRN_IMG_KNOWN_FLAGS);
    }
    cairn_image_info_t *in = &img->info;
    in->format_major = f.format_major;
    in->format_minor = f.format_minor;
    in->flags = f.flags;
    in->writer_version = f.writer_version;
    in->generation = f.generation;
    in->created_ns = f.created_ns;
    in->uid = f.uid;
    in->pid = f.pid;
    memcpy(in->host, f.host, CAIRN_HOST_MAX);
    *chain = f.checksum;
    return 0;
}

/* Says what is wrong with section i at byte at (its name when known). */
static int section_fail(cairn_image_t *img, enum cairn_section_verdict v, unsigned i,
                        uint64_t at, const struct cairn_section_header *sh, const char *name)
{
    unsigned long long a = (unsigned long long)at;
    switch (v) {
    case CAIRN_SECTION_RUNS_INTO_TRAILER:
        return fail(img, CAIRN_ECORRUPT, "section %u at byte %llu: runs into the trailer", i, a);
    case CAIRN_SECTION_MAGIC_BAD:
        return fail(img, CAIRN_ECORRUPT, "section %u at byte %llu: bad section magic", i, a);
    case CAIRN_SECTION_NAME_LEN:
        return fail(img, CAIRN_ECORRUPT, "section %u at byte %llu: name length %u out of range",
                    i, a, sh->name_len);
    case CAIRN_SECTION_CHECKSUM:
        return fail(img, CAIRN_ECORRUPT, "section %u at byte %llu: header checksum mismatch",
                    i, a);
    case CAIRN_SECTION_OUTSIDE:
        return fail(img, CAIRN_ECORRUPT,
                    "section %u '%s': payload (offset %llu, %llu bytes) outside the image", i,
                    name, (unsigned long long)sh->data_offset,
                    (unsigned long long)sh->stored_size);
    case CAIRN_SECTION_SIZES:
        return fail(img, CAIRN_ECORRUPT, "section %u '%s': stored and raw sizes differ", i,
                    name);
    case CAIRN_SECTION_CODEC_UNKNOWN:
        return fail(img, CAIRN_EVERSION, "section %u '%s': unknown codec %u", i, name,
                    sh->codec);
    case CAIRN_SECTION_OK:
        break;
    }
    return 0;
}

/* Parses the section header at *off, advancing *off past its payload. */
static int parse_section(cairn_image_t *img, unsigned i, uint64_t *off, uint64_t *chain)
{
    unsigned char h[CAIRN_SECTION_HEADER_SIZE + CAIRN_NAME_MAX];
    uint64_t at = *off;
    struct cairn_section_header sh = {0};
    if (cairn_section_fits(at, img->trailer_off) != CAIRN_SECTION_OK)
        return section_fail(img, CAIRN_SECTION_RUNS_INTO_TRAILER, i, at, &sh, "");
    int rc = read_at(img, h, CAIRN_SECTION_HEADER_SIZE, at, "section header");
    if (rc < 0)
        return rc;
    cairn_section_decode(h, &sh);
    enum cairn_section_verdict v = cairn_section_check_fixed(h, at, img->trailer_off);
    if (v != CAIRN_SECTION_OK)
        return section_fail(img, v, i, at, &sh, "");
    rc = read_at(img, h + CAIRN_SH_NAME, sh.name_len, at + CAIRN_SH_NAME, "section name");
    if (rc < 0)
        return rc;
    XXH3_state_t hs;
    XXH3_64bits_reset(&hs);
    XXH3_64bits_update(&hs, h, CAIRN_SH_SUMMED);
    XXH3_64bits_update(&hs, h + CAIRN_SH_NAME, sh.name_len);
    uint64_t hsum = XXH3_64bits_digest(&hs);

    cairn_section_info_t *s = &img->sec[i];
    memcpy(s->name, h + CAIRN_SH_NAME, sh.name_len);
    s->name[sh.name_len] = '\0';
    v = cairn_section_check(&sh, hsum, at, img->trailer_off);
    if (v != CAIRN_SECTION_OK)
        return section_fail(img, v, i, at, &sh, s->name);
    img->hdr_off[i] = at;
    s->type = sh.type;
    s->codec = sh.codec;
    s->flags = sh.flags;
    s->data_offset = sh.data_offset;
    s->stored_size = sh.stored_size;
    s->raw_size = sh.raw_size;
    s->checksum = sh.data_checksum;
    s->arg = sh.arg;
    unsigned char link[CAIRN_CHAIN_LINK_SIZE];
    cairn_chain_link(link, hsum, sh.data_checksum);
    *chain = XXH3_64bits_withSeed(link, sizeof link, *chain);
    *off = cairn_section_next(&sh);
    return 0;
}

/* A MAC section exists exactly when the header says so, and comes last. */
static int check_mac_layout(cairn_image_t *img)
{
    unsigned n = img->info.section_count;
    int want = (img->info.flags & CAIRN_IMG_MAC) != 0;
    for (unsigned i = 0; i < n; i++) {
        const cairn_section_info_t *s = &img->sec[i];
        if (s->type != CAIRN_SEC_MAC)
            continue;
        if (!want || i != n - 1 || s->codec != CAIRN_CODEC_NONE ||
            s->raw_size != CAIRN_MAC_BYTES || s->name[0])
            return fail(img, CAIRN_ECORRUPT, "section %u: misplaced or malformed MAC section", i);
        return 0;
    }
    if (want)
        return fail(img, CAIRN_ECORRUPT, "header promises a MAC section; there is none");
    return 0;
}

static int parse(cairn_image_t *img)
{
    struct stat st;
    if (fstat(img->fd, &st) < 0)
        return fail(img, -errno, "cannot stat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(img, CAIRN_EFOREIGN, "not a regular file");
    uint64_t size = (uint64_t)st.st_size;
    img->info.file_size = size;
    if (size == 0)
        return fail(img, CAIRN_ETRUNCATED, "file is empty (0 bytes)");
    if (size < CAIRN_IMAGE_MIN_SIZE) {
        unsigned char m[8];
        if (size >= 8 && cairn__pread_all(img->fd, m, 8, 0) == 0 &&
            memcmp(m, CAIRN_MAGIC, 8) != 0)
            return fail(img, CAIRN_EFOREIGN, "bad magic: not a cairn image");
        return fail(img, CAIRN_ETRUNCATED, "only %llu bytes: shorter than any image",
                    (unsigned long long)size);
    }
    uint64_t chain = 0;
    int rc = check_header(img, &chain);
    if (rc < 0)
        return rc;
    uint32_t count = 0;
    uint64_t want_chain = 0;
    rc = check_trailer(img, size, &count, &want_chain);
    if (rc < 0)
        return rc;
    img->info.section_count = count;
    img->sec = calloc(count ? count : 1, sizeof *img->sec);
    img->hdr_off = calloc(count ? count : 1, sizeof *img->hdr_off);
    if (!img->sec || !img->hdr_off)
        return fail(img, -ENOMEM, "out of memory for %u sections", count);
    uint64_t off = CAIRN_HEADER_SIZE;
    for (unsigned i = 0; i < count; i++) {
        rc = parse_section(img, i, &off, &chain);
        if (rc < 0)
            return rc;
    }
    if (off != img->trailer_off)
        return fail(img, CAIRN_ECORRUPT, "%llu unexplained bytes before the trailer",
                    (unsigned long long)(img->trailer_off - off));
    if (chain != want_chain)
        return fail(img, CAIRN_ECORRUPT,
                    "section chain checksum mismatch (sections missing, reordered or altered)");
    return check_mac_layout(img);
}

int cairn_image_open_fd(cairn_image_t **out, int fd, char *why, size_t why_len)
{
    *out = NULL;
    cairn_image_t *img = calloc(1, sizeof *img);
    if (!img) {
        cairn__say(why, why_len, "out of memory");
        return -ENOMEM;
    }
    img->fd = fd;
    int rc = parse(img);
    if (rc < 0) {
        cairn__say(why, why_len, "%s", img->err);
        cairn_image_close(img);
        return rc;
    }
    *out = img;
    return 0;
}

int cairn_image_open(cairn_image_t **out, const char *path, char *why, size_t why_len)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        cairn__say(why, why_len, "cannot open: %s", strerror(e));
        return -e;
    }
    int rc = cairn_image_open_fd(out, fd, why, why_len);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    (*out)->own_fd = 1;
    return 0;
}

static void wipe_key(cairn_image_t *img)
{
    volatile unsigned char *k = img->key;
    for (size_t i = 0; i < sizeof img->key; i++)
        k[i] = 0;
}

void cairn_image_close(cairn_image_t *img)
{
    if (!img)
        return;
    if (img->own_fd)
        close(img->fd);
    ZSTD_freeDCtx(img->zd);
    cairn__mac_free(img->mac);
    wipe_key(img);
    free(img->digest);
    free(img->digested);
    free(img->hdr_off);
    free(img->buf);
    free(img->sec);
    free(img);
}

const cairn_image_info_t *cairn_image_info(const cairn_image_t *img)
{
    return &img->info;
}

const cairn_section_info_t *cairn_image_section(const cairn_image_t *img, unsigned index)
{
    return index < img->info.section_count ? &img->sec[index] : NULL;
}

int cairn_image_find(const cairn_image_t *img, unsigned type, const char *name)
{
    for (unsigned i = 0; i < img->info.section_count; i++)
        if (img->sec[i].type == type && (!name || strcmp(img->sec[i].name, name) == 0))
            return (int)i;
    return -1;
}

const char *cairn_image_error(const cairn_image_t *img)
{
    return img->err;
}

static int ensure_buf(cairn_image_t *img)
{
    if (!img->buf && !(img->buf = malloc(READ_CHUNK)))
        return fail(img, -ENOMEM, "out of memory");
    return 0;
}

/*
 * Streams section s's raw bytes. With dst, they land in dst (raw_size
 * bytes); without, they pass through img->buf to be hashed and dropped.
 */
static int stream_raw(cairn_image_t *img, const cairn_section_info_t *s, unsigned char *dst,
                      XXH3_state_t *st)
{
    uint64_t done = 0;
    while (done < s->stored_size) {
        uint64_t left = s->stored_size - done;
        size_t n = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
        unsigned char *to = dst ? dst + done : img->buf;
        int rc = read_at(img, to, n, s->data_offset + done, "section payload");
        if (rc < 0)
            return rc;
        XXH3_64bits_update(st, to, n);
        if (img->mac)
            cairn__mac_section_data(img->mac, to, n);
        done += n;
    }
    return 0;
}

/* Codec 1: one zstd frame or more, one after another (docs/FORMAT.md);
   the last must end with the payload. */
static int stream_zstd(cairn_image_t *img, const cairn_section_info_t *s, unsigned char *dst,
                       XXH3_state_t *st)
{
    if (!img->zd && !(img->zd = ZSTD_createDCtx()))
        return fail(img, -ENOMEM, "out of memory");
    ZSTD_DCtx_reset(img->zd, ZSTD_reset_session_only);
    unsigned char *in_buf = malloc(READ_CHUNK);
    if (!in_buf)
        return fail(img, -ENOMEM, "out of memory");
    uint64_t consumed = 0, produced = 0;
    size_t ret = 1;
    int rc = 0;
    while (consumed < s->stored_size) {
        uint64_t left = s->stored_size - consumed;
        size_t n = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
        rc = read_at(img, in_buf, n, s->data_offset + consumed, "section payload");
        if (rc < 0)
            goto out;
        consumed += n;
        ZSTD_inBuffer in = {in_buf, n, 0};
        while (in.pos < in.size) {
            size_t room = dst ? (size_t)(s->raw_size - produced) : READ_CHUNK;
            unsigned char *to = dst ? dst + produced : img->buf;
            ZSTD_outBuffer out = {to, room, 0};
            ret = ZSTD_decompressStream(img->zd, &out, &in);
            if (ZSTD_isError(ret)) {
                rc = fail(img, CAIRN_ECORRUPT, "section '%s': zstd: %s", s->name,
                          ZSTD_getErrorName(ret));
                goto out;
            }
            if (produced + out.pos > s->raw_size) {
                rc = fail(img, CAIRN_ECORRUPT, "section '%s': decompresses to more than %llu bytes",
                          s->name, (unsigned long long)s->raw_size);
                goto out;
            }
            XXH3_64bits_update(st, to, out.pos);
            if (img->mac)
                cairn__mac_section_data(img->mac, to, out.pos);
            produced += out.pos;
            if (out.pos == 0 && in.pos < in.size && dst && produced == s->raw_size) {
                rc = fail(img, CAIRN_ECORRUPT, "section '%s': decompresses to more than %llu bytes",
                          s->name, (unsigned long long)s->raw_size);
                goto out;
            }
        }
    }
    if (ret != 0 || produced != s->raw_size)
        rc = fail(img, CAIRN_ECORRUPT, "section '%s': zstd frame incomplete (%llu of %llu bytes)",
                  s->name, (unsigned long long)produced, (unsigned long long)s->raw_size);
out:
    free(in_buf);
    return rc;
}

static int read_section(cairn_image_t *img, unsigned index, unsigned char *dst)
{
    const cairn_section_info_t *s = &img->sec[index];
    int rc = dst ? 0 : ensure_buf(img);
    if (rc < 0)
        return rc;
    if (s->codec == CAIRN_CODEC_ZSTD && (rc = ensure_buf(img)) < 0)
        return rc;
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    if (img->mac)
        cairn__mac_section_begin(img->mac, index);
    rc = s->codec == CAIRN_CODEC_ZSTD ? stream_zstd(img, s, dst, &st)
                                      : stream_raw(img, s, dst, &st);
    if (rc < 0)
        return rc;
    if (XXH3_64bits_digest(&st) != s->checksum)
        return fail(img, CAIRN_ECORRUPT, "section %u '%s' (%s): data checksum mismatch", index,
                    s->name, cairn_section_type_name(s->type));
    if (img->mac) {
        cairn__mac_section_digest(img->mac, img->digest[index]);
        img->digested[index] = 1;
    }
    return 0;
}

int cairn_image_read(cairn_image_t *img, unsigned index, void *dst, size_t dst_size)
{
    if (index >= img->info.section_count)
        return fail(img, CAIRN_EINVAL, "no section %u", index);
    if (dst_size != img->sec[index].raw_size)
        return fail(img, CAIRN_EINVAL, "section %u holds %llu bytes, not %zu", index,
                    (unsigned long long)img->sec[index].raw_size, dst_size);
    if (dst_size == 0)
        return read_section(img, index, NULL);
    return read_section(img, index, dst);
}

int cairn_image_verify(cairn_image_t *img, unsigned *bad_section)
{
    for (unsigned i = 0; i < img->info.section_count; i++) {
        int rc = read_section(img, i, NULL);
        if (rc < 0) {
            if (bad_section)
                *bad_section = i;
            return rc;
        }
    }
    int rc = img->mac ? cairn_image_authenticate(img) : 0;
    if (rc < 0 && bad_section)
        *bad_section = img->info.section_count ? img->info.section_count - 1 : 0;
    return rc;
}

int cairn_image_set_key(cairn_image_t *img, const unsigned char key[CAIRN_KEY_SIZE])
{
    unsigned n = img->info.section_count ? img->info.section_count : 1;
    img->mac = cairn__mac_new(key);
    img->digest = calloc(n, sizeof *img->digest);
    img->digested = calloc(n, 1);
    if (!img->mac || !img->digest || !img->digested)
        return fail(img, -ENOMEM, "out of memory");
    memcpy(img->key, key, sizeof img->key);
    unsigned char h[CAIRN_HEADER_SIZE]; /* seeds the per-section keys */
    int rc = read_at(img, h, sizeof h, 0, "header");
    if (rc == 0)
        cairn__mac_header(img->mac, h, sizeof h);
    return rc;
}

/* Recomputes the tag from the header, section headers and payload digests. */
static int compute_tag(cairn_image_t *img, unsigned nsec, unsigned char tag[CAIRN_MAC_BYTES])
{
    unsigned char h[CAIRN_SECTION_HEADER_SIZE + CAIRN_NAME_MAX];
    struct cairn__mac *m = cairn__mac_new(img->key);
    if (!m)
        return fail(img, -ENOMEM, "out of memory");
    int rc = read_at(img, h, CAIRN_HEADER_SIZE, 0, "header");
    if (rc == 0)
        cairn__mac_header(m, h, CAIRN_HEADER_SIZE);
    for (unsigned i = 0; rc == 0 && i < nsec; i++) {
        size_t len = CAIRN_SECTION_HEADER_SIZE + strlen(img->sec[i].name);
        rc = read_at(img, h, len, img->hdr_off[i], "section header");
        if (rc == 0)
            cairn__mac_section_fold(m, h, len, img->digest[i]);
    }
    if (rc == 0)
        cairn__mac_final(m, tag);
    cairn__mac_free(m);
    return rc;
}

int cairn_image_authenticate(cairn_image_t *img)
{
    if (!img->mac)
        return fail(img, CAIRN_EINVAL, "no key set");
    unsigned n = img->info.section_count;
    if (!(img->info.flags & CAIRN_IMG_MAC))
        return fail(img, CAIRN_EAUTH,
                    "image carries no MAC, but a key is configured: refusing an image "
                    "that cannot be authenticated");
    for (unsigned i = 0; i + 1 < n; i++) {
        int rc = img->digested[i] ? 0 : read_section(img, i, NULL);
        if (rc < 0)
            return rc;
    }
    unsigned char tag[CAIRN_MAC_BYTES], want[CAIRN_MAC_BYTES];
    int rc = compute_tag(img, n - 1, tag);
    if (rc == 0)
        rc = read_at(img, want, sizeof want, img->sec[n - 1].data_offset, "MAC");
    if (rc < 0)
        return rc;
    if (!cairn__mac_equal(tag, want))
        return fail(img, CAIRN_EAUTH,
                    "MAC mismatch: the image was not written with this key, or was altered");
    return 0;
}

int cairn_key_load(const char *spec, unsigned char key[CAIRN_KEY_SIZE])
{
    return cairn__key_load(spec, key, 0);
}
