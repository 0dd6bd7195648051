/* SPDX-License-Identifier: MIT */
/*
 * run_progress.c — `cairn run`'s progress line for a long checkpoint or
 * restore, from the PROGRESS lines of the job's writer child and of the
 * restorer (format/control.h):
 *
 *   cairn: checkpoint 1.20 GiB of 4.00 GiB (30%)
 *
 * drawn over itself on stderr, only when stderr is a terminal (never into a
 * log or a file), not with --quiet, and only once the operation has lasted
 * CAIRN_PROGRESS_AFTER seconds (default 2; the tests set 0). The operation
 * starts at its first PROGRESS line and ends at DONE, FAIL, REFUSE or
 * RESTORED, which erase the line. The cursor is left at the line's start,
 * so that anything else written meanwhile (the job's own output) writes
 * over it rather than after it.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn_time.h"
#include "cli.h"
#include "run.h"

#define PROGRESS_AFTER_DEFAULT 2.0

struct progress_op {
    int active;         /* between a first PROGRESS and the end */
    int shown;          /* the line is on the terminal */
    uint64_t start_ns;
};
static struct progress_op op;

/* Seconds before the line appears: $CAIRN_PROGRESS_AFTER, else 2. */
static double progress_after(void)
{
    static double after = -1;
    if (after < 0) {
        const char *v = getenv("CAIRN_PROGRESS_AFTER");
        char *end = NULL;
        after = v && *v ? strtod(v, &end) : PROGRESS_AFTER_DEFAULT;
        if (!v || !*v || *end || !(after >= 0)) {
            if (v && *v)
                fprintf(stderr, "cairn: CAIRN_PROGRESS_AFTER=%s is not a number of seconds; "
                                "2 is used\n", v);
            after = PROGRESS_AFTER_DEFAULT;
        }
    }
    return after;
}

static int on_terminal(void)
{
    static int tty = -1;
    if (tty < 0)
        tty = isatty(STDERR_FILENO) && cli_env()->verbose >= 0;
    return tty;
}

static void draw(const struct run_ctx *r, uint64_t done, uint64_t total)
{
    char d[32], t[32];
    fmt_size(d, sizeof d, done);
    fmt_size(t, sizeof t, total);
    unsigned pct = total ? (unsigned)(done * 100 / total) : 0;
    fprintf(stderr, "\r\033[Kcairn: %s %s of %s (%u%%)\r", r->ready ? "checkpoint" : "restore", d,
            t, pct > 100 ? 100 : pct);
    fflush(stderr);
    op.shown = 1;
}

static void end(void)
{
    if (op.shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    op.active = op.shown = 0;
}

void run_progress_line(const struct run_ctx *r, const char *line)
{
    if (!strncmp(line, "PROGRESS ", 9)) {
        uint64_t now = cairn__now_ns(CLOCK_MONOTONIC);
        if (!op.active)
            op = (struct progress_op){.active = 1, .start_ns = now};
        char *rest;
        uint64_t done = strtoull(line + 9, &rest, 10);
        uint64_t total = strtoull(rest, NULL, 10);
        if (on_terminal() && (double)(now - op.start_ns) / 1e9 >= progress_after())
            draw(r, done, total < done ? done : total);
    } else if (!strncmp(line, "DONE ", 5) || !strncmp(line, "FAIL ", 5) ||
               !strncmp(line, "REFUSE ", 7) || !strcmp(line, "RESTORED")) {
        end();
    }
}
