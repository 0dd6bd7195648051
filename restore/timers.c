/* SPDX-License-Identifier: MIT */
/*
 * timers.c — the job's POSIX timers, created again by the restorer with
 * their own ids (PR_TIMER_CREATE_RESTORE_IDS: timer_create takes the id it
 * is given) and armed with the time each had left (runtime/timers.c).
 * They are created after the threads (a SIGEV_THREAD_ID timer names one),
 * while every signal is still blocked in every thread.
 */
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"

#define NR_timer_create 222
#define NR_timer_settime 223
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define RESTORE_IDS_OFF 0
#define RESTORE_IDS_ON 1
#define RESTORE_IDS_GET 2

struct ksigevent { /* the kernel's struct sigevent */
    uint64_t value;
    int32_t signo, notify;
    int32_t tid;
    int32_t pad[11];
};

struct kitimerspec {
    int64_t interval_sec, interval_nsec, value_sec, value_nsec;
};

static struct cairn_proc_timer timers[CAIRN_PROC_MAX_TIMERS];
static uint64_t ntimers;

int r_timers_load(void)
{
    if (!img.rec_timers.present)
        return 0;
    if (img.rec_timers.len % sizeof timers[0] || img.rec_timers.len > sizeof timers) {
        r_say("refusing to restore: the timers section is not whole timer records", (char *)0);
        return -2;
    }
    int rc = r_read_record("timers", &img.rec_timers, timers, sizeof timers);
    if (rc < 0)
        return rc;
    ntimers = img.rec_timers.len / sizeof timers[0];
    if (ntimers && sys5(NR_prctl, PR_TIMER_CREATE_RESTORE_IDS, RESTORE_IDS_GET, 0, 0, 0) < 0) {
        r_say("refusing to restore: the job had POSIX timers, and this kernel cannot create "
              "them again with their ids (it lacks PR_TIMER_CREATE_RESTORE_IDS)", (char *)0);
        return -1;
    }
    return 0;
}

void r_timers_restore(void)
{
    char a[24];
    if (!ntimers)
        return;
    sys5(NR_prctl, PR_TIMER_CREATE_RESTORE_IDS, RESTORE_IDS_ON, 0, 0, 0);
    for (uint64_t i = 0; i < ntimers; i++) {
        const struct cairn_proc_timer *t = &timers[i];
        struct ksigevent ev = {.value = t->value, .signo = (int32_t)t->signo,
                               .notify = (int32_t)t->notify, .tid = (int32_t)t->tid};
        int32_t id = t->id;
        long rc = sys3(NR_timer_create, t->clock, &ev, &id);
        if (rc < 0 || id != t->id) {
            r_say("cannot create POSIX timer ", r_dec(a, (uint64_t)t->id), " again", (char *)0);
            r_fail("timer_create", rc < 0 ? rc : -1);
        }
        struct kitimerspec its = {(int64_t)(t->interval_ns / 1000000000u),
                                  (int64_t)(t->interval_ns % 1000000000u),
                                  (int64_t)(t->remaining_ns / 1000000000u),
                                  (int64_t)(t->remaining_ns % 1000000000u)};
        if (t->remaining_ns && (rc = sys4(NR_timer_settime, id, 0, &its, 0)) < 0)
            r_fail("timer_settime", rc);
    }
    sys5(NR_prctl, PR_TIMER_CREATE_RESTORE_IDS, RESTORE_IDS_OFF, 0, 0, 0);
}
