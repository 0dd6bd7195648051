/* SPDX-License-Identifier: MIT */
/*
 * tree.c — restoring a job of several processes (docs/TRANSPARENT.md,
 * "Process trees").
 *
 *   cairn-restore IMAGE_FD CONTROL_FD NAME KEEP_FDS REGISTER_FD
 *                 [PID FD[,PARENT_FD...]]...
 *
 * The restorer started by the namespace init restores the job's first
 * process; its image's tree section lists the others, whose checked
 * member images cairn run passes as open descriptors with their pids, and
 * for a member that is a delta image, its ancestors (its own images of
 * older generations, parent first, chain.c), each opened and checked by
 * cairn run through the store's descriptor.
 * Before anything changes, each restorer forks the processes whose parent
 * it is, with clone3 at their own pids (orphans, whose parent was the
 * init, are forked by the first with CLONE_PARENT, so the init is theirs
 * again). A child makes itself a session or group leader if it was one,
 * loads and checks its own image, and carries on as a restorer of that
 * image. A zombie exits at once with its recorded status, for its parent
 * to reap. Every process waits at two barriers in a page they all share:
 * once all images are checked (before the point of no return) and once
 * all are rebuilt (before any resumes); a restorer that fails marks the
 * page, and all of them end with its status, so cairn falls back to an
 * older generation as for a single process.
 */
#include "clone.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"
#include "tree.h"

#define NR_socketpair 53
#define NR_sendmsg 46
#define NR_clone3 435
#define NR_setsid 112
#define NR_setpgid 109
#define NR_futex 202
#define NR_sched_yield 24
#define NR_kill 62
#define NR_pipe2 293
#define NR_memfd_create 319
#define NR_waitid 247
#define NR_rt_sigtimedwait 128
#define F_SETPIPE_SZ 1031
#define SIGCHLD 17
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define MAP_SHARED_ANON 0x21 /* MAP_SHARED | MAP_ANONYMOUS */
#define MAP_FIXED_NOREPLACE 0x100000
#define F_SETOWN 8
#define BARRIER_PAGE R_TREE_PAGE

#define SHARED_SIZES 128 /* appended files whose sizes the restorers share */

struct barrier {
    volatile int arrived[2];
    volatile int failed; /* the exit status of the first that failed; 0: none */
    int lock;            /* of sizes[] */
    uint32_t nsizes;
    struct { uint64_t dev, ino, size; } sizes[SHARED_SIZES];
};
_Static_assert(sizeof(struct barrier) <= 4096, "the restorers share one page");

static unsigned char tree_bytes[CAIRN_PROC_TREE_MAX];
static uint64_t tree_len;
static const struct cairn_proc_member *members;
static uint64_t nmembers;
static long member_pid[CAIRN_PROC_MAX_MEMBERS], member_fd[CAIRN_PROC_MAX_MEMBERS];
static char *member_par[CAIRN_PROC_MAX_MEMBERS][CAIRN_PROC_MAX_CHAIN]; /* a delta's parents */
static long member_npar[CAIRN_PROC_MAX_MEMBERS];
static int nfds;
static long register_fd = -1;
static struct barrier *shared;
/* The tree's pipes, made by the first restorer before it forks, so that
   every process inherits both ends (and keeps those it had). */
static const struct cairn_proc_pipe *pipes;
static uint64_t npipes;
static long pipe_fd[CAIRN_PROC_MAX_PIPES][2];
static unsigned char pipe_data[CAIRN_PROC_MAX_PIPE_DATA];
/* The memory the processes share, as memfds made before the forks. */
static const struct cairn_proc_shm *shm;
static uint64_t nshm;
static long shm_fd[CAIRN_PROC_MAX_SHM];


static void on_exit_status(int status)
{
    if (shared && !shared->failed) {
        shared->failed = status;
        sys6(NR_futex, (long)&shared->arrived[0], FUTEX_WAKE, 1 << 30, 0, 0, 0);
        sys6(NR_futex, (long)&shared->arrived[1], FUTEX_WAKE, 1 << 30, 0, 0, 0);
    }
}

