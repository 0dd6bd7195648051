/* SPDX-License-Identifier: MIT */
/* threads_blocked.c — while the main thread computes and prints progress,
   the job's other threads spend nearly all their time blocked in the
   kernel when checkpoints land:
     - a waiter in pthread_cond_wait (a futex wait) on a condition the main
       thread signals only 10 times in the whole run;
     - a sleeper in nanosleep, clock_nanosleep (relative) and
       clock_nanosleep (TIMER_ABSTIME) of 250 ms each, retried on EINTR with
       the remaining time (or the same deadline);
     - with "pipe" as second argument only, a reader in read() on a pipe of
       the job that the main thread writes a byte into from time to time.
       cairn run refuses pipes other than fds 0-2 ("fd N is a pipe"), so
       the registered test runs without it.
   What is printed does not depend on when the threads ran: the waiter
   handles every signalled event by its number (none is lost if two come
   before it wakes), the reader sums bytes in the order written, the
   sleeper's number of sleeps is not printed. A failing sleep or read (not
   EINTR) exits 3 with a message.
   Usage: threads_blocked STEPS [pipe] (~1 ms of work per step). Progress
   lines and the gate: progress.h. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define EVENTS 10     /* condition signals in the whole run */
#define PIPE_BYTES 25 /* bytes written to the pipe in the whole run */

static pthread_mutex_t mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long posted; /* under mx */
static int quit;    /* under mx */
static atomic_int done;
static int pfd[2] = {-1, -1};

static uint64_t work(uint64_t x, long n)
{
    for (long j = 0; j < n; j++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
    return x ^ (x >> 29);
}

static void die(const char *what, int err)
{
    fprintf(stderr, "threads_blocked: %s: %s\n", what, strerror(err));
    exit(3);
}

struct waited {
    long handled;
    uint64_t sum;
};

static void *waiter(void *arg)
{
    struct waited *res = arg;
    pthread_mutex_lock(&mx);
    for (;;) {
        while (res->handled == posted && !quit)
            pthread_cond_wait(&cv, &mx);
        while (res->handled < posted) {
            res->handled++;
            res->sum = res->sum * 31 + work((uint64_t)res->handled, 1000);
        }
        if (quit)
            break;
    }
    pthread_mutex_unlock(&mx);
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (unsigned i = 0; !atomic_load(&done); i++) {
        struct timespec req = {0, 250000000}, rem, dl;
        int r;
        switch (i % 3) {
        case 0:
            while ((r = nanosleep(&req, &rem)) < 0 && errno == EINTR)
                req = rem;
            if (r < 0)
                die("nanosleep", errno);
            break;
        case 1:
            while ((r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem)) == EINTR)
                req = rem;
            if (r != 0)
                die("clock_nanosleep", r);
            break;
        default:
            clock_gettime(CLOCK_MONOTONIC, &dl);
            dl.tv_nsec += req.tv_nsec;
            if (dl.tv_nsec >= 1000000000) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000;
            }
            while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl, NULL)) == EINTR)
                ;
            if (r != 0)
                die("clock_nanosleep TIMER_ABSTIME", r);
            break;
        }
    }
    return NULL;
}

struct readres {
    long n;
    uint64_t sum;
};

static void *reader(void *arg)
{
    struct readres *res = arg;
    for (;;) {
        unsigned char b;
        ssize_t r = read(pfd[0], &b, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("read", errno);
        if (r == 0)
            die("read", EPIPE);
        if (b == 0)
            break;
        res->n++;
        res->sum = res->sum * 131 + b;
    }
    return NULL;
}

static void put_byte(unsigned char b)
{
    for (;;) {
        ssize_t r = write(pfd[1], &b, 1);
        if (r == 1)
            return;
        if (r < 0 && errno != EINTR)
            die("write", errno);
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    int with_pipe = argc > 2 && strcmp(argv[2], "pipe") == 0;
    struct waited wres = {0, 0};
    struct readres rres = {0, 0};
    pthread_t tw, ts, tr;
    if (with_pipe && pipe(pfd) < 0)
        die("pipe", errno);
    if (pthread_create(&tw, NULL, waiter, &wres) != 0 ||
        pthread_create(&ts, NULL, sleeper, NULL) != 0 ||
        (with_pipe && pthread_create(&tr, NULL, reader, &rres) != 0))
        return 2;
    uint64_t x = 1;
    long every_event = n / EVENTS > 0 ? n / EVENTS : 1;
    long every_byte = n / PIPE_BYTES > 0 ? n / PIPE_BYTES : 1;
    for (long i = 0; i < n; i++) {
        x = work(x + (uint64_t)i, 200000);
        if ((i + 1) % every_event == 0) {
            pthread_mutex_lock(&mx);
            posted++;
            pthread_cond_signal(&cv);
            pthread_mutex_unlock(&mx);
        }
        if (with_pipe && (i + 1) % every_byte == 0)
            put_byte((unsigned char)(1 + (x % 255)));
        progress("threads_blocked", i + 1, n);
    }
    finish_gate(); /* the other threads are still blocked */
    pthread_mutex_lock(&mx);
    quit = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mx);
    atomic_store(&done, 1);
    if (with_pipe)
        put_byte(0);
    pthread_join(tw, NULL);
    pthread_join(ts, NULL);
    if (with_pipe)
        pthread_join(tr, NULL);
    printf("threads_blocked %ld: %016llx, %ld events handled, sum %016llx\n", n,
           (unsigned long long)x, wres.handled, (unsigned long long)wres.sum);
    if (with_pipe)
        printf("pipe: %ld bytes, sum %016llx\n", rres.n, (unsigned long long)rres.sum);
    puts("sleeper stopped");
    return 0;
}
