/* SPDX-License-Identifier: MIT */
/*
 * bench_trun.c — the driver of `cairn run -v` shared by cairn-bench-transparent
 * and cairn-bench-threads, and the job they checkpoint.
 *
 * The figures come from cairn's own verbose lines ("checkpoint N committed
 * (B bytes): job paused X ms, durable after Y ms", "restoring IMAGE", "job
 * restored"), read from its stderr through a pipe; restore times are taken
 * here, from the fork of `cairn run` to the arrival of those lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_sweep.h"
#include "bench_trun.h"
#include "bench_util.h"

#define TIMEOUT 300.0 /* seconds for any one step */
#define ME program_invocation_short_name /* the benchmark running */

static int spawn(struct trun *t)
{
    int err[2], out[2];
    if (pipe2(err, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        fprintf(stderr, "%s: pipe: %s\n", ME, strerror(errno));
        return -1;
    }
    char mib[32], me[32], nthr[16], tick[24];
    snprintf(mib, sizeof mib, "%" PRIu64, t->mib);
    snprintf(me, sizeof me, "%ld", (long)getpid());
    snprintf(nthr, sizeof nthr, "%d", t->sweep ? 1 : t->threads);
    if (t->sweep)
        snprintf(tick, sizeof tick, "sweep");
    else
        snprintf(tick, sizeof tick, "%ld", t->tick_us);
    t->pid = fork();
    if (t->pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        char *argv[16] = {"cairn", "run", "-v", "--store", (char *)t->store};
        int n = 5;
        if (t->compress)
            argv[n++] = "--compress", argv[n++] = (char *)t->compress;
        char *job[] = {"--", (char *)t->self, "--job", mib, me, nthr, tick, NULL};
        for (int i = 0; job[i] && (i < 5 || t->threads || t->sweep); i++)
            argv[n++] = job[i];
        argv[n] = NULL;
        execv(t->cairn, argv);
        fprintf(stderr, "%s: cannot run %s: %s\n", ME, t->cairn,
                strerror(errno));
        _exit(127);
    }
    close(err[1]);
    close(out[1]);
    t->err_fd = err[0];
    t->out_fd = out[0];
    t->len = 0;
    if (t->pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", ME, strerror(errno));
        t->pid = 0;
        return -1;
    }
    return 0;
}

/* Waits until fd is readable or the deadline passes: 1, 0 (timeout), -1. */
static int wait_readable(int fd, double deadline)
{
    for (;;) {
        double left = deadline - bench_now();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, (int)(left * 1000) + 1);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

/* Next line of cairn's stderr into line (without the newline): 0, or -1 at
   end of file or timeout. */
static int next_line(struct trun *t, char *line, size_t cap, double deadline)
{
    for (;;) {
        char *nl = memchr(t->buf, '\n', t->len);
        if (nl) {
            size_t n = (size_t)(nl - t->buf);
            snprintf(line, cap, "%.*s", (int)n, t->buf);
            memmove(t->buf, nl + 1, t->len - n - 1);
            t->len -= n + 1;
            if (t->verbose)
                fprintf(stderr, "  | %s\n", line);
            return 0;
        }
        if (t->len == sizeof t->buf)
            t->len = 0; /* an overlong line: drop it */
        if (wait_readable(t->err_fd, deadline) <= 0) {
            fprintf(stderr, "%s: cairn run said nothing for %.0f s\n", ME,
                    TIMEOUT);
            return -1;
        }
        ssize_t n = read(t->err_fd, t->buf + t->len, sizeof t->buf - t->len);
        if (n <= 0)
            return -1;
        t->len += (size_t)n;
    }
}

/* "checkpoint not taken: WHY": records WHY; 1 if the caller reports it. */
static int note_refusal(struct trun *t, const char *line)
{
    const char *why = strstr(line, "not taken");
    if (!why)
        return 0;
    why += strlen("not taken");
    why += strspn(why, ": ");
    snprintf(t->why, sizeof t->why, "%s", why);
    t->refused = 1;
    return t->refusal_ok;
}

/* Waits for a line containing `want`; lines of failure end the wait. */
static int expect(struct trun *t, const char *want, char *line, size_t cap)
{
    double deadline = bench_now() + TIMEOUT;
    t->refused = 0;
    while (next_line(t, line, cap, deadline) == 0) {
        if (strstr(line, want))
            return 0;
        if (strstr(line, "not taken") || strstr(line, "failed") || strstr(line, "corrupt")) {
            if (!note_refusal(t, line))
                fprintf(stderr, "%s: cairn run: %s\n", ME, line);
            return -1;
        }
    }
    fprintf(stderr, "%s: cairn run ended before '%s'\n", ME, want);
    return -1;
}

int trun_start_fresh(struct trun *t)
{
    if (spawn(t) < 0)
        return -1;
    char c;
    if (wait_readable(t->out_fd, bench_now() + TIMEOUT) <= 0 || read(t->out_fd, &c, 1) != 1) {
        fprintf(stderr, "%s: the job did not start\n", ME);
        trun_kill(t);
        return -1;
    }
    return 0;
}

/* utime + stime in seconds and the resident pages of process p; -1 if gone. */
static double proc_cpu(pid_t p, long *rss)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)p);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    const char *s = strrchr(buf, ')'); /* after the command name */
    unsigned long long ut, st;
    if (!s || sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
                            "%*d %*d %*d %*u %*u %ld", &ut, &st, rss) != 3)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The CPU time of the largest (by resident memory) descendant of root: the
   job, which the restorer became, so its time is the restore's. */
