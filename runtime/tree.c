/* SPDX-License-Identifier: MIT */
/*
 * tree.c — the job as a tree of processes (docs/TRANSPARENT.md, "Process
 * trees"): every process of the job has a control channel of its own to
 * cairn run, at the same fd number, and the writer of a process whose
 * parent is another process of the job is made so that the parent never
 * sees it.
 *
 * A forked child makes its channel in the fork handler; a program that
 * starts without one (exec after vfork or posix_spawn, which run no fork
 * handlers) in the runtime's constructor, when the channel it inherited
 * is owned (F_GETOWN) by another process; a program started with fds 3
 * and 4 closed (Python's subprocess) registers on the job's endpoint, an
 * abstract socket the namespace's init listens on (rt_tree_rejoin;
 * format/control.h, docs/TRANSPARENT.md for why that is safe).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "capture_sock.h"
#include "control.h"
#include "signals.h"
#include "tree.h"

static int register_fd = -1;
static int *channel; /* runtime.c's control_fd */

/* ---- the registration endpoint: for a process without fds 3 and 4 --------- */

/* The job's endpoint (format/control.h): the abstract name made of this
   pid namespace's inode; 0 if /proc does not say. */
static socklen_t endpoint_address(struct sockaddr_un *a)
{
    char link[64];
    ssize_t n = readlink("/proc/self/ns/pid", link, sizeof link - 1);
    if (n < 6)
        return 0;
    link[n] = 0;
    const char *p = link + 5;
    uint64_t ino = rt_startswith(link, "pid:[") ? rt_parse_dec(&p) : 0;
    if (!ino || *p != ']')
        return 0;
    char name[64] = CAIRN_REGISTER_ENDPOINT;
    rt_cat_u64(name, sizeof name, ino);
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t len = rt_strlen(name);
    memcpy(a->sun_path + 1, name, len); /* sun_path[0] = 0: abstract */
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

/* A connection to cairn's endpoint, or -1. Anyone may bind an abstract
   name, so the listener must be the init of this very pid namespace (pid
   1 here: a process outside shows as 0) and of this user: no one else is
   ever sent a channel. */
static int connect_endpoint(void)
{
    struct sockaddr_un a;
    socklen_t alen = endpoint_address(&a);
    int s0 = alen ? socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0) : -1;
    /* Above the numbers the channel and the registration socket take
       (the lowest free fd is the lost channel's). */
    int s = s0 >= 0 ? fcntl(s0, F_DUPFD_CLOEXEC, 10) : -1;
    if (s0 >= 0)
        close(s0);
    if (s < 0)
        return -1;
    int rc;
    do
        rc = connect(s, (struct sockaddr *)&a, alen);
    while (rc < 0 && errno == EINTR);
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (rc < 0 || getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.pid != 1 ||
        cr.uid != geteuid()) {
        close(s);
        return -1;
    }
    return s;
}

/* "NEW <pid>" and one end of a new socketpair on `via`; the other end
   becomes this process's channel at fd `at`. */
static int send_channel(int via, int at)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    char msg[32] = "NEW ";
    rt_cat_u64(msg, sizeof msg, (uint64_t)getpid());
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {.iov_base = msg, .iov_len = rt_strlen(msg)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &sv[1], sizeof(int));
    /* dup2 replaces the channel inherited from the parent, in this process
       only, and leaves the copy open across exec, as cairn gave fd 3. It
       comes before the send, so that while cairn may look at this
       process's fds the only extra one is the end it receives
       (cli/run_tree.c, check_nodes). */
    int ok = sv[0] == at || dup2(sv[0], at) == at;
    if (sv[0] != at) /* at was free: the socketpair may have taken it */
        close(sv[0]);
    ssize_t n = -1;
    if (ok)
        do
            n = sendmsg(via, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
    close(sv[1]);
    if (ok && n < 0)
        close(at);
    ok = ok && n >= 0;
    if (ok) {
        fcntl(at, F_SETFD, 0);
        fcntl(at, F_SETOWN, getpid());
    }
    return ok ? 0 : -1;
}

