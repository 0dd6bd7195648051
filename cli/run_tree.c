/* SPDX-License-Identifier: MIT */
/*
 * run_tree.c — a job of several processes (docs/TRANSPARENT.md, "Process
 * trees"): every process of the job's pid namespace is checkpointed at the
 * same moment, each into an image of its own, committed as one generation.
 *
 * Each process has its own channel, which its runtime registers on the
 * registration socket, or, having lost fds 3 and 4, on the job's endpoint
 * (format/control.h), where only a process of the job is accepted. A checkpoint asks every live
 * process, signals each, and waits until all are STOPPED; it then lists
 * the namespace again, and if it holds exactly the processes it asked (no
 * new one, none without cairn's runtime), says GO to all with the tree
 * section (who is whose parent, zombies and their status), else ABORT. The
 * generation is committed once every writer reported DONE: member files
 * first, then the generation's own file (lib/store_members.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cairn_time.h"
#include "cli.h"
#include "control.h"
#include "run.h"
#include "run_ipc.h"
#include "run_sock.h"

/* ---- the namespace's processes, from /proc --------------------------------- */

/* Fields of /proc/H/status: the innermost NSpid, PPid (cairn's view),
   State; of /proc/H/stat: process group, session, exit code (cairn's
   view); the name. */
static int read_node(long host, struct run_node *n)
{
    char path[64], line[512];
    memset(n, 0, sizeof *n);
    n->host = host;
    snprintf(path, sizeof path, "/proc/%ld/status", host);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "NSpid:", 6)) {
            char *last = strrchr(line, '\t');
            n->pid = last ? atol(last + 1) : 0;
        } else if (!strncmp(line, "PPid:", 5)) {
            n->host_ppid = atol(line + 5);
        } else if (!strncmp(line, "State:", 6)) {
            n->zombie = strchr(line + 6, 'Z') != NULL;
        } else if (!strncmp(line, "Name:", 5)) {
            snprintf(n->comm, sizeof n->comm, "%.31s", line + 6);
            n->comm[strcspn(n->comm, "\n")] = 0;
        }
    }
    fclose(f);
    snprintf(path, sizeof path, "/proc/%ld/stat", host);
    f = fopen(path, "re");
    if (!f)
        return -1;
    char buf[1024];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    char *p = strrchr(buf, ')'); /* the name may hold anything but not after ')' */
    long v[60] = {0};
    int k = 0;
    for (p = p ? p + 2 : NULL; p && *p && k < 60; k++) {
        if (k == 0) /* state */
            p += 2;
        else
            v[k] = strtol(p, &p, 10), p += *p == ' ';
    }
    n->host_pgid = v[2];
    n->host_sid = v[3];
    n->wstatus = k > 49 ? (int)v[49] : 0;
    return n->pid > 0 ? 0 : -1;
}

/* Appends host's children (of every thread) to the list. */
static void add_children(long host, long *list, size_t *n, size_t max)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", host);
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char kids[320];
        snprintf(kids, sizeof kids, "/proc/%ld/task/%s/children", host, e->d_name);
        FILE *f = fopen(kids, "re");
        long c;
        while (f && *n < max && fscanf(f, "%ld", &c) == 1)
            list[(*n)++] = c;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
}

static pid_t inner(const struct run_node *nodes, size_t n, long host)
{
    for (size_t i = 0; i < n; i++)
        if (nodes[i].host == host)
            return nodes[i].pid;
    return 0;
}

int run_tree_list(const struct run_ctx *r, struct run_node *nodes, size_t max, size_t *count)
{
    long hosts[CAIRN_PROC_MAX_MEMBERS * 4];
    size_t nh = 0, n = 0;
    *count = 0;
    add_children((long)r->job, hosts, &nh, sizeof hosts / sizeof hosts[0]);
    for (size_t i = 0; i < nh; i++) {
        struct run_node node;
        if (read_node(hosts[i], &node) < 0)
            continue; /* gone meanwhile */
        /* The init's zombie children are writers it has yet to reap; live
           ones are writers still ending, or orphans of the job. */
        if (node.host_ppid == (long)r->job && (node.zombie || !strcmp(node.comm, RT_WRITER_NAME)))
            continue;
        if (n == max)
            return -1;
        /* The job's first process first. */
        if (node.pid == r->root_pid && n > 0) {
            nodes[n] = nodes[0];
            nodes[0] = node;
        } else {
            nodes[n] = node;
        }
        n++;
        if (!node.zombie)
            add_children(node.host, hosts, &nh, sizeof hosts / sizeof hosts[0]);
    }
    for (size_t i = 0; i < n; i++) {
        nodes[i].ppid = nodes[i].host_ppid == (long)r->job ? 1 : inner(nodes, n, nodes[i].host_ppid);
        nodes[i].pgid = inner(nodes, n, nodes[i].host_pgid);
        nodes[i].sid = inner(nodes, n, nodes[i].host_sid);
    }
    *count = n;
    return 0;
}

