/* SPDX-License-Identifier: MIT */
/*
 * run_chain.c — `cairn run`'s side of incremental checkpoints: when to ask
 * the job for a delta image, and restoring one with its ancestors.
 *
 * Policy: with CAIRN_FULL_EVERY=N (default 8; 1: every image full), after
 * a full image each checkpoint is a delta on the previous one until the
 * chain holds N images or its deltas add up to more than the full image:
 * then the next one is full again. A chain is therefore never more
 * than about twice a full image, and a restore reads at most that. The
 * runtime writes a full image anyway if the parent named here is not the
 * snapshot its tracking started from (a checkpoint that failed since).
 *
 * Restore: the picked image's parent, the parent's parent... down to the
 * full image are opened through the store's descriptor, each checked like
 * the picked one (structure, MAC, records) and against the identity its
 * child recorded (generation, header checksum, chain), and the delta's
 * mappings against the parent's (same ranges, saved). The restorer gets
 * them as open descriptors, never paths.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn_chain.h"
#include "cairn_image.h"
#include "cli.h"
#include "proc_check.h"
#include "run.h"

/* 8: a restore reads at most 8 images (and, by the size rule below, about
   twice a full image); a chain of 8 stays whole in the store until the next
   full image and a delta on it are committed (docs/TRANSPARENT.md). */
#define FULL_EVERY_DEFAULT 8u

/* $CAIRN_FULL_EVERY: images per chain (1: every image full), at most the
   restorer's CAIRN_PROC_MAX_CHAIN. */
static unsigned full_every(void)
{
    static unsigned n;
    if (n)
        return n;
    n = FULL_EVERY_DEFAULT;
    const char *e = getenv("CAIRN_FULL_EVERY");
    if (e && *e) {
        char *end;
        unsigned long v = strtoul(e, &end, 10);
        if (*end || v < 1 || v > CAIRN_PROC_MAX_CHAIN)
            fprintf(stderr, "cairn: CAIRN_FULL_EVERY=%s is not a number from 1 to %u; using %u\n",
                    e, CAIRN_PROC_MAX_CHAIN, n);
        else
            n = (unsigned)v;
    }
    return n;
}

/* Reads the link of generation gen from the store, the job's image or
   (pid not 0) that process's member image: 0, or -1 if the store holds no
   usable one. */
static int link_of(struct run_ctx *r, uint64_t gen, uint64_t pid, struct cairn__link *l)
{
    char why[256];
    int fd;
    int rc = pid ? cairn__store_open_member(&r->store, gen, pid, &fd, why, sizeof why)
                 : cairn__store_open_image(&r->store, gen, &fd, why, sizeof why);
    if (rc < 0)
        return -1;
    rc = cairn__link_read(fd, l, why, sizeof why);
    close(fd);
    return rc < 0 || l->generation != gen ? -1 : 0;
}

/* Every image below *l is still in the store, each the very image its
   child names, down to a full image (left in *l). A store directory
   removed and made again (lib/store.c), or replaced by another, no longer
   holds them, and its generations may start again at 1; a user may delete
   old generations by hand. A delta on a broken chain would be an image no
   restore could use. At most CAIRN_PROC_MAX_CHAIN small reads. */
static int whole_below(struct run_ctx *r, struct cairn__link *l)
{
    for (unsigned n = 0; l->has_parent; n++) {
        struct cairn_proc_parent want = l->parent;
        if (n >= CAIRN_PROC_MAX_CHAIN || link_of(r, want.generation, want.process, l) < 0 ||
            !cairn__link_is(l, &want))
            return 0;
    }
    return 1;
}

/* The job's last image is still in the store, the very one committed or
   restored, on a whole chain down to the full image this run knows. */
static int chain_in_store(struct run_ctx *r)
{
    const struct run_chain *c = &r->chain;
    struct cairn__link l;
    if (c->last_gen >= r->tmp.generation || link_of(r, c->last_gen, 0, &l) < 0 ||
        l.header_checksum != c->last_hdr || l.chain != c->last_chain)
        return 0;
    return whole_below(r, &l) && l.generation == c->base_gen;
}

