/* SPDX-License-Identifier: MIT */
/*
 * proc_tree_check.c — the rules of a process tree's records (docs/FORMAT.md
 * 0x10c-0x10e), as proc_check applies them to the rest: what the restorer
 * would act on must make sense before it runs. Called by proc_check.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "cairn_image.h"
#include "proc_check.h"

#define TREE_MAX (CAIRN_PROC_TREE_MAX)

struct tree {
    struct cairn_proc_tree h;
    const struct cairn_proc_member *m;
    const struct cairn_proc_pipe *pipe;
    const struct cairn_proc_shm *shm;
    const struct cairn_proc_object *obj; /* nobj records (0: none) */
    uint64_t nobj;
};

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return CAIRN_ECORRUPT;
}

static int read_tree(cairn_image_t *img, unsigned char *buf, struct tree *t, int *have, char *why,
                     size_t len)
{
    int sec = proc_only_section(img, CAIRN_SEC_PROC_TREE);
    *have = sec >= 0;
    if (sec == -2)
        return fail(why, len, "more than one process tree section");
    if (sec < 0)
        return 0;
    uint64_t raw = cairn_image_section(img, (unsigned)sec)->raw_size;
    if (raw < sizeof t->h || raw > TREE_MAX)
        return fail(why, len, "process tree: %" PRIu64 " bytes", raw);
    int rc = cairn_image_read(img, (unsigned)sec, buf, (size_t)raw);
    if (rc < 0)
        return fail(why, len, "process tree: %s", cairn_image_error(img));
    memcpy(&t->h, buf, sizeof t->h);
    uint64_t base = sizeof t->h + t->h.nmembers * sizeof *t->m +
                    t->h.npipes * sizeof *t->pipe + t->h.nshm * sizeof *t->shm;
    struct cairn_proc_objects oh = {0};
    int counts_ok = t->h.nmembers >= 1 && t->h.nmembers <= CAIRN_PROC_MAX_MEMBERS &&
                    t->h.npipes <= CAIRN_PROC_MAX_PIPES && t->h.nshm <= CAIRN_PROC_MAX_SHM;
    if (counts_ok && raw >= base + sizeof oh) /* the objects' records (capture_sock.c) */
        memcpy(&oh, buf + base, sizeof oh);
    uint64_t objs = raw > base ? sizeof oh + oh.nobjects * sizeof *t->obj : 0;
    if (!counts_ok || oh.nobjects > CAIRN_PROC_MAX_OBJECTS || oh.reserved ||
        (raw > base && raw < base + sizeof oh) || raw != base + objs)
        return fail(why, len, "process tree: counts (%" PRIu64 " processes, %" PRIu64
                    " pipes, %" PRIu64 " shared objects) do not fit its %" PRIu64 " bytes",
                    t->h.nmembers, t->h.npipes, t->h.nshm, raw);
    t->m = (const void *)(buf + sizeof t->h);
    t->pipe = (const void *)(t->m + t->h.nmembers);
    t->shm = (const void *)(t->pipe + t->h.npipes);
    t->obj = (const void *)(buf + base + sizeof oh);
    t->nobj = oh.nobjects;
    return 0;
}

static const struct cairn_proc_member *member(const struct tree *t, uint64_t pid)
{
    for (uint64_t i = 0; i < t->h.nmembers; i++)
        if (t->m[i].pid == pid)
            return &t->m[i];
    return NULL;
}

/* Pids distinct, parents in the tree (or the init), a group and session
   the parent's or its own, known states. */
static int check_members(const struct tree *t, char *why, size_t len)
{
    for (uint64_t i = 0; i < t->h.nmembers; i++) {
        const struct cairn_proc_member *x = &t->m[i], *parent = member(t, x->ppid);
        if (x->pid <= 1 || x->pid >= (1u << 22) || member(t, x->pid) != x)
            return fail(why, len, "process tree: member %" PRIu64 ": pid %" PRIu64
                        " not a distinct pid of the job", i, x->pid);
        if (x->state > CAIRN_PROC_MEMBER_ZOMBIE || x->reserved ||
            (x->ppid != 1 && (!parent || parent == x)))
            return fail(why, len, "process tree: process %" PRIu64 ": unknown state, or its "
                        "parent %" PRIu64 " is not in the job", x->pid, x->ppid);
        uint64_t pg = parent ? parent->pgid : 0, ps = parent ? parent->sid : 0;
        if ((x->pgid != pg && x->pgid != x->pid) || (x->sid != ps && x->sid != x->pid))
            return fail(why, len, "process tree: process %" PRIu64 ": group or session neither "
                        "its parent's nor its own", x->pid);
    }
    return 0;
}

static int pipe_known(const struct tree *t, uint64_t ino)
{
    for (uint64_t i = 0; i < t->h.npipes; i++)
        if (t->pipe[i].ino == ino)
            return 1;
    return 0;
}