/* ---- pipes ------------------------------------------------------------------ */

struct pipes {
    struct cairn_proc_pipe rec[CAIRN_PROC_MAX_PIPES];
    size_t n;
    struct cairn_proc_shm shm[CAIRN_PROC_MAX_SHM]; /* and the shared memory */
    size_t nshm;
    unsigned char *data; /* the bytes in flight, the records' order */
    size_t len;
    uint64_t stdio[3];
};

/* The pipe inode of an fd (cairn's own or a job's, by /proc link), or 0. */
static uint64_t pipe_ino(const char *link)
{
    unsigned long long ino = 0;
    return sscanf(link, "pipe:[%llu]", &ino) == 1 ? ino : 0;
}

/* A copy of the bytes in the pipe that `path` (a /proc fd link of the job)
   is an end of, left where they are: a read end of our own on that pipe,
   and tee(2) into a pipe of ours as large. */
static int peek_pipe(const char *path, struct cairn_proc_pipe *rec, struct pipes *ps)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int cap = fcntl(fd, F_GETPIPE_SZ), p[2] = {-1, -1}, rc = -1;
    rec->capacity = cap > 0 ? (uint32_t)cap : 65536;
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0 && fcntl(p[1], F_SETPIPE_SZ, cap) >= cap) {
        ssize_t n = tee(fd, p[1], (size_t)cap, SPLICE_F_NONBLOCK);
        if (n < 0 && errno == EAGAIN)
            n = 0; /* empty */
        rc = n < 0 || ps->len + (size_t)n > CAIRN_PROC_MAX_PIPE_DATA ? -1 : 0;
        for (size_t got = 0; rc == 0 && got < (size_t)n;) {
            ssize_t r = read(p[0], ps->data + ps->len + got, (size_t)n - got);
            if (r <= 0)
                rc = -1;
            else
                got += (size_t)r;
        }
        if (rc == 0) {
            rec->nbytes = (uint32_t)n;
            ps->len += (size_t)n;
        }
    }
    close(fd);
    if (p[0] >= 0)
        close(p[0]), close(p[1]);
    return rc;
}

static struct cairn_proc_pipe *find_pipe(struct pipes *ps, uint64_t ino)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->rec[i].ino == ino)
            return &ps->rec[i];
    return NULL;
}

/* Every pipe of the stopped processes (cairn's own stdio excepted), with
   the bytes in flight in those that one of them can read. */
static int collect_pipes(const struct run_ctx *r, const struct run_node *nodes, size_t n,
                         struct pipes *ps, char *why, size_t len)
{
    /* What the job's fds 0-2 are from cairn: its own, or the pipes of
       committed output (run_output.c); both are inherited on restore. */
    for (int k = 0; k < 3; k++) {
        char self[32], link[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", k);
        ssize_t l = readlink(self, link, sizeof link - 1);
        link[l > 0 ? l : 0] = 0;
        uint64_t relay = k ? run_output_pipe_ino(r, k) : 0;
        ps->stdio[k] = relay ? relay : pipe_ino(link);
    }
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].zombie)
            continue;
        char dir[64];
        snprintf(dir, sizeof dir, "/proc/%ld/fd", nodes[i].host);
        DIR *d = opendir(dir);
        for (struct dirent *e; d && (e = readdir(d));) {
            char path[320], link[64], info[320];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            ssize_t l = readlink(path, link, sizeof link - 1);
            link[l > 0 ? l : 0] = 0;
            uint64_t ino = pipe_ino(link);
            if (!ino || ino == ps->stdio[0] || ino == ps->stdio[1] || ino == ps->stdio[2] ||
                find_pipe(ps, ino))
                continue;
            if (ps->n == CAIRN_PROC_MAX_PIPES) {
                snprintf(why, len, "the job has more than %u pipes", CAIRN_PROC_MAX_PIPES);
                closedir(d);
                return -1;
            }
            struct cairn_proc_pipe *rec = &ps->rec[ps->n++];
            *rec = (struct cairn_proc_pipe){.ino = ino};
            snprintf(info, sizeof info, "/proc/%ld/fd/%s", nodes[i].host, e->d_name);
            if (peek_pipe(info, rec, ps) < 0) {
                snprintf(why, len, "cannot read the bytes in flight in pipe:[%" PRIu64
                                   "] of process %d (or more than %u MiB in all pipes)",
                         ino, (int)nodes[i].pid, CAIRN_PROC_MAX_PIPE_DATA >> 20);
                closedir(d);
                return -1;
            }
        }
        if (d)
            closedir(d);
    }
    return 0;
}

/* ---- shared memory ------------------------------------------------------------ */

/* As runtime/capture.c's shmem_name: memory only the job's processes hold. */
static int shmem_name(const char *name)
{
    size_t len = strlen(name), dl = strlen(" (deleted)");
    if (!strncmp(name, "/SYSV", 5) || len < dl || strcmp(name + len - dl, " (deleted)") != 0)
        return 0;
    return !strncmp(name, "/dev/zero", 9) || !strncmp(name, "/memfd:", 7) ||
           !strncmp(name, "/dev/shm/", 9);
}

