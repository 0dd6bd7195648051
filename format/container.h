/* SPDX-License-Identifier: MIT */
/*
 * container.h — the image container, defined once: the file header, the
 * section header, the trailer and the chain step (docs/FORMAT.md, Layout).
 *
 * Every offset of every container field is named here and nowhere else.
 * Encoding and decoding are static inlines over byte arrays; the validity
 * rules are pure functions returning a verdict. Nothing here allocates,
 * calls libc or hashes: the caller computes checksums (libxxhash in lib/,
 * the inlined XXH3 in the restorer) over the byte ranges named below and
 * passes them in. So the same rules run in libcairn's reader, in the
 * freestanding restorer (restore/image.c), in the CLI and in the tests.
 */
#ifndef CAIRN_FORMAT_CONTAINER_H
#define CAIRN_FORMAT_CONTAINER_H

#include <stdint.h>

/* ---- constants ------------------------------------------------------- */

#define CAIRN_MAGIC "\x89" "CAIRN\r\n"   /* 8 bytes, like PNG's */
#define CAIRN_TRAILER_MAGIC "CAIRNEND"
#define CAIRN_SECTION_MAGIC "SECT"
#define CAIRN_FORMAT_MAJOR 1
#define CAIRN_FORMAT_MINOR 0

#define CAIRN_HEADER_SIZE 128u
#define CAIRN_SECTION_HEADER_SIZE 64u
#define CAIRN_TRAILER_SIZE 64u
#define CAIRN_HOST_MAX 64u
#define CAIRN_NAME_MAX 255u

/* Header flags. */
#define CAIRN_IMG_PROCESS 0x1u   /* a transparent process image (cairn run) */
#define CAIRN_IMG_MAC 0x2u       /* a MAC section authenticates the image */
#define CAIRN_IMG_KNOWN_FLAGS (CAIRN_IMG_PROCESS | CAIRN_IMG_MAC)

/* Section codecs. */
#define CAIRN_CODEC_NONE 0u
#define CAIRN_CODEC_ZSTD 1u
#define CAIRN_CODEC_LAST CAIRN_CODEC_ZSTD

/* Payloads start at a multiple of this from the start of the file. */
#define CAIRN_DATA_ALIGN 8u

/* File header field offsets. Bytes [0, CAIRN_HDR_SUMMED) are checksummed. */
enum {
    CAIRN_HDR_MAGIC = 0,          /* 8 */
    CAIRN_HDR_MAJOR = 8,          /* u16 */
    CAIRN_HDR_MINOR = 10,         /* u16 */
    CAIRN_HDR_SIZE = 12,          /* u32 */
    CAIRN_HDR_FLAGS = 16,         /* u32 */
    CAIRN_HDR_WRITER = 20,        /* u32 */
    CAIRN_HDR_GENERATION = 24,    /* u64 */
    CAIRN_HDR_CREATED = 32,       /* u64 */
    CAIRN_HDR_UID = 40,           /* u32 */
    CAIRN_HDR_PID = 44,           /* u32 */
    CAIRN_HDR_NONCE = 48,         /* u64 */
    CAIRN_HDR_HOST = 56,          /* CAIRN_HOST_MAX bytes */
    CAIRN_HDR_CHECKSUM = 120,     /* u64 */
    CAIRN_HDR_SUMMED = 120
};

/* Section header field offsets. The checksum covers [0, CAIRN_SH_SUMMED)
   followed by the name, which starts at CAIRN_SH_NAME. */
enum {
    CAIRN_SH_MAGIC = 0,           /* 4 */
    CAIRN_SH_TYPE = 4,            /* u16 */
    CAIRN_SH_CODEC = 6,           /* u16 */
    CAIRN_SH_FLAGS = 8,           /* u32 */
    CAIRN_SH_NAME_LEN = 12,       /* u16 */
    CAIRN_SH_RESERVED = 14,       /* u16 */
    CAIRN_SH_DATA_OFFSET = 16,    /* u64 */
    CAIRN_SH_STORED = 24,         /* u64 */
    CAIRN_SH_RAW = 32,            /* u64 */
    CAIRN_SH_DATA_CHECKSUM = 40,  /* u64 */
    CAIRN_SH_ARG = 48,            /* u64 */
    CAIRN_SH_CHECKSUM = 56,       /* u64 */
    CAIRN_SH_SUMMED = 56,
    CAIRN_SH_NAME = 64
};

