/* SPDX-License-Identifier: MIT */
/* tree_shm.c — a parent and its child counting in turn through a
   MAP_SHARED|MAP_ANONYMOUS page.
   Usage: tree_shm posix|sysv|sysv-undo|sysv-shm N (N turns each, ~40 ms of
   work per turn). sysv-undo makes every semop with SEM_UNDO (which cairn
   refuses); sysv-shm has the page in a SysV shared memory segment (shmget,
   shmat, removed at once with IPC_RMID: it lives while attached).

   The page holds the shared value and the turn number; the two processes
   take turns through two semaphores: process-shared POSIX semaphores in
   the page itself (sem_init pshared=1), or a SysV set of two (semget,
   semop). On its turn a process reads the value, works on it, writes it
   back, prints "shm: parent|child turn T value V" and posts the other's
   semaphore, so the lines alternate in one order in every run, and both
   the page and the semaphores carry the state at a checkpoint (one of
   the two waits on its semaphore, the other works). Each turn also checks
   the two pids in the page against getpid() and the child's getppid():
   a restore must keep both processes' pids and the parent. The parent reaps
   the child (exit 9), prints the final value after finish_gate()
   (progress.h), and removes the SysV set. Exits 3 if the page is not as
   its owner left it, 4 if the child ended before its last turn (SIGCHLD
   handler; a child whose parent ends gets SIGKILL: PR_SET_PDEATHSIG), so
   that a failure ends the job instead of leaving one process waiting. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

struct page {
    sem_t sem[2]; /* posix: sem[i] says it is process i's turn */
    uint64_t value;
    long turn;
    pid_t pid[2]; /* each process's pid, as it saw it at its start */
};

static struct page *pg;
static int sysv = -1; /* the SysV set, or -1 */
static short undo;    /* SEM_UNDO on every semop, or 0 */
static pid_t kid;     /* in the parent: the child, as fork() returned it */
static volatile sig_atomic_t last_turn; /* the parent has given its last turn */

/* A failing child must not leave the parent waiting for ever on its
   semaphore (nor the parent the child: PR_SET_PDEATHSIG). */
static void on_sigchld(int sig)
{
    siginfo_t si = {0};
    int saved = errno;
    (void)sig;
    /* Only the child's end counts (not a SIGCHLD from elsewhere). */
    if (!last_turn && waitid(P_PID, (id_t)kid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid == kid)
        _exit(4);
    errno = saved;
}

static void wait_turn(int who)
{
    if (sysv < 0) {
        while (sem_wait(&pg->sem[who]) < 0)
            if (errno != EINTR) {
                perror("tree_shm: sem_wait");
                exit(2);
            }
        return;
    }
    struct sembuf op = {(unsigned short)who, -1, undo};
    while (semop(sysv, &op, 1) < 0)
        if (errno != EINTR) {
            perror("tree_shm: semop");
            exit(2);
        }
}

static void give_turn(int to)
{
    if (sysv < 0) {
        if (sem_post(&pg->sem[to]) < 0) {
            perror("tree_shm: sem_post");
            exit(2);
        }
        return;
    }
    struct sembuf op = {(unsigned short)to, 1, undo};
    if (semop(sysv, &op, 1) < 0) {
        perror("tree_shm: semop");
        exit(2);
    }
}

/* Process WHO (0 parent, 1 child) takes its N turns. */
static void play(int who, long n)
{
    static const char *const name[] = {"parent", "child"};
    for (long t = 0; t < n; t++) {
        wait_turn(who);
        pid_t other = who ? getppid() : kid;
        if (pg->pid[who] != getpid() || pg->pid[1 - who] != other) {
            printf("shm: %s: pid %d, parent %d, the page says %d and %d\n", name[who], getpid(),
                   getppid(), pg->pid[0], pg->pid[1]);
            exit(3);
        }
        if (pg->turn != 2 * t + who) {
            printf("shm: %s found turn %ld, not %ld\n", name[who], pg->turn, 2 * t + who);
            exit(3);
        }
        uint64_t x = pg->value;
        for (long j = 0; j < 40000000; j++)
            x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j + (uint64_t)who;
        pg->value = x;
        pg->turn++;
        printf("shm: %s turn %ld value %" PRIu64 "\n", name[who], pg->turn, x);
        fflush(stdout);
        if (who == 0 && t == n - 1)
            last_turn = 1; /* the child may end from now on */
        give_turn(1 - who);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "posix") != 0 && strcmp(argv[1], "sysv") != 0 &&
                     strcmp(argv[1], "sysv-undo") != 0 && strcmp(argv[1], "sysv-shm") != 0)) {
        fprintf(stderr, "usage: tree_shm posix|sysv|sysv-undo|sysv-shm N\n");
        return 2;
    }
    long n = atol(argv[2]);
    if (!strcmp(argv[1], "sysv-shm")) {
        int seg = shmget(IPC_PRIVATE, sizeof *pg, IPC_CREAT | 0600);
        pg = seg < 0 ? MAP_FAILED : shmat(seg, NULL, 0);
        if (pg == (void *)-1 || shmctl(seg, IPC_RMID, NULL) < 0) {
            perror("tree_shm: shmget");
            return 2;
        }
    } else {
        pg = mmap(NULL, sizeof *pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    }
    if (pg == MAP_FAILED)
        return 2;
    pg->value = 1;
    undo = !strcmp(argv[1], "sysv-undo") ? SEM_UNDO : 0;
    if (argv[1][0] == 's') {
        sysv = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
        unsigned short init[2] = {1, 0};
        if (sysv < 0 || semctl(sysv, 0, SETALL, init) < 0) {
            perror("tree_shm: semget");
            return 2;
        }
    } else if (sem_init(&pg->sem[0], 1, 1) < 0 || sem_init(&pg->sem[1], 1, 0) < 0) {
        perror("tree_shm: sem_init");
        return 2;
    }
    pg->pid[0] = getpid();
    struct sigaction sa = {.sa_handler = on_sigchld, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
    sigaction(SIGCHLD, &sa, NULL);
    fflush(stdout);
    kid = fork();
    if (kid < 0)
        return 2;
    if (kid == 0) { /* its first turn comes after the parent's, which wrote pid[1] */
        signal(SIGCHLD, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != pg->pid[0])
            _exit(4); /* the parent is gone already */
        play(1, n);
        _exit(9);
    }
    pg->pid[1] = kid;
    play(0, n);
    int st;
    while (waitpid(kid, &st, 0) < 0)
        if (errno != EINTR)
            return 2;
    if (sysv >= 0)
        semctl(sysv, 0, IPC_RMID);
    finish_gate();
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 9 || pg->turn != 2 * n) {
        printf("shm: child status 0x%x, turn %ld\n", st, pg->turn);
        return 3;
    }
    printf("shm (%s): %ld turns, child exited %d, value %" PRIu64 "\n", argv[1], pg->turn,
           WEXITSTATUS(st), pg->value);
    return 0;
}
