/* SPDX-License-Identifier: MIT */
/*
 * capture_sock.c — the kernel objects of a process tree's fds (eventfd,
 * timerfd, signalfd, AF_UNIX sockets), as capture.c's classify_fd sees
 * them: only their kind is recorded here. cairn run, which sees every
 * process of the job stopped, records their state and pairs the sockets
 * (cli/run_sock.c); the tree section it sends with GO has a record for
 * each (process, fd), which rt_objects_check looks for.
 *
 * Other sockets are refused naming their addresses. Async-signal-safe.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "capture.h"
#include "capture_sock.h"

static void cat_addr(char *buf, size_t cap, const struct sockaddr_storage *ss)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    uint16_t port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    } else {
        rt_cat(buf, cap, "(no address)");
        return;
    }
    rt_cat(buf, cap, ip);
    rt_cat(buf, cap, ":");
    rt_cat_u64(buf, cap, port);
}

/* "fd N is a socket: TCP A:P -> B:Q" (or UDP, or another family). */
static int refuse_socket(struct rt_state *st, int fd, int domain, int type)
{
    struct sockaddr_storage a = {0}, b = {0};
    socklen_t la = sizeof a, lb = sizeof b;
    getsockname(fd, (struct sockaddr *)&a, &la);
    if (getpeername(fd, (struct sockaddr *)&b, &lb) < 0)
        lb = 0;
    char *w = st->why;
    w[0] = 0;
    rt_cat(w, sizeof st->why, "fd ");
    rt_cat_u64(w, sizeof st->why, (uint64_t)fd);
    int inet = domain == AF_INET || domain == AF_INET6;
    rt_cat(w, sizeof st->why, !inet ? " is a socket: address family " :
                               type == SOCK_STREAM ? " is a socket: TCP " :
                               type == SOCK_DGRAM ? " is a socket: UDP " : " is a socket: IP ");
    if (!inet) {
        rt_cat_u64(w, sizeof st->why, (uint64_t)domain);
        return -1;
    }
    cat_addr(w, sizeof st->why, &a);
    rt_cat(w, sizeof st->why, lb ? " -> " : " (not connected)");
    if (lb)
        cat_addr(w, sizeof st->why, &b);
    return -1;
}

int rt_objects_classify(struct rt_state *st, struct cairn_proc_file *f, int fd, const void *sbv)
{
    const struct stat *sb = sbv;
    if (S_ISSOCK(sb->st_mode)) {
        int domain = -1, type = -1;
        socklen_t l = sizeof domain;
        getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l);
        l = sizeof type;
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l);
        if (domain != AF_UNIX)
            return refuse_socket(st, fd, domain, type);
        if (!st->own_pidns)
            return 0; /* refused by capture.c, as before */
        f->kind = CAIRN_FD_UNIX; /* cairn run checks its peer */
        f->offset = (uint64_t)sb->st_ino;
        return 1;
    }
    if (!st->own_pidns)
        return 0;
    if (rt_streq(f->path, "anon_inode:[eventfd]"))
        f->kind = CAIRN_FD_EVENTFD;
    else if (rt_streq(f->path, "anon_inode:[timerfd]"))
        f->kind = CAIRN_FD_TIMERFD;
    else if (rt_streq(f->path, "anon_inode:[signalfd]"))
        f->kind = CAIRN_FD_SIGNALFD;
    else
        return 0;
    return 1;
}

static int is_object(uint32_t kind)
{
    return kind >= CAIRN_FD_EVENTFD && kind <= CAIRN_FD_UNIX;
}

int rt_objects_check(struct rt_state *st, const void *treev)
{
    const struct cairn_proc_tree *t = treev;
    const struct cairn_proc_object *o = NULL;
    uint64_t n = 0;
    if (t) {
        uint64_t at = sizeof *t + t->nmembers * sizeof(struct cairn_proc_member) +
                      t->npipes * sizeof(struct cairn_proc_pipe) +
                      t->nshm * sizeof(struct cairn_proc_shm);
        if (at + sizeof(struct cairn_proc_objects) <= st->tree_len) {
            const struct cairn_proc_objects *h = (const void *)(st->tree + at);
            n = h->nobjects;
            o = (const void *)(h + 1);
        }
    }
    uint32_t pid = (uint32_t)getpid();
    for (uint64_t i = 0; i < st->core.nfiles; i++) {
        const struct cairn_proc_file *f = &st->files[i];
        if (!is_object(f->kind))
            continue;
        uint64_t k = 0;
        while (k < n && (o[k].pid != pid || o[k].fd != f->fd || o[k].kind != f->kind))
            k++;
        if (k == n)
            return rt_refuse_num(st, "fd ", (uint64_t)f->fd,
                                 " is an object cairn run did not record (it changed "
                                 "while the job stopped?)");
    }
    return 0;
}