/* One line of /proc/H/maps: a writable shared mapping of such memory is
   added to (or grows) its object's record. */
static int add_shm(struct pipes *ps, const char *line, char *why, size_t len)
{
    unsigned long long start, end, off, ino;
    unsigned major, minor;
    char perm[8], name[512] = "";
    if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %511[^\n]", &start, &end, perm, &off,
               &major, &minor, &ino, name) < 7 ||
        perm[1] != 'w' || perm[3] != 's' || !shmem_name(name))
        return 0;
    uint64_t dev = (uint64_t)major << 32 | minor, top = off + (end - start);
    for (size_t i = 0; i < ps->nshm; i++)
        if (ps->shm[i].dev == dev && ps->shm[i].ino == ino) {
            if (top > ps->shm[i].size)
                ps->shm[i].size = top;
            return 0;
        }
    if (ps->nshm == CAIRN_PROC_MAX_SHM) {
        snprintf(why, len, "the job shares more than %u memory objects", CAIRN_PROC_MAX_SHM);
        return -1;
    }
    ps->shm[ps->nshm++] = (struct cairn_proc_shm){.dev = dev, .ino = ino, .size = top};
    return 0;
}

static int collect_shm(const struct run_node *nodes, size_t n, struct pipes *ps, char *why,
                       size_t len)
{
    ps->nshm = 0;
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].zombie)
            continue;
        char path[64], line[1024];
        snprintf(path, sizeof path, "/proc/%ld/maps", nodes[i].host);
        FILE *f = fopen(path, "re");
        int rc = 0;
        while (f && rc == 0 && fgets(line, sizeof line, f))
            rc = add_shm(ps, line, why, len);
        if (f)
            fclose(f);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- members: the processes besides the first one -------------------------- */

struct run_member *run_tree_member(struct run_ctx *r, pid_t pid)
{
    for (size_t i = 0; i < r->nmembers; i++)
        if (r->members[i].pid == pid)
            return &r->members[i];
    return NULL;
}

static void drop_member(struct run_ctx *r, struct run_member *m)
{
    if (m->ctl >= 0)
        close(m->ctl);
    if (m->tmp.fd >= 0)
        cairn__store_abort(&r->store, &m->tmp);
    *m = r->members[--r->nmembers];
}

/* The members that ended after their image was written, once the round
   is over. */
static void drop_ended(struct run_ctx *r)
{
    for (size_t i = r->nmembers; i-- > 0;)
        if (r->members[i].ctl < 0)
            drop_member(r, &r->members[i]);
}

/* A "NEW <pid>" record with its channel (SCM_RIGHTS) from sock: the
   channel (-1 if none), the pid in *pid (0 if not understood); the
   record's length, 0 at the end, -1 if nothing is there. */
static ssize_t recv_new(int sock, pid_t *pid, int *fd)
{
    char buf[64];
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                        .msg_controllen = sizeof u.b};
    ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    *fd = -1;
    *pid = 0;
    if (n <= 0)
        return n;
    buf[n] = 0;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
        cm->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(fd, CMSG_DATA(cm), sizeof *fd);
    *pid = strncmp(buf, "NEW ", 4) == 0 ? (pid_t)atol(buf + 4) : 0;
    return n;
}

/* Process pid of the job (its channel fd) is a member from now on. */
static void add_member(struct run_ctx *r, pid_t pid, int fd)
{
    if (fd < 0 || pid <= 1 || pid == r->root_pid) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct run_member *old = run_tree_member(r, pid);
    if (old) /* the pid was used again, or the process exec'd without its fds */
        drop_member(r, old);
    if (r->nmembers == CAIRN_PROC_MAX_MEMBERS) {
        close(fd);
        return;
    }
    struct ucred peer;
    socklen_t len = sizeof peer;
    struct run_member *m = &r->members[r->nmembers++];
    memset(m, 0, sizeof *m);
    m->pid = pid;
    m->ctl = fd;
    m->tmp.fd = m->tmp.raw_fd = -1;
    m->host = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 ? peer.pid : 0;
    struct stat sb;
    m->ctl_ino = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_ino : 0;
}

/* "NEW <pid>" with the new channel (SCM_RIGHTS), on the registration socket. */
void run_tree_accept(struct run_ctx *r)
{
    pid_t pid;
    int fd;
    ssize_t n = recv_new(r->reg, &pid, &fd);
    if (n == 0) {
        close(r->reg);
        r->reg = -1;
    }
    if (n > 0)
        add_member(r, pid, fd);
}

/* ---- the registration endpoint ------------------------------------------- */

/* What a process of the job that lost fds 3 and 4 (closed before exec)
   registers on. The job shares the host's network namespace, where any
   user may connect to an abstract name (and see it in /proc/net/unix), so
   a connection counts only if its peer is of the job's uid and in the
   job's pid namespace, and names itself by its own pid. */
