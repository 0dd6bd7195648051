/* SPDX-License-Identifier: MIT */
/*
 * bench_zref.c — how fast this machine's zstd compresses the half-text
 * job's text, in the same run as cairn's compressed checkpoints.
 *
 * The half-text job's random half costs cairn's writer almost nothing (a
 * sample shows it incompressible and it goes into raw blocks), so its text
 * half bounds the writer: on N cores the writer cannot pass 2 * N times
 * zstd's one-core rate on the text, whatever cairn does around it (the
 * checksum, the copy, the fsync only add to that). The bench prints
 * cairn's throughput as a ratio to that bound, so that a figure from a
 * slower CPU is not read as a slower cairn.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zstd.h>

#include "bench_trun.h"
#include "bench_zref.h"

#define PIECE (512u << 10) /* the text of one halftext MiB */

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int zref_level(const char *spec)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    return colon ? atoi(colon + 1) : 1;
}

/* One pass over text: seconds, the compressed bytes in *packed; < 0 on failure. */
static double one_pass(ZSTD_CCtx *cx, int level, const char *text, size_t bytes,
                       char *dst, size_t cap, size_t *packed)
{
    double t0 = seconds();
    *packed = 0;
    for (size_t off = 0; off < bytes; off += PIECE) {
        size_t n = ZSTD_compressCCtx(cx, dst, cap, text + off, PIECE, level);
        if (ZSTD_isError(n)) {
            fprintf(stderr, "cairn-bench-transparent: zstd reference: %s\n", ZSTD_getErrorName(n));
            return -1;
        }
        *packed += n;
    }
    return seconds() - t0;
}

int zref_measure(int level, size_t bytes, int reps, struct zref *out)
{
    bytes = bytes / PIECE * PIECE;
    size_t cap = ZSTD_compressBound(PIECE);
    char *text = malloc(bytes), *dst = malloc(cap);
    ZSTD_CCtx *cx = ZSTD_createCCtx();
    int rc = -1;
    if (!text || !dst || !cx || bytes == 0) {
        fprintf(stderr, "cairn-bench-transparent: zstd reference: out of memory\n");
        goto out;
    }
    uint64_t x = 88172645463325252ull;
    for (size_t off = 0; off < bytes; off += PIECE)
        bench_fill_text(text + off, PIECE, &x);
    double best = 0;
    size_t packed = 0;
    for (int i = 0; i < reps; i++) {
        double t = one_pass(cx, level, text, bytes, dst, cap, &packed);
        if (t < 0)
            goto out;
        if (best == 0 || t < best)
            best = t;
    }
    out->rate = (double)bytes / best;
    out->ratio = (double)packed / (double)bytes;
    rc = 0;
out:
    ZSTD_freeCCtx(cx);
    free(dst);
    free(text);
    return rc;
}