/* Trailer field offsets. Bytes [0, CAIRN_TR_SUMMED) are checksummed. */
enum {
    CAIRN_TR_MAGIC = 0,           /* 8 */
    CAIRN_TR_COUNT = 8,           /* u32 */
    CAIRN_TR_OFFSET = 16,         /* u64 */
    CAIRN_TR_CHAIN = 24,          /* u64 */
    CAIRN_TR_CHECKSUM = 56,       /* u64 */
    CAIRN_TR_SUMMED = 56
};

/* ---- little-endian fields ----------------------------------------------- */

static inline void cairn_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void cairn_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void cairn_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t cairn_get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t cairn_get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t cairn_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t cairn_align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Byte compare and copy without libc (the restorer has none). */
static inline int cairn_bytes_equal(const unsigned char *a, const char *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (a[i] != (unsigned char)b[i])
            return 0;
    return 1;
}

static inline void cairn_bytes_copy(unsigned char *dst, const void *src, unsigned n)
{
    const unsigned char *s = (const unsigned char *)src;
    for (unsigned i = 0; i < n; i++)
        dst[i] = s[i];
}

static inline void cairn_bytes_zero(unsigned char *dst, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        dst[i] = 0;
}

/* ---- file header -------------------------------------------------------- */

struct cairn_file_header {
    uint16_t format_major, format_minor;
    uint32_t header_size;
    uint32_t flags;
    uint32_t writer_version;
    uint64_t generation;
    uint64_t created_ns;
    uint32_t uid, pid;
    uint64_t nonce;
    char host[CAIRN_HOST_MAX];    /* NUL-terminated after decode */
    uint64_t checksum;            /* as stored */
};

/* Fills h with everything but the checksum (magic, version and size are
   this writer's); store the checksum with cairn_header_seal. */
static inline void cairn_header_encode(unsigned char h[CAIRN_HEADER_SIZE],
                                       const struct cairn_file_header *f)
{
    cairn_bytes_zero(h, CAIRN_HEADER_SIZE);
    cairn_bytes_copy(h + CAIRN_HDR_MAGIC, CAIRN_MAGIC, 8);
    cairn_put16(h + CAIRN_HDR_MAJOR, CAIRN_FORMAT_MAJOR);
    cairn_put16(h + CAIRN_HDR_MINOR, CAIRN_FORMAT_MINOR);
    cairn_put32(h + CAIRN_HDR_SIZE, CAIRN_HEADER_SIZE);
    cairn_put32(h + CAIRN_HDR_FLAGS, f->flags);
    cairn_put32(h + CAIRN_HDR_WRITER, f->writer_version);
    cairn_put64(h + CAIRN_HDR_GENERATION, f->generation);
    cairn_put64(h + CAIRN_HDR_CREATED, f->created_ns);
    cairn_put32(h + CAIRN_HDR_UID, f->uid);
    cairn_put32(h + CAIRN_HDR_PID, f->pid);
    cairn_put64(h + CAIRN_HDR_NONCE, f->nonce);
    unsigned n = 0;
    while (n < CAIRN_HOST_MAX - 1 && f->host[n]) /* keeps a NUL */
        n++;
    cairn_bytes_copy(h + CAIRN_HDR_HOST, f->host, n);
}

/* Stores the checksum of bytes [0, CAIRN_HDR_SUMMED). */
static inline void cairn_header_seal(unsigned char h[CAIRN_HEADER_SIZE], uint64_t sum)
{
    cairn_put64(h + CAIRN_HDR_CHECKSUM, sum);
}

static inline void cairn_header_decode(const unsigned char h[CAIRN_HEADER_SIZE],
                                       struct cairn_file_header *f)
{
    f->format_major = cairn_get16(h + CAIRN_HDR_MAJOR);
    f->format_minor = cairn_get16(h + CAIRN_HDR_MINOR);
    f->header_size = cairn_get32(h + CAIRN_HDR_SIZE);
    f->flags = cairn_get32(h + CAIRN_HDR_FLAGS);
    f->writer_version = cairn_get32(h + CAIRN_HDR_WRITER);
    f->generation = cairn_get64(h + CAIRN_HDR_GENERATION);
    f->created_ns = cairn_get64(h + CAIRN_HDR_CREATED);
    f->uid = cairn_get32(h + CAIRN_HDR_UID);
    f->pid = cairn_get32(h + CAIRN_HDR_PID);
    f->nonce = cairn_get64(h + CAIRN_HDR_NONCE);
    cairn_bytes_copy((unsigned char *)f->host, h + CAIRN_HDR_HOST, CAIRN_HOST_MAX - 1);
    f->host[CAIRN_HOST_MAX - 1] = '\0';
    f->checksum = cairn_get64(h + CAIRN_HDR_CHECKSUM);
}

