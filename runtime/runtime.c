/* SPDX-License-Identifier: MIT */
/*
 * runtime.c — the part of cairn that `cairn run` injects into the job with
 * LD_PRELOAD (libcairn-runtime.so).
 *
 * The constructor takes the control channel from $CAIRN_CONTROL_FD, maps the
 * memory the checkpoint will need, and installs a handler for
 * CAIRN_CKPT_SIGNAL on its own alternate stack. On that signal (sent to the
 * main thread) the handler reads cairn's request (generation and temp
 * file), parks the other threads (threads.c), records the process
 * state (capture.c), and forks a copy-on-write writer child (writer.c);
 * the job resumes as soon as the fork returns. The kernel saved all the
 * registers, FPU/SSE/AVX included, in the signal frame on the alternate
 * stack, which is part of the image: a restore resumes the job by
 * rt_sigreturn on that frame, as if this handler had returned.
 *
 * Nothing here is visible to the job: every symbol is hidden, except the
 * libc signal functions signals.c interposes (SIGTERM/SIGINT virtualised).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sodium.h>

#include "arch_x86_64.h"
#include "cairn_mac.h"
#include "cairn_time.h"
#include "capture.h"
#include "control.h"
#include "eintr.h"
#include "dirty.h"
#include "signals.h"
#include "stage.h"
#include "threads.h"
#include "tree.h"

#define ALTSTACK_SIZE (256u << 10)
#define WRITER_STACK_SIZE (256u << 10)
#define TCB_ABOVE (8u << 10)           /* glibc's struct pthread: ~2.3 KiB */
#define TLS_BELOW_UNKNOWN (64u << 10)

/* The size of the static TLS (ld.so's, as ASan reads it), for the writer's
   copy of the main thread's; a guess where ld.so does not say. */
static uint64_t tls_below = TLS_BELOW_UNKNOWN;
static int control_fd = -1;
static struct rt_state *state;
/* A keyed run's image key, present only between the request and the fork:
   both processes wipe it at once, so it is never part of a saved image. */
static unsigned char image_key[CAIRN_KEY_BYTES];
static int keyed;
static uint64_t writer_gen; /* the writer child's generation */
/* A test hook (tests/transparent/writer_killed.sh): CAIRN_TEST_KILL_WRITER=N
   makes this process's Nth writer kill itself before it writes. */
static uint64_t kill_writer_at, writers_forked;

static void send_line(const char *a, const char *b)
{
    char line[CAIRN_CONTROL_LINE_MAX] = "";
    rt_cat(line, sizeof line, a);
    rt_cat(line, sizeof line, b);
    rt_cat(line, sizeof line, "\n");
    ssize_t n;
    do
        n = write(control_fd, line, rt_strlen(line));
    while (n < 0 && errno == EINTR);
}

static void send_number(const char *a, uint64_t v)
{
    char num[24] = "";
    rt_cat_u64(num, sizeof num, v);
    send_line(a, num);
}

/* "PAUSE <ns> <bytes copied at the pause> <the writer's pid> <scan ns>
   <copy ns> <fork ns>" (format/control.h): with the pid, cairn knows the
   writer it reaps, or hears of from the namespace init, for this
   process's; the last three are the parts of the pause cairn -v shows. */
struct pause_parts {
    uint64_t scan, copy, fork;
};

static void send_pause(uint64_t ns, uint64_t copied, long writer, const struct pause_parts *p)
{
    const uint64_t v[6] = {ns, copied, (uint64_t)writer, p->scan, p->copy, p->fork};
    char nums[144] = "";
    for (int i = 0; i < 6; i++) {
        if (i)
            rt_cat(nums, sizeof nums, " ");
        rt_cat_u64(nums, sizeof nums, v[i]);
    }
    send_line("PAUSE ", nums);
}

