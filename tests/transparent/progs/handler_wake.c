/* SPDX-License-Identifier: MIT */
/* handler_wake.c — the job's handlers behind the runtime's counting
   trampoline (runtime/handlers.c) still behave as the job's own: the main
   thread waits in sigsuspend() and then in pause() for SIGUSR1, checkpoints
   come while it waits (the waits go on: runtime/eintr.c), and SIGUSR1's
   handler then ends each wait (it runs with its siginfo and context, and
   the wait returns: not started again as if the EINTR were cairn's). The
   job also checks that it sees its own actions: sigaction()'s old action,
   signal()'s and sigset()'s return values. Prints "waiting N" before each
   wait, "woke N" after it, then "handler_wake: done, 2 wake-ups, handler
   sane". Usage: handler_wake. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t handled, wrong; /* wrong: a bit per failed check */

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    if (sig != SIGUSR1 || si->si_signo != SIGUSR1 || si->si_code != SI_USER || !uc)
        wrong |= 1;
    handled++;
}

static void on_hup(int sig) { (void)sig; }

#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* sigset(): interposed too */
static void check_reports(void)
{
    struct sigaction now;
    if (sigaction(SIGUSR1, NULL, &now) != 0 || now.sa_sigaction != on_usr1 ||
        !(now.sa_flags & SA_SIGINFO))
        wrong |= 2;
    if (signal(SIGHUP, on_hup) != SIG_DFL || signal(SIGHUP, SIG_IGN) != on_hup)
        wrong |= 4;
    if (sigset(SIGHUP, on_hup) != SIG_IGN || sigset(SIGHUP, SIG_DFL) != on_hup)
        wrong |= 8;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    struct sigaction old;
    if (sigaction(SIGUSR1, &sa, &old) != 0 || old.sa_handler != SIG_DFL)
        wrong |= 16;
    check_reports();
    sigset_t usr1, none;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    printf("waiting 1\n");
    while (handled < 1)
        sigsuspend(&none);
    printf("woke 1\n");
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    printf("waiting 2\n");
    while (handled < 2)
        pause();
    printf("woke 2\n");
    check_reports();
    if (wrong)
        printf("handler_wake: done, %d wake-ups, checks 0x%x WRONG\n", (int)handled, (int)wrong);
    else
        printf("handler_wake: done, %d wake-ups, handler sane\n", (int)handled);
    return wrong ? 1 : 0;
}