static double job_cpu(pid_t root)
{
    pid_t q[64];
    int n = 1;
    long best_rss = -1;
    double cpu = -1;
    q[0] = root;
    for (int i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", (long)q[i], (long)q[i]);
        FILE *f = fopen(path, "r");
        long c;
        while (f && n < 64 && fscanf(f, "%ld", &c) == 1)
            q[n++] = (pid_t)c;
        if (f)
            fclose(f);
        long rss = 0;
        double t = i ? proc_cpu(q[i], &rss) : -1;
        if (t >= 0 && rss > best_rss)
            best_rss = rss, cpu = t;
    }
    return cpu;
}

int trun_start_restore(struct trun *t, double *verify, double *total)
{
    char line[1024];
    double t0 = bench_now();
    if (spawn(t) < 0 || expect(t, "cairn: restoring ", line, sizeof line) < 0)
        goto fail;
    *verify = bench_now() - t0;
    if (expect(t, "job restored from generation", line, sizeof line) < 0)
        goto fail;
    *total = bench_now() - t0;
    t->restore_cpu = job_cpu(t->pid);
    return 0;
fail:
    trun_kill(t);
    return -1;
}

/* "cairn: checkpoint N compressed: RAW bytes to STORED (P%) in T ms ..." */
static int compressed_line(struct trun *t, struct tckpt *c)
{
    char line[1024];
    unsigned long long gen, raw, stored;
    double pct, ms;
    if (expect(t, " compressed: ", line, sizeof line) < 0)
        return -1;
    if (sscanf(line, "cairn: checkpoint %llu compressed: %llu bytes to %llu (%lf%%) in %lf ms",
               &gen, &raw, &stored, &pct, &ms) != 5) {
        fprintf(stderr, "%s: cannot read '%s'\n", ME, line);
        return -1;
    }
    c->raw = raw;
    c->stored = stored;
    c->pack = ms / 1e3;
    return 0;
}

static int checkpoint_line(struct trun *t, struct tckpt *c)
{
    char line[1024];
    if (t->compress && compressed_line(t, c) < 0)
        return -1;
    if (expect(t, " committed (", line, sizeof line) < 0)
        return -1;
    unsigned long long gen, bytes;
    double pause_ms, durable_ms;
    if (sscanf(line, "cairn: checkpoint %llu committed (%llu bytes): job paused %lf ms, "
                     "durable after %lf ms", &gen, &bytes, &pause_ms, &durable_ms) != 4) {
        fprintf(stderr, "%s: cannot read '%s'\n", ME, line);
        return -1;
    }
    c->pause = pause_ms / 1e3;
    c->durable = durable_ms / 1e3;
    c->bytes = bytes;
    return 0;
}

int trun_checkpoint(struct trun *t, struct tckpt *c)
{
    if (kill(t->pid, SIGUSR1) < 0) {
        fprintf(stderr, "%s: kill: %s\n", ME, strerror(errno));
        return -1;
    }
    return checkpoint_line(t, c);
}

int trun_stop(struct trun *t, struct tckpt *c)
{
    int st = 0;
    if (kill(t->pid, SIGTERM) < 0 || checkpoint_line(t, c) < 0 || waitpid(t->pid, &st, 0) < 0) {
        trun_kill(t);
        return -1;
    }
    t->pid = 0;
    close(t->err_fd);
    close(t->out_fd);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 128 + SIGTERM) {
        fprintf(stderr, "%s: cairn run ended with status 0x%x, not 143\n", ME,
                st);
        return -1;
    }
    return 0;
}

/* Reaps every child, waiting at most a few seconds. */
static void reap_all(double secs)
{
    double deadline = bench_now() + secs;
    while (bench_now() < deadline) {
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p < 0)
            return;
        if (p == 0)
            usleep(10000);
    }
}

void trun_kill(struct trun *t)
{
    if (t->pid > 0) {
        kill(t->pid, SIGKILL); /* the job, orphaned, sees us as parent and exits */
        t->pid = 0;
        close(t->err_fd);
        close(t->out_fd);
    }
    reap_all(5);
}

int bench_is_job(int argc, char **argv)
{
    return (argc == 4 || argc == 6) && !strcmp(argv[1], "--job");
}

