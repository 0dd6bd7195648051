/* SPDX-License-Identifier: MIT */
/* tree_sigchld.c — a parent that counts its SIGCHLDs (a handler) while it
   keeps a zombie: each step it forks a child that exits at once, waits in
   sigsuspend until the handler counted that child's SIGCHLD, computes
   with the zombie unreaped (when the checkpoints come), then reaps it. A
   restore recreates the zombie, which exits again: its parent must not
   see a second SIGCHLD for it (restore/tree.c). Usage: tree_sigchld N.
   After reaping a child, a SIGCHLD pending is one too many (that child's
   was counted): it is counted as extra and taken. Prints progress lines
   (progress.h), then "tree_sigchld: N children, N SIGCHLD, 0 extra, exit
   statuses ok" in every run. */
#include <signal.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

static volatile sig_atomic_t sigchlds;

static void on_chld(int sig)
{
    (void)sig;
    sigchlds++;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100;
    struct sigaction sa = {.sa_handler = on_chld, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old); /* SIGCHLD only in sigsuspend */
    int bad = 0, extra = 0;
    uint64_t x = 1;
    for (long i = 0; i < n; i++) {
        sig_atomic_t before = sigchlds;
        pid_t kid = fork();
        if (kid == 0)
            _exit((int)(i % 200));
        if (kid < 0)
            return 2;
        while (sigchlds == before)
            sigsuspend(&old);
        for (long j = 0; j < 3000000; j++) /* the zombie is there meanwhile */
            x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
        int st;
        if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st) != i % 200)
            bad++;
        /* This child's SIGCHLD was counted: one pending now is extra. */
        sigset_t pending;
        struct timespec zero = {0, 0};
        if (sigpending(&pending) == 0 && sigismember(&pending, SIGCHLD)) {
            extra++;
            sigtimedwait(&chld, NULL, &zero);
        }
        progress("tree_sigchld", i + 1, n);
    }
    finish_gate();
    /* A SIGCHLD still pending would be one too many: let it in. */
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("tree_sigchld: %ld children, %ld SIGCHLD, %d extra, exit statuses %s (%llu)\n", n,
           (long)sigchlds, extra, bad ? "wrong" : "ok", (unsigned long long)(x & 0xffff));
    return 0;
}
