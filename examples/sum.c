/* SPDX-License-Identifier: MIT */
/*
 * sum.c — add up 1..N, one number per step, and survive being killed.
 *
 * The smallest useful checkpointed program (the Python tutorials' example):
 * the whole state is the loop counter and the running total. Register both,
 * ask cairn to restore them, and call cairn_step() once per iteration.
 * Run it, kill it (even with kill -9), run the same command again: it goes
 * on from the last checkpoint and prints the same answer.
 *
 *     sum -n 2000 -d 0.005          # sum 1..2000, 5 ms per step
 *     CAIRN_INTERVAL=1 sum ...      # checkpoint every second (default 300)
 */
#include <getopt.h>
#include <inttypes.h>

#include "cairn.h"
#include "example.h"

static void usage(void)
{
    fprintf(stderr, "usage: sum [-n N] [-d SECONDS] [-s STORE] [-v]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct ex_args a = {.prog = "sum", .store = "sum.ckpt", .n = 200};
    int opt;
    while ((opt = getopt(argc, argv, "n:d:s:v")) != -1)
        if (!ex_common_option(&a, opt, optarg))
            usage();

    /* The state of the job: everything the next step depends on. */
    uint64_t i = 0, total = 0;

    cairn_t *c;
    int rc = cairn_open(&c, a.store, NULL);
    if (rc < 0) {
        fprintf(stderr, "sum: cannot open checkpoint store %s: %s\n", a.store, cairn_strerror(rc));
        return 1;
    }
    if ((rc = cairn_protect(c, "i", &i, sizeof i)) < 0 ||
        (rc = cairn_protect(c, "total", &total, sizeof total)) < 0 ||
        (rc = cairn_restore(c)) < 0) { /* CAIRN_FRESH or CAIRN_RESTORED */
        fprintf(stderr, "sum: cannot restore from %s: %s\n", a.store, cairn_strerror(rc));
        cairn_close(c);
        return 1;
    }
    if (rc == CAIRN_RESTORED)
        fprintf(stderr, "sum: resumed at step %" PRIu64 "\n", i);

    while (i < a.n) {
        i++; /* advance first: a checkpoint taken below says "i steps done" */
        total += i;
        ex_step_done(&a, i);
        rc = cairn_step(c); /* cheap, unless a checkpoint is due */
        if (rc < 0)
            fprintf(stderr, "sum: checkpoint failed (%s); going on\n", cairn_strerror(rc));
    }

    /* The answer first, then cairn_complete(): if we are killed in between,
       the rerun resumes from the last checkpoint and prints it again. */
    printf("sum of 1..%" PRIu64 " = %" PRIu64 "\n", a.n, total);
    rc = ex_flush_result(&a);
    if (rc == 0)
        rc = cairn_complete(c);
    cairn_close(c);
    return rc < 0;
}
