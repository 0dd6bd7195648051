/* SPDX-License-Identifier: MIT */
/*
 * objects.c — the eventfds, timerfds, signalfds and AF_UNIX sockets of a
 * process tree (the tree section's object records, cli/run_sock.c). The
 * first restorer makes each object once, before it forks the tree, so
 * every process inherits it and an object several processes shared is one
 * again; each then puts its records' objects at their fds (state.c).
 *
 * A socket and its peer come back as a socketpair of the same type, each
 * end's receive queue written again through the other end (one message at
 * a time for datagrams and seqpackets), then shut down as they were. A
 * socket whose peer was closed gets a socketpair whose other end is closed
 * once its bytes are written. A timer is armed again with the time it had
 * left and its unread expirations (TFD_IOC_SET_TICKS).
 */
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"
#include "tree.h"

#define NR_sendto 44
#define NR_shutdown 48
#define NR_socketpair 53
#define NR_setsockopt 54
#define NR_ioctl 16
#define NR_timerfd_create 283
#define NR_timerfd_settime 286
#define NR_signalfd4 289
#define NR_eventfd2 290
#define EFD_SEMAPHORE 1
#define MSG_DONTWAIT 0x40
#define MSG_NOSIGNAL 0x4000
#define SOL_SOCKET 1
#define SO_SNDBUF 7
#define TFD_IOC_SET_TICKS 0x40085400ul /* _IOW('T', 0, u64) */
#define F_SETFL 4
#define O_NONBLOCK 04000

static const struct cairn_proc_object *obj;
static uint64_t nobj;
static long obj_fd[CAIRN_PROC_MAX_OBJECTS]; /* first records only; -1 else */

int r_objects_parse(const unsigned char *at, uint64_t avail, uint64_t *bytes)
{
    nobj = 0;
    *bytes = 0;
    if (avail == 0)
        return 0;
    const struct cairn_proc_objects *h = (const void *)at;
    if (avail < sizeof *h || h->nobjects > CAIRN_PROC_MAX_OBJECTS ||
        avail != sizeof *h + h->nobjects * sizeof(struct cairn_proc_object))
        return -1;
    obj = (const void *)(h + 1);
    nobj = h->nobjects;
    for (uint64_t i = 0; i < nobj; i++) { /* proc_tree_check checked the rest */
        if (obj[i].object > i || obj[obj[i].object].object != obj[i].object ||
            (obj[i].kind == CAIRN_FD_UNIX && obj[i].peer != CAIRN_PROC_NO_PEER &&
             (obj[i].peer >= nobj || obj[obj[i].peer].peer != i)))
            return -1;
        *bytes += obj[i].nbytes;
    }
    return 0;
}

static long make_timer(const struct cairn_proc_object *o)
{
    long fd = sys2(NR_timerfd_create, (long)o->v[0], 0);
    if (fd < 0)
        return fd;
    long spec[4] = {(long)(o->v[2] / 1000000000u), (long)(o->v[2] % 1000000000u),
                    (long)(o->v[1] / 1000000000u), (long)(o->v[1] % 1000000000u)};
    /* 0 left and an interval: a timer set so, disarmed but keeping its
       interval (timerfd_gettime shows it); cairn run reads a periodic
       timer whose expiry is due again until it has time left
       (cli/run_sock.c timer_state), so this is never one that runs. */
    long rc = o->v[1] || o->v[2] ? sys4(NR_timerfd_settime, fd, 0, spec, 0) : 0;
    uint64_t ticks = o->v[3];
    if (rc == 0 && ticks)
        rc = sys3(NR_ioctl, fd, (long)TFD_IOC_SET_TICKS, &ticks);
    return rc < 0 ? rc : fd;
}

static long make_simple(const struct cairn_proc_object *o)
{
    if (o->kind == CAIRN_FD_TIMERFD)
        return make_timer(o);
    if (o->kind == CAIRN_FD_SIGNALFD) {
        uint64_t mask = o->v[0];
        return sys4(NR_signalfd4, -1, &mask, 8, 0);
    }
    long fd = sys2(NR_eventfd2, 0, o->flags & CAIRN_OBJF_SEMAPHORE ? EFD_SEMAPHORE : 0);
    uint64_t count = o->v[0];
    if (fd >= 0 && count && sys3(NR_write, fd, &count, 8) != 8)
        return -22;
    return fd;
}

