/* SPDX-License-Identifier: MIT */
/*
 * bench_incr.c — cairn-bench-incr: what an incremental checkpoint costs
 * next to a full one (issue 13's target: with 1% of the pages written since
 * the previous checkpoint, <= 3% of the full image's bytes and <= 5% of its
 * time), measured in one run on one directory.
 *
 * The job is this program run as `--job MIB PERMILLE`: MIB MiB of xorshift
 * contents (incompressible), then, each time a byte arrives on its stdin,
 * it writes one word in each of PERMILLE thousandths of its pages (random,
 * distinct) and answers on stdout. For each of two runs of `cairn run -v`,
 * CAIRN_FULL_EVERY=1 (every image full) and CAIRN_FULL_EVERY=8 (deltas), the
 * benchmark takes a first checkpoint, then REPS times: the job writes its
 * pages, cairn checkpoints (SIGUSR1), and cairn's own line gives the image's
 * bytes and the time from the request to the committed generation
 * ("durable after") and the pause. Each round starts --settle seconds
 * (3) after the previous commit. Rows: full, incremental, their ratio.
 * --tree runs the job under bash (bash -c 'JOB; exit $?': bash forks it and
 * waits), so each checkpoint is a process tree's: bash's image and the
 * job's member image, both deltas in the incremental run. --each prints
 * cairn's line for every checkpoint (a run's first delta is not staged).
 * Benchmarks only print; nothing here decides pass or fail of CI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define ME "cairn-bench-incr"
#define PAGE 4096u

struct run {
    pid_t pid;
    int in, out, err;        /* the job's stdin, stdout; cairn's stderr */
    char buf[8192];
    size_t len;
};

static int job_main(char **argv)
{
    uint64_t mib = strtoull(argv[2], NULL, 10), permille = strtoull(argv[3], NULL, 10);
    uint64_t pages = mib << 8, words = mib << 17, x = 88172645463325252ull;
    uint64_t *m = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *hit = calloc(pages, 1);
    if (m == MAP_FAILED || !hit || permille > 1000)
        return 1;
    for (uint64_t i = 0; i < words; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        m[i] = x;
    }
    char c;
    if (write(1, "r", 1) != 1)
        return 1;
    for (uint64_t round = 1; read(0, &c, 1) == 1; round++) {
        uint64_t n = pages * permille / 1000;
        for (uint64_t k = 0; k < n;) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint64_t p = x % pages;
            if (hit[p] == (unsigned char)round)
                continue;
            hit[p] = (unsigned char)round;
            m[p * (PAGE / 8)] += round;
            k++;
        }
        if (write(1, "d", 1) != 1)
            return 1;
    }
    return 0;
}

/* --tree: the job under bash (docs/TRANSPARENT.md, "Process trees"). */
static int tree;

