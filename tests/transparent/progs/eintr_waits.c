/* SPDX-License-Identifier: MIT */
/* eintr_waits.c — a job blocked, in every thread, in the waits a signal
   handler can end with EINTR, while cairn checkpoints it: none may see
   EINTR that the job did not cause (runtime/eintr.c), and none may end
   early. Usage: eintr_waits N [sysv]: N steps; each step the main thread
   (which takes the checkpoint signal) goes once through every timed wait
   of the list below, 1 ms each; meanwhile a thread per kind of wait loops
   in it (those threads take the park signal), a kicker thread ending the
   waits that need an event (a byte, a post, a signal of the job's, a lock
   released) about every millisecond. With "sysv" the job also waits on a
   SysV semaphore and message queue (which a checkpoint refuses, but must
   not interrupt either).

   Printed: progress lines (progress.h), then one line: "eintr_waits: 22
   kinds of wait, none ended early", or which saw EINTR ("KIND: N EINTR")
   or failed otherwise: the same in every run unless a checkpoint shows
   through. A signal wait that returns without the job's
   signal having come counts as an EINTR. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

enum kind {
    K_POLL, K_PPOLL, K_SELECT, K_PSELECT, K_EPOLL_WAIT, K_EPOLL_PWAIT, K_EPOLL_PWAIT2,
    K_NANOSLEEP, K_CLOCK_REL, K_CLOCK_ABS, K_USLEEP, K_SIGTIMEDWAIT, K_SEM_TIMEDWAIT,
    K_COND_TIMEDWAIT, /* the timed ones, also run by the main thread */
    K_SLEEP, K_SIGWAITINFO, K_SIGSUSPEND, K_PAUSE, K_SEM_WAIT, K_READ, K_FLOCK, K_OFD_LOCK,
    K_SEMOP, K_MSGRCV, K_COUNT
};
#define N_TIMED (K_COND_TIMEDWAIT + 1)

static const char *const names[K_COUNT] = {
    "poll", "ppoll", "select", "pselect", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    "nanosleep", "clock_nanosleep relative", "clock_nanosleep absolute", "usleep",
    "sigtimedwait", "sem_timedwait", "pthread_cond_timedwait", "sleep", "sigwaitinfo",
    "sigsuspend", "pause", "sem_wait", "read on a pipe", "flock", "OFD lock (F_OFD_SETLKW)",
    "semop", "msgrcv"};

static atomic_int stop, finished;
static atomic_long eintrs[K_COUNT];
static char errors[K_COUNT][96];
static int sysv;

static int quiet_pipe[2], busy_pipe[2], epfd, semid, msqid;
static char lock_path[64];
static sem_t sem_quiet, sem_busy;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_t waiter[K_COUNT];
static atomic_int job_signals[K_COUNT]; /* the job's own signals received */

static void on_usr1(int sig)
{
    (void)sig;
    for (int k = 0; k < K_COUNT; k++)
        if (waiter[k] && pthread_equal(waiter[k], pthread_self()))
            job_signals[k]++;
}

static void error_of(enum kind k, const char *what)
{
    if (!errors[k][0])
        snprintf(errors[k], sizeof errors[k], "%s: %s", what, strerror(errno));
}

/* rc: the wait's result; bad: it failed other than by its timeout. */
static void judge(enum kind k, int failed, int err)
{
    if (!failed)
        return;
    if (err == EINTR)
        eintrs[k]++;
    else {
        errno = err;
        error_of(k, "failed");
    }
}

static struct timespec ms_from_now(clockid_t clock, long ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_nsec += ms * 1000000;
    t.tv_sec += t.tv_nsec / 1000000000;
    t.tv_nsec %= 1000000000;
    return t;
}

