/* SPDX-License-Identifier: MIT */
/* threads_sync.c — a multi-threaded job: 4 workers do phased work under a
   pthread_mutex, a producer/consumer queue on two condition variables, a
   pthread_barrier and a pthread_rwlock, and count in __thread (TLS)
   variables; checkpoints land in any phase. Each worker computes its own
   deterministic part; the main thread combines the parts in a fixed order,
   only sums that do not depend on the order are taken under the mutex, so
   the output is the same whatever the scheduling.
   Usage: threads_sync STEPS (each step ~4 chunks of ~0.7 ms of work).
   Progress lines (printed by the main thread) and the gate: progress.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "progress.h"

#define NW 4       /* workers: 0 produces, 1..3 consume */
#define QCAP 8     /* queue capacity: the producer blocks when it is full */
#define QITEMS 48  /* items produced per step */
#define TABLE 64
#define ITERS 140000L

struct item {
    uint64_t v;
    int stop;
};

static long nsteps;
static pthread_barrier_t bar; /* the workers and the main thread */
static pthread_mutex_t mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static struct item queue[QCAP];
static int qhead, qlen;
static uint64_t shared_sum, consumed_sum, consumed_n; /* under mx */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static uint64_t table[TABLE]; /* read under rdlock, written under wrlock */
static uint64_t partial[NW], partial2[NW];
static __thread uint64_t tls_ops, tls_mix;

struct result {
    uint64_t ops, mix;
};
static struct result results[NW];

static uint64_t work(uint64_t x, long n)
{
    for (long j = 0; j < n; j++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
    return x ^ (x >> 29);
}

static void push(struct item it)
{
    pthread_mutex_lock(&mx);
    while (qlen == QCAP)
        pthread_cond_wait(&not_full, &mx);
    queue[(qhead + qlen) % QCAP] = it;
    qlen++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&mx);
}

static struct item pop(void)
{
    pthread_mutex_lock(&mx);
    while (qlen == 0)
        pthread_cond_wait(&not_empty, &mx);
    struct item it = queue[qhead];
    qhead = (qhead + 1) % QCAP;
    qlen--;
    pthread_cond_broadcast(&not_full);
    pthread_mutex_unlock(&mx);
    return it;
}

/* Worker 1 runs under SCHED_BATCH at nice 7, which it asks for itself
   (both per thread, both allowed unprivileged): a restore gives them back. */
#define BATCH_NICE 7
static int sched_kept = 1;

static void *worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    struct sched_param none = {0};
    if (w == 1 && (sched_setscheduler(0, SCHED_BATCH, &none) != 0 ||
                   setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), BATCH_NICE) != 0))
        sched_kept = 0;
    for (long s = 0; s < nsteps; s++) {
        /* A: own chunk; TLS counters; an order-free sum under the mutex. */
        uint64_t h = work((uint64_t)(s * NW + w + 1), ITERS);
        tls_ops++;
        tls_mix = tls_mix * 31 + h;
        partial[w] = h;
        pthread_mutex_lock(&mx);
        shared_sum += h;
        pthread_mutex_unlock(&mx);

        /* B: producer/consumer. Which consumer gets which item varies; the
           sum and the count of all items do not. */
        if (w == 0) {
            for (int k = 0; k < QITEMS; k++)
                push((struct item){.v = work(h + (uint64_t)k, 2000)});
            for (int k = 1; k < NW; k++)
                push((struct item){.stop = 1});
        } else {
            uint64_t sum = 0, n = 0;
            for (;;) {
                struct item it = pop();
                if (it.stop)
                    break;
                sum += it.v;
                n++;
            }
            pthread_mutex_lock(&mx);
            consumed_sum += sum;
            consumed_n += n;
            pthread_mutex_unlock(&mx);
        }

        /* C: everyone reads the table under the read lock (nobody writes
           in this phase), a second chunk of work on what was read. */
        pthread_rwlock_rdlock(&rw);
        uint64_t r = (uint64_t)w;
        for (int j = 0; j < TABLE; j++)
            r = r * 1099511628211ull ^ table[(j + w) % TABLE];
        pthread_rwlock_unlock(&rw);
        partial2[w] = work(r, ITERS);
        tls_ops++;
        pthread_barrier_wait(&bar); /* 1: the main thread combines */

        /* D: one writer per step, under the write lock. */
        if (w == s % NW) {
            pthread_rwlock_wrlock(&rw);
            table[s % TABLE] ^= h + partial2[w];
            pthread_rwlock_unlock(&rw);
        }
        pthread_barrier_wait(&bar); /* 2: the next step may begin */
    }
    pthread_barrier_wait(&bar); /* held until the main thread has passed the gate */
    errno = 0;
    if (w == 1 && (sched_getscheduler(0) != SCHED_BATCH ||
                   getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid)) != BATCH_NICE))
        sched_kept = 0;
    results[w] = (struct result){tls_ops, tls_mix};
    return NULL;
}

int main(int argc, char **argv)
{
    nsteps = argc > 1 ? atol(argv[1]) : 300;
    pthread_t t[NW];
    pthread_barrier_init(&bar, NULL, NW + 1);
    for (int w = 0; w < NW; w++)
        if (pthread_create(&t[w], NULL, worker, (void *)(intptr_t)w) != 0)
            return 2;
    uint64_t check = 0;
    for (long s = 0; s < nsteps; s++) {
        pthread_barrier_wait(&bar);
        for (int w = 0; w < NW; w++)
            check = check * 1000003 + partial[w] + 7 * partial2[w];
        progress("threads_sync", s + 1, nsteps);
        pthread_barrier_wait(&bar);
    }
    finish_gate(); /* the workers are still there, waiting on the barrier */
    pthread_barrier_wait(&bar);
    uint64_t tab = 0;
    for (int w = 0; w < NW; w++)
        pthread_join(t[w], NULL);
    for (int j = 0; j < TABLE; j++)
        tab = tab * 31 + table[j];
    printf("threads_sync %ld: check %016llx shared %016llx consumed %llu items sum %016llx "
           "table %016llx\n",
           nsteps, (unsigned long long)check, (unsigned long long)shared_sum,
           (unsigned long long)consumed_n, (unsigned long long)consumed_sum,
           (unsigned long long)tab);
    for (int w = 0; w < NW; w++)
        printf("worker %d: tls ops %llu mix %016llx\n", w, (unsigned long long)results[w].ops,
               (unsigned long long)results[w].mix);
    if (!sched_kept) {
        fprintf(stderr, "threads_sync: worker 1 lost its SCHED_BATCH policy or nice value\n");
        return 5;
    }
    return 0;
}
