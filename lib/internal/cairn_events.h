/* SPDX-License-Identifier: MIT */
/*
 * cairn_events.h — the store's event log (lib/events.c), written by
 * libcairn and by `cairn run`, read by `cairn log`. Internal: not installed.
 *
 * STORE/events.jsonl holds one JSON object per line, appended with a single
 * write() each (O_APPEND), so that two writers never interleave:
 *
 *   {"time":1767225600.123456,"event":"commit","source":"libcairn","pid":42,
 *    "generation":3,"bytes":4752,"pause_ns":812000,"durable_ns":812000}
 *
 * "time" is seconds since the epoch (UTC, microseconds); "event" is one of
 * the CAIRN_EV_* names below; the other members appear only where known.
 * When the file would grow past CAIRN_EVENTS_MAX bytes it is renamed
 * events.jsonl.1 (replacing the previous one) and a new one is begun, so a
 * store holds at most twice that much log. Writing the log is best effort:
 * a failure is never the caller's failure.
 */
#ifndef CAIRN_EVENTS_H
#define CAIRN_EVENTS_H

#include <stdint.h>

#define CAIRN_EVENTS_FILE "events.jsonl"
#define CAIRN_EVENTS_OLD "events.jsonl.1"
#define CAIRN_EVENTS_MAX (4u << 20)
#define CAIRN_EVENT_LINE_MAX 2048

/* The event names ("event" member). */
#define CAIRN_EV_START "start"       /* a job began using the store */
#define CAIRN_EV_RESTORE "restore"   /* it resumed from generation */
#define CAIRN_EV_COMMIT "commit"     /* generation committed */
#define CAIRN_EV_REFUSED "refused"   /* a checkpoint not taken (reason) */
#define CAIRN_EV_FAILED "failed"     /* a checkpoint that failed (reason) */
#define CAIRN_EV_SIGNAL "signal"     /* a checkpoint signal received */
#define CAIRN_EV_EXIT "exit"         /* the job ended (status) */
#define CAIRN_EV_FINISHED "finished" /* the job completed: the store is finished */

/* One event. Numbers < 0 and NULL strings are left out of the line. */
struct cairn__event {
    const char *event;   /* CAIRN_EV_* */
    const char *source;  /* "libcairn" or "cairn run" */
    int64_t generation;
    int64_t bytes;
    int64_t pause_ns;    /* the job stood still this long */
    int64_t durable_ns;  /* from the request until the image was durable */
    int signal;          /* > 0: a signal number, written as its name */
    int status;          /* >= 0 with CAIRN_EV_EXIT */
    const char *reason;
    const char *command;
};

/* An event with every optional member absent. */
#define CAIRN_EVENT_INIT(ev, src)                                                   \
    (struct cairn__event)                                                           \
    {                                                                               \
        .event = (ev), .source = (src), .generation = -1, .bytes = -1, .pause_ns = -1, \
        .durable_ns = -1, .status = -1                                              \
    }

/* Formats e as one line (with its '\n') into buf: its length, always
   < len (long strings are cut, marked "..."). */
int cairn__event_format(const struct cairn__event *e, char *buf, int len);
/* Appends e to the log of the store open as dirfd: 0 or -errno. The file
   is opened O_NOFOLLOW|O_APPEND and used only if it is a regular file of
   ours that nobody else may write (as the store's other files). */
int cairn__event_write(int dirfd, const struct cairn__event *e);
/* Opens the log file name (CAIRN_EVENTS_FILE or _OLD) in dirfd for reading
   under the same rules: the descriptor, or -errno (-ENOENT: no log). */
int cairn__event_open_read(int dirfd, const char *name);

#endif
