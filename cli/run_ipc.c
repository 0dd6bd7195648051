/* SPDX-License-Identifier: MIT */
/*
 * run_ipc.c — the job's IPC objects (docs/TRANSPARENT.md "IPC objects"):
 * SysV semaphore sets and message queues, POSIX message queues.
 *
 * The job has an IPC namespace of its own (run_ns.c), so every object in
 * it is the job's. The namespace's init, cairn's own code already in the
 * job's IPC, user and mount namespaces and with every capability there,
 * does the work:
 *   - at a checkpoint, while every process of the job is stopped, cairn
 *     asks it on a socket of its own (run_ipc_collect); it writes the
 *     objects into a memfd both share (the IPC section, 0x114, docs/FORMAT.md)
 *     and cairn sends them with GO to the job's first process, whose image
 *     holds them;
 *   - on restore, before it creates the job's first process, it makes each
 *     object again with its id (sem_next_id, msg_next_id: CAP_SYS_ADMIN or
 *     CAP_CHECKPOINT_RESTORE over the namespace), key, owner, mode and
 *     contents (run_ipc_restore).
 * The runtime could not: it has no capability in the namespace when the job
 * runs unprivileged, and the restorer has no libc and runs once the job's
 * processes exist; the init needs neither, and nothing of the job runs
 * before the objects are back.
 *
 * Messages are read without taking them (msgrcv MSG_COPY). POSIX queues
 * (run_ipc_mq.c) have no such call: their messages are received and sent
 * back in the same order while the job is stopped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proc_check.h"
#include "run.h"
#include "run_ipc.h"

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *info;
};

/* Requests on the socket: the objects into the memfd (answer: an int64,
   their length, or minus the length of why), or the job is restored. */
enum { IPC_REQ_CAPTURE = 1, IPC_REQ_RESTORED = 2 };

static int ipc_sock = -1;    /* cairn's end, or the init's */
static int ipc_mem = -1;     /* the memfd both share */

/* ---- building the section (the init) ----------------------------------- */

int ipc_put(struct ipc_out *o, const void *p, size_t n)
{
    size_t padded = (n + 7) & ~(size_t)7;
    if (padded > o->cap - o->len)
        return -1;
    memcpy(o->buf + o->len, p, n);
    memset(o->buf + o->len + n, 0, padded - n);
    o->len += padded;
    return 0;
}

int ipc_begin(struct ipc_out *o, struct cairn_proc_ipc_obj *rec, char *why, size_t len)
{
    if (o->nobjects == CAIRN_PROC_MAX_IPC_OBJECTS || o->cap - o->len < sizeof *rec) {
        snprintf(why, len, "the job has more than %u IPC objects or %u MiB of them",
                 CAIRN_PROC_MAX_IPC_OBJECTS, CAIRN_PROC_MAX_IPC_DATA >> 20);
        return -1;
    }
    o->rec_at = o->len;
    o->nobjects++;
    return ipc_put(o, rec, sizeof *rec);
}

/* The record begun last gets its data length and count. */
void ipc_end(struct ipc_out *o, uint32_t count)
{
    struct cairn_proc_ipc_obj rec;
    memcpy(&rec, o->buf + o->rec_at, sizeof rec);
    rec.count = count;
    rec.data_len = o->len - o->rec_at - sizeof rec;
    memcpy(o->buf + o->rec_at, &rec, sizeof rec);
}

int ipc_put_msg(struct ipc_out *o, int64_t type, const void *text, size_t n)
{
    struct cairn_proc_ipc_msg m = {.type = type, .len = n};
    return ipc_put(o, &m, sizeof m) < 0 || ipc_put(o, text, n) < 0 ? -1 : 0;
}

static int too_big(char *why, size_t len)
{
    snprintf(why, len, "the job's IPC objects take more than %u MiB",
             CAIRN_PROC_MAX_IPC_DATA >> 20);
    return -1;
}

