/* SPDX-License-Identifier: MIT */
/* bench_util.c — clock, statistics and size parsing for the benchmarks. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_add(struct bench_runs *r, double seconds)
{
    if (r->n < BENCH_MAX_REPS)
        r->t[r->n++] = seconds;
}

double bench_min(const struct bench_runs *r)
{
    double m = r->n ? r->t[0] : 0;
    for (int i = 1; i < r->n; i++)
        if (r->t[i] < m)
            m = r->t[i];
    return m;
}

double bench_max(const struct bench_runs *r)
{
    double m = r->n ? r->t[0] : 0;
    for (int i = 1; i < r->n; i++)
        if (r->t[i] > m)
            m = r->t[i];
    return m;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(const struct bench_runs *r)
{
    if (r->n == 0)
        return 0;
    double s[BENCH_MAX_REPS];
    memcpy(s, r->t, (size_t)r->n * sizeof s[0]);
    qsort(s, (size_t)r->n, sizeof s[0], cmp_double);
    return r->n % 2 ? s[r->n / 2] : (s[r->n / 2 - 1] + s[r->n / 2]) / 2;
}

int bench_parse_size(const char *text, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (*end == 'i' && end[1] == 'B')
        end += 2;
    else if (*end == 'B')
        end++;
    if (*end != '\0' || v == 0 || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

const char *bench_size_str(uint64_t bytes, char *buf, size_t len)
{
    if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
        snprintf(buf, len, "%llu GiB", (unsigned long long)(bytes >> 30));
    else if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
        snprintf(buf, len, "%llu MiB", (unsigned long long)(bytes >> 20));
    else if (bytes >= (1ull << 10) && bytes % (1ull << 10) == 0)
        snprintf(buf, len, "%llu KiB", (unsigned long long)(bytes >> 10));
    else
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
    return buf;
}

uint64_t bench_mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return (uint64_t)kb << 10;
}

void bench_loadavg(char *buf, size_t len)
{
    snprintf(buf, len, "?");
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return;
    if (fgets(buf, (int)len, f)) {
        char *sp = buf;
        for (int i = 0; i < 3 && sp; i++)
            sp = strchr(sp + 1, ' ');
        if (sp)
            *sp = '\0';
    }
    fclose(f);
}

void bench_beside_me(char *out, size_t len, const char *name)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n < 0 ? 0 : n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    snprintf(out, len, "%s/%s", exe, name);
}

int bench_parse_sizes(const char *list, uint64_t *out, int cap)
{
    char buf[256];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (n == cap || bench_parse_size(t, &out[n++]) < 0)
            return -1;
    return n ? n : -1;
}