void run_chain_request(struct run_ctx *r, char *buf, size_t len)
{
    const struct run_chain *c = &r->chain;
    buf[0] = 0;
    /* Compressed images are always full: cairn packs each one after its
       writer, and the restorer gets parents as they are stored. */
    if (!c->valid || c->depth + 2 > full_every() || c->delta_bytes > c->full_bytes ||
        r->compress != RUN_COMPRESS_OFF || !chain_in_store(r))
        return;
    snprintf(buf, len, " P %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %x", c->last_gen,
             c->last_hdr, c->last_chain, c->base_gen, c->depth + 1);
}

static void set_last(struct run_chain *c, const struct cairn__link *l)
{
    c->valid = 1;
    c->last_gen = l->generation;
    c->last_hdr = l->header_checksum;
    c->last_chain = l->chain;
}

void run_chain_committed(struct run_ctx *r, uint64_t gen)
{
    struct run_chain *c = &r->chain;
    struct cairn__link l;
    char why[256];
    int fd;
    c->valid = 0;
    if (cairn__store_open_image(&r->store, gen, &fd, why, sizeof why) < 0)
        return;
    int rc = cairn__link_read(fd, &l, why, sizeof why);
    close(fd);
    if (rc < 0)
        return;
    /* A tree's size is all its images' (the members' DONE bytes). */
    uint64_t size = l.size + (r->nnodes > 1 ? r->round_bytes : 0);
    if (l.has_parent) {
        c->depth = l.parent.depth;
        c->delta_bytes += size;
    } else {
        c->depth = 0;
        c->base_gen = gen;
        c->full_bytes = size;
        c->delta_bytes = 0;
    }
    set_last(c, &l);
}

void run_chain_drop(struct run_ctx *r)
{
    for (unsigned i = 0; i < r->chain.nfds; i++)
        close(r->chain.fd[i]);
    r->chain.nfds = 0;
}

/* The delta's mappings against its parent's: each names one of the same
   range that has saved bytes. */
static int check_maps(int child_fd, int parent_fd, char *why, size_t len)
{
    cairn_image_t *ci = NULL, *pi = NULL;
    struct proc_records c = {0}, p = {0};
    int rc = cairn_image_open_fd(&ci, child_fd, why, len);
    if (rc == 0)
        rc = cairn_image_open_fd(&pi, parent_fd, why, len);
    if (rc == 0)
        rc = proc_load(ci, &c, why, len);
    if (rc == 0)
        rc = proc_load(pi, &p, why, len);
    if (rc == 0)
        rc = proc_check_delta(&c, &p, why, len);
    proc_release(&c);
    proc_release(&p);
    cairn_image_close(ci);
    cairn_image_close(pi);
    return rc;
}

/* Generation gen's image of process pid: the generation's own file for
   the first process (pid 0), else its member file (lib/store_members.c),
   which counts only while its generation is in the store (not set aside
   as corrupt: its members go with it). */
static int open_of(struct run_ctx *r, uint64_t gen, pid_t pid, int *fd, char *why, size_t len)
{
    int rc = cairn__store_open_image(&r->store, gen, fd, why, len);
    if (rc < 0 || !pid)
        return rc;
    close(*fd);
    *fd = -1;
    return cairn__store_open_member(&r->store, gen, (uint64_t)pid, fd, why, len);
}

