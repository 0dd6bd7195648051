/* SPDX-License-Identifier: MIT */
/* tree_popen.c — a job reading a child command's output through popen().
   Usage: tree_popen N (N lines, ~0.25 ms of the parent's work each).

   The parent runs popen("exec PROG --child N", "r") (PROG: this program,
   as /proc/self/exe names it; popen's sh execs it, so the child is one
   process) and reads its lines one by one with fgets(), doing work on each
   and printing "popen: step I of N" every 2% (progress.h). The child
   writes "item K V" lines, V from its own generator, a little work per
   line: it is far ahead of the parent, so the pipe is full and the child
   blocked in write() at almost every moment, lines in flight at each
   checkpoint. Then pclose(): the child's exit status (7) is printed.
   finish_gate() before the last output. Exits 3 if a line is not the
   one expected, 4 if the child's status is wrong. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "progress.h"

static uint64_t step(uint64_t x, long iters)
{
    for (long j = 0; j < iters; j++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
    return x;
}

static int child(long n)
{
    uint64_t v = 1;
    for (long k = 1; k <= n; k++) {
        v = step(v, 2000);
        printf("item %ld %" PRIu64 "\n", k, v);
    }
    return fflush(stdout) == 0 ? 7 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--child") == 0)
        return child(atol(argv[2]));
    long n = argc > 1 ? atol(argv[1]) : 20000;
    char cmd[4200], self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return 2;
    self[len] = 0;
    snprintf(cmd, sizeof cmd, "exec '%s' --child %ld", self, n);
    FILE *f = popen(cmd, "r");
    if (!f) {
        perror("tree_popen: popen");
        return 2;
    }
    uint64_t total = 0;
    char line[256];
    long k = 0;
    while (fgets(line, sizeof line, f)) {
        long got;
        uint64_t v;
        if (sscanf(line, "item %ld %" SCNu64, &got, &v) != 2 || got != k + 1) {
            printf("popen: line %ld is \"%s\"\n", k + 1, line);
            return 3;
        }
        k++;
        total = step(total ^ v, 250000);
        if (k == n)
            finish_gate();
        progress("popen", k, n);
    }
    int st = pclose(f);
    if (k != n || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
        printf("popen: %ld lines, child status 0x%x\n", k, st);
        return 4;
    }
    printf("popen: %ld lines, child exited %d, total %" PRIu64 "\n", k, WEXITSTATUS(st), total);
    return 0;
}