/* "FD[,PARENT_FD...]": a member image, and a delta's parents, parent
   first (chain.c), split in place. */
static int member_arg(int k, char *arg)
{
    char *at = arg;
    member_npar[k] = 0;
    for (; *at && *at != ','; at++)
        ;
    while (*at == ',') {
        *at++ = 0;
        if (member_npar[k] == CAIRN_PROC_MAX_CHAIN - 1)
            return -1;
        member_par[k][member_npar[k]++] = at;
        for (; *at && *at != ','; at++)
            ;
    }
    member_fd[k] = r_parse_dec(arg);
    return member_fd[k] < 0 ? -1 : 0;
}

int r_tree_args(int argc, char **argv)
{
    if (argc < 6)
        return 0;
    register_fd = r_parse_dec(argv[5]);
    for (int i = 6; i + 1 < argc && nfds < (int)CAIRN_PROC_MAX_MEMBERS; i += 2, nfds++) {
        member_pid[nfds] = r_parse_dec(argv[i]);
        if (member_pid[nfds] <= 1 || member_arg(nfds, argv[i + 1]) < 0)
            return -1;
    }
    return register_fd < 0 ? -1 : 0;
}

static int index_of(uint64_t pid)
{
    for (int i = 0; i < nfds; i++)
        if ((uint64_t)member_pid[i] == pid)
            return i;
    return -1;
}

static long fd_of(uint64_t pid)
{
    int i = index_of(pid);
    return i < 0 ? -1 : member_fd[i];
}

/* The image's tree section, if any (img loaded): 0, or -1/-2 (said why). */
static int read_tree(uint64_t *len, unsigned char *dst)
{
    *len = 0;
    if (!img.rec_tree.present)
        return 0;
    if (img.rec_tree.len < sizeof(struct cairn_proc_tree) || img.rec_tree.len > sizeof tree_bytes) {
        r_say("the image's process tree section has a wrong size", (char *)0);
        return -2;
    }
    int rc = r_read_record("process tree", &img.rec_tree, dst, sizeof tree_bytes);
    if (rc == 0)
        *len = img.rec_tree.len;
    return rc;
}

/* The pipes, each with the bytes it held (from the first process's
   image); 0, or -1/-2 (said why). */
static int make_pipes(uint64_t socket_bytes)
{
    uint64_t total = 0;
    for (uint64_t i = 0; i < npipes; i++)
        total += pipes[i].nbytes;
    if (total + socket_bytes != (img.rec_pipedata.present ? img.rec_pipedata.len : 0)) {
        r_say("the bytes in the job's pipes do not match its tree", (char *)0);
        return -2;
    }
    int rc = total + socket_bytes ? r_read_record("pipe data", &img.rec_pipedata, pipe_data,
                                                  sizeof pipe_data) : 0;
    if (rc < 0)
        return rc;
    if (r_objects_make(pipe_data + total) < 0) /* the sockets' bytes follow the pipes' */
        return -1;
    const unsigned char *p = pipe_data;
    for (uint64_t i = 0; i < npipes; i++) {
        int fds[2];
        long e = sys2(NR_pipe2, fds, 0);
        if (e < 0) {
            r_say("cannot make the job's pipes", (char *)0);
            return -1;
        }
        pipe_fd[i][0] = fds[0], pipe_fd[i][1] = fds[1];
        if (pipes[i].capacity > 4096 && pipes[i].nbytes > 0)
            sys3(NR_fcntl, fds[1], F_SETPIPE_SZ, pipes[i].capacity);
        for (uint64_t done = 0; done < pipes[i].nbytes;) {
            long n = sys3(NR_write, fds[1], p + done, pipes[i].nbytes - done);
            if (n <= 0) {
                r_say("cannot put the bytes back in the job's pipes", (char *)0);
                return -1;
            }
            done += (uint64_t)n;
        }
        p += pipes[i].nbytes;
    }
    return 0;
}