/* One timed wait of 1 ms that ends by its timeout. */
static void timed_wait(enum kind k)
{
    struct pollfd p = {quiet_pipe[0], POLLIN, 0};
    struct timespec ms1 = {0, 1000000}, t;
    struct timeval tv = {0, 1000};
    struct epoll_event ev;
    fd_set r;
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    FD_ZERO(&r);
    FD_SET(quiet_pipe[0], &r);
    int rc, e;
    switch (k) {
    case K_POLL: rc = poll(&p, 1, 1); e = errno; judge(k, rc != 0, e); break;
    case K_PPOLL: rc = ppoll(&p, 1, &ms1, NULL); e = errno; judge(k, rc != 0, e); break;
    case K_SELECT: rc = select(quiet_pipe[0] + 1, &r, NULL, NULL, &tv); e = errno; judge(k, rc != 0, e); break;
    case K_PSELECT: rc = pselect(quiet_pipe[0] + 1, &r, NULL, NULL, &ms1, NULL); e = errno; judge(k, rc != 0, e); break;
    case K_EPOLL_WAIT: rc = epoll_wait(epfd, &ev, 1, 1); e = errno; judge(k, rc != 0, e); break;
    case K_EPOLL_PWAIT: rc = epoll_pwait(epfd, &ev, 1, 1, NULL); e = errno; judge(k, rc != 0, e); break;
    case K_EPOLL_PWAIT2: rc = epoll_pwait2(epfd, &ev, 1, &ms1, NULL); e = errno; judge(k, rc != 0, e); break;
    case K_NANOSLEEP: rc = nanosleep(&ms1, NULL); e = errno; judge(k, rc != 0, e); break;
    case K_CLOCK_REL: rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &ms1, NULL); judge(k, rc != 0, rc); break;
    case K_CLOCK_ABS:
        t = ms_from_now(CLOCK_MONOTONIC, 1);
        rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
        judge(k, rc != 0, rc);
        break;
    case K_USLEEP: rc = usleep(1000); e = errno; judge(k, rc != 0, e); break;
    case K_SIGTIMEDWAIT:
        rc = sigtimedwait(&usr2, NULL, &ms1);
        e = errno;
        judge(k, !(rc < 0 && e == EAGAIN), rc < 0 ? e : 0);
        break;
    case K_SEM_TIMEDWAIT:
        t = ms_from_now(CLOCK_REALTIME, 1);
        rc = sem_timedwait(&sem_quiet, &t);
        e = errno;
        judge(k, !(rc < 0 && e == ETIMEDOUT), rc < 0 ? e : 0);
        break;
    case K_COND_TIMEDWAIT:
        t = ms_from_now(CLOCK_REALTIME, 1);
        pthread_mutex_lock(&mu);
        rc = pthread_cond_timedwait(&cv, &mu, &t);
        pthread_mutex_unlock(&mu);
        judge(k, rc != ETIMEDOUT, rc);
        break;
    default: break;
    }
}

/* A signal wait that ended: the job's signal must have come. */
static void got_signal(enum kind k, int seen)
{
    if (job_signals[k] == seen)
        eintrs[k]++;
}

/* One wait that an event of the kicker's ends. */
static void event_wait(enum kind k, int lockfd)
{
    sigset_t set, none;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigemptyset(&none);
    struct timespec s1 = {1, 0};
    char c;
    int rc, e, seen = job_signals[k];
    struct sembuf down = {0, -1, 0};
    struct { long type; char c; } m;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    switch (k) {
    case K_SLEEP: judge(k, sleep(1) != 0, EINTR); break;
    case K_SIGWAITINFO: rc = sigwaitinfo(&set, NULL); e = errno; judge(k, rc != SIGUSR2, e); break;
    case K_SIGSUSPEND:
        rc = sigsuspend(&none); /* SIGUSR1, blocked in this thread, allowed here */
        got_signal(k, seen);
        break;
    case K_PAUSE: pause(); got_signal(k, seen); break;
    case K_SEM_WAIT: rc = sem_wait(&sem_busy); e = errno; judge(k, rc != 0, e); break;
    case K_READ: rc = (int)read(busy_pipe[0], &c, 1); e = errno; judge(k, rc != 1, e); break;
    case K_FLOCK:
        rc = flock(lockfd, LOCK_EX);
        e = errno;
        judge(k, rc != 0, e);
        flock(lockfd, LOCK_UN);
        break;
    case K_OFD_LOCK:
        rc = fcntl(lockfd, F_OFD_SETLKW, &fl);
        e = errno;
        judge(k, rc != 0, e);
        fl.l_type = F_UNLCK;
        fcntl(lockfd, F_OFD_SETLK, &fl);
        break;
    case K_SEMOP: rc = semop(semid, &down, 1); e = errno; judge(k, rc != 0, e); break;
    case K_MSGRCV: rc = (int)msgrcv(msqid, &m, 1, 0, 0); e = errno; judge(k, rc != 1, e); break;
    default: nanosleep(&s1, NULL); break;
    }
}

static void *waiter_main(void *arg)
{
    enum kind k = (enum kind)(long)arg;
    int lockfd = -1;
    if (k == K_FLOCK || k == K_OFD_LOCK)
        lockfd = open(lock_path, O_RDWR | O_CLOEXEC);
    if (k == K_SIGSUSPEND) { /* SIGUSR1 only inside sigsuspend */
        sigset_t u;
        sigemptyset(&u);
        sigaddset(&u, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &u, NULL);
    }
    while (!stop)
        k < N_TIMED ? timed_wait(k) : event_wait(k, lockfd);
    if (lockfd >= 0)
        close(lockfd);
    finished++; /* joined only once the kicker stopped signalling it */
    return NULL;
}

