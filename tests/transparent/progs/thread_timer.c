/* SPDX-License-Identifier: MIT */
/* thread_timer.c — a POSIX timer (timer_create, SIGEV_THREAD_ID) sends
   SIGRTMIN+1 every 2 ms to one worker thread, whose handler counts the
   ticks; the worker does the job's work and prints its progress, every
   call it makes may be interrupted (SA_RESTART), while the main thread
   waits in pthread_join. The output is only the deterministic work, never
   the tick count (written to stderr, which is not compared). Checks that
   the ticks go to the worker only: a tick in another thread exits 3.
   Usage: thread_timer STEPS [pending] (~1 ms of work per step). With
   "pending" the worker also blocks SIGUSR2 and sends it to itself
   (pthread_kill): a signal pending for that thread alone across every
   checkpoint, handled once at the end (the fuzz seeds' thread-signal
   section, tests/fuzz/gen-process-corpus; the output is the same).
   Progress lines and the gate: progress.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static long nsteps;
static pid_t worker_tid;
static pthread_mutex_t mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready; /* under mx: worker_tid is set */
static volatile sig_atomic_t ticks, stray, usr2;
static int pending_mode;
static uint64_t result;

static uint64_t work(uint64_t x, long n)
{
    for (long j = 0; j < n; j++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
    return x ^ (x >> 29);
}

static void on_tick(int sig)
{
    (void)sig;
    int e = errno;
    if ((pid_t)syscall(SYS_gettid) == worker_tid)
        ticks++;
    else
        stray = 1;
    errno = e;
}

static void on_usr2(int sig)
{
    (void)sig;
    usr2++;
}

static void *worker(void *arg)
{
    (void)arg;
    sigset_t usr2_set;
    sigemptyset(&usr2_set);
    sigaddset(&usr2_set, SIGUSR2);
    if (pending_mode) {
        pthread_sigmask(SIG_BLOCK, &usr2_set, NULL);
        pthread_kill(pthread_self(), SIGUSR2);
    }
    pthread_mutex_lock(&mx);
    worker_tid = (pid_t)syscall(SYS_gettid);
    ready = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mx);
    uint64_t x = 1;
    for (long i = 0; i < nsteps; i++) {
        x = work(x + (uint64_t)i, 200000);
        progress("thread_timer", i + 1, nsteps);
    }
    finish_gate();
    if (pending_mode)
        pthread_sigmask(SIG_UNBLOCK, &usr2_set, NULL);
    result = x;
    return NULL;
}

int main(int argc, char **argv)
{
    nsteps = argc > 1 ? atol(argv[1]) : 1000;
    pending_mode = argc > 2 && strcmp(argv[2], "pending") == 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGRTMIN + 1, &sa, NULL) < 0)
        return 2;
    sa.sa_handler = on_usr2;
    if (sigaction(SIGUSR2, &sa, NULL) < 0)
        return 2;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 2;
    pthread_mutex_lock(&mx);
    while (!ready)
        pthread_cond_wait(&cv, &mx);
    pthread_mutex_unlock(&mx);

    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGRTMIN + 1;
    ev.sigev_notify_thread_id = worker_tid;
    timer_t tm;
    if (timer_create(CLOCK_MONOTONIC, &ev, &tm) < 0) {
        perror("thread_timer: timer_create");
        return 2;
    }
    struct itimerspec its = {{0, 2000000}, {0, 2000000}};
    if (timer_settime(tm, 0, &its, NULL) < 0) {
        perror("thread_timer: timer_settime");
        return 2;
    }
    pthread_join(t, NULL);
    /* The timer is still there, armed with its period (after restores:
       re-created with its id). */
    struct itimerspec now;
    if (timer_gettime(tm, &now) < 0 || now.it_interval.tv_nsec != 2000000) {
        fprintf(stderr, "thread_timer: the timer is gone or changed\n");
        return 4;
    }
    timer_delete(tm);
    if (stray) {
        fprintf(stderr, "thread_timer: a tick reached a thread other than the worker\n");
        return 3;
    }
    if (pending_mode && usr2 != 1) {
        fprintf(stderr, "thread_timer: SIGUSR2 handled %d times, not once\n", (int)usr2);
        return 5;
    }
    fprintf(stderr, "thread_timer: %ld ticks in this run\n", (long)ticks);
    printf("thread_timer %ld: %016llx\n", nsteps, (unsigned long long)result);
    return 0;
}