static int make_shm(void)
{
    for (uint64_t i = 0; i < nshm; i++) {
        long fd = sys2(NR_memfd_create, "cairn-shared", 0);
        long rc = fd < 0 ? fd : sys2(NR_ftruncate, fd, shm[i].size);
        if (rc < 0 || shm[i].size > CAIRN_PROC_TASK_TOP) {
            r_say("cannot make the job's shared memory", (char *)0);
            return -1;
        }
        shm_fd[i] = fd;
    }
    return 0;
}

int r_tree_load(long pid)
{
    int rc = read_tree(&tree_len, tree_bytes);
    if (rc < 0 || tree_len == 0)
        return rc;
    const struct cairn_proc_tree *t = (const void *)tree_bytes;
    members = (const void *)(tree_bytes + sizeof *t);
    nmembers = t->nmembers;
    npipes = t->npipes;
    nshm = t->nshm;
    uint64_t base = sizeof *t + nmembers * sizeof members[0] +
                    npipes * sizeof(struct cairn_proc_pipe) + nshm * sizeof(struct cairn_proc_shm);
    uint64_t socket_bytes = 0;
    if (nmembers < 1 || nmembers > CAIRN_PROC_MAX_MEMBERS || npipes > CAIRN_PROC_MAX_PIPES ||
        nshm > CAIRN_PROC_MAX_SHM || tree_len < base ||
        r_objects_parse(tree_bytes + base, tree_len - base, &socket_bytes) < 0 ||
        (long)members[0].pid != pid) {
        r_say("the image's process tree does not fit its process", (char *)0);
        return -2;
    }
    pipes = (const void *)(tree_bytes + sizeof *t + nmembers * sizeof members[0]);
    shm = (const void *)(pipes + npipes);
    if ((rc = make_pipes(socket_bytes)) < 0 || (rc = make_shm()) < 0)
        return rc;
    for (uint64_t i = 1; i < nmembers; i++)
        if (members[i].state == CAIRN_PROC_MEMBER_IMAGE && fd_of(members[i].pid) < 0) {
            r_say("cairn run gave no image for a process of the job", (char *)0);
            return -1;
        }
    long p = sys6(NR_mmap, (long)BARRIER_PAGE, 4096, 3, MAP_SHARED_ANON | MAP_FIXED_NOREPLACE,
                  -1, 0);
    if (p != (long)BARRIER_PAGE) {
        r_say("cannot map the processes' shared page", (char *)0);
        return -1;
    }
    shared = (struct barrier *)BARRIER_PAGE;
    r_exit_hook = on_exit_status;
    return 0;
}

/* A new channel to cairn for this process, at img.control_fd. */
static void register_channel(long pid)
{
    int sv[2];
    long rc = sys4(NR_socketpair, 1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0, sv);
    if (rc < 0)
        r_fail("socketpair", rc);
    char msg[32] = "NEW ", num[24];
    const char *digits = r_dec(num, (uint64_t)pid);
    memcpy(msg + 4, digits, strlen(digits) + 1);
    struct {
        uint64_t len;
        int level, type;
        int fd;
        int pad;
    } cm = {16 + sizeof(int), 1 /* SOL_SOCKET */, 1 /* SCM_RIGHTS */, sv[1], 0};
    struct {
        void *base;
        uint64_t len;
    } iov = {msg, strlen(msg)};
    struct {
        void *name;
        uint32_t namelen, pad;
        void *iov;
        uint64_t iovlen;
        void *control;
        uint64_t controllen;
        int flags, pad2;
    } mh = {0, 0, 0, &iov, 1, &cm, sizeof cm, 0, 0};
    rc = sys3(NR_sendmsg, register_fd, &mh, 0x4000 /* MSG_NOSIGNAL */);
    if (rc < 0)
        r_fail("cannot register with cairn run", rc);
    sys1(NR_close, sv[1]);
    img.control_fd = sv[0];
    sys3(NR_fcntl, sv[0], F_SETOWN, pid);
}

/* This process becomes member i: leader of its group or session if it
   was, its own image loaded and checked; a zombie exits now. */
