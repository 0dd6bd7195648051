/* SPDX-License-Identifier: MIT */
/* tree_mq.c — two processes exchanging work over POSIX message queues, or
   SysV ones.
   Usage: tree_mq [sysv|named|notify] N (N work items, ~50 ms of the
   child's work each).

   The parent opens two queues (mq_open O_CREAT|O_EXCL under a random name,
   unlinked at once: only the two processes' descriptors keep them) and
   forks. It sends work items (number, seed) on the first queue, keeping
   DEPTH of them in flight, and receives the results on the second; the
   child receives each item, works on it, and sends back (number, result).
   With sysv, the queues are two SysV message queues (msgget IPC_PRIVATE,
   msgsnd, msgrcv; removed at the end), each message of type 1 + its item
   number's parity, received with msgtyp 0 (in order). With notify, the
   parent also holds a third queue, always empty, with an mq_notify
   registration (SIGEV_NONE), which cairn refuses by name. With named, the
   POSIX queues keep their names until the end (then unlinked).
   Both queues hold messages at most moments, at a checkpoint too. The
   parent alone prints: "mq: item K result R", in item order, folding each
   into its total; after the last item it sends a stop message, reaps the
   child (exit 5; 3 if its getppid() changed), and prints the total after
   finish_gate() (progress.h).
   Exits 3 if a result comes out of order, 4 if the child's status is
   wrong or it ended before the stop (SIGCHLD handler; a child whose parent
   ends gets SIGKILL: PR_SET_PDEATHSIG), so that a failure ends the job
   instead of leaving one process waiting. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mqueue.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

#define DEPTH 4

static volatile sig_atomic_t stopping; /* the parent has sent the stop */
static pid_t kid;                      /* in the parent: the child */

/* A failing child must not leave the parent waiting for ever in
   mq_receive (nor the parent the child: PR_SET_PDEATHSIG). */
static void on_sigchld(int sig)
{
    siginfo_t si = {0};
    int saved = errno;
    (void)sig;
    /* Only the child's end counts (not a SIGCHLD from elsewhere). */
    if (!stopping && waitid(P_PID, (id_t)kid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid == kid)
        _exit(4);
    errno = saved;
}

struct msg {
    int64_t k; /* item number; 0 means stop */
    uint64_t v;
};

static int sysv; /* SysV queues: a queue's "mqd_t" is its id */

static mqd_t open_queue(char *name, size_t len)
{
    if (sysv) {
        int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
        if (id < 0) {
            perror("tree_mq: msgget");
            exit(2);
        }
        return (mqd_t)id;
    }
    struct mq_attr a = {.mq_maxmsg = 8, .mq_msgsize = sizeof(struct msg)};
    for (int tries = 0; tries < 100; tries++) {
        uint32_t r;
        if (getrandom(&r, sizeof r, 0) != sizeof r)
            break;
        snprintf(name, len, "/cairn-tree-mq-%08x", r);
        mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
        if (q != (mqd_t)-1)
            return q;
        if (errno != EEXIST)
            break;
    }
    perror("tree_mq: mq_open");
    exit(2);
}

static void put(mqd_t q, int64_t k, uint64_t v)
{
    struct msg m = {k, v};
    struct {
        long type;
        struct msg m;
    } sm = {1 + (k & 1), m};
    while (sysv ? msgsnd((int)q, &sm, sizeof sm.m, 0) < 0
                : mq_send(q, (const char *)&m, sizeof m, 0) < 0)
        if (errno != EINTR) {
            perror("tree_mq: mq_send");
            exit(2);
        }
}

static struct msg get(mqd_t q)
{
    struct msg m;
    struct {
        long type;
        struct msg m;
    } sm;
    ssize_t n;
    while ((n = sysv ? msgrcv((int)q, &sm, sizeof sm.m, 0, 0)
                     : mq_receive(q, (char *)&m, sizeof m, NULL)) < 0)
        if (errno != EINTR) {
            perror("tree_mq: mq_receive");
            exit(2);
        }
    if (n != sizeof m)
        exit(2);
    if (sysv) {
        if (sm.type != 1 + (sm.m.k & 1))
            exit(2);
        m = sm.m;
    }
    return m;
}

static int child(mqd_t work, mqd_t results, pid_t parent)
{
    for (;;) {
        struct msg m = get(work);
        if (getppid() != parent)
            return 3; /* a restore must keep the parent */
        if (m.k == 0)
            return 5;
        uint64_t x = m.v;
        for (long j = 0; j < 50000000; j++)
            x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
        put(results, m.k, x ^ (x >> 29));
    }
}

int main(int argc, char **argv)
{
    sysv = argc > 2 && !strcmp(argv[1], "sysv");
    int notify = argc > 2 && !strcmp(argv[1], "notify");
    int named = argc > 2 && !strcmp(argv[1], "named");
    int mode = sysv + notify + named;
    long n = argc > 1 + mode ? atol(argv[1 + mode]) : 100;
    char name[3][64];
    if (notify) {
        mqd_t idle = open_queue(name[2], sizeof name[2]);
        struct sigevent ev = {.sigev_notify = SIGEV_NONE};
        mq_unlink(name[2]);
        if (mq_notify(idle, &ev) < 0) {
            perror("tree_mq: mq_notify");
            return 2;
        }
    }
    mqd_t work = open_queue(name[0], sizeof name[0]);
    mqd_t results = open_queue(name[1], sizeof name[1]);
    if (!sysv && !named) {
        mq_unlink(name[0]);
        mq_unlink(name[1]);
    }
    struct sigaction sa = {.sa_handler = on_sigchld, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
    sigaction(SIGCHLD, &sa, NULL);
    fflush(stdout);
    pid_t parent = getpid();
    kid = fork();
    if (kid < 0)
        return 2;
    if (kid == 0) {
        signal(SIGCHLD, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(4); /* the parent is gone already */
        _exit(child(work, results, parent));
    }
    uint64_t total = 0;
    long sent = 0;
    for (long k = 1; k <= n; k++) {
        while (sent < n && sent < k - 1 + DEPTH) {
            sent++;
            put(work, sent, (uint64_t)sent * 0x9e3779b97f4a7c15ull);
        }
        struct msg m = get(results);
        if (m.k != k) {
            printf("mq: got item %" PRId64 ", expected %ld\n", m.k, k);
            return 3;
        }
        total = total * 1000003 + m.v;
        printf("mq: item %ld result %" PRIu64 "\n", k, m.v);
        fflush(stdout);
    }
    stopping = 1;
    put(work, 0, 0);
    int st;
    while (waitpid(kid, &st, 0) < 0)
        if (errno != EINTR)
            return 2;
    if (sysv) {
        msgctl((int)work, IPC_RMID, NULL);
        msgctl((int)results, IPC_RMID, NULL);
    } else if (named && (mq_unlink(name[0]) < 0 || mq_unlink(name[1]) < 0)) {
        perror("tree_mq: mq_unlink"); /* the names must have come back */
        return 2;
    }
    finish_gate();
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 5) {
        printf("mq: child status 0x%x\n", st);
        return 4;
    }
    printf("mq%s: %ld items, child exited %d, total %" PRIu64 "\n", sysv ? " (sysv)" : "", n,
           WEXITSTATUS(st), total);
    return 0;
}
