/* SPDX-License-Identifier: MIT */
/*
 * store.c — the checkpoint store: a directory of numbered generations.
 *
 *   STORE/ckpt-00000000000000000007.cairn   committed generations
 *   STORE/.tmp-00000000000000000008-1234    an image being written
 *   STORE/ckpt-00000000000000000006.cairn.corrupt   set aside after failing
 *   STORE/lock                              flock()ed by the owning process
 *   STORE/finished                          written by cairn_complete()
 *
 * Commit protocol: the temp file is created O_EXCL|O_NOFOLLOW mode 0600
 * relative to the directory descriptor, written and fsync'ed, renamed to its
 * final name, and the directory fsync'ed. Only then are old generations
 * pruned: all but the newest `keep` and every generation one of those needs
 * (the parents of a delta image, lib/chain.c). A crash at any instant leaves every committed generation intact;
 * a leftover temp file never has a name a reader would pick up.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn.h"
#include "cairn_image.h"
#include "cairn_chain.h"
#include "cairn_store.h"
#include "internal.h"

#define GEN_PREFIX "ckpt-"
#define GEN_SUFFIX ".cairn"
#define GEN_DIGITS 20
#define TMP_PREFIX ".tmp-"

static void wait_pruner(struct cairn__store *s);
static void remove_old(struct cairn__store *s, const uint64_t *gens, size_t n, unsigned keep);

void cairn__store_name(uint64_t gen, char *buf, size_t len)
{
    snprintf(buf, len, GEN_PREFIX "%020" PRIu64 GEN_SUFFIX, gen);
}

int cairn__store_parse_name(const char *name, uint64_t *gen)
{
    size_t plen = strlen(GEN_PREFIX), slen = strlen(GEN_SUFFIX);
    if (strlen(name) != plen + GEN_DIGITS + slen || strncmp(name, GEN_PREFIX, plen) != 0 ||
        strcmp(name + plen + GEN_DIGITS, GEN_SUFFIX) != 0)
        return 0;
    uint64_t v = 0;
    for (size_t i = plen; i < plen + GEN_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        uint64_t d = (uint64_t)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *gen = v;
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Lists generations in an open directory (the fd is duplicated). */
static int list_gens(int dirfd, uint64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    size_t cap = 0;
    uint64_t *v = NULL;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        uint64_t g;
        if (!cairn__store_parse_name(e->d_name, &g))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            uint64_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                rc = -ENOMEM;
                break;
            }
            v = nv;
        }
        v[(*n)++] = g;
    }
    closedir(d);
    if (rc < 0) {
        free(v);
        *n = 0;
        return rc;
    }
    if (*n)
        qsort(v, *n, sizeof *v, cmp_u64);
    *out = v;
    return 0;
}

/* Removes temp files left by a writer that died; we hold the lock. */
static void remove_stale_temps(struct cairn__store *s)
{
    int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 &&
            unlinkat(s->dirfd, e->d_name, 0) == 0)
            cairn__log(s->verbosity, CAIRN_LOG_DEBUG, "%s: removed %s left by an interrupted checkpoint",
                       s->path, e->d_name);
    closedir(d);
}

/*
 * A store is only trusted if nobody else can plant or swap images in it:
 * it must belong to us, and a directory others may write to must be sticky
 * (as /tmp is) so that they cannot rename or remove our files.
 */
static int check_ownership(struct cairn__store *s)
{
    struct stat st;
    if (fstat(s->dirfd, &st) < 0)
        return -errno;
    if (st.st_uid != geteuid()) {
        cairn__log(s->verbosity, CAIRN_LOG_ERROR,
                   "%s: store directory belongs to uid %u, not to you (uid %u); refusing to "
                   "use it",
                   s->path, (unsigned)st.st_uid, (unsigned)geteuid());
        return -EPERM;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
        cairn__log(s->verbosity, CAIRN_LOG_ERROR,
                   "%s: store directory is writable by %s (mode %04o) without the sticky "
                   "bit; refusing to use it (chmod go-w)",
                   s->path, (st.st_mode & S_IWOTH) ? "everyone" : "its group",
                   (unsigned)(st.st_mode & 07777));
        return -EPERM;
    }
    return 0;
}

const char *cairn__store_untrusted(const struct stat *st)
{
    if (!S_ISREG(st->st_mode))
        return "not a regular file";
    if (st->st_uid != geteuid())
        return "owned by another user";
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return "writable by others";
    return NULL;
}

int cairn__store_open_image(struct cairn__store *s, uint64_t gen, int *fd, char *why,
                            size_t why_len)
{
    char name[64];
    cairn__store_name(gen, name, sizeof name);
    return cairn__store_open_file(s, name, fd, why, why_len);
}

