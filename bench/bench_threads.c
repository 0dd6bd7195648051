/* SPDX-License-Identifier: MIT */
/*
 * bench_threads.c — cairn-bench-threads: how the pause of `cairn run`
 * grows with the job's thread count, the state staying the same.
 *
 * For each thread count T (default 1, 2, 8, 64) a fresh job is run under
 * `cairn run -v`: this program as `--job MIB BENCHPID T TICK_US`, which maps
 * and fills SIZE (default 64 MiB) once and splits it into T page-aligned
 * slices, one per thread; every thread, the main one included, touches one
 * word per page of its own slice every TICK_US (default 1 ms; 0 = spin).
 * So memory does not change with T, only the threads do (plus their 1 MiB
 * stacks, a few pages of each touched).
 *
 * Each row takes N checkpoints (--reps, default 10) of its job, one at a
 * time, each after one repetition of the machine's limits on the same SIZE
 * (memcpy, naive and streamed write+fsync, as cairn-bench-transparent), and
 * reads cairn's "job paused" figure, which is the runtime's "PAUSE <ns>":
 * the time the job was stopped. Printed per row: median, min, max, the
 * ratio to the 1-thread row, and the growth per added thread in us.
 *
 * A checkpoint cairn does not take ("checkpoint not taken: the job has T
 * threads ...") ends that row, which then says so with cairn's reason; the
 * other rows go on. Benchmarks only print; nothing here decides pass or
 * fail of CI.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <getopt.h>

#include "bench_ckpt.h"
#include "bench_trun.h"
#include "bench_util.h"

#define MAX_COUNTS 16

struct config {
    char dir[PATH_MAX];       /* run directory (fresh subdirectory) */
    char cairn[PATH_MAX];
    char self[PATH_MAX];
    uint64_t size;
    int reps;
    long tick_us;
    int verbose;
    int interleave;
    int ncounts;
    int counts[MAX_COUNTS];
    struct bench_stream stream;
};

/* One thread count's checkpoints. */
struct count_row {
    int threads;
    struct bench_runs pause;
    char why[256];            /* cairn's reason if a checkpoint was not taken */
    int failed;               /* the run broke otherwise (said on stderr) */
    int live;                 /* its job is running */
    char store[PATH_MAX + 32];
    struct trun t;
};

struct results {
    struct bench_refs ref;
    struct count_row rows[MAX_COUNTS];
    char load_start[64];
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cairn-bench-threads [options]\n"
            "  --threads LIST  thread counts of the job (default 1,2,8,64)\n"
            "  --size SIZE     touched memory of the job, split among its threads\n"
            "                  (default 64M)\n"
            "  --reps N        checkpoints per thread count (default 10, at most %d)\n"
            "  --tick US       each thread's sleep between touches, microseconds\n"
            "                  (default 1000; 0: the threads spin)\n"
            "  --dir DIR       directory for the stores and the reference files (default\n"
            "                  $TMPDIR, else /tmp); a fresh subdirectory is made, removed\n"
            "  --interleave    run every job at once and checkpoint them in turn\n"
            "                  (default: one job after the other)\n"
            "  --cairn PATH    the cairn program (default: next to this one)\n"
            "  --verbose       echo cairn's messages\n",
            BENCH_MAX_REPS);
}

/* "1,2,8,64" into c->counts. 0 or -1. */
static int parse_counts(struct config *c, const char *text)
{
    c->ncounts = 0;
    for (const char *p = text; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 1024 || c->ncounts == MAX_COUNTS ||
            (*end && *end != ','))
            return -1;
        c->counts[c->ncounts++] = (int)v;
        p = *end ? end + 1 : end;
    }
    return c->ncounts ? 0 : -1;
}

static void defaults(struct config *c)
{
    const char *t = getenv("TMPDIR");
    snprintf(c->dir, sizeof c->dir, "%s", t && *t ? t : "/tmp");
    bench_beside_me(c->cairn, sizeof c->cairn, "cairn");
    bench_beside_me(c->self, sizeof c->self, "cairn-bench-threads");
    c->size = 64ull << 20;
    c->reps = 10;
    c->tick_us = 1000;
    parse_counts(c, "1,2,8,64");
    c->stream = (struct bench_stream){.chunk = 512u << 10, .window = 64ull << 20};
}