/* One ancestor: open, checked, the one its child names. */
static int check_parent(struct run_ctx *r, pid_t pid, const struct cairn__link *child,
                        int child_fd, run_check_fn check, struct cairn__link *pl, int *pfd,
                        char *why, size_t len)
{
    char sub[512] = "";
    uint64_t pgen = child->parent.generation;
    int rc = open_of(r, pgen, pid, pfd, sub, sizeof sub);
    if (rc == 0 && child->parent.process != (uint32_t)pid) {
        snprintf(sub, sizeof sub, "the delta names process %" PRIu32 "'s image, not %d's",
                 child->parent.process, (int)pid);
        rc = CAIRN_EMISMATCH;
    }
    if (rc == 0 && (rc = check(r, *pfd, sub, sizeof sub)) == 0 &&
        (rc = cairn__link_read(*pfd, pl, sub, sizeof sub)) == 0 && !cairn__link_is(pl, &child->parent)) {
        snprintf(sub, sizeof sub, "it is not the image generation %" PRIu64 " was written on "
                 "(replaced or rewritten since)", child->generation);
        rc = CAIRN_EMISMATCH;
    }
    if (rc == 0)
        rc = check_maps(child_fd, *pfd, sub, sizeof sub);
    if (rc < 0) {
        if (*pfd >= 0)
            close(*pfd);
        *pfd = -1;
        snprintf(why, len, "it is a delta image, and its parent generation %" PRIu64
                 " cannot be used: %s", pgen, sub);
        return -ENOLINK;
    }
    return 0;
}

static void close_parents(struct run_parents *p)
{
    for (unsigned i = 0; i < p->n; i++)
        close(p->fd[i]);
    p->n = 0;
}

/* The ancestors of process pid's image open as fd (its link *cur), into
   *p; *cur becomes the full image's link, *delta_bytes the deltas' sizes. */
static int walk(struct run_ctx *r, pid_t pid, int fd, struct cairn__link *cur, run_check_fn check,
                struct run_parents *p, uint64_t *delta_bytes, char *why, size_t why_len)
{
    struct cairn__link pl;
    int cur_fd = fd;
    *delta_bytes = 0;
    while (cur->has_parent) {
        if (p->n + 1 >= CAIRN_PROC_MAX_CHAIN) {
            snprintf(why, why_len, "its chain of delta images is longer than %u",
                     CAIRN_PROC_MAX_CHAIN);
            close_parents(p);
            return -ENOLINK;
        }
        int pfd = -1;
        int rc = check_parent(r, pid, cur, cur_fd, check, &pl, &pfd, why, why_len);
        if (rc < 0) {
            close_parents(p);
            return rc;
        }
        p->fd[p->n] = pfd;
        p->gen[p->n++] = pl.generation;
        *delta_bytes += cur->size;
        *cur = pl;
        cur_fd = pfd;
    }
    return 0;
}

int run_chain_check(struct run_ctx *r, int fd, run_check_fn check, char *why, size_t why_len)
{
    struct run_chain *c = &r->chain;
    struct cairn__link cur;
    run_chain_drop(r);
    c->valid = 0;
    int rc = cairn__link_read(fd, &cur, why, why_len);
    if (rc < 0)
        return rc;
    struct cairn__link top = cur;
    struct run_parents p = {0};
    uint64_t delta_bytes = 0;
    if ((rc = walk(r, 0, fd, &cur, check, &p, &delta_bytes, why, why_len)) < 0)
        return rc;
    c->nfds = p.n;
    memcpy(c->fd, p.fd, sizeof p.fd);
    memcpy(c->gen, p.gen, sizeof p.gen);
    c->depth = c->nfds;
    c->base_gen = cur.generation;
    /* A tree's: its members' too (run_chain_member_check, called first). */
    c->full_bytes = cur.size + c->member_full;
    c->delta_bytes = delta_bytes + c->member_delta;
    set_last(c, &top);
    return 0;
}

int run_chain_member_check(struct run_ctx *r, pid_t pid, int fd, run_check_fn check,
                           struct run_parents *p, char *why, size_t why_len)
{
    struct cairn__link cur;
    uint64_t delta_bytes;
    p->n = 0;
    int rc = cairn__link_read(fd, &cur, why, why_len);
    if (rc == 0)
        rc = walk(r, pid, fd, &cur, check, p, &delta_bytes, why, why_len);
    if (rc == 0) { /* for the size rule (run_chain_request) */
        r->chain.member_full += cur.size;
        r->chain.member_delta += delta_bytes;
    }
    return rc;
}

void run_chain_member_drop(struct run_parents *p)
{
    close_parents(p);
}