static int capture_sems(struct ipc_out *o, char *why, size_t len)
{
    struct seminfo info;
    int top = semctl(0, 0, SEM_INFO, (union semun){.info = &info});
    static unsigned short vals[CAIRN_PROC_MAX_SEMS];
    for (int idx = 0; top >= 0 && idx <= top; idx++) {
        struct semid_ds ds;
        int id = semctl(idx, 0, SEM_STAT_ANY, (union semun){.buf = &ds});
        if (id < 0)
            continue; /* a free slot */
        struct cairn_proc_ipc_obj rec = {.kind = CAIRN_IPC_SEM, .key = ds.sem_perm.__key,
                                         .id = id, .uid = ds.sem_perm.uid,
                                         .gid = ds.sem_perm.gid,
                                         .mode = ds.sem_perm.mode & 0777};
        if (ds.sem_nsems > CAIRN_PROC_MAX_SEMS ||
            semctl(id, 0, GETALL, (union semun){.array = vals}) < 0) {
            snprintf(why, len, "cannot read SysV semaphore set %d (%s)", id, strerror(errno));
            return -1;
        }
        if (ipc_begin(o, &rec, why, len) < 0)
            return -1;
        if (ipc_put(o, vals, ds.sem_nsems * sizeof vals[0]) < 0)
            return too_big(why, len);
        ipc_end(o, (uint32_t)ds.sem_nsems);
    }
    return 0;
}

/* Every message of queue id, in order, copied (MSG_COPY: left queued). */
static int copy_msgs(struct ipc_out *o, int id, unsigned long n, char *why, size_t len)
{
    static struct {
        long type;
        char text[CAIRN_PROC_MAX_IPC_MSG];
    } m;
    for (unsigned long k = 0; k < n; k++) {
        ssize_t got = msgrcv(id, &m, sizeof m.text, (long)k, IPC_NOWAIT | MSG_COPY);
        if (got < 0) {
            snprintf(why, len, "cannot read message %lu of SysV message queue %d (%s)%s", k,
                     id, strerror(errno),
                     errno == E2BIG ? ": more than 64 KiB" : "");
            return -1;
        }
        if (ipc_put_msg(o, m.type, m.text, (size_t)got) < 0)
            return too_big(why, len);
    }
    return 0;
}

static int capture_msgs(struct ipc_out *o, char *why, size_t len)
{
    struct msginfo info;
    int top = msgctl(0, MSG_INFO, (struct msqid_ds *)&info);
    for (int idx = 0; top >= 0 && idx <= top; idx++) {
        struct msqid_ds ds;
        int id = msgctl(idx, MSG_STAT_ANY, &ds);
        if (id < 0)
            continue;
        struct cairn_proc_ipc_obj rec = {.kind = CAIRN_IPC_MSG, .key = ds.msg_perm.__key,
                                         .id = id, .uid = ds.msg_perm.uid,
                                         .gid = ds.msg_perm.gid,
                                         .mode = ds.msg_perm.mode & 0777,
                                         .qbytes = ds.msg_qbytes};
        if (ds.msg_qnum > CAIRN_PROC_MAX_IPC_MSGS) {
            snprintf(why, len, "SysV message queue %d holds more than %u messages", id,
                     CAIRN_PROC_MAX_IPC_MSGS);
            return -1;
        }
        if (ipc_begin(o, &rec, why, len) < 0 || copy_msgs(o, id, ds.msg_qnum, why, len) < 0)
            return -1;
        ipc_end(o, (uint32_t)ds.msg_qnum);
    }
    return 0;
}

/* SysV shared memory segments, with their bytes (attached read-only for
   the copy). */