static int parse_args(struct config *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"threads", required_argument, 0, 't'}, {"size", required_argument, 0, 's'},
        {"reps", required_argument, 0, 'r'},    {"tick", required_argument, 0, 'k'},
        {"dir", required_argument, 0, 'd'},     {"cairn", required_argument, 0, 'C'},
        {"verbose", no_argument, 0, 'v'},       {"help", no_argument, 0, 'h'},
        {"interleave", no_argument, 0, 'i'},    {0, 0, 0, 0}};
    defaults(c);
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (o) {
        case 't': bad = parse_counts(c, optarg); break;
        case 's': bad = bench_parse_size(optarg, &c->size) || c->size < (1u << 20); break;
        case 'r': c->reps = atoi(optarg); bad = c->reps < 1 || c->reps > BENCH_MAX_REPS; break;
        case 'k': c->tick_us = atol(optarg); bad = c->tick_us < 0 || c->tick_us > 1000000; break;
        case 'd': snprintf(c->dir, sizeof c->dir, "%s", optarg); break;
        case 'C': snprintf(c->cairn, sizeof c->cairn, "%s", optarg); break;
        case 'v': c->verbose = 1; break;
        case 'i': c->interleave = 1; break;
        case 'h': usage(stdout); exit(0);
        default: bad = 1; break;
        }
        if (bad) {
            usage(stderr);
            return -1;
        }
    }
    for (int i = 0; i < c->ncounts; i++)
        if ((c->size >> 12) < (uint64_t)c->counts[i]) {
            fprintf(stderr, "cairn-bench-threads: %d threads need at least %d pages of state\n",
                    c->counts[i], c->counts[i]);
            return -1;
        }
    return optind == argc ? 0 : -1;
}

/* Starts the row's job, fresh, in its own store. */
static void row_start(const struct config *c, struct count_row *row)
{
    snprintf(row->store, sizeof row->store, "%s/store-%d", c->dir, row->threads);
    row->t = (struct trun){.cairn = c->cairn, .self = c->self, .store = row->store,
                           .mib = c->size >> 20, .threads = row->threads,
                           .tick_us = c->tick_us, .verbose = c->verbose, .refusal_ok = 1};
    row->live = trun_start_fresh(&row->t) == 0;
    row->failed = !row->live;
}

/* One repetition of the references, then one checkpoint of the row's job;
   a refused or broken checkpoint ends the row (its job is killed). */
static void row_step(const struct config *c, struct results *r, struct count_row *row,
                     void *src, void *dst)
{
    struct tckpt k;
    if (!row->live)
        return;
    if (io_references(c->dir, src, dst, c->size, &c->stream, &r->ref) == 0 &&
        trun_checkpoint(&row->t, &k) == 0) {
        bench_add(&row->pause, k.pause);
        return;
    }
    if (row->t.refused)
        snprintf(row->why, sizeof row->why, "%s", row->t.why);
    else
        row->failed = 1;
    trun_kill(&row->t);
    row->live = 0;
}

/* SIGTERM: a last checkpoint (not counted), cairn exits 143. */
static void row_stop(struct count_row *row)
{
    struct tckpt k;
    if (row->live && trun_stop(&row->t, &k) < 0)
        row->failed = 1;
    row->live = 0;
}

/* Row after row, one job at a time; or, interleaved, every job running and
   their checkpoints in turn (1, 2, 8, 64, 1, 2, ...), so that a change in
   the machine's load hits every row alike. */
static void run_rows(const struct config *c, struct results *r, void *src, void *dst)
{
    int n = c->ncounts;
    for (int i = 0; i < n; i++) {
        r->rows[i].threads = c->counts[i];
        row_start(c, &r->rows[i]);
        for (int k = 0; !c->interleave && k < c->reps; k++)
            row_step(c, r, &r->rows[i], src, dst);
        if (!c->interleave)
            row_stop(&r->rows[i]);
    }
    for (int k = 0; c->interleave && k < c->reps; k++)
        for (int i = 0; i < n; i++)
            row_step(c, r, &r->rows[i], src, dst);
    for (int i = 0; i < n; i++)
        row_stop(&r->rows[i]);
}

static void limit_row(const char *name, const struct bench_runs *x, const struct results *r)
{
    double md = bench_median(&r->ref.disk), mn = bench_min(&r->ref.disk);
    printf("%-28s %10.4f %10.4f %10.4f s  %7.2fx %7.2fx %8.2fx\n", name, bench_median(x),
           bench_min(x), bench_max(x), bench_median(x) / md, bench_min(x) / mn,
           bench_min(x) / bench_min(&r->ref.memcpy_));
}

/* The 1-thread row, if it has figures. */
static const struct count_row *base_row(const struct results *r, int n)
{
    for (int i = 0; i < n; i++)
        if (r->rows[i].threads == 1 && r->rows[i].pause.n > 0)
            return &r->rows[i];
    return NULL;
}

