/* SPDX-License-Identifier: MIT */
/*
 * run_ns.c — `cairn run` starts the job in a pid namespace of its own, so
 * that a restored job has the same pid as before (docs/TRANSPARENT.md,
 * "Process identity").
 *
 *   cairn run ──► namespace init: pid 1 (this file, cairn's own code)
 *                    └──► the job: pid 2, or on restore the pid in the image
 *
 * cairn clones the init with CLONE_NEWPID|CLONE_NEWNS, plus CLONE_NEWUSER
 * unless it runs as root (root may create namespaces directly). In a new
 * user namespace the init maps the caller's own uid and gid to the same
 * ids inside (not to root), so the job sees the ids it always had; files
 * of other users show as owned by nobody (65534), access is unchanged.
 * The init mounts a fresh /proc (its mounts made slaves first, so nothing
 * leaks out), so /proc/self and /proc/PID agree with getpid(). It then
 * forks the job, or, for a restore, creates it with clone3(set_tid) at the
 * image's pid (needs CAP_SYS_ADMIN in the namespace's owning user
 * namespace, which the init has in its own).
 *
 * The init relays: cairn asks it on a socket to signal the job (the
 * checkpoint signal, SIGTERM, ...). Signals the init receives itself are
 * dropped: a terminal's SIGINT or a scheduler's SIGTERM to the whole process
 * group or cgroup reaches the job directly, and passing them on would
 * deliver them twice. It reaps the job and the writer children (the runtime's writer is
 * cloned with CLONE_PARENT, so it is the init's child); it reports the
 * job's exact wait status on a socket, since a namespace's init cannot die
 * of a signal to relay it. It lives until cairn closes that socket (after
 * a writer in flight has reported) or dies (PR_SET_PDEATHSIG): when it
 * exits, the kernel kills whatever is left in the namespace.
 *
 * If the kernel refuses the namespaces (user.max_user_namespaces=0,
 * kernel.unprivileged_userns_clone=0, ...), cairn says so in one line and
 * runs the job as its direct child, as without this file: a restored job
 * then gets a new pid. CAIRN_NO_NAMESPACE=1 asks for that silently.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn_image.h"
#include "control.h"
#include "process_format.h"
#include "run.h"
#include "run_ipc.h"

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

/* Messages from the init to cairn (one record each: SOCK_SEQPACKET). */
enum { MSG_READY = 1, MSG_FAILED, MSG_EXITED, MSG_SIGNAL /* cairn -> init */,
       MSG_IPC_FAILED /* the job's IPC objects could not be made again */,
       MSG_DIED /* another child (a writer) did not exit 0 */ };
struct init_msg {
    int32_t kind;
    int32_t value;   /* READY: the job's pid inside; FAILED: errno; EXITED, DIED:
                        wait status; SIGNAL: the signal to send */
    int32_t pid;     /* SIGNAL: to this process of the job (0: the job's first);
                        DIED: the child's */
};

static int status_fd = -1;   /* cairn's end of the init's socket */
static int endpoint_fd = -1; /* the job's registration endpoint (run_tree.c) */

/* The checkpoint signal goes to the job's main thread, which takes the
   checkpoint and parks the others (runtime/threads.c); any other signal to
   the whole process, as a scheduler would send it. */
static int signal_job(pid_t job, int sig)
{
    if (sig == CAIRN_CKPT_SIGNAL)
        return (int)syscall(SYS_tgkill, job, job, sig);
    return kill(job, sig);
}

static void say_pid(int fd, int kind, int value, pid_t pid)
{
    struct init_msg m = {kind, value, pid};
    ssize_t n;
    do
        n = send(fd, &m, sizeof m, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
}

static void say(int fd, int kind, int value)
{
    say_pid(fd, kind, value, 0);
}

/* READY, with the registration endpoint the init listens on (if any). */
static void say_ready(int fd, pid_t job, int endpoint)
{
    struct init_msg m = {MSG_READY, job, 0};
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {&m, sizeof m};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (endpoint >= 0) {
        mh.msg_control = u.b;
        mh.msg_controllen = sizeof u.b;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &endpoint, sizeof endpoint);
    }
    ssize_t n;
    do
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
}

