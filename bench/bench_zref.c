/* SPDX-License-Identifier: MIT */
/*
 * bench_zref.c — how fast this machine's zstd compresses the half-text
 * job's text, in the same run as cairn's compressed checkpoints.
 *
 * The half-text job's random half costs cairn's writer almost nothing (a
 * sample shows it incompressible and it goes into raw blocks), so its text
 * half bounds the writer: it cannot pass twice what zstd makes of the text
 * on as many threads as cairn's pool has, whatever cairn does around it
 * (the checksum, the copy, the fsync only add to that). The threads are
 * measured together, not one core's rate multiplied: two vCPUs of a VM may
 * be two hyperthreads of one core. The bench prints cairn's throughput as
 * a ratio to that bound, so that a figure from a slower CPU is not read as
 * a slower cairn.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zstd.h>

#include "bench_trun.h"
#include "bench_zref.h"

#define PIECE (512u << 10) /* the text of one halftext MiB */
#define MAX_THREADS 8

struct pass {
    const char *text;
    size_t bytes;
    int level;
    size_t packed; /* out: compressed bytes; 0 on failure */
};

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

/* One thread's pass over the text, piece by piece as cairn's workers go. */
static void *one_pass(void *arg)
{
    struct pass *p = arg;
    size_t cap = ZSTD_compressBound(PIECE);
    char *dst = malloc(cap);
    ZSTD_CCtx *cx = ZSTD_createCCtx();
    p->packed = 0;
    for (size_t off = 0; dst && cx && off < p->bytes; off += PIECE) {
        size_t n = ZSTD_compressCCtx(cx, dst, cap, p->text + off, PIECE, p->level);
        if (ZSTD_isError(n)) {
            fprintf(stderr, "cairn-bench-transparent: zstd reference: %s\n", ZSTD_getErrorName(n));
            p->packed = 0;
            break;
        }
        p->packed += n;
    }
    ZSTD_freeCCtx(cx);
    free(dst);
    return NULL;
}

/* threads passes at once: their wall time, or -1 if one failed. */
static double together(struct pass *p, int threads)
{
    pthread_t th[MAX_THREADS];
    int started = 0;
    double t0 = seconds();
    for (; started < threads - 1; started++)
        if (pthread_create(&th[started], NULL, one_pass, &p[started + 1]) != 0)
            break;
    one_pass(&p[0]);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    double t = seconds() - t0;
    for (int i = 0; i <= started; i++)
        if (p[i].packed == 0)
            return -1;
    return started == threads - 1 ? t : -1;
}

int zref_measure(int level, size_t bytes, int threads, int reps, struct zref *out)
{
    bytes = bytes / PIECE * PIECE;
    threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    char *text = malloc(bytes);
    if (!text || bytes == 0) {
        fprintf(stderr, "cairn-bench-transparent: zstd reference: out of memory\n");
        free(text);
        return -1;
    }
    uint64_t x = 88172645463325252ull;
    for (size_t off = 0; off < bytes; off += PIECE)
        bench_fill_text(text + off, PIECE, &x);
    struct pass p[MAX_THREADS];
    for (int i = 0; i < MAX_THREADS; i++)
        p[i] = (struct pass){.text = text, .bytes = bytes, .level = level};
    double one = 0, all = 0;
    int rc = 0;
    for (int i = 0; rc == 0 && i < reps; i++) {
        double t1 = together(p, 1), tn = together(p, threads);
        if (t1 < 0 || tn < 0)
            rc = -1;
        one = one == 0 || t1 < one ? t1 : one;
        all = all == 0 || tn < all ? tn : all;
    }
    if (rc == 0) {
        out->rate = (double)bytes / one;
        out->rate_all = (double)bytes * threads / all;
        out->threads = threads;
        out->ratio = (double)p[0].packed / (double)bytes;
    }
    free(text);
    return rc;
}
