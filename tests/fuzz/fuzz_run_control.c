/*
 * fuzz_run_control.c — libFuzzer target for `cairn run`'s side of the
 * control channel (runtime/control.h): cli/run_job.c's read_control, which
 * frames what the job writes into lines, and handle_line, which acts on
 * them (HELLO, RESTORED, TERM, PAUSE, DONE, FAIL, REFUSE), together with
 * the checkpoint requests they lead to.
 *
 * run_job.c is compiled here unchanged, by #include, so that its static
 * functions can be driven the way run_supervise drives them, on a real
 * socketpair. What it calls outside itself is replaced by checking stubs:
 * the store (cairn__store_*: a temp file is begun, then committed or
 * aborted), the job's signals (run_ns_kill, and kill/waitpid by macro),
 * cairn_strerror. The job is a pid no process can have; no signal is sent.
 *
 * Input: two bytes of setup, then a script of what happens, in order.
 *   [0] flags: 1 restoring, 2 keyed, 4 --exit-code 85, 8 starting a
 *       checkpoint fails, 16 committing fails, 32 -v, 64|128 --signal
 *       (TERM, INT, HUP, USR2)
 *   [1] length of the store's absolute path: min(4095, 15 + 16 * v)
 *   then records:
 *     0x01 LEN(2 bytes, little-endian) BYTES  the job writes BYTES (LEN is
 *                                     cut to what the input has left)
 *     0x02  cairn gets SIGUSR1        0x03  the interval timer fires
 *     0x04  cairn gets the --signal one     0x05  cairn gets SIGINT
 *     0x06  the job is gone: signals to it fail, its end of the channel closes
 *     0x07  the job closes its end of the channel (and goes on running)
 *     other bytes are skipped.
 *   At the end the job's end of the channel closes.
 * tests/fuzz/gen-control-corpus makes seeds from the lines a real `cairn
 * run` exchanged with its job (strace).
 *
 * Checked, each an abort() with a message:
 *   - each checkpoint signal finds, at the head of the channel, the request
 *     of the checkpoint in flight, exactly as cairn means it, when read by
 *     the runtime's own reader (runtime/runtime.c read_request, through
 *     runtime_hosted.c): generation, temp path, key;
 *   - no request is left unread without its signal;
 *   - a temp file is open exactly while a checkpoint is in flight; commit
 *     and abort only for that one; never two at once;
 *   - signals go to the job's pid only, with a valid signal number;
 *   - a stop signal (SIGTERM, SIGINT, --signal) either starts a checkpoint
 *     that stops the job, or is passed on to the job;
 *   - an exit status cairn would end with is one (0..255);
 *   - the line buffer's length stays within its size.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "process_format.h"
#include "runtime_hosted.h"

/* Above PID_MAX_LIMIT (2^22): no process has this pid. */
#define FUZZ_JOB ((pid_t)0x7ffffff0)

static int fuzz_kill(pid_t pid, int sig);
static pid_t fuzz_waitpid(pid_t pid, int *st, int options);
#define kill(pid, sig) fuzz_kill(pid, sig)
#define waitpid(pid, st, options) fuzz_waitpid(pid, st, options)
#include "../../cli/run_job.c"
#include "../../cli/run_ipc.h"
#include "run_sock.h"
#undef kill
#undef waitpid

enum {
    F_RESTORING = 1, F_KEYED = 2, F_EXIT_CODE = 4, F_BEGIN_FAILS = 8, F_COMMIT_FAILS = 16,
    F_VERBOSE = 32
};
#define HEADER 2
enum { OP_WRITE = 1, OP_USR1, OP_TIMER, OP_STOP, OP_INT, OP_GONE, OP_CLOSE };

static struct run_ctx r;
static struct {
    unsigned flags;
    int peer;              /* the job's end of the channel */
    int temp_open;         /* a temp file begun, not yet committed or aborted */
    uint64_t temp_gen, next_gen;
    int last_sig;          /* the last signal run_ns_kill sent */
    int job_gone;          /* the job ended: signals fail, it writes no more */
} h;

