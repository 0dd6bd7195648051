/* blocker.c — a job that blocks every signal and sleeps 1.5 s.
   blocker: with sigprocmask(), which cairn's runtime interposes: cairn's
   two signals stay unblocked, so the job is checkpointed all the same.
   blocker raw: with the rt_sigprocmask system call itself, which cairn
   cannot see: its checkpoint signal is blocked too, each checkpoint is
   refused and the job runs on as without cairn. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    sigset_t all;
    sigfillset(&all);
    if (argc > 1 && strcmp(argv[1], "raw") == 0) {
        unsigned long every = ~0ul;
        syscall(SYS_rt_sigprocmask, SIG_BLOCK, &every, NULL, 8);
    } else {
        sigprocmask(SIG_BLOCK, &all, NULL);
    }
    for (int i = 0; i < 30; i++)
        usleep(50000);
    puts("blocked done");
    return 0;
}
