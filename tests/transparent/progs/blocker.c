/* blocker.c — a job that blocks every signal, cairn's checkpoint signal
   included, and sleeps 1.5 s. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    for (int i = 0; i < 30; i++)
        usleep(50000);
    puts("blocked done");
    return 0;
}
