/* SPDX-License-Identifier: MIT */
/* bench_zref.h — the machine's own zstd rate on the half-text job's text,
   the reference for cairn run --compress's writer throughput. */
#ifndef CAIRN_BENCH_ZREF_H
#define CAIRN_BENCH_ZREF_H

#include <stddef.h>

struct zref {
    double rate;     /* bytes of text per second, one thread, best of the reps */
    double rate_all; /* the same, `threads` threads at once, all their bytes */
    int threads;
    double ratio;    /* compressed / text bytes */
};

/* Compresses `bytes` of the job's text (bench_fill_text), in the 512 KiB
   pieces a halftext MiB holds, at zstd `level`: on one thread, then on
   `threads` at once (at most 8), reps times each: 0, or -1 if memory or
   zstd failed (said on stderr). */
int zref_measure(int level, size_t bytes, int threads, int reps, struct zref *out);

/* The zstd level of a --compress SPEC ("zstd": 1, "zstd:N": N). */
int zref_level(const char *spec);

#endif