static __attribute__((noreturn)) void bug(const char *what)
{
    fprintf(stderr, "fuzz_run_control: %s (pending %d, ready %d, wanted %d, temp %d)\n", what,
            (int)r.pending, r.ready, (int)r.wanted, h.temp_open);
    abort();
}

/* ---- stubs ------------------------------------------------------------ */

int cairn__store_begin(struct cairn__store *s, struct cairn__pending *p)
{
    if (h.temp_open)
        bug("a checkpoint started while another one's temp file is open");
    if (h.flags & F_BEGIN_FAILS)
        return -ENOSPC;
    p->fd = open("/dev/null", O_WRONLY | O_CLOEXEC); /* sent with the request */
    if (p->fd < 0)
        abort();
    p->generation = ++h.next_gen;
    snprintf(p->tmpname, sizeof p->tmpname, ".tmp-%020" PRIu64 "-%ld", p->generation,
             (long)getpid()); /* as lib/store.c names it */
    h.temp_open = 1;
    h.temp_gen = p->generation;
    return 0;
}

int cairn__store_commit(struct cairn__store *s, struct cairn__pending *p, unsigned keep)
{
    if (!h.temp_open || p->generation != h.temp_gen)
        bug("commit of a checkpoint that was not begun");
    if (keep < 1 || keep > 1000)
        bug("commit keeping no generation");
    h.temp_open = 0; /* the real one removes the temp when it fails */
    close(p->fd);
    p->fd = -1;
    return (h.flags & F_COMMIT_FAILS) ? -EIO : 0;
}

void cairn__store_abort(struct cairn__store *s, struct cairn__pending *p)
{
    if (!h.temp_open || p->generation != h.temp_gen)
        bug("abort of a checkpoint that was not begun");
    h.temp_open = 0;
    close(p->fd);
    p->fd = -1;
}

int cairn__store_finish(struct cairn__store *s, const char *summary)
{
    bug("cairn__store_finish: not reached from the control channel");
}

/* Delta images (cli/run_chain.c): the fuzzed supervisor asks for full images. */
void run_chain_request(struct run_ctx *rc, char *buf, size_t len)
{
    (void)rc;
    if (len)
        buf[0] = 0;
}

void run_chain_member_request(struct run_ctx *rc, pid_t pid, char *buf, size_t len)
{
    (void)rc;
    (void)pid;
    if (len)
        buf[0] = 0;
}

void run_chain_committed(struct run_ctx *rc, uint64_t gen)
{
    (void)rc;
    (void)gen;
}

const cairn_options_t *cli_env(void)
{
    static cairn_options_t o = {.keep = 2}; /* libcairn's defaults, CAIRN_* unset */
    return &o;
}

int run_can_signal(const struct run_ctx *rc, char *why, size_t len)
{
    (void)rc, (void)why, (void)len;
    return 1; /* the job's signal masks are not part of the protocol */
}

/* The store's event log (run_log.c): nothing to write here. */
void run_log(const struct run_ctx *rc, struct cairn__event e)
{
    (void)rc, (void)e;
}

void run_log_reason(const struct run_ctx *rc, const char *event, const char *reason)
{
    (void)rc, (void)event, (void)reason;
}

void run_log_signal(const struct run_ctx *rc, int sig, const char *what)
{
    (void)rc, (void)sig, (void)what;
}

/* A job of one process: run_tree.c lists no namespace (run_ns_status_fd
   is -1), so these are not reached. */
int run_precheck(long pid, int control_fd, uint64_t sent_ino, int in_tree, char *why,
                 size_t len)
{
    bug("run_precheck: no process tree here");
}

int run_objects_collect(const struct run_node *nodes, size_t n, const uint64_t *sent,
                        size_t nsent, struct run_objects *o, unsigned char *data, size_t cap,
                        size_t *len, char *why, size_t wlen)
{
    (void)nodes, (void)n, (void)sent, (void)nsent, (void)data, (void)cap, (void)why, (void)wlen;
    o->n = 0; /* a job of one process without a namespace holds none */
    if (len)
        *len = 0;
    return 0;
}

