/* SPDX-License-Identifier: MIT */
/*
 * bench_util.h — small helpers shared by cairn's benchmarks: a monotonic
 * clock, median/min of repeated runs, and parsing of sizes like "16M".
 * Benchmarks print numbers for people; they never decide CI pass/fail.
 */
#ifndef CAIRN_BENCH_UTIL_H
#define CAIRN_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_REPS 64

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* Repeated timings of one measurement, in seconds. */
struct bench_runs {
    double t[BENCH_MAX_REPS];
    int n;
};

void bench_add(struct bench_runs *r, double seconds);
double bench_min(const struct bench_runs *r);
double bench_median(const struct bench_runs *r);
double bench_max(const struct bench_runs *r);

/* Parses "123", "16K", "16M", "1G", "4G" (binary units) into *out.
   Returns 0, or -1 if the text is not a size. */
int bench_parse_size(const char *text, uint64_t *out);

/* Parses a comma-separated list of sizes ("256M,1G,4G") into out, at
   most cap of them. Returns how many, or -1 if one is not a size, there
   are more than cap, or none. */
int bench_parse_sizes(const char *list, uint64_t *out, int cap);

/* Formats a size as "16 MiB" / "1 GiB" into buf. */
const char *bench_size_str(uint64_t bytes, char *buf, size_t len);

/* MemAvailable from /proc/meminfo in bytes, or 0 if unknown. */
uint64_t bench_mem_available(void);

/* The three load averages from /proc/loadavg, or "?". */
void bench_loadavg(char *buf, size_t len);

/* The path of `name` in this program's directory, into out. */
void bench_beside_me(char *out, size_t len, const char *name);

#endif