/* What an object record's state must be for the restorer (restore/objects.c). */
static int check_state(const struct cairn_proc_object *o, char *why, size_t len)
{
    int ok = 1;
    if (o->kind == CAIRN_FD_EVENTFD)
        ok = o->v[0] < ~0ull && !(o->flags & ~CAIRN_OBJF_SEMAPHORE);
    else if (o->kind == CAIRN_FD_TIMERFD)
        ok = o->v[0] < 16 && o->flags == 0 && o->v[1] < (1ull << 62) && o->v[2] < (1ull << 62);
    else if (o->kind == CAIRN_FD_SIGNALFD)
        ok = o->flags == 0;
    else
        ok = (o->v[0] == 1 || o->v[0] == 2 || o->v[0] == 5) && o->v[1] <= (1u << 30) &&
             !(o->flags & ~(CAIRN_OBJF_SHUT_RD | CAIRN_OBJF_SHUT_WR));
    if (!ok)
        return fail(why, len, "process tree: object of fd %d of process %u: its state makes "
                    "no sense for a %s", o->fd, o->pid, proc_fd_kind_name(o->kind));
    return 0;
}

/* One record per (process, fd); each names its object's first record, of
   its kind, which alone has state; socket peers name each other. The sum
   of the sockets' bytes is *bytes. */
static int check_objects(const struct tree *t, uint64_t *bytes, char *why, size_t len)
{
    *bytes = 0;
    for (uint64_t i = 0; i < t->nobj; i++) {
        const struct cairn_proc_object *o = &t->obj[i];
        const struct cairn_proc_member *m = member(t, o->pid);
        int first = o->object == i;
        const struct cairn_proc_object *f = o->object <= i ? &t->obj[o->object] : NULL;
        if (!m || m->state != CAIRN_PROC_MEMBER_IMAGE || o->fd < 0 ||
            (uint32_t)o->fd >= CAIRN_PROC_MAX_FD || o->kind < CAIRN_FD_EVENTFD ||
            o->kind > CAIRN_FD_UNIX || !f || f->object != o->object || f->kind != o->kind ||
            o->reserved || (!first && o->nbytes))
            return fail(why, len, "process tree: object record %" PRIu64 " (process %u, fd %d) "
                        "names no live process, fd or first record of its kind", i, o->pid, o->fd);
        for (uint64_t k = 0; k < i; k++)
            if (t->obj[k].pid == o->pid && t->obj[k].fd == o->fd)
                return fail(why, len, "process tree: fd %d of process %u listed twice", o->fd,
                            o->pid);
        if (!first)
            continue;
        if (check_state(o, why, len) < 0)
            return CAIRN_ECORRUPT;
        if (o->kind != CAIRN_FD_UNIX && o->nbytes)
            return fail(why, len, "process tree: object record %" PRIu64 ": bytes for no socket", i);
        const struct cairn_proc_object *p = o->peer < t->nobj ? &t->obj[o->peer] : NULL;
        if (o->kind == CAIRN_FD_UNIX && o->peer != CAIRN_PROC_NO_PEER &&
            (!p || o->peer == i || p->object != o->peer || p->kind != CAIRN_FD_UNIX ||
             p->peer != i || p->v[0] != o->v[0]))
            return fail(why, len, "process tree: socket record %" PRIu64 ": its peer is no "
                        "socket of the same type that has it as peer", i);
        *bytes += o->nbytes;
    }
    return 0;
}

static const struct cairn_proc_object *object_of(const struct tree *t, int32_t fd, uint32_t kind)
{
    for (uint64_t i = 0; i < t->nobj; i++)
        if (t->obj[i].fd == fd && t->obj[i].kind == kind)
            return &t->obj[i];
    return NULL;
}

/* Whether img is the image of the tree's first process (its task record's pid). */
static int is_first(cairn_image_t *img, const struct tree *t)
{
    struct cairn_proc_task task;
    int sec = proc_only_section(img, CAIRN_SEC_PROC_TASK);
    if (sec < 0 || cairn_image_section(img, (unsigned)sec)->raw_size != sizeof task ||
        cairn_image_read(img, (unsigned)sec, &task, sizeof task) < 0)
        return 0;
    return task.pid == t->m[0].pid;
}