/* Writes a socket's receive queue (data, n bytes) through the other end. */
static long refill(long through, const struct cairn_proc_object *o, const unsigned char *data)
{
    int stream = o->v[0] == 1;
    for (uint64_t at = 0; at < o->nbytes;) {
        uint32_t len = o->nbytes - (uint32_t)at;
        if (!stream) {
            if (o->nbytes - at < 4)
                return -22;
            memcpy(&len, data + at, 4);
            at += 4;
            if (len > o->nbytes - at)
                return -22;
        }
        long n = sys6(NR_sendto, through, (long)(data + at), len, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
        if (n < 0 || (!stream && n != (long)len))
            return n < 0 ? n : -22;
        if (n == 0 && len)
            return -22;
        at += (uint64_t)n;
    }
    return 0;
}

static void set_sndbuf(long fd, const struct cairn_proc_object *o)
{
    int half = (int)(o->v[1] / 2); /* the kernel doubles what it is given */
    if (half > 0)
        sys5(NR_setsockopt, fd, SOL_SOCKET, SO_SNDBUF, (long)&half, sizeof half);
}

/* Socket i and its peer (if any) as a socketpair with their bytes. */
static long make_pair(uint64_t i, const unsigned char *data, const uint64_t *at)
{
    const struct cairn_proc_object *o = &obj[i];
    int sv[2];
    long rc = sys4(NR_socketpair, 1 /* AF_UNIX */, (long)o->v[0], 0, sv);
    if (rc < 0)
        return rc;
    obj_fd[i] = sv[0];
    uint64_t p = o->peer;
    if (p != CAIRN_PROC_NO_PEER) {
        obj_fd[p] = sv[1];
        set_sndbuf(sv[0], o);
        set_sndbuf(sv[1], &obj[p]);
        rc = refill(sv[0], &obj[p], data + at[p]);
    } else {
        set_sndbuf(sv[1], o);
    }
    if (rc == 0)
        rc = refill(sv[1], o, data + at[i]);
    if (p == CAIRN_PROC_NO_PEER)
        sys1(NR_close, sv[1]);
    return rc;
}

static void shut(uint64_t i)
{
    uint32_t f = obj[i].flags & (CAIRN_OBJF_SHUT_RD | CAIRN_OBJF_SHUT_WR);
    if (f) /* SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2 */
        sys2(NR_shutdown, obj_fd[i], f == CAIRN_OBJF_SHUT_RD ? 0 : f == CAIRN_OBJF_SHUT_WR ? 1 : 2);
}

int r_objects_make(const unsigned char *data)
{
    static uint64_t at[CAIRN_PROC_MAX_OBJECTS];
    uint64_t off = 0;
    for (uint64_t i = 0; i < nobj; i++) {
        obj_fd[i] = -1;
        at[i] = off;
        off += obj[i].nbytes;
    }
    for (uint64_t i = 0; i < nobj; i++) {
        const struct cairn_proc_object *o = &obj[i];
        if (o->object != i || obj_fd[i] >= 0)
            continue;
        long rc = o->kind == CAIRN_FD_UNIX ? make_pair(i, data, at) : (obj_fd[i] = make_simple(o));
        if (rc < 0) {
            char e[24];
            r_say("cannot make the job's ", o->kind == CAIRN_FD_UNIX ? "sockets" : "eventfd, "
                  "timerfd or signalfd", " again (errno ", r_dec(e, (uint64_t)-rc), ")", (char *)0);
            return -1;
        }
    }
    for (uint64_t i = 0; i < nobj; i++)
        if (obj[i].object == i && obj[i].kind == CAIRN_FD_UNIX)
            shut(i);
    return 0;
}

static const struct cairn_proc_object *record(long pid, int32_t fd, uint32_t kind)
{
    for (uint64_t i = 0; i < nobj; i++)
        if ((long)obj[i].pid == pid && obj[i].fd == fd && obj[i].kind == kind)
            return &obj[i];
    return 0;
}

int r_objects_check(long pid)
{
    for (uint64_t i = 0; i < img.core.nfiles; i++) {
        const struct cairn_proc_file *f = &img.files[i];
        if (f->kind >= CAIRN_FD_EVENTFD && f->kind <= CAIRN_FD_UNIX && !record(pid, f->fd, f->kind)) {
            r_say("an eventfd, timerfd, signalfd or socket of the image is not in its tree",
                  (char *)0);
            return -1;
        }
    }
    return 0;
}

void r_objects_place(const struct cairn_proc_file *f, long pid)
{
    const struct cairn_proc_object *o = record(pid, f->fd, f->kind);
    long from = o ? obj_fd[o->object] : -1;
    long rc = from < 0 ? -9 : sys2(NR_dup2, from, f->fd);
    if (rc < 0)
        r_fail("cannot give back an eventfd, timerfd, signalfd or socket of the job", rc);
    sys3(NR_fcntl, f->fd, F_SETFL, f->open_flags & O_NONBLOCK);
}

int r_objects_kept(long **fds, int max)
{
    int n = 0;
    for (uint64_t i = 0; i < nobj && n < max; i++)
        if (obj_fd[i] >= 0)
            fds[n++] = &obj_fd[i];
    return n;
}

void r_objects_close(void)
{
    for (uint64_t i = 0; i < nobj; i++)
        if (obj_fd[i] >= 0)
            sys1(NR_close, obj_fd[i]);
}
