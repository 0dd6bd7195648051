/* SPDX-License-Identifier: MIT */
/*
 * bench_trun.h — pieces of cairn-bench-transparent: driving `cairn run -v`
 * on the benchmark's own job (bench_trun.c) and the job itself.
 */
#ifndef CAIRN_BENCH_TRUN_H
#define CAIRN_BENCH_TRUN_H

#include <stdint.h>
#include <sys/types.h>

/* One `cairn run -v --store STORE -- SELF --job MIB BENCHPID`. */
struct trun {
    const char *cairn;       /* the cairn executable */
    const char *self;        /* this benchmark (the job's program) */
    const char *store;       /* the store directory */
    uint64_t mib;            /* touched memory of the job */
    int threads;             /* threads of the job (0: one, idle, as --job MIB PID) */
    long tick_us;            /* with threads: each thread's sleep between touches, 0 = spin */
    int sweep;               /* the job sweeps its state and reports (bench_sweep.h) */
    int verbose;             /* echo cairn's lines */
    const char *compress;    /* cairn run --compress SPEC; NULL: not given */
    int refusal_ok;          /* a refused checkpoint is the caller's to report */
    int refused;             /* the last checkpoint was not taken ... */
    char why[256];           /* ... and cairn said why */
    pid_t pid;               /* the running cairn, or 0 */
    double restore_cpu;      /* CPU seconds of the restored job (the restorer
                                became it) when cairn said it was restored */
    int err_fd, out_fd;      /* cairn's (and the job's) stderr, stdout */
    char buf[8192];          /* stderr bytes not yet consumed as lines */
    size_t len;
};

/* One checkpoint as cairn reported it. */
struct tckpt {
    double pause;            /* seconds the job was stopped */
    double durable;          /* seconds from the request to the commit */
    uint64_t bytes;          /* image size */
    /* With --compress: cairn's "compressed:" line (cli/run_compress.c). */
    uint64_t raw, stored;    /* the writer's uncompressed image, the file */
    double pack;             /* seconds cairn took to compress and fsync it */
};

/* Starts the job fresh (the store must be empty) and waits until its memory
   is touched. 0 or -1 (said why). */
int trun_start_fresh(struct trun *t);
/* Starts cairn run on a store holding an image; *verify is the time until
   cairn names the image it restores (it has verified it), *total until
   cairn reports the job restored (running again). 0 or -1. */
int trun_start_restore(struct trun *t, double *verify, double *total);
/* Asks for a checkpoint with SIGUSR1 and waits for its report. 0 or -1;
   if cairn said "checkpoint not taken", t->refused is set and t->why says
   why (printed unless t->refusal_ok). */
int trun_checkpoint(struct trun *t, struct tckpt *c);
/* SIGTERM: cairn checkpoints, stops the job and exits 143. 0 or -1. */
int trun_stop(struct trun *t, struct tckpt *c);
/* Ends cairn run and the job however they are (error paths). */
void trun_kill(struct trun *t);

/* Is argv the job's command line, `--job MIB BENCHPID [THREADS TICK_US]`
(TICK_US `sweep`: one thread sweeping its state, bench_sweep.h)?
   With CAIRN_BENCH_CONTENT=halftext in its environment, each MiB of its
   memory is half log-like text, half xorshift (else all xorshift). */
int bench_is_job(int argc, char **argv);
/* The job: maps and touches MIB MiB, starts THREADS - 1 more threads (each
   of the THREADS touches its own slice, one word per page, sleeping TICK_US
   between touches or spinning if 0; default one thread, 10 ms), says
   "ready", then runs until its parent is the benchmark (cairn died) or its
   stdout is closed. Returns an exit status. */
int bench_job_main(int argc, char **argv);
/* The text half of a halftext MiB: len bytes of log-like lines (a step
   counter, words and numbers drawn from the xorshift state x). */
void bench_fill_text(char *p, size_t len, uint64_t *x);

#endif
