/* SPDX-License-Identifier: MIT */
/*
 * fib.c — Fibonacci terms and their ratios, which approach the golden ratio.
 *
 * The MATLAB tutorial's first example (fib.m): x(n) = x(n-1) + x(n-2), and
 * r = x(n)/x(n-1) tends to (1 + sqrt 5)/2. Unlike sum.c the state grows:
 * every step appends a term to an array. cairn_protect_buffer() registers a
 * malloc'ed buffer by the address of its pointer and of its size, so each
 * checkpoint saves it at its current size, and a restore reallocates it to
 * the size saved.
 *
 *     fib -n 1000 -d 0.01      # 1000 terms (at most 1477 fit in a double)
 */
#include <getopt.h>
#include <inttypes.h>

#include "cairn.h"
#include "example.h"

#define MAX_TERMS 1477 /* x(1476) ~ 1.3e308 is the last finite double */

static void usage(void)
{
    fprintf(stderr, "usage: fib [-n TERMS (3..%d)] [-d SECONDS] [-s STORE] [-v]\n", MAX_TERMS);
    exit(2);
}

/* Appends x(terms) to the buffer; returns -1 if out of memory. */
static int next_term(void **buf, size_t *size, uint64_t terms)
{
    double *x = realloc(*buf, (terms + 1) * sizeof *x);
    if (!x)
        return -1;
    x[terms] = x[terms - 1] + x[terms - 2];
    *buf = x;
    *size = (terms + 1) * sizeof *x;
    return 0;
}

int main(int argc, char **argv)
{
    struct ex_args a = {.prog = "fib", .store = "fib.ckpt", .n = 10};
    int opt;
    while ((opt = getopt(argc, argv, "n:d:s:v")) != -1)
        if (!ex_common_option(&a, opt, optarg))
            usage();
    if (a.n < 3 || a.n > MAX_TERMS)
        usage();

    /* The state of the job: how many terms, and the terms themselves. */
    uint64_t terms = 2;
    size_t size = 2 * sizeof(double);
    void *buf = malloc(size);
    if (!buf)
        return 1;
    ((double *)buf)[0] = 0;
    ((double *)buf)[1] = 1;

    cairn_t *c;
    int rc = cairn_open(&c, a.store, NULL);
    if (rc < 0) {
        fprintf(stderr, "fib: cannot open checkpoint store %s: %s\n", a.store, cairn_strerror(rc));
        free(buf);
        return 1;
    }
    if ((rc = cairn_protect(c, "terms", &terms, sizeof terms)) < 0 ||
        (rc = cairn_protect_buffer(c, "x", &buf, &size)) < 0 || (rc = cairn_restore(c)) < 0) {
        fprintf(stderr, "fib: cannot restore from %s: %s\n", a.store, cairn_strerror(rc));
        cairn_close(c);
        free(buf);
        return 1;
    }
    if (rc == CAIRN_RESTORED)
        fprintf(stderr, "fib: resumed at step %" PRIu64 "\n", terms);

    while (terms < a.n) {
        if (next_term(&buf, &size, terms) < 0) {
            fprintf(stderr, "fib: out of memory at term %" PRIu64 "\n", terms);
            cairn_close(c);
            free(buf);
            return 1;
        }
        terms++;
        ex_step_done(&a, terms);
        rc = cairn_step(c);
        if (rc < 0)
            fprintf(stderr, "fib: checkpoint failed (%s); going on\n", cairn_strerror(rc));
    }

    const double *x = buf;
    double ratio = x[terms - 1] / x[terms - 2];
    printf("after %" PRIu64 " terms: x(%" PRIu64 ") = %.17g\n", terms, terms - 1, x[terms - 1]);
    printf("ratio x(%" PRIu64 ")/x(%" PRIu64 ") = %.17g (%a)\n", terms - 1, terms - 2, ratio,
           ratio);
    printf("golden ratio minus ratio = %.17g\n", 1.6180339887498949 - ratio);
    rc = ex_flush_result(&a);
    if (rc == 0)
        rc = cairn_complete(c);
    cairn_close(c);
    free(buf);
    return rc < 0;
}
