/* SPDX-License-Identifier: MIT */
/*
 * eventlog.c — reading the store's event log: the files, through the
 * store's directory descriptor and lib/events.c's trust rules, and each
 * line's flat JSON object (eventlog.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn_events.h"
#include "eventlog.h"

/* Reads a JSON string at *p (after its opening quote) into out, in place:
   the output is never longer than the input. */
static int read_string(const char **p, char **out)
{
    const char *s = *p;
    char *o = *out;
    while (*s && *s != '"') {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        s++;
        unsigned c = 0;
        switch (*s) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case 'u':
            if (sscanf(s + 1, "%4x", &c) != 1 || c > 0x7f)
                c = '?';
            s += 4;
            break;
        case '\0': return -1;
        default: c = (unsigned char)*s;
        }
        *o++ = (char)c;
        s++;
    }
    if (*s != '"')
        return -1;
    *o++ = 0;
    *p = s + 1;
    *out = o;
    return 0;
}

int ev_parse(struct ev_line *e, const char *line)
{
    size_t len = strlen(line);
    e->n = 0;
    if (len >= sizeof e->text / 2 || line[0] != '{')
        return -1;
    const char *p = line + 1;
    char *o = e->text; /* keys and values, unescaped, one after another */
    while (*p == '"' && e->n < EV_MAX_MEMBERS) {
        p++;
        e->key[e->n] = o;
        if (read_string(&p, &o) < 0 || *p++ != ':')
            return -1;
        e->val[e->n] = o;
        e->is_str[e->n] = *p == '"';
        if (*p == '"') {
            p++;
            if (read_string(&p, &o) < 0)
                return -1;
        } else {
            size_t n = strspn(p, "0123456789.-+eE");
            if (n == 0)
                return -1;
            memcpy(o, p, n);
            o[n] = 0;
            o += n + 1;
            p += n;
        }
        e->n++;
        if (*p == ',')
            p++;
        else
            break;
    }
    return strcmp(p, "}") == 0 && e->n > 0 ? 0 : -1;
}

const char *ev_get(const struct ev_line *e, const char *key)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->key[i], key) == 0)
            return e->val[i];
    return NULL;
}

double ev_num(const struct ev_line *e, const char *key, double def)
{
    const char *v = ev_get(e, key);
    return v ? strtod(v, NULL) : def;
}

/* Calls fn for each whole line of fd from byte from; the offset after the
   last whole line. */
static long long read_lines(int fd, long long from, ev_fn fn, void *ctx)
{
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return -errno;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size < from)
        from = 0; /* renamed events.jsonl.1 since: this is a new one */
    if (from > 0 && fseeko(f, from, SEEK_SET) < 0)
        from = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long long at = from;
    while ((n = getline(&line, &cap, f)) > 0 && line[n - 1] == '\n') {
        line[n - 1] = 0;
        at += n;
        fn(ctx, line);
    }
    free(line);
    fclose(f);
    return at;
}

long long ev_read_store(const char *store, long long from, ev_fn fn, void *ctx)
{
    int dfd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    int fd;
    if (from == 0 && (fd = cairn__event_open_read(dfd, CAIRN_EVENTS_OLD)) >= 0)
        read_lines(fd, 0, fn, ctx);
    fd = cairn__event_open_read(dfd, CAIRN_EVENTS_FILE);
    close(dfd);
    if (fd < 0)
        return fd;
    return read_lines(fd, from, fn, ctx);
}
