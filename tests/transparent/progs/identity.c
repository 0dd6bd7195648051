/* SPDX-License-Identifier: MIT */
/* identity.c — a job that relies on who it is: its pid (getpid() and
   /proc/self), its parent's pid and /proc/self/exe must stay the same
   across every checkpoint and restore. Prints one line of yes/no answers,
   the same as in an uninterrupted run. Usage: identity N (~1 ms each). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

static char first_change[8400];

static void check(const char *what, long was, long now)
{
    if (was != now && !first_change[0])
        snprintf(first_change, sizeof first_change, "%s changed from %ld to %ld", what, was,
                 now);
}

static void link_of(const char *path, char *buf, size_t len)
{
    ssize_t n = readlink(path, buf, len - 1);
    buf[n < 0 ? 0 : n] = 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    pid_t pid = getpid(), ppid = getppid();
    char exe[4096], now[4096], self[64];
    link_of("/proc/self/exe", exe, sizeof exe);
    uint64_t x = 1;
    for (long i = 0; i < n; i++) {
        for (long j = 0; j < 200000; j++)
            x = x * 6364136223846793005ull + (uint64_t)j;
        check("getpid()", pid, getpid());
        check("getppid()", ppid, getppid());
        link_of("/proc/self", self, sizeof self);
        check("/proc/self", pid, atol(self));
        link_of("/proc/self/exe", now, sizeof now);
        if (strcmp(now, exe) != 0 && !first_change[0])
            snprintf(first_change, sizeof first_change, "/proc/self/exe changed from %s to %s",
                     exe, now);
        progress("identity", i + 1, n);
    }
    finish_gate();
    printf("identity %ld: %s (%llu)\n", n, first_change[0] ? first_change : "unchanged",
           (unsigned long long)x);
    return 0;
}
