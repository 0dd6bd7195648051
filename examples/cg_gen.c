/* SPDX-License-Identifier: MIT */
/*
 * cg_gen.c — writes a test problem for the cg example (format in
 * cg_problem.h): the 5-point Laplacian on an M x M grid plus SHIFT on the
 * diagonal, which is symmetric positive-definite, and b = A * ones + e,
 * with e a small fixed pattern so the solution is not trivially constant.
 * The output depends only on M and SHIFT, so tests can regenerate it.
 *
 *     cg-gen [-m M] [-S SHIFT] OUTPUT       (defaults: M = 64, SHIFT = 0.01)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_problem.h"

static void usage(void)
{
    fprintf(stderr, "usage: cg-gen [-m GRID] [-S SHIFT] OUTPUT\n");
    exit(2);
}

/* Writes the entries of row i, columns in increasing order. */
static void row_entries(unsigned long m, double shift, unsigned long i, FILE *out)
{
    unsigned long gx = i % m, gy = i / m;
    if (gy > 0)
        fprintf(out, "%lu %lu -1\n", i, i - m);
    if (gx > 0)
        fprintf(out, "%lu %lu -1\n", i, i - 1);
    fprintf(out, "%lu %lu %.17g\n", i, i, 4 + shift);
    if (gx + 1 < m)
        fprintf(out, "%lu %lu -1\n", i, i + 1);
    if (gy + 1 < m)
        fprintf(out, "%lu %lu -1\n", i, i + m);
}

/* Row sum of A (so b = A * ones) plus a small deterministic pattern. */
static double rhs(unsigned long m, double shift, unsigned long i)
{
    unsigned long gx = i % m, gy = i / m;
    double neighbours = (gx > 0) + (gx + 1 < m) + (gy > 0) + (gy + 1 < m);
    return 4 + shift - neighbours + (double)(i % 7) / 8;
}

int main(int argc, char **argv)
{
    unsigned long m = 64;
    double shift = 0.01;
    int opt;
    while ((opt = getopt(argc, argv, "m:S:")) != -1) {
        char *end;
        errno = 0;
        if (opt == 'm')
            m = strtoul(optarg, &end, 10);
        else if (opt == 'S')
            shift = strtod(optarg, &end);
        else
            usage();
        if (errno || end == optarg || *end)
            usage();
    }
    if (optind != argc - 1 || m < 1 || m > 10000 || !(shift > 0))
        usage();

    const char *path = argv[optind];
    FILE *out = fopen(path, "w");
    if (!out) {
        perror(path);
        return 1;
    }
    unsigned long n = m * m, nnz = 5 * n - 4 * m;
    fprintf(out, CG_MAGIC "\n%lu %lu\n", n, nnz);
    for (unsigned long i = 0; i < n; i++)
        row_entries(m, shift, i, out);
    for (unsigned long i = 0; i < n; i++)
        fprintf(out, "%.17g\n", rhs(m, shift, i));
    if (fclose(out) != 0) {
        fprintf(stderr, "cg-gen: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}
