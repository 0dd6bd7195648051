/* SPDX-License-Identifier: MIT */
/*
 * bench_step.c — what cairn_step() costs when no checkpoint is due, in ns
 * per call, next to an empty loop and a bare
 * clock_gettime(CLOCK_MONOTONIC_COARSE) (the clock the time policy reads).
 *
 * Each loop runs --calls iterations (default 100M), --reps times (default
 * 5); min and median are printed. The loops cannot be optimised away: the
 * empty loop's counter passes through an asm barrier, the clock readings
 * and cairn_step()'s results are accumulated and checked.
 *
 * Benchmarks only print; nothing here decides pass or fail of CI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "cairn.h"

static double loop_empty(uint64_t n)
{
    double t0 = bench_now();
    for (uint64_t i = 0; i < n; i++)
        __asm__ volatile("" : "+r"(i)); /* the compiler must keep every iteration */
    return bench_now() - t0;
}

static double loop_clock(uint64_t n)
{
    struct timespec ts;
    uint64_t acc = 0;
    double t0 = bench_now();
    for (uint64_t i = 0; i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        acc += (uint64_t)ts.tv_nsec;
    }
    double t = bench_now() - t0;
    __asm__ volatile("" : : "r"(acc));
    return t;
}

/* Returns the seconds, or -1 if cairn_step() ever did something. */
static double loop_step(cairn_t *c, uint64_t n)
{
    int acc = 0;
    double t0 = bench_now();
    for (uint64_t i = 0; i < n; i++)
        acc |= cairn_step(c);
    double t = bench_now() - t0;
    return acc == 0 ? t : -1;
}

static int open_store(const char *dir, int policy, cairn_t **out)
{
    cairn_options_t o;
    cairn_options_init(&o);
    o.policy = policy;
    o.interval = 1e7;            /* about 4 months: never due in this run */
    o.every_steps = 1ull << 60;  /* never due either */
    o.verbose = -1;
    int rc = cairn_open(out, dir, &o);
    if (rc == 0 && (rc = cairn_restore(*out)) > 0)
        rc = CAIRN_ESTATE; /* a fresh store cannot hold an image */
    if (rc < 0) {
        fprintf(stderr, "cairn-bench-step: cannot open a store in %s: %s\n", dir,
                cairn_strerror(rc));
        cairn_close(*out);
    }
    return rc;
}

static void report(const char *what, const struct bench_runs *r, uint64_t n, double base)
{
    double mn = bench_min(r) / (double)n * 1e9, med = bench_median(r) / (double)n * 1e9;
    printf("%-40s %8.2f %8.2f", what, med, mn);
    if (base > 0)
        printf(" %10.2f", mn - base);
    printf("\n");
}

/* Times cairn_step() with one policy and prints its row; 0 or -1. */
static int bench_policy(const char *dir, int policy, uint64_t n, int reps, double base)
{
    cairn_t *c;
    if (open_store(dir, policy, &c) < 0)
        return -1;
    struct bench_runs r = {0};
    for (int i = 0; i < reps; i++) {
        double t = loop_step(c, n);
        if (t < 0) {
            fprintf(stderr, "cairn-bench-step: cairn_step() did not return 0\n");
            cairn_close(c);
            return -1;
        }
        bench_add(&r, t);
    }
    cairn_close(c);
    report(policy == CAIRN_POLICY_STEPS ? "cairn_step(), steps policy (no clock)"
                                        : "cairn_step(), time policy (coarse clock)",
           &r, n, base);
    return 0;
}

static int parse_args(int argc, char **argv, uint64_t *n, int *reps)
{
    static const struct option opts[] = {{"calls", required_argument, 0, 'n'},
                                         {"reps", required_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'n' && bench_parse_size(optarg, n) == 0)
            continue;
        if (o == 'r' && (*reps = atoi(optarg)) >= 1 && *reps <= BENCH_MAX_REPS)
            continue;
        fprintf(o == 'h' ? stdout : stderr,
                "usage: cairn-bench-step [--calls N] [--reps N]\n"
                "  --calls N  calls per timed loop (default 100000000)\n"
                "  --reps N   timed loops per row (default 5)\n");
        exit(o == 'h' ? 0 : 2);
    }
    return optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
    uint64_t n = 100000000;
    int reps = 5;
    if (parse_args(argc, argv, &n, &reps) < 0)
        return 2;
    unsetenv("CAIRN_INTERVAL");
    unsetenv("CAIRN_STEPS");
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/cairn-bench-step-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "cairn-bench-step: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char store[PATH_MAX + 16];
    snprintf(store, sizeof store, "%s/store", dir);

    struct bench_runs empty = {0}, clk = {0};
    for (int i = 0; i < reps; i++) {
        bench_add(&empty, loop_empty(n));
        bench_add(&clk, loop_clock(n));
    }
    printf("cairn-bench-step: libcairn %s, %llu calls x %d reps, ns per call\n",
           cairn_version_string(), (unsigned long long)n, reps);
    printf("%-40s %8s %8s %10s\n", "loop", "median", "min", "min-empty");
    report("empty loop", &empty, n, 0);
    double base = bench_min(&empty) / (double)n * 1e9;
    report("clock_gettime(CLOCK_MONOTONIC_COARSE)", &clk, n, base);
    int rc = bench_policy(store, CAIRN_POLICY_TIME, n, reps, base);
    if (rc == 0)
        rc = bench_policy(store, CAIRN_POLICY_STEPS, n, reps, base);

    char lock[PATH_MAX + 32];
    snprintf(lock, sizeof lock, "%s/lock", store);
    unlink(lock);
    rmdir(store);
    if (rmdir(dir) < 0)
        fprintf(stderr, "cairn-bench-step: cannot remove %s: %s\n", dir, strerror(errno));
    return rc < 0 ? 1 : 0;
}
