/* SPDX-License-Identifier: MIT */
/*
 * tree_job.c — the job of bench/cairn-bench-tree: N processes (the first
 * and N - 1 forked children) sharing out MIB MiB of touched memory, each
 * touching one word per page of its own slice every millisecond (the
 * slices private, or with TREE_JOB_SHARED=1 of one MAP_SHARED mapping
 * all of them map). Prints
 * "ready" once every process has touched its slice, then runs until
 * killed (cairn run's namespace ends it).
 *
 *   tree_job N MIB
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Touches its slice, says so on ready_fd (-1: the first process, which
   waits for the others' n - 1 bytes on wait_fd and prints "ready"), then
   keeps touching it. */
static void work(unsigned char *p, size_t bytes, int ready_fd, int wait_fd, int n)
{
    memset(p, 1, bytes);
    char c;
    if (ready_fd >= 0 && write(ready_fd, "r", 1) != 1)
        _exit(1);
    for (int got = 1; ready_fd < 0 && got < n; got++)
        if (read(wait_fd, &c, 1) != 1)
            _exit(1);
    if (ready_fd < 0) {
        printf("ready\n");
        fflush(stdout);
    }
    struct timespec ms = {0, 1000000};
    for (unsigned char v = 2;; v++) {
        for (size_t i = 0; i < bytes; i += 4096)
            p[i] = v;
        nanosleep(&ms, NULL);
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    size_t mib = argc > 2 ? strtoull(argv[2], NULL, 10) : 64;
    if (n < 1 || n > 64 || mib == 0)
        return 2;
    int ready[2];
    if (pipe(ready) < 0)
        return 1;
    size_t slice = (mib << 20) / (size_t)n;
    /* TREE_JOB_SHARED=1: the slices are of one MAP_SHARED mapping that
       every process maps (as multiprocessing's shared arrays are). */
    const char *e = getenv("TREE_JOB_SHARED");
    int shared = e && *e == '1';
    unsigned char *all = shared ? mmap(NULL, slice * (size_t)n, PROT_READ | PROT_WRITE,
                                       MAP_SHARED | MAP_ANONYMOUS, -1, 0)
                                : NULL;
    if (all == MAP_FAILED)
        return 1;
    for (int i = 0; i < n; i++) {
        unsigned char *p = shared ? all + (size_t)i * slice
                                  : mmap(NULL, slice, PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 1;
        if (i == n - 1) {
            close(ready[1]);
            work(p, slice, -1, ready[0], n);
        }
        if (fork() == 0) {
            close(ready[0]);
            work(p, slice, ready[1], -1, n);
        }
        if (!shared)
            munmap(p, slice);
    }
}
