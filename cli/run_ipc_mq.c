/* SPDX-License-Identifier: MIT */
/*
 * run_ipc_mq.c — the job's POSIX message queues, for the namespace's init
 * (run_ipc.c; docs/TRANSPARENT.md "IPC objects").
 *
 * Which queues: those with a name, listed from a detached mount of the IPC
 * namespace's mqueue filesystem (fsopen/fsmount: attached nowhere, so the
 * job's mounts do not change), and those only descriptors keep (unlinked),
 * found in /proc/PID/fd of the job's processes. A queue is its inode.
 * For each, the attributes and the messages: POSIX has no call that reads
 * a message without taking it, so they are received (highest priority
 * first, oldest first within one) and sent back in that order while the
 * job is stopped, which leaves the queue as it was. A queue with an
 * mq_notify registration is refused: sending back would fire it.
 *
 * On restore a queue is made again under its name, or, once unlinked,
 * under "/.cairn-mq-<inode>" (the name the runtime gave its descriptors,
 * runtime/ipc.c), which is unlinked once the job is restored (cairn's
 * RESTORED: every process has reopened its descriptors by then).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "run_ipc.h"

#define MQUEUE_MAGIC 0x19800202
#define MAX_QUEUES CAIRN_PROC_MAX_IPC_OBJECTS
#define MAX_MSGSIZE (1u << 20)

struct queue {
    uint64_t ino;
    int fd;
    char name[256]; /* "" once unlinked */
};

static struct queue qs[MAX_QUEUES];
static size_t nq;
static int mnt = -1; /* the detached mqueue mount */

/* Names made on restore for unlinked queues, unlinked at RESTORED. */
static char made[MAX_QUEUES][256];
static size_t nmade;

static int add_queue(int fd, const char *name, char *why, size_t len)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        close(fd);
        return 0;
    }
    for (size_t i = 0; i < nq; i++)
        if (qs[i].ino == (uint64_t)sb.st_ino) {
            close(fd);
            return 0;
        }
    if (nq == MAX_QUEUES) {
        close(fd);
        snprintf(why, len, "the job has more than %u POSIX message queues", MAX_QUEUES);
        return -1;
    }
    qs[nq] = (struct queue){.ino = (uint64_t)sb.st_ino, .fd = fd};
    snprintf(qs[nq].name, sizeof qs[nq].name, "%s", name);
    nq++;
    return 0;
}

/* The queues with a name. */
static int list_named(char *why, size_t len)
{
    if (mnt < 0) {
        int fs = fsopen("mqueue", FSOPEN_CLOEXEC);
        if (fs >= 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
            mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSUID);
        if (fs >= 0)
            close(fs);
        if (mnt < 0) {
            snprintf(why, len, "cannot list the job's POSIX message queues (mqueue: %s)",
                     strerror(errno));
            return -1;
        }
    }
    int dfd = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
    int rc = 0;
    for (struct dirent *e; d && rc == 0 && (e = readdir(d));) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
            continue;
        char name[300];
        snprintf(name, sizeof name, "/%s", e->d_name);
        int fd = openat(mnt, e->d_name, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && strlen(name) < 256)
            rc = add_queue(fd, name, why, len);
        else if (fd >= 0)
            close(fd);
    }
    if (d)
        closedir(d);
    else if (dfd >= 0)
        close(dfd);
    return rc;
}

/* The queues the job's processes hold (those unlinked are found only so). */
static int list_held(char *why, size_t len)
{
    DIR *proc = opendir("/proc");
    int rc = 0;
    for (struct dirent *p; proc && rc == 0 && (p = readdir(proc));) {
        long pid = atol(p->d_name);
        if (pid <= 1 || pid == (long)getpid())
            continue;
        char dir[64];
        snprintf(dir, sizeof dir, "/proc/%ld/fd", pid);
        DIR *d = opendir(dir);
        for (struct dirent *e; d && rc == 0 && (e = readdir(d));) {
            char path[320];
            struct statfs fs;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (e->d_name[0] == '.' || statfs(path, &fs) < 0 || fs.f_type != MQUEUE_MAGIC)
                continue;
            int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
            if (fd >= 0)
                rc = add_queue(fd, "", why, len);
        }
        if (d)
            closedir(d);
    }
    if (proc)
        closedir(proc);
    return rc;
}

static const char *label(const struct queue *q, char *buf, size_t n)
{
    if (q->name[0])
        return q->name;
    snprintf(buf, n, "(unlinked, inode %llu)", (unsigned long long)q->ino);
    return buf;
}

/* Its mq_notify registration's process, from the queue file's line. */
static long notify_pid(int fd)
{
    char line[160];
    ssize_t n = pread(fd, line, sizeof line - 1, 0);
    line[n > 0 ? n : 0] = 0;
    const char *p = strstr(line, "NOTIFY_PID:");
    return p ? atol(p + 11) : 0;
}

/* Takes every message and sends it back in the same order; each also
   into o. The room was checked first, so o cannot fill up meanwhile. */
