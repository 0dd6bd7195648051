/* SPDX-License-Identifier: MIT */
/*
 * cg.c — solve A x = b by conjugate gradients, and survive being killed.
 *
 * The MATLAB tutorial's "more realistic example" (cgfull.m). Two lessons:
 *  - Protect the state, not the input. The matrix A and b come from an input
 *    file (see cg_problem.h; cg-gen writes one) and are read again on every
 *    start. Only what the iteration changes is protected: the iterates x, r,
 *    p, the iteration count k and the scalar r.r.
 *  - Every value the next iteration reads must be protected or recomputable.
 *    A*p is scratch: it is recomputed from p at the top of each iteration,
 *    so it is not saved, and a resumed solve is bit-for-bit the same.
 *
 *     cg-gen -m 100 problem.txt
 *     cg -d 0.01 problem.txt        # prints iterations, residual, a digest of x
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>

#include "cairn.h"
#include "cg_problem.h"
#include "example.h"

/* The iterates: all the solver's state. */
struct cg_state {
    uint64_t k; /* iterations done */
    double rr;  /* r . r */
    double *x, *r, *p;
};

static void spmv(const struct cg_problem *A, const double *v, double *out)
{
    for (uint64_t i = 0; i < A->n; i++) {
        double s = 0;
        for (uint64_t e = A->rowptr[i]; e < A->rowptr[i + 1]; e++)
            s += A->val[e] * v[A->col[e]];
        out[i] = s;
    }
}

static double dot(uint64_t n, const double *a, const double *b)
{
    double s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* One CG iteration; ap is scratch of length n. */
static void cg_iteration(const struct cg_problem *A, struct cg_state *s, double *ap)
{
    uint64_t n = A->n;
    spmv(A, s->p, ap);
    double alpha = s->rr / dot(n, s->p, ap);
    for (uint64_t i = 0; i < n; i++) {
        s->x[i] += alpha * s->p[i];
        s->r[i] -= alpha * ap[i];
    }
    double rr = dot(n, s->r, s->r), beta = rr / s->rr;
    for (uint64_t i = 0; i < n; i++)
        s->p[i] = s->r[i] + beta * s->p[i];
    s->rr = rr;
    s->k++;
}

/* FNV-1a over the bytes of x: one line that changes if any bit of x does. */
static uint64_t digest(const double *x, uint64_t n)
{
    const unsigned char *b = (const unsigned char *)x;
    uint64_t h = 0xcbf29ce484222325u;
    for (uint64_t i = 0; i < n * sizeof *x; i++)
        h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

/* Registers the state and restores it; returns cairn_restore()'s result. */
static int protect_and_restore(cairn_t *c, struct cg_state *s, uint64_t n)
{
    size_t bytes = n * sizeof(double);
    int rc;
    if ((rc = cairn_protect(c, "k", &s->k, sizeof s->k)) < 0 ||
        (rc = cairn_protect(c, "rr", &s->rr, sizeof s->rr)) < 0 ||
        (rc = cairn_protect(c, "x", s->x, bytes)) < 0 ||
        (rc = cairn_protect(c, "r", s->r, bytes)) < 0 ||
        (rc = cairn_protect(c, "p", s->p, bytes)) < 0)
        return rc;
    return cairn_restore(c);
}

/* Iterates until |r| <= tol |b| or maxit iterations; returns 0 or -1. */
static int solve(const struct ex_args *a, const struct cg_problem *A, struct cg_state *s,
                 double tol)
{
    uint64_t maxit = a->n ? a->n : 10 * A->n;
    double stop = tol * sqrt(dot(A->n, A->b, A->b));
    double *ap = malloc(A->n * sizeof *ap);
    cairn_t *c;
    int rc = ap ? cairn_open(&c, a->store, NULL) : -ENOMEM;
    if (rc < 0) {
        fprintf(stderr, "cg: cannot open checkpoint store %s: %s\n", a->store, cairn_strerror(rc));
        free(ap);
        return -1;
    }
    rc = protect_and_restore(c, s, A->n);
    if (rc == CAIRN_RESTORED)
        fprintf(stderr, "cg: resumed at step %" PRIu64 "\n", s->k);
    while (rc >= 0 && s->k < maxit && sqrt(s->rr) > stop) {
        cg_iteration(A, s, ap);
        ex_step_done(a, s->k);
        if ((rc = cairn_step(c)) < 0) {
            fprintf(stderr, "cg: checkpoint failed (%s); going on\n", cairn_strerror(rc));
            rc = 0;
        }
    }
    if (rc < 0)
        fprintf(stderr, "cg: cannot restore from %s: %s\n", a->store, cairn_strerror(rc));
    else {
        printf("%s after %" PRIu64 " iterations: |r|/|b| = %.17g\n",
               sqrt(s->rr) <= stop ? "converged" : "NOT converged", s->k,
               sqrt(s->rr / dot(A->n, A->b, A->b)));
        printf("x[0] = %.17g, x digest = %016" PRIx64 "\n", s->x[0], digest(s->x, A->n));
        rc = ex_flush_result(a);
        if (rc == 0)
            rc = cairn_complete(c);
    }
    cairn_close(c);
    free(ap);
    return rc < 0 ? -1 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: cg [-n MAXIT] [-t TOL] [-d SECONDS] [-s STORE] [-v] PROBLEM\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct ex_args a = {.prog = "cg", .store = "cg.ckpt"};
    double tol = 1e-10;
    int opt;
    while ((opt = getopt(argc, argv, "n:t:d:s:v")) != -1) {
        if (opt == 't')
            tol = ex_number(&a, opt, optarg);
        else if (!ex_common_option(&a, opt, optarg))
            usage();
    }
    if (optind != argc - 1)
        usage();

    struct cg_problem A;
    if (cg_problem_read(argv[optind], &A) < 0)
        return 1;
    /* Fresh start: x = 0, so r = p = b. A restore overwrites all of it. */
    struct cg_state s = {.x = calloc(A.n, sizeof(double)),
                         .r = malloc(A.n * sizeof(double)),
                         .p = malloc(A.n * sizeof(double))};
    int rc = -1;
    if (s.x && s.r && s.p) {
        memcpy(s.r, A.b, A.n * sizeof(double));
        memcpy(s.p, A.b, A.n * sizeof(double));
        s.rr = dot(A.n, A.b, A.b);
        rc = solve(&a, &A, &s, tol);
    } else
        fprintf(stderr, "cg: out of memory for %" PRIu64 " unknowns\n", A.n);
    free(s.x);
    free(s.r);
    free(s.p);
    cg_problem_free(&A);
    return rc < 0;
}
