/* SPDX-License-Identifier: MIT */
/*
 * run_output.c — committed output (docs/TRANSPARENT.md). Where cairn run's
 * stdout or stderr is a regular file, the job gets a pipe instead and cairn
 * run appends to the real file only the bytes that a committed generation
 * covers: a restore then never has to cut the file back (which deleted what
 * other writers had appended), and what the restored job writes again was
 * never written the first time.
 *
 * The boundary of a checkpoint: from the moment cairn sends the request
 * until the runtime reports "UNREAD <u1> <u2>" (or refuses), cairn does not
 * read the pipes; the runtime, with the job stopped, counts what is still
 * in them (FIONREAD) and says so before it forks the writer, so the line
 * comes before the writer's DONE. What cairn had read plus that count is
 * exactly what the job wrote before the point the image resumes from.
 *
 * Positions count the job's bytes since it first started, across restores.
 * Per stream: read_pos (read from the pipe), committed (covered by the
 * newest committed generation), appended (in the real file). Held bytes
 * [appended, read_pos) sit in memory, and on the spool in the store when
 * large or when a commit needs them durable (run_output_state.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cairn_io.h"
#include "cli.h"
#include "run.h"

#define PIPE_SIZE (1 << 20) /* the job rarely waits for cairn */
#define MEM_MAX (1u << 20)  /* held in memory, beyond that on the spool */
#define CHUNK (8u << 20)    /* one write() to the real file */
#define KCMP_FILE 0

static char chunk_buf[CHUNK];

/* A test hook (tests/transparent/output.sh): CAIRN_TEST_OUTPUT_CRASH=commit
   ends cairn run at once after a commit, before it appends what the new
   generation covers; =append just after an append's write(), before it is
   recorded. Both leave what a crash there leaves, for the recovery. */
static void crash_point(const char *where)
{
    const char *at = getenv("CAIRN_TEST_OUTPUT_CRASH");
    if (at && !strcmp(at, where))
        _exit(99);
}

/* 1 if cairn run's fd is a regular file. */
static int is_file(int fd)
{
    struct stat sb;
    return fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
}