int run_ns_kill_pid(pid_t pid, int sig)
{
    bug("run_ns_kill_pid: no process tree here");
}

int cairn__store_begin_member(struct cairn__store *s, uint64_t gen, uint64_t pid,
                              struct cairn__pending *p)
{
    bug("cairn__store_begin_member: no process tree here");
}

int cairn__store_commit_members(struct cairn__store *s, struct cairn__pending *p,
                                const uint64_t *pids, size_t n)
{
    if (n)
        bug("cairn__store_commit_members: no process tree here");
    return 0;
}

/* The progress line on a terminal (run_progress.c): nothing to draw here. */
void run_progress_line(const struct run_ctx *rc, const char *line)
{
    (void)rc, (void)line;
}

const char *cairn_strerror(int err)
{
    return "(error from a fuzz stub)";
}

/* cairn answers each HELLO with the job's identity, which the runtime's
   constructor reads before anything else: the records waiting are taken. */
static void runtime_reads_identities(void)
{
    char head[4];
    while (recv(h.peer, head, sizeof head, MSG_PEEK | MSG_DONTWAIT) == (ssize_t)sizeof head &&
           !memcmp(head, "JOB ", 4))
        if (rth_read_identity(h.peer) < 0)
            bug("cairn's answer to HELLO is not a job record the runtime takes");
}

/* cairn's answers to STOPPED (GO with the tree section, or ABORT) and to
   HOLD (RESUME): a runtime that said those waits for the answer, so it has
   read them before any later request. GO's section bytes go with it. */
static void runtime_reads_answers(void)
{
    char head[8], line[600];
    for (;;) {
        ssize_t n = recv(h.peer, head, sizeof head, MSG_PEEK | MSG_DONTWAIT);
        if (n < 3 || (memcmp(head, "GO ", 3) && (n < 6 || memcmp(head, "ABORT ", 6)) &&
                      (n < 7 || memcmp(head, "RESUME\n", 7))))
            return;
        if (rth_read_answer(h.peer, line, sizeof line) < 0)
            bug("cairn's answer to STOPPED or HOLD is not a line the runtime reads");
        if (line[0] != 'G')
            continue;
        unsigned long long len[3];
        if (sscanf(line, "GO %llu %llu %llu", &len[0], &len[1], &len[2]) != 3)
            bug("cairn's GO is not the one the runtime parses");
        for (unsigned long long left = len[0] + len[1] + len[2]; left;) {
            char buf[4096];
            ssize_t got = recv(h.peer, buf, left < sizeof buf ? left : sizeof buf, MSG_DONTWAIT);
            if (got <= 0)
                bug("cairn's GO promises more bytes than it sent");
            left -= (unsigned long long)got;
        }
    }
}

/* What the runtime reads outside a checkpoint signal: answers to HELLO,
   STOPPED and HOLD, in the order they came. */
static void runtime_reads_replies(void)
{
    char head[4];
    for (;;) {
        runtime_reads_identities();
        runtime_reads_answers();
        if (recv(h.peer, head, sizeof head, MSG_PEEK | MSG_DONTWAIT) != (ssize_t)sizeof head ||
            memcmp(head, "JOB ", 4))
            return;
    }
}

/* The runtime's checkpoint handler: reads one request with its own code. */
static void runtime_takes_request(void)
{
    uint64_t gen = 0;
    unsigned char key[RTH_KEY_BYTES];
    int keyed = 0, image_fd = -1;
    if (h.peer < 0)
        return; /* the job closed its end: it never reads a request again */
    runtime_reads_replies();
    if (rth_read_request(h.peer, &gen, &image_fd, &keyed, key) < 0)
        bug("the checkpoint signal finds no request the runtime accepts");
    if (image_fd < 0)
        bug("the temp image's descriptor did not come with the request");
    close(image_fd);
    if (gen != r.tmp.generation)
        bug("the runtime reads another generation than cairn sent");
    if (keyed != r.keyed || (keyed && memcmp(key, r.key, sizeof key) != 0))
        bug("the runtime reads another image key than cairn sent");
}

