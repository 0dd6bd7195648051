/* SPDX-License-Identifier: MIT */
/* tree_fds.c — a parent and a child joined by descriptors other than
   pipes (docs/TRANSPARENT.md, "Process trees"), for cycle.sh.
   Usage: tree_fds MODE R

     stream, seqpacket, dgram  work and results over a socketpair of that
               type: the parent keeps W items ahead of the child (its
               requests queued in the child's socket), the child answers
               in batches of 4 (its results queued in the parent's), each
               message of a length of its own (boundaries checked); at the
               end the parent shuts down writing and the child, at end of
               file, sends its count and exits
     eventfd   the child posts 2 tokens a round on an EFD_SEMAPHORE eventfd,
               the parent takes them one by one; the child also adds the
               round number to a plain eventfd the parent reads at the end
               (sum 1..R)
     timerfd   the parent reads a periodic 2 ms timerfd R times: every read
               returns at least one expiration, and its settings survive
     signalfd  the child sends SIGUSR1 R times (one at a time, each answered
               over a pipe); the parent, with SIGUSR1 blocked, reads each
               from a signalfd and checks its sender
     epoll     one epoll loop over a stream socketpair (results), an eventfd
               (a token a round) and a periodic timerfd, which at the end
               has its interval still and still expires
     scm       the parent sends the child a pipe's read end (SCM_RIGHTS),
               which the child takes only at the end: while it is in
               flight, cairn refuses the checkpoint (tree_refuse_same.sh)

   Output ("MODE: step I of N" lines, progress.h, then totals) is the same
   in every run. Exits 3 on a wrong message, 4 on a wrong end. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

static const char *mode;
static volatile uint64_t sink; /* keeps a child's work from being optimised away */
static long rounds;

