/* SPDX-License-Identifier: MIT */
/*
 * run_job.c — `cairn run` supervising its job: relays its exit status,
 * turns signals and timers into checkpoints, and commits what the job's
 * writer child produced (protocol in format/control.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn_time.h"
#include "cli.h"
#include "control.h"
#include "process_format.h"
#include "run.h"
#include "run_ipc.h"



/* Sends buf with descriptor fd attached (MSG_NOSIGNAL: a job that just
   died must not take cairn with it through SIGPIPE; MSG_DONTWAIT: a job
   that does not read its channel must not stop cairn, and the request,
   the first thing in an empty socket, otherwise never waits). */
static ssize_t send_with_fd(int sock, const void *buf, size_t len, int fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A checkpoint could not even be asked for. As in checkpoint_done: one
   asked for by a stop signal cannot save the job, so the signal does what
   it would have done (else the job would run on, cairn ignoring it). */
static void request_failed(struct run_ctx *r, enum run_reason why)
{
    if (why == RUN_STOP)
        run_ns_kill(r->job, r->stop_signal);
}

/* How often a round that processes starting, exec'ing or ending spoiled is
   started again before cairn reports it (about a second, RETRY_MS apart):
   a stop signal must not lose the job's work to a shell's short-lived
   child. */
#define CHURN_RETRIES 100
#define RETRY_MS 10

/* A round that failed because of churn: 1 if it is to be started again
   (nothing is said about it), 0 if it is reported as failed. */
static int retry_churn(struct run_ctx *r, enum run_reason why)
{
    if (!r->round_churn || r->churn_retries >= CHURN_RETRIES)
        return 0;
    r->round_churn = 0;
    r->churn_retries++;
    r->retry = why > r->retry ? why : r->retry;
    r->retry_at = cairn__now_ns(CLOCK_MONOTONIC) + RETRY_MS * 1000000ull;
    return 1;
}

/* Starts a checkpoint: temp file, request line, signal. */
static void request(struct run_ctx *r, enum run_reason why)
{
    if (r->pending) {
        if (why == RUN_STOP)
            r->pending = RUN_STOP;
        return;
    }
    if (!r->ready) {
        r->wanted = why > r->wanted ? why : r->wanted;
        return;
    }
    char cannot[256];
    if (!run_can_signal(r, cannot, sizeof cannot)) {
        r->n_failed++;
        fprintf(stderr, "cairn: checkpoint not taken: %s\n", cannot);
        run_log_reason(r, CAIRN_EV_REFUSED, cannot);
        request_failed(r, why); /* a stop signal does what it would have done */
        return;
    }
    int rc = cairn__store_begin(&r->store, &r->tmp);
    if (rc < 0) {
        fprintf(stderr, "cairn: cannot start a checkpoint in %s: %s\n", r->store_abs,
                cairn_strerror(rc));
        char what[160];
        snprintf(what, sizeof what, "cannot create the image's temp file: %s",
                 cairn_strerror(rc));
        run_log_reason(r, CAIRN_EV_FAILED, what);
        request_failed(r, why);
        return;
    }
    int image_fd = run_compress_target(r, &r->tmp); /* the temp file, or a memfd */
    if (image_fd < 0) {
        fprintf(stderr, "cairn: cannot start a checkpoint: no memory for the image to "
                        "compress: %s\n", strerror(errno));
        run_log_reason(r, CAIRN_EV_FAILED, "cannot make the memfd of the image to compress");
        cairn__store_abort(&r->store, &r->tmp);
        request_failed(r, why);
        return;
    }
    /* The temp file's name is for the log only: its descriptor goes along
       (SCM_RIGHTS), so no path crosses the channel (format/control.h). */
    char line[256 + sizeof r->key], parent[128];
    /* The job's other processes first: all of them, or none, are asked. */
    if (run_tree_request(r, send_with_fd, cannot, sizeof cannot) < 0) {
        if (retry_churn(r, why)) {
            cairn__store_abort(&r->store, &r->tmp);
            return;
        }
        r->n_failed++;
        fprintf(stderr, "cairn: checkpoint not taken: %s\n", cannot);
        run_log_reason(r, CAIRN_EV_REFUSED, cannot);
        cairn__store_abort(&r->store, &r->tmp);
        request_failed(r, why);
        return;
    }
    /* A delta on the last image? For a tree, each member's too (run_tree.c). */
    run_chain_request(r, parent, sizeof parent);
    int n = snprintf(line, sizeof line, "CKPT%s %" PRIu64 " %s%s\n", r->keyed ? "K" : "",
                     r->tmp.generation, r->tmp.tmpname, parent);
    if (r->keyed && n > 0 && (size_t)n + sizeof r->key <= sizeof line) {
        memcpy(line + n, r->key, sizeof r->key);
        n += (int)sizeof r->key;
    }
    _Static_assert(6 + 20 + 1 + sizeof r->tmp.tmpname + 128 + 1 <= CAIRN_CONTROL_LINE_MAX,
                   "the request fits the runtime's line (format/control.h)");
    r->pending = why;
    r->t_request = cairn__now_ns(CLOCK_MONOTONIC);
    r->pause_ns = 0;
    memset(r->pause_parts, 0, sizeof r->pause_parts);
    r->copied = 0;
    run_output_request(r); /* the output boundary: stop reading until PAUSE */
    if (send_with_fd(r->ctl, line, (size_t)n, image_fd) != n ||
        run_ns_kill(r->job, CAIRN_CKPT_SIGNAL) < 0) {
        fprintf(stderr, "cairn: cannot ask the job for a checkpoint: %s\n", strerror(errno));
        run_log_reason(r, CAIRN_EV_FAILED, "cannot ask the job for a checkpoint");
        cairn__store_abort(&r->store, &r->tmp);
        r->root_phase = RUN_PH_ANSWERED;
        run_tree_fail(r, "cannot ask the job for a checkpoint", CAIRN_EV_FAILED);
        run_tree_progress(r); /* the others give up */
        run_tree_abort(r);
        r->pending = RUN_NONE;
        run_output_unpause(r);
        request_failed(r, why);
    }
}

/* Stops the job after a checkpoint (it is saved) and reaps it. */
static void stop_job(struct run_ctx *r)
{
    kill(r->job, SIGKILL);
    waitpid(r->job, NULL, 0);
    r->job = 0;
}

/* The end of cairn -v's commit line: what was copied at the pause
   (runtime/stage.c), and what the pause was spent on (runtimes before
   the parts say nothing; a part that did not happen is left out). */
static const char *pause_note(const struct run_ctx *r)
{
    static char note[256]; /* room for every part at its widest */
    const uint64_t *p = r->pause_parts;
    int n = 0;
    note[0] = 0;
    if (r->copied)
        n = snprintf(note, sizeof note, " (%.1f MiB of written pages copied at the pause)",
                     r->copied / 1048576.0);
    if (!p[2])
        return note;
    n += snprintf(note + n, sizeof note - (size_t)n, "; of the pause:");
    if (p[0])
        n += snprintf(note + n, sizeof note - (size_t)n, " tracking scan %.1f ms,", p[0] / 1e6);
    if (r->copied)
        n += snprintf(note + n, sizeof note - (size_t)n, " copy %.1f ms,", p[1] / 1e6);
    snprintf(note + n, sizeof note - (size_t)n, " fork %.1f ms", p[2] / 1e6);
    return note;
}

/* The commit's event: generation, bytes, pause and durable times. */
static void log_commit(const struct run_ctx *r, const char *detail)
{
    struct cairn__event e = CAIRN_EVENT_INIT(CAIRN_EV_COMMIT, NULL);
    e.generation = (int64_t)r->tmp.generation;
    e.bytes = (int64_t)strtoull(detail, NULL, 10);
    e.pause_ns = (int64_t)r->pause_ns;
    e.durable_ns = (int64_t)r->last_durable_ns;
    run_log(r, e);
}

/* A checkpoint ended: ok (DONE), or not with the event saying how
   (CAIRN_EV_FAILED or _REFUSED); returns an exit status to end with, or -1. */
static int checkpoint_done(struct run_ctx *r, int ok, const char *detail, const char *how)
{
    enum run_reason why = r->pending;
    r->pending = RUN_NONE;
    run_tree_release(r); /* the images are written: shared memory may change */
    char packed[512];
    uint64_t stored = 0;
    if (ok && run_compress_round(r, &stored, packed, sizeof packed) < 0) {
        ok = 0; /* the temp files are not whole: the last generation stays */
        detail = packed;
        how = CAIRN_EV_FAILED;
    } else if (ok && stored) { /* what the store holds */
        snprintf(packed, sizeof packed, "%" PRIu64, stored);
        detail = packed;
    }
    if (ok && run_output_precommit(r, r->tmp.generation) < 0) {
        ok = 0; /* the output it covers would not survive a crash */
        detail = "the job's output could not be made durable";
        how = CAIRN_EV_FAILED;
    }
    if (ok) {
        int rc = run_tree_commit(r); /* the other processes' images first */
        if (rc == 0)
            rc = cairn__store_commit(&r->store, &r->tmp, cli_env()->keep);
        if (rc < 0) {
            fprintf(stderr, "cairn: cannot commit the checkpoint: %s\n", cairn_strerror(rc));
            char what[160];
            snprintf(what, sizeof what, "cannot commit: %s", cairn_strerror(rc));
            run_log_reason(r, CAIRN_EV_FAILED, what);
            ok = 0;
            how = NULL;
        } else {
            r->churn_retries = 0;
            run_chain_committed(r, r->tmp.generation);
            r->n_checkpoints++;
            r->bytes_written += strtoull(detail, NULL, 10);
            r->last_durable_ns = cairn__now_ns(CLOCK_MONOTONIC) - r->t_request;
            if (r->pause_ns > r->max_pause_ns)
                r->max_pause_ns = r->pause_ns;
            log_commit(r, detail);
            run_output_committed(r); /* appends the output it covers */
            if (r->verbose)
                fprintf(stderr, "cairn: checkpoint %" PRIu64 " committed (%s bytes): job paused "
                                "%.3f ms, durable after %.3f ms%s\n", r->tmp.generation, detail,
                        r->pause_ns / 1e6, r->last_durable_ns / 1e6, pause_note(r));
        }
    } else if (retry_churn(r, why)) {
        run_output_unpause(r);
        cairn__store_abort(&r->store, &r->tmp);
        run_tree_abort(r);
        return -1; /* started again soon, whatever asked for it */
    } else {
        run_output_unpause(r);
        r->n_failed++;
        fprintf(stderr, "cairn: checkpoint not taken: %s\n", detail);
        if (how)
            run_log_reason(r, how, detail);
        cairn__store_abort(&r->store, &r->tmp);
        run_tree_abort(r);
    }
    if (why == RUN_STOP) {
        if (!ok) { /* cannot save it: let the signal do what it would have done */
            run_ns_kill(r->job, r->stop_signal);
            return -1;
        }
        stop_job(r);
        return 128 + r->stop_signal;
    }
    if (ok && why == RUN_PERIODIC && r->exit_code >= 0) {
        stop_job(r);
        return r->exit_code;
    }
    return -1;
}

/* One line in the job's log when cairn run ends, so a user can see what
   checkpointing cost without -v. */
static void print_summary(const struct run_ctx *r, int status)
{
    if (cli_env()->verbose < 0) /* CAIRN_QUIET, as in libcairn */
        return;
    char from[64] = "started fresh";
    if (r->restoring)
        snprintf(from, sizeof from, "restored from generation %" PRIu64, r->image_gen);
    fprintf(stderr,
            "cairn: %s: %" PRIu64 " checkpoints (%.1f MiB, longest pause %.1f ms, last durable "
            "after %.0f ms), %" PRIu64 " failed; %s; exit status %d\n",
            r->store_dir, r->n_checkpoints, r->bytes_written / 1048576.0, r->max_pause_ns / 1e6,
            r->last_durable_ns / 1e6, r->n_failed, from, status);
}

/* SIGTERM, SIGINT or --signal, received by cairn or reported by the job's
   runtime ("TERM <signo>"): checkpoint, then stop. Both may come for one
   scheduler signal; the second finds the checkpoint pending and is merged. */
static void stop_signal(struct run_ctx *r, int sig)
{
    if (!r->ready && !r->restoring) {
        run_ns_kill(r->job, sig); /* no runtime (yet): as if cairn were not there */
        return;
    }
    r->stop_signal = sig;
    request(r, RUN_STOP);
}

void run_term_reported(struct run_ctx *r, int sig)
{
    if (sig == SIGTERM || sig == SIGINT || sig == r->exit_signal) {
        run_log_signal(r, sig, "sent to the job: checkpoint, then stop");
        stop_signal(r, sig);
    }
}

/* The answer to every HELLO (a program the job execs says it again): who
   the job is, which the runtime saves in its images (format/control.h). */
void run_send_identity(struct run_ctx *r, int fd)
{
    char head[32];
    int n = snprintf(head, sizeof head, "JOB %zu\n", sizeof r->ident);
    struct iovec iov[2] = {{head, (size_t)n}, {&r->ident, sizeof r->ident}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    /* Never blocks cairn: a job that says HELLO without reading the
       answers fills its socket, and only its images lack the record. */
    sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A process answered: once all have, the checkpoint ends (run_tree.c). */
static int round_moved(struct run_ctx *r)
{
    if (!run_tree_progress(r))
        return -1;
    if (r->round_failed)
        return checkpoint_done(r, 0, r->round_why, r->round_how);
    char bytes[32];
    snprintf(bytes, sizeof bytes, "%" PRIu64, r->round_bytes);
    return checkpoint_done(r, 1, bytes, NULL);
}

static int handle_line(struct run_ctx *r, char *line)
{
    run_progress_line(r, line);
    if (!strncmp(line, "HELLO ", 6)) {
        run_send_identity(r, r->ctl);
        if (r->pending && r->root_phase == RUN_PH_ASKED) {
            /* The job exec'd a program: the old one never saw the request,
               the new one skipped it (runtime.c, read_identity). */
            r->root_phase = RUN_PH_ANSWERED;
            run_tree_churn(r, "the job exec'd a program during the checkpoint");
            return round_moved(r);
        }
    }
    if (!strncmp(line, "RESTORED", 8)) {
        run_output_restored(r, strtoull(line + 8, NULL, 10));
        run_ipc_restored(); /* every process has its queues again */
    }
    if (!strncmp(line, "HELLO ", 6) || !strncmp(line, "RESTORED", 8)) {
        if (line[0] == 'R' && cli_env()->verbose >= 0)
            fprintf(stderr, "cairn: job restored from generation %" PRIu64 "\n", r->image_gen);
        if (line[0] == 'R') {
            struct cairn__event e = CAIRN_EVENT_INIT(CAIRN_EV_RESTORE, NULL);
            e.generation = (int64_t)r->image_gen;
            run_log(r, e);
        }
        r->ready = 1;
        if (r->wanted) {
            enum run_reason w = r->wanted;
            r->wanted = RUN_NONE;
            request(r, w);
        }
    } else if (!strncmp(line, "TERM ", 5)) {
        run_term_reported(r, atoi(line + 5));
    } else if (!strncmp(line, "PAUSE ", 6)) {
        r->root_writer = run_pause_reported(r, line + 6);
    } else if (!strcmp(line, "HOLD")) {
        r->root_holding = 1;
    } else if (r->pending && !strcmp(line, "STOPPED") && r->root_phase == RUN_PH_ASKED) {
        r->root_phase = RUN_PH_STOPPED;
        return round_moved(r);
    } else if (r->pending && !strncmp(line, "DONE ", 5) && r->root_phase != RUN_PH_ANSWERED) {
        r->root_phase = RUN_PH_ANSWERED;
        r->round_bytes += strtoull(line + 5, NULL, 10);
        return round_moved(r);
    } else if (r->pending && (!strncmp(line, "FAIL ", 5) || !strncmp(line, "REFUSE ", 7)) &&
               r->root_phase != RUN_PH_ANSWERED) {
        r->root_phase = RUN_PH_ANSWERED;
        run_tree_fail(r, strchr(line, ' ') + 1,
                      line[0] == 'F' ? CAIRN_EV_FAILED : CAIRN_EV_REFUSED);
        return round_moved(r);
    }
    return -1;
}

/* Reads what the job sent; returns an exit status or -1. */
static int read_control(struct run_ctx *r)
{
    ssize_t n = read(r->ctl, r->line + r->line_len, sizeof r->line - 1 - r->line_len);
    if (n <= 0) {
        if (n == 0 || errno != EINTR) {
            close(r->ctl);
            r->ctl = -1;
            if (r->pending) {
                r->root_phase = RUN_PH_ANSWERED;
                run_tree_fail(r, "the job's writer ended without a report", CAIRN_EV_FAILED);
                run_tree_progress(r);
                return checkpoint_done(r, 0, r->round_why, r->round_how);
            }
        }
        return -1;
    }
    r->line_len += (size_t)n;
    r->line[r->line_len] = 0;
    char *nl;
    int status = -1;
    while (status < 0 && (nl = strchr(r->line, '\n'))) {
        *nl = 0;
        status = handle_line(r, r->line);
        size_t used = (size_t)(nl + 1 - r->line);
        memmove(r->line, nl + 1, r->line_len - used + 1);
        r->line_len -= used;
    }
    if (r->line_len == sizeof r->line - 1)
        r->line_len = 0; /* an overlong line: drop it */
    return status;
}

/* The job ended on its own: finish the store if it exited. */
static int job_ended(struct run_ctx *r, int st)
{
    while (r->pending && r->ctl >= 0) /* let a writer in flight finish */
        if (read_control(r) >= 0)
            break;
    if (r->pending)
        checkpoint_done(r, 0, "the job ended", CAIRN_EV_FAILED);
    r->job = 0;
    if (r->restoring && !r->ready) {
        if (WIFEXITED(st) && WEXITSTATUS(st) == RUN_RESTORE_CORRUPT)
            return RUN_RETRY_OLDER;
        fprintf(stderr, "cairn: the restore failed; the store is kept as it is\n");
        return CLI_EXIT_ERROR;
    }
    run_output_job_ended(r, 0); /* all it wrote goes out, before the finish */
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    int rc = cairn__store_finish(&r->store, "cairn run: the job exited");
    if (rc == 0) {
        run_log_reason(r, CAIRN_EV_FINISHED, "the job exited");
        run_output_job_ended(r, 1); /* nothing is held any more */
    }
    if (rc < 0)
        fprintf(stderr, "cairn: cannot mark the store finished: %s\n", cairn_strerror(rc));
    return WEXITSTATUS(st);
}

/* A writer of the round that died before it reported fails the round
   (run_writer.c). Called from the supervision loop, never from within a
   read: the writer's channel is read to its end first, since a report it
   sent before it died is there already. */
static int writers_lost(struct run_ctx *r)
{
    int status = -1;
    char why[200];
    if (r->pending && r->root_phase == RUN_PH_RELEASED &&
        run_writer_lost(r, r->root_writer, why, sizeof why)) {
        struct pollfd p = {r->ctl, POLLIN, 0};
        while (status < 0 && r->ctl >= 0 && r->pending && r->root_phase == RUN_PH_RELEASED &&
               poll(&p, 1, 0) == 1)
            status = read_control(r);
        if (status < 0 && r->pending && r->root_phase == RUN_PH_RELEASED) {
            char line[256];
            snprintf(line, sizeof line, "FAIL %s", why);
            status = handle_line(r, line);
        }
    }
    if (status < 0 && r->pending && run_tree_writers_lost(r))
        status = round_moved(r);
    return status;
}

/* The job's pid namespace init reported the job's end, or a writer's
   (run_ns.c). */
static int ns_reported(struct run_ctx *r)
{
    int st;
    pid_t pid;
    int kind = run_ns_job_status(&st, &pid);
    if (kind == 1)
        run_writer_died(r, pid, st);
    if (kind != 0)
        return -1;
    int status = job_ended(r, st); /* a writer in flight reports first */
    run_ns_close();                /* then the init ends the namespace */
    return status;
}

static int reap(struct run_ctx *r)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        if (pid == r->job)
            return job_ended(r, st);
        else
            run_writer_died(r, pid, st); /* (nothing if it exited 0) */
    return -1;
}

static int on_signal(struct run_ctx *r, int sfd)
{
    struct signalfd_siginfo si;
    if (read(sfd, &si, sizeof si) != sizeof si)
        return -1;
    int sig = (int)si.ssi_signo;
    if (sig == SIGCHLD)
        return reap(r);
    run_log_signal(r, sig, sig == SIGUSR1 ? "checkpoint, then go on" : "checkpoint, then stop");
    if (sig == SIGUSR1)
        request(r, RUN_USER);
    else
        stop_signal(r, sig);
    return -1;
}

static int make_timer(const struct run_ctx *r)
{
    if (r->interval <= 0)
        return -1;
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec its;
    its.it_value.tv_sec = (time_t)r->interval;
    its.it_value.tv_nsec = (long)((r->interval - (double)its.it_value.tv_sec) * 1e9);
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1;
    its.it_interval = its.it_value;
    if (fd >= 0)
        timerfd_settime(fd, 0, &its, NULL);
    return fd;
}

int run_supervise(struct run_ctx *r)
{
    sigset_t set;
    sigprocmask(SIG_BLOCK, NULL, &set);
    sigdelset(&set, SIGXFSZ); /* blocked only to get EFBIG (run_start.c) */
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    int tfd = make_timer(r);
    int status = -1;
    while (status < 0 && r->job > 0) {
        struct pollfd p[8 + CAIRN_PROC_MAX_MEMBERS] = {
            {sfd, POLLIN, 0}, {r->ctl, POLLIN, 0}, {tfd, POLLIN, 0},
            {run_ns_status_fd(), POLLIN, 0}, {r->reg, POLLIN, 0}};
        unsigned no = run_output_pollfds(r, p + 5); /* the job's stdout/stderr */
        struct pollfd *pm = p + 5 + no;             /* the job's other processes */
        int nm = run_tree_pollfds(r, pm, CAIRN_PROC_MAX_MEMBERS);
        pm[nm] = (struct pollfd){run_ns_endpoint_fd(), POLLIN, 0}; /* run_tree.c */
        if (poll(p, 5 + no + (nfds_t)nm + 1, r->retry && !r->pending ? RETRY_MS : -1) < 0 &&
            errno != EINTR)
            break;
        for (int i = nm - 1; status < 0 && i >= 0; i--)
            if (pm[i].revents && run_tree_read(r, (size_t)i) == 0 && r->pending)
                status = round_moved(r);
            else if (pm[i].revents && r->pending) /* it ended */
                status = round_moved(r);
        if (status < 0 && p[4].revents)
            run_tree_accept(r);
        if (status < 0 && pm[nm].revents)
            run_tree_accept_endpoint(r);
        if (status < 0 && p[1].revents)
            status = read_control(r);
        if (status < 0)
            run_output_read(r, p + 5);
        if (status < 0 && p[0].revents)
            status = on_signal(r, sfd);
        if (status < 0 && p[3].revents)
            status = ns_reported(r);
        if (status < 0 && p[2].revents) {
            uint64_t ticks;
            if (read(tfd, &ticks, sizeof ticks) > 0)
                request(r, RUN_PERIODIC);
        }
        if (status < 0 && r->ndead) /* a writer of this round died: whose? */
            status = writers_lost(r);
        if (status < 0 && r->retry && !r->pending &&
            cairn__now_ns(CLOCK_MONOTONIC) >= r->retry_at) {
            enum run_reason w = r->retry;
            r->retry = RUN_NONE;
            request(r, w);
        }
    }
    if (r->job > 0) { /* cairn itself failed: do not leave the job behind */
        kill(r->job, SIGKILL);
        waitpid(r->job, NULL, 0);
    }
    while (waitpid(-1, NULL, 0) > 0) /* writers */
        ;
    close(sfd);
    if (tfd >= 0)
        close(tfd);
    if (r->ctl >= 0)
        close(r->ctl);
    if (r->reg >= 0)
        close(r->reg);
    r->reg = -1;
    run_output_close(r);
    status = status < 0 ? CLI_EXIT_ERROR : status;
    if (status != RUN_RETRY_OLDER) {
        struct cairn__event e = CAIRN_EVENT_INIT(CAIRN_EV_EXIT, NULL);
        e.status = status;
        run_log(r, e);
        print_summary(r, status);
    }
    return status;
}
