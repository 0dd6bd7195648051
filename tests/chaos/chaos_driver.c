/* SPDX-License-Identifier: MIT */
/*
 * chaos_driver.c — kills a checkpointing job hundreds of times and checks
 * that no work is lost (issue 5, "chaos at scale").
 *
 *   cairn-chaos --job PATH [--cycles N] [--seed S] [--steps N] [--state-kib K]
 *               [--no-faults] [--verbose]
 *
 * 1. An uninterrupted run of the job gives the reference output (and the
 *    time of one step, to scale random delays).
 * 2. Runs of the job are killed with SIGKILL (chaos_kill.c) until N kills
 *    have been made; each run ends with its output compared to the
 *    reference, bit for bit.
 * 3. Fault scenarios (chaos_faults.c): ENOSPC, read-only store, deleted
 *    store, EIO.
 * Prints a summary and fails unless nothing was lost or corrupt, every
 * output matched, and the requested kills and faults happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --job PATH [--cycles N] [--seed S] [--steps N] [--state-kib K]\n"
            "          [--no-faults] [--verbose]\n",
            argv0);
    return 2;
}

/* The uninterrupted run: reference output and time per step. */
static int reference(struct chaos_cfg *cfg, char *ref, size_t len, struct chaos_counts *n)
{
    char store[4200];
    snprintf(store, sizeof store, "%s/ref-store", cfg->work);
    snprintf(ref, len, "%s/reference.out", cfg->work);
    struct job_proc p;
    double t0 = now_s();
    if (job_start(&p, cfg, store, ref, JOB_PLAIN) < 0)
        return -1;
    while (job_read(&p, n) == 0) {
    }
    int st = job_finish(&p, 0, n);
    double dt = now_s() - t0;
    remove_tree(store);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !p.done) {
        say("the uninterrupted run failed (status 0x%x)", st);
        return -1;
    }
    cfg->step_us = (unsigned)(dt * 1e6 / cfg->steps);
    cfg->ref = ref;
    say("reference run: %u steps, %llu checkpoints in %.2f s", cfg->steps,
        (unsigned long long)p.commits, dt);
    return 0;
}

static int kill_phase(const struct chaos_cfg *cfg, struct chaos_counts *n)
{
    uint64_t rng = cfg->seed;
    char store[4200], out[4200];
    snprintf(store, sizeof store, "%s/store", cfg->work);
    for (unsigned long r = 0; n->kills < cfg->cycles; r++) {
        snprintf(out, sizeof out, "%s/run.out", cfg->work);
        remove_tree(store);
        unlink(out);
        if (mkdir(store, 0700) < 0) {
            say("%s: %s", store, strerror(errno));
            return -1;
        }
        if (run_with_kills(cfg, store, out, n, &rng, cfg->cycles - n->kills) < 0)
            return -1;
        if (cfg->verbose)
            say("run %lu complete, %llu kills so far", r, (unsigned long long)n->kills);
    }
    return 0;
}

static void summary(const struct chaos_counts *n, double secs, int faults_rc)
{
    printf("chaos summary (%.1f s):\n"
           "  kills (SIGKILL)         %llu (at temp create %llu, temp closed %llu, rename %llu,\n"
           "                          random delay %llu, during faults the rest)\n"
           "  restarts                %llu\n"
           "  runs completed          %llu (outputs compared with the uninterrupted run)\n"
           "  checkpoints committed   %llu\n"
           "  checkpoints failed      %llu (under injected faults)\n"
           "  store checks            %llu\n"
           "  faults injected         %llu (enospc %llu, read-only %llu, deleted %llu, eio %llu)%s\n"
           "  lost restores           %llu\n"
           "  corrupt newest images   %llu\n"
           "  mismatched outputs      %llu\n"
           "  driver errors           %llu\n",
           secs, (unsigned long long)n->kills, (unsigned long long)n->kill_tmp,
           (unsigned long long)n->kill_close, (unsigned long long)n->kill_rename,
           (unsigned long long)n->kill_delay, (unsigned long long)n->restarts,
           (unsigned long long)n->runs, (unsigned long long)n->commits,
           (unsigned long long)n->failed_ckpts, (unsigned long long)n->store_checks,
           (unsigned long long)n->faults, (unsigned long long)n->enospc,
           (unsigned long long)n->readonly, (unsigned long long)n->deleted,
           (unsigned long long)n->eio, faults_rc == 1 ? " SKIPPED (no namespaces)" : "",
           (unsigned long long)n->lost, (unsigned long long)n->corrupt,
           (unsigned long long)n->mismatched_outputs, (unsigned long long)n->errors);
}

int main(int argc, char **argv)
{
    struct chaos_cfg cfg = {.steps = 24, .state_kib = 4096, .cycles = 300, .seed = 0};
    int faults = 1;
    cfg.seed = (uint64_t)time(NULL);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-faults") == 0)
            faults = 0;
        else if (strcmp(a, "--verbose") == 0)
            cfg.verbose = 1;
        else if (!v)
            return usage(argv[0]);
        else if (strcmp(a, "--job") == 0)
            cfg.job = v, i++;
        else if (strcmp(a, "--cycles") == 0)
            cfg.cycles = strtoul(v, NULL, 10), i++;
        else if (strcmp(a, "--seed") == 0)
            cfg.seed = strtoull(v, NULL, 10), i++;
        else if (strcmp(a, "--steps") == 0)
            cfg.steps = (unsigned)strtoul(v, NULL, 10), i++;
        else if (strcmp(a, "--state-kib") == 0)
            cfg.state_kib = (unsigned)strtoul(v, NULL, 10), i++;
        else
            return usage(argv[0]);
    }
    if (!cfg.job || cfg.steps < 8 || cfg.state_kib == 0)
        return usage(argv[0]);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN); /* an ack to a job that just died */
    const char *tmp = getenv("TMPDIR");
    char work[4096], ref[4200];
    snprintf(work, sizeof work, "%s/cairn-chaos-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(work)) {
        say("cannot create a scratch directory in %s: %s", tmp ? tmp : "/tmp", strerror(errno));
        return 1;
    }
    cfg.work = work;
    say("seed %llu, %lu kills, %u steps of %u KiB state, checkpoint every step, in %s",
        (unsigned long long)cfg.seed, cfg.cycles, cfg.steps, cfg.state_kib, work);
    struct chaos_counts n = {0};
    double t0 = now_s();
    int rc = reference(&cfg, ref, sizeof ref, &n);
    n.commits = 0;
    if (rc == 0)
        rc = kill_phase(&cfg, &n);
    int frc = 0;
    if (rc == 0 && faults) {
        frc = run_faults(&cfg, &n);
        rc = frc < 0 ? -1 : 0;
    }
    summary(&n, now_s() - t0, frc);
    remove_tree(work);
    int ok = rc == 0 && n.lost == 0 && n.corrupt == 0 && n.mismatched_outputs == 0 &&
             n.errors == 0 && n.kills >= cfg.cycles && (!faults || frc == 1 || n.faults >= 5);
    printf("chaos: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
