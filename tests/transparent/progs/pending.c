/* SPDX-License-Identifier: MIT */
/* pending.c — signals pending across checkpoints: the job blocks SIGUSR2
   and SIGRTMIN+1, raises SIGUSR2 (thread-directed) and queues SIGRTMIN+1
   twice with values 42 and 43 (process-directed), works, then unblocks
   them. Each handler must run exactly as often as in an uninterrupted
   run, with the queued values in order. Usage: pending N (~1 ms each). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "progress.h"

static volatile sig_atomic_t usr2, nrt;
static volatile int values[8];

static void on_usr2(int sig) { (void)sig; usr2++; }

static void on_rt(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    if (nrt < 8)
        values[nrt] = si->si_value.sival_int;
    nrt++;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    struct sigaction sa = {.sa_handler = on_usr2};
    sigaction(SIGUSR2, &sa, NULL);
    struct sigaction rt = {.sa_sigaction = on_rt, .sa_flags = SA_SIGINFO};
    sigaction(SIGRTMIN + 1, &rt, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR2);
    sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 42});
    sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 43});
    uint64_t x = 1;
    for (long i = 0; i < n; i++) {
        for (long j = 0; j < 200000; j++)
            x = x * 6364136223846793005ull + (uint64_t)j;
        progress("pending", i + 1, n);
    }
    finish_gate();
    sigset_t pend;
    sigpending(&pend);
    int early = usr2 + nrt;
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    printf("pending %ld: still pending: SIGUSR2 %d SIGRTMIN+1 %d; delivered early %d; "
           "SIGUSR2 handled %d time(s); SIGRTMIN+1 %d time(s), values", n,
           sigismember(&pend, SIGUSR2), sigismember(&pend, SIGRTMIN + 1), early, (int)usr2,
           (int)nrt);
    for (int i = 0; i < nrt && i < 8; i++)
        printf(" %d", values[i]);
    printf(" (%llu)\n", (unsigned long long)x);
    return 0;
}
