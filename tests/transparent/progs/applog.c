/* SPDX-License-Identifier: MIT */
/* applog.c — a job that keeps a log of its own, opened O_APPEND (as a
   logger opens a file with mode "a"), and prints its result on stdout.
   Usage: applog N (steps of ~1 ms of work). Writes "applog: step I of N"
   to log.txt every 2% of the steps, then "applog: done", and the same
   progress lines on stdout (progress.h). output.sh appends to log.txt from
   another process while it runs, and watches log.txt to know how far the
   job is when its stdout is committed output (not visible until a commit). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "progress.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    int fd = open("log.txt", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return 1;
    uint64_t x = 1;
    for (long i = 0; i < n; i++) {
        for (long j = 0; j < 200000; j++)
            x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
        if ((i + 1) % (n >= 50 ? n / 50 : 1) == 0)
            dprintf(fd, "applog: step %ld of %ld\n", i + 1, n);
        progress("applog", i + 1, n);
    }
    finish_gate();
    dprintf(fd, "applog: done\n");
    printf("applog %ld: %llu\n", n, (unsigned long long)x);
    return 0;
}
