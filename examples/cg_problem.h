/* SPDX-License-Identifier: MIT */
/*
 * cg_problem.h — the input of the conjugate-gradient example: a sparse
 * symmetric positive-definite matrix A and a right-hand side b, in a plain
 * text file that cg-gen writes and cg reads.
 *
 * Format ("cairn-cg 1"), whitespace-separated, numbers printed with %.17g so
 * they read back exactly:
 *
 *     cairn-cg 1
 *     N NNZ
 *     I J VALUE        NNZ lines: 0-based row and column, rows in order
 *     B_I              N lines
 *
 * The matrix is input, not state: it is the same on every run, so cg reads it
 * again on restart instead of putting it in every checkpoint (the MATLAB
 * tutorial's cgfull.m makes the same choice).
 */
#ifndef CAIRN_CG_PROBLEM_H
#define CAIRN_CG_PROBLEM_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CG_MAGIC "cairn-cg 1"

/* A in compressed sparse row form, and b. */
struct cg_problem {
    uint64_t n, nnz;
    uint64_t *rowptr; /* n + 1 */
    uint64_t *col;    /* nnz */
    double *val;      /* nnz */
    double *b;        /* n */
};

static inline void cg_problem_free(struct cg_problem *p)
{
    free(p->rowptr);
    free(p->col);
    free(p->val);
    free(p->b);
}

/* Reads the entries of A into CSR; returns 0, or -1 with a message. */
static inline int cg_read_entries(FILE *f, const char *path, struct cg_problem *p)
{
    uint64_t row = 0;
    p->rowptr[0] = 0;
    for (uint64_t e = 0; e < p->nnz; e++) {
        unsigned long long i, j;
        double v;
        if (fscanf(f, "%llu %llu %lf", &i, &j, &v) != 3 || i >= p->n || j >= p->n || i < row) {
            fprintf(stderr, "cg: %s: entry %llu is malformed, out of range or out of row order\n",
                    path, (unsigned long long)e + 1);
            return -1;
        }
        while (row < i)
            p->rowptr[++row] = e;
        p->col[e] = j;
        p->val[e] = v;
    }
    while (row < p->n)
        p->rowptr[++row] = p->nnz;
    return 0;
}

/* Reads a problem file; returns 0, or -1 after a message naming the file. */
static inline int cg_problem_read(const char *path, struct cg_problem *p)
{
    *p = (struct cg_problem){0};
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char magic[32] = "";
    unsigned long long n, nnz;
    int rc = -1;
    if (!fgets(magic, sizeof magic, f) || strncmp(magic, CG_MAGIC "\n", sizeof magic) != 0 ||
        fscanf(f, "%llu %llu", &n, &nnz) != 2 || n == 0 || n > (1u << 30) || nnz > (1u << 30)) {
        fprintf(stderr, "cg: %s: not a \"" CG_MAGIC "\" problem file\n", path);
        goto out;
    }
    p->n = n;
    p->nnz = nnz;
    p->rowptr = malloc((n + 1) * sizeof *p->rowptr);
    p->col = malloc((nnz ? nnz : 1) * sizeof *p->col);
    p->val = malloc((nnz ? nnz : 1) * sizeof *p->val);
    p->b = malloc(n * sizeof *p->b);
    if (!p->rowptr || !p->col || !p->val || !p->b) {
        fprintf(stderr, "cg: %s: out of memory for n = %llu, nnz = %llu\n", path, n, nnz);
        goto out;
    }
    if (cg_read_entries(f, path, p) < 0)
        goto out;
    for (uint64_t i = 0; i < n; i++)
        if (fscanf(f, "%lf", &p->b[i]) != 1) {
            fprintf(stderr, "cg: %s: right-hand side entry %llu is missing\n", path,
                    (unsigned long long)i + 1);
            goto out;
        }
    rc = 0;
out:
    fclose(f);
    if (rc < 0)
        cg_problem_free(p);
    return rc;
}

#endif /* CAIRN_CG_PROBLEM_H */
