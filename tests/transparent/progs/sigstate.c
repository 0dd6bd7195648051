/* SPDX-License-Identifier: MIT */
/* sigstate.c — prints which signals the program starts with blocked and
   which ignored (of SIGHUP, SIGINT, SIGQUIT, SIGUSR2, SIGPIPE, SIGTERM):
   a job run under cairn must start with what it would have had without
   it. `sigstate --setup CMD...` blocks SIGUSR2 and SIGTERM, ignores SIGHUP
   and SIGQUIT (as nohup or a batch system's starter may), then execs CMD.
     sigstate [--setup CMD...] */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "--setup")) {
        sigset_t b;
        sigemptyset(&b);
        sigaddset(&b, SIGUSR2);
        sigaddset(&b, SIGTERM);
        sigprocmask(SIG_BLOCK, &b, NULL);
        signal(SIGHUP, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        return 127;
    }
    static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR2, SIGPIPE, SIGTERM};
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        sigaction(sigs[i], NULL, &sa);
        printf("%s: %s, %s\n", strsignal(sigs[i]),
               sigismember(&cur, sigs[i]) ? "blocked" : "not blocked",
               sa.sa_handler == SIG_IGN ? "ignored" : "default");
    }
    return 0;
}
