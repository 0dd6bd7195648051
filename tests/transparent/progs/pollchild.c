/* SPDX-License-Identifier: MIT */
/* pollchild.c — the job of issue 11's report: it forks a child and waits
   for it in poll(-1) on a pipe, treating any error (EINTR included) as
   fatal (exit 1). cairn cannot checkpoint a job with a child; it must not
   disturb it either: the refusal comes from /proc, before any signal. It
   prints "forked" once the child runs; the child writes to the pipe once
   the file $POLLCHILD_GATE exists. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    const char *gate = getenv("POLLCHILD_GATE");
    int p[2];
    if (!gate || pipe(p) < 0)
        return 2;
    pid_t kid = fork();
    if (kid == 0) {
        while (access(gate, F_OK) != 0)
            usleep(10000);
        _exit(write(p[1], "x", 1) == 1 ? 0 : 1);
    }
    printf("forked\n");
    fflush(stdout);
    struct pollfd f = {p[0], POLLIN, 0};
    if (poll(&f, 1, -1) != 1) {
        perror("pollchild: poll");
        return 1;
    }
    waitpid(kid, NULL, 0);
    puts("child done");
    return 0;
}