static int copy_messages(struct ipc_out *o, const struct queue *q, const struct mq_attr *a,
                         char *why, size_t len)
{
    static char buf[MAX_MSGSIZE];
    size_t start = o->len;
    long got = 0;
    for (; got < a->mq_curmsgs; got++) {
        unsigned prio;
        ssize_t n = mq_receive(q->fd, buf, (size_t)a->mq_msgsize, &prio);
        if (n < 0)
            break;
        ipc_put_msg(o, prio, buf, (size_t)n);
    }
    int err = got < a->mq_curmsgs ? errno : 0;
    for (size_t at = start; at < o->len;) { /* back in, in order */
        struct cairn_proc_ipc_msg m;
        memcpy(&m, o->buf + at, sizeof m);
        if (mq_send(q->fd, (char *)o->buf + at + sizeof m, (size_t)m.len, (unsigned)m.type) < 0)
            err = errno;
        at += sizeof m + ((m.len + 7) & ~(uint64_t)7);
    }
    if (err) {
        char l[64];
        snprintf(why, len, "cannot read POSIX message queue %s: %s", label(q, l, sizeof l),
                 strerror(err));
        return -1;
    }
    return (int)got;
}

static int capture_queue(struct ipc_out *o, const struct queue *q, uint32_t index, char *why,
                         size_t len)
{
    struct mq_attr a;
    struct stat sb;
    char l[64];
    long np = notify_pid(q->fd);
    if (np) {
        snprintf(why, len, "POSIX message queue %s has an mq_notify registration (process "
                 "%ld): not restored", label(q, l, sizeof l), np);
        return -1;
    }
    if (mq_getattr(q->fd, &a) < 0 || fstat(q->fd, &sb) < 0 || a.mq_msgsize > MAX_MSGSIZE ||
        a.mq_maxmsg > CAIRN_PROC_MAX_IPC_MSGS) {
        snprintf(why, len, "cannot read POSIX message queue %s (or messages of more than 1 "
                 "MiB)", label(q, l, sizeof l));
        return -1;
    }
    size_t need = sizeof(struct cairn_proc_ipc_obj) +
                  (size_t)a.mq_curmsgs * (sizeof(struct cairn_proc_ipc_msg) +
                                          (((size_t)a.mq_msgsize + 7) & ~(size_t)7));
    if (need > o->cap - o->len) {
        snprintf(why, len, "the job's IPC objects take more than %u MiB",
                 CAIRN_PROC_MAX_IPC_DATA >> 20);
        return -1;
    }
    struct cairn_proc_ipc_obj rec = {.kind = CAIRN_IPC_MQ, .id = (int32_t)index,
                                     .uid = sb.st_uid, .gid = sb.st_gid,
                                     .mode = sb.st_mode & 0777, .qbytes = (uint64_t)a.mq_maxmsg,
                                     .msgsize = (uint64_t)a.mq_msgsize, .ino = q->ino};
    memcpy(rec.name, q->name, sizeof rec.name);
    if (ipc_begin(o, &rec, why, len) < 0)
        return -1;
    int n = copy_messages(o, q, &a, why, len);
    if (n < 0)
        return -1;
    ipc_end(o, (uint32_t)n);
    return 0;
}

int run_ipc_mq_capture(struct ipc_out *o, char *why, size_t len)
{
    nq = 0;
    int rc = list_named(why, len);
    if (rc == 0)
        rc = list_held(why, len);
    for (size_t i = 0; rc == 0 && i < nq; i++)
        rc = capture_queue(o, &qs[i], (uint32_t)i, why, len);
    for (size_t i = 0; i < nq; i++)
        close(qs[i].fd);
    nq = 0;
    return rc;
}

int run_ipc_mq_restore(const struct cairn_proc_ipc_obj *o, const unsigned char *d, char *why,
                       size_t len)
{
    char name[256];
    if (o->name[0])
        snprintf(name, sizeof name, "%s", o->name);
    else
        snprintf(name, sizeof name, "/.cairn-mq-%llu", (unsigned long long)o->ino);
    struct mq_attr a = {.mq_maxmsg = (long)o->qbytes, .mq_msgsize = (long)o->msgsize};
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC, 0600, &a);
    int ok = q != (mqd_t)-1;
    uint64_t at = 0;
    for (uint32_t k = 0; ok && k < o->count; k++) {
        struct cairn_proc_ipc_msg m;
        memcpy(&m, d + at, sizeof m);
        ok = mq_send(q, (const char *)d + at + sizeof m, (size_t)m.len, (unsigned)m.type) == 0;
        at += sizeof m + ((m.len + 7) & ~(uint64_t)7);
    }
    if (ok)
        ok = fchown(q, o->uid, o->gid) == 0 && fchmod(q, o->mode) == 0;
    if (!ok)
        snprintf(why, len, "cannot make POSIX message queue %s again: %s", name, strerror(errno));
    if (q != (mqd_t)-1)
        mq_close(q);
    if (ok && !o->name[0] && nmade < MAX_QUEUES)
        snprintf(made[nmade++], sizeof made[0], "%s", name);
    return ok ? 0 : -1;
}

void run_ipc_mq_restored(void)
{
    while (nmade)
        mq_unlink(made[--nmade]);
}
