/* SPDX-License-Identifier: MIT */
/* vfork_handler.c — a vfork() child that installs a signal handler of its
   own before it exits, as spawn code that resets handlers does. The child
   shares the parent's memory until it exits, so cairn's record of the
   job's handlers (runtime/handlers.c) is shared too: the child's handler
   must not replace the parent's there, or the parent's next signal would
   run the child's handler. Prints "vfork_handler: the parent's handler
   ran" and exits 0, or names the handler that ran and exits 1. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t ran; /* 1: the parent's handler, 2: the child's */

static void parents(int sig)
{
    (void)sig;
    ran = 1;
}

static void childs(int sig)
{
    (void)sig;
    ran = 2;
}

int main(void)
{
    if (signal(SIGUSR2, parents) == SIG_ERR) {
        perror("vfork_handler: signal");
        return 2;
    }
    pid_t pid = vfork();
    if (pid < 0) {
        perror("vfork_handler: vfork");
        return 2;
    }
    if (pid == 0) {
        signal(SIGUSR2, childs); /* in the child's own table of actions */
        _exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "vfork_handler: the child did not exit 0\n");
        return 2;
    }
    raise(SIGUSR2);
    if (ran != 1) {
        printf("vfork_handler: %s ran\n", ran == 2 ? "the child's handler" : "no handler");
        return 1;
    }
    printf("vfork_handler: the parent's handler ran\n");
    return 0;
}