static int check_pipes(cairn_image_t *img, const struct tree *t, char *why, size_t len)
{
    uint64_t total = 0;
    if (check_objects(t, &total, why, len) < 0) /* sockets' bytes after the pipes' */
        return CAIRN_ECORRUPT;
    for (uint64_t i = 0; i < t->h.npipes; i++) {
        const struct cairn_proc_pipe *p = &t->pipe[i];
        if (!p->ino || p->nbytes > p->capacity || p->capacity > (1u << 30))
            return fail(why, len, "process tree: pipe %" PRIu64 ": no inode, or more bytes "
                        "than it holds", i);
        for (uint64_t k = 0; k < i; k++)
            if (t->pipe[k].ino == p->ino)
                return fail(why, len, "process tree: pipe:[%" PRIu64 "] listed twice", p->ino);
        total += p->nbytes;
    }
    int sec = proc_only_section(img, CAIRN_SEC_PROC_PIPEDATA);
    /* Only the first process's image has the bytes (a member's has none). */
    uint64_t have = sec >= 0 ? cairn_image_section(img, (unsigned)sec)->raw_size : 0;
    if (sec == -2 || (sec >= 0 && have != total) || (is_first(img, t) && have != total) ||
        total > CAIRN_PROC_MAX_PIPE_DATA)
        return fail(why, len, "process tree: the pipe bytes section does not match its pipes "
                    "and sockets (%" PRIu64 " bytes)", total);
    return 0;
}

/* A file of kind pipe names a pipe of the tree; a shared mapping fits an
   object of it. Neither is allowed without a tree. */
static int check_uses(const struct proc_records *p, const struct tree *t, int have, char *why,
                      size_t len)
{
    for (uint64_t i = 0; i < p->nfiles; i++)
        if (p->files[i].kind == CAIRN_FD_PIPE && (!have || !pipe_known(t, p->files[i].offset)))
            return fail(why, len, "fd %d: a pipe that is not one of the job's", p->files[i].fd);
    for (uint64_t i = 0; i < p->nfiles; i++) {
        uint32_t k = p->files[i].kind;
        if (k >= CAIRN_FD_EVENTFD && k <= CAIRN_FD_UNIX && (!have || !object_of(t, p->files[i].fd, k)))
            return fail(why, len, "fd %d: a %s that is not one of the job's", p->files[i].fd,
                        proc_fd_kind_name(k));
    }
    for (uint64_t i = 0; i < p->nmaps; i++) {
        const struct cairn_proc_map *m = &p->maps[i];
        if (m->kind != CAIRN_MAP_SHARED)
            continue;
        uint64_t k = m->reserved, size = have && k < t->h.nshm ? t->shm[k].size : 0;
        if (!have || k >= t->h.nshm || m->offset > size || m->end - m->start > size - m->offset)
            return fail(why, len, "shared mapping at 0x%" PRIx64 ": not within a shared object "
                        "of the job", m->start);
    }
    return 0;
}

static const struct cairn_proc_file *file(const struct proc_records *p, int32_t fd)
{
    for (uint64_t i = 0; i < p->nfiles; i++)
        if (p->files[i].fd == fd)
            return &p->files[i];
    return NULL;
}

static int check_epoll(cairn_image_t *img, const struct proc_records *p, char *why, size_t len)
{
    int sec = proc_only_section(img, CAIRN_SEC_PROC_EPOLL);
    if (sec == -2)
        return fail(why, len, "more than one epoll section");
    if (sec < 0)
        return 0;
    static struct cairn_proc_epoll e[CAIRN_PROC_MAX_EPOLL];
    uint64_t raw = cairn_image_section(img, (unsigned)sec)->raw_size;
    if (raw % sizeof e[0] || raw > sizeof e)
        return fail(why, len, "epoll: %" PRIu64 " bytes: not whole records, at most %u", raw,
                    CAIRN_PROC_MAX_EPOLL);
    if (raw && cairn_image_read(img, (unsigned)sec, e, (size_t)raw) < 0)
        return fail(why, len, "epoll: %s", cairn_image_error(img));
    for (uint64_t i = 0; i < raw / sizeof e[0]; i++) {
        const struct cairn_proc_file *ep = file(p, e[i].epfd), *to = file(p, e[i].tfd);
        if (!ep || ep->kind != CAIRN_FD_EPOLL || !to || to->kind == CAIRN_FD_EPOLL || e[i].reserved)
            return fail(why, len, "epoll: entry %" PRIu64 " (fd %d watching fd %d) names no "
                        "epoll fd, or no fd the image restores", i, e[i].epfd, e[i].tfd);
    }
    return 0;
}

int proc_check_tree(cairn_image_t *img, const struct proc_records *p, char *why, size_t len)
{
    static unsigned char buf[TREE_MAX];
    struct tree t = {0};
    int have = 0;
    int rc = read_tree(img, buf, &t, &have, why, len);
    if (rc == 0 && have)
        rc = check_members(&t, why, len);
    if (rc == 0 && have)
        rc = check_pipes(img, &t, why, len);
    if (rc == 0)
        rc = check_uses(p, &t, have, why, len);
    if (rc == 0)
        rc = check_epoll(img, p, why, len);
    return rc;
}
