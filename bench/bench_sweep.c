/* SPDX-License-Identifier: MIT */
/*
 * bench_sweep.c — the time to full speed after a restore (issue 13).
 *
 * The job sweeps its whole state (adds 1 to every word, a memory-bound pass
 * like a stencil's) and reports the end of each 1/SWEEP_SLICES of a pass on
 * its stdout, which after a restore is the new `cairn run`'s pipe to the
 * benchmark (a pipe stdout is left to the job: docs/TRANSPARENT.md,
 * *Committed output*). So every report read after a restore was written by
 * the restored job, and its times say when it ran and how fast:
 *   first slice   the job's first report: it ran its first instruction at
 *                 most one slice (of a pass at full speed, longer while its
 *                 pages are still being faulted in) before
 *   full speed    the start of the first stretch of SWEEP_SLICES slices
 *                 (one pass's work, from any slice on) that took at most
 *                 SWEEP_TOLERANCE times the steady pass of the same
 *                 repetition's uninterrupted job
 *   first pass    the first whole pass after the first report
 * The benchmark waits on the reports (poll on the pipe), never on a clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_ckpt.h" /* bench_remove_dir */
#include "bench_sweep.h"

#define ME program_invocation_short_name
#define WATCH_PASSES 40   /* passes watched at most after a restore */
#define STEADY_PASSES 5   /* passes of the fresh job timed, after one more */
#define TIMEOUT 300.0     /* seconds for one restore's watch */

void sweep_job(uint64_t *m, uint64_t n, pid_t bench)
{
    uint64_t per = n / SWEEP_SLICES;
    for (;;)
        for (int s = 0; s < SWEEP_SLICES; s++) {
            uint64_t *p = m + (uint64_t)s * per, *end = s == SWEEP_SLICES - 1 ? m + n : p + per;
            for (; p < end; p++)
                *p += 1;
            __asm__ volatile("" ::: "memory"); /* the stores are done here */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            char line[40];
            int len = snprintf(line, sizeof line, "s %llu\n",
                               (unsigned long long)ts.tv_sec * 1000000000ull +
                                   (unsigned long long)ts.tv_nsec);
            if (write(1, line, (size_t)len) != len || getppid() == bench)
                return;
        }
}

/* The job's reports as they arrive on cairn run's stdout. */
struct reports {
    int fd;
    char buf[4096];
    size_t len;
};

/* The next slice's end in seconds on bench_now()'s clock: 0, or -1 at end
   of file, on a bad line, or at the deadline. */