/* ---- the init ------------------------------------------------------------- */

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    ssize_t n = write(fd, text, strlen(text));
    int err = n == (ssize_t)strlen(text) ? 0 : n < 0 ? errno : EIO;
    close(fd);
    return err;
}

/* Maps our own uid and gid to themselves (an unprivileged process may map
   exactly its own ids, after giving up setgroups). */
static int map_ids(uid_t uid, gid_t gid)
{
    char line[64];
    int err = write_file("/proc/self/setgroups", "deny");
    if (err && err != ENOENT)
        return err;
    snprintf(line, sizeof line, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if ((err = write_file("/proc/self/uid_map", line)))
        return err;
    snprintf(line, sizeof line, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    return write_file("/proc/self/gid_map", line);
}

/* A /proc of this pid namespace; a warning if it cannot be had. */
static void mount_proc(void)
{
    const char *what = "make the mounts private";
    int ok = mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == 0;
    if (ok) {
        what = "mount /proc";
        ok = mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0;
    }
    if (!ok)
        fprintf(stderr, "cairn run: warning: cannot %s in the job's namespace (%s): "
                        "its /proc/PID paths use outside pids\n", what, strerror(errno));
}

/* Lets the restorer point /proc/self/exe back at the job's program: the
   kernel wants CAP_CHECKPOINT_RESTORE in the job's user namespace, which
   the init has; an ambient capability survives the exec, and the restorer
   drops it before the job runs (restore/ident.c). */
static void lend_restore_cap(void)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0)
        return;
    d[CAP_CHECKPOINT_RESTORE / 32].inheritable |= 1u << (CAP_CHECKPOINT_RESTORE % 32);
    if (syscall(SYS_capset, &h, d) == 0)
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHECKPOINT_RESTORE, 0, 0);
}

/* The job: at pid `want` when restoring (if free), else the next pid. */
static pid_t start_job(struct run_ctx *r, const char *image, pid_t want, int userns)
{
    pid_t pid = -1;
    if (want > 1) {
        struct clone_args ca = {.exit_signal = SIGCHLD, .set_tid = (uintptr_t)&want,
                                .set_tid_size = 1};
        pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
        if (pid < 0)
            fprintf(stderr, "cairn run: warning: cannot give the restored job its pid %ld "
                            "back (%s): it gets another one\n", (long)want, strerror(errno));
    }
    if (pid < 0)
        pid = fork();
    if (pid == 0) {
        if (image && userns)
            lend_restore_cap();
        run_exec_job(r, image);
    }
    return pid;
}

/* Reaps every child; reports the job's end, and any other child's that
   did not exit 0 (a writer killed before its report: cli/run_writer.c). */
static void reap_all(pid_t *job, int fd)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        if (pid == *job) {
            say(fd, MSG_EXITED, st);
            *job = 0;
        } else if (st != 0) {
            say_pid(fd, MSG_DIED, st, pid);
        }
}

/* Closes every descriptor from 3 up but those of keep[] (-1s ignored). */
static void close_all_but(int *keep, size_t n)
{
    unsigned from = 3;
    for (;;) {
        int next = -1; /* the lowest kept fd >= from */
        for (size_t i = 0; i < n; i++)
            if (keep[i] >= (int)from && (next < 0 || keep[i] < next))
                next = keep[i];
        if (next < 0)
            break;
        if ((unsigned)next > from)
            close_range(from, (unsigned)next - 1, 0);
        from = (unsigned)next + 1;
    }
    close_range(from, ~0u, 0);
}

