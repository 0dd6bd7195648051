/* SPDX-License-Identifier: MIT */
/* threads_map.c — a multi-threaded job with a large anonymous mapping:
   3 workers each rewrite their own third of an array of MIB MiB every
   step, between two barriers with the main thread, which then prints its
   progress. A restore that maps the image (CAIRN_RESTORE_MAP=1) has its
   helper thread borrow a worker's tid (restore/ahead.c) before the worker
   is recreated at it. The output does not depend on the scheduling.
   Usage: threads_map MIB STEPS. Progress lines and the gate: progress.h. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "progress.h"

#define NW 3

static uint64_t *m;
static size_t words;
static long steps;
static pthread_barrier_t bar;

static void *worker(void *arg)
{
    size_t k = (size_t)(uintptr_t)arg, from = words / NW * k, to = words / NW * (k + 1);
    for (long s = 0; s < steps; s++) {
        pthread_barrier_wait(&bar);
        for (size_t i = from; i < to; i++)
            m[i] = m[i] * 6364136223846793005ull + (uint64_t)s + k;
        pthread_barrier_wait(&bar);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 64;
    steps = argc > 2 ? atol(argv[2]) : 100;
    words = mib << 17;
    m = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 1;
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < words; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        m[i] = x;
    }
    pthread_t t[NW];
    pthread_barrier_init(&bar, NULL, NW + 1);
    for (size_t k = 0; k < NW; k++)
        if (pthread_create(&t[k], NULL, worker, (void *)(uintptr_t)k) != 0)
            return 1;
    for (long s = 0; s < steps; s++) {
        pthread_barrier_wait(&bar);
        pthread_barrier_wait(&bar);
        progress("threads_map", s + 1, steps);
    }
    for (size_t k = 0; k < NW; k++)
        pthread_join(t[k], NULL);
    uint64_t sum = 0;
    for (size_t i = 0; i < words; i++)
        sum += m[i] >> 7;
    finish_gate();
    printf("threads_map %zu MiB x %ld: %llu\n", mib, steps, (unsigned long long)sum);
    return 0;
}