/* What is wrong with a header, in the order a reader checks it. */
enum cairn_header_verdict {
    CAIRN_HEADER_OK = 0,
    CAIRN_HEADER_FOREIGN,         /* bad magic: not a cairn image */
    CAIRN_HEADER_NEWER,           /* format_major above ours */
    CAIRN_HEADER_OLDER,           /* format_major below ours (none exists) */
    CAIRN_HEADER_CHECKSUM,        /* header_checksum mismatch */
    CAIRN_HEADER_SIZE_WRONG,      /* header_size is not 128 */
    CAIRN_HEADER_FLAGS_UNKNOWN    /* a flag bit this cairn does not know */
};

/* The header rules of docs/FORMAT.md: magic, format_major, checksum (sum:
   the caller's XXH3-64 of bytes [0, CAIRN_HDR_SUMMED)), size, flags. */
static inline enum cairn_header_verdict cairn_header_check(const unsigned char h[CAIRN_HEADER_SIZE],
                                                           uint64_t sum)
{
    if (!cairn_bytes_equal(h + CAIRN_HDR_MAGIC, CAIRN_MAGIC, 8))
        return CAIRN_HEADER_FOREIGN;
    uint16_t major = cairn_get16(h + CAIRN_HDR_MAJOR);
    if (major > CAIRN_FORMAT_MAJOR)
        return CAIRN_HEADER_NEWER;
    if (major < CAIRN_FORMAT_MAJOR)
        return CAIRN_HEADER_OLDER;
    if (cairn_get64(h + CAIRN_HDR_CHECKSUM) != sum)
        return CAIRN_HEADER_CHECKSUM;
    if (cairn_get32(h + CAIRN_HDR_SIZE) != CAIRN_HEADER_SIZE)
        return CAIRN_HEADER_SIZE_WRONG;
    if (cairn_get32(h + CAIRN_HDR_FLAGS) & ~CAIRN_IMG_KNOWN_FLAGS)
        return CAIRN_HEADER_FLAGS_UNKNOWN;
    return CAIRN_HEADER_OK;
}

/* ---- section header ----------------------------------------------------- */

struct cairn_section_header {
    uint16_t type;
    uint16_t codec;
    uint32_t flags;
    uint16_t name_len;
    uint64_t data_offset;
    uint64_t stored_size;
    uint64_t raw_size;
    uint64_t data_checksum;
    uint64_t arg;
    uint64_t checksum;            /* as stored */
};

/* Fills h (CAIRN_SECTION_HEADER_SIZE + name_len bytes) but the checksum,
   which cairn_section_seal stores. */
static inline void cairn_section_encode(unsigned char *h, const struct cairn_section_header *s,
                                        const char *name)
{
    cairn_bytes_zero(h, CAIRN_SECTION_HEADER_SIZE);
    cairn_bytes_copy(h + CAIRN_SH_MAGIC, CAIRN_SECTION_MAGIC, 4);
    cairn_put16(h + CAIRN_SH_TYPE, s->type);
    cairn_put16(h + CAIRN_SH_CODEC, s->codec);
    cairn_put32(h + CAIRN_SH_FLAGS, s->flags);
    cairn_put16(h + CAIRN_SH_NAME_LEN, s->name_len);
    cairn_put64(h + CAIRN_SH_DATA_OFFSET, s->data_offset);
    cairn_put64(h + CAIRN_SH_STORED, s->stored_size);
    cairn_put64(h + CAIRN_SH_RAW, s->raw_size);
    cairn_put64(h + CAIRN_SH_DATA_CHECKSUM, s->data_checksum);
    cairn_put64(h + CAIRN_SH_ARG, s->arg);
    if (s->name_len)
        cairn_bytes_copy(h + CAIRN_SH_NAME, name, s->name_len);
}

