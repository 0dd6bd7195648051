/* SPDX-License-Identifier: MIT */
/*
 * checkpoint_wait.c — `cairn checkpoint --wait`: returns once the store
 * holds a generation newer than its newest at the request.
 *
 * Three sources, any of which settles it: the store directory, watched with
 * inotify (a generation appears by an atomic rename, IN_MOVED_TO, and may
 * be gone again soon after if the job then completes); the store's event
 * log, read from its size at the request (a commit of a newer generation,
 * or the job's refusal or failure with its reason); and the job's process,
 * through a pidfd, for its end. Each wakeup rechecks all three, and so does
 * a tick every 200 ms, in case inotify or pidfd is not available.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cairn_events.h"
#include "cairn_store.h"
#include "cairn_time.h"
#include "checkpoint.h"
#include "cli.h"
#include "eventlog.h"

#define TICK_MS 200

struct waiter {
    const char *store;
    const struct ckpt_target *t;
    const struct ckpt_before *b;
    long long log_at;
    uint64_t committed; /* the new generation, once seen */
    char refused[600];  /* the job's reason, from the log */
};

static uint64_t newest_gen(const char *store)
{
    size_t n = 0, got = 0;
    if (cairn_store_list(store, NULL, 0, &n) < 0 || n == 0)
        return 0;
    uint64_t *gens = calloc(n + 8, sizeof *gens), newest = 0;
    if (gens && cairn_store_list(store, gens, n + 8, &got) == 0 && got > 0)
        newest = gens[(got < n + 8 ? got : n + 8) - 1];
    free(gens);
    return newest;
}

void ckpt_note_before(const char *store, struct ckpt_before *b)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", store, CAIRN_EVENTS_FILE);
    b->newest = newest_gen(store);
    b->log_size = stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* One new line of the log: a commit past the newest, or the job's refusal. */
static void on_event(void *ctx, const char *line)
{
    struct waiter *w = ctx;
    static struct ev_line e;
    if (ev_parse(&e, line) < 0 || (long)ev_num(&e, "pid", 0) != w->t->pid)
        return;
    const char *ev = ev_get(&e, "event"), *why = ev_get(&e, "reason");
    if (!ev)
        return;
    double gen = ev_num(&e, "generation", 0);
    if (!strcmp(ev, CAIRN_EV_COMMIT) && gen > (double)w->b->newest && !w->committed)
        w->committed = (uint64_t)gen;
    else if ((!strcmp(ev, CAIRN_EV_REFUSED) || !strcmp(ev, CAIRN_EV_FAILED)) && !w->refused[0])
        snprintf(w->refused, sizeof w->refused, "checkpoint %s: %s", ev,
                 why ? why : "(no reason given)");
}

/* Generations renamed into the store, from the inotify events queued. */
static void read_inotify(struct waiter *w, int ifd)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while (ifd >= 0 && (n = read(ifd, buf, sizeof buf)) > 0)
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ie = (const struct inotify_event *)p;
            uint64_t g;
            if (ie->len && cairn__store_parse_name(ie->name, &g) && g > w->b->newest &&
                !w->committed)
                w->committed = g;
            p += sizeof *ie + ie->len;
        }
}

static int job_running(long pid)
{
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int ok = fscanf(f, "%*d (%*[^)]) %c", &state) == 1;
    fclose(f);
    return ok && state != 'Z' && state != 'X';
}

/* Rechecks everything: an exit status once settled, else -1. */
static int settle(struct waiter *w, int ifd, int ended)
{
    read_inotify(w, ifd);
    long long at = ev_read_store(w->store, w->log_at, on_event, w);
    if (at >= 0)
        w->log_at = at;
    uint64_t g = newest_gen(w->store);
    if (!w->committed && g > w->b->newest)
        w->committed = g;
    if (w->committed) {
        printf("%s: generation %" PRIu64 " committed\n", w->store, w->committed);
        return CLI_EXIT_OK;
    }
    if (w->refused[0]) {
        cli_error("checkpoint", "%s: the job (%s, pid %ld): %s", w->store, w->t->kind,
                  w->t->pid, w->refused);
        return CKPT_EXIT_NOT_TAKEN;
    }
    if (ended) {
        cli_error("checkpoint", "%s: the job (%s, pid %ld) ended without committing a new "
                  "generation", w->store, w->t->kind, w->t->pid);
        return CKPT_EXIT_ENDED;
    }
    return -1;
}

static int watch_store(const char *store)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0 && inotify_add_watch(fd, store, IN_MOVED_TO | IN_CREATE | IN_MODIFY) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int ckpt_wait(const char *store, const struct ckpt_target *t, const struct ckpt_before *b,
              double timeout)
{
    struct waiter w = {.store = store, .t = t, .b = b, .log_at = b->log_size};
    int ifd = watch_store(store);
    int pfd = (int)syscall(SYS_pidfd_open, (pid_t)t->pid, 0);
    uint64_t end = timeout > 0 ? cairn__now_ns(CLOCK_MONOTONIC) + (uint64_t)(timeout * 1e9)
                               : UINT64_MAX;
    int status = -1;
    while (status < 0) {
        int ended = !job_running(t->pid);
        status = settle(&w, ifd, ended);
        uint64_t now = cairn__now_ns(CLOCK_MONOTONIC);
        if (status < 0 && now >= end) {
            cli_error("checkpoint", "%s: no new generation after %g s (the job, %s pid %ld, "
                      "goes on)", store, timeout, t->kind, t->pid);
            status = CKPT_EXIT_TIMEOUT;
        }
        if (status >= 0)
            break;
        uint64_t left_ms = (end - now) / 1000000u;
        struct pollfd p[2] = {{ifd, POLLIN, 0}, {pfd, POLLIN, 0}};
        poll(p, 2, left_ms < TICK_MS ? (int)left_ms + 1 : TICK_MS);
    }
    if (ifd >= 0)
        close(ifd);
    if (pfd >= 0)
        close(pfd);
    return status;
}
