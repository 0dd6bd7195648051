/* SPDX-License-Identifier: MIT */
/*
 * run_exec.c — what the job's process runs last in cairn: the descriptors
 * it keeps, then exec of PROG with the runtime preloaded, or of
 * cairn-restore on the image. Called in the child that becomes the job,
 * directly (run_start.c) or under the pid namespace's init (run_ns.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "run.h"

#ifndef CAIRN_LIBEXEC /* set by cli/CMakeLists.txt from the install dirs */
#define CAIRN_LIBEXEC "../libexec/cairn"
#endif

/* A companion of the running cairn executable (the restorer, the runtime):
   $env if set, else the first of these that exists, from cairn's directory:
     CAIRN_LIBEXEC/name  as installed: bin/../libexec/cairn/ (or an absolute
                         libexec directory the build was configured with)
     name                beside cairn: a flat copy of the three files, as in
                         an HTCondor sandbox; the build tree's restorer
     ../lib/name         the build tree's runtime (build/lib/)
   If none exists, the installed path, for the error message. */
static void companion(const char *env, const char *name, char *out, size_t len)
{
    const char *o = getenv(env);
    if (o && *o) {
        snprintf(out, len, "%s", o);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n < 0 ? 0 : n] = 0;
    const char *dir = dirname(exe);
    /* The last entry repeats the first: the path reported when none exists. */
    const char *const where[] = {CAIRN_LIBEXEC "/", "", "../lib/", CAIRN_LIBEXEC "/"};
    for (size_t i = 0; i < sizeof where / sizeof *where; i++) {
        int rooted = where[i][0] == '/';
        snprintf(out, len, "%s%s%s%s", rooted ? "" : dir, rooted ? "" : "/", where[i], name);
        if (access(out, F_OK) == 0)
            return;
    }
}

/* path is an x86_64 ELF file of type `type` (ET_DYN, ET_EXEC) we can read. */
static int is_elf_of_type(const char *path, unsigned type)
{
    unsigned char h[20];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int ok = fd >= 0 && pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h &&
             !memcmp(h, "\177ELF", 4) && h[4] == 2 /* 64-bit */ && h[5] == 1 /* LE */ &&
             (unsigned)(h[16] | h[17] << 8) == type && (h[18] | h[19] << 8) == 62 /* x86_64 */;
    if (fd >= 0)
        close(fd);
    return ok;
}

int run_companions_ok(int restoring, char *why, size_t len)
{
    char path[PATH_MAX];
    if (restoring) {
        companion("CAIRN_RESTORER", "cairn-restore", path, sizeof path);
        if (access(path, X_OK) == 0) /* CAIRN_RESTORER may name a wrapper (tests do) */
            return 1;
        snprintf(why, len, "cairn's restorer %s is missing or not executable: the job cannot "
                 "be restored (install cairn whole, or set CAIRN_RESTORER)", path);
        return 0;
    }
    companion("CAIRN_RUNTIME_LIB", "libcairn-runtime.so", path, sizeof path);
    if (is_elf_of_type(path, 3 /* ET_DYN */))
        return 1;
    snprintf(why, len, "cairn's runtime %s is missing or not an x86_64 library: the job would "
             "run unprotected, so it is not started (install cairn whole, or set "
             "CAIRN_RUNTIME_LIB)", path);
    return 0;
}

/* The image the restorer reads, at IMAGE_FD, and those of the job's other
   processes after it (a process tree, run_tree.c). */
#define IMAGE_FD 5

