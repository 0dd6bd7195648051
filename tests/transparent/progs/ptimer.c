/* ptimer.c — a job with a POSIX timer (timer_create), which cairn cannot
   restore yet: every checkpoint must be refused naming it; sleeps 1.5 s. */
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    struct sigevent ev = {.sigev_notify = SIGEV_NONE};
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) < 0)
        return 1;
    for (int i = 0; i < 30; i++)
        usleep(50000);
    puts("timer done");
    return 0;
}
