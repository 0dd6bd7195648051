/* SPDX-License-Identifier: MIT */
/*
 * chaos_kill.c — one job run, killed with SIGKILL again and again.
 *
 * Each start gets a kill plan, weighted towards the checkpoint write and
 * commit: the k-th temp file created (plus a random delay of up to 3 ms, so
 * the kill lands inside the write), the k-th temp file closed (written and
 * fsync'ed, just before the rename), the k-th rename into place (before the
 * directory fsync and pruning), or a random delay of up to a few steps.
 * After each kill the newest generation must verify, and the next start
 * must restore exactly that generation (a "lost" restore otherwise).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn_image.h"
#include "chaos.h"

enum plan_kind { PLAN_NONE, PLAN_TMP, PLAN_CLOSE, PLAN_RENAME, PLAN_DELAY };

struct plan {
    enum plan_kind kind;
    unsigned k;        /* which event */
    unsigned delay_us; /* after the event, or the whole delay */
};

uint64_t chaos_rand(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15u;
    uint64_t z = *s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static struct plan choose(uint64_t *rng, unsigned step_us)
{
    struct plan p = {.k = 1 + (unsigned)(chaos_rand(rng) % 3)};
    unsigned r = (unsigned)(chaos_rand(rng) % 100);
    if (r < 35) {
        p.kind = PLAN_TMP;
        p.delay_us = (unsigned)(chaos_rand(rng) % 3000);
    } else if (r < 50) {
        p.kind = PLAN_CLOSE;
    } else if (r < 80) {
        p.kind = PLAN_RENAME;
    } else {
        p.kind = PLAN_DELAY;
        p.delay_us = (unsigned)(chaos_rand(rng) % (4 * (uint64_t)step_us + 1000));
    }
    return p;
}

static uint64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* Reads pending inotify events; returns 1 when the plan's event is seen. */
static int take_events(int ifd, struct plan *pl, unsigned *seen)
{
    char buf[4096] __attribute__((aligned(8)));
    ssize_t len;
    int fire = 0;
    while ((len = read(ifd, buf, sizeof buf)) > 0) {
        for (char *q = buf; q < buf + len;) {
            const struct inotify_event *e = (const void *)q;
            q += sizeof *e + e->len;
            if (!e->len || fire)
                continue;
            int tmp = strncmp(e->name, ".tmp-0", 6) == 0;
            int gen = strncmp(e->name, "ckpt-", 5) == 0 && !strstr(e->name, ".corrupt");
            if ((pl->kind == PLAN_TMP && (e->mask & IN_CREATE) && tmp) ||
                (pl->kind == PLAN_CLOSE && (e->mask & IN_CLOSE_WRITE) && tmp) ||
                (pl->kind == PLAN_RENAME && (e->mask & IN_MOVED_TO) && gen))
                fire = ++*seen == pl->k;
        }
    }
    return fire;
}

/* Watches the job until the plan fires (1) or the job ends its output (0). */
static int watch_job(struct job_proc *p, int ifd, struct plan pl, struct chaos_counts *n)
{
    unsigned seen = 0;
    uint64_t start = now_us(), limit = 120u * 1000000u;
    for (;;) {
        uint64_t el = now_us() - start;
        if (el > limit) {
            say("job %d made no progress for 120 s", (int)p->pid);
            n->errors++;
            return 1;
        }
        int timeout = 1000;
        if (pl.kind == PLAN_DELAY) {
            if (el >= pl.delay_us)
                return 1;
            timeout = (int)((pl.delay_us - el) / 1000) + 1;
        }
        struct pollfd f[2] = {{ifd, POLLIN, 0}, {p->out, POLLIN, 0}};
        if (poll(f, 2, timeout) < 0 && errno != EINTR)
            return 1;
        if ((f[0].revents & POLLIN) && take_events(ifd, &pl, &seen)) {
            if (pl.delay_us)
                usleep(pl.delay_us);
            return 1;
        }
        if ((f[1].revents & (POLLIN | POLLHUP)) && job_read(p, n) < 0)
            return 0;
    }
}

/* Checks the store after a kill; updates what the next start must restore. */
static void after_kill(const char *store, struct chaos_counts *n, int64_t *expect,
                       int *committed)
{
    int64_t g = store_check(store, n);
    if (g < 0) {
        n->corrupt++;
        *expect = -1; /* restore would skip it; nothing exact to expect */
    } else if (g == 0 && cairn_store_is_finished(store)) {
        *expect = 0; /* killed inside cairn_complete: a rerun starts over */
        *committed = 0;
    } else if (g == 0 && *committed) {
        say("%s: no generation left after one was committed", store);
        n->lost++;
        *expect = 0;
    } else {
        *committed |= g > 0;
        *expect = g;
    }
}

int run_with_kills(const struct chaos_cfg *cfg, const char *store, const char *out,
                   struct chaos_counts *n, uint64_t *rng, unsigned long max_kills)
{
    int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ifd < 0 || watch_store(ifd, store) < 0) {
        say("%s: cannot watch the store: %s", store, strerror(errno));
        return -1;
    }
    int64_t expect = store_check(store, n);
    int committed = expect > 0, rc = -1;
    for (unsigned long kills = 0;; kills++) {
        struct job_proc p;
        struct plan pl = {.kind = PLAN_NONE};
        if (kills < max_kills)
            pl = choose(rng, cfg->step_us);
        if (job_start(&p, cfg, store, out, JOB_PLAIN) < 0)
            break;
        int killed = watch_job(&p, ifd, pl, n);
        int status = job_finish(&p, killed, n);
        if (p.restored_gen >= 0 && expect >= 0 && p.restored_gen != expect) {
            say("%s: restored generation %lld, but the newest valid one was %lld", store,
                (long long)p.restored_gen, (long long)expect);
            n->lost++;
        }
        take_events(ifd, &(struct plan){PLAN_NONE, 0, 0}, &(unsigned){0});
        if (killed) {
            n->restarts++;
            uint64_t *by[] = {NULL, &n->kill_tmp, &n->kill_close, &n->kill_rename,
                              &n->kill_delay};
            if (by[pl.kind])
                ++*by[pl.kind];
            after_kill(store, n, &expect, &committed);
            continue;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !p.done) {
            say("job ended with status 0x%x without finishing", status);
            n->errors++;
            break;
        }
        n->runs++;
        if (!files_equal(out, cfg->ref)) {
            say("%s: output differs from the uninterrupted run", out);
            n->mismatched_outputs++;
            break;
        }
        rc = 0;
        break;
    }
    close(ifd);
    return rc;
}