static int job_reg_copy = -1; /* the job's end of the registration socket */
static unsigned endpoint_refusals;

int run_tree_endpoint_listen(void)
{
    struct stat st;
    if (stat("/proc/self/ns/pid", &st) < 0)
        return -1;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int len = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "%s%llu", CAIRN_REGISTER_ENDPOINT,
                       (unsigned long long)st.st_ino);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return -1;
    if (bind(s, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                                                     (size_t)len)) < 0 ||
        listen(s, 64) < 0) {
        /* Taken (by another user who guessed the inode): the job runs, and
           a process that loses its fds is refused by name, as before. */
        fprintf(stderr, "cairn run: warning: cannot listen on the job's registration "
                        "endpoint: %s\n", strerror(errno));
        close(s);
        return -1;
    }
    return s;
}

void run_tree_keep_register(int job_reg)
{
    if (job_reg_copy >= 0)
        close(job_reg_copy);
    job_reg_copy = fcntl(job_reg, F_DUPFD_CLOEXEC, 10);
}

/* 0 if the connection's peer is a process of the job: of its uid, in its
   pid namespace; its pid there in *inner. Else -1 and why. */
static int peer_of_job(const struct run_ctx *r, int c, pid_t *inner, char *why, size_t len)
{
    struct ucred cr;
    socklen_t cl = sizeof cr;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0) {
        snprintf(why, len, "no peer credentials: %s", strerror(errno));
        return -1;
    }
    if (cr.uid != getuid()) {
        snprintf(why, len, "pid %ld of uid %u is not of the job's user", (long)cr.pid,
                 (unsigned)cr.uid);
        return -1;
    }
    char path[64];
    struct stat mine, theirs;
    snprintf(path, sizeof path, "/proc/%ld/ns/pid", (long)r->job);
    int in_ns = stat(path, &mine) == 0;
    snprintf(path, sizeof path, "/proc/%ld/ns/pid", (long)cr.pid);
    in_ns = in_ns && cr.pid > 0 && stat(path, &theirs) == 0 && mine.st_ino == theirs.st_ino &&
            mine.st_dev == theirs.st_dev;
    struct run_node node;
    if (!in_ns || read_node(cr.pid, &node) < 0) {
        snprintf(why, len, "pid %ld is not a process of the job's pid namespace", (long)cr.pid);
        return -1;
    }
    *inner = node.pid;
    return 0;
}

/* "REG" and the job's registration socket: the process puts it back at
   fd 4, so its own children register as usual. */
static void send_register(int c)
{
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {.iov_base = "REG", .iov_len = 3};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                        .msg_controllen = sizeof u.b};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &job_reg_copy, sizeof(int));
    if (job_reg_copy < 0)
        mh.msg_control = NULL, mh.msg_controllen = 0;
    sendmsg(c, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void endpoint_refused(const char *why)
{
    /* A few lines, not one per attempt of a user flooding the endpoint. */
    if (endpoint_refusals++ < 5)
        fprintf(stderr, "cairn: warning: a registration on the job's endpoint was refused: "
                        "%s\n", why);
}

void run_tree_accept_endpoint(struct run_ctx *r)
{
    int c = accept4(run_ns_endpoint_fd(), NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0)
        return;
    char why[160];
    pid_t inner = 0, pid;
    int fd = -1;
    if (peer_of_job(r, c, &inner, why, sizeof why) < 0) {
        endpoint_refused(why);
        close(c);
        return;
    }
    /* A process of the job's own, which sends its record right after
       connecting: wait for it a moment, no more (it could be stuck). */
    struct pollfd p = {c, POLLIN, 0};
    int got = poll(&p, 1, 2000) == 1 && recv_new(c, &pid, &fd) > 0 && fd >= 0;
    if (got && pid == inner) {
        add_member(r, pid, fd);
        send_register(c);
    } else {
        if (got)
            snprintf(why, sizeof why, "process %d said it is process %d", (int)inner, (int)pid);
        else
            snprintf(why, sizeof why, "process %d sent no NEW record with a channel", (int)inner);
        endpoint_refused(why);
        if (fd >= 0)
            close(fd);
    }
    close(c);
}

int run_tree_pollfds(const struct run_ctx *r, struct pollfd *p, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nmembers && n < max; i++)
        p[n++] = (struct pollfd){r->members[i].ctl, POLLIN, 0};
    return (int)n;
}

/* ---- the round ------------------------------------------------------------ */