int run_output_open(struct run_ctx *r)
{
    struct run_output *o = &r->out;
    o->state_fd = -1;
    const char *env = getenv("CAIRN_OUTPUT");
    if (o->mode == RUN_OUTPUT_AUTO && env && *env) {
        if (!strcmp(env, "direct"))
            o->mode = RUN_OUTPUT_DIRECT;
        else if (strcmp(env, "committed"))
            fprintf(stderr, "cairn: CAIRN_OUTPUT=%s: neither direct nor committed; "
                            "committed kept\n", env);
    }
    o->n = 0;
    if (o->mode == RUN_OUTPUT_DIRECT)
        return 0;
    pid_t me = getpid();
    /* >out 2>&1: one open file, one pipe, so the job's order is kept. */
    int same = syscall(SYS_kcmp, me, me, KCMP_FILE, 1, 2);
    struct stat a, b;
    if (same < 0) /* no kcmp (seccomp, CONFIG_KCMP): the same file will do */
        same = fstat(1, &a) == 0 && fstat(2, &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino ? 0 : 1;
    same = same == 0;
    for (int fd = 1; fd <= 2; fd++) {
        if (!is_file(fd) || (fd == 2 && same))
            continue;
        struct run_stream *s = &o->s[o->n++];
        memset(s, 0, sizeof *s);
        s->real = fd;
        s->job_fds = fd == 1 && same ? 3u : (unsigned)fd;
        s->rd = s->wr = s->spool = -1;
    }
    return 0;
}

/* ---- holding and appending ----------------------------------------------- */

/* Spool what is in memory (a commit needs it durable, or memory is full). */
static int spill(struct run_stream *s)
{
    if (s->mem_len == 0)
        return 0;
    if (s->spool < 0 || pwrite(s->spool, s->mem, s->mem_len,
                               (off_t)(s->spool_end - s->spool_base)) != (ssize_t)s->mem_len)
        return -1;
    s->spool_end += s->mem_len;
    s->mem_len = 0;
    return 0;
}

/* Keeps bytes at read_pos. Those below `appended` are already in the file
   (a restored job writing again what its generation did not cover, when
   the killed run had ended with it all appended). */
static void hold(struct run_stream *s, const char *buf, size_t n)
{
    uint64_t pos = s->read_pos;
    s->read_pos += n;
    if (s->read_pos <= s->appended)
        return;
    if (n == 0)
        return;
    if (pos < s->appended) {
        buf += s->appended - pos;
        n -= (size_t)(s->appended - pos);
    }
    if (s->mem_len + n > s->mem_cap) {
        size_t cap = s->mem_cap ? s->mem_cap : 65536;
        while (cap < s->mem_len + n)
            cap *= 2;
        char *m = realloc(s->mem, cap);
        if (!m) { /* the bytes are lost: say so, once per stream */
            if (!s->lost)
                fprintf(stderr, "cairn: out of memory holding the job's output for fd %d: "
                                "some of it is lost\n", s->real);
            s->lost = 1;
            return;
        }
        s->mem = m;
        s->mem_cap = cap;
    }
    memcpy(s->mem + s->mem_len, buf, n);
    s->mem_len += n;
    if (s->mem_len > MEM_MAX)
        spill(s);
}

/* Bytes [appended, appended + n) into chunk_buf, from the spool or memory. */
static size_t fetch(const struct run_stream *s, size_t n)
{
    if (s->appended < s->spool_end) {
        if (n > s->spool_end - s->appended)
            n = (size_t)(s->spool_end - s->appended);
        ssize_t got = pread(s->spool, chunk_buf, n, (off_t)(s->appended - s->spool_base));
        return got < 0 ? 0 : (size_t)got;
    }
    memcpy(chunk_buf, s->mem + (s->appended - s->spool_end), n);
    return n;
}

/* Once all the spool is out, it is emptied; memory drops what is out.
   The state saying so is durable first: a spool emptied under a state
   file that still points into it would look like lost output. */
static void compact(struct run_ctx *r, struct run_stream *s)
{
    if (s->appended < s->spool_end)
        return;
    size_t gone = (size_t)(s->appended - s->spool_end);
    if (gone > s->mem_len)
        gone = s->mem_len;
    if (gone) {
        memmove(s->mem, s->mem + gone, s->mem_len - gone);
        s->mem_len -= gone;
    }
    if (s->spool_end > s->spool_base && s->spool >= 0 && run_output_state_save(r, 1) == 0)
        ftruncate(s->spool, 0);
    else if (s->spool_end > s->spool_base)
        return;
    s->spool_base = s->spool_end = s->appended;
}

/* Appends [appended, upto) to the real file, a chunk per write(), each
   announced in the state file first, durably, and made durable itself
   before the next record counts it in: after any crash, a chunk recorded
   as appended is in the file, and one announced but not recorded is
   looked for there (run_output_intent_done) before it is written again. */
static void append_upto(struct run_ctx *r, struct run_stream *s, uint64_t upto)
{
    struct stat sb;
    int regular = fstat(s->real, &sb) == 0 && S_ISREG(sb.st_mode);
    while (s->appended < upto) {
        uint64_t want = upto - s->appended;
        size_t n = fetch(s, want > CHUNK ? CHUNK : (size_t)want);
        if (n == 0)
            break;
        s->intent_to = s->appended + n;
        s->intent_size = fstat(s->real, &sb) == 0 ? (uint64_t)sb.st_size : 0;
        run_output_state_save(r, 1);
        int rc = cairn__write_all(s->real, chunk_buf, n);
        if (rc < 0) {
            fprintf(stderr, "cairn: cannot write the job's output to fd %d: %s\n", s->real,
                    strerror(-rc));
            break;
        }
        crash_point("append");
        if (regular)
            fdatasync(s->real);
        s->appended += n;
        s->intent_to = 0;
    }
    s->intent_to = 0;
    run_output_state_save(r, 1);
    compact(r, s);
    run_output_state_save(r, 0);
}

static void flush(struct run_ctx *r, struct run_stream *s)
{
    uint64_t upto = s->committed < s->read_pos ? s->committed : s->read_pos;
    if (s->appended < upto)
        append_upto(r, s, upto);
}

/* ---- the pipes ------------------------------------------------------------ */

/* Reads what is there (nonblocking); the restorer's messages at the start
   of the pipe go to cairn run's own stderr. 1 if read, 0 none, -1 EOF. */
static int read_some(struct run_stream *s)
{
    char buf[65536];
    ssize_t n = read(s->rd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return -1;
    size_t off = 0;
    if (s->pipe_read < s->skip) {
        off = (size_t)(s->skip - s->pipe_read) < (size_t)n ? (size_t)(s->skip - s->pipe_read)
                                                           : (size_t)n;
        cairn__write_all(2, buf, off);
    }
    s->pipe_read += (uint64_t)n;
    hold(s, buf + off, (size_t)n - off);
    return 1;
}

unsigned run_output_pollfds(const struct run_ctx *r, struct pollfd *p)
{
    const struct run_output *o = &r->out;
    /* A restore's pipes are read once the job runs (RESTORED tells how
       much of fd 2 the restorer's messages are). */
    int reading = !o->paused && (r->ready || !r->restoring);
    for (unsigned i = 0; i < o->n; i++)
        p[i] = (struct pollfd){reading ? o->s[i].rd : -1, POLLIN, 0};
    return o->n;
}

void run_output_read(struct run_ctx *r, const struct pollfd *p)
{
    if (r->out.paused) /* a request went out since the poll: the boundary */
        return;
    for (unsigned i = 0; i < r->out.n; i++) {
        struct run_stream *s = &r->out.s[i];
        if (p[i].fd < 0 || !p[i].revents)
            continue;
        for (int k = 0; k < 16 && read_some(s) > 0; k++)
            ;
        if (p[i].revents & (POLLHUP | POLLERR) && !(p[i].revents & POLLIN)) {
            close(s->rd); /* every writer is gone */
            s->rd = -1;
        }
        flush(r, s);
    }
}

void run_output_request(struct run_ctx *r)
{
    r->out.paused = 1;
}

void run_output_unpause(struct run_ctx *r)
{
    r->out.paused = 0;
    for (unsigned i = 0; i < r->out.n; i++)
        r->out.s[i].have_boundary = 0;
}

uint64_t run_output_pipe_ino(const struct run_ctx *r, int fd)
{
    for (unsigned i = 0; i < r->out.n; i++) {
        struct stat st;
        if ((r->out.s[i].job_fds & (1u << (fd - 1))) && fstat(r->out.s[i].rd, &st) == 0)
            return (uint64_t)st.st_ino;
    }
    return 0;
}

void run_output_stopped(struct run_ctx *r)
{
    r->out.paused = 0;
    for (unsigned i = 0; i < r->out.n; i++) {
        struct run_stream *s = &r->out.s[i];
        int u = 0;
        if (ioctl(s->rd, FIONREAD, &u) < 0 || u < 0)
            u = 0;
        uint64_t skip_left = s->skip > s->pipe_read ? s->skip - s->pipe_read : 0;
        s->have_boundary = 1;
        s->boundary = s->read_pos + ((uint64_t)u > skip_left ? (uint64_t)u - skip_left : 0);
    }
}

void run_output_unread(struct run_ctx *r, const char *args)
{
    char *end = (char *)args;
    uint64_t unread[2];
    int have = 1;
    for (int i = 0; i < 2; i++) {
        const char *p = end;
        unread[i] = strtoull(p, &end, 10);
        have = have && end != p;
    }
    r->out.paused = 0;
    for (unsigned i = 0; i < r->out.n; i++) {
        struct run_stream *s = &r->out.s[i];
        uint64_t u = unread[s->job_fds & 1 ? 0 : 1];
        uint64_t skip_left = s->skip > s->pipe_read ? s->skip - s->pipe_read : 0;
        s->have_boundary = have;
        s->boundary = s->read_pos + (u > skip_left ? u - skip_left : 0);
    }
}

void run_output_restored(struct run_ctx *r, uint64_t n)
{
    for (unsigned i = 0; i < r->out.n; i++)
        if (r->out.s[i].job_fds & 2)
            r->out.s[i].skip = n;
}

/* Reads until the boundary is in (those bytes were in the pipe when the job
   was stopped: they are there to read). 0, or -1 if they do not come. */
static int drain_to(struct run_stream *s, uint64_t pos)
{
    int waits = 0;
    while (s->read_pos < pos && s->rd >= 0) {
        int got = read_some(s);
        if (got < 0)
            return -1;
        struct pollfd p = {s->rd, POLLIN, 0};
        if (got == 0 && (poll(&p, 1, 1000) <= 0 && ++waits >= 10))
            return -1;
    }
    return s->read_pos >= pos ? 0 : -1;
}

/* Remembers which boundary generation gen covers (the newest few). */
static void record(struct run_stream *s, uint64_t gen)
{
    memmove(s->gens + 1, s->gens, sizeof s->gens - sizeof s->gens[0]);
    memmove(s->bounds + 1, s->bounds, sizeof s->bounds - sizeof s->bounds[0]);
    s->gens[0] = gen;
    s->bounds[0] = s->boundary;
}

int run_output_precommit(struct run_ctx *r, uint64_t gen)
{
    for (unsigned i = 0; i < r->out.n; i++) {
        struct run_stream *s = &r->out.s[i];
        if (!s->have_boundary)
            s->boundary = s->read_pos; /* a runtime that reports no count */
        if (drain_to(s, s->boundary) < 0 || spill(s) < 0 ||
            (s->spool >= 0 && fsync(s->spool) < 0)) {
            fprintf(stderr, "cairn: cannot keep the job's output on the spool in %s: %s\n",
                    r->store_abs, strerror(errno));
            return -1;
        }
        record(s, gen);
    }
    if (r->out.n && run_output_state_save(r, 1) < 0) {
        fprintf(stderr, "cairn: cannot write %s/output.state: %s\n", r->store_abs,
                strerror(errno));
        return -1;
    }
    return 0;
}

void run_output_committed(struct run_ctx *r)
{
    if (r->out.n)
        crash_point("commit");
    for (unsigned i = 0; i < r->out.n; i++) {
        struct run_stream *s = &r->out.s[i];
        s->committed = s->boundary;
        s->have_boundary = 0;
        flush(r, s);
    }
}

/* Everything left in the pipe (the job is gone; a writer child may still
   hold the pipe open, so this stops at "nothing there" as well as EOF). */
static void drain_all(struct run_stream *s)
{
    if (s->rd >= 0)
        fcntl(s->rd, F_SETFL, O_NONBLOCK);
    while (s->rd >= 0 && read_some(s) > 0)
        ;
}

void run_output_job_ended(struct run_ctx *r, int finished)
{
    if (r->restoring && !r->ready)
        return; /* the restore failed: run_output_close passes its messages on */
    for (unsigned i = 0; i < r->out.n; i++) {
        struct run_stream *s = &r->out.s[i];
        drain_all(s);
        s->committed = s->read_pos;
        flush(r, s);
    }
    if (finished && r->out.state_fd >= 0)
        run_output_state_remove(r);
}

void run_output_close(struct run_ctx *r)
{
    for (unsigned i = 0; i < r->out.n; i++) {
        struct run_stream *s = &r->out.s[i];
        if (r->restoring && !r->ready && s->rd >= 0) { /* only the restorer wrote */
            fcntl(s->rd, F_SETFL, O_NONBLOCK);
            ssize_t n;
            while ((n = read(s->rd, chunk_buf, sizeof chunk_buf)) > 0)
                cairn__write_all(2, chunk_buf, (size_t)n);
        }
        if (s->rd >= 0)
            close(s->rd);
        if (s->spool >= 0)
            close(s->spool);
        free(s->mem);
        s->mem = NULL;
        s->mem_len = s->mem_cap = 0;
        s->rd = s->spool = -1;
    }
    if (r->out.state_fd >= 0)
        close(r->out.state_fd);
    r->out.state_fd = -1;
}

/* ---- starting and restoring ----------------------------------------------- */

/* The boundary generation gen covers, or none (0). */
static int bound_of(const struct run_stream *s, uint64_t gen, uint64_t *b)
{
    for (unsigned i = 0; i < RUN_OUTPUT_GENS; i++)
        if (s->gens[i] == gen && gen) {
            *b = s->bounds[i];
            return 1;
        }
    return 0;
}

/* A stream of the state file after a crash, before a restore of gen: what
   gen covers goes out (the append cut short first), the rest is dropped,
   and the restored job writes from gen's boundary on. */
static void recover(struct run_ctx *r, struct run_stream *s, uint64_t gen)
{
    uint64_t b;
    if (!bound_of(s, gen, &b)) {
        fprintf(stderr, "cairn: %s/output.state does not say what output generation %" PRIu64
                        " covers: output held for fd %d is dropped\n", r->store_abs, gen,
                s->real);
        b = s->appended;
    }
    if (s->intent_to > s->appended && s->intent_to <= s->spool_end) {
        s->read_pos = s->spool_end;
        size_t n = fetch(s, (size_t)(s->intent_to - s->appended));
        if (n == s->intent_to - s->appended && run_output_intent_done(s, chunk_buf, n))
            s->appended = s->intent_to;
    }
    s->intent_to = 0;
    s->read_pos = s->spool_end; /* the spool is what there is */
    s->committed = b;
    flush(r, s);
    if (s->appended < b)
        fprintf(stderr, "cairn: output of fd %d that generation %" PRIu64 " covers is "
                        "missing from the spool (%" PRIu64 " bytes)\n", s->real, gen,
                b - s->appended);
    s->read_pos = s->committed = b;
    s->spool_base = s->spool_end = s->appended > b ? s->appended : b;
    if (s->spool >= 0)
        ftruncate(s->spool, 0);
    for (unsigned i = 0; i < RUN_OUTPUT_GENS; i++)
        if (s->gens[i] > gen)
            s->gens[i] = 0;
}

/* The held output of the last run, by the state file's layout. 1 if it
   matches the streams now (positions go on), else 0. */
static int recover_all(struct run_ctx *r, uint64_t gen)
{
    struct run_output *o = &r->out;
    struct run_stream now[2], old[2];
    unsigned n_now = o->n, n_old = 0;
    memcpy(now, o->s, sizeof now);
    if (!run_output_state_load(r, old, &n_old))
        return 0;
    memcpy(o->s, old, sizeof old);
    o->n = n_old;
    int same = n_old == n_now;
    for (unsigned i = 0; i < n_old; i++) {
        struct run_stream *s = &o->s[i];
        same = same && s->job_fds == now[i].job_fds;
        if (run_output_spool_open(r, s, 0) == 0)
            recover(r, s, gen);
        free(s->mem);
        s->mem = NULL;
        if (s->spool >= 0)
            close(s->spool);
        s->spool = -1;
    }
    if (!same)
        memcpy(o->s, now, sizeof now);
    o->n = n_now;
    return same;
}

int run_output_begin(struct run_ctx *r)
{
    struct run_output *o = &r->out;
    if (o->n == 0 && !r->restoring)
        return 0; /* nothing relayed; a restore may still owe output (below) */
    if (run_output_state_open(r) < 0)
        return o->n ? -1 : 0;
    int keep = r->restoring ? recover_all(r, r->image_gen) : 0;
    for (unsigned i = 0; i < o->n; i++) {
        struct run_stream *s = &o->s[i];
        if (!keep) {
            unsigned fds = s->job_fds;
            int real = s->real;
            memset(s, 0, sizeof *s);
            s->job_fds = fds;
            s->real = real;
        }
        s->rd = s->wr = -1;
        s->pipe_read = s->skip = 0;
        s->have_boundary = 0;
        int p[2];
        if (run_output_spool_open(r, s, 1) < 0 || pipe2(p, O_CLOEXEC) < 0) {
            cli_error("run", "cannot relay the job's output: %s", strerror(errno));
            return -1;
        }
        fcntl(p[0], F_SETPIPE_SZ, PIPE_SIZE); /* best effort: a job rarely blocks */
        fcntl(p[0], F_SETFL, O_NONBLOCK);
        s->rd = p[0];
        s->wr = p[1];
    }
    o->paused = 0;
    return run_output_state_save(r, 1) < 0 && o->n ? -1 : 0;
}

int run_output_child(struct run_ctx *r)
{
    for (unsigned i = 0; i < r->out.n; i++) {
        const struct run_stream *s = &r->out.s[i];
        for (int fd = 1; fd <= 2; fd++)
            if ((s->job_fds & (unsigned)fd) && dup2(s->wr, fd) < 0)
                return -1;
    }
    return 0;
}

void run_output_parent(struct run_ctx *r)
{
    for (unsigned i = 0; i < r->out.n; i++) {
        if (r->out.s[i].wr >= 0)
            close(r->out.s[i].wr);
        r->out.s[i].wr = -1;
    }
}