int cairn__store_open_file(struct cairn__store *s, const char *name, int *fd, char *why,
                           size_t why_len)
{
    /* O_NONBLOCK: a FIFO planted under an image's name must not hang us. */
    *fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0) {
        int e = errno;
        cairn__say(why, why_len, "cannot open: %s", e == ELOOP ? "it is a symbolic link"
                                                                : strerror(e));
        return e == ELOOP ? CAIRN_EFOREIGN : -e;
    }
    struct stat st;
    int rc = 0;
    const char *bad = NULL;
    if (fstat(*fd, &st) < 0)
        rc = -errno;
    else if ((bad = cairn__store_untrusted(&st)))
        rc = S_ISREG(st.st_mode) ? -EPERM : CAIRN_EFOREIGN;
    if (rc == 0 && fcntl(*fd, F_SETFL, 0) < 0)
        rc = -errno;
    if (rc < 0) {
        if (bad && st.st_uid != geteuid())
            cairn__say(why, why_len, "owned by uid %u, not by you: refused", (unsigned)st.st_uid);
        else if (bad)
            cairn__say(why, why_len, "%s (mode %04o): refused", bad,
                       (unsigned)(st.st_mode & 07777));
        else
            cairn__say(why, why_len, "%s", strerror(-rc));
        close(*fd);
        *fd = -1;
    }
    return rc;
}

/* Opens and takes the lock; a lock file that is not ours is an error (a
   planted one would let two processes use the store). */
static int take_lock(struct cairn__store *s)
{
    s->lockfd = openat(s->dirfd, CAIRN_LOCK_FILE,
                       O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    if (s->lockfd < 0 && errno == EROFS)
        return 0; /* a read-only store: nobody can write to it anyway */
    struct stat st;
    const char *bad = NULL;
    if (s->lockfd < 0 && errno == EACCES) {
        /* Our own store made unwritable (chmod 0500) cannot be written by
           anyone else either; a lock someone else planted is refused. */
        if (fstatat(s->dirfd, CAIRN_LOCK_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            (st.st_uid == geteuid() && S_ISREG(st.st_mode)))
            return 0;
        errno = EACCES;
    }
    if (s->lockfd < 0 || fstat(s->lockfd, &st) < 0) {
        int e = errno;
        cairn__log(s->verbosity, CAIRN_LOG_ERROR, "%s/%s: cannot open the lock file: %s",
                   s->path, CAIRN_LOCK_FILE, e == ELOOP ? "it is a symbolic link" : strerror(e));
        return -e;
    }
    if ((bad = cairn__store_untrusted(&st))) {
        cairn__log(s->verbosity, CAIRN_LOG_ERROR,
                   "%s/%s: %s (uid %u, mode %04o): refusing to use the store", s->path,
                   CAIRN_LOCK_FILE, bad, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        return -EPERM;
    }
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            cairn__log(s->verbosity, CAIRN_LOG_ERROR,
                       "%s: store is locked by another running process", s->path);
            return CAIRN_EBUSY;
        }
        return -e;
    }
    return 0;
}

int cairn__store_open(struct cairn__store *s, const char *path, int verbosity)
{
    memset(s, 0, sizeof *s);
    s->dirfd = s->lockfd = -1;
    s->verbosity = verbosity;
    if (strlen(path) >= sizeof s->path)
        return -ENAMETOOLONG;
    strcpy(s->path, path);
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        cairn__log(verbosity, CAIRN_LOG_ERROR, "%s: cannot create store directory: %s", path,
                   strerror(e));
        return -e;
    }
    /* Opened once; everything in it is then reached through this
       descriptor, never by a path that could be swapped underneath. */
    s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (s->dirfd < 0) {
        int e = errno;
        cairn__log(verbosity, CAIRN_LOG_ERROR, "%s: cannot open store directory: %s", path,
                   e == ELOOP ? "it is a symbolic link (give the directory itself)"
                              : strerror(e));
        return -e;
    }
    int rc = check_ownership(s);
    if (rc < 0) {
        cairn__store_close(s);
        return rc;
    }
    rc = take_lock(s);
    if (rc < 0) {
        cairn__store_close(s);
        return rc;
    }
    remove_stale_temps(s);
    cairn__store_remove_orphan_members(s);
    return 0;
}

void cairn__store_close(struct cairn__store *s)
{
    wait_pruner(s);
    if (s->lockfd >= 0)
        close(s->lockfd); /* releases the flock */
    if (s->dirfd >= 0)
        close(s->dirfd);
    s->lockfd = s->dirfd = -1;
}

int cairn__store_generations(struct cairn__store *s, uint64_t **gens, size_t *n)
{
    wait_pruner(s);
    return list_gens(s->dirfd, gens, n);
}

