/* SPDX-License-Identifier: MIT */
/*
 * signals.c — the job's dispositions of SIGTERM and SIGINT, virtualised.
 *
 * Under `cairn run` these signals mean "checkpoint now, then stop" whoever
 * receives them, and a scheduler (Slurm: preemption, scancel, time limit)
 * sends them to every process of the job, not only to cairn. A job that
 * leaves them at their default action would die before cairn could save it.
 *
 * So the runtime keeps, per signal, the action the job asked for (`virt`)
 * and gives the kernel:
 *   - the job's default action -> on_term(), which writes "TERM <signo>" on
 *     the control channel (control.h) and returns; cairn then does what it
 *     does on that signal itself (checkpoint, stop the job, exit 128+signo);
 *   - SIG_IGN, or a handler of the job's -> exactly that action, so the
 *     kernel applies the job's flags and mask itself (SA_SIGINFO, sa_mask,
 *     SA_NODEFER, SA_ONSTACK, SA_RESTART); cairn is not asked for anything:
 *     a job that catches the signal decides what it means (and a checkpoint
 *     taken after its handler ran would replay the handler's effect, say a
 *     "stop" flag, after every restore);
 *   - a handler with SA_RESETHAND -> on_oneshot(), which resets the record
 *     to the default action (so the next signal checkpoints) and calls it.
 * sigaction() and the other libc calls that change a disposition are
 * interposed (every symbol glibc 2.36 exports for it), record the job's
 * action, and report the recorded one as the old action. For the other
 * signals they pass the action on, its handler behind handlers.c's
 * counting trampoline (signal(), sysv_signal() and sigset() are built on
 * sigaction() here for every signal: glibc's call its internal one).
 *
 * The signal is applied for real (default action: the job dies of it) when
 * the job sent it to itself (raise() after a cleanup) or its parent did:
 * cairn, or the namespace's init, pass it on when a checkpoint was refused.
 * A process the job forks is not checkpointed: its actions become the real
 * ones again (atfork). A program the job execs that inherits the channel
 * takes nothing over unless its parent is cairn or the init (an exec'd
 * wrapper keeps the job's pid and parent).
 *
 * Not covered: raw rt_sigaction system calls (Go's runtime, static code),
 * the compat-only sigvec(), glibc's own internal calls (system() saving
 * and restoring SIGINT, which it does symmetrically).
 *
 * The record lives in the job's memory: it is saved in every image, and the
 * restorer reinstates the kernel's actions (the handlers below included).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "control.h"
#include "eintr.h"
#include "handlers.h"
#include "signals.h"

#define RT_NSIG 65
#define EXPORT __attribute__((visibility("default")))

typedef int sigaction_fn(int, const struct sigaction *, struct sigaction *);

/* libc's own functions, for the signals not virtualised. */
static struct {
    int (*siginterrupt)(int, int);
    int (*sigignore)(int);
    sigaction_fn *sigaction; /* resolved last: non-NULL means all are */
} real;

static const int term_signals[] = {SIGTERM, SIGINT};
static struct sigaction virt[RT_NSIG];     /* the job's actions */
static unsigned char virtual_sig[RT_NSIG]; /* 1: virt[] is authoritative */
static unsigned char no_restart[RT_NSIG];  /* siginterrupt(sig, 1) */
static int in_tree; /* the job runs in cairn run's namespace (tree.c) */
static volatile sig_atomic_t active;       /* this process is the job */
static volatile pid_t job_pid;
static int ctl_fd = -1;

static void resolve(void)
{
    if (real.sigaction)
        return;
    real.siginterrupt = (int (*)(int, int))dlsym(RTLD_NEXT, "siginterrupt");
    real.sigignore = (int (*)(int))dlsym(RTLD_NEXT, "sigignore");
    real.sigaction = (sigaction_fn *)dlsym(RTLD_NEXT, "sigaction");
}

/* ---- in signal context (async-signal-safe only) ----------------------- */

static void on_term(int sig, siginfo_t *si, void *uc);
static void on_oneshot(int sig, siginfo_t *si, void *uc);

