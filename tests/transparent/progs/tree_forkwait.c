/* SPDX-License-Identifier: MIT */
/* tree_forkwait.c — fork + wait loops with a zombie at every moment.
   Usage: tree_forkwait N (N children, each ~40 ms of work).

   Child k computes its part, prints "child K: H" (its result) on stdout,
   and ends: exit(H % 120 + 1), or, when k % 7 == 3, killed by SIGUSR2
   (sent to itself). The parent keeps the previous child unreaped while the
   next one works: it forks child k, waits until child k has exited without
   reaping it (waitid WNOWAIT), and only then reaps child k-1 with waitpid,
   checks its status (an exit for the k % 7 != 3 ones, SIGUSR2 for the
   others), prints "forkwait: child K-1 exited S" (or "killed by signal
   S") and folds it into its total. So from the first child's exit to the
   end there is always one exited, unreaped child (a zombie) of the job,
   and often two; a checkpoint lands in the middle of that.
   Only one process writes at a time (a child before it exits, the parent
   after the child's exit), so the lines come in one order in every run.
   finish_gate() (progress.h) before the last child is reaped. Exits 3 if a
   status is not of the kind expected. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

static uint64_t work(long k)
{
    uint64_t x = (uint64_t)k * 0x9e3779b97f4a7c15ull;
    for (long j = 0; j < 40000000; j++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
    return x ^ (x >> 31);
}

static pid_t spawn(long k)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("tree_forkwait: fork");
        exit(2);
    }
    if (pid == 0) {
        uint64_t h = k == 0 ? 0 : work(k);
        printf("child %ld: %llu\n", k, (unsigned long long)h);
        fflush(stdout);
        if (k % 7 == 3)
            kill(getpid(), SIGUSR2);
        _exit((int)(h % 120) + 1);
    }
    return pid;
}

/* Waits until PID has ended, leaving it a zombie. */
static void wait_exited(pid_t pid)
{
    siginfo_t si;
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
        if (errno != EINTR) {
            perror("tree_forkwait: waitid");
            exit(2);
        }
}

/* Reaps child K (PID), checks and prints its status; returns it. */
static int reap(long k, pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            perror("tree_forkwait: waitpid");
            exit(2);
        }
    if (k % 7 == 3) {
        if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGUSR2) {
            printf("forkwait: child %ld: status 0x%x, not killed by SIGUSR2\n", k, st);
            exit(3);
        }
        printf("forkwait: child %ld killed by signal %d\n", k, WTERMSIG(st));
        return 128 + WTERMSIG(st);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) < 1 || WEXITSTATUS(st) > 120) {
        printf("forkwait: child %ld: status 0x%x, not an exit in 1..120\n", k, st);
        exit(3);
    }
    printf("forkwait: child %ld exited %d\n", k, WEXITSTATUS(st));
    fflush(stdout);
    return WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100;
    uint64_t total = 0;
    pid_t prev = spawn(0); /* ends at once: the first zombie */
    wait_exited(prev);
    for (long k = 1; k <= n; k++) {
        pid_t pid = spawn(k);
        wait_exited(pid);
        total = total * 131 + (uint64_t)reap(k - 1, prev);
        prev = pid;
    }
    finish_gate();
    total = total * 131 + (uint64_t)reap(n, prev);
    printf("forkwait: %ld children, total %llu\n", n + 1, (unsigned long long)total);
    return 0;
}