/* Reads exactly n bytes from the control channel. */
static int read_exact(void *buf, size_t n)
{
    for (size_t done = 0; done < n;) {
        ssize_t r = read(control_fd, (char *)buf + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

/* One byte of the request, and the descriptor cairn attached to it, if
   any (SCM_RIGHTS rides on the first byte of the message). */
static ssize_t read_byte(char *c, int *fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {.iov_base = c, .iov_len = 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    ssize_t r = recvmsg(control_fd, &mh, MSG_CMSG_CLOEXEC);
    if (r < 0 && errno == ENOTSOCK) /* not cairn's socketpair (tests/fuzz) */
        return read(control_fd, c, 1);
    struct cmsghdr *cm = r > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
        cm->cmsg_len == CMSG_LEN(sizeof(int))) {
        int got;
        memcpy(&got, CMSG_DATA(cm), sizeof got);
        if (*fd >= 0)
            close(*fd);
        *fd = got;
    }
    return r;
}

/* Reads "CKPT <gen> <name>\n" one byte at a time (nothing beyond it), or
   "CKPTK <gen> <name>\n" followed by the image key, with the temp image's
   descriptor attached: the writer writes that open file, never a path.
   cairn writes the request, in one message, before it sends the signal:
   with nothing there the signal came from someone else, and waiting would
   stop the job. */
static int read_request(uint64_t *gen, int *image_fd)
{
    char line[CAIRN_CONTROL_LINE_MAX];
    size_t n = 0;
    *image_fd = -1;
    struct pollfd ready = {control_fd, POLLIN, 0};
    if (poll(&ready, 1, 0) != 1)
        return -1;
    while (n + 1 < sizeof line) {
        ssize_t r = read_byte(line + n, image_fd);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    keyed = rt_startswith(line, "CKPTK ");
    if (!keyed && !rt_startswith(line, "CKPT "))
        return -1;
    if (keyed && read_exact(image_key, sizeof image_key) < 0)
        return -1;
    rt_dirty_request(line); /* the parent a delta may be written on */
    const char *p = line + (keyed ? 6 : 5);
    *gen = rt_parse_dec(&p);
    return *p == ' ' ? 0 : -1;
}

/* In the writer child: the MAC state goes in a page of its own mapped after
   the fork, so it is not among the mappings being saved; the key is wiped
   before any memory is written. NULL if the run is not keyed. */
static struct cairn__mac *child_mac(void)
{
    if (!keyed)
        return NULL;
    size_t len = (cairn__mac_size() + 4095) & ~(size_t)4095;
    void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct cairn__mac *m = mem == MAP_FAILED ? NULL : cairn__mac_init_at(mem, image_key);
    explicit_bzero(image_key, sizeof image_key);
    return m;
}

/* The writer child: write, report, exit. Never returns. Runs on a stack
   of its own (writer_start): never on memory it is saving. */
static void writer_child(void *arg)
{
    (void)arg;
    int fd = state->image_fd;
    uint64_t gen = writer_gen;
    rt_arch_writer_detach(&state->core);
    memcpy(state->alt_copy, (void *)state->alt_start, state->alt_size);
    uint64_t bytes = 0;
    if (writers_forked == kill_writer_at)
        syscall(SYS_kill, syscall(SYS_getpid), SIGKILL);
    state->mac = child_mac();
    if (keyed && !state->mac)
        send_line("FAIL cannot map memory for the image MAC", "");
    else if (fd < 0)
        send_line("FAIL no temp image descriptor came with the request", "");
    else {
        int rc = rt_write_image(state, fd, gen, &bytes);
        rt_stage_release(); /* before DONE: cairn may ask for the next one at once */
        if (rc < 0)
            send_line("FAIL ", state->why);
        else
            send_number("DONE ", bytes);
    }
    rt_arch_exit(0);
}

/* The main thread's static TLS and TCB, around fs: where in its mapping
   (the TLS block below fs, glibc's struct pthread above it). */
static int private_tls(void)
{
    uint64_t fs = state->core.fs_base, lo = fs, hi = fs;
    for (uint64_t i = 0; i < state->core.nmaps; i++) {
        const struct cairn_proc_map *m = &state->maps[i];
        if (fs >= m->start && fs < m->end) {
            lo = fs - m->start > tls_below ? fs - tls_below : m->start;
            hi = m->end - fs > TCB_ABOVE ? fs + TCB_ABOVE : m->end;
        }
    }
    if (hi == lo)
        return 0; /* not in a saved mapping: nothing to protect */
    void *buf = mmap(NULL, hi - lo, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED)
        return -1;
    rt_arch_writer_tls(fs, lo, hi, buf);
    return 0;
}

/*
 * The first thing the writer child does. The handler runs on whatever
 * alternate stack the thread has: cairn's own, or one the job installed in
 * memory that is being saved (gawk and R put theirs in the heap). A writer
 * running there would change bytes between hashing and writing them, and
 * the image would not match its checksums. So the child moves at once to a
 * stack mapped after the capture, which is not among the mappings saved;
 * the few bytes it pushed before are below the signal frame, dead stack.
 */
static void writer_start(uint64_t gen)
{
    /* Named, so that cairn run, listing the job's processes, knows it for
       one of its writers (it may outlive its report for a moment). The
       image took the job's name before. */
    prctl(PR_SET_NAME, RT_WRITER_NAME, 0, 0, 0);
    void *stack = mmap(NULL, WRITER_STACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        send_line("FAIL cannot map the writer's stack", "");
        rt_arch_exit(0);
    }
    if (private_tls() < 0) {
        send_line("FAIL cannot map a copy of the thread's TLS for the writer", "");
        rt_arch_exit(0);
    }
    writer_gen = gen;
    rt_arch_call_on_stack((char *)stack + WRITER_STACK_SIZE, writer_child, NULL);
}

static uint64_t request_gen;

static void writer_entry(void)
{
    writer_start(request_gen);
}

/* One line from cairn, read without blocking for more than 60 s (cairn
   gone or hung: the job must not stop for ever). */
static int read_answer(char *line, size_t cap)
{
    struct pollfd p = {.fd = control_fd, .events = POLLIN};
    size_t n = 0;
    while (n + 1 < cap) {
        int r = poll(&p, 1, 60000);
        if (r < 0 && errno == EINTR)
            continue;
        if (r != 1 || read(control_fd, line + n, 1) != 1)
            return -1;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    return 0;
}

/* The process is stopped and its state taken: cairn waits until every
   process of the job is (control.h STOPPED), then says GO with the tree
   section for the image, or ABORT because another one refused. */
static int rendezvous(void)
{
    char line[600];
    send_line("STOPPED", "");
    state->tree_len = 0;
    if (read_answer(line, sizeof line) < 0) {
        state->why[0] = 0;
        rt_cat(state->why, sizeof state->why, "no answer from cairn run while stopped");
        return -1;
    }
    if (rt_startswith(line, "ABORT ")) {
        state->why[0] = 0;
        rt_cat(state->why, sizeof state->why, line + 6);
        return -1;
    }
    const char *q = line + 3;
    uint64_t n = rt_startswith(line, "GO ") ? rt_parse_dec(&q) : sizeof state->tree + 1;
    uint64_t m = *q == ' ' ? (q++, rt_parse_dec(&q)) : 0;
    uint64_t k = *q == ' ' ? (q++, rt_parse_dec(&q)) : 0; /* the IPC section (cli/run_ipc.c) */
    if (n > sizeof state->tree || m > CAIRN_PROC_MAX_PIPE_DATA || k > CAIRN_PROC_MAX_IPC_DATA ||
        ((m || k) && !state->pipe_data) || read_exact(state->tree, (size_t)n) < 0 ||
        read_exact(state->pipe_data, (size_t)m) < 0 ||
        read_exact(state->pipe_data + m, (size_t)k) < 0) {
        state->why[0] = 0;
        rt_cat(state->why, sizeof state->why, "cairn run's answer is not understood: ");
        rt_cat(state->why, sizeof state->why, line);
        return -1;
    }
    state->tree_len = (uint32_t)n;
    state->pipe_data_len = (uint32_t)m;
    state->ipc_len = (uint32_t)k;
    return rt_tree_files(state);
}

static int has_shared_maps(void)
{
    for (uint64_t i = 0; i < state->core.nmaps; i++)
        if (state->maps[i].kind == CAIRN_MAP_SHARED && (state->maps[i].flags & CAIRN_MAPF_DATA))
            return 1;
    return 0;
}

/* Until cairn says RESUME (or is gone): the round's writers are done. */
static void wait_resume(void)
{
    char line[64];
    for (;;) {
        struct pollfd p = {.fd = control_fd, .events = POLLIN};
        int r = poll(&p, 1, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r != 1 || read_answer(line, sizeof line) < 0 || rt_streq(line, "RESUME"))
            return;
    }
}

static void refuse_request(void)
{
    explicit_bzero(image_key, sizeof image_key);
    send_line("REFUSE ", state->why);
}

/* The checkpoint, in the main thread (cairn sends the signal to it alone:
   tgkill): every other thread is parked first (threads.c), and released
   once the writer is forked. */

static void on_checkpoint(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    int saved_errno = errno;
    uint64_t t0 = cairn__now_ns(CLOCK_MONOTONIC);
    uint64_t gen = 0;
    if (syscall(SYS_gettid) != getpid() || read_request(&gen, &state->image_fd) < 0)
        goto out; /* not from cairn: ignore */
    rt_signals_before_capture(); /* a pending SIGTERM is reported, not saved */
    rt_eintr_note(uc); /* before its memory is saved: a restore repeats the wait too */
    if (rt_threads_stop(state, uc) < 0) {
        refuse_request();
        goto out;
    }
    if (state->core.nthreads > 1 && !state->own_pidns) {
        rt_threads_release();
        state->why[0] = 0;
        rt_cat(state->why, sizeof state->why, "the job has threads and runs outside cairn run's "
               "pid namespace (CAIRN_NO_NAMESPACE=1, or the kernel refused one): their thread "
               "ids could not be given back on restore");
        refuse_request();
        goto out;
    }
    /* A restored job still carries the restorer's mappings (and its
       threads had run on them until they resumed): drop them. */
    munmap((void *)CAIRN_RESERVED_LO, CAIRN_RESERVED_HI - CAIRN_RESERVED_LO);
    if (rt_capture(state, uc, control_fd) < 0 || rendezvous() < 0) {
        rt_threads_release();
        refuse_request();
        goto out;
    }
    errno = saved_errno; /* the image's main thread resumes with its own */
    request_gen = gen;
    struct pause_parts parts;
    uint64_t t = cairn__now_ns(CLOCK_MONOTONIC);
    rt_dirty_checkpoint(state, gen); /* last: written pages, protected again */
    parts.scan = cairn__now_ns(CLOCK_MONOTONIC) - t;
    t += parts.scan;
    rt_stage_before_fork(state); /* a delta's large mappings stay out of the fork */
    parts.copy = cairn__now_ns(CLOCK_MONOTONIC) - t;
    /* The writer reads MAP_SHARED memory live, not a copy-on-write copy:
       a process that has some stays stopped until every writer of the
       round is done (HOLD, then cairn's RESUME), so that no process of the
       job changes it meanwhile. Said before the fork: cairn reads it before
       the writer's DONE. */
    int hold = has_shared_maps();
    if (hold)
        send_line("HOLD", "");
    writers_forked++;
    t = cairn__now_ns(CLOCK_MONOTONIC);
    long pid = rt_tree_fork_writer(state->own_pidns, writer_entry);
    parts.fork = cairn__now_ns(CLOCK_MONOTONIC) - t;
    rt_dirty_after_fork();
    rt_stage_after_fork();
    explicit_bzero(image_key, sizeof image_key);
    if (state->pipe_data_len || state->ipc_len) /* the writer has its copy */
        madvise(state->pipe_data, state->pipe_data_len + state->ipc_len, MADV_DONTNEED);
    if (pid < 0)
        send_line("FAIL cannot fork the writer", "");
    else
        send_pause(cairn__now_ns(CLOCK_MONOTONIC) - t0, rt_stage_copied(), pid, &parts);
    if (hold)
        wait_resume();
    rt_threads_release();
out:
    if (state->image_fd >= 0) /* the writer has its own copy */
        close(state->image_fd);
    state->image_fd = -1;
    errno = saved_errno;
}

/* One line from the channel into line (NUL for the newline), waiting at
   most a few seconds for each byte; its length, or -1. */
static ssize_t read_line(char *line, size_t max)
{
    struct pollfd p = {.fd = control_fd, .events = POLLIN};
    size_t n = 0;
    while (n + 1 < max) {
        if (poll(&p, 1, 10000) != 1 || read(control_fd, line + n, 1) != 1)
            return -1;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    return (ssize_t)n;
}

/* cairn run's answer to HELLO: "JOB <n>\n" and the job's identity record
   (format/control.h). Waits at most a few seconds; without it the job runs
   and its images just lack the record. A request cairn sent before this
   program's exec may come first (exec.c kept its signal pending): it is
   skipped, since cairn gives up that round when it sees HELLO. */
static void read_identity(void)
{
    char line[CAIRN_CONTROL_LINE_MAX];
    for (;;) {
        if (read_line(line, sizeof line) < 0)
            return;
        if (rt_startswith(line, "CKPTK ") && read_exact(image_key, sizeof image_key) < 0)
            return;
        if (!rt_startswith(line, "CKPT"))
            break;
    }
    explicit_bzero(image_key, sizeof image_key);
    const char *q = line + 4;
    if (!rt_startswith(line, "JOB ") || rt_parse_dec(&q) != sizeof state->job ||
        read_exact(&state->job, sizeof state->job) < 0)
        return;
    state->have_job = 1;
}

static void *map_anon(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* fd is a channel of cairn's: a unix stream socket, not a file of the
   job's that took the number after the channel was closed. */
static int is_channel(int fd)
{
    int type = 0, domain = 0;
    socklen_t tl = sizeof type, dl = sizeof domain;
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM &&
           getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) == 0 && domain == AF_UNIX;
}

__attribute__((constructor)) static void cairn_runtime_init(void)
{
    const char *env = getenv(CAIRN_CONTROL_ENV);
    if (!env)
        return;
    int fd = atoi(env);
    const char *kill_at = getenv("CAIRN_TEST_KILL_WRITER");
    kill_writer_at = kill_at ? strtoull(kill_at, NULL, 10) : 0;
    /* The variable and the descriptor stay for a program the job execs
       (a wrapper script exec'ing the real program keeps the job's pid);
       one started with fds 3 and 4 closed registers on cairn's endpoint
       below (tree.c). */
    int lost = fd >= 3 && fcntl(fd, F_GETFD) < 0;
    if (fd < 3 || (!lost && !is_channel(fd)))
        return;
    void (*tls_info)(size_t *, size_t *) =
        (void (*)(size_t *, size_t *))dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info");
    size_t tls_size = 0, tls_align = 0;
    if (tls_info) {
        tls_info(&tls_size, &tls_align);
        if (tls_size > 0)
            tls_below = tls_size + tls_align;
    }
    rt_arch_init();
    /* libsodium picks its BLAKE2b code here, not in the writer child. */
    if (sodium_init() < 0)
        return;
    state = map_anon(sizeof *state);
    if (state) {
        state->image_fd = -1;
        /* A test hook (tests/transparent/cpu.sh): CAIRN_TEST_CPU_LEAF7_EDX=X
           claims CPUID 7's EDX bits X, as a job started on a machine that
           has them would (format/cpu_features.h). */
        const char *claim = getenv("CAIRN_TEST_CPU_LEAF7_EDX");
        if (claim)
            state->cpu.leaf7_edx = (uint32_t)strtoul(claim, NULL, 0);
        void *pd = mmap(NULL, CAIRN_PROC_MAX_PIPE_DATA + CAIRN_PROC_MAX_IPC_DATA,
                        PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        state->pipe_data = pd == MAP_FAILED ? NULL : pd;
    }
    rt_dirty_init(); /* without it (no memory, no userfaultfd) every image is full */
    /* The alternate stack between two guard pages, so that it is a mapping
       of its own (writer.c substitutes its copy for it). */
    unsigned char *guarded = map_anon(ALTSTACK_SIZE + 2 * 4096);
    void *copy = map_anon(ALTSTACK_SIZE);
    if (!state || !guarded || !copy)
        return;
    unsigned char *alt = guarded + 4096;
    mprotect(guarded, 4096, PROT_NONE);
    mprotect(alt + ALTSTACK_SIZE, 4096, PROT_NONE);
    state->alt_start = (uint64_t)(uintptr_t)alt;
    state->alt_size = ALTSTACK_SIZE;
    state->alt_copy = copy;
    stack_t ss = {.ss_sp = alt, .ss_size = ALTSTACK_SIZE};
    struct sigaction sa = {.sa_sigaction = on_checkpoint,
                           .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART};
    sigfillset(&sa.sa_mask);
    if (sigaltstack(&ss, NULL) < 0 || sigaction(CAIRN_CKPT_SIGNAL, &sa, NULL) < 0 ||
        rt_threads_init() < 0)
        return;
    /* Before rt_tree_init, which may replace the channel by one of this
       process's own making: the peer of the one cairn made is cairn. */
    /* The job runs in cairn's namespace if cairn, the peer of a socket
       cairn made, shows as pid 0: the registration socket (a channel may
       be one a process of the job made, tree.c), else the channel. */
    if (lost && rt_tree_rejoin(fd) < 0)
        return;
    const char *reg = getenv(CAIRN_REGISTER_ENV);
    int reg_fd = reg ? atoi(reg) : -1;
    struct ucred peer;
    socklen_t peer_len = sizeof peer;
    int probe = reg_fd > 2 && fcntl(reg_fd, F_GETFD) >= 0 ? reg_fd : fd;
    /* (A process that rejoined did so through its namespace's init.) */
    state->own_pidns = lost || (getsockopt(probe, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) == 0 &&
                                peer.pid == 0);
    control_fd = fd;
    if (rt_tree_init(&control_fd) < 0) {
        control_fd = -1;
        return;
    }
    /* SIGTERM/SIGINT: checkpoint, then stop (signals.c) */
    rt_signals_init(control_fd, state->own_pidns);
    /* The checkpoint signal waits until the answer is read: its handler
       reads the channel too. */
    uint64_t ckpt = 1ull << (CAIRN_CKPT_SIGNAL - 1), old = 0;
    rt_sigmask_raw(SIG_BLOCK, &ckpt, &old);
    send_number("HELLO ", (uint64_t)getpid());
    read_identity();
    /* Unblocked even if it came blocked: an exec blocks it (exec.c). */
    old &= ~ckpt;
    rt_sigmask_raw(SIG_SETMASK, &old, NULL);
}
