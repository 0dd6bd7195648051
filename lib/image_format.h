/*
 * image_format.h — on-disk layout of a cairn image (docs/FORMAT.md).
 *
 * Internal to libcairn, the runtime and the tests. All fields are
 * little-endian and fixed-width; structures are never written with memcpy
 * of a C struct, but encoded field by field by the functions here, so the
 * layout does not depend on the compiler.
 */
#ifndef CAIRN_IMAGE_FORMAT_H
#define CAIRN_IMAGE_FORMAT_H

#include <stdint.h>
#include <string.h>

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

/* Section types. 0x100..0x1ff belong to process images. */
#define CAIRN_SEC_JOB 1u       /* job counters: struct cairn_job_meta */
#define CAIRN_SEC_REGION 2u    /* a protected region's bytes */
#define CAIRN_SEC_PROCESS_FIRST 0x100u
#define CAIRN_SEC_PROCESS_LAST 0x1ffu
#define CAIRN_SEC_MAC 0x200u   /* reserved: keyed MAC of the image */

/* Section codecs. */
#define CAIRN_CODEC_NONE 0u
#define CAIRN_CODEC_ZSTD 1u

/* Section flags. */
#define CAIRN_SECF_BUFFER 0x1u /* region registered with cairn_protect_buffer */

/* Payloads start at a multiple of this from the start of the file. */
#define CAIRN_DATA_ALIGN 8u

/* CAIRN_SEC_JOB payload: 64 bytes. */
#define CAIRN_JOB_META_SIZE 64u
struct cairn_job_meta {
    uint64_t steps;          /* cairn_step() calls so far */
    uint64_t restores;       /* restores so far (before this image was written) */
    uint64_t checkpoints;    /* images committed by the job, all runs */
    uint64_t interval_ns;    /* interval in force when written (0: steps) */
    uint64_t last_cost_ns;   /* measured cost of the previous checkpoint */
    uint64_t every_steps;    /* step interval in force (0: time) */
    uint32_t policy;         /* enum cairn_policy */
    uint32_t reserved0;
    uint64_t reserved1;
};

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

/* The CAIRN_SEC_JOB payload, field by field (docs/FORMAT.md, job section). */
static inline void cairn_job_meta_encode(const struct cairn_job_meta *j,
                                         unsigned char m[CAIRN_JOB_META_SIZE])
{
    memset(m, 0, CAIRN_JOB_META_SIZE);
    cairn_put64(m, j->steps);
    cairn_put64(m + 8, j->restores);
    cairn_put64(m + 16, j->checkpoints);
    cairn_put64(m + 24, j->interval_ns);
    cairn_put64(m + 32, j->last_cost_ns);
    cairn_put64(m + 40, j->every_steps);
    cairn_put32(m + 48, j->policy);
}

static inline void cairn_job_meta_decode(const unsigned char m[CAIRN_JOB_META_SIZE],
                                         struct cairn_job_meta *j)
{
    memset(j, 0, sizeof *j);
    j->steps = cairn_get64(m);
    j->restores = cairn_get64(m + 8);
    j->checkpoints = cairn_get64(m + 16);
    j->interval_ns = cairn_get64(m + 24);
    j->last_cost_ns = cairn_get64(m + 32);
    j->every_steps = cairn_get64(m + 40);
    j->policy = cairn_get32(m + 48);
}

static inline uint64_t cairn_align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

#endif