int run_ns_kill(pid_t job, int sig)
{
    if (job != FUZZ_JOB)
        bug("run_ns_kill of a pid that is not the job's");
    if (sig < 1 || sig > 64)
        bug("run_ns_kill with an invalid signal");
    if (h.job_gone) {
        errno = ESRCH;
        return -1;
    }
    h.last_sig = sig;
    if (sig == CAIRN_CKPT_SIGNAL)
        runtime_takes_request();
    return 0;
}

static int fuzz_kill(pid_t pid, int sig)
{
    if (pid != FUZZ_JOB || sig != SIGKILL)
        bug("kill of a pid that is not the job's, or not SIGKILL");
    h.job_gone = 1;
    return 0;
}

static pid_t fuzz_waitpid(pid_t pid, int *st, int options)
{
    if (pid != FUZZ_JOB)
        bug("waitpid of a pid that is not the job's");
    if (st)
        *st = SIGKILL;
    return pid;
}

int run_ns_job_status(int *st, pid_t *pid)
{
    bug("run_ns_job_status: not reached from the control channel");
}

/* No namespace: the fuzzed job is one process (run_tree.c asks). */
void run_ipc_restored(void)
{
}

/* No namespace, so no IPC namespace either: run_tree.c never asks. */
int run_ipc_collect(unsigned char *buf, size_t cap, size_t *len, char *why, size_t wlen)
{
    (void)buf, (void)cap, (void)why, (void)wlen;
    *len = 0;
    return 0;
}

int run_ns_status_fd(void)
{
    return -1;
}

/* No registration endpoint either (poll skips fd -1). */
int run_ns_endpoint_fd(void)
{
    return -1;
}

void run_ns_close(void)
{
    bug("run_ns_close: not reached from the control channel");
}

/* Committed output (run_output.c): the fuzzed job has no relayed stream;
   its hooks only keep the pause flag, which must be off once no checkpoint
   is in flight. */
void run_output_request(struct run_ctx *rc)
{
    rc->out.paused = 1;
}
void run_output_unpause(struct run_ctx *rc)
{
    rc->out.paused = 0;
}
void run_output_unread(struct run_ctx *rc, const char *args)
{
    (void)args;
    rc->out.paused = 0;
}
void run_output_stopped(struct run_ctx *rc)
{
    (void)rc;
}

uint64_t run_output_pipe_ino(const struct run_ctx *rc, int fd)
{
    (void)rc, (void)fd;
    return 0;
}

void run_output_restored(struct run_ctx *rc, uint64_t n)
{
    (void)rc;
    (void)n;
}
int run_output_precommit(struct run_ctx *rc, uint64_t gen)
{
    (void)rc;
    (void)gen;
    return 0;
}
void run_output_committed(struct run_ctx *rc)
{
    (void)rc;
}
void run_output_job_ended(struct run_ctx *rc, int finished)
{
    (void)rc;
    (void)finished;
}
unsigned run_output_pollfds(const struct run_ctx *rc, struct pollfd *p)
{
    (void)rc;
    (void)p;
    return 0;
}
void run_output_read(struct run_ctx *rc, const struct pollfd *p)
{
    (void)rc;
    (void)p;
}
void run_output_close(struct run_ctx *rc)
{
    (void)rc;
}
/* Compression is off in the fuzzed job: the temp file goes to the writer. */
int run_compress_target(const struct run_ctx *rc, struct cairn__pending *p)
{
    (void)rc;
    return p->fd;
}
int run_compress_round(struct run_ctx *rc, uint64_t *stored, char *why, size_t len)
{
    (void)rc;
    (void)stored;
    (void)why;
    (void)len;
    return 0;
}

/* ---- the driver ------------------------------------------------------- */

static void check_state(int status)
{
    if (r.line_len >= sizeof r.line)
        bug("the line buffer's length is beyond its size");
    if ((r.pending != RUN_NONE) != h.temp_open)
        bug("a checkpoint is in flight without its temp file, or the reverse");
    if (r.wanted != RUN_NONE && r.ready)
        bug("a checkpoint is still wanted although the job is ready");
    if (status > 255)
        bug("cairn would exit with a status above 255");
}

