/* SPDX-License-Identifier: MIT */
/*
 * bench_sweep.h — the time to full speed after a restore (issue 13), for
 * cairn-bench-transparent: a job that sweeps its whole state and reports
 * the end of every slice of each pass on its stdout, and the rows made of
 * its restores (bench_sweep.c).
 */
#ifndef CAIRN_BENCH_SWEEP_H
#define CAIRN_BENCH_SWEEP_H

#include <stdint.h>
#include <sys/types.h>

#include "bench_trun.h"
#include "bench_util.h"

#define SWEEP_SLICES 256   /* slices per pass over the job's state */
#define SWEEP_TOLERANCE 1.1 /* full speed: a pass within 10% of the steady one */

/* The job's side (`--job MIB BENCHPID 1 sweep`): passes over the n words at
   m for ever, adding 1 to every word, and after each of the SWEEP_SLICES
   slices of a pass writes "s NS\n" to stdout, NS the slice's end on
   CLOCK_MONOTONIC in nanoseconds. Returns when its parent is bench (cairn
   died); the benchmark gone, the write raises SIGPIPE. */
void sweep_job(uint64_t *m, uint64_t n, pid_t bench);

/* One kind of restore of the sweeping job, one entry per repetition; times
   from the start of `cairn run` on the store. */
struct sweep_runs {
    struct bench_runs running;     /* cairn's "job restored" */
    struct bench_runs first;       /* the job's report of its first slice */
    struct bench_runs full;        /* the start of the first pass-long stretch
                                      of slices within SWEEP_TOLERANCE of the
                                      steady pass (full speed from then) */
    struct bench_runs first_pass;  /* the first whole pass after the restore */
    struct bench_runs steady;      /* the same repetition's steady pass */
    int not_reached;               /* repetitions without full speed */
};

struct sweep_results {
    struct bench_runs steady;      /* median pass of the uninterrupted job */
    struct sweep_runs copy, copy_idle, map, map_idle;
    int passes;                    /* passes watched at most per restore */
};

/* Per repetition: a fresh sweeping job (its steady pass), SIGTERM, then a
   copying restore warm and after idle seconds of idle memory, and a mapped
   one (CAIRN_RESTORE_MAP=1) warm and after idle seconds, each watched until
   full speed and stopped with SIGTERM. proto gives cairn, the job's program,
   the store and the size. idle 0: no idle restores. 0 or -1. */
int sweep_rows(const struct trun *proto, int reps, int idle, struct sweep_results *r);

#endif