static void become(uint64_t i, long root_fd)
{
    const struct cairn_proc_member *m = &members[i];
    if (m->sid == m->pid)
        sys0(NR_setsid);
    else if (m->pgid == m->pid)
        sys2(NR_setpgid, 0, 0);
    if (m->state == CAIRN_PROC_MEMBER_ZOMBIE) {
        /* Exits once all are checked, most likely while its parent still
           ignores SIGCHLD (before its signal actions are restored); counted
           at the second barrier without waiting there. */
        r_tree_barrier(0);
        __atomic_add_fetch(&shared->arrived[1], 1, __ATOMIC_SEQ_CST);
        sys6(NR_futex, (long)&shared->arrived[1], FUTEX_WAKE, 1 << 30, 0, 0, 0);
        int st = m->wstatus;
        r_exit_hook = 0; /* its status is the job's, not a failure */
        if ((st & 0x7f) == 0)
            r_exit((st >> 8) & 0xff);
        struct { uint64_t handler, flags, restorer, mask; } dfl = {0, 0, 0, 0};
        sys4(NR_rt_sigaction, st & 0x7f, &dfl, 0, 8);
        uint64_t none = 0;
        sys4(NR_rt_sigprocmask, 2 /* SIG_SETMASK */, &none, 0, 8);
        sys2(NR_kill, m->pid, st & 0x7f);
        r_exit(R_EXIT_FAILED);
    }
    /* The other members' images stay open for this one's own children
       (r_restore_files closes them); the first process's channel is its. */
    sys1(NR_close, root_fd);
    sys1(NR_close, img.control_fd);
    long fd = fd_of(m->pid);
    memset(&img, 0, sizeof img);
    register_channel((long)m->pid);
    int rc = r_load_image((int)fd, "a member image of the job");
    static unsigned char again[sizeof tree_bytes];
    uint64_t len = 0;
    if (rc == 0 && (rc = read_tree(&len, again)) == 0 &&
        (len != tree_len || memcmp(again, tree_bytes, len) != 0)) {
        r_say("a member image of the job is not of the same checkpoint", (char *)0);
        rc = -2;
    }
    int k = index_of(m->pid);
    if (rc == 0) /* a delta: its own parents (the first process's are not its) */
        rc = r_chain_load(member_npar[k], member_par[k], 0);
    if (rc < 0 || r_check_layout() < 0 || r_check_files() < 0)
        r_exit(rc == -2 ? R_EXIT_CORRUPT : R_EXIT_FAILED);
}

void r_tree_spawn(long root_fd)
{
    if (!nmembers)
        return;
    uint64_t self = members[0].pid;
    int root = 1;
    for (uint64_t i = 1; i < nmembers; i++) {
        const struct cairn_proc_member *m = &members[i];
        int orphan = root && m->ppid == 1;
        if (m->ppid != self && !orphan)
            continue;
        uint64_t tid = m->pid;
        struct clone_args a = {.flags = orphan ? CLONE_PARENT : 0, .exit_signal = SIGCHLD,
                                  .set_tid = (uint64_t)&tid, .set_tid_size = 1};
        long pid = sys2(NR_clone3, &a, sizeof a);
        if (pid < 0)
            r_fail("cannot create a process of the job at its pid", pid);
        if (pid == 0) {
            become(i, root_fd);
            self = m->pid;
            root = 0;
            i = 0; /* now its children */
        }
    }
}

/* The SIGCHLD of this process's zombies, which exit during the restore:
   their parent had had it before the checkpoint (or has it among the
   image's pending signals, queued again at the end), so this one is
   dropped. Waits until each is a zombie (waitid WNOWAIT, not reaped; the
   kernel signals before it shows one), then takes SIGCHLD, blocked, off the
   pending set; before the second barrier, so that no live child of the job
   can have exited yet. */