static int next_report(struct reports *r, double deadline, double *t)
{
    for (;;) {
        char *nl = memchr(r->buf, '\n', r->len);
        if (nl) {
            unsigned long long ns;
            *nl = 0;
            int ok = sscanf(r->buf, "s %llu", &ns) == 1;
            size_t used = (size_t)(nl - r->buf) + 1;
            if (!ok)
                fprintf(stderr, "%s: not a report of the sweeping job: '%s'\n", ME, r->buf);
            memmove(r->buf, nl + 1, r->len - used);
            r->len -= used;
            *t = (double)ns * 1e-9;
            return ok ? 0 : -1;
        }
        double left = deadline - bench_now();
        struct pollfd p = {r->fd, POLLIN, 0};
        int rc = left > 0 && r->len < sizeof r->buf ? poll(&p, 1, (int)(left * 1000) + 1) : 0;
        if (rc < 0 && errno == EINTR)
            continue;
        ssize_t n = rc > 0 ? read(r->fd, r->buf + r->len, sizeof r->buf - r->len) : -1;
        if (n <= 0) {
            fprintf(stderr, "%s: the sweeping job stopped reporting\n", ME);
            return -1;
        }
        r->len += (size_t)n;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The fresh job's steady pass: the median of STEADY_PASSES passes after a
   first one. -1 on error. */
static double steady_pass(struct trun *t)
{
    struct reports r = {.fd = t->out_fd};
    double deadline = bench_now() + TIMEOUT, prev = 0, e, pass[STEADY_PASSES];
    for (int i = 0; i <= STEADY_PASSES * SWEEP_SLICES; i++) {
        if (next_report(&r, deadline, &e) < 0)
            return -1;
        if (i % SWEEP_SLICES == 0 && i)
            pass[i / SWEEP_SLICES - 1] = e - prev;
        if (i % SWEEP_SLICES == 0)
            prev = e;
    }
    qsort(pass, STEADY_PASSES, sizeof pass[0], cmp_double);
    return pass[STEADY_PASSES / 2];
}

/* Watches the restored job's reports (t0: the start of cairn run) until a
   pass-long stretch runs within the tolerance of steady; records it in x. */
static int watch_restored(struct trun *t, double t0, double steady, struct sweep_runs *x)
{
    struct reports r = {.fd = t->out_fd};
    int cap = WATCH_PASSES * SWEEP_SLICES;
    double *e = malloc((size_t)cap * sizeof *e), deadline = bench_now() + TIMEOUT;
    int rc = e ? 0 : -1, j;
    for (j = 0; rc == 0 && j < cap; j++) {
        if ((rc = next_report(&r, deadline, &e[j])) < 0)
            break;
        e[j] -= t0;
        if (j == 0)
            bench_add(&x->first, e[0]);
        if (j == SWEEP_SLICES)
            bench_add(&x->first_pass, e[j] - e[0]);
        if (j >= SWEEP_SLICES && e[j] - e[j - SWEEP_SLICES] <= SWEEP_TOLERANCE * steady) {
            bench_add(&x->full, e[j - SWEEP_SLICES]);
            break;
        }
    }
    if (rc == 0 && j == cap)
        x->not_reached++;
    bench_add(&x->steady, steady);
    free(e);
    return rc;
}

/* One restore, mapped or copied, watched, then SIGTERM. */
static int restore_watch(struct trun *t, int map, double steady, struct sweep_runs *x)
{
    if (map)
        setenv("CAIRN_RESTORE_MAP", "1", 1);
    else
        unsetenv("CAIRN_RESTORE_MAP");
    double verify, running, t0 = bench_now();
    struct tckpt k;
    int rc = trun_start_restore(t, &verify, &running);
    if (rc == 0) {
        bench_add(&x->running, running);
        rc = watch_restored(t, t0, steady, x) == 0 ? trun_stop(t, &k) : (trun_kill(t), -1);
    }
    return rc;
}

static int one_rep(struct trun *t, int idle, struct sweep_results *r)
{
    struct tckpt k;
    if (access(t->store, F_OK) == 0)
        bench_remove_dir(t->store); /* a fresh job: the last repetition's images go */
    if (trun_start_fresh(t) < 0)
        return -1;
    double steady = steady_pass(t);
    if (steady <= 0 || trun_stop(t, &k) < 0) {
        trun_kill(t);
        return -1;
    }
    bench_add(&r->steady, steady);
    for (int map = 0; map < 2; map++) {
        if (restore_watch(t, map, steady, map ? &r->map : &r->copy) < 0)
            return -1;
        if (!idle)
            continue;
        sleep((unsigned)idle); /* the condition measured, not a synchronisation */
        if (restore_watch(t, map, steady, map ? &r->map_idle : &r->copy_idle) < 0)
            return -1;
    }
    return 0;
}

int sweep_rows(const struct trun *proto, int reps, int idle, struct sweep_results *r)
{
    const char *was = getenv("CAIRN_RESTORE_MAP");
    char saved[64];
    snprintf(saved, sizeof saved, "%s", was ? was : "");
    struct trun *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    *t = (struct trun){.cairn = proto->cairn, .self = proto->self, .store = proto->store,
                       .mib = proto->mib, .verbose = proto->verbose, .sweep = 1};
    r->passes = WATCH_PASSES;
    int rc = 0;
    for (int i = 0; rc == 0 && i < reps; i++)
        rc = one_rep(t, idle, r);
    free(t);
    if (was)
        setenv("CAIRN_RESTORE_MAP", saved, 1);
    else
        unsetenv("CAIRN_RESTORE_MAP");
    return rc;
}