/* The job's IPC objects made again before its first process exists. */
static void restore_ipc(int fd)
{
    char why[512];
    if (run_ipc_restore(why, sizeof why) == 0)
        return;
    fprintf(stderr, "cairn run: cannot restore the job's IPC objects: %s\n", why);
    say(fd, MSG_IPC_FAILED, 0);
    _exit(125);
}

__attribute__((noreturn)) static void init_main(struct run_ctx *r, const char *image,
                                                pid_t want, int userns, uid_t uid,
                                                gid_t gid, int fd, int ipc_end)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int err = userns ? map_ids(uid, gid) : 0;
    if (err) {
        say(fd, MSG_FAILED, err);
        _exit(125);
    }
    mount_proc();
    int keep[4] = {fd, -1, -1, -1};
    if (ipc_end >= 0)
        run_ipc_child(ipc_end, keep + 2);
    if (image)
        restore_ipc(fd);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    int sfd = signalfd(-1, &all, SFD_CLOEXEC);
    /* Bound before the job starts, by pid 1 of its namespace: the runtime
       of a process that lost its fds trusts only that listener. cairn gets
       it with READY; the init's copy is closed below. */
    int endpoint = run_tree_endpoint_listen();
    pid_t job = sfd < 0 ? -1 : start_job(r, image, want, userns);
    if (job < 0) {
        say(fd, MSG_FAILED, errno);
        _exit(125);
    }
    say_ready(fd, job, endpoint);
    /* Keep stderr for messages and our two descriptors; the job's channel,
       stdio and cairn's store lock are not ours to hold. */
    keep[1] = sfd;
    close_all_but(keep, 4);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        close(null);
    }
    struct pollfd p[3] = {{sfd, POLLIN, 0}, {fd, POLLIN, 0}, {keep[2], POLLIN, 0}};
    for (;;) {
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            _exit(125);
        if (p[2].revents & POLLIN)
            run_ipc_serve(); /* every process of the job is stopped */
        struct init_msg m;
        if (p[1].revents) {
            ssize_t n = recv(fd, &m, sizeof m, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                _exit(0); /* cairn closed its end, or is gone */
            if (n == (ssize_t)sizeof m && m.kind == MSG_SIGNAL && m.pid > 1)
                signal_job(m.pid, m.value); /* another process of the job */
            else if (n == (ssize_t)sizeof m && m.kind == MSG_SIGNAL && job > 0)
                signal_job(job, m.value);
        }
        struct signalfd_siginfo si;
        if (p[0].revents && read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGCHLD)
            reap_all(&job, fd);
    }
}

/* ---- cairn's side --------------------------------------------------------- */

/* The pid recorded in the picked process image (0 if it has none). */
static pid_t image_pid(int fd)
{
    cairn_image_t *img = NULL;
    struct cairn_proc_task task;
    pid_t pid = 0;
    if (fd >= 0 && cairn_image_open_fd(&img, fd, NULL, 0) == 0) {
        int i = cairn_image_find(img, CAIRN_SEC_PROC_TASK, NULL);
        if (i >= 0 && cairn_image_read(img, (unsigned)i, &task, sizeof task) == 0 &&
            task.pid > 1 && task.pid < (1u << 22))
            pid = (pid_t)task.pid;
    }
    cairn_image_close(img);
    return pid;
}

static pid_t plain_fork(const char *why, int err)
{
    const char *hint = err == ENOSPC ? ": sysctl user.max_user_namespaces or "
                                       "user.max_pid_namespaces is 0?"
                       : err == EPERM ? ": kernel.unprivileged_userns_clone=0 or a "
                                        "security policy?"
                                      : "";
    if (why)
        fprintf(stderr, "cairn run: warning: %s (%s%s); the job runs without one, so a "
                        "restored job gets a new pid\n", why, strerror(err), hint);
    return fork();
}

/* The init's first message; READY brings the endpoint (endpoint_fd). */
static ssize_t recv_ready(int fd, struct init_msg *m)
{
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {m, sizeof *m};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                        .msg_controllen = sizeof u.b};
    ssize_t n;
    do
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
        cm->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(&endpoint_fd, CMSG_DATA(cm), sizeof endpoint_fd);
    return n;
}