static int capture_shms(struct ipc_out *o, char *why, size_t len)
{
    struct shm_info info;
    int top = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);
    for (int idx = 0; top >= 0 && idx <= top; idx++) {
        struct shmid_ds ds;
        int id = shmctl(idx, SHM_STAT_ANY, &ds);
        if (id < 0)
            continue;
        struct cairn_proc_ipc_obj rec = {.kind = CAIRN_IPC_SHM, .key = ds.shm_perm.__key,
                                         .id = id, .uid = ds.shm_perm.uid,
                                         .gid = ds.shm_perm.gid,
                                         .mode = ds.shm_perm.mode & 0777,
                                         .qbytes = ds.shm_segsz};
        if (ds.shm_segsz > o->cap - o->len)
            return too_big(why, len);
        void *p = shmat(id, NULL, SHM_RDONLY);
        if (p == (void *)-1) {
            snprintf(why, len, "cannot read SysV shared memory segment %d (%s)", id,
                     strerror(errno));
            return -1;
        }
        int rc = ipc_begin(o, &rec, why, len) < 0 ? -1 : ipc_put(o, p, ds.shm_segsz);
        shmdt(p);
        if (rc < 0)
            return too_big(why, len);
        ipc_end(o, (ds.shm_perm.mode & SHM_DEST) ? CAIRN_IPC_SHM_REMOVED : 0);
    }
    return 0;
}

/* The whole section into o; 0 (o->len 0: the namespace holds nothing) or
   -1 with why. */
static int capture(struct ipc_out *o, char *why, size_t len)
{
    struct cairn_proc_ipc h = {0};
    o->len = o->nobjects = 0;
    if (ipc_put(o, &h, sizeof h) < 0 || capture_sems(o, why, len) < 0 ||
        capture_msgs(o, why, len) < 0 || capture_shms(o, why, len) < 0 ||
        run_ipc_mq_capture(o, why, len) < 0)
        return -1;
    if (!o->nobjects) {
        o->len = 0;
        return 0;
    }
    h.nobjects = o->nobjects;
    h.length = o->len;
    memcpy(o->buf, &h, sizeof h);
    return 0;
}

/* ---- making them again (the init, before the job's first process) ------ */

/* The namespace's next id of that kind is `id`, for the next *get(). */
static int next_id(const char *what, int id)
{
    char path[64], text[24];
    snprintf(path, sizeof path, "/proc/sys/kernel/%s_next_id", what);
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    int n = snprintf(text, sizeof text, "%d", id);
    int ok = write(fd, text, (size_t)n) == n;
    close(fd);
    return ok ? 0 : -1;
}

static int restore_sem(const struct cairn_proc_ipc_obj *o, const unsigned char *d, char *why,
                       size_t len)
{
    static unsigned short vals[CAIRN_PROC_MAX_SEMS];
    memcpy(vals, d, o->count * sizeof vals[0]);
    int id = next_id("sem", o->id) < 0 ? -1
             : semget(o->key ? o->key : IPC_PRIVATE, (int)o->count, IPC_CREAT | IPC_EXCL | 0600);
    struct semid_ds ds;
    int ok = id == o->id && semctl(id, 0, SETALL, (union semun){.array = vals}) == 0 &&
             semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}) == 0;
    if (ok) {
        ds.sem_perm.uid = o->uid;
        ds.sem_perm.gid = o->gid;
        ds.sem_perm.mode = o->mode;
        ok = semctl(id, 0, IPC_SET, (union semun){.buf = &ds}) == 0;
    }
    if (!ok)
        snprintf(why, len, "cannot make SysV semaphore set %d (key 0x%x) again: %s%s", o->id,
                 (unsigned)o->key, strerror(errno),
                 id >= 0 && id != o->id ? " (another id)" : "");
    return ok ? 0 : -1;
}

static int restore_msg(const struct cairn_proc_ipc_obj *o, const unsigned char *d, char *why,
                       size_t len)
{
    static struct {
        long type;
        char text[CAIRN_PROC_MAX_IPC_MSG];
    } m;
    int id = next_id("msg", o->id) < 0 ? -1
             : msgget(o->key ? o->key : IPC_PRIVATE, IPC_CREAT | IPC_EXCL | 0600);
    struct msqid_ds ds;
    int ok = id == o->id && msgctl(id, IPC_STAT, &ds) == 0;
    if (ok) { /* its room first, for the messages */
        ds.msg_qbytes = o->qbytes;
        ok = msgctl(id, IPC_SET, &ds) == 0;
    }
    uint64_t at = 0;
    for (uint32_t k = 0; ok && k < o->count; k++) {
        struct cairn_proc_ipc_msg h;
        memcpy(&h, d + at, sizeof h);
        m.type = (long)h.type;
        memcpy(m.text, d + at + sizeof h, (size_t)h.len);
        at += sizeof h + ((h.len + 7) & ~(uint64_t)7);
        ok = msgsnd(id, &m, (size_t)h.len, IPC_NOWAIT) == 0;
    }
    if (ok) {
        ds.msg_perm.uid = o->uid;
        ds.msg_perm.gid = o->gid;
        ds.msg_perm.mode = o->mode;
        ok = msgctl(id, IPC_SET, &ds) == 0;
    }
    if (!ok)
        snprintf(why, len, "cannot make SysV message queue %d (key 0x%x) again: %s%s", o->id,
                 (unsigned)o->key, strerror(errno),
                 id >= 0 && id != o->id ? " (another id)" : "");
    return ok ? 0 : -1;
}

