/* SPDX-License-Identifier: MIT */
/*
 * state.c — restores the job's kernel-side state in the restorer: file
 * descriptors, mm fields, cwd, umask, limits, timers, signal actions, the
 * thread's name and its rseq registration.
 *
 * Re-rooting: files are reopened by their absolute path. When the job's
 * directory at the checkpoint no longer exists and the restore runs in
 * another directory (a scheduler such as HTCondor restarted the job in a
 * new sandbox, with the store and the files it writes copied there), paths
 * inside the old directory, and the cwd, are taken in the restorer's
 * directory instead, which is that of `cairn run`.
 */
#include "control.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"
#include "tree.h"

#define O_ACCMODE 03
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_NONBLOCK 04000
#define O_NOFOLLOW 0400000
#define F_GETFL 3
#define F_SETFL 4
#define S_IFMT 0170000
#define S_IFREG 0100000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define ELOOP 40
#define ENXIO 6
#define F_DUPFD 0
#define F_SETFD 2
#define PR_SET_NAME 15
#define PR_SET_MM 35
#define PR_SET_MM_MAP 14

struct kstat { /* x86_64 struct stat */
    uint64_t dev, ino, nlink;
    uint32_t mode, uid, gid, pad0;
    uint64_t rdev;
    int64_t size, blksize, blocks;
    uint64_t times[6], reserved[3];
};

/* Moves the descriptors the restorer keeps (the image, cairn's channel,
   the registration socket and the tree's pipes) above every number the job
   uses, then closes everything else but the stdio streams the job inherits
   from us. */
static void clear_fd_table(void)
{
    long top = (long)img.core.control_fd;
    for (uint64_t i = 0; i < img.core.nfiles; i++)
        if (img.files[i].fd > top)
            top = img.files[i].fd;
    if (top < CAIRN_REGISTER_FD_NUMBER)
        top = CAIRN_REGISTER_FD_NUMBER;
    long image = img.fd, ctl = img.control_fd;
    long *keep[3 + 2 * CAIRN_PROC_MAX_PIPES + CAIRN_PROC_MAX_SHM + CAIRN_PROC_MAX_OBJECTS] = {&image, &ctl};
    int n = 2 + r_tree_kept(keep + 2, (int)(sizeof keep / sizeof keep[0]) - 2);
    /* Each F_DUPFD takes the lowest free number above top, and the ones
       taken before stay open: the new numbers rise. */
    for (int i = 0; i < n; i++) {
        long moved = sys3(NR_fcntl, *keep[i], F_DUPFD, top + 1);
        if (moved < 0)
            r_fail("cannot move the restorer's descriptors", moved);
        *keep[i] = moved;
    }
    /* The restoring cairn's fds 0-2 that the job takes over, each on
       the number its record names (dup_of, or its own: a 2>&1 in the job). */
    for (uint64_t i = 0; i < img.core.nfiles; i++) {
        const struct cairn_proc_file *f = &img.files[i];
        if (f->kind == CAIRN_FD_INHERIT && f->dup_of >= 0 && f->dup_of <= 2 &&
            f->dup_of != f->fd)
            sys2(NR_dup2, f->dup_of, f->fd); /* fd <= 2 (proc_check); */
    }
    for (int std = 0; std <= 2; std++) {
        int inherit = 0;
        for (uint64_t i = 0; i < img.core.nfiles; i++)
            inherit |= img.files[i].fd == std && img.files[i].kind == CAIRN_FD_INHERIT;
        if (!inherit)
            sys1(NR_close, std);
    }
    long last = 2; /* every other descriptor goes, the originals too */
    for (int i = 0; i < n; i++) {
        if (*keep[i] > last + 1)
            sys3(NR_close_range, last + 1, *keep[i] - 1, 0);
        last = *keep[i];
    }
    sys3(NR_close_range, last + 1, ~0u, 0);
    img.fd = (int)image;
    img.control_fd = (int)ctl;
}

static struct {
    char old[CAIRN_PROC_PATH_MAX], new[CAIRN_PROC_PATH_MAX], buf[CAIRN_PROC_PATH_MAX];
    size_t old_len; /* 0: no re-rooting */
} rr;

/* Decides whether to re-root: the old cwd is gone and ours differs. */
static void reroot_init(void)
{
    const char *old = img.core.cwd;
    size_t n = strlen(old);
    if (n < 2 || n >= sizeof rr.old || sys2(NR_access, old, 0 /* F_OK */) == 0)
        return;
    if (sys2(NR_getcwd, rr.new, sizeof rr.new) <= 0 || rr.new[0] != '/' || r_streq(rr.new, old))
        return;
    memcpy(rr.old, old, n + 1);
    rr.old_len = n;
    r_say("the job's directory ", old, " is gone: its files are taken in ", rr.new, (char *)0);
}

