/*
 * run_sig.c — whether the job can take the checkpoint signal now.
 *
 * The signal is only safe to send when the job's program has cairn's
 * runtime, whose handler catches it: a program the job exec'd without the
 * runtime (a static binary, `env -i`) would be killed by it, and a job that
 * blocks it would never answer, so a checkpoint, and the eviction waiting
 * for it, would hang. The kernel says which signals a process catches and
 * blocks (/proc/PID/status: SigCgt, SigBlk); the job is cairn's child, or
 * the child of its namespace's init. What else /proc shows the runtime
 * would refuse is refused here too, without disturbing the job
 * (run_precheck.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "control.h"
#include "run.h"

/* The job's pid as cairn sees it: r->job, or the init's first child. */
static long job_pid(const struct run_ctx *r)
{
    if (run_ns_status_fd() < 0)
        return r->job;
    char path[96];
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", (long)r->job, (long)r->job);
    FILE *f = fopen(path, "re");
    long pid = -1;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return pid;
}

/* The masks of the main thread's /proc/PID/status lines "SigBlk:" and
   "SigCgt:", whether it is a zombie ("State: Z") and whether it is
   runnable ("State: R": running, or waiting for a CPU). */
static int signal_masks(long pid, uint64_t *blocked, uint64_t *caught, int *zombie,
                        int *runnable)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    int found = 0;
    *zombie = *runnable = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "SigBlk:", 7))
            *blocked = strtoull(line + 7, NULL, 16), found |= 1;
        else if (!strncmp(line, "SigCgt:", 7))
            *caught = strtoull(line + 7, NULL, 16), found |= 2;
        else if (!strncmp(line, "State:", 6))
            *zombie = strchr(line + 6, 'Z') != NULL, *runnable = strchr(line + 6, 'R') != NULL;
    }
    fclose(f);
    return found == 3 ? 0 : -1;
}

/* Whether a thread of pid besides the main one still runs: not a zombie,
   and not being killed (an exiting process's threads have SIGKILL
   pending, and vanish from task/ once dead). */
static int other_thread_runs(long pid)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld/task", pid);
    DIR *d = opendir(dir);
    int runs = 0;
    for (struct dirent *e; d && !runs && (e = readdir(d));) {
        if (e->d_name[0] == '.' || atol(e->d_name) == pid)
            continue;
        char path[384], line[256];
        snprintf(path, sizeof path, "%s/%s/status", dir, e->d_name);
        FILE *f = fopen(path, "re");
        int alive = f != NULL;
        while (f && fgets(line, sizeof line, f))
            if (!strncmp(line, "State:", 6))
                alive &= strpbrk(line + 6, "ZX") == NULL;
            else if (!strncmp(line, "SigPnd:", 7))
                alive &= !(strtoull(line + 7, NULL, 16) & (1ull << (SIGKILL - 1)));
        if (f)
            fclose(f);
        runs = alive;
    }
    if (d)
        closedir(d);
    return runs;
}

/* The CPU time the main thread of pid has had (ns: the first field of
   /proc/PID/schedstat), or UINT64_MAX if the kernel does not say. */
static uint64_t cpu_time_ns(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/schedstat", pid);
    FILE *f = fopen(path, "re");
    unsigned long long ns = 0;
    int ok = f && fscanf(f, "%llu", &ns) == 1;
    if (f)
        fclose(f);
    return ok ? (uint64_t)ns : UINT64_MAX;
}

/* A job may block every signal for a moment (the runtime does in its
   SIGTERM handler, around sigaction() and while it reads cairn's answer to
   HELLO; glibc does around fork): only a block that lasts this many looks,
   4 ms apart, refuses the checkpoint. A look counts only if the job could
   have unblocked since the previous one: it had the CPU meanwhile, or it is
   not waiting for one (asleep, stopped). A job that waits for a CPU on a
   loaded machine (preempted inside the runtime's SIGTERM handler, say) is
   waited for, however long that takes, instead of being refused, which a
   stop signal turns into the job's death. */
#define BLOCK_LOOKS 50
#define LOOK_NS 4000000

/* One more look at a job that blocks the signal: whether it counts. */
static int look_counts(long pid, int runnable, uint64_t *ran)
{
    uint64_t now = cpu_time_ns(pid);
    int counts = !runnable || now == UINT64_MAX || now != *ran;
    *ran = now;
    return counts;
}

int run_can_signal(const struct run_ctx *r, char *why, size_t len)
{
    long pid = job_pid(r);
    uint64_t blocked = 0, caught = 0, bit = 1ull << (CAIRN_CKPT_SIGNAL - 1);
    int zombie = 0, runnable = 0;
    uint64_t ran = pid > 0 ? cpu_time_ns(pid) : 0;
    for (int look = 0; look < BLOCK_LOOKS;) {
        if (pid <= 0 || signal_masks(pid, &blocked, &caught, &zombie, &runnable) < 0)
            return 1; /* cannot tell: the job may be exiting; the runtime decides */
        if (zombie && !other_thread_runs(pid)) {
            /* Not yet reaped, or its threads dying: there is nothing left
               to checkpoint, the job's end is reported next. */
            snprintf(why, len, "the job is exiting");
            return 0;
        }
        if (zombie) {
            snprintf(why, len, "the job's main thread has exited (pthread_exit in main) while "
                               "other threads run: cairn checkpoints through the main thread, "
                               "so this job runs on as it would without cairn");
            return 0;
        }
        if (!(caught & bit) || !(blocked & bit))
            break;
        look += look_counts(pid, runnable, &ran);
        nanosleep(&(struct timespec){.tv_nsec = LOOK_NS}, NULL);
    }
    if (!(caught & bit)) {
        snprintf(why, len, "the job's program no longer has cairn's runtime (it exec'd a "
                           "static binary, or cleared the environment): it cannot be "
                           "checkpointed, and runs on as it would without cairn");
        return 0;
    }
    if (blocked & bit) {
        snprintf(why, len, "the job blocks cairn's checkpoint signal (%d) at the moment "
                           "(sigprocmask with a full set?)", CAIRN_CKPT_SIGNAL);
        return 0;
    }
    return run_precheck(pid, RUN_JOB_CONTROL_FD, 0, run_ns_status_fd() >= 0, why, len) == 0;
}