pid_t run_ns_fork(struct run_ctx *r, const char *image)
{
    run_ns_close(); /* a previous attempt's (restore of an older generation) */
    const char *no = getenv("CAIRN_NO_NAMESPACE");
    if (no && *no && strcmp(no, "0") != 0)
        return plain_fork(NULL, 0);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return plain_fork("cannot create the job's namespace", errno);
    pid_t want = image ? image_pid(r->image_fd) : 0;
    uid_t uid = getuid();
    gid_t gid = getgid();
    int userns = geteuid() != 0;
    /* CLONE_NEWIPC: SysV objects and POSIX message queues the job makes are
       its own (and end with it); the init saves and restores them
       (run_ipc.c). */
    unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | SIGCHLD;
    int ipc_end = run_ipc_setup(image ? r->image_fd : -1);
    pid_t pid = (pid_t)syscall(SYS_clone, flags | (userns ? CLONE_NEWUSER : 0), 0, 0, 0, 0);
    if (pid < 0 && !userns && errno == EPERM) /* root without CAP_SYS_ADMIN */
        pid = (pid_t)syscall(SYS_clone, flags | CLONE_NEWUSER, 0, 0, 0, 0), userns = 1;
    if (pid == 0) {
        close(sv[0]);
        init_main(r, image, want, userns, uid, gid, sv[1], ipc_end);
    }
    int err = errno;
    close(sv[1]);
    run_ipc_parent(ipc_end);
    struct init_msg m = {0, 0, 0};
    if (pid > 0 && recv_ready(sv[0], &m) == (ssize_t)sizeof m && m.kind == MSG_READY) {
        status_fd = sv[0];
        r->root_pid = m.value;
        if (r->verbose)
            fprintf(stderr, "cairn: the job runs as pid %d in its own pid namespace\n",
                    m.value);
        return pid;
    }
    close(sv[0]);
    run_ipc_close();
    if (pid > 0) {
        waitpid(pid, NULL, 0);
        if (m.kind == MSG_IPC_FAILED) { /* said why */
            errno = ENOTRECOVERABLE;
            return -1;
        }
        err = m.kind == MSG_FAILED ? m.value : EPROTO;
    }
    return plain_fork("the kernel refuses a user and pid namespace for the job", err);
}

int run_ns_kill(pid_t job, int sig)
{
    if (status_fd < 0)
        return signal_job(job, sig);
    struct init_msg m = {MSG_SIGNAL, sig, 0};
    return send(status_fd, &m, sizeof m, MSG_NOSIGNAL) == (ssize_t)sizeof m ? 0 : -1;
}

int run_ns_kill_pid(pid_t pid, int sig)
{
    struct init_msg m = {MSG_SIGNAL, sig, pid};
    if (status_fd < 0)
        return -1;
    return send(status_fd, &m, sizeof m, MSG_NOSIGNAL) == (ssize_t)sizeof m ? 0 : -1;
}

int run_ns_status_fd(void)
{
    return status_fd;
}

int run_ns_job_status(int *st, pid_t *pid)
{
    struct init_msg m;
    ssize_t n = recv(status_fd, &m, sizeof m, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return -1;
    if (n == (ssize_t)sizeof m && (m.kind == MSG_EXITED || m.kind == MSG_DIED)) {
        *st = m.value;
        *pid = m.pid;
        return m.kind == MSG_EXITED ? 0 : 1;
    }
    if (n <= 0) /* the init is gone: its own exit will be reaped */
        run_ns_close();
    return -1;
}

int run_ns_endpoint_fd(void)
{
    return endpoint_fd;
}

void run_ns_close(void)
{
    run_ipc_close();
    if (status_fd >= 0)
        close(status_fd);
    status_fd = -1;
    if (endpoint_fd >= 0)
        close(endpoint_fd);
    endpoint_fd = -1;
}