static void setup(const uint8_t *hdr)
{
    static const int stop_sigs[4] = {SIGTERM, SIGINT, SIGHUP, SIGUSR2};
    memset(&r, 0, sizeof r);
    memset(&h, 0, sizeof h);
    h.flags = hdr[0];
    r.store_dir = "cairn.ckpt";
    r.interval = 60;
    r.exit_code = (h.flags & F_EXIT_CODE) ? 85 : -1;
    r.exit_signal = stop_sigs[hdr[0] >> 6];
    r.verbose = (h.flags & F_VERBOSE) != 0;
    /* An absolute path as realpath() gives it, components under NAME_MAX. */
    size_t len = 15 + 16u * hdr[1];
    len = len < sizeof r.store_abs - 1 ? len : sizeof r.store_abs - 1;
    for (size_t i = 0; i < len; i++)
        r.store_abs[i] = i % 200 == 0 ? '/' : (char)('a' + i % 26);
    r.keyed = (h.flags & F_KEYED) != 0;
    for (size_t i = 0; i < sizeof r.key; i++)
        r.key[i] = (unsigned char)(i * 37 + 11);
    r.job = FUZZ_JOB;
    r.job_ctl = -1;
    r.restoring = (h.flags & F_RESTORING) != 0;
    r.image_gen = r.restoring ? 3 : 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    r.ctl = sv[0];
    h.peer = sv[1];
    /* The runtime's reader must not wait for a request that is not there. */
    fcntl(h.peer, F_SETFL, O_NONBLOCK);
}

/* What run_supervise does when the channel is readable, while it is. */
static int pump(void)
{
    int status = -1;
    while (status < 0 && r.job > 0 && r.ctl >= 0) {
        struct pollfd p = {r.ctl, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0)
            break;
        status = read_control(&r);
        check_state(status);
    }
    return status;
}

/* A signal cairn receives on its signalfd, or its timer (run_supervise). */
static void event(int op)
{
    switch (op) {
    case OP_USR1:
        request(&r, RUN_USER);
        break;
    case OP_TIMER:
        request(&r, RUN_PERIODIC);
        break;
    case OP_STOP:
    case OP_INT: {
        int sig = op == OP_INT ? SIGINT : r.exit_signal;
        h.last_sig = 0;
        stop_signal(&r, sig);
        if (r.pending != RUN_STOP && r.wanted != RUN_STOP && h.last_sig != sig && !h.job_gone)
            bug("a stop signal was neither turned into a checkpoint nor passed to the job");
        break;
    }
    }
    check_state(-1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER)
        return 0;
    setenv("CAIRN_QUIET", "1", 0); /* not "job restored" for every input */
    setup(data);
    int status = -1;
    for (size_t i = HEADER; i < size && status < 0 && r.job > 0;) {
        int op = data[i++];
        if (op == OP_WRITE) {
            size_t len = i + 2 <= size ? (size_t)data[i] | (size_t)data[i + 1] << 8 : 0;
            i = i + 2 <= size ? i + 2 : size;
            len = len < size - i ? len : size - i;
            if (!h.job_gone && h.peer >= 0 && len &&
                send(h.peer, data + i, len, MSG_NOSIGNAL) != (ssize_t)len)
                abort(); /* far below the socket's buffer */
            i += len;
        } else if (op == OP_GONE || op == OP_CLOSE) {
            h.job_gone |= op == OP_GONE;
            if (h.peer >= 0)
                close(h.peer);
            h.peer = -1;
        } else if (op >= OP_USR1 && op <= OP_INT) {
            event(op);
        }
        status = pump();
    }
    if (status < 0 && r.job > 0 && h.peer >= 0) { /* the job's end closes */
        shutdown(h.peer, SHUT_WR);
        status = pump();
    }
    if (!h.job_gone && h.peer >= 0) {
        runtime_reads_replies();
        if (recv(h.peer, &(char){0}, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
            bug("a request was sent to the job without its checkpoint signal");
    }
    if (r.ctl >= 0)
        close(r.ctl);
    if (h.peer >= 0)
        close(h.peer);
    return 0;
}