static void say(int fd, const char *text)
{
    send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Every process of the round that waits for GO is told to give up. */
static void abort_stopped(struct run_ctx *r)
{
    char line[600];
    snprintf(line, sizeof line, "ABORT %s\n", r->round_why);
    if (r->root_phase == RUN_PH_STOPPED) {
        say(r->ctl, line);
        r->root_phase = RUN_PH_RELEASED;
    }
    for (size_t i = 0; i < r->nmembers; i++)
        if (r->members[i].phase == RUN_PH_STOPPED) {
            say(r->members[i].ctl, line);
            r->members[i].phase = RUN_PH_RELEASED;
        }
}

void run_tree_fail(struct run_ctx *r, const char *why, const char *how)
{
    if (!r->round_failed) {
        r->round_failed = 1;
        snprintf(r->round_why, sizeof r->round_why, "%.511s", why);
        r->round_how = how;
    }
}

void run_tree_churn(struct run_ctx *r, const char *why)
{
    if (!r->round_failed)
        r->round_churn = 1;
    run_tree_fail(r, why, CAIRN_EV_REFUSED);
}

/* The job's processes, checked for what a checkpoint needs; 0 or -1 with
   why. For each live one, the checkpoint signal must be caught (it has
   cairn's runtime) and it must have registered its channel. */
static int check_nodes(struct run_ctx *r, const struct run_node *nodes, size_t n, char *why,
                       size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const struct run_node *x = &nodes[i];
        const struct run_node *parent = NULL;
        for (size_t k = 0; k < n; k++)
            if (nodes[k].pid == x->ppid)
                parent = &nodes[k];
        pid_t ppgid = parent ? parent->pgid : 0, psid = parent ? parent->sid : 0;
        if (x->zombie)
            continue;
        if (i > 0 && !run_tree_member(r, x->pid)) {
            r->round_churn = 1; /* it may register in a moment */
            snprintf(why, len, "process %d (%s) of the job has no channel to cairn: it runs "
                               "without cairn's runtime (a static binary, a cleared "
                               "environment, fd 3 closed and reused), or has just started",
                     (int)x->pid, x->comm);
            return -1;
        }
        if ((x->pgid != ppgid && x->pgid != x->pid) || (x->sid != psid && x->sid != x->pid)) {
            snprintf(why, len, "process %d (%s) is in the process group or session of "
                               "another process than its parent: not restorable yet",
                     (int)x->pid, x->comm);
            return -1;
        }
        char what[400];
        /* The end of its new channel it sent cairn may still be open in it
           for an instant (runtime/tree.c, new_channel): not a socket of its. */
        uint64_t sent = i > 0 ? run_tree_member(r, x->pid)->ctl_ino : 0;
        if (i > 0 && run_precheck(x->host, RUN_JOB_CONTROL_FD, sent, 1, what, sizeof what) < 0) {
            snprintf(why, len, "process %d (%s): %s", (int)x->pid, x->comm, what);
            return -1;
        }
    }
    return 0;
}

int run_tree_request(struct run_ctx *r, ssize_t (*send_fd)(int, const void *, size_t, int),
                     char *why, size_t len)
{
    drop_ended(r); /* a round that ended without a commit or an abort */
    r->round_failed = 0;
    r->round_churn = 0;
    r->round_bytes = 0;
    r->root_phase = RUN_PH_ASKED;
    r->root_writer = 0;
    r->ndead = 0; /* (a writer of an earlier round had reported) */
    if (run_ns_status_fd() < 0) { /* no namespace: one process, as before */
        r->nnodes = 0;
        return 0;
    }
    /* Sockets refused before any process is signalled, on a listing of
       their own: the one the round compares with when all have stopped,
       and check_nodes's test that each catches the signal, stay right
       before the signals (a process may end or exec meanwhile). */
    static struct run_node pre[CAIRN_PROC_MAX_MEMBERS];
    static struct run_objects early;
    size_t npre = 0, nsent = 0;
    uint64_t sent[CAIRN_PROC_MAX_MEMBERS];
    for (size_t i = 0; i < r->nmembers; i++)
        sent[nsent++] = r->members[i].ctl_ino;
    if (run_tree_list(r, pre, CAIRN_PROC_MAX_MEMBERS, &npre) == 0 &&
        run_objects_collect(pre, npre, sent, nsent, &early, NULL, 0, NULL, why, len) < 0)
        return -1;
    if (run_tree_list(r, r->nodes, CAIRN_PROC_MAX_MEMBERS, &r->nnodes) < 0) {
        snprintf(why, len, "the job has more than %u processes", CAIRN_PROC_MAX_MEMBERS);
        return -1;
    }
    if (check_nodes(r, r->nodes, r->nnodes, why, len) < 0)
        return -1;
    for (size_t i = 0; i < r->nmembers; i++)
        r->members[i].phase = RUN_PH_IDLE;
    /* Deltas when the first process's image may be one (run_chain.c): so
       every delta of the generation is on the one before it, the
       generation the first process's chain keeps. */
    char root_parent[128];
    run_chain_request(r, root_parent, sizeof root_parent);
    int delta_round = root_parent[0] != 0;
    for (size_t i = 1; i < r->nnodes; i++) {
        struct run_member *m = r->nodes[i].zombie ? NULL : run_tree_member(r, r->nodes[i].pid);
        if (!m)
            continue;
        int rc = cairn__store_begin_member(&r->store, r->tmp.generation, (uint64_t)m->pid,
                                           &m->tmp);
        int image_fd = rc < 0 ? -1 : run_compress_target(r, &m->tmp); /* or a memfd */
        char line[256], parent[128] = "";
        if (delta_round) /* a delta on its own image in the last generation, if it has one */
            run_chain_member_request(r, m->pid, parent, sizeof parent);
        int n = snprintf(line, sizeof line, "CKPT %" PRIu64 " %s%s\n", r->tmp.generation,
                         m->tmp.tmpname, parent);
        m->phase = RUN_PH_ASKED;
        m->writer = 0;
        errno = 0;
        if (image_fd < 0 || send_fd(m->ctl, line, (size_t)n, image_fd) != (ssize_t)n ||
            run_ns_kill_pid(m->pid, CAIRN_CKPT_SIGNAL) < 0) {
            int gone = errno == EPIPE || errno == ECONNRESET || errno == ESRCH;
            char what[160];
            m->phase = RUN_PH_ANSWERED;
            snprintf(what, sizeof what, "process %d %s", (int)m->pid,
                     gone ? "ended during the checkpoint" : "cannot be asked for its checkpoint");
            if (gone) /* it ended since the listing: the round is taken again */
                run_tree_churn(r, what);
            else
                run_tree_fail(r, what, CAIRN_EV_FAILED);
        }
    }
    return 0;
}