static int spawn(struct run *r, const char *cairn, const char *self, const char *store,
                 uint64_t mib, unsigned permille, int full)
{
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
        return -1;
    char a[32], b[32];
    snprintf(a, sizeof a, "%" PRIu64, mib);
    snprintf(b, sizeof b, "%u", permille);
    r->pid = fork();
    if (r->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        setenv("CAIRN_FULL_EVERY", full ? "1" : "8", 1);
        if (tree) /* bash waiting for the job, as a wrapper script does: a tree */
            execl(cairn, "cairn", "run", "-v", "--interval", "100000", "--store", store, "--",
                  "/bin/bash", "-c", "\"$0\" --job \"$1\" \"$2\"; exit $?", self, a, b,
                  (char *)NULL);
        else
            execl(cairn, "cairn", "run", "-v", "--interval", "100000", "--store", store, "--",
                  self, "--job", a, b, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    r->in = in[1], r->out = out[0], r->err = err[0], r->len = 0;
    return r->pid < 0 ? -1 : 0;
}

/* One byte from the job's stdout. */
static int job_says(struct run *r, char want)
{
    char c;
    struct pollfd p = {r->out, POLLIN, 0};
    if (poll(&p, 1, 600000) != 1 || read(r->out, &c, 1) != 1 || c != want) {
        fprintf(stderr, "%s: the job did not answer\n", ME);
        return -1;
    }
    return 0;
}

/* --each: every checkpoint's own line from cairn on stderr (the pause's
   parts: what was copied, the image's bytes). */
static int each;

/* Asks cairn for a checkpoint and reads its "committed" line. */
static int checkpoint(struct run *r, uint64_t *bytes, double *durable, double *paused)
{
    kill(r->pid, SIGUSR1);
    for (;;) {
        char *nl;
        while (!(nl = memchr(r->buf, '\n', r->len))) {
            struct pollfd p = {r->err, POLLIN, 0};
            ssize_t n = poll(&p, 1, 600000) == 1
                            ? read(r->err, r->buf + r->len, sizeof r->buf - r->len) : -1;
            if (n <= 0) {
                fprintf(stderr, "%s: cairn run ended before the checkpoint\n", ME);
                return -1;
            }
            r->len += (size_t)n;
        }
        *nl = 0;
        unsigned long long gen, b;
        double pause, ms;
        int got = sscanf(r->buf, "cairn: checkpoint %llu committed (%llu bytes): job paused %lf "
                         "ms, durable after %lf ms", &gen, &b, &pause, &ms);
        if (each && got == 4)
            fprintf(stderr, "%s\n", r->buf);
        if (strstr(r->buf, "not taken"))
            fprintf(stderr, "%s: %s\n", ME, r->buf);
        size_t used = (size_t)(nl + 1 - r->buf);
        memmove(r->buf, nl + 1, r->len - used);
        r->len -= used;
        if (got == 4) {
            *bytes = b;
            *durable = ms / 1e3;
            *paused = pause / 1e3;
            return 0;
        }
    }
}

static void stop(struct run *r)
{
    close(r->in);
    kill(r->pid, SIGTERM);
    waitpid(r->pid, NULL, 0);
    close(r->out);
    close(r->err);
}

/* Seconds to wait before each round: the previous writer child tears its
   copy of the job's page tables down after its report, which on a small
   machine slows the job's next fork; checkpoints minutes apart never meet it. */
static unsigned settle = 3;

/* A run: a first checkpoint, then reps of (write pages, checkpoint). */
static int measure(const char *cairn, const char *self, const char *dir, uint64_t mib,
                   unsigned permille, int reps, int full, struct bench_runs *t,
                   struct bench_runs *p, double *bytes)
{
    char store[PATH_MAX], cmd[PATH_MAX + 16];
    snprintf(store, sizeof store, "%s/cairn-bench-incr-%ld-%d", dir, (long)getpid(), full);
    struct run r;
    if (spawn(&r, cairn, self, store, mib, permille, full) < 0 || job_says(&r, 'r') < 0)
        return -1;
    uint64_t b;
    double d, pause, sum = 0;
    int rc = checkpoint(&r, &b, &d, &pause);
    for (int i = 0; rc == 0 && i < reps; i++) {
        sleep(settle);
        rc = write(r.in, "x", 1) == 1 && job_says(&r, 'd') == 0 ? checkpoint(&r, &b, &d, &pause)
                                                                 : -1;
        if (rc == 0) {
            bench_add(t, d);
            bench_add(p, pause);
            sum += (double)b;
        }
    }
    *bytes = sum / reps;
    stop(&r);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", store);
    if (system(cmd) != 0)
        fprintf(stderr, "%s: could not remove %s\n", ME, store);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--job"))
        return job_main(argv);
    uint64_t size = 1ull << 30;
    unsigned permille = 10;
    int reps = 3;
    const char *t = getenv("TMPDIR");
    char dir[PATH_MAX], cairn[PATH_MAX], self[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", t && *t ? t : "/tmp");
    bench_beside_me(cairn, sizeof cairn, "cairn");
    bench_beside_me(self, sizeof self, "cairn-bench-incr");
    static const struct option opts[] = {
        {"size", required_argument, 0, 's'}, {"reps", required_argument, 0, 'r'},
        {"dir", required_argument, 0, 'd'}, {"permille", required_argument, 0, 'p'},
        {"cairn", required_argument, 0, 'C'}, {"settle", required_argument, 0, 'S'},
        {"tree", no_argument, 0, 'T'}, {"each", no_argument, 0, 'E'}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (o) {
        case 's': bad = bench_parse_size(optarg, &size) || size < (1u << 20); break;
        case 'r': reps = atoi(optarg); bad = reps < 1 || reps > BENCH_MAX_REPS; break;
        case 'd': snprintf(dir, sizeof dir, "%s", optarg); break;
        case 'p': permille = (unsigned)atoi(optarg); bad = permille > 1000; break;
        case 'C': snprintf(cairn, sizeof cairn, "%s", optarg); break;
        case 'S': settle = (unsigned)atoi(optarg); break;
        case 'T': tree = 1; break;
        case 'E': each = 1; break;
        default: bad = 1; break;
        }
        if (bad) {
            fprintf(stderr, "usage: %s [--size SIZE (1G)] [--reps N (3)] [--permille P (10)] "
                    "[--settle SECS (3)] [--dir DIR] [--cairn PATH] [--tree] [--each]\n", ME);
            return 2;
        }
    }
    struct bench_runs full = {0}, incr = {0}, full_pause = {0}, incr_pause = {0};
    double full_bytes = 0, incr_bytes = 0;
    uint64_t mib = size >> 20;
    if (measure(cairn, self, dir, mib, permille, reps, 1, &full, &full_pause, &full_bytes) < 0 ||
        measure(cairn, self, dir, mib, permille, reps, 0, &incr, &incr_pause, &incr_bytes) < 0)
        return 1;
    char sz[32], load[64];
    bench_loadavg(load, sizeof load);
    printf("\ncairn run%s, %s touched, %.1f%% of the pages written between checkpoints, %d reps, "
           "in %s; load %s\n", tree ? " (under bash: a tree)" : "", bench_size_str(size, sz, sizeof sz),
           permille / 10.0, reps, dir, load);
    printf("durable: from cairn's request to the committed generation; pause: the job stopped "
           "(of it)\n");
    printf("%-24s %12s %10s %10s %10s %10s\n", "", "bytes", "median s", "min s", "pause med",
           "pause min");
    printf("%-24s %12.0f %10.3f %10.3f %10.3f %10.3f\n", "full checkpoint", full_bytes,
           bench_median(&full), bench_min(&full), bench_median(&full_pause), bench_min(&full_pause));
    printf("%-24s %12.0f %10.3f %10.3f %10.3f %10.3f\n", "incremental checkpoint", incr_bytes,
           bench_median(&incr), bench_min(&incr), bench_median(&incr_pause), bench_min(&incr_pause));
    printf("%-24s %11.2f%% %9.2f%% %9.2f%%   (targets: 3%% of the bytes, 5%% of the time)\n",
           "incremental / full", 100 * incr_bytes / full_bytes,
           100 * bench_median(&incr) / bench_median(&full), 100 * bench_min(&incr) / bench_min(&full));
    return 0;
}
