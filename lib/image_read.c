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

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#include <zstd.h>

#include "cairn_image.h"
#include "image_format.h"
#include "internal.h"

#define READ_CHUNK (4u << 20)

struct cairn_image {
    int fd;
    int own_fd;
    cairn_image_info_t info;
    cairn_section_info_t *sec;
    uint64_t trailer_off;
    ZSTD_DCtx *zd;
    unsigned char *buf; /* READ_CHUNK bytes, allocated on first payload read */
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
    if (memcmp(t, CAIRN_TRAILER_MAGIC, 8) != 0)
        return fail(img, CAIRN_ETRUNCATED,
                    "no end marker in the last %u bytes: the image was not "
                    "completely written (truncated or interrupted)",
                    CAIRN_TRAILER_SIZE);
    if (cairn_get64(t + 56) != XXH3_64bits(t, 56))
        return fail(img, CAIRN_ECORRUPT, "trailer at byte %llu: checksum mismatch",
                    (unsigned long long)off);
    if (cairn_get64(t + 16) != off)
        return fail(img, CAIRN_ETRUNCATED,
                    "trailer says the image is %llu bytes, the file has %llu",
                    (unsigned long long)(cairn_get64(t + 16) + CAIRN_TRAILER_SIZE),
                    (unsigned long long)size);
    *count = cairn_get32(t + 8);
    *chain = cairn_get64(t + 24);
    img->trailer_off = off;
    return 0;
}

static int check_header(cairn_image_t *img)
{
    unsigned char h[CAIRN_HEADER_SIZE];
    int rc = read_at(img, h, sizeof h, 0, "header");
    if (rc < 0)
        return rc;
    if (memcmp(h, CAIRN_MAGIC, 8) != 0)
        return fail(img, CAIRN_EFOREIGN, "bad magic: not a cairn image");
    cairn_image_info_t *in = &img->info;
    in->format_major = cairn_get16(h + 8);
    in->format_minor = cairn_get16(h + 10);
    if (in->format_major != CAIRN_FORMAT_MAJOR)
        return fail(img, in->format_major > CAIRN_FORMAT_MAJOR ? CAIRN_EVERSION : CAIRN_EFOREIGN,
                    "image format %u.%u; this cairn reads format %u.x",
                    in->format_major, in->format_minor, CAIRN_FORMAT_MAJOR);
    if (cairn_get64(h + 120) != XXH3_64bits(h, 120))
        return fail(img, CAIRN_ECORRUPT, "header: checksum mismatch");
    if (cairn_get32(h + 12) != CAIRN_HEADER_SIZE)
        return fail(img, CAIRN_ECORRUPT, "header: size %u, expected %u",
                    cairn_get32(h + 12), CAIRN_HEADER_SIZE);
    in->flags = cairn_get32(h + 16);
    if (in->flags & ~CAIRN_IMG_KNOWN_FLAGS)
        return fail(img, CAIRN_EVERSION, "header: unknown flags 0x%x (written by a newer cairn)",
                    in->flags & ~CAIRN_IMG_KNOWN_FLAGS);
    in->writer_version = cairn_get32(h + 20);
    in->generation = cairn_get64(h + 24);
    in->created_ns = cairn_get64(h + 32);
    in->uid = cairn_get32(h + 40);
    in->pid = cairn_get32(h + 44);
    memcpy(in->host, h + 56, CAIRN_HOST_MAX - 1);
    in->host[CAIRN_HOST_MAX - 1] = '\0';
    return 0;
}