/*
 * The store directory was removed while the job ran (a user's rm -rf, a
 * cleanup script), or moved away and another made at its path: make it
 * again, or take the new one, so that the job's next checkpoints go where a
 * rerun will look for them. The path is the one the store was opened with.
 */
static int recreate_if_removed(struct cairn__store *s)
{
    struct stat st, at;
    if (fstat(s->dirfd, &st) < 0)
        return 0;
    int removed = st.st_nlink == 0;
    int replaced = !removed && stat(s->path, &at) == 0 &&
                   (at.st_dev != st.st_dev || at.st_ino != st.st_ino);
    if (!removed && !replaced)
        return 0;
    cairn__log(s->verbosity, CAIRN_LOG_ERROR,
               removed ? "%s: the store directory was removed while the job ran; creating it "
                         "again"
                       : "%s: the store's path now names another directory (moved and made "
                         "again while the job ran?); checkpoints go there from now on",
               s->path);
    struct cairn__store fresh;
    int rc = cairn__store_open(&fresh, s->path, s->verbosity);
    if (rc < 0)
        return rc;
    cairn__store_close(s);
    *s = fresh;
    return 0;
}

int cairn__store_begin(struct cairn__store *s, struct cairn__pending *p)
{
    uint64_t *gens;
    size_t n;
    wait_pruner(s);
    int rc = recreate_if_removed(s);
    if (rc == 0)
        rc = list_gens(s->dirfd, &gens, &n);
    if (rc < 0)
        return rc;
    p->generation = n ? gens[n - 1] + 1 : 1;
    /* Catch up on a prune that failed (store read-only for a while), so a
       store sized for `keep` images plus one being written never fills up
       with an extra old one. */
    if (s->prune_keep)
        remove_old(s, gens, n, s->prune_keep);
    free(gens);
    snprintf(p->tmpname, sizeof p->tmpname, TMP_PREFIX "%020" PRIu64 "-%ld", p->generation,
             (long)getpid());
    p->raw_fd = -1;
    p->fd = openat(s->dirfd, p->tmpname,
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (p->fd < 0)
        return -errno;
    return 0;
}

void cairn__store_abort(struct cairn__store *s, struct cairn__pending *p)
{
    if (p->fd >= 0)
        close(p->fd);
    if (p->raw_fd >= 0)
        close(p->raw_fd);
    p->fd = p->raw_fd = -1;
    unlinkat(s->dirfd, p->tmpname, 0);
}

/* What generation gen was written on (cairn__retain's question). */
static int store_parent_of(void *ctx, uint64_t gen, uint64_t *pgen)
{
    struct cairn__store *s = ctx;
    char why[256];
    int fd;
    if (cairn__store_open_image(s, gen, &fd, why, sizeof why) < 0)
        return -1;
    struct cairn__link l;
    int rc = cairn__link_read(fd, &l, why, sizeof why);
    close(fd);
    if (rc < 0)
        return -1;
    *pgen = l.parent.generation;
    /* A tree's first process may be full (its tracker started again)
       while its other processes' images are deltas on the generation
       before (store_members.c). */
    return l.has_parent ? 1 : cairn__store_member_parent(s, gen, pgen);
}

/* Removes all but the newest `keep` of the listed generations and those
   they need (a delta image's parent, its parent's...: lib/chain.c). */
static void remove_old(struct cairn__store *s, const uint64_t *gens, size_t n, unsigned keep)
{
    if (n <= keep)
        return;
    unsigned char *kept = malloc(n);
    if (!kept)
        return; /* keep everything: deleting blindly could break a chain */
    cairn__retain(gens, n, keep, store_parent_of, s, kept);
    /* Newest first (gens is ascending): a delta goes before the parent it
       was written on, so a process killed while removing never leaves a
       delta without its parent. */
    for (size_t i = n; i-- > 0;) {
        if (kept[i])
            continue;
        char name[64];
        cairn__store_name(gens[i], name, sizeof name);
        if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
            cairn__log(s->verbosity, CAIRN_LOG_ERROR, "%s/%s: cannot remove old generation: %s",
                       s->path, name, strerror(errno));
        else
            cairn__store_remove_members(s, gens[i]);
    }
    free(kept);
}

/* Removes all but the newest `keep` generations. */
static void prune(struct cairn__store *s, unsigned keep)
{
    uint64_t *gens;
    size_t n;
    if (list_gens(s->dirfd, &gens, &n) < 0)
        return;
    remove_old(s, gens, n, keep);
    free(gens);
}

static void *prune_thread(void *arg)
{
    struct cairn__store *s = arg;
    prune(s, s->prune_keep);
    return NULL;
}

/* Waits for the pruning thread, if one runs; every other store operation
   starts with this, so the thread never sees the store change under it. */
static void wait_pruner(struct cairn__store *s)
{
    if (s->pruning) {
        pthread_join(s->pruner, NULL);
        s->pruning = 0;
    }
}

/* Prunes in the background, or here if no thread can be made. */
static void start_pruner(struct cairn__store *s, unsigned keep)
{
    s->prune_keep = keep;
    sigset_t all, old;
    sigfillset(&all); /* the job's signals must not land on our thread */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    s->pruning = pthread_create(&s->pruner, NULL, prune_thread, s) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!s->pruning)
        prune(s, keep);
}

