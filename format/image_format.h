/* SPDX-License-Identifier: MIT */
/*
 * image_format.h — what goes into the container (container.h): section
 * types, section flags and the job section (docs/FORMAT.md).
 *
 * Shared by libcairn, the runtime, the restorer, the CLI and the tests.
 * Fields are little-endian and fixed-width, encoded field by field (never
 * by copying a C struct), so the layout does not depend on the compiler.
 * Freestanding: nothing here needs libc.
 */
#ifndef CAIRN_IMAGE_FORMAT_H
#define CAIRN_IMAGE_FORMAT_H

#include <stdint.h>

#include "container.h"

/* Section types. 0x100..0x1ff belong to process images (process_format.h). */
#define CAIRN_SEC_JOB 1u       /* job counters: struct cairn_job_meta */
#define CAIRN_SEC_REGION 2u    /* a protected region's bytes */
#define CAIRN_SEC_PROCESS_FIRST 0x100u
#define CAIRN_SEC_PROCESS_LAST 0x1ffu
#define CAIRN_SEC_MAC 0x200u   /* keyed MAC of the image, the last section */

/* Section flags. */
#define CAIRN_SECF_BUFFER 0x1u /* region registered with cairn_protect_buffer */

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

/* The CAIRN_SEC_JOB payload, field by field (docs/FORMAT.md, job section). */
static inline void cairn_job_meta_encode(const struct cairn_job_meta *j,
                                         unsigned char m[CAIRN_JOB_META_SIZE])
{
    cairn_bytes_zero(m, CAIRN_JOB_META_SIZE);
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
    *j = (struct cairn_job_meta){0};
    j->steps = cairn_get64(m);
    j->restores = cairn_get64(m + 8);
    j->checkpoints = cairn_get64(m + 16);
    j->interval_ns = cairn_get64(m + 24);
    j->last_cost_ns = cairn_get64(m + 32);
    j->every_steps = cairn_get64(m + 40);
    j->policy = cairn_get32(m + 48);
}

#endif
