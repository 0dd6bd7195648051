/* SPDX-License-Identifier: MIT */
/*
 * events.c — the store's event log (format: lib/internal/cairn_events.h).
 *
 * Each event is formatted into one buffer and appended with one write() on
 * a descriptor opened O_APPEND, so lines from libcairn, cairn run and the
 * job's runtime never interleave. The file is opened for each event (events
 * are rare: a few per checkpoint), through the store's directory
 * descriptor, never following a link, and used only if it is a regular file
 * of ours that nobody else may write: the store's trust rules (store.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cairn_events.h"
#include "cairn_options.h"
#include "cairn_store.h"
#include "internal.h"

/* A line being built; `full` once something did not fit. */
struct line {
    char *buf;
    int len, cap, full;
};

static void put(struct line *l, const char *s, int n)
{
    if (l->full || l->len + n > l->cap) {
        l->full = 1;
        return;
    }
    memcpy(l->buf + l->len, s, (size_t)n);
    l->len += n;
}

static void putf(struct line *l, const char *fmt, ...) CAIRN_PRINTF(2, 3);
static void putf(struct line *l, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0 && n < (int)sizeof tmp)
        put(l, tmp, n);
}

/* ,"key":"value" with JSON escapes; a value that does not fit in what is
   left (keeping `reserve` bytes for the rest) is cut and ends in "...". */
static void put_str(struct line *l, const char *key, const char *v, int reserve)
{
    if (!v)
        return;
    putf(l, ",\"%s\":\"", key);
    int room = l->cap - reserve - 8;
    for (const unsigned char *p = (const unsigned char *)v; *p && !l->full; p++) {
        char esc[8];
        int n = 1;
        esc[0] = (char)*p;
        if (*p == '"' || *p == '\\')
            n = snprintf(esc, sizeof esc, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            n = snprintf(esc, sizeof esc, "\\u%04x", *p);
        if (l->len + n > room) {
            put(l, "...", 3);
            break;
        }
        put(l, esc, n);
    }
    put(l, "\"", 1);
}

static void put_num(struct line *l, const char *key, int64_t v)
{
    if (v >= 0)
        putf(l, ",\"%s\":%" PRId64, key, v);
}

int cairn__event_format(const struct cairn__event *e, char *buf, int len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct line l = {buf, 0, len - 2, 0}; /* room for "}\n" */
    putf(&l, "{\"time\":%lld.%06ld", (long long)ts.tv_sec, ts.tv_nsec / 1000);
    put_str(&l, "event", e->event, 0);
    put_str(&l, "source", e->source, 0);
    putf(&l, ",\"pid\":%ld", (long)getpid());
    put_num(&l, "generation", e->generation);
    put_num(&l, "bytes", e->bytes);
    put_num(&l, "pause_ns", e->pause_ns);
    put_num(&l, "durable_ns", e->durable_ns);
    if (e->signal > 0) {
        char name[16];
        put_str(&l, "signal", cairn__signal_name(e->signal, name, sizeof name), 0);
    }
    put_num(&l, "status", e->status);
    /* Strings last, so a long one is what gets cut. */
    put_str(&l, "reason", e->reason, e->command ? 200 : 0);
    put_str(&l, "command", e->command, 0);
    l.full = 0;
    l.cap = len;
    put(&l, "}\n", 2);
    return l.len;
}

/* Opens name in dirfd with flags; -errno unless it is ours (store.c). */
static int open_trusted(int dirfd, const char *name, int flags)
{
    int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || cairn__store_untrusted(&st)) {
        close(fd);
        return -EPERM;
    }
    return fd;
}

int cairn__event_open_read(int dirfd, const char *name)
{
    return open_trusted(dirfd, name, O_RDONLY);
}

/* The log, open for appending; renamed to CAIRN_EVENTS_OLD first if adding
   `more` bytes would take it past CAIRN_EVENTS_MAX. */
static int open_append(int dirfd, size_t more)
{
    int fd = open_trusted(dirfd, CAIRN_EVENTS_FILE, O_WRONLY | O_APPEND | O_CREAT);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size + more <= CAIRN_EVENTS_MAX)
        return fd;
    close(fd);
    if (renameat(dirfd, CAIRN_EVENTS_FILE, dirfd, CAIRN_EVENTS_OLD) < 0 && errno != ENOENT)
        return -errno;
    return open_trusted(dirfd, CAIRN_EVENTS_FILE, O_WRONLY | O_APPEND | O_CREAT);
}

int cairn__event_write(int dirfd, const struct cairn__event *e)
{
    if (dirfd < 0)
        return -EBADF;
    char buf[CAIRN_EVENT_LINE_MAX];
    int n = cairn__event_format(e, buf, sizeof buf);
    int fd = open_append(dirfd, (size_t)n);
    if (fd < 0)
        return fd;
    ssize_t w = write(fd, buf, (size_t)n); /* one write: one line, whole */
    int rc = w == n ? 0 : w < 0 ? -errno : -EIO;
    close(fd);
    return rc;
}