/* A new channel for this process at fd `at`, sent to cairn on the
   registration socket, or on the endpoint when this process has none. */
static int new_channel(int at)
{
    int conn = register_fd < 0 ? connect_endpoint() : -1;
    int via = register_fd >= 0 ? register_fd : conn;
    int rc = via >= 0 ? send_channel(via, at) : -1;
    if (conn >= 0)
        close(conn);
    return rc;
}

/* cairn's answer on the endpoint: "REG" and the job's registration socket,
   put back at its number if that is free (the job's own files keep theirs). */
static void take_register_fd(int conn)
{
    struct pollfd p = {.fd = conn, .events = POLLIN};
    char buf[8];
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                        .msg_controllen = sizeof u.b};
    if (poll(&p, 1, 10000) != 1 || recvmsg(conn, &mh, MSG_CMSG_CLOEXEC) < 3)
        return;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    int fd = -1;
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
        cm->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    if (fd < 0)
        return;
    if (memcmp(buf, "REG", 3) != 0) {
        close(fd);
    } else if (fd == CAIRN_REGISTER_FD_NUMBER) { /* it was free: the lowest */
        fcntl(fd, F_SETFD, 0); /* open across exec, as cairn gave it */
    } else {
        if (fcntl(CAIRN_REGISTER_FD_NUMBER, F_GETFD) < 0)
            dup2(fd, CAIRN_REGISTER_FD_NUMBER);
        close(fd);
    }
}

int rt_tree_rejoin(int at)
{
    int conn = connect_endpoint();
    if (conn < 0)
        return -1;
    int rc = send_channel(conn, at);
    if (rc == 0)
        take_register_fd(conn);
    close(conn);
    return rc;
}

static void child_after_fork(void)
{
    int saved = errno;
    rt_nofork_forked();
    /* Until fd 3 is this process's own channel, a checkpoint signal would
       make its handler read the parent's channel (inherited): it waits. */
    uint64_t ckpt = 1ull << (CAIRN_CKPT_SIGNAL - 1), old = 0;
    rt_sigmask_raw(SIG_BLOCK, &ckpt, &old);
    if (channel && *channel >= 0 && new_channel(*channel) < 0)
        *channel = -1; /* no channel: cairn names this process and refuses */
    rt_sigmask_raw(SIG_SETMASK, &old, NULL);
    errno = saved;
}

/* fd is cairn's registration socket (a SOCK_SEQPACKET unix socket), not a
   file of the job's that took the number after it was closed. */
static int is_register_socket(int fd)
{
    int type = 0, domain = 0;
    socklen_t tl = sizeof type, dl = sizeof domain;
    return fd > 2 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
           type == SOCK_SEQPACKET && getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) == 0 &&
           domain == AF_UNIX;
}

int rt_tree_init(int *control_fd)
{
    const char *env = getenv(CAIRN_REGISTER_ENV);
    int fd = env ? atoi(env) : -1;
    if (is_register_socket(fd))
        register_fd = fd;
    channel = control_fd;
    int owner = fcntl(*control_fd, F_GETOWN);
    if (owner == 0) /* the job's first process: cairn's channel is its own */
        fcntl(*control_fd, F_SETOWN, getpid());
    else if (owner != getpid() && new_channel(*control_fd) < 0)
        return -1;
    return pthread_atfork(NULL, NULL, child_after_fork) == 0 ? 0 : -1;
}

int rt_tree_register_fd(void)
{
    return register_fd;
}

/* ---- the writer of a process whose parent is in the job ------------------ */

static char middle_stack[16384] __attribute__((aligned(16)));
/* Written by the middle process, in this memory: volatile, since glibc
   declares clone() a leaf, which GCC takes to mean that it calls nothing
   of ours back. */
static volatile long writer_result;

/* Runs in the job's memory (CLONE_VM) while the process waits (CLONE_VFORK):
   forks the writer, which becomes the namespace init's child when this
   middle process exits at once. */
static int middle(void *arg)
{
    long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
    if (pid == 0)
        ((void (*)(void))arg)(); /* the writer: never returns */
    writer_result = pid < 0 ? -1 : pid;
    syscall(SYS_exit, 0);
    return 0;
}

