/* SPDX-License-Identifier: MIT */
/* term.c — a job for term.sh: what SIGTERM sent to the job itself (not to
   cairn) does under `cairn run` (runtime/signals.c).
   Usage: term MODE N — N iterations of ~1 ms of work, then "term N: <x>".
     default  leaves SIGTERM alone (cairn checkpoints the job and stops it)
     blocked  blocks SIGTERM throughout, unblocks it before printing
     ignore   signal(SIGTERM, SIG_IGN): the job goes on
     handler  checks what sigaction()/signal()/sysv_signal() report as the
              old action, then runs with a SA_SIGINFO|SA_RESETHAND handler:
              prints "handler ran" once it did and "reset: ok" when the
              action then reads SIG_DFL again (a second SIGTERM checkpoints)
     child    forks a child that waits; SIGTERM to the child kills it
   Lines go to stdout (a file under the test), flushed at once. Before the
   last line the job waits for $CAIRN_TEST_GATE (progress.h), still acting
   on a handler run or a child's death, so that term.sh decides when it may
   end. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

static volatile sig_atomic_t got, got_code;

static void fail(const char *what)
{
    printf("FAIL: %s\n", what);
    exit(1);
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got = sig;
    got_code = si->si_code;
    static const char msg[] = "handler ran\n";
    write(1, msg, sizeof msg - 1);
}

static void on_plain(int sig) { (void)sig; }

/* The old actions sigaction() and the signal() family report must be the
   ones this program set, never the runtime's. */
static void check_reported_actions(void)
{
    struct sigaction o, a = {.sa_sigaction = on_info, .sa_flags = SA_SIGINFO | SA_RESTART};
    if (sigaction(SIGTERM, NULL, &o) < 0 || o.sa_handler != SIG_DFL)
        fail("the initial action does not read SIG_DFL");
    sigemptyset(&a.sa_mask);
    sigaddset(&a.sa_mask, SIGUSR2);
    if (sigaction(SIGTERM, &a, NULL) < 0)
        fail("sigaction");
    struct sigaction b = {.sa_handler = on_plain};
    if (sigaction(SIGTERM, &b, &o) < 0 || o.sa_sigaction != on_info ||
        !(o.sa_flags & SA_SIGINFO) || !(o.sa_flags & SA_RESTART) ||
        !sigismember(&o.sa_mask, SIGUSR2))
        fail("sigaction did not report the program's previous action");
    if (signal(SIGTERM, SIG_IGN) != on_plain)
        fail("signal() did not report the previous handler");
    if (sysv_signal(SIGTERM, on_plain) != SIG_IGN)
        fail("sysv_signal() did not report SIG_IGN");
    if (sigaction(SIGTERM, NULL, &o) < 0 || o.sa_handler != on_plain ||
        !(o.sa_flags & SA_RESETHAND))
        fail("the action set by sysv_signal() reads wrong");
    printf("reported actions: ok\n");
}

static void install_oneshot(void)
{
    struct sigaction a = {.sa_sigaction = on_info, .sa_flags = SA_SIGINFO | SA_RESETHAND};
    sigemptyset(&a.sa_mask);
    if (sigaction(SIGTERM, &a, NULL) < 0)
        fail("sigaction SA_RESETHAND");
}

static void after_handler(void)
{
    struct sigaction o;
    printf("handled signal %d, si_code %s\n", (int)got, got_code == SI_USER ? "SI_USER" : "other");
    if (sigaction(SIGTERM, NULL, &o) < 0 || o.sa_handler != SIG_DFL)
        fail("after the SA_RESETHAND handler the action does not read SIG_DFL");
    printf("reset: ok\n");
    got = 0;
}

/* What the job checks between two iterations: its handler ran, its child
   ended. */
static void check_events(pid_t *child)
{
    if (got)
        after_handler();
    int st;
    if (*child && waitpid(*child, &st, WNOHANG) == *child) {
        printf("child: %s %d\n", WIFSIGNALED(st) ? "killed by signal" : "exited",
               WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        *child = 0;
    }
}

/* finish_gate() of progress.h, acting on events while it waits. */
static void gate(pid_t *child)
{
    const char *g = getenv("CAIRN_TEST_GATE");
    struct timespec ms5 = {0, 5000000};
    while (g && *g && access(g, F_OK) != 0) {
        check_events(child);
        nanosleep(&ms5, NULL);
    }
}

static pid_t start_child(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    if (pid < 0)
        fail("fork");
    return pid;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argc > 2 ? argv[1] : "default";
    long n = argc > 2 ? atol(argv[2]) : 1000;
    pid_t child = 0;
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    if (!strcmp(mode, "blocked"))
        sigprocmask(SIG_BLOCK, &term, NULL);
    else if (!strcmp(mode, "ignore") && signal(SIGTERM, SIG_IGN) != SIG_DFL)
        fail("signal() did not report SIG_DFL");
    if (!strcmp(mode, "handler")) {
        check_reported_actions();
        install_oneshot();
    }
    if (!strcmp(mode, "child"))
        child = start_child();
    printf("ready\n");
    uint64_t x = 1;
    for (long i = 0; i < n; i++) {
        for (long j = 0; j < 200000; j++)
            x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
        check_events(&child);
    }
    gate(&child);
    if (child) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    sigprocmask(SIG_UNBLOCK, &term, NULL);
    printf("term %ld: %llu\n", n, (unsigned long long)x);
    return 0;
}
