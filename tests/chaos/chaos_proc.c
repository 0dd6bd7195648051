/* SPDX-License-Identifier: MIT */
/*
 * chaos_proc.c — starting, reading and killing the chaos job.
 *
 * Modes disturb the job from the inside, without privileges:
 *  - JOB_NOCAPS drops every capability and sets SECBIT_NOROOT before exec,
 *    so that in the driver's user namespace (where the job is uid 0) file
 *    permissions apply to it: a store made read-only with chmod is
 *    read-only to the job, as it would be to an ordinary user.
 *  - JOB_EIO_FSYNC / JOB_EIO_WRITE install a seccomp filter that makes
 *    fsync/fdatasync (or pwrite to any fd above 2) fail with EIO: what a
 *    job sees when the disk reports errors. (A real failing device needs
 *    dm-flakey or fail_make_request, which are not available unprivileged.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/securebits.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos.h"

static int drop_caps(void)
{
    if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
                                     SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED) < 0)
        return -1;
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    return (int)syscall(SYS_capset, &h, d);
}

static int install_eio(int writes_too)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fsync, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fdatasync, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pwrite64, 2, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
        /* pwrite64: EIO for fds above 2 when asked to */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, writes_too ? SECCOMP_RET_ERRNO | EIO : SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void child(const struct chaos_cfg *cfg, const char *store, const char *out,
                  enum job_mode mode, int wfd, int rfd)
{
    char steps[32], kib[32];
    snprintf(steps, sizeof steps, "%u", cfg->steps);
    snprintf(kib, sizeof kib, "%u", cfg->state_kib);
    signal(SIGPIPE, SIG_DFL);
    dup2(wfd, STDOUT_FILENO);
    if (rfd >= 0) {
        dup2(rfd, STDIN_FILENO);
        setenv("CHAOS_PACE", "1", 1);
    } else {
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, STDIN_FILENO);
        unsetenv("CHAOS_PACE");
    }
    if (!cfg->verbose) {
        int nul = open("/dev/null", O_WRONLY);
        dup2(nul, STDERR_FILENO);
    }
    setenv("CAIRN_STEPS", "1", 1);
    setenv("CAIRN_QUIET", "1", 1);
    setenv("CAIRN_KEEP", "2", 1);
    unsetenv("CAIRN_INTERVAL");
    unsetenv("CAIRN_EXIT_CODE");
    int rc = 0;
    if (mode == JOB_NOCAPS || mode == JOB_EIO_FSYNC || mode == JOB_EIO_WRITE)
        rc = drop_caps();
    if (rc == 0 && (mode == JOB_EIO_FSYNC || mode == JOB_EIO_WRITE))
        rc = install_eio(mode == JOB_EIO_WRITE);
    if (rc < 0) {
        perror("chaos: preparing the job");
        _exit(4);
    }
    execl(cfg->job, cfg->job, store, out, steps, kib, (char *)NULL);
    perror("chaos: exec job");
    _exit(4);
}

int job_start(struct job_proc *p, const struct chaos_cfg *cfg, const char *store,
              const char *out, enum job_mode mode)
{
    int fds[2], ins[2] = {-1, -1};
    memset(p, 0, sizeof *p);
    p->restored_gen = -1;
    p->in = -1;
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    if (mode != JOB_PLAIN && pipe2(ins, O_CLOEXEC) < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    fflush(NULL);
    p->pid = fork();
    if (p->pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (p->pid == 0)
        child(cfg, store, out, mode, fds[1], ins[0]);
    close(fds[1]);
    if (ins[0] >= 0)
        close(ins[0]);
    p->out = fds[0];
    p->in = ins[1];
    return 0;
}

static void parse_line(struct job_proc *p, const char *l, struct chaos_counts *n)
{
    unsigned long long a, b;
    if (strcmp(l, "start fresh") == 0)
        p->restored_gen = 0;
    else if (sscanf(l, "start restored %llu %llu", &a, &b) == 2)
        p->restored_gen = (int64_t)a;
    else if (sscanf(l, "commit %llu", &a) == 1) {
        p->commits++;
        n->commits++;
    } else if (strncmp(l, "fail", 4) == 0) {
        p->fails++;
        n->failed_ckpts++;
    } else if (strncmp(l, "step ", 5) == 0) {
        p->waiting = p->in >= 0;
    } else if (strncmp(l, "done", 4) == 0)
        p->done = 1;
}

void job_ack(struct job_proc *p)
{
    if (p->waiting && p->in >= 0 && write(p->in, "g", 1) != 1) {
        close(p->in); /* the job is gone; it will not wait any more */
        p->in = -1;
    }
    p->waiting = 0;
}

int job_read(struct job_proc *p, struct chaos_counts *n)
{
    char buf[4096];
    ssize_t r = read(p->out, buf, sizeof buf);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (r == 0)
        return -1;
    for (ssize_t i = 0; i < r; i++) {
        if (buf[i] != '\n') {
            if (p->len < sizeof p->line - 1)
                p->line[p->len++] = buf[i];
            continue;
        }
        p->line[p->len] = '\0';
        parse_line(p, p->line, n);
        p->len = 0;
    }
    return 0;
}

int job_finish(struct job_proc *p, int kill_it, struct chaos_counts *n)
{
    int status = 0;
    if (kill_it) {
        kill(p->pid, SIGKILL);
        n->kills++;
    }
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
    }
    /* Lines written before death still count. */
    while (job_read(p, n) == 0) {
    }
    close(p->out);
    if (p->in >= 0)
        close(p->in);
    p->out = p->in = -1;
    return status;
}