static uint64_t work(uint64_t x, long n)
{
    for (long j = 0; j < n; j++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
    return x ^ (x >> 29);
}

static int bad(int code, const char *what, long a, long b)
{
    printf("%s: %s (%ld, %ld)\n", mode, what, a, b);
    fflush(stdout);
    return code;
}

/* read/write all of it, again after EINTR; 0 at end of file, 1, -1. */
static int full(int fd, void *buf, size_t n, int writing)
{
    for (size_t at = 0; at < n;) {
        ssize_t k = writing ? write(fd, (char *)buf + at, n - at) : read(fd, (char *)buf + at, n - at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k == 0 && at == 0 ? 0 : -1;
        at += (size_t)k;
    }
    return 1;
}

/* ---- sockets ------------------------------------------------------------ */

/* A message: round r, a value, padding to a length of its own. */
struct msg {
    int64_t round;
    uint64_t v;
    unsigned char pad[64];
};

static size_t msg_len(int64_t r)
{
    return 16 + (size_t)(r * 7 % 61);
}

/* One message: a stream carries a length word first. */
static int send_msg(int fd, int stream, const struct msg *m)
{
    uint32_t len = (uint32_t)msg_len(m->round);
    if (stream)
        return full(fd, &len, 4, 1) == 1 && full(fd, (void *)m, len, 1) == 1 ? 0 : -1;
    for (;;) {
        ssize_t k = send(fd, m, len, 0);
        if (k < 0 && errno == EINTR)
            continue;
        return k == (ssize_t)len ? 0 : -1;
    }
}

/* 1 with a message, 0 at end of file, -1 on a wrong one. */
static int recv_msg(int fd, int stream, struct msg *m)
{
    uint32_t len;
    ssize_t k;
    if (stream) {
        int rc = full(fd, &len, 4, 0);
        if (rc <= 0)
            return rc;
        if (len > sizeof *m || full(fd, m, len, 0) != 1)
            return -1;
        k = len;
    } else {
        do
            k = recv(fd, m, sizeof *m, 0);
        while (k < 0 && errno == EINTR);
        if (k == 0)
            return 0;
    }
    if (k < 16 || (size_t)k != msg_len(m->round))
        return -1;
    for (ssize_t i = 16; i < k; i++)
        if (m->pad[i - 16] != (unsigned char)(m->round + i))
            return -1;
    return 1;
}

static struct msg make_msg(int64_t r, uint64_t v)
{
    struct msg m = {r, v, {0}};
    for (size_t i = 16; i < msg_len(r); i++)
        m.pad[i - 16] = (unsigned char)(r + (int64_t)i);
    return m;
}

static int sock_child(int fd, int stream)
{
    struct msg batch[4];
    long n = 0, done = 0;
    for (;;) {
        struct msg m;
        int rc = recv_msg(fd, stream, &m);
        if (rc < 0)
            return 3;
        if (rc > 0 && m.round == 0) /* a datagram socket's end: no shutdown there */
            rc = 0;
        if (rc > 0) {
            if (m.round != done + n + 1)
                return 3;
            batch[n++] = make_msg(m.round, work(m.v, 4000000));
        }
        if (n == 4 || (n && (rc == 0 || done + n == rounds))) {
            for (long i = 0; i < n; i++)
                if (send_msg(fd, stream, &batch[i]) < 0)
                    return 3;
            done += n;
            n = 0;
        }
        if (rc == 0) { /* the parent shut down writing: the count, and done */
            struct msg end = make_msg(0, (uint64_t)done);
            return send_msg(fd, stream, &end) < 0 ? 3 : 20;
        }
    }
}

static int run_sockets(int type)
{
    int sv[2], stream = type == SOCK_STREAM;
    long window = type == SOCK_DGRAM ? 8 : 16;
    if (socketpair(AF_UNIX, type, 0, sv) < 0)
        return 2;
    fflush(stdout);
    pid_t kid = fork();
    if (kid == 0) {
        close(sv[0]);
        _exit(sock_child(sv[1], stream));
    }
    close(sv[1]);
    long sent = 0;
    uint64_t total = 0, x = 1;
    while (sent < window && sent < rounds) {
        struct msg m = make_msg(sent + 1, (uint64_t)sent * 977);
        if (send_msg(sv[0], stream, &m) < 0)
            return 2;
        sent++;
    }
    for (long got = 0; got < rounds;) {
        struct msg m;
        if (recv_msg(sv[0], stream, &m) != 1 || m.round != got + 1)
            return bad(3, "a wrong result", (long)m.round, got + 1);
        got++;
        total = total * 31 + m.v;
        x = work(x ^ m.v, 1500000);
        progress(mode, got, rounds);
        if (sent < rounds) {
            struct msg n = make_msg(sent + 1, (uint64_t)sent * 977);
            if (send_msg(sv[0], stream, &n) < 0)
                return 2;
            sent++;
        }
    }
    struct msg end = make_msg(0, 0);
    if (type == SOCK_DGRAM ? send_msg(sv[0], 0, &end) < 0 : shutdown(sv[0], SHUT_WR) < 0)
        return 2;
    if (recv_msg(sv[0], stream, &end) != 1 || end.round != 0 || end.v != (uint64_t)rounds)
        return bad(4, "a wrong end", (long)end.round, (long)end.v);
    int st;
    while (waitpid(kid, &st, 0) < 0)
        if (errno != EINTR)
            return 2;
    finish_gate();
    printf("%s: child exited %d; results %" PRIu64 ", own work %" PRIu64 "\n", mode,
           WIFEXITED(st) ? WEXITSTATUS(st) : -1, total, x);
    return WIFEXITED(st) && WEXITSTATUS(st) == 20 ? 0 : 4;
}

/* ---- eventfd, timerfd, signalfd ------------------------------------------ */

static int run_eventfd(void)
{
    int sem = eventfd(0, EFD_SEMAPHORE), sum = eventfd(0, 0);
    if (sem < 0 || sum < 0)
        return 2;
    fflush(stdout);
    pid_t kid = fork();
    if (kid == 0) {
        uint64_t x = 7;
        for (long r = 1; r <= rounds; r++) {
            x = work(x, 6000000);
            uint64_t two = 2, rr = (uint64_t)r;
            if (full(sem, &two, 8, 1) != 1 || full(sum, &rr, 8, 1) != 1)
                _exit(3);
        }
        sink = x;
        _exit(20);
    }
    uint64_t x = 3;
    for (long i = 1; i <= 2 * rounds; i++) {
        uint64_t one = 0;
        if (full(sem, &one, 8, 0) != 1 || one != 1)
            return bad(3, "a semaphore read of other than 1", (long)one, i);
        x = work(x, 2000000);
        progress(mode, i, 2 * rounds);
    }
    int st;
    while (waitpid(kid, &st, 0) < 0)
        if (errno != EINTR)
            return 2;
    uint64_t total = 0;
    if (full(sum, &total, 8, 0) != 1 || total != (uint64_t)rounds * (uint64_t)(rounds + 1) / 2)
        return bad(4, "a wrong sum", (long)total, rounds);
    finish_gate();
    printf("%s: child exited %d; sum %" PRIu64 ", work %" PRIu64 "\n", mode,
           WIFEXITED(st) ? WEXITSTATUS(st) : -1, total, x);
    return 0;
}

/* 1 if timer t does not become readable within a minute (any machine):
   one restored disarmed would keep a read waiting for ever. */
static int timer_silent(int t)
{
    struct pollfd p = {.fd = t, .events = POLLIN};
    int n;
    while ((n = poll(&p, 1, 60000)) < 0 && errno == EINTR)
        ;
    return n != 1;
}

static int run_timerfd(void)
{
    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec its = {{0, 2000000}, {0, 2000000}};
    if (t < 0 || timerfd_settime(t, 0, &its, NULL) < 0)
        return 2;
    uint64_t x = 5, reads = 0;
    for (long i = 1; i <= rounds; i++) {
        uint64_t ticks = 0;
        if (timer_silent(t))
            return bad(3, "the timer stopped", 0, i);
        if (full(t, &ticks, 8, 0) != 1 || ticks < 1)
            return bad(3, "a read without expirations", (long)ticks, i);
        struct itimerspec now;
        if (timerfd_gettime(t, &now) < 0 || now.it_interval.tv_sec != 0 ||
            now.it_interval.tv_nsec != 2000000 || now.it_value.tv_sec != 0 ||
            now.it_value.tv_nsec > 2000000)
            return bad(3, "the timer's settings changed", (long)now.it_interval.tv_nsec, i);
        reads++;
        x = work(x, 3000000);
        progress(mode, i, rounds);
    }
    finish_gate();
    printf("%s: %" PRIu64 " reads, each with an expiration; work %" PRIu64 "\n", mode, reads, x);
    return 0;
}

static int run_signalfd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    int ack[2];
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || pipe(ack) < 0)
        return 2;
    int sfd = signalfd(-1, &set, 0);
    if (sfd < 0)
        return 2;
    fflush(stdout);
    pid_t parent = getpid(), kid = fork();
    if (kid == 0) {
        uint64_t x = 11;
        for (long r = 1; r <= rounds; r++) {
            x = work(x, 6000000);
            char c;
            if (kill(parent, SIGUSR1) < 0 || full(ack[0], &c, 1, 0) != 1)
                _exit(3);
        }
        sink = x;
        _exit(20);
    }
    for (long i = 1; i <= rounds; i++) {
        struct signalfd_siginfo si;
        if (full(sfd, &si, sizeof si, 0) != 1 || si.ssi_signo != SIGUSR1 ||
            si.ssi_pid != (uint32_t)kid)
            return bad(3, "a wrong signal", (long)si.ssi_signo, (long)si.ssi_pid);
        progress(mode, i, rounds);
        char c = 'k';
        if (full(ack[1], &c, 1, 1) != 1)
            return 2;
    }
    int st;
    while (waitpid(kid, &st, 0) < 0)
        if (errno != EINTR)
            return 2;
    finish_gate();
    printf("%s: child exited %d after %ld signals\n", mode, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
           rounds);
    return 0;
}

