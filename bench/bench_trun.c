/* SPDX-License-Identifier: MIT */
/*
 * bench_trun.c — cairn-bench-transparent's driver of `cairn run -v`, and the
 * job it checkpoints.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_trun.h"
#include "bench_util.h"

#define TIMEOUT 300.0 /* seconds for any one step */

static int spawn(struct trun *t)
{
    int err[2], out[2];
    if (pipe2(err, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        perror("cairn-bench-transparent: pipe");
        return -1;
    }
    char mib[32], me[32];
    snprintf(mib, sizeof mib, "%" PRIu64, t->mib);
    snprintf(me, sizeof me, "%ld", (long)getpid());
    t->pid = fork();
    if (t->pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        execl(t->cairn, "cairn", "run", "-v", "--store", t->store, "--", t->self, "--job", mib,
              me, (char *)NULL);
        fprintf(stderr, "cairn-bench-transparent: cannot run %s: %s\n", t->cairn,
                strerror(errno));
        _exit(127);
    }
    close(err[1]);
    close(out[1]);
    t->err_fd = err[0];
    t->out_fd = out[0];
    t->len = 0;
    if (t->pid < 0) {
        perror("cairn-bench-transparent: fork");
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
            fprintf(stderr, "cairn-bench-transparent: cairn run said nothing for %.0f s\n",
                    TIMEOUT);
            return -1;
        }
        ssize_t n = read(t->err_fd, t->buf + t->len, sizeof t->buf - t->len);
        if (n <= 0)
            return -1;
        t->len += (size_t)n;
    }
}

/* Waits for a line containing `want`; lines of failure end the wait. */
static int expect(struct trun *t, const char *want, char *line, size_t cap)
{
    double deadline = bench_now() + TIMEOUT;
    while (next_line(t, line, cap, deadline) == 0) {
        if (strstr(line, want))
            return 0;
        if (strstr(line, "not taken") || strstr(line, "failed") || strstr(line, "corrupt")) {
            fprintf(stderr, "cairn-bench-transparent: cairn run: %s\n", line);
            return -1;
        }
    }
    fprintf(stderr, "cairn-bench-transparent: cairn run ended before '%s'\n", want);
    return -1;
}

int trun_start_fresh(struct trun *t)
{
    if (spawn(t) < 0)
        return -1;
    char c;
    if (wait_readable(t->out_fd, bench_now() + TIMEOUT) <= 0 || read(t->out_fd, &c, 1) != 1) {
        fprintf(stderr, "cairn-bench-transparent: the job did not start\n");
        trun_kill(t);
        return -1;
    }
    return 0;
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
    return 0;
fail:
    trun_kill(t);
    return -1;
}

static int checkpoint_line(struct trun *t, struct tckpt *c)
{
    char line[1024];
    if (expect(t, " committed (", line, sizeof line) < 0)
        return -1;
    unsigned long long gen, bytes;
    double pause_ms, durable_ms;
    if (sscanf(line, "cairn: checkpoint %llu committed (%llu bytes): job paused %lf ms, "
                     "durable after %lf ms", &gen, &bytes, &pause_ms, &durable_ms) != 4) {
        fprintf(stderr, "cairn-bench-transparent: cannot read '%s'\n", line);
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
        perror("cairn-bench-transparent: kill");
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
        fprintf(stderr, "cairn-bench-transparent: cairn run ended with status 0x%x, not 143\n",
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

/* xorshift64: incompressible contents, a different word in every page. */
int bench_job_main(uint64_t mib, pid_t bench)
{
    uint64_t n = mib << 17, x = 88172645463325252ull;
    uint64_t *m = mmap(NULL, n * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 1;
    for (uint64_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        m[i] = x;
    }
    if (write(1, "r", 1) != 1)
        return 1;
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (uint64_t i = 0;; i += 512) { /* one word per page, lightly */
        nanosleep(&tick, NULL);
        m[i % n]++;
        /* Orphaned (cairn killed, no pid namespace): we are the benchmark's
           child now. The benchmark gone: the write raises SIGPIPE. */
        if (getppid() == bench || (i % (512 * 100) == 0 && write(1, "", 1) != 1))
            return 0;
    }
}
