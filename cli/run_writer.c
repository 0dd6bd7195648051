/* SPDX-License-Identifier: MIT */
/*
 * run_writer.c — writers that die without a report.
 *
 * A writer reports DONE or FAIL on its process's channel, which the job
 * keeps open: a writer killed before it reports (the OOM killer picking
 * the copy-on-write child under a memory limit, a signal from outside, a
 * bug) would leave the round waiting for ever. Writers are reaped by cairn
 * (cairn run without a namespace, the namespace init with one: the runtime
 * clones them as its children), which sees a wait status other than 0 and
 * remembers it here; each process's PAUSE names its writer's pid, and a
 * round whose writer is among the dead fails like a FAIL (run_job.c,
 * run_tree.c). The next checkpoint is then a full image (runtime/dirty.c).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "run.h"

void run_writer_died(struct run_ctx *r, pid_t pid, int st)
{
    if (pid <= 0 || st == 0)
        return;
    r->dead[r->ndead % RUN_DEAD_WRITERS] = (struct run_dead){pid, st};
    r->ndead++;
}

int run_writer_lost(const struct run_ctx *r, pid_t pid, char *why, size_t len)
{
    if (pid <= 0)
        return 0;
    unsigned n = r->ndead < RUN_DEAD_WRITERS ? r->ndead : RUN_DEAD_WRITERS;
    for (unsigned i = 0; i < n; i++) {
        int st = r->dead[i].status;
        if (r->dead[i].pid != pid)
            continue;
        if (WIFSIGNALED(st))
            snprintf(why, len, "the writer (pid %d) was killed by signal %d (%s) before it "
                     "reported", (int)pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
        else
            snprintf(why, len, "the writer (pid %d) exited with status %d before it reported",
                     (int)pid, WEXITSTATUS(st));
        return 1;
    }
    return 0;
}