/* Segments the job had removed already, removed again at RESTORED (once
   every process has attached them again). */
static int removed[CAIRN_PROC_MAX_IPC_OBJECTS];
static size_t nremoved;

static int restore_shm(const struct cairn_proc_ipc_obj *o, const unsigned char *d, char *why,
                       size_t len)
{
    int id = next_id("shm", o->id) < 0 ? -1
             : shmget(o->key ? o->key : IPC_PRIVATE, (size_t)o->qbytes,
                      IPC_CREAT | IPC_EXCL | 0600);
    void *p = id == o->id ? shmat(id, NULL, 0) : (void *)-1;
    struct shmid_ds ds;
    int ok = p != (void *)-1;
    if (ok) {
        memcpy(p, d, (size_t)o->qbytes);
        shmdt(p);
        ok = shmctl(id, IPC_STAT, &ds) == 0;
    }
    if (ok) {
        ds.shm_perm.uid = o->uid;
        ds.shm_perm.gid = o->gid;
        ds.shm_perm.mode = o->mode;
        ok = shmctl(id, IPC_SET, &ds) == 0;
    }
    if (ok && (o->count & CAIRN_IPC_SHM_REMOVED) && nremoved < CAIRN_PROC_MAX_IPC_OBJECTS)
        removed[nremoved++] = id;
    if (!ok)
        snprintf(why, len, "cannot make SysV shared memory segment %d (key 0x%x, %llu bytes) "
                 "again: %s%s", o->id, (unsigned)o->key, (unsigned long long)o->qbytes,
                 strerror(errno), id >= 0 && id != o->id ? " (another id)" : "");
    return ok ? 0 : -1;
}

struct restore_arg {
    char *why;
    size_t len;
};

static int restore_one(const struct cairn_proc_ipc_obj *o, const unsigned char *d, void *arg)
{
    struct restore_arg *a = arg;
    if (o->kind == CAIRN_IPC_SEM)
        return restore_sem(o, d, a->why, a->len);
    if (o->kind == CAIRN_IPC_MSG)
        return restore_msg(o, d, a->why, a->len);
    if (o->kind == CAIRN_IPC_SHM)
        return restore_shm(o, d, a->why, a->len);
    return run_ipc_mq_restore(o, d, a->why, a->len);
}

/* ---- cairn's side and the init's ----------------------------------------- */

static unsigned char *saved;  /* the image's IPC section, for the init */
static size_t saved_len;
static char load_error[256];  /* why it could not be read, or "" */

int run_ipc_setup(int image_fd)
{
    int sv[2];
    run_ipc_close();
    free(saved);
    saved = NULL;
    saved_len = 0;
    load_error[0] = 0;
    if (image_fd >= 0) { /* checked already (proc_check, run_start.c) */
        cairn_image_t *img = NULL;
        int rc = cairn_image_open_fd(&img, image_fd, NULL, 0);
        if (rc == 0)
            rc = proc_ipc_load(img, &saved, &saved_len, load_error, sizeof load_error);
        else
            snprintf(load_error, sizeof load_error, "cannot read the image: %s",
                     cairn_strerror(rc));
        cairn_image_close(img);
        if (rc < 0 && !load_error[0])
            snprintf(load_error, sizeof load_error, "cannot read the image's IPC section");
        if (rc >= 0)
            load_error[0] = 0;
    }
    ipc_mem = memfd_create("cairn-ipc", MFD_CLOEXEC);
    if (ipc_mem < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        run_ipc_close();
        return -1;
    }
    ipc_sock = sv[0];
    return sv[1];
}

