/* SPDX-License-Identifier: MIT */
/*
 * handlers.c — the job's signal handlers, counted as they run.
 *
 * eintr.c repeats a wait that cairn's checkpoint handler ended with EINTR,
 * recognised by the context the handler interrupted: just after a
 * `syscall` instruction, -EINTR in rax. One case looks the same and is
 * not cairn's: the job's own handler ended the wait, and cairn's signal
 * arrived while that handler returned (during rt_sigreturn). The kernel
 * then delivers it on top of the context rt_sigreturn restored, which is
 * the wait's, ended. Repeating the wait then loses the job's wake-up: a
 * sigsuspend() loop whose handler already ran sleeps for ever
 * (tests/transparent/progs/tree_sigchld.c hung so, about once in a
 * hundred runs of a thousand checkpoints, under load).
 *
 * So every handler the job installs through libc (sigaction(), signal(),
 * sysv_signal(), sigset(); signals.c) is given to the kernel behind
 * counted(), which tells eintr.c that a handler of the job's ran on this thread and then
 * calls it with the same arguments; eintr.c repeats a wait only when none
 * ran meanwhile. The job sees its own action in every report (oact). Not
 * covered: handlers set by raw rt_sigaction system calls (Go, static code).
 * A handler of the job's that is SA_RESETHAND for SIGTERM or SIGINT runs
 * from signals.c's on_oneshot(), which counts it the same way.
 *
 * The record is in this library's .bss: saved in every image with the
 * kernel's actions, which point at counted(), and restored with them.
 */
#define _GNU_SOURCE
#include <signal.h>

#include "eintr.h"
#include "handlers.h"

#define RT_NSIG 65

static struct sigaction recorded[RT_NSIG];

static void counted(int sig, siginfo_t *si, void *uc)
{
    rt_eintr_job_handler_ran();
    const struct sigaction *a = &recorded[sig];
    void (*plain)(int) = a->sa_handler; /* the same pointer as sa_sigaction */
    if (plain == SIG_DFL || plain == SIG_IGN)
        return; /* changed meanwhile by another thread: not the job's any more */
    if (a->sa_flags & SA_SIGINFO)
        a->sa_sigaction(sig, si, uc);
    else
        plain(sig);
}

static int is_handler(const struct sigaction *a)
{
    return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN && a->sa_sigaction != counted;
}

void rt_handler_counted(int sig, const struct sigaction *act, struct sigaction *k)
{
    if (sig <= 0 || sig >= RT_NSIG || !is_handler(act))
        return;
    recorded[sig] = *act; /* before the kernel has it: counted() finds it */
    k->sa_sigaction = counted;
    k->sa_flags |= SA_SIGINFO; /* counted() takes three arguments */
}

struct sigaction rt_handler_recorded(int sig)
{
    struct sigaction none = {.sa_handler = SIG_DFL};
    return sig > 0 && sig < RT_NSIG ? recorded[sig] : none;
}

void rt_handler_report(struct sigaction *oact, const struct sigaction *job)
{
    if (oact && oact->sa_sigaction == counted)
        *oact = *job;
}
