/* SPDX-License-Identifier: MIT */
/*
 * run_sock.c — the kernel objects a job's processes hold besides files and
 * pipes: eventfds, timerfds, signalfds and connected AF_UNIX sockets
 * (docs/TRANSPARENT.md, "Process trees"). While every process is stopped,
 * cairn reads each one's state: an eventfd's counter, signalfd's mask and
 * a timerfd's clock (/proc/PID/fdinfo), the time a timer has left and its
 * unread expirations (timerfd_gettime on a copy of the fd, pidfd_getfd),
 * and for a socket its type, peer and shutdown state (NETLINK_SOCK_DIAG,
 * unprivileged) and the bytes queued in it, read with MSG_PEEK from
 * SO_PEEK_OFF 0 onwards, so the job still has them. Two fds are one
 * object if kcmp(KCMP_FILE) says so (an anonymous inode's number is the
 * same for all). The records go to the tree section, the bytes after the
 * pipes' (run_tree.c); restore/objects.c makes the objects again.
 *
 * Refused, naming the process and fd: a listening or unconnected socket,
 * a socket whose peer no process of the job holds (its peer's inode and
 * path), a socket of another family (its addresses), file descriptors or
 * credentials in flight in a socket.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/kcmp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "run_sock.h"

#define TCP_ESTABLISHED_ 1
#define TCP_LISTEN_ 10

/* ---- AF_UNIX sockets as sock_diag shows them -------------------------------- */

struct usock {
    uint64_t ino, peer;
    uint8_t type, state, shutdown;
    char name[110];   /* its path, "@..." for an abstract one, "" unnamed */
};

struct udiag {
    struct usock *s;
    size_t n;
};

static void parse_attrs(struct usock *u, struct unix_diag_msg *m, size_t len)
{
    struct nlattr *a = (struct nlattr *)(m + 1);
    size_t left = len - NLMSG_ALIGN(sizeof *m);
    while (left >= sizeof *a && a->nla_len >= sizeof *a && a->nla_len <= left) {
        void *v = (char *)a + NLA_HDRLEN;
        size_t vl = a->nla_len - NLA_HDRLEN;
        if (a->nla_type == UNIX_DIAG_PEER && vl >= 4)
            u->peer = *(uint32_t *)v;
        else if (a->nla_type == UNIX_DIAG_SHUTDOWN && vl >= 1)
            u->shutdown = *(uint8_t *)v;
        else if (a->nla_type == UNIX_DIAG_NAME && vl > 0) {
            size_t k = vl < sizeof u->name - 1 ? vl : sizeof u->name - 1;
            memcpy(u->name, v, k);
            u->name[k] = 0;
            if (u->name[0] == 0)
                u->name[0] = '@';
        }
        size_t step = NLA_ALIGN(a->nla_len);
        if (step > left)
            break;
        left -= step;
        a = (struct nlattr *)((char *)a + step);
    }
}

/* Every AF_UNIX socket of the network namespace. 0, or -1. */
static int udiag_dump(struct udiag *d)
{
    d->s = NULL;
    d->n = 0;
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return -1;
    struct {
        struct nlmsghdr h;
        struct unix_diag_req r;
    } q = {{sizeof q, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0},
           {.sdiag_family = AF_UNIX, .udiag_states = ~0u,
            .udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_NAME}}; /* UNIX_DIAG_SHUTDOWN comes always */
    size_t cap = 0;
    int rc = send(fd, &q, sizeof q, 0) == (ssize_t)sizeof q ? 0 : -1;
    static char buf[65536];
    for (int done = 0; rc == 0 && !done;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            rc = -1;
            break;
        }
        for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = 1;
                rc = h->nlmsg_type == NLMSG_ERROR ? -1 : 0;
                break;
            }
            struct unix_diag_msg *m = NLMSG_DATA(h);
            if (d->n == cap) {
                cap = cap ? cap * 2 : 256;
                struct usock *s = realloc(d->s, cap * sizeof *s);
                if (!s) {
                    rc = -1;
                    done = 1;
                    break;
                }
                d->s = s;
            }
            struct usock *u = &d->s[d->n++];
            memset(u, 0, sizeof *u);
            u->ino = m->udiag_ino;
            u->type = m->udiag_type;
            u->state = m->udiag_state;
            parse_attrs(u, m, h->nlmsg_len - NLMSG_HDRLEN);
        }
    }
    close(fd);
    return rc;
}

static const struct usock *usock_of(const struct udiag *d, uint64_t ino)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->s[i].ino == ino)
            return &d->s[i];
    return NULL;
}