static inline void cairn_section_seal(unsigned char *h, uint64_t sum)
{
    cairn_put64(h + CAIRN_SH_CHECKSUM, sum);
}

/* Decodes the fixed 64 bytes (the name follows at h + CAIRN_SH_NAME). */
static inline void cairn_section_decode(const unsigned char h[CAIRN_SECTION_HEADER_SIZE],
                                        struct cairn_section_header *s)
{
    s->type = cairn_get16(h + CAIRN_SH_TYPE);
    s->codec = cairn_get16(h + CAIRN_SH_CODEC);
    s->flags = cairn_get32(h + CAIRN_SH_FLAGS);
    s->name_len = cairn_get16(h + CAIRN_SH_NAME_LEN);
    s->data_offset = cairn_get64(h + CAIRN_SH_DATA_OFFSET);
    s->stored_size = cairn_get64(h + CAIRN_SH_STORED);
    s->raw_size = cairn_get64(h + CAIRN_SH_RAW);
    s->data_checksum = cairn_get64(h + CAIRN_SH_DATA_CHECKSUM);
    s->arg = cairn_get64(h + CAIRN_SH_ARG);
    s->checksum = cairn_get64(h + CAIRN_SH_CHECKSUM);
}

enum cairn_section_verdict {
    CAIRN_SECTION_OK = 0,
    CAIRN_SECTION_RUNS_INTO_TRAILER, /* no room for a section header */
    CAIRN_SECTION_MAGIC_BAD,
    CAIRN_SECTION_NAME_LEN,          /* name longer than 255 or past the trailer */
    CAIRN_SECTION_CHECKSUM,
    CAIRN_SECTION_OUTSIDE,           /* payload before the name's end, misaligned
                                        or past the trailer */
    CAIRN_SECTION_SIZES,             /* codec none with stored != raw */
    CAIRN_SECTION_CODEC_UNKNOWN
};

/* Room for a section header at `at` before the trailer at trailer_off. */
static inline enum cairn_section_verdict cairn_section_fits(uint64_t at, uint64_t trailer_off)
{
    if (at > trailer_off || trailer_off - at < CAIRN_SECTION_HEADER_SIZE)
        return CAIRN_SECTION_RUNS_INTO_TRAILER;
    return CAIRN_SECTION_OK;
}

/* Magic and name length, once bytes h[0, 64) of a header that fits are
   read: the checks that come before the name can be read. */
static inline enum cairn_section_verdict cairn_section_check_fixed(const unsigned char *h,
                                                                   uint64_t at,
                                                                   uint64_t trailer_off)
{
    if (!cairn_bytes_equal(h + CAIRN_SH_MAGIC, CAIRN_SECTION_MAGIC, 4))
        return CAIRN_SECTION_MAGIC_BAD;
    unsigned name_len = cairn_get16(h + CAIRN_SH_NAME_LEN);
    if (name_len > CAIRN_NAME_MAX || trailer_off - at - CAIRN_SECTION_HEADER_SIZE < name_len)
        return CAIRN_SECTION_NAME_LEN;
    return CAIRN_SECTION_OK;
}

/* The rest, once the name is read: sum is the caller's XXH3-64 of bytes
   [0, CAIRN_SH_SUMMED) followed by the name. */
static inline enum cairn_section_verdict cairn_section_check(const struct cairn_section_header *s,
                                                             uint64_t sum, uint64_t at,
                                                             uint64_t trailer_off)
{
    if (s->checksum != sum)
        return CAIRN_SECTION_CHECKSUM;
    uint64_t name_end = at + CAIRN_SECTION_HEADER_SIZE + s->name_len;
    if (s->data_offset < name_end || s->data_offset > trailer_off ||
        s->data_offset % CAIRN_DATA_ALIGN != 0 || s->stored_size > trailer_off - s->data_offset)
        return CAIRN_SECTION_OUTSIDE;
    if (s->codec > CAIRN_CODEC_LAST)
        return CAIRN_SECTION_CODEC_UNKNOWN;
    if (s->codec == CAIRN_CODEC_NONE && s->stored_size != s->raw_size)
        return CAIRN_SECTION_SIZES;
    return CAIRN_SECTION_OK;
}

