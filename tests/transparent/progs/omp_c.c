/* SPDX-License-Identifier: MIT */
/* omp_c.c — an OpenMP job (gcc -fopenmp, run with OMP_NUM_THREADS=4): each
   step is a parallel loop with an integer reduction (exact, so the same in
   any order), a statically scheduled loop whose per-thread floating-point
   partials are summed in thread order (the same for a given thread count),
   and a critical section; libgomp's thread pool lives across the steps, so
   checkpoints find its threads computing, spinning or asleep on a futex.
   Usage: omp_c STEPS (~64 chunks of ~0.05 ms per step). Progress lines
   (outside the parallel regions) and the gate: progress.h. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "progress.h"

#define ITEMS 64
#define ITERS 12000L
#define MAXT 64

static uint64_t work(uint64_t x, long n)
{
    for (long j = 0; j < n; j++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
    return x ^ (x >> 29);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    int nt = omp_get_max_threads();
    if (nt > MAXT)
        return 2;
    uint64_t isum = 0, crit = 0;
    double fsum = 0;
    for (long s = 0; s < n; s++) {
        uint64_t step = 0;
#pragma omp parallel for schedule(dynamic, 2) reduction(+ : step)
        for (int i = 0; i < ITEMS; i++)
            step += work((uint64_t)(s * ITEMS + i + 1), ITERS);
        isum = isum * 1000003 + step;

        double part[MAXT] = {0};
#pragma omp parallel
        {
            int t = omp_get_thread_num();
            uint64_t mine = 0;
#pragma omp for schedule(static)
            for (int i = 0; i < ITEMS; i++) {
                uint64_t h = work((uint64_t)(s * ITEMS + i) ^ step, ITERS / 4);
                part[t] += sqrt((double)(h >> 11)) * 1e-3;
                mine += h;
            }
#pragma omp critical
            crit += mine;
        }
        for (int t = 0; t < nt; t++)
            fsum += part[t];
        progress("omp_c", s + 1, n);
    }
    finish_gate();
    printf("omp_c %ld (%d threads): isum %016llx crit %016llx fsum %.17g\n", n, nt,
           (unsigned long long)isum, (unsigned long long)crit, fsum);
    return 0;
}
