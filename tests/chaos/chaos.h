/* SPDX-License-Identifier: MIT */
/*
 * chaos.h — shared declarations of the chaos driver (tests/chaos/).
 *
 * The driver starts chaos_job.c, watches its store with inotify, kills it
 * with SIGKILL at chosen instants, checks the store after every kill, and
 * restarts it until it completes; then compares the output with an
 * uninterrupted run. chaos_faults.c repeats this with faults injected.
 */
#ifndef CAIRN_CHAOS_H
#define CAIRN_CHAOS_H

#include <stdint.h>
#include <sys/types.h>

/* Counters for the summary; shared with the fault child (MAP_SHARED). */
struct chaos_counts {
    uint64_t kills, restarts, runs, commits, failed_ckpts;
    uint64_t faults, store_checks;
    uint64_t lost, corrupt, mismatched_outputs, errors;
    uint64_t enospc, readonly, deleted, eio;
    uint64_t kill_tmp, kill_close, kill_rename, kill_delay; /* by instant */
};

struct chaos_cfg {
    const char *job;       /* path of cairn-chaos-job */
    const char *work;      /* scratch directory (removed at the end) */
    const char *ref;       /* output of the uninterrupted run */
    unsigned steps, state_kib;
    unsigned step_us;      /* measured time of one step with its checkpoint */
    unsigned long cycles;
    uint64_t seed;
    int verbose;
};

/* How a started job is to be disturbed. */
enum job_mode { JOB_PLAIN, JOB_NOCAPS, JOB_EIO_FSYNC, JOB_EIO_WRITE };

struct job_proc {
    pid_t pid;
    int out;               /* read end of the job's stdout */
    int in;                /* write end of its stdin when paced, else -1 */
    int waiting;           /* paced job waits for an ack after a step */
    char line[256];        /* partial line */
    size_t len;
    int64_t restored_gen;  /* -1 until "start" is read; 0 fresh */
    uint64_t commits, fails;
    int done;              /* "done" read */
};

/* chaos_proc.c. Jobs in modes other than JOB_PLAIN are paced: they stop
   after each step until job_read's caller lets them go on (job_ack). */
int job_start(struct job_proc *p, const struct chaos_cfg *cfg, const char *store,
              const char *out, enum job_mode mode);
/* Reads whatever the job printed; returns 0, or -1 at end of file. */
int job_read(struct job_proc *p, struct chaos_counts *n);
/* Lets a paced job that waits after a step go on. */
void job_ack(struct job_proc *p);
/* SIGKILLs (if kill_it) and reaps; returns the wait status. */
int job_finish(struct job_proc *p, int kill_it, struct chaos_counts *n);

/* chaos_store.c */
/* Newest generation of store, verified: > 0 its number, 0 none, -1 the
   newest is not valid (message printed). */
int64_t store_check(const char *store, struct chaos_counts *n);
int files_equal(const char *a, const char *b);
int remove_tree(const char *path);
int watch_store(int ifd, const char *store);

/* chaos_kill.c */
uint64_t chaos_rand(uint64_t *s);
/* Runs one job to completion through random kills; 0 ok, -1 failure. */
int run_with_kills(const struct chaos_cfg *cfg, const char *store, const char *out,
                   struct chaos_counts *n, uint64_t *rng, unsigned long max_kills);

/* chaos_faults.c */
/* Runs the fault scenarios in a user+mount namespace; 0 ok, -1 failure,
   1 skipped (reason printed). */
int run_faults(const struct chaos_cfg *cfg, struct chaos_counts *n);

#define say(...) (fprintf(stderr, "chaos: " __VA_ARGS__), fputc('\n', stderr))

#endif