/* What the kernel is given for the job's action v on sig (a handler of
   the job's: behind handlers.c's counting trampoline). */
static struct sigaction kernel_action(int sig, const struct sigaction *v)
{
    struct sigaction k = *v;
    if (v->sa_handler == SIG_DFL) {
        k = (struct sigaction){.sa_sigaction = on_term, .sa_flags = SA_SIGINFO | SA_RESTART};
        sigfillset(&k.sa_mask); /* no checkpoint inside on_term */
    } else if (v->sa_handler != SIG_IGN && (v->sa_flags & SA_RESETHAND)) {
        k.sa_sigaction = on_oneshot;
        k.sa_flags = (v->sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
    } else {
        rt_handler_counted(sig, v, &k);
    }
    return k;
}

/* Sent by the job itself or by its parent (cairn or the namespace's init,
   passing the signal on after a refused checkpoint): apply it for real. */
static int must_apply(const siginfo_t *si)
{
    if (si->si_code != SI_USER && si->si_code != SI_QUEUE && si->si_code != SI_TKILL)
        return 0;
    /* In cairn's namespace a sender outside it (a scheduler) shows as pid
       0, and any process of the job (a parent killing its child) is real. */
    if (in_tree)
        return si->si_pid != 0;
    return si->si_pid != 0 && (si->si_pid == getpid() || si->si_pid == getppid());
}

/* The default action of sig, from inside a handler that blocks it. */
static void die_default(int sig)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    real.sigaction(sig, &dfl, NULL);
    kill(getpid(), sig);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL); /* delivered here: the job ends */
}

static int tell_cairn(int sig)
{
    char line[32] = "TERM ";
    rt_cat_u64(line, sizeof line, (uint64_t)sig);
    rt_cat(line, sizeof line, "\n");
    size_t len = rt_strlen(line);
    ssize_t n;
    do
        n = send(ctl_fd, line, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)len ? 0 : -1;
}

/* sig arrived while the job's action is the default one. */
static void stop_signal(int sig, const siginfo_t *si)
{
    if (!active || must_apply(si) || tell_cairn(sig) < 0)
        die_default(sig);
}

static void on_term(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int saved_errno = errno;
    stop_signal(sig, si);
    errno = saved_errno;
}

/* The job's SA_RESETHAND handler: the reset happens on the record (the
   kernel now runs on_term), then the handler runs as the kernel would have
   run it (the kernel already applied its flags and mask to this one). */
static void on_oneshot(int sig, siginfo_t *si, void *uc)
{
    struct sigaction job = virt[sig];
    virt[sig] = (struct sigaction){.sa_handler = SIG_DFL};
    struct sigaction k = kernel_action(sig, &virt[sig]);
    real.sigaction(sig, &k, NULL);
    rt_eintr_job_handler_ran();
    if (job.sa_flags & SA_SIGINFO)
        job.sa_sigaction(sig, si, uc);
    else if (job.sa_handler != SIG_DFL && job.sa_handler != SIG_IGN)
        job.sa_handler(sig);
}

void rt_signals_before_capture(void)
{
    if (!active)
        return;
    job_pid = getpid(); /* a restore without a pid namespace changes it */
    for (size_t i = 0; i < sizeof term_signals / sizeof term_signals[0]; i++) {
        int s = term_signals[i];
        if (virt[s].sa_handler != SIG_DFL)
            continue; /* the job's own handler gets it after the restore */
        uint64_t set = 1ull << (s - 1);
        struct timespec zero = {0, 0};
        siginfo_t si;
        if (syscall(SYS_rt_sigtimedwait, &set, &si, &zero, 8) == s)
            stop_signal(s, &si);
    }
}

/* ---- the job's calls -------------------------------------------------- */

/* The job, not a vfork() child sharing its memory until it execs (whose
   parent is the job). A job restored without a pid namespace has a new
   pid, adopted here. */