void run_ipc_close(void)
{
    if (ipc_sock >= 0)
        close(ipc_sock);
    if (ipc_mem >= 0)
        close(ipc_mem);
    ipc_sock = ipc_mem = -1;
}

void run_ipc_parent(int child_end)
{
    if (child_end >= 0)
        close(child_end);
}

void run_ipc_child(int child_end, int keep[2])
{
    if (ipc_sock >= 0)
        close(ipc_sock);
    ipc_sock = child_end;
    keep[0] = ipc_sock;
    keep[1] = ipc_mem;
}

int run_ipc_restore(char *why, size_t len)
{
    struct restore_arg a = {why, len};
    if (load_error[0]) { /* the restore must not go on without them */
        snprintf(why, len, "%s", load_error);
        return -1;
    }
    if (!saved)
        return 0;
    int rc = proc_ipc_walk(saved, saved_len, restore_one, &a, why, len);
    free(saved);
    saved = NULL;
    return rc ? -1 : 0;
}

void run_ipc_serve(void)
{
    static struct ipc_out o;
    int32_t req;
    if (recv(ipc_sock, &req, sizeof req, MSG_DONTWAIT) != (ssize_t)sizeof req)
        return;
    if (req == IPC_REQ_RESTORED) {
        run_ipc_mq_restored();
        while (nremoved)
            shmctl(removed[--nremoved], IPC_RMID, NULL);
        return;
    }
    if (!o.buf && (o.buf = malloc(CAIRN_PROC_MAX_IPC_DATA)))
        o.cap = CAIRN_PROC_MAX_IPC_DATA;
    char why[512] = "out of memory";
    int64_t answer;
    if (o.buf && capture(&o, why, sizeof why) == 0) {
        answer = pwrite(ipc_mem, o.buf, o.len, 0) == (ssize_t)o.len ? (int64_t)o.len : -1;
        if (answer < 0)
            snprintf(why, sizeof why, "cannot pass the job's IPC objects on (%s)",
                     strerror(errno));
    } else {
        answer = -1;
    }
    if (answer < 0) {
        size_t n = strlen(why);
        answer = pwrite(ipc_mem, why, n, 0) == (ssize_t)n ? -(int64_t)n : -1;
    }
    send(ipc_sock, &answer, sizeof answer, MSG_NOSIGNAL);
}

void run_ipc_restored(void)
{
    int32_t req = IPC_REQ_RESTORED;
    if (ipc_sock >= 0)
        send(ipc_sock, &req, sizeof req, MSG_NOSIGNAL);
}

int run_ipc_sock(void)
{
    return ipc_sock;
}

int run_ipc_collect(unsigned char *buf, size_t cap, size_t *len, char *why, size_t wlen)
{
    *len = 0;
    int32_t req = IPC_REQ_CAPTURE;
    int64_t answer = 0;
    struct pollfd p = {ipc_sock, POLLIN, 0};
    if (ipc_sock < 0 || send(ipc_sock, &req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req ||
        poll(&p, 1, 10000) != 1 || recv(ipc_sock, &answer, sizeof answer, 0) != sizeof answer) {
        snprintf(why, wlen, "the job's namespace init did not list its IPC objects");
        return -1;
    }
    if (answer < 0) {
        size_t n = (size_t)-answer < wlen - 1 ? (size_t)-answer : wlen - 1;
        ssize_t got = pread(ipc_mem, why, n, 0);
        why[got > 0 ? (size_t)got : 0] = 0;
        return -1;
    }
    if ((uint64_t)answer > cap || pread(ipc_mem, buf, (size_t)answer, 0) != (ssize_t)answer) {
        snprintf(why, wlen, "cannot read the job's IPC objects");
        return -1;
    }
    *len = (size_t)answer;
    return 0;
}