/* path, or its re-rooted version (in a static buffer, valid until the next call). */
static const char *reroot(const char *path)
{
    size_t n = rr.old_len, m = strlen(rr.new);
    if (!n || !r_startswith(path, rr.old) || (path[n] != '/' && path[n] != 0))
        return path;
    size_t rest = strlen(path + n);
    if (m + rest >= sizeof rr.buf)
        return path;
    memcpy(rr.buf, rr.new, m);
    memcpy(rr.buf + m, path + n, rest + 1);
    return rr.buf;
}

/*
 * Reopening the job's files safely. Each is opened without following a
 * symbolic link in its last component and without blocking (a FIFO planted
 * where a file was must not hang the restore), and used only if it is still
 * the same kind of object (regular file, directory, character device). A
 * file the job writes to, which the restore may cut back to its length at
 * the checkpoint, must also have the same owner as then (images that record
 * it). A file replaced by another of the same kind and owner is used: that
 * is what a restart in a new sandbox looks like, the store and the job's
 * files copied there. r_check_files does all this before the restorer
 * changes anything, so a refusal leaves the job restorable once the file is
 * put right, and its message reaches cairn run's stderr; reopen() checks
 * again, since the file may have changed in between.
 */

/* Opens f's file as the checks require: the fd, or a negative errno. */
static long open_checked(const struct cairn_proc_file *f, const char *path)
{
    uint32_t flags = (f->open_flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOFOLLOW | O_NONBLOCK;
    return sys3(NR_open, path, flags, 0);
}

/* Why the open file is not the one recorded, or NULL; *st is its fstat. */
static const char *mismatch(const struct cairn_proc_file *f, uint64_t i, long fd,
                            struct kstat *st)
{
    if (sys2(NR_fstat, fd, st) < 0)
        return "cannot be examined";
    const struct kstat sb = *st;
    uint32_t type = sb.mode & S_IFMT;
    if (f->kind == CAIRN_FD_DEVICE)
        return type == S_IFCHR ? 0 : "is no longer a character device";
    if (type != S_IFREG && type != S_IFDIR)
        return "is no longer a regular file or a directory (a FIFO, socket or device "
               "now stands there)";
    if (!img.have_fileid)
        return 0;
    const struct cairn_proc_fileid *id = &img.fileid[i];
    if (type != (id->mode & S_IFMT))
        return type == S_IFDIR ? "was a file and is now a directory"
                               : "was a directory and is now a file";
    if ((f->open_flags & O_ACCMODE) != 0 && sb.uid != id->uid)
        return "has another owner than at the checkpoint: it may be another user's file, "
               "which the restore would write to";
    return 0;
}

/* Says why file i cannot be reopened, naming it. */
static void refuse_file(const char *path, const char *why, long err)
{
    char a[24];
    if (err == -ELOOP)
        why = "is now a symbolic link (never followed when reopening)";
    else if (err == -ENXIO) /* a FIFO without a reader, or a socket */
        why = "is no longer a regular file (a FIFO or socket now stands there)";
    if (why)
        r_say("refusing to restore: ", path, " ", why, (char *)0);
    else
        r_say("refusing to restore: cannot reopen ", path, " (errno ",
              r_dec(a, (uint64_t)-err), ")", (char *)0);
}

int r_check_files(void)
{
    reroot_init();
    for (uint64_t i = 0; i < img.core.nfiles; i++) {
        const struct cairn_proc_file *f = &img.files[i];
        if (f->kind != CAIRN_FD_FILE && f->kind != CAIRN_FD_DEVICE)
            continue;
        const char *path = reroot(f->path);
        long fd = open_checked(f, path);
        struct kstat sb;
        const char *why = fd < 0 ? 0 : mismatch(f, i, fd, &sb);
        if (fd >= 0 && !why && f->kind == CAIRN_FD_FILE && (f->flags & CAIRN_FILEF_APPENDING) &&
            (sb.mode & S_IFMT) == S_IFREG)
            r_tree_publish_size(sb.dev, sb.ino, f->size); /* before the first barrier */
        if (fd >= 0)
            sys1(NR_close, fd);
        if (fd < 0 || why) {
            refuse_file(path, why, fd);
            return -1;
        }
    }
    return 0;
}

/* Appended files another process is writing (cairn run's run_shared.c
   found them): not cut back. A bitmap of fds below 1024. */
static uint64_t keep_fds[16];

void r_keep_fds(const char *list)
{
    while (*list) {
        uint64_t fd = 0;
        for (; *list >= '0' && *list <= '9'; list++)
            fd = fd * 10 + (uint64_t)(*list - '0');
        if (fd < 1024)
            keep_fds[fd / 64] |= 1ull << (fd % 64);
        while (*list && *list != ',')
            list++;
        if (*list == ',')
            list++;
    }
}

static int kept(int32_t fd)
{
    return fd >= 0 && fd < 1024 && (keep_fds[fd / 64] >> (fd % 64) & 1);
}

/* Reopens a regular file or device, rolling back a file the job was
   appending to (unless another process writes it too), and warning about
   one that is now shorter. */
static void reopen(const struct cairn_proc_file *f, uint64_t i)
{
    char a[24], b[24];
    const char *path = reroot(f->path);
    long fd = open_checked(f, path);
    struct kstat sb;
    const char *why = fd < 0 ? 0 : mismatch(f, i, fd, &sb);
    if (fd < 0 || why) {
        refuse_file(path, why ? why : "changed while the restore ran", fd);
        r_fail(path, fd < 0 ? fd : -1);
    }
    sys3(NR_fcntl, fd, F_SETFL, f->open_flags); /* O_NONBLOCK only as the job had it */
    if (f->kind == CAIRN_FD_FILE && (sb.mode & S_IFMT) == S_IFREG) { /* sb: mismatch's */
        /* Shared with other processes of the job: the largest size any
           of them recorded (tree.h), not this one's. */
        uint64_t size = f->flags & CAIRN_FILEF_APPENDING ? r_tree_file_size(sb.dev, sb.ino, f->size)
                                                        : f->size;
        if ((uint64_t)sb.size < size)
            r_say("warning: ", path, " is shorter (", r_dec(a, (uint64_t)sb.size),
                  " bytes) than at the checkpoint (", r_dec(b, size),
                  " bytes): it was truncated or re-created since", (char *)0);
        else if ((uint64_t)sb.size > size && (f->flags & CAIRN_FILEF_APPENDING) && kept(f->fd))
            r_say("warning: ", path, " holds ", r_dec(a, (uint64_t)sb.size - size),
                  " bytes more than at the checkpoint and another process is writing it: "
                  "kept, not cut back (what the job wrote after the checkpoint may appear "
                  "twice in it)", (char *)0);
        else if ((uint64_t)sb.size > size && (f->flags & CAIRN_FILEF_APPENDING))
            sys2(NR_ftruncate, fd, size);
    }
    if (fd != f->fd) {
        long rc = sys2(NR_dup2, fd, f->fd);
        sys1(NR_close, fd);
        if (rc < 0)
            r_fail(path, rc);
    }
    if (f->kind == CAIRN_FD_FILE)
        sys3(NR_lseek, f->fd, f->offset, 0);
}

/* A pipe end of the tree's at the record's number, with its flags. */
static void place_pipe(const struct cairn_proc_file *f)
{
    long end = r_tree_pipe_end(f->offset, (f->open_flags & 3) != 0 /* O_RDONLY */);
    long rc = end < 0 ? -9 : sys2(NR_dup2, end, f->fd);
    if (rc < 0)
        r_fail("cannot give back a pipe of the job", rc);
    sys3(NR_fcntl, f->fd, F_SETFL, f->open_flags & 04000 /* O_NONBLOCK */);
}

/* The job's registration socket back at its number (format/control.h),
   unless the job's own files have it (an image of an older cairn). */
static void place_register_fd(void)
{
    long reg = r_tree_register_fd();
    int taken = img.core.control_fd == CAIRN_REGISTER_FD_NUMBER;
    for (uint64_t i = 0; i < img.core.nfiles; i++)
        taken |= img.files[i].fd == CAIRN_REGISTER_FD_NUMBER;
    if (reg >= 0 && !taken)
        sys2(NR_dup2, reg, CAIRN_REGISTER_FD_NUMBER);
    if (reg >= 0 && reg != CAIRN_REGISTER_FD_NUMBER)
        sys1(NR_close, reg);
}

void r_restore_files(void)
{
    clear_fd_table(); /* r_check_files decided on re-rooting, while stderr was open */
    for (uint64_t i = 0; i < img.core.nfiles; i++)
        if (img.files[i].kind == CAIRN_FD_FILE || img.files[i].kind == CAIRN_FD_DEVICE)
            reopen(&img.files[i], i);
    for (uint64_t i = 0; i < img.core.nfiles; i++)
        if (img.files[i].kind == CAIRN_FD_PIPE)
            place_pipe(&img.files[i]);
        else if (img.files[i].kind == CAIRN_FD_MQUEUE)
            r_mq_restore(&img.files[i]);
    for (uint64_t i = 0; i < img.core.nfiles; i++)
        if (img.files[i].kind >= CAIRN_FD_EVENTFD && img.files[i].kind <= CAIRN_FD_UNIX)
            r_objects_place(&img.files[i], r_ident_pid());
    for (uint64_t i = 0; i < img.core.nfiles; i++)
        if (img.files[i].kind == CAIRN_FD_DUP)
            sys2(NR_dup2, img.files[i].dup_of, img.files[i].fd);
    for (uint64_t i = 0; i < img.core.nfiles; i++)
        if (img.files[i].kind == CAIRN_FD_EPOLL)
            r_epoll_restore(&img.files[i]);
    for (uint64_t i = 0; i < img.core.nfiles; i++)
        sys3(NR_fcntl, img.files[i].fd, F_SETFD, img.files[i].fd_flags);
    long rc = sys2(NR_dup2, img.control_fd, img.core.control_fd);
    if (rc < 0)
        r_fail("cannot place the control channel", rc);
    sys3(NR_fcntl, img.core.control_fd, F_SETFD, 0); /* as cairn run gave it */
    sys1(NR_close, img.control_fd);
    img.control_fd = (int)img.core.control_fd;
    place_register_fd();
    r_tree_close_pipes();
}

struct prctl_mm_map {
    uint64_t start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
    uint64_t *auxv;
    uint32_t auxv_size;
    uint32_t exe_fd;
};

static void restore_mm(void)
{
    const struct cairn_proc_core *c = &img.core;
    static uint64_t auxv[CAIRN_PROC_AUXV_WORDS];
    memcpy(auxv, c->auxv, sizeof auxv);
    struct prctl_mm_map m = {
        c->start_code, c->end_code, c->start_data, c->end_data, c->start_brk, c->brk,
        c->start_stack, c->arg_start, c->arg_end, c->env_start, c->env_end,
        auxv, (uint32_t)(c->auxv_words * 8), ~0u};
    long exe = r_ident_exe_fd();
    long rc = -1;
    if (exe >= 0) { /* /proc/self/exe back to the job's program (ident.c) */
        m.exe_fd = (uint32_t)exe;
        rc = sys5(NR_prctl, PR_SET_MM, PR_SET_MM_MAP, &m, sizeof m, 0);
        sys1(NR_close, exe);
        m.exe_fd = ~0u;
    }
    if (rc < 0) /* not allowed here (no namespace): keep cairn-restore */
        rc = sys5(NR_prctl, PR_SET_MM, PR_SET_MM_MAP, &m, sizeof m, 0);
    if (rc < 0)
        r_fail("prctl(PR_SET_MM_MAP) refused the job's mm fields", rc);
}

static void restore_signals_and_timers(void)
{
    const struct cairn_proc_core *c = &img.core;
    for (unsigned sig = 1; sig <= CAIRN_PROC_NSIG; sig++)
        if (sig != 9 && sig != 19)
            sys4(NR_rt_sigaction, sig, &c->act[sig - 1], 0, 8);
    for (int t = 0; t < 3; t++) {
        const struct cairn_proc_itimer *it = &c->itimer[t];
        long v[4] = {(long)(it->interval_us / 1000000), (long)(it->interval_us % 1000000),
                     (long)(it->value_us / 1000000), (long)(it->value_us % 1000000)};
        if (it->value_us)
            sys3(NR_setitimer, t, v, 0);
    }
}

void r_restore_process(void)
{
    const struct cairn_proc_core *c = &img.core;
    restore_mm();
    if (c->cwd[0] && sys1(NR_chdir, reroot(c->cwd)) < 0)
        r_say("warning: cannot enter the job's directory ", c->cwd, (char *)0);
    sys1(NR_umask, c->umask);
    for (unsigned r = 0; r < CAIRN_PROC_NRLIMIT; r++) {
        uint64_t lim[2] = {c->rlim_cur[r], c->rlim_max[r]};
        sys4(NR_prlimit64, 0, r, lim, 0); /* a higher hard limit stays lower */
    }
    restore_signals_and_timers();
    sys5(NR_prctl, PR_SET_NAME, c->comm, 0, 0, 0);
    if (c->rseq_addr) {
        long rc = sys4(NR_rseq, c->rseq_addr, c->rseq_len, 0, c->rseq_sig);
        if (rc < 0)
            r_fail("cannot register rseq", rc);
    }
}