/* Parses the section header at *off, advancing *off past its payload. */
static int parse_section(cairn_image_t *img, unsigned i, uint64_t *off, uint64_t *chain)
{
    unsigned char h[CAIRN_SECTION_HEADER_SIZE + CAIRN_NAME_MAX];
    uint64_t at = *off;
    if (img->trailer_off - at < CAIRN_SECTION_HEADER_SIZE)
        return fail(img, CAIRN_ECORRUPT, "section %u at byte %llu: runs into the trailer", i,
                    (unsigned long long)at);
    int rc = read_at(img, h, CAIRN_SECTION_HEADER_SIZE, at, "section header");
    if (rc < 0)
        return rc;
    if (memcmp(h, CAIRN_SECTION_MAGIC, 4) != 0)
        return fail(img, CAIRN_ECORRUPT, "section %u at byte %llu: bad section magic", i,
                    (unsigned long long)at);
    unsigned name_len = cairn_get16(h + 12);
    if (name_len > CAIRN_NAME_MAX ||
        img->trailer_off - at - CAIRN_SECTION_HEADER_SIZE < name_len)
        return fail(img, CAIRN_ECORRUPT, "section %u at byte %llu: name length %u out of range",
                    i, (unsigned long long)at, name_len);
    rc = read_at(img, h + CAIRN_SECTION_HEADER_SIZE, name_len, at + CAIRN_SECTION_HEADER_SIZE,
                 "section name");
    if (rc < 0)
        return rc;
    XXH3_state_t hs;
    XXH3_64bits_reset(&hs);
    XXH3_64bits_update(&hs, h, 56);
    XXH3_64bits_update(&hs, h + CAIRN_SECTION_HEADER_SIZE, name_len);
    uint64_t hsum = XXH3_64bits_digest(&hs);
    if (hsum != cairn_get64(h + 56))
        return fail(img, CAIRN_ECORRUPT, "section %u at byte %llu: header checksum mismatch",
                    i, (unsigned long long)at);

    cairn_section_info_t *s = &img->sec[i];
    s->type = cairn_get16(h + 4);
    s->codec = cairn_get16(h + 6);
    s->flags = cairn_get32(h + 8);
    memcpy(s->name, h + CAIRN_SECTION_HEADER_SIZE, name_len);
    s->name[name_len] = '\0';
    s->data_offset = cairn_get64(h + 16);
    s->stored_size = cairn_get64(h + 24);
    s->raw_size = cairn_get64(h + 32);
    s->checksum = cairn_get64(h + 40);
    s->arg = cairn_get64(h + 48);

    uint64_t name_end = at + CAIRN_SECTION_HEADER_SIZE + name_len;
    if (s->data_offset < name_end || s->data_offset > img->trailer_off ||
        s->data_offset % CAIRN_DATA_ALIGN != 0 ||
        s->stored_size > img->trailer_off - s->data_offset)
        return fail(img, CAIRN_ECORRUPT,
                    "section %u '%s': payload (offset %llu, %llu bytes) outside the image", i,
                    s->name, (unsigned long long)s->data_offset,
                    (unsigned long long)s->stored_size);
    if (s->codec == CAIRN_CODEC_NONE && s->stored_size != s->raw_size)
        return fail(img, CAIRN_ECORRUPT, "section %u '%s': stored and raw sizes differ", i,
                    s->name);
    if (s->codec > CAIRN_CODEC_ZSTD)
        return fail(img, CAIRN_EVERSION, "section %u '%s': unknown codec %u", i, s->name,
                    s->codec);
    unsigned char link[16];
    cairn_put64(link, hsum);
    cairn_put64(link + 8, s->checksum);
    *chain = XXH3_64bits_withSeed(link, sizeof link, *chain);
    *off = cairn_align_up(s->data_offset + s->stored_size, CAIRN_DATA_ALIGN);
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
    if (size < CAIRN_HEADER_SIZE + CAIRN_TRAILER_SIZE) {
        unsigned char m[8];
        if (size >= 8 && cairn__pread_all(img->fd, m, 8, 0) == 0 &&
            memcmp(m, CAIRN_MAGIC, 8) != 0)
            return fail(img, CAIRN_EFOREIGN, "bad magic: not a cairn image");
        return fail(img, CAIRN_ETRUNCATED, "only %llu bytes: shorter than any image",
                    (unsigned long long)size);
    }
    int rc = check_header(img);
    if (rc < 0)
        return rc;
    uint32_t count = 0;
    uint64_t want_chain = 0;
    rc = check_trailer(img, size, &count, &want_chain);
    if (rc < 0)
        return rc;
    if (count > (img->trailer_off - CAIRN_HEADER_SIZE) / CAIRN_SECTION_HEADER_SIZE)
        return fail(img, CAIRN_ECORRUPT, "trailer: %u sections cannot fit in %llu bytes", count,
                    (unsigned long long)size);
    img->info.section_count = count;
    img->sec = calloc(count ? count : 1, sizeof *img->sec);
    if (!img->sec)
        return fail(img, -ENOMEM, "out of memory for %u sections", count);
    uint64_t off = CAIRN_HEADER_SIZE;
    unsigned char h[CAIRN_HEADER_SIZE];
    rc = read_at(img, h, sizeof h, 0, "header");
    if (rc < 0)
        return rc;
    uint64_t chain = cairn_get64(h + 120);
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
    return 0;
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

void cairn_image_close(cairn_image_t *img)
{
    if (!img)
        return;
    if (img->own_fd)
        close(img->fd);
    ZSTD_freeDCtx(img->zd);
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
        done += n;
    }
    return 0;
}

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
            produced += out.pos;
            if (ret == 0 && in.pos < in.size) {
                rc = fail(img, CAIRN_ECORRUPT, "section '%s': data after the zstd frame", s->name);
                goto out;
            }
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
    rc = s->codec == CAIRN_CODEC_ZSTD ? stream_zstd(img, s, dst, &st)
                                      : stream_raw(img, s, dst, &st);
    if (rc < 0)
        return rc;
    if (XXH3_64bits_digest(&st) != s->checksum)
        return fail(img, CAIRN_ECORRUPT, "section %u '%s' (%s): data checksum mismatch", index,
                    s->name, cairn_section_type_name(s->type));
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
    return 0;
}