int cairn__store_commit(struct cairn__store *s, struct cairn__pending *p, unsigned keep)
{
    char name[64];
    cairn__store_name(p->generation, name, sizeof name);
    int rc = 0;
    if (close(p->fd) < 0)
        rc = -errno;
    p->fd = -1;
    if (rc == 0 && renameat(s->dirfd, p->tmpname, s->dirfd, name) < 0)
        rc = -errno;
    if (rc < 0) {
        unlinkat(s->dirfd, p->tmpname, 0);
        return rc;
    }
    if (fsync(s->dirfd) < 0)
        return -errno;
    unlinkat(s->dirfd, CAIRN_FINISHED_MARKER, 0);
    start_pruner(s, keep ? keep : 1);
    return 0;
}

void cairn__store_quarantine(struct cairn__store *s, uint64_t gen, const char *why)
{
    cairn__store_set_aside(s, gen, ".corrupt", why);
}

void cairn__store_set_aside(struct cairn__store *s, uint64_t gen, const char *suffix,
                            const char *why)
{
    char name[64], aside[80];
    wait_pruner(s);
    cairn__store_name(gen, name, sizeof name);
    snprintf(aside, sizeof aside, "%s%s", name, suffix);
    if (renameat(s->dirfd, name, s->dirfd, aside) == 0) {
        fsync(s->dirfd);
        cairn__log(s->verbosity, CAIRN_LOG_INFO, "%s/%s: set aside as %s (%s)", s->path, name,
                   aside, why);
    }
}

int cairn__store_finish(struct cairn__store *s, const char *summary)
{
    wait_pruner(s);
    uint64_t *gens;
    size_t n;
    int rc = list_gens(s->dirfd, &gens, &n);
    if (rc < 0)
        return rc;
    int fd = openat(s->dirfd, ".tmp-finished", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
                                                     O_CLOEXEC, 0600);
    if (fd < 0) {
        free(gens);
        return -errno;
    }
    rc = cairn__write_all(fd, summary, strlen(summary));
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && renameat(s->dirfd, ".tmp-finished", s->dirfd, CAIRN_FINISHED_MARKER) < 0)
        rc = -errno;
    /* The marker is durable before any image goes: a crash in between
       leaves a finished job, never an unfinished one without its images. */
    if (rc == 0 && fsync(s->dirfd) < 0)
        rc = -errno;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char name[64];
        cairn__store_name(gens[i], name, sizeof name);
        if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
            rc = -errno;
        else
            cairn__store_remove_members(s, gens[i]);
    }
    free(gens);
    if (rc == 0)
        fsync(s->dirfd);
    return rc;
}

/* ---- public, read-only ---------------------------------------------------- */

int cairn_store_list(const char *dir, uint64_t *gens, size_t max, size_t *count)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    uint64_t *v;
    size_t n;
    int rc = list_gens(dfd, &v, &n);
    close(dfd);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && i < max; i++)
        gens[i] = v[i];
    *count = n;
    free(v);
    return 0;
}

int cairn_store_image_path(const char *dir, uint64_t gen, char *buf, size_t len)
{
    char name[64];
    cairn__store_name(gen, name, sizeof name);
    int n = snprintf(buf, len, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int cairn_store_is_finished(const char *dir)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/" CAIRN_FINISHED_MARKER, dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return 0;
    return access(path, F_OK) == 0;
}

/* ---- who holds the lock ----------------------------------------------------- */

void cairn__store_set_holder(struct cairn__store *s, int signo)
{
    if (s->lockfd < 0)
        return;
    char line[48];
    int n = snprintf(line, sizeof line, "%ld %d\n", (long)getpid(), signo);
    if (ftruncate(s->lockfd, 0) == 0)
        cairn__pwrite_all(s->lockfd, line, (size_t)n, 0);
}

int cairn__store_get_holder(int dirfd, long *pid, int *signo)
{
    int fd = openat(dirfd, CAIRN_LOCK_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    char text[48] = "";
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && !cairn__store_untrusted(&st))
        n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    if (n < 0)
        return -EPERM;
    text[n] = 0;
    return sscanf(text, "%ld %d", pid, signo) == 2 && *pid > 0 ? 0 : -ENOENT;
}
