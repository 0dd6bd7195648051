/* SPDX-License-Identifier: MIT */
/* threads_churn.c — threads are created and joined all the time, so
   checkpoints land while threads are being born, running, exiting and
   being joined: every step the main thread creates 3 threads (one with a
   small stack of its own size, one that itself creates and joins a fourth
   thread), each computes its chunk, and the main thread joins them in order
   and combines their results in that order.
   Usage: threads_churn STEPS (~4 chunks of ~0.1 ms of work per step).
   Progress lines and the gate: progress.h. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "progress.h"

#define PER_STEP 3
#define ITERS 60000L

struct chunk {
    uint64_t seed, out;
};

static uint64_t work(uint64_t x, long n)
{
    for (long j = 0; j < n; j++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
    return x ^ (x >> 29);
}

static void *leaf(void *arg)
{
    struct chunk *c = arg;
    c->out = work(c->seed, ITERS);
    return NULL;
}

/* Creates a grandchild for half the work and joins it. */
static void *parent(void *arg)
{
    struct chunk *c = arg;
    struct chunk g = {.seed = c->seed ^ 0x9e3779b97f4a7c15ull};
    pthread_t t;
    if (pthread_create(&t, NULL, leaf, &g) != 0)
        abort();
    uint64_t mine = work(c->seed, ITERS);
    pthread_join(t, NULL);
    c->out = mine * 3 + g.out;
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    pthread_attr_t small;
    pthread_attr_init(&small);
    pthread_attr_setstacksize(&small, 64 * 1024);
    uint64_t check = 0;
    long created = 0;
    for (long s = 0; s < n; s++) {
        struct chunk c[PER_STEP];
        pthread_t t[PER_STEP];
        for (int k = 0; k < PER_STEP; k++) {
            c[k] = (struct chunk){.seed = (uint64_t)(s * PER_STEP + k + 1)};
            if (pthread_create(&t[k], k == 1 ? &small : NULL, k == 2 ? parent : leaf, &c[k]) != 0)
                return 2;
            created += k == 2 ? 2 : 1;
        }
        for (int k = 0; k < PER_STEP; k++) {
            pthread_join(t[k], NULL);
            check = check * 1000003 + c[k].out;
        }
        progress("threads_churn", s + 1, n);
    }
    finish_gate();
    pthread_attr_destroy(&small);
    printf("threads_churn %ld: %ld threads, check %016llx\n", n, created,
           (unsigned long long)check);
    return 0;
}
