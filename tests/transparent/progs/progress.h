/* progress.h — what the test drivers (cycle.sh, store.sh, pidns.sh,
   tests/security/process.sh) see of a test job's progress, and how they
   keep it from finishing before they are done with it.

   progress(what, i, n), after step i of n: every 2% of the steps, prints
   "WHAT: step I of N" on stdout and flushes it. The lines are the same in
   every run, so they are part of the output compared with an uninterrupted
   run's; a driver counts them to pick its kill moments from the job's own
   progress, not from the clock; and since a restore rolls appended output
   back to the checkpoint, a job that started over instead of resuming would
   print its lines twice and fail the comparison.

   finish_gate(), before the job's last output: if $CAIRN_TEST_GATE names a
   file, waits until that file exists (a checkpoint interrupts the sleep; it
   is simply retried). A driver that wants N restores keeps the gate closed
   until it has them, so the job cannot end before it is killed. Without the
   variable (the uninterrupted reference run) it returns at once. */
#ifndef CAIRN_TEST_PROGRESS_H
#define CAIRN_TEST_PROGRESS_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline void progress(const char *what, long i, long n)
{
    long every = n >= 50 ? n / 50 : 1;
    if (i % every == 0) {
        printf("%s: step %ld of %ld\n", what, i, n);
        fflush(stdout);
    }
}

/* Returns once the file path exists (the test's driver makes it). */
static inline void wait_for_file(const char *path)
{
    struct timespec ms5 = {0, 5000000};
    while (access(path, F_OK) != 0)
        nanosleep(&ms5, NULL);
}

static inline void finish_gate(void)
{
    const char *gate = getenv("CAIRN_TEST_GATE");
    if (gate && *gate)
        wait_for_file(gate);
}

#endif
