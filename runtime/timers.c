/* SPDX-License-Identifier: MIT */
/*
 * timers.c — the job's POSIX timers (timer_create), recorded at the
 * checkpoint so that the restorer can create them again with the same ids.
 *
 * /proc/self/timers lists each timer's id, signal and sigev_value, how it
 * notifies (the process, or one thread: SIGEV_THREAD_ID) and its clock;
 * timer_gettime gives the time left and the period. The restorer re-creates
 * each with PR_TIMER_CREATE_RESTORE_IDS (timer_create then takes the id it
 * is given, which glibc's timer_t is) and arms it with the time it had
 * left: time the job spent checkpointed or not running does not count, as
 * for its itimers. An overrun count is not kept.
 *
 * Refused, with the reason: a kernel without PR_TIMER_CREATE_RESTORE_IDS,
 * and glibc's SIGEV_THREAD timers, whose helper thread blocks every signal.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "timers.h"

#define PR_TIMER_CREATE_RESTORE_IDS 77
#define PR_TIMER_CREATE_RESTORE_IDS_GET 2
#define SIGTIMER_GLIBC 32 /* glibc's SIGEV_THREAD timers signal a helper thread */

static const char *skip_to(const char *p, char c)
{
    while (*p && *p != c && *p != '\n')
        p++;
    return *p == c ? p + 1 : p;
}

/* "notify: signal/tid.123" */
static void parse_notify(struct cairn_proc_timer *t, const char *p)
{
    if (rt_startswith(p, "none"))
        t->notify = SIGEV_NONE;
    else if (rt_startswith(p, "thread"))
        t->notify = SIGEV_THREAD;
    else
        t->notify = SIGEV_SIGNAL;
    p = skip_to(p, '/');
    int thread = rt_startswith(p, "tid");
    p = skip_to(p, '.');
    uint64_t who = rt_parse_dec(&p);
    if (thread) {
        t->notify |= SIGEV_THREAD_ID;
        t->tid = (uint32_t)who;
    }
}

static int parse_line(struct rt_state *st, const char *p)
{
    struct cairn_proc_timer *t = st->ntimers ? &st->timers[st->ntimers - 1] : NULL;
    if (rt_startswith(p, "ID: ")) {
        if (st->ntimers == CAIRN_PROC_MAX_TIMERS)
            return rt_refuse_num(st, "the job has more than ", CAIRN_PROC_MAX_TIMERS,
                                 " POSIX timers");
        p += 4;
        st->timers[st->ntimers++] = (struct cairn_proc_timer){.id = (int32_t)rt_parse_dec(&p)};
    } else if (t && rt_startswith(p, "signal: ")) {
        p += 8;
        t->signo = (uint32_t)rt_parse_dec(&p);
        p = skip_to(p, '/');
        t->value = rt_parse_hex(&p);
    } else if (t && rt_startswith(p, "notify: ")) {
        parse_notify(t, p + 8);
    } else if (t && rt_startswith(p, "ClockID: ")) {
        p += 9;
        int negative = *p == '-'; /* a CPU clock: clock_getcpuclockid's encoding */
        p += negative;
        int64_t v = (int64_t)rt_parse_dec(&p);
        t->clock = (int32_t)(negative ? -v : v);
    }
    return 0;
}

static uint64_t ns_of(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

int rt_timers_capture(struct rt_state *st)
{
    st->ntimers = 0;
    if (rt_read_file("/proc/self/timers", st->text, sizeof st->text) <= 0)
        return 0; /* none (or a kernel without the file: nothing to be told) */
    for (const char *p = st->text; *p; p = skip_to(p, '\n'))
        if (parse_line(st, p) < 0)
            return -1;
    for (uint32_t i = 0; i < st->ntimers; i++) {
        struct cairn_proc_timer *t = &st->timers[i];
        struct itimerspec its = {{0, 0}, {0, 0}};
        if (t->signo == SIGTIMER_GLIBC && (t->notify & SIGEV_THREAD_ID))
            return rt_refuse_num(st, "POSIX timer ", (uint64_t)t->id,
                                 " notifies with SIGEV_THREAD (glibc's helper thread), which "
                                 "cairn cannot restore yet");
        if (syscall(SYS_timer_gettime, t->id, &its) < 0)
            return rt_refuse_num(st, "cannot read POSIX timer ", (uint64_t)t->id, "");
        t->remaining_ns = ns_of(&its.it_value);
        t->interval_ns = ns_of(&its.it_interval);
    }
    if (st->ntimers && prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0,
                             0) < 0)
        return rt_refuse_num(st, "the job has ", st->ntimers,
                             " POSIX timers (timer_create), which this kernel cannot create "
                             "again with their ids (it lacks PR_TIMER_CREATE_RESTORE_IDS)");
    return 0;
}
