/* SPDX-License-Identifier: MIT */
/* signals.c — a SIGALRM handler driven by alarm()/setitimer, and a SIGUSR2
   handler the job raises itself: both must survive a restore. Output is
   deterministic: it counts events, not time. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "progress.h"

static volatile sig_atomic_t alarms, usr2;

static void on_alarm(int sig) { (void)sig; alarms++; }
static void on_usr2(int sig) { (void)sig; usr2++; }

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 30;
    signal(SIGALRM, on_alarm);
    struct sigaction sa = {.sa_handler = on_usr2};
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    sigprocmask(SIG_BLOCK, &block, NULL);
    struct itimerval it = {{0, 100000}, {0, 100000}}; /* 10 per second */
    setitimer(ITIMER_REAL, &it, NULL);
    uint64_t x = 1, loops = 0;
    long seen = 0;
    while (alarms < n) {
        for (int k = 0; k < 100000; k++)
            x = x * 6364136223846793005ull + 1;
        if (++loops % 7 == 0)
            raise(SIGUSR2);
        while (seen < alarms && seen < n) /* one line per alarm, however late */
            progress("signals", ++seen, n);
    }
    while (seen < n)
        progress("signals", ++seen, n);
    finish_gate();
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("signals: %ld alarms, SIGPIPE still blocked: %d, SIGUSR2 handled: %s\n", n,
           sigismember(&now, SIGPIPE), usr2 > 0 ? "yes" : "no");
    return 0;
}