/* The tree section: header, members, pipes, shm, objects; its length. */
static size_t make_table(const struct run_ctx *r, const struct pipes *ps,
                         const struct run_objects *o, unsigned char *table)
{
    struct cairn_proc_tree t = {.nmembers = r->nnodes, .generation = r->tmp.generation,
                                .npipes = ps->n, .nshm = ps->nshm};
    memcpy(t.stdio_ino, ps->stdio, sizeof t.stdio_ino);
    if (getrandom(t.nonce, sizeof t.nonce, 0) != (ssize_t)sizeof t.nonce)
        memset(t.nonce, 0, sizeof t.nonce);
    memcpy(table, &t, sizeof t);
    size_t len = sizeof t;
    for (size_t i = 0; i < r->nnodes; i++) {
        const struct run_node *x = &r->nodes[i];
        struct cairn_proc_member m = {.pid = (uint64_t)x->pid, .ppid = (uint64_t)x->ppid,
                                      .pgid = (uint64_t)x->pgid, .sid = (uint64_t)x->sid,
                                      .state = x->zombie ? CAIRN_PROC_MEMBER_ZOMBIE
                                                         : CAIRN_PROC_MEMBER_IMAGE,
                                      .wstatus = x->zombie ? x->wstatus : 0};
        memcpy(table + len, &m, sizeof m);
        len += sizeof m;
    }
    memcpy(table + len, ps->rec, ps->n * sizeof ps->rec[0]);
    len += ps->n * sizeof ps->rec[0];
    memcpy(table + len, ps->shm, ps->nshm * sizeof ps->shm[0]);
    len += ps->nshm * sizeof ps->shm[0];
    if (!o->n)
        return len;
    struct cairn_proc_objects h = {.nobjects = o->n};
    memcpy(table + len, &h, sizeof h);
    memcpy(table + len + sizeof h, o->rec, o->n * sizeof o->rec[0]);
    return len + sizeof h + o->n * sizeof o->rec[0];
}

/* "GO <n> <m> <k>", the table, m bytes of pipe data and k of the IPC
   section (nipc bytes); blocking: the process reads it all while it waits
   (runtime.c rendezvous). */
static void send_go(int fd, const unsigned char *table, size_t n, const unsigned char *data,
                    size_t m, const unsigned char *ipc, size_t nipc)
{
    char head[64];
    int hn = snprintf(head, sizeof head, "GO %zu %zu %zu\n", n, m, nipc);
    struct iovec iov[4] = {{head, (size_t)hn}, {(void *)table, n}, {(void *)data, m},
                           {(void *)ipc, nipc}};
    size_t total = (size_t)hn + n + m + nipc, sent = 0;
    while (sent < total) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 4};
        ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        sent += (size_t)k;
        for (int i = 0; i < 4; i++) { /* skip what went */
            size_t d = (size_t)k < iov[i].iov_len ? (size_t)k : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + d;
            iov[i].iov_len -= d;
            k -= (ssize_t)d;
        }
    }
}

