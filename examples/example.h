/* SPDX-License-Identifier: MIT */
/*
 * example.h — the plumbing shared by the examples, kept out of their way so
 * that each example shows only what checkpointing asks of a program.
 *
 * Every example takes the same options:
 *   -n N        size of the job (steps, samples, terms)
 *   -d SECONDS  pause after each step (fractional; makes a quick job slow
 *               enough to interrupt by hand or from a test)
 *   -s STORE    checkpoint store directory (default NAME.ckpt)
 *   -v          print "step K" on stderr after every step (tests count the
 *               steps executed across interrupted runs with it)
 * plus its own (see each example's usage line).
 *
 * Output discipline, which the tests rely on: stdout carries the final
 * result only, so it is the same whether or not the run was interrupted;
 * everything else (progress, "resumed at step K") goes to stderr.
 */
#ifndef CAIRN_EXAMPLE_H
#define CAIRN_EXAMPLE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ex_args {
    const char *prog;  /* program name, for messages */
    const char *store; /* -s */
    uint64_t n;        /* -n */
    double delay;      /* -d */
    int trace;         /* -v */
};

/* Parses a non-negative number, or exits with a message naming the option. */
static inline double ex_number(const struct ex_args *a, int opt, const char *text)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= 0)) {
        fprintf(stderr, "%s: -%c: not a non-negative number: '%s'\n", a->prog, opt, text);
        exit(2);
    }
    return v;
}

/*
 * Handles one of the common options returned by getopt(); returns 0 if `opt`
 * is not one of them (the caller handles its own, or prints its usage).
 */
static inline int ex_common_option(struct ex_args *a, int opt, const char *arg)
{
    switch (opt) {
    case 'n':
        a->n = (uint64_t)ex_number(a, opt, arg);
        return 1;
    case 'd':
        a->delay = ex_number(a, opt, arg);
        return 1;
    case 's':
        a->store = arg;
        return 1;
    case 'v':
        a->trace = 1;
        return 1;
    default:
        return 0;
    }
}

/* Called at the end of every step: trace it, then pause if asked to. */
static inline void ex_step_done(const struct ex_args *a, uint64_t step)
{
    if (a->trace)
        fprintf(stderr, "step %llu\n", (unsigned long long)step);
    if (a->delay > 0) {
        struct timespec ts = {(time_t)a->delay,
                              (long)((a->delay - (double)(time_t)a->delay) * 1e9)};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
}

/* Flushes stdout and reports whether the result really reached it: a job
   must not be marked finished if its answer was lost (a full disk, say). */
static inline int ex_flush_result(const struct ex_args *a)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    fprintf(stderr, "%s: cannot write the result: %s\n", a->prog, strerror(errno));
    return -1;
}

#endif /* CAIRN_EXAMPLE_H */
