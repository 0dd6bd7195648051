/* SPDX-License-Identifier: MIT */
/*
 * eventlog.h — reading the store's event log (cli/eventlog.c), for
 * `cairn log` and `cairn checkpoint --wait`. The format is the one
 * lib/events.c writes (lib/internal/cairn_events.h): a flat JSON object per
 * line, string and number members only.
 */
#ifndef CAIRN_CLI_EVENTLOG_H
#define CAIRN_CLI_EVENTLOG_H

#include <stddef.h>
#include <stdio.h>

#define EV_MAX_MEMBERS 16

/* One line, parsed: member names and values (strings unescaped, numbers
   as written), pointing into the line's own buffer. */
struct ev_line {
    char text[2048 + 64];
    int n;
    const char *key[EV_MAX_MEMBERS];
    const char *val[EV_MAX_MEMBERS];
    int is_str[EV_MAX_MEMBERS];
};

/* Parses line (without its '\n') into e: 0, or -1 if it is not such an
   object (a line cut by a crash, or not written by cairn). */
int ev_parse(struct ev_line *e, const char *line);
/* The value of member key, or NULL. */
const char *ev_get(const struct ev_line *e, const char *key);
/* A number member, or def if absent. */
double ev_num(const struct ev_line *e, const char *key, double def);

/* Calls fn for each line of the store's log, oldest first (events.jsonl.1,
   then events.jsonl), from byte `from` of events.jsonl (0: all, both
   files). Returns the size of events.jsonl read so far, or -errno (-ENOENT
   if the store has no log); a file that is not ours is refused. */
typedef void (*ev_fn)(void *ctx, const char *line);
long long ev_read_store(const char *store, long long from, ev_fn fn, void *ctx);

#endif