static int is_the_job(void)
{
    pid_t me = getpid();
    if (me == job_pid)
        return 1;
    if (getppid() == job_pid)
        return 0;
    job_pid = me;
    return 1;
}

static int is_virtual(int sig)
{
    return active && sig > 0 && sig < RT_NSIG && virtual_sig[sig] && is_the_job();
}

/* sigaction() on the record; all signals blocked meanwhile, so that no
   handler sees the record and the kernel disagree. */
static int virt_sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
    uint64_t all = ~0ull, saved = 0;
    rt_sigmask_raw(SIG_SETMASK, &all, &saved);
    struct sigaction old = virt[sig];
    int rc = 0, err = 0;
    if (act) {
        struct sigaction k = kernel_action(sig, act);
        if (act->sa_handler != SIG_DFL)
            rt_sigmask_unblockable(&k.sa_mask);
        rc = real.sigaction(sig, &k, NULL);
        err = errno;
        if (rc == 0)
            virt[sig] = *act;
    }
    rt_sigmask_raw(SIG_SETMASK, &saved, NULL);
    if (rc == 0 && oact)
        *oact = old;
    errno = rc ? err : errno;
    return rc;
}

/* A handler of the job's runs with cairn's signals unblocked (sigmask.c),
   behind the counting trampoline (handlers.c); cairn's own handlers keep
   their full masks. A vfork() child's goes to its kernel as it is: the
   trampoline's record is in memory it shares with the job until it execs
   or exits, and would then run the child's handler for the job's signals
   (progs/vfork_handler.c). */
static const struct sigaction *job_action(int sig, const struct sigaction *act,
                                          struct sigaction *copy)
{
    if (!act || sig == CAIRN_CKPT_SIGNAL || sig == CAIRN_PARK_SIGNAL || !is_the_job())
        return act;
    *copy = *act;
    rt_sigmask_unblockable(&copy->sa_mask);
    rt_handler_counted(sig, act, copy);
    return copy;
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
    resolve();
    if (is_virtual(sig))
        return virt_sigaction(sig, act, oact);
    struct sigaction copy, before = rt_handler_recorded(sig);
    int rc = real.sigaction(sig, job_action(sig, act, &copy), oact);
    if (rc == 0)
        rt_handler_report(oact, &before);
    return rc;
}
extern __typeof(sigaction) __sigaction __attribute__((alias("sigaction"), copy(sigaction), visibility("default")));