void run_exec_job(struct run_ctx *r, const char *image)
{
    /* The signal mask cairn run was started with (nohup, a batch
       system's starter may block some): as the job would have had it. */
    sigprocmask(SIG_SETMASK, &r->job_mask, NULL);
    /* The job does not outlive its cairn (or its namespace's init): with
       cairn killed, a rerun would otherwise restore a second copy of a job
       that still runs, both writing the same output. */
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(125);
    /* The job gets stdin/out/err and the control channel as fd 3, nothing
       else: descriptors cairn inherited (pipes of a batch system...) would
       make the job impossible to checkpoint. The restorer also gets the
       checked image as fd 4: it reads that open file, not a path. */
    int fd = RUN_JOB_CONTROL_FD, img = -1, high[CAIRN_PROC_MAX_MEMBERS];
    if (image) {
        run_chain_stash(r); /* a delta's parents, placed after the members' images */
        run_chain_member_stash(r, IMAGE_FD + 1 + (int)r->nmember_fds + (int)r->chain.nfds);
    }
    int ctl = fcntl(r->job_ctl, F_DUPFD_CLOEXEC, 10), reg = fcntl(r->job_reg, F_DUPFD_CLOEXEC, 10);
    if (ctl < 0 || reg < 0 || (image && (img = fcntl(r->image_fd, F_DUPFD_CLOEXEC, 10)) < 0))
        _exit(125);
    for (size_t i = 0; image && i < r->nmember_fds; i++)
        if ((high[i] = fcntl(r->member_fd[i], F_DUPFD_CLOEXEC, 10)) < 0)
            _exit(125);
    /* Committed output: the job's stdout/stderr are pipes to cairn run
       (run_output.c); a restored job takes the restorer's fds 1/2 over.
       First, before fds 3 and 4 are given their own. */
    if (run_output_child(r) < 0)
        _exit(125);
    if (dup2(ctl, fd) < 0 || dup2(reg, RUN_JOB_REGISTER_FD) < 0)
        _exit(125);
    if (image && dup2(img, IMAGE_FD) < 0)
        _exit(125);
    size_t nm = image ? r->nmember_fds : 0;
    for (size_t i = 0; i < nm; i++)
        if (dup2(high[i], IMAGE_FD + 1 + (int)i) < 0)
            _exit(125);
    char parents[CAIRN_PROC_MAX_CHAIN][16];
    unsigned nparents = image ? run_chain_place(r, IMAGE_FD + 1 + (int)nm, parents) : 0;
    /* A delta member's parents after those: "FD,PARENT_FD..." (restore/tree.c). */
    static char nums[2 * CAIRN_PROC_MAX_MEMBERS][16 + 12 * CAIRN_PROC_MAX_CHAIN];
    int next = IMAGE_FD + 1 + (int)nm + (int)nparents;
    for (size_t i = 0; i < nm; i++) {
        snprintf(nums[2 * i], sizeof nums[0], "%d", (int)r->member_pid[i]);
        snprintf(nums[2 * i + 1], sizeof nums[0], "%d", IMAGE_FD + 1 + (int)i);
        run_chain_member_place(r, i, &next, nums[2 * i + 1], sizeof nums[0]);
    }
    close_range(image ? (unsigned)next : RUN_JOB_REGISTER_FD + 1, ~0u, 0);
    char fdstr[16], imgstr[16], regstr[16], path[PATH_MAX];
    snprintf(fdstr, sizeof fdstr, "%d", fd);
    snprintf(imgstr, sizeof imgstr, "%d", IMAGE_FD);
    snprintf(regstr, sizeof regstr, "%d", RUN_JOB_REGISTER_FD);
    if (image) {
        companion("CAIRN_RESTORER", "cairn-restore", path, sizeof path);
        /* cairn-restore IMAGE_FD CONTROL_FD NAME KEEP_FDS REGISTER_FD
           [PID FD[,PARENT_FD...]]... [-- PARENT_FD...], a delta's parents
           parent first */
        char *args[8 + 2 * CAIRN_PROC_MAX_MEMBERS + CAIRN_PROC_MAX_CHAIN];
        size_t a = 0;
        args[a++] = "cairn-restore";
        args[a++] = imgstr;
        args[a++] = fdstr;
        args[a++] = (char *)image;
        args[a++] = r->keep_fds[0] ? r->keep_fds : "-";
        args[a++] = regstr;
        for (size_t i = 0; i < nm; i++) {
            args[a++] = nums[2 * i];
            args[a++] = nums[2 * i + 1];
        }
        if (nparents)
            args[a++] = "--";
        for (unsigned i = 0; i < nparents; i++)
            args[a++] = parents[i];
        args[a] = NULL;
        execv(path, args);
        fprintf(stderr, "cairn run: cannot execute the restorer %s: %s\n", path, strerror(errno));
        _exit(125);
    }
    companion("CAIRN_RUNTIME_LIB", "libcairn-runtime.so", path, sizeof path);
    const char *old = getenv("LD_PRELOAD");
    char preload[2 * PATH_MAX];
    snprintf(preload, sizeof preload, "%s%s%s", path, old && *old ? ":" : "", old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    setenv(CAIRN_CONTROL_ENV, fdstr, 1);
    setenv(CAIRN_REGISTER_ENV, regstr, 1);
    execvp(r->prog_argv[0], r->prog_argv);
    int e = errno;
    fprintf(stderr, "cairn run: cannot execute %s: %s\n", r->prog_argv[0], strerror(e));
    _exit(e == ENOENT ? RUN_EXIT_NOT_FOUND : RUN_EXIT_CANNOT_CHECKPOINT);
}