void run_chain_member_request(struct run_ctx *r, pid_t pid, char *buf, size_t len)
{
    const struct run_chain *c = &r->chain;
    struct cairn__link l;
    buf[0] = 0;
    /* Its image of the last generation, which the root's delta extends
       (none: new since, a full image). */
    if (link_of(r, c->last_gen, (uint64_t)pid, &l) < 0)
        return;
    uint32_t depth = l.has_parent ? l.parent.depth : 0;
    struct cairn__link below = l;
    if (depth + 2 > full_every() || !whole_below(r, &below))
        return;
    snprintf(buf, len, " P %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %x %x", l.generation,
             l.header_checksum, l.chain, l.has_parent ? l.parent.base_generation : l.generation,
             depth + 1, (unsigned)pid);
}

static int verify_one(struct run_ctx *r, int fd)
{
    cairn_image_t *img = NULL;
    unsigned bad = 0;
    char why[256];
    int rc = cairn_image_open_fd(&img, fd, why, sizeof why);
    if (rc == 0 && r->keyed)
        rc = cairn_image_set_key(img, r->key);
    if (rc == 0)
        rc = cairn_image_verify(img, &bad);
    cairn_image_close(img);
    return rc;
}

/* The first image of fd and then p's that fails its verification: its
   generation (own: fd's), or 0. */
static uint64_t first_corrupt(struct run_ctx *r, int fd, uint64_t own, const struct run_parents *p)
{
    if (verify_one(r, fd) < 0)
        return own;
    for (unsigned i = 0; i < p->n; i++)
        if (verify_one(r, p->fd[i]) < 0)
            return p->gen[i];
    return 0;
}

uint64_t run_chain_corrupt(struct run_ctx *r)
{
    int any = r->chain.nfds != 0;
    for (size_t i = 0; i < r->nmember_fds; i++)
        any |= r->member_parents[i].n != 0;
    if (!any || r->image_fd < 0)
        return r->image_gen;
    struct run_parents root = {.n = r->chain.nfds};
    memcpy(root.fd, r->chain.fd, sizeof root.fd);
    memcpy(root.gen, r->chain.gen, sizeof root.gen);
    uint64_t bad = first_corrupt(r, r->image_fd, r->image_gen, &root);
    for (size_t i = 0; !bad && i < r->nmember_fds; i++)
        bad = first_corrupt(r, r->member_fd[i], r->image_gen, &r->member_parents[i]);
    return bad ? bad : r->image_gen;
}

void run_chain_stash(struct run_ctx *r)
{
    for (unsigned i = 0; i < r->chain.nfds; i++)
        if ((r->chain.fd[i] = fcntl(r->chain.fd[i], F_DUPFD_CLOEXEC, 128)) < 0)
            _exit(125);
}

unsigned run_chain_place(struct run_ctx *r, int first, char num[][16])
{
    for (unsigned i = 0; i < r->chain.nfds; i++) {
        if (dup2(r->chain.fd[i], first + (int)i) < 0)
            _exit(125);
        snprintf(num[i], 16, "%d", first + (int)i);
    }
    return r->chain.nfds;
}

void run_chain_member_stash(struct run_ctx *r, int first_free)
{
    int above = first_free;
    for (size_t i = 0; i < r->nmember_fds; i++)
        above += (int)r->member_parents[i].n;
    if (above < 128 + (int)CAIRN_PROC_MAX_CHAIN)
        above = 128 + (int)CAIRN_PROC_MAX_CHAIN; /* and above the first process's (run_chain_stash) */
    for (size_t i = 0; i < r->nmember_fds; i++)
        for (unsigned k = 0; k < r->member_parents[i].n; k++)
            if ((r->member_parents[i].fd[k] = fcntl(r->member_parents[i].fd[k], F_DUPFD_CLOEXEC,
                                                    above)) < 0)
                _exit(125);
}

void run_chain_member_place(struct run_ctx *r, size_t i, int *next, char *arg, size_t len)
{
    const struct run_parents *p = &r->member_parents[i];
    for (unsigned k = 0; k < p->n; k++, (*next)++) {
        size_t used = strlen(arg);
        if (dup2(p->fd[k], *next) < 0 || used + 12 > len)
            _exit(125);
        snprintf(arg + used, len - used, ",%d", *next);
    }
}