/* signal() and friends, as glibc builds them on sigaction(). */
static __sighandler_t set_handler(int sig, __sighandler_t h, int flags, int mask_self)
{
    if (h == SIG_ERR) {
        errno = EINVAL;
        return SIG_ERR;
    }
    struct sigaction act = {.sa_handler = h, .sa_flags = flags}, old;
    sigemptyset(&act.sa_mask);
    if (mask_self)
        sigaddset(&act.sa_mask, sig);
    if (sigaction(sig, &act, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

/* BSD semantics (glibc's signal()): restarting unless siginterrupt() said
   otherwise, the signal blocked in its handler. */
EXPORT __sighandler_t signal(int sig, __sighandler_t h)
{
    resolve();
    if (sig <= 0 || sig >= RT_NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    return set_handler(sig, h, no_restart[sig] ? 0 : SA_RESTART, 1);
}
extern __typeof(signal) bsd_signal __attribute__((alias("signal"), copy(signal), visibility("default")));
extern __typeof(signal) ssignal __attribute__((alias("signal"), copy(signal), visibility("default")));

/* System V semantics: one-shot, not blocked in its handler, interrupting. */
EXPORT __sighandler_t sysv_signal(int sig, __sighandler_t h)
{
    resolve();
    if (sig <= 0 || sig >= RT_NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    return set_handler(sig, h, SA_RESETHAND | SA_NODEFER, 0);
}
extern __typeof(sysv_signal) __sysv_signal
    __attribute__((alias("sysv_signal"), copy(sysv_signal), visibility("default")));

/* System V sigset(): SIG_HOLD blocks the signal, anything else sets the
   action and unblocks it; SIG_HOLD is returned if it was blocked. */
EXPORT __sighandler_t sigset(int sig, __sighandler_t disp)
{
    resolve();
    if (sig <= 0 || sig >= RT_NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    sigset_t one, old;
    sigemptyset(&one);
    sigaddset(&one, sig);
    if (disp == SIG_HOLD) {
        if (sigprocmask(SIG_BLOCK, &one, &old) < 0)
            return SIG_ERR;
        struct sigaction cur;
        if (sigaction(sig, NULL, &cur) < 0)
            return SIG_ERR;
        return sigismember(&old, sig) ? SIG_HOLD : cur.sa_handler;
    }
    __sighandler_t prev = set_handler(sig, disp, 0, 0);
    if (prev == SIG_ERR || sigprocmask(SIG_UNBLOCK, &one, &old) < 0)
        return SIG_ERR;
    return sigismember(&old, sig) ? SIG_HOLD : prev;
}

EXPORT int sigignore(int sig)
{
    resolve();
    if (!is_virtual(sig))
        return real.sigignore(sig);
    struct sigaction act = {.sa_handler = SIG_IGN};
    sigemptyset(&act.sa_mask);
    return virt_sigaction(sig, &act, NULL);
}

EXPORT int siginterrupt(int sig, int interrupt)
{
    resolve();
    if (!is_virtual(sig)) {
        /* glibc's changes the kernel's flags (the trampoline stays); its
           set of interrupting signals is kept here too, for signal(). */
        int rc = real.siginterrupt(sig, interrupt);
        if (rc == 0)
            no_restart[sig] = interrupt != 0;
        return rc;
    }
    struct sigaction act;
    virt_sigaction(sig, NULL, &act);
    no_restart[sig] = interrupt != 0;
    if (interrupt)
        act.sa_flags &= ~SA_RESTART;
    else
        act.sa_flags |= SA_RESTART;
    return virt_sigaction(sig, &act, NULL);
}

/* ---- setting up ------------------------------------------------------- */

/* A forked child is not checkpointed: the kernel gets the real actions. */
static void in_forked_child(void)
{
    if (!active)
        return;
    if (in_tree) { /* checkpointed with the job (tree.c): it keeps them */
        job_pid = getpid();
        return;
    }
    active = 0;
    for (size_t i = 0; i < sizeof term_signals / sizeof term_signals[0]; i++)
        real.sigaction(term_signals[i], &virt[term_signals[i]], NULL);
}

/* Whether this process is the job cairn started: its parent is cairn (the
   other end of the control socket) or, in the job's pid namespace, the
   namespace's init, pid 1 (cairn, outside the namespace, shows as pid 0).
   A program the job starts inherits the channel but not that parent. */
static int started_by_cairn(int fd)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
        return 0;
    pid_t parent = getppid();
    return cr.pid == 0 ? parent == 1 : parent == cr.pid;
}

int rt_signals_init(int control_fd, int tree)
{
    resolve();
    in_tree = tree;
    /* In cairn's namespace every process with a channel is the job's. */
    if (!real.sigaction || (!in_tree && !started_by_cairn(control_fd)))
        return -1;
    if (pthread_atfork(NULL, NULL, in_forked_child) != 0)
        return -1;
    ctl_fd = control_fd;
    job_pid = getpid();
    uint64_t all = ~0ull, saved = 0;
    rt_sigmask_raw(SIG_SETMASK, &all, &saved);
    for (size_t i = 0; i < sizeof term_signals / sizeof term_signals[0]; i++) {
        int s = term_signals[i];
        real.sigaction(s, NULL, &virt[s]); /* SIG_IGN survives an exec */
        virtual_sig[s] = 1;
    }
    active = 1;
    for (size_t i = 0; i < sizeof term_signals / sizeof term_signals[0]; i++) {
        struct sigaction k = kernel_action(term_signals[i], &virt[term_signals[i]]);
        real.sigaction(term_signals[i], &k, NULL);
    }
    rt_sigmask_raw(SIG_SETMASK, &saved, NULL);
    return 0;
}