/* Ends the event waits, about every millisecond, until told to stop. */
static void *kicker_main(void *arg)
{
    (void)arg;
    int lockfd = open(lock_path, O_RDWR | O_CLOEXEC);
    struct timespec ms1 = {0, 1000000};
    struct flock fl = {.l_whence = SEEK_SET};
    struct { long type; char c; } m = {1, 'x'};
    struct sembuf up = {0, 1, 0};
    while (stop < 2) {
        /* Held for a while, the locks are waited for, then released. */
        flock(lockfd, LOCK_EX);
        fl.l_type = F_WRLCK;
        fcntl(lockfd, F_OFD_SETLKW, &fl);
        nanosleep(&ms1, NULL);
        flock(lockfd, LOCK_UN);
        fl.l_type = F_UNLCK;
        fcntl(lockfd, F_OFD_SETLK, &fl);
        pthread_kill(waiter[K_SIGWAITINFO], SIGUSR2);
        pthread_kill(waiter[K_SIGSUSPEND], SIGUSR1);
        pthread_kill(waiter[K_PAUSE], SIGUSR1);
        int v;
        if (sem_getvalue(&sem_busy, &v) == 0 && v < 2)
            sem_post(&sem_busy);
        if (write(busy_pipe[1], "x", 1) != 1)
            error_of(K_READ, "write");
        if (sysv && semctl(semid, 0, GETVAL) < 2)
            semop(semid, &up, 1);
        if (sysv)
            msgsnd(msqid, &m, 1, IPC_NOWAIT);
    }
    close(lockfd);
    return NULL;
}

static int setup(void)
{
    struct epoll_event ev = {.events = EPOLLIN};
    snprintf(lock_path, sizeof lock_path, "eintr-lock.%d", (int)getpid());
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || pipe2(quiet_pipe, O_CLOEXEC) < 0 || pipe2(busy_pipe, O_CLOEXEC) < 0 ||
        (epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        epoll_ctl(epfd, EPOLL_CTL_ADD, quiet_pipe[0], &ev) < 0 ||
        sem_init(&sem_quiet, 0, 0) < 0 || sem_init(&sem_busy, 0, 0) < 0)
        return -1;
    close(fd);
    fcntl(busy_pipe[1], F_SETPIPE_SZ, 1 << 20); /* the kicker never blocks */
    if (sysv && ((semid = semget(IPC_PRIVATE, 1, 0600)) < 0 ||
                 (msqid = msgget(IPC_PRIVATE, 0600)) < 0))
        return -1;
    struct sigaction sa = {.sa_handler = on_usr1};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, NULL); /* for sigwaitinfo/sigtimedwait */
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100;
    sysv = argc > 2 && !strcmp(argv[2], "sysv");
    if (setup() < 0) {
        perror("eintr_waits: setup");
        return 2;
    }
    int last = sysv ? K_COUNT : K_SEMOP;
    for (int k = 0; k < last; k++)
        if (pthread_create(&waiter[k], NULL, waiter_main, (void *)(long)k) != 0)
            return 2;
    pthread_t kicker;
    if (pthread_create(&kicker, NULL, kicker_main, NULL) != 0)
        return 2;
    for (long i = 0; i < n; i++) {
        for (int k = 0; k < N_TIMED; k++)
            timed_wait((enum kind)k);
        progress("eintr_waits", i + 1, n);
    }
    finish_gate();
    stop = 1;
    struct timespec ms1 = {0, 1000000};
    while (finished < last)
        nanosleep(&ms1, NULL);
    stop = 2;
    pthread_join(kicker, NULL);
    for (int k = 0; k < last; k++)
        pthread_join(waiter[k], NULL);
    unlink(lock_path);
    if (sysv) {
        semctl(semid, 0, IPC_RMID);
        msgctl(msqid, IPC_RMID, NULL);
    }
    /* One line (after the gate, cycle.sh places no kill there). */
    int bad = 0;
    for (int k = 0; k < last; k++)
        if (errors[k][0] || eintrs[k]) {
            printf("%s%s: ", bad++ ? "; " : "eintr_waits: ", names[k]);
            if (errors[k][0])
                printf("error %s", errors[k]);
            else
                printf("%ld EINTR", (long)eintrs[k]);
        }
    if (!bad)
        printf("eintr_waits: %d kinds of wait, none ended early", last);
    printf("\n");
    return 0;
}
