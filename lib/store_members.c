/* SPDX-License-Identifier: MIT */
/*
 * store_members.c — the other processes of a generation of a process tree
 * (cairn run, docs/TRANSPARENT.md "Process trees"):
 *
 *   STORE/ckpt-00000000000000000007.cairn         the job's first process;
 *                                                 its tree section lists
 *   STORE/ckpt-00000000000000000007.p00000000042.cairn   one per other process
 *
 * A member file never has a generation's name, so nothing reads it as one.
 * Members are renamed into place and the directory synced before their
 * generation's own file is: the generation appears, atomically, only once
 * all its members are there. They are removed with their generation, and
 * members whose generation is gone (a crash between the two renames) are
 * removed when the store is opened.
 *
 * A member image may be a delta on the same process's member image in the
 * generation before (cli/run_chain.c): retention then keeps that generation
 * (cairn__store_member_parent), so its members are never orphans while a
 * newer generation needs them; removal goes newest first, as for the
 * generations themselves.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn_chain.h"
#include "cairn_store.h"
#include "internal.h"

#define MEMBER_PID_DIGITS 11

void cairn__store_member_name(uint64_t gen, uint64_t pid, char *buf, size_t len)
{
    snprintf(buf, len, "ckpt-%020" PRIu64 ".p%0*" PRIu64 ".cairn", gen, MEMBER_PID_DIGITS, pid);
}

/* 1 and *gen if name is a member file's name. */
static int parse_member(const char *name, uint64_t *gen)
{
    char back[96];
    uint64_t g = 0, pid = 0;
    if (strlen(name) >= sizeof back ||
        sscanf(name, "ckpt-%20" SCNu64 ".p%11" SCNu64, &g, &pid) != 2)
        return 0;
    cairn__store_member_name(g, pid, back, sizeof back);
    if (strcmp(back, name) != 0)
        return 0;
    *gen = g;
    return 1;
}

int cairn__store_begin_member(struct cairn__store *s, uint64_t gen, uint64_t pid,
                              struct cairn__pending *p)
{
    p->generation = gen;
    p->raw_fd = -1;
    snprintf(p->tmpname, sizeof p->tmpname, ".tmp-%020" PRIu64 "-%ld-m%" PRIu64, gen,
             (long)getpid(), pid);
    p->fd = openat(s->dirfd, p->tmpname,
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    return p->fd < 0 ? -errno : 0;
}

int cairn__store_commit_members(struct cairn__store *s, struct cairn__pending *p,
                                const uint64_t *pids, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char name[96];
        cairn__store_member_name(p[i].generation, pids[i], name, sizeof name);
        if (close(p[i].fd) < 0 && rc == 0)
            rc = -errno;
        p[i].fd = -1;
        if (rc == 0 && renameat(s->dirfd, p[i].tmpname, s->dirfd, name) < 0)
            rc = -errno;
        if (rc < 0)
            unlinkat(s->dirfd, p[i].tmpname, 0);
    }
    if (rc == 0 && n && fsync(s->dirfd) < 0)
        rc = -errno;
    return rc;
}

/* Calls fn for every member file whose generation `want` says to. */
static void each_member(struct cairn__store *s, int (*want)(struct cairn__store *, uint64_t,
                                                            uint64_t), uint64_t arg)
{
    int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t g;
        if (parse_member(e->d_name, &g) && want(s, g, arg) &&
            unlinkat(s->dirfd, e->d_name, 0) < 0 && errno != ENOENT)
            cairn__log(s->verbosity, CAIRN_LOG_ERROR, "%s/%s: cannot remove: %s", s->path,
                       e->d_name, strerror(errno));
    }
    closedir(d);
}

static int is_gen(struct cairn__store *s, uint64_t g, uint64_t want)
{
    (void)s;
    return g == want;
}

static int is_orphan(struct cairn__store *s, uint64_t g, uint64_t unused)
{
    (void)unused;
    char name[64];
    struct stat st;
    cairn__store_name(g, name, sizeof name);
    return fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
}

void cairn__store_remove_members(struct cairn__store *s, uint64_t gen)
{
    each_member(s, is_gen, gen);
}

void cairn__store_remove_orphan_members(struct cairn__store *s)
{
    each_member(s, is_orphan, 0);
}

/* Member file name's link: 1 with its parent generation in *pgen if it is
   a delta, 0 if not (or unreadable: unrestorable, it needs nothing). */
static int member_link(struct cairn__store *s, const char *name, uint64_t *pgen)
{
    char why[256];
    int fd = -1;
    struct cairn__link l;
    if (cairn__store_open_file(s, name, &fd, why, sizeof why) < 0)
        return 0;
    int rc = cairn__link_read(fd, &l, why, sizeof why);
    close(fd);
    if (rc < 0 || !l.has_parent)
        return 0;
    *pgen = l.parent.generation;
    return 1;
}

int cairn__store_member_parent(struct cairn__store *s, uint64_t gen, uint64_t *pgen)
{
    int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t g, p;
        /* the oldest any member needs: with it kept, so are the others
           (they are all on the generation before, cli/run_chain.c) */
        if (parse_member(e->d_name, &g) && g == gen && member_link(s, e->d_name, &p) &&
            (!found || p < *pgen)) {
            *pgen = p;
            found = 1;
        }
    }
    closedir(d);
    return found;
}

int cairn__store_open_member(struct cairn__store *s, uint64_t gen, uint64_t pid, int *fd,
                             char *why, size_t why_len)
{
    char name[96];
    cairn__store_member_name(gen, pid, name, sizeof name);
    return cairn__store_open_file(s, name, fd, why, why_len);
}
