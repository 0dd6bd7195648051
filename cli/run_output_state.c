/* SPDX-License-Identifier: MIT */
/*
 * run_output_state.c — what survives a crash of `cairn run` about the job's
 * held output (run_output.c): the spool files `output-N.spool` (N: 1 the
 * job's stdout, 2 its stderr, 3 both in one stream) and `output.state`, the
 * positions of each stream and, per recent generation, the output boundary
 * it covers. Both are opened through the store's directory descriptor with
 * O_NOFOLLOW, created mode 0600, and used only if they are regular files of
 * this user, like every file of the store.
 *
 * The state file holds two slots written in turn, each with a sequence
 * number and a checksum: a torn write (machine crash) leaves the other
 * slot, one step older, which is still consistent (the spool is only ever
 * appended to, or emptied once all of it is in the real file).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

#define STATE_NAME "output.state"
#define STATE_MAGIC "CAIRNOUT"

struct rec_stream {
    uint32_t job_fds, reserved;
    uint64_t appended, spool_base, spool_end, intent_to, intent_size;
    uint64_t gens[RUN_OUTPUT_GENS], bounds[RUN_OUTPUT_GENS];
};

struct rec {
    char magic[8];
    uint64_t seq;
    uint32_t n, reserved;
    struct rec_stream s[2];
    uint64_t check;             /* FNV-1a of everything before it */
};

static uint64_t fnv(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* A file of the store, opened as the store's rules want (see the top). */
static int open_store_file(struct run_ctx *r, const char *name, int truncate)
{
    int fd = openat(r->store.dirfd, name,
                    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600);
    struct stat sb;
    if (fd >= 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_uid != getuid() ||
                    (sb.st_mode & 022))) {
        fprintf(stderr, "cairn: %s/%s is not a private regular file of yours: output is "
                        "not held\n", r->store_abs, name);
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

int run_output_state_open(struct run_ctx *r)
{
    if (r->out.state_fd < 0)
        r->out.state_fd = open_store_file(r, STATE_NAME, 0);
    return r->out.state_fd < 0 ? -1 : 0;
}

int run_output_spool_open(struct run_ctx *r, struct run_stream *s, int truncate)
{
    char name[32];
    snprintf(name, sizeof name, "output-%u.spool", s->job_fds);
    s->spool = open_store_file(r, name, truncate);
    return s->spool < 0 ? -1 : 0;
}

int run_output_state_save(struct run_ctx *r, int durable)
{
    struct run_output *o = &r->out;
    if (o->state_fd < 0)
        return -1;
    struct rec c;
    memset(&c, 0, sizeof c);
    memcpy(c.magic, STATE_MAGIC, 8);
    c.seq = ++o->seq;
    c.n = o->n;
    for (unsigned i = 0; i < o->n; i++) {
        const struct run_stream *s = &o->s[i];
        struct rec_stream *d = &c.s[i];
        d->job_fds = s->job_fds;
        d->appended = s->appended;
        d->spool_base = s->spool_base;
        d->spool_end = s->spool_end;
        d->intent_to = s->intent_to;
        d->intent_size = s->intent_size;
        memcpy(d->gens, s->gens, sizeof d->gens);
        memcpy(d->bounds, s->bounds, sizeof d->bounds);
    }
    c.check = fnv(&c, offsetof(struct rec, check));
    off_t at = (off_t)((c.seq & 1) * sizeof c);
    if (pwrite(o->state_fd, &c, sizeof c, at) != (ssize_t)sizeof c)
        return -1;
    return durable && fsync(o->state_fd) < 0 ? -1 : 0;
}

int run_output_state_load(struct run_ctx *r, struct run_stream *s, unsigned *n)
{
    struct rec slot[2], *best = NULL;
    for (int i = 0; i < 2; i++) {
        struct rec *c = &slot[i];
        if (pread(r->out.state_fd, c, sizeof *c, (off_t)(i * sizeof *c)) == (ssize_t)sizeof *c &&
            !memcmp(c->magic, STATE_MAGIC, 8) && c->check == fnv(c, offsetof(struct rec, check)) &&
            c->n <= 2 && (!best || c->seq > best->seq))
            best = c;
    }
    if (!best)
        return 0;
    r->out.seq = best->seq;
    *n = best->n;
    for (unsigned i = 0; i < best->n; i++) {
        const struct rec_stream *d = &best->s[i];
        memset(&s[i], 0, sizeof s[i]);
        s[i].job_fds = d->job_fds;
        s[i].real = d->job_fds & 1 ? 1 : 2;
        s[i].rd = s[i].wr = s[i].spool = -1;
        s[i].appended = d->appended;
        s[i].spool_base = d->spool_base;
        s[i].spool_end = d->spool_end;
        s[i].intent_to = d->intent_to;
        s[i].intent_size = d->intent_size;
        memcpy(s[i].gens, d->gens, sizeof d->gens);
        memcpy(s[i].bounds, d->bounds, sizeof d->bounds);
    }
    return 1;
}

void run_output_state_remove(struct run_ctx *r)
{
    for (unsigned fds = 1; fds <= 3; fds++) {
        char name[32];
        snprintf(name, sizeof name, "output-%u.spool", fds);
        unlinkat(r->store.dirfd, name, 0);
    }
    unlinkat(r->store.dirfd, STATE_NAME, 0);
    if (r->out.state_fd >= 0)
        close(r->out.state_fd);
    r->out.state_fd = -1;
}

/* Whether an append cairn run was making when it died went out: the chunk
   is in the real file somewhere after the size it had before (other
   writers may have appended in between; one write() on a regular file
   lands whole). Read through /proc/self/fd: fd 1 is often write-only. */
int run_output_intent_done(struct run_stream *s, const char *chunk, size_t len)
{
    char path[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", s->real);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    int found = 0;
    if (fd < 0)
        return 0;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > s->intent_size) {
        size_t tail = (size_t)((uint64_t)sb.st_size - s->intent_size);
        if (tail > (64u << 20))
            tail = 64u << 20; /* a chunk is 8 MiB at most: it is near the old end */
        char *buf = malloc(tail);
        ssize_t got = buf ? pread(fd, buf, tail, (off_t)s->intent_size) : -1;
        found = got >= (ssize_t)len && memmem(buf, (size_t)got, chunk, len) != NULL;
        free(buf);
    }
    close(fd);
    return found;
}