static void drop_zombies_sigchld(void)
{
    long self = sys0(NR_getpid), zombies = 0;
    for (uint64_t i = 1; i < nmembers; i++)
        if (members[i].state == CAIRN_PROC_MEMBER_ZOMBIE && (long)members[i].ppid == self) {
            unsigned char info[128];
            sys5(NR_waitid, 1 /* P_PID */, (long)members[i].pid, (long)info,
                 4 | 0x01000000 /* WEXITED | WNOWAIT */, 0);
            zombies++;
        }
    uint64_t chld = 1ull << (SIGCHLD - 1);
    struct { long sec, nsec; } zero = {0, 0};
    if (zombies)
        sys4(NR_rt_sigtimedwait, (long)&chld, 0, (long)&zero, 8);
}

static void sizes_lock(void)
{
    while (__atomic_exchange_n(&shared->lock, 1, __ATOMIC_ACQUIRE))
        sys0(NR_sched_yield);
}

static void sizes_unlock(void)
{
    __atomic_store_n(&shared->lock, 0, __ATOMIC_RELEASE);
}

void r_tree_publish_size(uint64_t dev, uint64_t ino, uint64_t size)
{
    if (!shared)
        return;
    sizes_lock();
    uint32_t i = 0;
    while (i < shared->nsizes && (shared->sizes[i].dev != dev || shared->sizes[i].ino != ino))
        i++;
    if (i == shared->nsizes && i < SHARED_SIZES) { /* more: each keeps its own */
        shared->sizes[i].dev = dev, shared->sizes[i].ino = ino, shared->sizes[i].size = size;
        shared->nsizes++;
    } else if (i < shared->nsizes && shared->sizes[i].size < size) {
        shared->sizes[i].size = size;
    }
    sizes_unlock();
}

uint64_t r_tree_file_size(uint64_t dev, uint64_t ino, uint64_t own)
{
    if (!shared)
        return own;
    uint64_t size = own;
    sizes_lock();
    for (uint32_t i = 0; i < shared->nsizes; i++)
        if (shared->sizes[i].dev == dev && shared->sizes[i].ino == ino && shared->sizes[i].size > size)
            size = shared->sizes[i].size;
    sizes_unlock();
    return size;
}

uint64_t r_tree_nprocs(void)
{
    return nmembers ? nmembers : 1;
}

void r_tree_barrier(int which)
{
    if (!shared)
        return;
    if (which == 1)
        drop_zombies_sigchld();
    __atomic_add_fetch(&shared->arrived[which], 1, __ATOMIC_SEQ_CST);
    sys6(NR_futex, (long)&shared->arrived[which], FUTEX_WAKE, 1 << 30, 0, 0, 0);
    for (;;) {
        int now = shared->arrived[which];
        if (shared->failed)
            r_exit(shared->failed);
        if ((uint64_t)now >= nmembers)
            return;
        sys6(NR_futex, (long)&shared->arrived[which], FUTEX_WAIT, now, 0, 0, 0);
    }
}

long r_tree_register_fd(void)
{
    return register_fd;
}

int r_tree_kept(long **fds, int max)
{
    int n = 0;
    if (register_fd >= 0 && n < max)
        fds[n++] = &register_fd;
    for (uint64_t i = 0; i < npipes && n + 2 <= max; i++) {
        fds[n++] = &pipe_fd[i][0];
        fds[n++] = &pipe_fd[i][1];
    }
    for (uint64_t i = 0; i < nshm && n < max; i++)
        fds[n++] = &shm_fd[i];
    return n + r_objects_kept(fds + n, max - n);
}

long r_tree_shm_fd(uint64_t index, uint64_t offset, uint64_t len)
{
    if (index >= nshm || offset > shm[index].size || len > shm[index].size - offset)
        return -1;
    return shm_fd[index];
}

long r_tree_pipe_end(uint64_t ino, int write_end)
{
    for (uint64_t i = 0; i < npipes; i++)
        if (pipes[i].ino == ino)
            return pipe_fd[i][write_end ? 1 : 0];
    return -1;
}

void r_tree_close_pipes(void)
{
    for (uint64_t i = 0; i < npipes; i++) {
        sys1(NR_close, pipe_fd[i][0]);
        sys1(NR_close, pipe_fd[i][1]);
    }
    for (uint64_t i = 0; i < nshm; i++)
        sys1(NR_close, shm_fd[i]);
    r_objects_close();
}