/* ---- epoll ---------------------------------------------------------------------- */

/* 0 if the periodic timer t still has its interval (ns) and still
   expires: it becomes readable (within a minute: any machine). */
static int timer_stopped(int t, long interval)
{
    struct itimerspec now;
    if (timerfd_gettime(t, &now) < 0 || now.it_interval.tv_sec != 0 ||
        now.it_interval.tv_nsec != interval)
        return 1;
    return timer_silent(t);
}

static int run_epoll(void)
{
    int sv[2], efd = eventfd(0, EFD_NONBLOCK), tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec its = {{0, 5000000}, {0, 5000000}};
    if (efd < 0 || tfd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
        timerfd_settime(tfd, 0, &its, NULL) < 0)
        return 2;
    fflush(stdout);
    pid_t kid = fork();
    if (kid == 0) {
        close(sv[0]);
        close(tfd);
        uint64_t x = 13;
        for (long r = 1; r <= rounds; r++) {
            x = work(x, 5000000);
            struct msg m = make_msg(r, x);
            uint64_t one = 1;
            if (send_msg(sv[1], 1, &m) < 0 || full(efd, &one, 8, 1) != 1)
                _exit(3);
        }
        _exit(20);
    }
    close(sv[1]);
    int ep = epoll_create1(0);
    struct epoll_event e1 = {.events = EPOLLIN, .data.u32 = 1}, e2 = {.events = EPOLLIN, .data.u32 = 2},
                       e3 = {.events = EPOLLIN, .data.u32 = 3};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &e1) < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e2) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &e3) < 0)
        return 2;
    long got = 0;
    uint64_t tokens = 0, ticked = 0, total = 0;
    while (got < rounds || tokens < (uint64_t)rounds) {
        struct epoll_event ev[3];
        int n = epoll_wait(ep, ev, 3, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return 2;
        for (int i = 0; i < n; i++) {
            uint64_t v = 0;
            if (ev[i].data.u32 == 1) {
                struct msg m = {.round = -1};
                int rc = recv_msg(sv[0], 1, &m);
                if (rc == 0 && got == rounds) {
                    /* The child sent its last result, then its last
                       token, and ended: its end is closed, the socket
                       reads end of file, and this loop may see it before
                       that token. It says nothing more. */
                    if (epoll_ctl(ep, EPOLL_CTL_DEL, sv[0], NULL) < 0)
                        return 2;
                    continue;
                }
                if (rc != 1 || m.round != got + 1)
                    return bad(3, "a wrong result", (long)m.round, got + 1);
                got++;
                total = total * 31 + m.v;
                progress(mode, got, rounds);
            } else if (read(ev[i].data.u32 == 2 ? efd : tfd, &v, 8) == 8) {
                if (ev[i].data.u32 == 2)
                    tokens += v;
                else
                    ticked += v > 0;
            }
        }
    }
    int st;
    while (waitpid(kid, &st, 0) < 0)
        if (errno != EINTR)
            return 2;
    finish_gate();
    if (!ticked)
        return bad(4, "the timer never expired", 0, 0);
    if (timer_stopped(tfd, 5000000))
        return bad(4, "the timer stopped or its interval changed", 0, 0);
    printf("%s: child exited %d; %ld results %" PRIu64 ", %" PRIu64 " tokens\n", mode,
           WIFEXITED(st) ? WEXITSTATUS(st) : -1, got, total, tokens);
    return tokens == (uint64_t)rounds ? 0 : 4;
}