/* All asked processes stopped: the same processes still, then GO. */
static void all_stopped(struct run_ctx *r)
{
    static struct run_node now[CAIRN_PROC_MAX_MEMBERS];
    static struct pipes ps;
    static struct run_objects objs;
    static unsigned char table[CAIRN_PROC_TREE_MAX];
    size_t n = 0;
    char why[512];
    if (r->nnodes && (run_tree_list(r, now, CAIRN_PROC_MAX_MEMBERS, &n) < 0 || n != r->nnodes ||
                      memcmp(now, r->nodes, n * sizeof now[0]) != 0)) {
        snprintf(why, sizeof why, "the job's processes changed while it stopped (a process "
                                  "started or ended): the next checkpoint will take them");
        run_tree_churn(r, why);
        abort_stopped(r);
        return;
    }
    ps.n = ps.len = 0;
    if (!ps.data && !(ps.data = malloc(CAIRN_PROC_MAX_PIPE_DATA))) {
        run_tree_fail(r, "out of memory", CAIRN_EV_FAILED);
        abort_stopped(r);
        return;
    }
    size_t queued = 0;
    objs.n = 0;
    if (r->nnodes && (collect_pipes(r, r->nodes, r->nnodes, &ps, why, sizeof why) < 0 ||
                      collect_shm(r->nodes, r->nnodes, &ps, why, sizeof why) < 0 ||
                      run_objects_collect(r->nodes, r->nnodes, NULL, 0, &objs, ps.data + ps.len,
                                          CAIRN_PROC_MAX_PIPE_DATA - ps.len, &queued, why,
                                          sizeof why) < 0)) {
        run_tree_fail(r, why, CAIRN_EV_REFUSED);
        abort_stopped(r);
        return;
    }
    ps.len += queued; /* the sockets' bytes after the pipes' (run_sock.c) */
    static unsigned char *ipc;
    size_t ipc_len = 0;
    if (!ipc && !(ipc = malloc(CAIRN_PROC_MAX_IPC_DATA))) {
        run_tree_fail(r, "out of memory", CAIRN_EV_FAILED);
        abort_stopped(r);
        return;
    }
    if (run_ns_status_fd() >= 0 && /* the job's IPC namespace (run_ipc.c) */
        run_ipc_collect(ipc, CAIRN_PROC_MAX_IPC_DATA, &ipc_len, why, sizeof why) < 0) {
        run_tree_fail(r, why, CAIRN_EV_REFUSED);
        abort_stopped(r);
        return;
    }
    run_output_stopped(r); /* the output boundary (run_output.c) */
    /* One process without pipes of its own: an image as before, no tree. */
    size_t len = r->nnodes > 1 || ps.n || ps.nshm || objs.n ? make_table(r, &ps, &objs, table) : 0;
    send_go(r->ctl, table, len, ps.data, len ? ps.len : 0, ipc, ipc_len);
    r->root_phase = RUN_PH_RELEASED;
    for (size_t i = 0; i < r->nmembers; i++)
        if (r->members[i].phase == RUN_PH_STOPPED) {
            send_go(r->members[i].ctl, table, len, NULL, 0, NULL, 0);
            r->members[i].phase = RUN_PH_RELEASED;
        }
}

/* After each answer: GO or ABORT once all stopped; 1 once all answered. */
int run_tree_progress(struct run_ctx *r)
{
    int waiting = r->root_phase == RUN_PH_ASKED, stopped = r->root_phase == RUN_PH_STOPPED;
    int open = r->root_phase != RUN_PH_ANSWERED;
    for (size_t i = 0; i < r->nmembers; i++) {
        enum run_phase ph = r->members[i].phase;
        waiting |= ph == RUN_PH_ASKED;
        stopped |= ph == RUN_PH_STOPPED;
        open |= ph == RUN_PH_ASKED || ph == RUN_PH_STOPPED || ph == RUN_PH_RELEASED;
    }
    if (r->round_failed)
        abort_stopped(r);
    else if (!waiting && stopped)
        all_stopped(r);
    return !open;
}

pid_t run_pause_reported(struct run_ctx *r, const char *args)
{
    char *end;
    uint64_t ns = strtoull(args, &end, 10);
    r->copied += strtoull(end, &end, 10);
    long writer = strtol(end, &end, 10);
    if (ns >= r->pause_ns) { /* the longest process's pause, and its parts */
        r->pause_ns = ns;
        for (int i = 0; i < 3; i++)
            r->pause_parts[i] = strtoull(end, &end, 10);
    }
    return writer > 0 && writer < (1L << 22) ? (pid_t)writer : 0;
}