long rt_tree_fork_writer(int own_pidns, void (*writer)(void))
{
    if (!own_pidns || getppid() == 1) {
        /* The parent is cairn's (the namespace init, or cairn run): it
           reaps the writer, and the job sees no child. */
        long pid = syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), 0UL, 0UL, 0UL, 0UL);
        if (pid == 0)
            writer();
        return pid;
    }
    writer_result = -1;
    /* A parent in the job would see a CLONE_PARENT child: the writer is
       forked by a middle process instead, which exits at once, so that the
       writer is reparented to the namespace init, which reaps it. The
       middle process is a clone child (no exit signal), reaped here with
       __WCLONE: nothing of the job's waits sees it. */
    pid_t mid = clone(middle, middle_stack + sizeof middle_stack, CLONE_VM | CLONE_VFORK,
                      (void *)writer);
    if (mid < 0)
        return -1;
    int st;
    while (syscall(SYS_wait4, mid, &st, __WCLONE, NULL) < 0 && errno == EINTR)
        ;
    return writer_result;
}

/* ---- pipes, once cairn sent the tree --------------------------------------- */

static int pipe_known(const struct rt_state *st, uint64_t ino)
{
    if (st->tree_len < sizeof(struct cairn_proc_tree))
        return 0;
    const struct cairn_proc_tree *t = (const void *)st->tree;
    const struct cairn_proc_pipe *p =
        (const void *)(st->tree + sizeof *t + t->nmembers * sizeof(struct cairn_proc_member));
    for (uint64_t i = 0; i < t->npipes; i++)
        if (p[i].ino == ino)
            return 1;
    return 0;
}

/* After GO: each shared mapping names its object in the tree. */
static int tree_maps(struct rt_state *st, const struct cairn_proc_tree *t)
{
    const struct cairn_proc_shm *o =
        t ? (const void *)(st->tree + sizeof *t + t->nmembers * sizeof(struct cairn_proc_member) +
                           t->npipes * sizeof(struct cairn_proc_pipe))
          : NULL;
    for (uint64_t i = 0; i < st->core.nmaps; i++) {
        struct cairn_proc_map *m = &st->maps[i];
        if (m->kind != CAIRN_MAP_SHARED)
            continue;
        uint64_t k = 0;
        while (t && k < t->nshm && (o[k].dev != st->map_obj[i].dev || o[k].ino != st->map_obj[i].ino))
            k++;
        if (!t || k == t->nshm)
            return rt_refuse_num(st, "shared memory mapping ", i, " is not among the job's");
        m->reserved = (uint32_t)k;
    }
    return 0;
}

int rt_tree_files(struct rt_state *st)
{
    const struct cairn_proc_tree *t =
        st->tree_len >= sizeof(struct cairn_proc_tree) ? (const void *)st->tree : NULL;
    for (uint64_t i = 0; i < st->core.nfiles; i++) {
        struct cairn_proc_file *f = &st->files[i];
        if (f->kind != CAIRN_FD_PIPE)
            continue;
        int stdio = f->fd >= 0 && f->fd <= 2;
        if (stdio && !t) {
            f->kind = CAIRN_FD_INHERIT; /* cairn run's own: the restoring one's */
            continue;
        }
        /* One of cairn's fds 0-2, maybe on another number (a 2>&1 inside
           the job): on restore, the restoring cairn's fd of that number. */
        int from = -1;
        for (int k = 0; t && k < 3 && from < 0; k++)
            if (t->stdio_ino[k] == f->offset && (k == f->fd || t->stdio_ino[f->fd] != f->offset))
                from = k;
        if (stdio && from >= 0) {
            f->kind = CAIRN_FD_INHERIT;
            f->dup_of = from == f->fd ? -1 : from;
            continue;
        }
        if (!pipe_known(st, f->offset))
            return rt_refuse_num(st, "fd ", (uint64_t)f->fd,
                                 " is a pipe to a process outside the job");
    }
    return tree_maps(st, t) < 0 || rt_objects_check(st, t) < 0 ? -1 : 0;
}
