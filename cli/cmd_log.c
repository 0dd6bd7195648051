/* SPDX-License-Identifier: MIT */
/*
 * cmd_log.c — `cairn log STORE [--json]`: what happened to a job, from the
 * store's event log (lib/events.c): starts, restores, commits, refusals and
 * failures, signals and exits, written by libcairn and by cairn run.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cairn_events.h"
#include "cli.h"
#include "commands.h"
#include "eventlog.h"

static const char usage[] =
    "usage: cairn log [--json] STORE\n"
    "\n"
    "Prints the events of the store's log (STORE/events.jsonl, and the older\n"
    "events.jsonl.1 first), oldest first: each start of the job, restore,\n"
    "checkpoint committed (generation, bytes, how long the job paused and\n"
    "when the image was durable), checkpoint refused or failed (why), signal\n"
    "received, exit and finish, by libcairn and by cairn run. One line each,\n"
    "with the local time and the process (\"libcairn[PID]\", \"cairn run[PID]\").\n"
    "\n"
    "Options:\n"
    "  --json        print a JSON array of the events, each the log's line as it\n"
    "                is stored (one object per line: time in seconds since the\n"
    "                epoch, event, source, pid, and generation, bytes, pause_ns,\n"
    "                durable_ns, signal, status, reason, command where known)\n"
    "  -h, --help    show this help\n"
    "\n"
    "A line that is not a whole event (cut by a crash) is skipped with a note\n"
    "on stderr. The log is capped: past 4 MiB it becomes events.jsonl.1,\n"
    "replacing the previous one.\n"
    "\n"
    "Exit status: 0 printed (the log may be empty); 2 usage error; 3 STORE does\n"
    "not exist or has no log; 4 the log cannot be read (not a regular file of\n"
    "yours, or another error).\n";

static const struct cli_opt opts[] = {{"json", 0, 0}, {"help", 'h', 0}, {NULL, 0, 0}};

struct log_out {
    int json;
    unsigned count, bad;
};

/* "2026-01-01 12:00:00.123" in local time. */
static void local_time(char *buf, size_t len, double t)
{
    time_t s = (time_t)t;
    struct tm tm;
    char day[32];
    if (!localtime_r(&s, &tm) || !strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(day, sizeof day, "?");
    snprintf(buf, len, "%s.%03d", day, (int)((t - floor(t)) * 1000));
}

/* " (4.6 KiB; paused 1.2 ms, durable after 3.4 ms)" for a commit. */
static void commit_detail(const struct ev_line *e, char *buf, size_t len)
{
    char size[32] = "";
    double bytes = ev_num(e, "bytes", -1), pause = ev_num(e, "pause_ns", -1),
           durable = ev_num(e, "durable_ns", -1);
    if (bytes >= 0)
        fmt_size(size, sizeof size, (uint64_t)bytes);
    int n = snprintf(buf, len, " (%s", size);
    if (pause >= 0 && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, "%spaused %.1f ms", *size ? "; " : "", pause / 1e6);
    if (durable >= 0 && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ", durable after %.1f ms", durable / 1e6);
    if (n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ")");
}

/* What happened, in words. */
static void describe(const struct ev_line *e, char *buf, size_t len)
{
    const char *ev = ev_get(e, "event"), *why = ev_get(e, "reason");
    const char *gen = ev_get(e, "generation"), *cmd = ev_get(e, "command");
    char d[160] = "";
    if (!strcmp(ev, CAIRN_EV_START)) {
        snprintf(buf, len, "started%s%s", cmd ? ": " : "", cmd ? cmd : "");
    } else if (!strcmp(ev, CAIRN_EV_RESTORE)) {
        snprintf(buf, len, "restored generation %s", gen ? gen : "?");
    } else if (!strcmp(ev, CAIRN_EV_COMMIT)) {
        commit_detail(e, d, sizeof d);
        snprintf(buf, len, "checkpoint committed: generation %s%s", gen ? gen : "?", d);
    } else if (!strcmp(ev, CAIRN_EV_REFUSED) || !strcmp(ev, CAIRN_EV_FAILED)) {
        snprintf(buf, len, "checkpoint %s: %s", ev, why ? why : "(no reason given)");
    } else if (!strcmp(ev, CAIRN_EV_SIGNAL)) {
        const char *sig = ev_get(e, "signal");
        snprintf(buf, len, "signal %s%s%s", sig ? sig : "?", why ? ": " : "", why ? why : "");
    } else if (!strcmp(ev, CAIRN_EV_EXIT)) {
        snprintf(buf, len, "exited with status %s", ev_get(e, "status") ? ev_get(e, "status")
                                                                         : "?");
    } else if (!strcmp(ev, CAIRN_EV_FINISHED)) {
        snprintf(buf, len, "finished%s%s", why ? ": " : "", why ? why : "");
    } else {
        snprintf(buf, len, "%s%s%s", ev, why ? ": " : "", why ? why : "");
    }
}

static void print_text(const struct ev_line *e)
{
    char when[48], what[2400];
    local_time(when, sizeof when, ev_num(e, "time", 0));
    describe(e, what, sizeof what);
    const char *src = ev_get(e, "source"), *pid = ev_get(e, "pid");
    printf("%s  %s[%s]  ", when, src ? src : "?", pid ? pid : "?");
    print_name(stdout, what);
    putchar('\n');
}

static void on_line(void *ctx, const char *line)
{
    struct log_out *o = ctx;
    static struct ev_line e;
    if (ev_parse(&e, line) < 0 || !ev_get(&e, "event") || !ev_get(&e, "time")) {
        o->bad++;
        return;
    }
    if (o->json)
        printf("%s\n  %s", o->count ? "," : "", line);
    else
        print_text(&e);
    o->count++;
}

static int show(const char *store, int json)
{
    struct log_out o = {.json = json};
    if (json)
        fputs("[", stdout);
    long long rc = ev_read_store(store, 0, on_line, &o);
    if (json)
        fputs(o.count ? "\n]\n" : "]\n", stdout);
    if (o.bad)
        cli_error("log", "%s: %u line%s of the log %s not a whole event (cut by a crash?): "
                  "skipped", store, o.bad, o.bad == 1 ? "" : "s", o.bad == 1 ? "is" : "are");
    if (rc == -ENOENT) {
        cli_error("log", "%s: no event log (%s): no job has used this store since cairn "
                  "began to keep one", store, CAIRN_EVENTS_FILE);
        return CLI_EXIT_NOIMAGE;
    }
    if (rc < 0) {
        cli_error("log", "%s/%s: cannot read the log: %s", store, CAIRN_EVENTS_FILE,
                  rc == -EPERM   ? "not a regular file of yours that only you may write"
                  : rc == -ELOOP ? "it is a symbolic link: refused"
                                 : strerror((int)-rc));
        return CLI_EXIT_ERROR;
    }
    return CLI_EXIT_OK;
}

int cmd_log(int argc, char **argv)
{
    const char *store;
    unsigned f;
    int rc = cli_args_flags_one(argc, argv, "log", opts, usage, "STORE",
                                "missing STORE (a store directory)", &store, &f);
    if (rc >= 0)
        return rc;
    struct stat sb;
    rc = cli_stat_path("log", store, &sb);
    if (rc)
        return rc;
    if (!S_ISDIR(sb.st_mode)) {
        cli_error("log", "%s: not a directory (give the store)", store);
        return CLI_EXIT_NOIMAGE;
    }
    return show(store, f & 1); /* --json */
}