/* ---- copies of the job's fds --------------------------------------------------- */

/* A copy of fd of the process whose pidfd is pfd (or, pfd < 0, of host). */
static int grab_fd(int pfd, long host, int fd)
{
    int own = pfd < 0 ? (int)syscall(SYS_pidfd_open, (pid_t)host, 0) : pfd;
    if (own < 0)
        return -1;
    int mine = (int)syscall(SYS_pidfd_getfd, own, fd, 0);
    if (own != pfd)
        close(own);
    return mine;
}

static int same_file(long host_a, int fd_a, long host_b, int fd_b)
{
    return syscall(SYS_kcmp, (pid_t)host_a, (pid_t)host_b, KCMP_FILE, fd_a, fd_b) == 0;
}

/* The number after "key:" in /proc/host/fdinfo/fd, in base; 0 if none. */
static uint64_t fdinfo_num(long host, int fd, const char *key, int base)
{
    char path[64], text[2048];
    snprintf(path, sizeof path, "/proc/%ld/fdinfo/%d", host, fd);
    FILE *f = fopen(path, "re");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = 0;
    const char *p = strstr(text, key);
    return p ? strtoull(p + strlen(key), NULL, base) : 0;
}

/* ---- naming sockets ------------------------------------------------------------ */

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    } else {
        snprintf(out, len, "(no address)");
        return;
    }
    snprintf(out, len, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

/* Why a socket of another family than AF_UNIX is refused (mine: a copy). */
static void inet_why(int mine, int fd, char *why, size_t len)
{
    int domain = -1, type = -1;
    socklen_t l = sizeof domain;
    getsockopt(mine, SOL_SOCKET, SO_DOMAIN, &domain, &l);
    l = sizeof type;
    getsockopt(mine, SOL_SOCKET, SO_TYPE, &type, &l);
    if (domain != AF_INET && domain != AF_INET6) {
        snprintf(why, len, "fd %d is a socket: address family %d", fd, domain);
        return;
    }
    struct sockaddr_storage a = {0}, b = {0};
    socklen_t la = sizeof a, lb = sizeof b;
    char here[64], there[64] = "";
    getsockname(mine, (struct sockaddr *)&a, &la);
    addr_text(&a, here, sizeof here);
    int connected = getpeername(mine, (struct sockaddr *)&b, &lb) == 0;
    if (connected)
        addr_text(&b, there, sizeof there);
    snprintf(why, len, "fd %d is a socket: %s %s%s%s", fd,
             type == SOCK_STREAM ? "TCP" : type == SOCK_DGRAM ? "UDP" : "IP", here,
             connected ? " -> " : " (not connected)", there);
}

/* Why an AF_UNIX socket u is refused whatever the rest of the job holds, or 0. */
static int unix_why(const struct udiag *d, const struct usock *u, int fd, char *why, size_t len)
{
    if (u->state == TCP_LISTEN_) {
        snprintf(why, len, "fd %d is a socket: listening (%s)", fd,
                 u->name[0] ? u->name : "unnamed");
        return 1;
    }
    if (u->type != SOCK_STREAM && u->type != SOCK_DGRAM && u->type != SOCK_SEQPACKET) {
        snprintf(why, len, "fd %d is a socket: AF_UNIX of type %u", fd, u->type);
        return 1;
    }
    if (!u->peer && u->state != TCP_ESTABLISHED_) {
        snprintf(why, len, "fd %d is a socket: not connected (%s)", fd,
                 u->name[0] ? u->name : "unnamed");
        return 1;
    }
    (void)d;
    return 0;
}

int run_sock_restorable(long host, int fd, int in_tree, char *why, size_t len)
{
    int mine = grab_fd(-1, host, fd);
    int domain = -1;
    socklen_t l = sizeof domain;
    if (mine >= 0)
        getsockopt(mine, SOL_SOCKET, SO_DOMAIN, &domain, &l);
    int ok = 0;
    if (mine < 0) {
        snprintf(why, len, "fd %d is a socket cairn cannot examine", fd);
    } else if (domain != AF_UNIX) {
        inet_why(mine, fd, why, len);
    } else if (!in_tree) {
        snprintf(why, len, "fd %d is a socket (AF_UNIX; restored only in a job of its own "
                 "namespace)", fd);
    } else {
        ok = 1;
    }
    if (mine >= 0)
        close(mine);
    return ok;
}

/* ---- queued bytes ----------------------------------------------------------------- */

/* Copies the receive queue of socket `mine` into data (stream: the bytes;
   else each message as a 32-bit length and its bytes), leaving it there.
   0, or -1 with why. */
static int peek_queue(int mine, int type, unsigned shut, unsigned char *data, size_t cap,
                      uint32_t *got, int fd, char *why, size_t len)
{
    int old = -1, zero = 0;
    socklen_t l = sizeof old;
    getsockopt(mine, SOL_SOCKET, SO_PEEK_OFF, &old, &l);
    if (setsockopt(mine, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) < 0) {
        snprintf(why, len, "fd %d: cannot read the bytes queued in its socket", fd);
        return -1;
    }
    size_t at = 0;
    int rc = 0, stream = type == SOCK_STREAM;
    for (;;) {
        size_t head = stream ? 0 : 4;
        if (cap - at <= head) {
            rc = -2;
            break;
        }
        union {
            char b[CMSG_SPACE(64 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
            struct cmsghdr align;
        } u;
        struct iovec iov = {data + at + head, cap - at - head};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                            .msg_controllen = sizeof u.b};
        ssize_t n = recvmsg(mine, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC |
                                           (stream ? 0 : MSG_TRUNC));
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0 || mh.msg_controllen > 0 || (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n >= 0 && c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                    for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++)
                        close(((int *)CMSG_DATA(c))[k]);
            rc = n < 0 ? -1 : mh.msg_flags & MSG_TRUNC ? -2 : -3;
            break;
        }
        /* 0: end of file, or an empty message, which a datagram or seqpacket
           socket not shut down for reading can only mean (the peek goes
           past it); one shut down loses it. */
        if (n == 0 && (stream || (shut & CAIRN_OBJF_SHUT_RD)))
            break;
        if (!stream) {
            uint32_t m = (uint32_t)n;
            memcpy(data + at, &m, 4);
        }
        at += head + (size_t)n;
    }
    setsockopt(mine, SOL_SOCKET, SO_PEEK_OFF, &old, sizeof old);
    if (rc == -3)
        snprintf(why, len, "fd %d is a socket with file descriptors or credentials in flight "
                 "(SCM_RIGHTS, SCM_CREDENTIALS): not restored", fd);
    else if (rc == -2)
        snprintf(why, len, "fd %d: more than %u MiB queued in the job's pipes and sockets", fd,
                 CAIRN_PROC_MAX_PIPE_DATA >> 20);
    else if (rc < 0)
        snprintf(why, len, "fd %d: cannot read the bytes queued in its socket", fd);
    *got = (uint32_t)at;
    return rc < 0 ? -1 : 0;
}

/* ---- the objects -------------------------------------------------------------------- */

struct scan {
    struct run_objects *o;
    struct udiag d;
    int dumped;      /* d listed (once the first socket is seen) */
    int pidfd;       /* of the process being scanned, -1 if none */
    unsigned char *data;
    size_t cap, *len;
    char *why;
    size_t wlen;
    const uint64_t *sent; /* channel ends in flight to cairn (run_sock.h) */
    size_t nsent;
};

static int sent_to_cairn(const struct scan *s, const char *link)
{
    unsigned long long ino;
    if (sscanf(link, "socket:[%llu]", &ino) != 1)
        return 0;
    for (size_t i = 0; i < s->nsent; i++)
        if (s->sent[i] == ino)
            return 1;
    return 0;
}

static uint32_t kind_of(const char *link, uint64_t *ino)
{
    unsigned long long v = 0;
    *ino = 0;
    if (!strcmp(link, "anon_inode:[eventfd]"))
        return CAIRN_FD_EVENTFD;
    if (!strcmp(link, "anon_inode:[timerfd]"))
        return CAIRN_FD_TIMERFD;
    if (!strcmp(link, "anon_inode:[signalfd]"))
        return CAIRN_FD_SIGNALFD;
    if (sscanf(link, "socket:[%llu]", &v) == 1) {
        *ino = v;
        return CAIRN_FD_UNIX;
    }
    return 0;
}

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t spec_ns(const struct timespec *t)
{
    return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

/* How long timer_state waits for the kernel to handle an expiry that is
   due (below); a timer still showing no time left then is disarmed. */
#define TIMER_SETTLE_NS 50000000u

/* A timerfd's clock, time left, interval and unread expirations (mine: a
   copy of the job's fd), read so that they agree with each other.
   timerfd_gettime gives 0 left both for a disarmed timer and for one whose
   expiry has passed while the kernel's timer interrupt has not handled it
   yet (a few microseconds, more on a busy or virtual machine): the
   expiration is then not in "ticks" either. Taking that 0 for "disarmed"
   was the intermittent fault of the two tree_fds tests (a periodic timer
   restored disarmed, without its interval: "the timer's settings
   changed", or a read waiting for ever). So a periodic timer showing 0
   left is read again once the expiry is handled (its ticks go up, and
   timerfd_gettime then moves it to its next period); and the ticks, read
   after timerfd_gettime, must come before the next expiry could have
   (time left > the time the two readings took), or both are read again.
   A timer set with 0 left and an interval, which is disarmed, shows 0 left
   until TIMER_SETTLE_NS have passed and is saved as it is. A one-shot
   timer first read with 0 left is taken as disarmed: one whose expiry was
   due within those microseconds loses it (docs/TRANSPARENT.md). */
static void timer_state(int mine, long host, int fd, struct cairn_proc_object *r)
{
    uint64_t start = mono_ns();
    int armed = 0;
    r->v[0] = fdinfo_num(host, fd, "clockid:", 10);
    for (;;) {
        struct itimerspec its = {{0, 0}, {0, 0}};
        uint64_t t0 = mono_ns();
        timerfd_gettime(mine, &its); /* counts the expirations due, as a read would */
        r->v[3] = fdinfo_num(host, fd, "ticks:", 10);
        uint64_t took = mono_ns() - t0;
        r->v[1] = spec_ns(&its.it_value);
        r->v[2] = spec_ns(&its.it_interval);
        /* Disarmed: 0 left, no interval, unless it was armed a reading
           ago and no expiration is counted yet (its expiry is due). */
        int disarmed = r->v[1] == 0 && r->v[2] == 0 && !(armed && r->v[3] == 0);
        armed |= r->v[1] != 0;
        /* An interval shorter than the two readings: expiries fall
           between them whenever they are made; the count is right to
           one period, as good as it gets. */
        int fast = r->v[1] && r->v[2] <= took;
        if (r->v[1] > took || fast || disarmed || mono_ns() - start > TIMER_SETTLE_NS)
            return;
        /* An expiry due now: wait until the kernel has counted it (the
           fd becomes readable), at once if some are unread already. */
        struct pollfd p = {.fd = mine, .events = POLLIN};
        poll(&p, 1, r->v[3] ? 0 : 1);
    }
}

/* The state of a new object (record r of process host, its fd). */
static int fill_state(struct scan *s, struct cairn_proc_object *r, long host, const struct usock *u)
{
    int fd = r->fd;
    if (r->kind == CAIRN_FD_EVENTFD) {
        r->v[0] = fdinfo_num(host, fd, "eventfd-count:", 16);
        r->flags = fdinfo_num(host, fd, "eventfd-semaphore:", 10) ? CAIRN_OBJF_SEMAPHORE : 0;
        return 0;
    }
    if (r->kind == CAIRN_FD_SIGNALFD) {
        r->v[0] = fdinfo_num(host, fd, "sigmask:", 16);
        return 0;
    }
    int mine = grab_fd(s->pidfd, host, fd);
    if (mine < 0) {
        snprintf(s->why, s->wlen, "fd %d: cairn cannot examine it (pidfd_getfd)", fd);
        return -1;
    }
    int rc = 0;
    if (r->kind == CAIRN_FD_TIMERFD) {
        timer_state(mine, host, fd, r);
    } else {
        int sndbuf = 0;
        socklen_t l = sizeof sndbuf;
        getsockopt(mine, SOL_SOCKET, SO_SNDBUF, &sndbuf, &l);
        r->v[0] = u->type;
        r->v[1] = sndbuf > 0 ? (uint64_t)sndbuf : 0;
        r->flags = u->shutdown & (CAIRN_OBJF_SHUT_RD | CAIRN_OBJF_SHUT_WR);
        if (s->data) {
            rc = peek_queue(mine, u->type, r->flags, s->data + *s->len, s->cap - *s->len,
                            &r->nbytes, fd, s->why, s->wlen);
            *s->len += r->nbytes;
        }
    }
    close(mine);
    return rc;
}

/* Adds the record of fd of process node x, whose link is link. */
static int add_fd(struct scan *s, const struct run_node *x, int fd, const char *link)
{
    uint64_t ino;
    uint32_t kind = kind_of(link, &ino);
    if (!kind)
        return 0;
    struct run_objects *o = s->o;
    if (kind == CAIRN_FD_UNIX && !s->dumped) {
        if (udiag_dump(&s->d) < 0) {
            snprintf(s->why, s->wlen, "fd %d: cannot list the job's sockets (NETLINK_SOCK_DIAG)", fd);
            return -1;
        }
        s->dumped = 1;
    }
    const struct usock *u = kind == CAIRN_FD_UNIX ? usock_of(&s->d, ino) : NULL;
    if (kind == CAIRN_FD_UNIX && !u) {
        if (!run_sock_restorable(x->host, fd, 1, s->why, s->wlen))
            return -1;
        snprintf(s->why, s->wlen, "fd %d is a socket cairn cannot examine (sock_diag)", fd);
        return -1;
    }
    if (u && unix_why(&s->d, u, fd, s->why, s->wlen))
        return -1;
    if (o->n == CAIRN_PROC_MAX_OBJECTS) {
        snprintf(s->why, s->wlen, "the job has more than %u eventfd, timerfd, signalfd and "
                 "socket descriptors", CAIRN_PROC_MAX_OBJECTS);
        return -1;
    }
    if (!s->data && kind != CAIRN_FD_UNIX)
        return 0; /* the check before the signals: nothing of these is refused */
    struct cairn_proc_object *r = &o->rec[o->n];
    *r = (struct cairn_proc_object){.pid = (uint32_t)x->pid, .fd = fd, .kind = kind,
                                    .object = (uint32_t)o->n, .ino = ino,
                                    .peer = CAIRN_PROC_NO_PEER};
    o->host[o->n] = x->host;
    for (size_t k = 0; k < o->n; k++) {
        const struct cairn_proc_object *g = &o->rec[k];
        if (g->object == k && g->kind == kind &&
            (u ? g->ino == ino : same_file(o->host[k], g->fd, x->host, fd))) {
            r->object = (uint32_t)k;
            r->v[0] = g->v[0]; /* informational: the state is the first record's */
            break;
        }
    }
    int first = r->object == o->n;
    o->n++;
    return first && s->data ? fill_state(s, r, x->host, u) : 0;
}

static int scan_process(struct scan *s, const struct run_node *x)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld/fd", x->host);
    DIR *d = opendir(dir);
    int rc = 0;
    s->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)x->host, 0);
    for (struct dirent *e; d && rc == 0 && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd == RUN_JOB_CONTROL_FD || fd == RUN_JOB_REGISTER_FD)
            continue; /* cairn's channels */
        char path[320], link[128];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t l = readlink(path, link, sizeof link - 1);
        if (l <= 0)
            continue;
        link[l] = 0;
        if (sent_to_cairn(s, link))
            continue;
        rc = add_fd(s, x, fd, link);
        if (rc < 0) {
            char inner[512];
            snprintf(inner, sizeof inner, "%s", s->why);
            snprintf(s->why, s->wlen, "process %d: %s", (int)x->pid, inner);
        }
    }
    if (d)
        closedir(d);
    if (s->pidfd >= 0)
        close(s->pidfd);
    s->pidfd = -1;
    return rc;
}