static void pause_row(const struct count_row *row, const struct count_row *base)
{
    char name[64];
    snprintf(name, sizeof name, "job pause, %d thread%s", row->threads,
             row->threads == 1 ? "" : "s");
    if (row->pause.n == 0) {
        if (row->why[0])
            printf("%-28s not taken: %s\n", name, row->why);
        else
            printf("%-28s no figures: the run failed (see above)\n", name);
        return;
    }
    double md = bench_median(&row->pause), mn = bench_min(&row->pause);
    printf("%-28s %10.3f %10.3f %10.3f ms", name, md * 1e3, mn * 1e3,
           bench_max(&row->pause) * 1e3);
    if (base && row != base) {
        double bmd = bench_median(&base->pause), bmn = bench_min(&base->pause);
        int added = row->threads - 1;
        printf(" %7.2fx %7.2fx %9.1f %9.1f", md / bmd, mn / bmn, (md - bmd) / added * 1e6,
               (mn - bmn) / added * 1e6);
    } else if (base) {
        printf(" %7.2fx %7.2fx %9s %9s", 1.0, 1.0, "-", "-");
    }
    printf("%s\n", row->failed ? "  (the run broke after these)" : "");
}

/* Least-squares slope of the median pause over the thread count, in us per
   thread, over the rows with figures; 0 if fewer than two. */
static double slope_us(const struct results *r, int n, int *rows)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (r->rows[i].pause.n == 0)
            continue;
        double x = r->rows[i].threads, y = bench_median(&r->rows[i].pause) * 1e6;
        sx += x, sy += y, sxx += x * x, sxy += x * y, m++;
    }
    *rows = m;
    double d = m * sxx - sx * sx;
    return m < 2 || d == 0 ? 0 : (m * sxy - sx * sy) / d;
}

static void table(const struct config *c, const struct results *r)
{
    char sz[32], load[64];
    bench_loadavg(load, sizeof load);
    printf("\ncairn run, pause by thread count: %s touched in all, split among the threads "
           "(job of %s), %d checkpoints per row, in %s\nload %s at start, %s at end\n",
           bench_size_str(c->size, sz, sizeof sz), c->self, c->reps, c->dir, r->load_start, load);
    const char *order = c->interleave ? "; the jobs interleaved" : "; one job at a time";
    if (c->tick_us)
        printf("each thread touches one word per page of its own slice every %ld us%s\n",
               c->tick_us, order);
    else
        printf("each thread touches one word per page of its own slice, spinning%s\n", order);
    printf("x disk = time / write+fsync (best of naive and streamed), median/median and "
           "min/min; x memcpy min/min\n");
    printf("%-28s %10s %10s %10s    %8s %8s %9s\n", "", "median", "min", "max", "x disk",
           "(min)", "x memcpy");
    if (r->ref.disk.n == 0)
        printf("(no reference measured)\n");
    else
        limit_row("memcpy", &r->ref.memcpy_, r);
    if (r->ref.disk.n > 0) {
        limit_row("write+fsync naive", &r->ref.naive, r);
        limit_row("write+fsync streamed", &r->ref.streamed, r);
        limit_row("disk limit (best of both)", &r->ref.disk, r);
    }
    printf("x 1 thr = pause / the 1-thread pause, median/median and min/min;\n"
           "us/thread = (pause - the 1-thread pause) / (threads - 1), median and min\n");
    printf("%-28s %10s %10s %10s    %8s %8s %9s %9s\n", "", "median", "min", "max",
           "x 1 thr", "(min)", "us/thread", "(min)");
    const struct count_row *base = base_row(r, c->ncounts);
    for (int i = 0; i < c->ncounts; i++)
        pause_row(&r->rows[i], base);
    int m;
    double s = slope_us(r, c->ncounts, &m);
    if (m >= 2)
        printf("growth per added thread: %.1f us (least-squares slope of the medians over "
               "%d rows; target < 50 us)\n", s, m);
    else
        printf("growth per added thread: not measured (fewer than two rows with figures)\n");
}

/* Makes the run's own directory under c->dir. 0 or -1. */
static int run_dir(struct config *c)
{
    char tmpl[PATH_MAX];
    if (snprintf(tmpl, sizeof tmpl, "%s/cairn-bench-th-XXXXXX", c->dir) >= (int)sizeof tmpl ||
        !mkdtemp(tmpl)) {
        perror("cairn-bench-threads: mkdtemp");
        return -1;
    }
    memcpy(c->dir, tmpl, sizeof c->dir);
    return 0;
}

int main(int argc, char **argv)
{
    if (bench_is_job(argc, argv))
        return bench_job_main(argc, argv);
    struct config c = {0};
    if (parse_args(&c, argc, argv) < 0)
        return 2;
    /* An orphaned job (cairn killed after a refusal or an error) becomes
       our child and, seeing us as its parent, exits. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (run_dir(&c) < 0)
        return 1;
    struct results *r = calloc(1, sizeof *r);
    struct bench_ref_bufs b = {0};
    int rc = r && io_ref_bufs(&b, c.size) == 0 ? 0 : 1;
    if (rc == 0) {
        bench_loadavg(r->load_start, sizeof r->load_start);
        run_rows(&c, r, b.src, b.dst);
        table(&c, r);
    }
    io_ref_bufs_free(&b);
    free(r);
    bench_remove_dir(c.dir);
    return rc;
}