/* Where the next section header (or the trailer) starts. */
static inline uint64_t cairn_section_next(const struct cairn_section_header *s)
{
    return cairn_align_up(s->data_offset + s->stored_size, CAIRN_DATA_ALIGN);
}

/* Where section i's payload starts if its header is at `at`. */
static inline uint64_t cairn_section_data_offset(uint64_t at, unsigned name_len)
{
    return cairn_align_up(at + CAIRN_SECTION_HEADER_SIZE + name_len, CAIRN_DATA_ALIGN);
}

/* ---- chain -------------------------------------------------------------- */

/* The 16 bytes hashed, seeded with the chain so far, for each section in
   order: chain = XXH3_64bits_withSeed(link, 16, chain). The chain starts at
   the header checksum. */
#define CAIRN_CHAIN_LINK_SIZE 16u
static inline void cairn_chain_link(unsigned char link[CAIRN_CHAIN_LINK_SIZE],
                                    uint64_t header_checksum, uint64_t data_checksum)
{
    cairn_put64(link, header_checksum);
    cairn_put64(link + 8, data_checksum);
}

/* ---- trailer ------------------------------------------------------------ */

struct cairn_trailer {
    uint32_t section_count;
    uint64_t trailer_offset;
    uint64_t chain;
    uint64_t checksum;            /* as stored */
};

static inline void cairn_trailer_encode(unsigned char t[CAIRN_TRAILER_SIZE],
                                        const struct cairn_trailer *tr)
{
    cairn_bytes_zero(t, CAIRN_TRAILER_SIZE);
    cairn_bytes_copy(t + CAIRN_TR_MAGIC, CAIRN_TRAILER_MAGIC, 8);
    cairn_put32(t + CAIRN_TR_COUNT, tr->section_count);
    cairn_put64(t + CAIRN_TR_OFFSET, tr->trailer_offset);
    cairn_put64(t + CAIRN_TR_CHAIN, tr->chain);
}

static inline void cairn_trailer_seal(unsigned char t[CAIRN_TRAILER_SIZE], uint64_t sum)
{
    cairn_put64(t + CAIRN_TR_CHECKSUM, sum);
}

static inline void cairn_trailer_decode(const unsigned char t[CAIRN_TRAILER_SIZE],
                                        struct cairn_trailer *tr)
{
    tr->section_count = cairn_get32(t + CAIRN_TR_COUNT);
    tr->trailer_offset = cairn_get64(t + CAIRN_TR_OFFSET);
    tr->chain = cairn_get64(t + CAIRN_TR_CHAIN);
    tr->checksum = cairn_get64(t + CAIRN_TR_CHECKSUM);
}

enum cairn_trailer_verdict {
    CAIRN_TRAILER_OK = 0,
    CAIRN_TRAILER_MISSING,        /* no end marker: not completely written */
    CAIRN_TRAILER_CHECKSUM,
    CAIRN_TRAILER_OFFSET,         /* the file was cut or extended */
    CAIRN_TRAILER_COUNT           /* more sections than can fit */
};

/* The trailer read from the last 64 bytes of a file of file_size bytes
   (at least header + trailer); sum: XXH3-64 of bytes [0, CAIRN_TR_SUMMED). */
static inline enum cairn_trailer_verdict cairn_trailer_check(const unsigned char t[CAIRN_TRAILER_SIZE],
                                                             uint64_t sum, uint64_t file_size)
{
    if (!cairn_bytes_equal(t + CAIRN_TR_MAGIC, CAIRN_TRAILER_MAGIC, 8))
        return CAIRN_TRAILER_MISSING;
    if (cairn_get64(t + CAIRN_TR_CHECKSUM) != sum)
        return CAIRN_TRAILER_CHECKSUM;
    uint64_t off = file_size - CAIRN_TRAILER_SIZE;
    if (cairn_get64(t + CAIRN_TR_OFFSET) != off)
        return CAIRN_TRAILER_OFFSET;
    if (cairn_get32(t + CAIRN_TR_COUNT) > (off - CAIRN_HEADER_SIZE) / CAIRN_SECTION_HEADER_SIZE)
        return CAIRN_TRAILER_COUNT;
    return CAIRN_TRAILER_OK;
}

/* The smallest file that can be an image. */
#define CAIRN_IMAGE_MIN_SIZE (CAIRN_HEADER_SIZE + CAIRN_TRAILER_SIZE)

#endif