/* Each socket's peer record; a peer no process of the job holds is refused. */
static int pair_sockets(struct scan *s)
{
    struct run_objects *o = s->o;
    for (size_t i = 0; i < o->n; i++) {
        struct cairn_proc_object *r = &o->rec[i];
        if (r->kind != CAIRN_FD_UNIX || r->object != i)
            continue;
        const struct usock *u = usock_of(&s->d, r->ino);
        if (!u || !u->peer)
            continue; /* the peer was closed: the socket reads what is left */
        size_t k = 0;
        while (k < o->n && !(o->rec[k].kind == CAIRN_FD_UNIX && o->rec[k].object == k &&
                             o->rec[k].ino == u->peer))
            k++;
        if (k == o->n) {
            const struct usock *p = usock_of(&s->d, u->peer);
            snprintf(s->why, s->wlen, "process %u: fd %d is a socket to outside the job: its "
                     "peer is socket:[%" PRIu64 "] (%s)", r->pid, r->fd, u->peer,
                     p && p->name[0] ? p->name : "unnamed");
            return -1;
        }
        r->peer = (uint32_t)k;
    }
    return 0;
}

int run_objects_collect(const struct run_node *nodes, size_t n, const uint64_t *sent,
                        size_t nsent, struct run_objects *o, unsigned char *data, size_t cap,
                        size_t *len, char *why, size_t wlen)
{
    struct scan s = {.o = o, .data = data, .cap = cap, .len = len, .why = why, .wlen = wlen,
                     .pidfd = -1, .sent = sent, .nsent = nsent};
    size_t none = 0;
    if (!len)
        s.len = &none;
    *s.len = 0;
    o->n = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!nodes[i].zombie)
            rc = scan_process(&s, &nodes[i]);
    if (rc == 0)
        rc = pair_sockets(&s);
    free(s.d.s);
    return rc;
}