/* One line from member m; a checkpoint in flight is told (run_tree_progress). */
static void member_line(struct run_ctx *r, struct run_member *m, const char *line)
{
    if (!strncmp(line, "HELLO ", 6)) {
        run_send_identity(r, m->ctl); /* a program this process exec'd */
        if (m->phase == RUN_PH_ASKED) { /* the old program never saw the request */
            m->phase = RUN_PH_ANSWERED;
            char why[128];
            snprintf(why, sizeof why, "process %d exec'd a program during the checkpoint",
                     (int)m->pid);
            run_tree_churn(r, why);
        }
    } else if (!strncmp(line, "TERM ", 5)) {
        run_term_reported(r, atoi(line + 5)); /* the scheduler's, to this one too */
    } else if (!strcmp(line, "HOLD")) {
        m->holding = 1;
    } else if (!strcmp(line, "STOPPED") && m->phase == RUN_PH_ASKED) {
        m->phase = RUN_PH_STOPPED;
    } else if (!strncmp(line, "PAUSE ", 6)) {
        m->writer = run_pause_reported(r, line + 6);
    } else if (!strncmp(line, "DONE ", 5) && m->phase == RUN_PH_RELEASED) {
        m->phase = RUN_PH_ANSWERED;
        r->round_bytes += strtoull(line + 5, NULL, 10);
    } else if ((!strncmp(line, "FAIL ", 5) || !strncmp(line, "REFUSE ", 7)) &&
               m->phase != RUN_PH_IDLE && m->phase != RUN_PH_ANSWERED) {
        m->phase = RUN_PH_ANSWERED;
        char why[600];
        snprintf(why, sizeof why, "process %d: %s", (int)m->pid, strchr(line, ' ') + 1);
        run_tree_fail(r, why, line[0] == 'F' ? CAIRN_EV_FAILED : CAIRN_EV_REFUSED);
    }
}

int run_tree_read(struct run_ctx *r, size_t i)
{
    struct run_member *m = &r->members[i];
    ssize_t n = read(m->ctl, m->line + m->len, sizeof m->line - 1 - m->len);
    if (n <= 0 && !(n < 0 && errno == EINTR)) { /* the process exited (or exec'd anew) */
        if (m->phase != RUN_PH_IDLE && m->phase != RUN_PH_ANSWERED) {
            char why[128];
            snprintf(why, sizeof why, "process %d ended during the checkpoint", (int)m->pid);
            run_tree_churn(r, why);
        } else if (m->phase == RUN_PH_ANSWERED && m->tmp.fd >= 0) {
            /* Its image is written (DONE) and waits for the others: kept
               for the commit (polling fd -1 sees nothing). */
            close(m->ctl);
            m->ctl = -1;
            return 1;
        }
        drop_member(r, m);
        return 1;
    }
    if (n <= 0)
        return 0;
    m->len += (size_t)n;
    m->line[m->len] = 0;
    char *nl;
    while ((nl = strchr(m->line, '\n'))) {
        *nl = 0;
        member_line(r, m, m->line);
        size_t used = (size_t)(nl + 1 - m->line);
        memmove(m->line, nl + 1, m->len - used + 1);
        m->len -= used;
    }
    if (m->len == sizeof m->line - 1)
        m->len = 0;
    return 0;
}

int run_tree_writers_lost(struct run_ctx *r)
{
    int any = 0;
    for (size_t i = 0; i < r->nmembers; i++) {
        struct run_member *m = &r->members[i];
        char why[200];
        if (m->phase != RUN_PH_RELEASED || !run_writer_lost(r, m->writer, why, sizeof why))
            continue;
        const pid_t pid = m->pid;
        struct pollfd p = {m->ctl, POLLIN, 0};
        int ended = 0;
        while (!ended && m->phase == RUN_PH_RELEASED && poll(&p, 1, 0) == 1)
            ended = run_tree_read(r, i);
        if (ended && m->pid != pid) { /* dropped: another member took slot i */
            i--;
            continue;
        }
        if (m->phase != RUN_PH_RELEASED || m->ctl < 0)
            continue; /* it reported, or its process ended */
        char line[256];
        snprintf(line, sizeof line, "FAIL %s", why);
        member_line(r, m, line);
        any = 1;
    }
    return any;
}

void run_tree_release(struct run_ctx *r)
{
    int any = r->root_holding;
    if (r->root_holding)
        say(r->ctl, "RESUME\n");
    r->root_holding = 0;
    for (size_t i = 0; i < r->nmembers; i++)
        if (r->members[i].holding) {
            any = 1;
            if (r->members[i].ctl >= 0)
                say(r->members[i].ctl, "RESUME\n");
            r->members[i].holding = 0;
        }
    /* Their pause lasted until now: at most since the request. */
    uint64_t held = cairn__now_ns(CLOCK_MONOTONIC) - r->t_request;
    if (any && held > r->pause_ns)
        r->pause_ns = held;
}

int run_tree_commit(struct run_ctx *r)
{
    struct cairn__pending tmps[CAIRN_PROC_MAX_MEMBERS];
    uint64_t pids[CAIRN_PROC_MAX_MEMBERS];
    size_t n = 0;
    for (size_t i = 0; i < r->nmembers; i++)
        if (r->members[i].tmp.fd >= 0) {
            tmps[n] = r->members[i].tmp;
            pids[n++] = (uint64_t)r->members[i].pid;
            r->members[i].tmp.fd = -1;
        }
    int rc = cairn__store_commit_members(&r->store, tmps, pids, n);
    drop_ended(r);
    return rc;
}

void run_tree_abort(struct run_ctx *r)
{
    for (size_t i = 0; i < r->nmembers; i++)
        if (r->members[i].tmp.fd >= 0)
            cairn__store_abort(&r->store, &r->members[i].tmp);
    drop_ended(r);
}