/* ---- a descriptor in flight ---------------------------------------------------- */

static int run_scm(void)
{
    int sv[2], p[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(p) < 0)
        return 2;
    fflush(stdout);
    pid_t kid = fork();
    if (kid == 0) {
        close(sv[0]);
        uint64_t x = 17;
        for (long r = 1; r <= rounds; r++) {
            x = work(x, 6000000);
            progress(mode, r, rounds);
        }
        finish_gate(); /* the descriptor stays in flight until here */
        char c = 0;
        union {
            char b[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } u;
        struct iovec iov = {&c, 1};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                            .msg_controllen = sizeof u.b};
        ssize_t n;
        do
            n = recvmsg(sv[1], &mh, 0);
        while (n < 0 && errno == EINTR);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        int fd = -1;
        if (n != 1 || !cm || cm->cmsg_type != SCM_RIGHTS)
            _exit(3);
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        char word[8] = "";
        if (full(fd, word, 5, 0) != 1 || memcmp(word, "hello", 5) != 0)
            _exit(3);
        printf("%s: the child read hello through the descriptor it was sent\n", mode);
        fflush(stdout);
        sink = x;
        _exit(20);
    }
    close(sv[1]);
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    char c = 'f';
    struct iovec iov = {&c, 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                        .msg_controllen = sizeof u.b};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &p[0], sizeof(int));
    if (full(p[1], "hello", 5, 1) != 1 || sendmsg(sv[0], &mh, 0) != 1)
        return 2;
    close(p[0]);
    close(p[1]);
    int st;
    while (waitpid(kid, &st, 0) < 0)
        if (errno != EINTR)
            return 2;
    printf("%s: child exited %d\n", mode, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return WIFEXITED(st) && WEXITSTATUS(st) == 20 ? 0 : 4;
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "stream";
    rounds = argc > 2 ? atol(argv[2]) : 100;
    if (!strcmp(mode, "stream"))
        return run_sockets(SOCK_STREAM);
    if (!strcmp(mode, "seqpacket"))
        return run_sockets(SOCK_SEQPACKET);
    if (!strcmp(mode, "dgram"))
        return run_sockets(SOCK_DGRAM);
    if (!strcmp(mode, "eventfd"))
        return run_eventfd();
    if (!strcmp(mode, "timerfd"))
        return run_timerfd();
    if (!strcmp(mode, "signalfd"))
        return run_signalfd();
    if (!strcmp(mode, "epoll"))
        return run_epoll();
    if (!strcmp(mode, "scm"))
        return run_scm();
    fprintf(stderr, "tree_fds: unknown mode %s\n", mode);
    return 2;
}
