/* ptimer.c — a job with a POSIX timer (timer_create); sleeps 1.5 s.
   ptimer: a SIGEV_NONE timer, which cairn re-creates on restore: the job is
   checkpointed. ptimer thread: a SIGEV_THREAD timer, whose glibc helper
   thread blocks every signal: each checkpoint is refused naming it, and the
   job runs on as without cairn. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void on_expiry(union sigval v)
{
    (void)v;
}

int main(int argc, char **argv)
{
    struct sigevent ev = {.sigev_notify = SIGEV_NONE};
    if (argc > 1 && strcmp(argv[1], "thread") == 0) {
        ev.sigev_notify = SIGEV_THREAD;
        ev.sigev_notify_function = on_expiry;
    }
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) < 0)
        return 1;
    struct itimerspec its = {{3600, 0}, {3600, 0}};
    if (timer_settime(t, 0, &its, NULL) < 0)
        return 1;
    for (int i = 0; i < 30; i++)
        usleep(50000);
    puts("timer done");
    return 0;
}