/* One thread of the job: one word per page of its slice, a tick apart (or
   spinning); the main thread also watches for the end of the benchmark. */
struct job_slice {
    volatile uint64_t *m;
    uint64_t n;       /* words */
    long tick_us;
    pid_t bench;      /* main thread: the benchmark's pid; others 0 */
    pthread_t id;
};

/* The benchmark is gone or cairn died: time to end. */
static int job_orphaned(pid_t bench, uint64_t k)
{
    /* Orphaned (cairn killed, no pid namespace): we are the benchmark's
       child now. The benchmark gone: the write raises SIGPIPE. */
    return getppid() == bench || (k % 100 == 0 && write(1, "", 1) != 1);
}

static void *job_loop(void *arg)
{
    struct job_slice *s = arg;
    struct timespec tick = {s->tick_us / 1000000, (s->tick_us % 1000000) * 1000};
    uint64_t check = s->tick_us ? 1 : 4096; /* spinning: look less often */
    for (uint64_t i = 0, k = 0;; i += 512, k++) {
        if (s->tick_us)
            nanosleep(&tick, NULL);
        s->m[i % s->n]++;
        if (s->bench && k % check == 0 && job_orphaned(s->bench, k / check))
            return NULL;
    }
}

/* Starts threads - 1 threads on their slices (1 MiB stacks). 0 or -1. */
static int job_threads(struct job_slice *s, int threads)
{
    pthread_attr_t a;
    if (pthread_attr_init(&a) || pthread_attr_setstacksize(&a, 1u << 20))
        return -1;
    int rc = 0;
    for (int i = 1; i < threads && rc == 0; i++)
        rc = pthread_create(&s[i].id, &a, job_loop, &s[i]) ? -1 : 0;
    pthread_attr_destroy(&a);
    return rc;
}

/* First word of slice i of n words in `threads`, on a page boundary. */
static uint64_t slice_start(uint64_t n, int i, int threads)
{
    return n * (uint64_t)i / (uint64_t)threads & ~511ull;
}

/* Log-like text, as a job holds its own output or a parsed input: a step
   counter, words and numbers drawn from x. */
void bench_fill_text(char *p, size_t len, uint64_t *x)
{
    static const char *const w[16] = {"converged", "residual", "iteration", "energy",
                                      "pressure", "ok", "warning", "step", "temperature",
                                      "boundary", "mesh", "solver", "flux", "cell", "node",
                                      "time"};
    static uint64_t step;
    char line[160];
    for (size_t i = 0; i < len;) {
        *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
        int n = snprintf(line, sizeof line, "step %09llu %s %s=%.4f %s\n",
                         (unsigned long long)step++, w[*x & 15], w[(*x >> 4) & 15],
                         (double)((*x >> 8) & 0xfffff) / 1000.0, w[(*x >> 28) & 15]);
        size_t k = (size_t)n < len - i ? (size_t)n : len - i;
        memcpy(p + i, line, k);
        i += k;
    }
}

/* xorshift64: incompressible contents, a different word in every page;
   with CAIRN_BENCH_CONTENT=halftext the first half of every MiB is text. */
static void fill(uint64_t *m, uint64_t n)
{
    const char *content = getenv("CAIRN_BENCH_CONTENT");
    int half = content && !strcmp(content, "halftext");
    uint64_t x = 88172645463325252ull;
    for (uint64_t i = 0; i < n; i++) {
        if (half && (i & 0x1ffff) == 0) { /* a MiB begins: 512 KiB of text */
            bench_fill_text((char *)(m + i), 512u << 10, &x);
            i += (64u << 10) - 1;
            continue;
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        m[i] = x;
    }
}

int bench_job_main(int argc, char **argv)
{
    uint64_t n = strtoull(argv[2], NULL, 10) << 17;
    pid_t bench = (pid_t)atol(argv[3]);
    int sweep = argc == 6 && !strcmp(argv[5], "sweep");
    int threads = argc == 6 ? atoi(argv[4]) : 1;
    long tick_us = argc == 6 ? atol(argv[5]) : 10000;
    if (threads < 1 || threads > 1024 || tick_us < 0 || n < (uint64_t)threads * 512)
        return 2;
    uint64_t *m = mmap(NULL, n * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct job_slice *s = calloc((size_t)threads, sizeof *s);
    if (m == MAP_FAILED || !s)
        return 1;
    fill(m, n);
    if (sweep) {
        if (write(1, "r", 1) != 1)
            return 1;
        sweep_job(m, n, bench);
        return 0;
    }
    for (int i = 0; i < threads; i++) {
        uint64_t lo = slice_start(n, i, threads), hi = slice_start(n, i + 1, threads);
        s[i] = (struct job_slice){.m = m + lo, .n = hi - lo, .tick_us = tick_us};
    }
    s[0].bench = bench;
    if (job_threads(s, threads) < 0 || write(1, "r", 1) != 1)
        return 1;
    job_loop(&s[0]);
    return 0;
}
