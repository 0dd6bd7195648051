/* SPDX-License-Identifier: MIT */
/* tree_epoll.c — a parent with an epoll loop over pipes from 3 children.
   Usage: tree_epoll R (R rounds; child i works (i+1) x ~10 ms a round).

   Child i computes one result per round and writes it to its pipe as a
   16-byte record (round, value); the children go at different speeds, so
   at any moment child 0 is ahead (or done and a zombie), child 2 behind,
   and the pipes hold records not yet read. The parent waits in
   epoll_wait on the three read ends, reads whatever has come, and prints
   "epoll: round R: A B C" as soon as round R is complete for all three,
   so its lines come in one order whatever the scheduling. On each pipe's
   end of file (EPOLLHUP) it removes it from the set; then it reaps the
   children (exit 20 + i; 3 if its getppid() changed), prints their
   statuses after finish_gate() (progress.h) and the total. Exits 3 if a
   record is out of order, 4 if a status is wrong. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

#define NC 3

struct rec {
    int64_t round;
    uint64_t v;
};

static int child(int i, int fd, long rounds, pid_t parent)
{
    uint64_t x = (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ull;
    for (long r = 1; r <= rounds; r++) {
        if (getppid() != parent)
            return 3; /* a restore must keep the parent */
        for (long j = 0; j < 10000000L * (i + 1); j++)
            x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
        struct rec m = {r, x ^ (x >> 31)};
        if (write(fd, &m, sizeof m) != sizeof m)
            return 1;
    }
    return 20 + i;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 100;
    uint64_t *val[NC];
    long got[NC] = {0}, printed = 0;
    size_t have[NC] = {0};
    unsigned char part[NC][sizeof(struct rec)];
    pid_t kid[NC];
    int fds[NC];
    int ep = epoll_create1(0);
    if (ep < 0)
        return 2;
    fflush(stdout);
    pid_t parent = getpid();
    for (int i = 0; i < NC; i++) {
        int p[2];
        val[i] = calloc((size_t)rounds + 1, sizeof *val[i]);
        if (!val[i] || pipe(p) < 0)
            return 2;
        kid[i] = fork();
        if (kid[i] < 0)
            return 2;
        if (kid[i] == 0) { /* only its own write end stays open */
            close(ep);
            for (int j = 0; j < i; j++)
                close(fds[j]);
            close(p[0]);
            _exit(child(i, p[1], rounds, parent));
        }
        close(p[1]);
        fds[i] = p[0];
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e) < 0)
            return 2;
    }
    int open_pipes = NC;
    uint64_t total = 0;
    while (open_pipes > 0) {
        struct epoll_event ev[NC];
        int n = epoll_wait(ep, ev, NC, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("tree_epoll: epoll_wait");
            return 2;
        }
        for (int e = 0; e < n; e++) {
            int i = (int)ev[e].data.u32, fd = fds[i];
            ssize_t r = read(fd, part[i] + have[i], sizeof part[i] - have[i]);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return 2;
            if (r == 0) { /* end of file: the child closed its end */
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                open_pipes--;
                continue;
            }
            have[i] += (size_t)r;
            if (have[i] < sizeof part[i])
                continue;
            struct rec m;
            memcpy(&m, part[i], sizeof m);
            have[i] = 0;
            if (m.round != got[i] + 1 || m.round > rounds) {
                printf("epoll: child %d sent round %" PRId64 " after %ld\n", i, m.round, got[i]);
                return 3;
            }
            val[i][++got[i]] = m.v;
        }
        for (;;) {
            long next = printed + 1;
            int ready = next <= rounds;
            for (int i = 0; i < NC; i++)
                ready = ready && got[i] >= next;
            if (!ready)
                break;
            printed = next;
            printf("epoll: round %ld: %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", next, val[0][next],
                   val[1][next], val[2][next]);
            fflush(stdout);
            for (int i = 0; i < NC; i++)
                total = total * 31 + val[i][next];
        }
    }
    int status[NC];
    for (int i = 0; i < NC; i++)
        while (waitpid(kid[i], &status[i], 0) < 0)
            if (errno != EINTR)
                return 2;
    finish_gate();
    for (int i = 0; i < NC; i++) {
        if (!WIFEXITED(status[i]) || WEXITSTATUS(status[i]) != 20 + i || got[i] != rounds) {
            printf("epoll: child %d: status 0x%x, %ld rounds\n", i, status[i], got[i]);
            return 4;
        }
        printf("epoll: child %d exited %d\n", i, WEXITSTATUS(status[i]));
    }
    printf("epoll: %ld rounds, total %" PRIu64 "\n", printed, total);
    return printed == rounds ? 0 : 4;
}
