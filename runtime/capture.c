/* SPDX-License-Identifier: MIT */
/*
 * capture.c — records the job's state inside the checkpoint signal handler.
 *
 * Only async-signal-safe calls (open/read/readlink/fstat/fcntl/lseek and
 * raw syscalls) and the preallocated struct rt_state are used. Anything the
 * restorer could not rebuild is refused here, before the writer forks, with
 * a message naming the resource; the job then simply goes on.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "arch_x86_64.h"
#include "capture.h"
#include "cpu_features.h"
#include "stage.h"
#include "ipc.h"
#include "capture_sock.h"
#include "tree.h"
#include "dirty.h"
#include "identity.h"
#include "timers.h"

static int refuse(struct rt_state *st, const char *a, const char *b, const char *c)
{
    st->why[0] = 0;
    rt_cat(st->why, sizeof st->why, a);
    rt_cat(st->why, sizeof st->why, b);
    rt_cat(st->why, sizeof st->why, c);
    return -1;
}

/* Calls fn(name) for each entry of a /proc directory; stops at fn < 0. */
static int each_dirent(const char *dir, char *buf, size_t cap,
                       int (*fn)(struct rt_state *, const char *), struct rt_state *st)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return refuse(st, "cannot open ", dir, "");
    int rc = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, cap);
        if (n <= 0)
            break;
        for (long off = 0; off < n && rc == 0;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] != '.')
                rc = fn(st, d->d_name);
        }
        if (rc)
            break;
    }
    close(fd);
    return rc;
}

/* A child of any thread (the children file is per thread), outside
   cairn run's namespace; inside it, the children are processes of the job,
   each checkpointed with it (tree.c; cairn run checks the whole tree). */
static int check_children(struct rt_state *st)
{
    if (st->own_pidns)
        return 0;
    for (uint32_t i = 0; i < st->core.nthreads; i++) {
        char path[64] = "/proc/self/task/", kids[64];
        rt_cat_u64(path, sizeof path, st->threads[i].tid);
        rt_cat(path, sizeof path, "/children");
        if (rt_read_file(path, kids, sizeof kids) > 0 && kids[0] >= '0' && kids[0] <= '9') {
            for (char *p = kids; *p; p++)
                if (*p == ' ' || *p == '\n')
                    *p = 0;
            return refuse(st, "the job has a child process (pid ", kids, ")");
        }
    }
    return 0;
}

/* ---- mappings ------------------------------------------------------------ */

static void copy_name(char *dst, size_t cap, const char *src, const char *end)
{
    size_t n = 0;
    while (src < end && n + 1 < cap)
        dst[n++] = *src++;
    dst[n] = 0;
}

/* Memory the job's processes share that no file outside holds: anonymous
   MAP_SHARED ("/dev/zero (deleted)"), a memfd, an unlinked POSIX shm
   object or semaphore (/dev/shm). Not SysV segments (their ids and keys
   would not come back). */
static int shmem_name(const char *name, size_t len)
{
    static const char deleted[] = " (deleted)";
    size_t dl = sizeof deleted - 1;
    if (rt_startswith(name, "/SYSV") || len < dl || !rt_streq(name + len - dl, deleted))
        return 0;
    return rt_startswith(name, "/dev/zero") || rt_startswith(name, "/memfd:") ||
           rt_startswith(name, "/dev/shm/");
}

static int classify_map(struct rt_state *st, struct cairn_proc_map *m, const char *name,
                        const char *end, char shared)
{
    size_t len = (size_t)(end - name);
    copy_name(m->name, sizeof m->name, name, end);
    if (shared == 's' && rt_startswith(m->name, "/SYSV")) /* a SysV attach (ipc.c) */
        return rt_ipc_sysv_map(st, m, st->map_obj[st->core.nmaps].ino);
    /* A read-only shared file mapping (glibc maps gconv-modules.cache so)
       behaves as a private one unless the file changes: its contents are
       embedded like any file mapping's. A writable one is refused. */
    if (shared == 's' && (m->prot & PROT_WRITE) && st->own_pidns && shmem_name(m->name, len)) {
        m->kind = CAIRN_MAP_SHARED; /* its object: rt_tree_maps, once cairn sent the tree */
        m->flags |= CAIRN_MAPF_DATA;
        return 0;
    }
    if (shared == 's' && (m->prot & PROT_WRITE)) {
        char addr[24] = "";
        rt_cat_hex(addr, sizeof addr, m->start);
        return refuse(st, "shared memory mapping at ", addr,
                      len ? " (shared with other processes is not supported)" : "");
    }
    if (len == 0 || rt_startswith(m->name, "[heap]") || rt_startswith(m->name, "[anon"))
        m->kind = CAIRN_MAP_ANON;
    else if (rt_startswith(m->name, "[stack]"))
        m->kind = CAIRN_MAP_STACK;
    else if (name[0] == '[')
        m->kind = CAIRN_MAP_SPECIAL;
    else
        m->kind = CAIRN_MAP_FILE;
    if (m->kind != CAIRN_MAP_SPECIAL && m->prot != PROT_NONE)
        m->flags |= CAIRN_MAPF_DATA;
    return 0;
}

/* ---- memory a restore mapped from its image --------------------------------
   The restorer maps saved memory MAP_PRIVATE from the image file, or from
   cairn's memfd of an expanded one (restore/memory.c): /proc/self/maps then
   shows a file mapping of the image, but it is the job's private memory,
   anonymous when it was saved. The restorer names those files here
   (struct cairn_proc_mapnote, in every image): a private mapping of one of
   them is captured as the anonymous memory it is, joined with the
   neighbours the restore made of the same saved mapping (a sparse one is
   mapped run by run, its holes anonymous), and its range is noted in
   st->backed: its pages hold the image's bytes even where no page is
   present, which the writer must know before it looks for holes. */
static struct {
    uint64_t count;
    struct cairn_proc_mapsrc src[CAIRN_PROC_MAX_MAPSRC];
} mapsrc;

int rt_mapped_restore(void)
{
    return mapsrc.count != 0;
}

void rt_mapnote(struct cairn_proc_mapnote *n)
{
    *n = (struct cairn_proc_mapnote){.table_addr = (uint64_t)(uintptr_t)&mapsrc,
                                     .capacity = CAIRN_PROC_MAX_MAPSRC};
}

int rt_from_image(uint64_t dev, uint64_t ino)
{
    uint64_t n = mapsrc.count < CAIRN_PROC_MAX_MAPSRC ? mapsrc.count : CAIRN_PROC_MAX_MAPSRC;
    for (uint64_t k = 0; k < n && ino; k++)
        if (mapsrc.src[k].dev == dev && mapsrc.src[k].ino == ino)
            return 1;
    return 0;
}

/* A private mapping of the image: anonymous data, its range noted. */
static void take_as_anonymous(struct rt_state *st, struct cairn_proc_map *m)
{
    m->kind = CAIRN_MAP_ANON;
    m->offset = 0;
    m->name[0] = 0;
    if (m->prot != PROT_NONE)
        m->flags |= CAIRN_MAPF_DATA;
    if (!(m->prot & PROT_READ)) /* written whole, read once made readable */
        return;
    st->backed[st->nbacked].start = m->start;
    st->backed[st->nbacked].end = m->end;
    st->nbacked++;
}

/* m (just parsed) continues the previous record, both the restore's pieces
   of one anonymous mapping: the previous one is extended instead. */
static int joins_previous(struct rt_state *st, const struct cairn_proc_map *m, int backed,
                          int prev_backed)
{
    if (st->core.nmaps == 0 || !(backed || prev_backed))
        return 0;
    struct cairn_proc_map *p = &st->maps[st->core.nmaps - 1];
    if (p->end != m->start || p->prot != m->prot || p->kind != CAIRN_MAP_ANON ||
        m->kind != CAIRN_MAP_ANON || p->flags != m->flags)
        return 0;
    /* the alternate stack stays a mapping of its own (the writer saves a copy) */
    uint64_t alt_end = st->alt_start + st->alt_size;
    if ((p->start < alt_end && p->end > st->alt_start) ||
        (m->start < alt_end && m->end > st->alt_start))
        return 0;
    p->end = m->end;
    if (!p->name[0]) /* "[heap]" if a piece is named so */
        memcpy(p->name, m->name, sizeof p->name);
    return 1;
}

/* Parses one line of /proc/self/maps into m; 1 if it is to be skipped. */
static int parse_map(struct rt_state *st, const char *p, const char *eol,
                     struct cairn_proc_map *m)
{
    *m = (struct cairn_proc_map){0};
    m->start = rt_parse_hex(&p);
    p++;
    m->end = rt_parse_hex(&p);
    p++;
    m->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) |
              (p[2] == 'x' ? PROT_EXEC : 0);
    char shared = p[3];
    p += 5;
    m->offset = rt_parse_hex(&p);
    while (p < eol && *p == ' ')
        p++;
    uint64_t major = rt_parse_hex(&p);
    p += *p == ':';
    uint64_t minor = rt_parse_hex(&p);
    while (p < eol && *p == ' ')
        p++;
    uint64_t ino = rt_parse_dec(&p);
    st->map_obj[st->core.nmaps].dev = major << 32 | minor;
    st->map_obj[st->core.nmaps].ino = ino;
    while (p < eol && *p == ' ')
        p++;
    if (m->start >= 0xffffffffff600000ull) /* [vsyscall]: fixed, not ours */
        return 1;
    if (m->start >= CAIRN_RESERVED_LO && m->end <= CAIRN_RESERVED_HI)
        return 1;
    if (shared == 's' && rt_stage_owns(m->start, m->end, ino)) /* cairn's, not the job's */
        return 1;
    if (classify_map(st, m, p, eol, shared) < 0)
        return -1;
    if (shared == 'p' && m->kind == CAIRN_MAP_FILE && rt_from_image(major << 32 | minor, ino))
        take_as_anonymous(st, m);
    return 0;
}

static int capture_maps(struct rt_state *st)
{
    if (rt_read_file("/proc/self/maps", st->text, sizeof st->text) < 0)
        return refuse(st, "cannot read /proc/self/maps", "", "");
    st->core.nmaps = 0;
    st->nbacked = 0;
    rt_stage_maps_listing();
    int prev_backed = 0;
    for (const char *p = st->text; *p;) {
        const char *eol = p;
        while (*eol && *eol != '\n')
            eol++;
        if (st->core.nmaps == CAIRN_PROC_MAX_MAPS)
            return refuse(st, "too many mappings", "", "");
        struct cairn_proc_map *m = &st->maps[st->core.nmaps];
        uint64_t nbacked = st->nbacked;
        int rc = parse_map(st, p, eol, m);
        if (rc < 0)
            return -1;
        int backed = st->nbacked > nbacked;
        if (rc == 0 && joins_previous(st, m, backed, prev_backed))
            prev_backed = 1;
        else if (rc == 0)
            st->core.nmaps++, prev_backed = backed;
        p = *eol ? eol + 1 : eol;
    }
    return 0;
}

/* ---- file descriptors ---------------------------------------------------- */

static int is_tty(int fd)
{
    struct termios t;
    return ioctl(fd, TCGETS, &t) == 0;
}

static int is_plain_device(const char *path)
{
    return rt_streq(path, "/dev/null") || rt_streq(path, "/dev/zero") ||
           rt_streq(path, "/dev/urandom") || rt_streq(path, "/dev/random");
}

/* Finds an earlier regular file that is the same open file (dup'ed). */
static int find_dup(struct rt_state *st, unsigned n, const struct stat *sb,
                    const struct cairn_proc_file *f)
{
    for (unsigned i = 0; i < n; i++) {
        const struct cairn_proc_file *g = &st->files[i];
        if (g->kind == CAIRN_FD_FILE && st->file_id[i].dev == sb->st_dev &&
            st->file_id[i].ino == sb->st_ino && g->offset == f->offset &&
            g->open_flags == f->open_flags)
            return g->fd;
    }
    return -1;
}

/* The fds epoll instance fd watches, from its /proc/self/fdinfo lines
   "tfd: N events: HEX data: HEX ...". */
static int capture_epoll(struct rt_state *st, int fd)
{
    char path[64] = "/proc/self/fdinfo/", num[16] = "fd ";
    rt_cat_u64(path, sizeof path, (uint64_t)fd);
    rt_cat_u64(num, sizeof num, (uint64_t)fd);
    if (rt_read_file(path, st->text, sizeof st->text) < 0)
        return refuse(st, num, ": cannot read its epoll entries", "");
    for (const char *p = st->text; (p = strstr(p, "tfd:"));) {
        if (st->nepoll == CAIRN_PROC_MAX_EPOLL)
            return refuse(st, num, ": more epoll entries than cairn keeps", "");
        struct cairn_proc_epoll *e = &st->epoll[st->nepoll++];
        *e = (struct cairn_proc_epoll){.epfd = fd};
        p += 4;
        while (*p == ' ')
            p++;
        e->tfd = (int32_t)rt_parse_dec(&p);
        const char *q = strstr(p, "events:");
        if (!q)
            break;
        q += 7;
        while (*q == ' ')
            q++;
        e->events = (uint32_t)rt_parse_hex(&q);
        q = strstr(q, "data:");
        if (!q)
            break;
        q += 5;
        while (*q == ' ')
            q++;
        e->data = rt_parse_hex(&q);
        p = q;
    }
    return 0;
}

static int classify_fd(struct rt_state *st, struct cairn_proc_file *f, int fd)
{
    struct stat sb;
    char num[16] = "fd ";
    rt_cat_u64(num, sizeof num, (uint64_t)fd);
    if (syscall(SYS_fstat, fd, &sb) < 0) /* the call: fstat() needs GLIBC_2.33 */
        return refuse(st, num, ": cannot stat", "");
    f->open_flags = (uint32_t)fcntl(fd, F_GETFL);
    f->fd_flags = (uint32_t)fcntl(fd, F_GETFD);
    st->file_id[f - st->files] = (struct cairn_proc_fileid){
        .uid = sb.st_uid, .mode = sb.st_mode, .dev = sb.st_dev, .ino = sb.st_ino};
    int mq = rt_ipc_mq_fd(st, f, fd, &sb); /* a POSIX message queue (ipc.c) */
    if (mq)
        return mq < 0 ? -1 : 0;
    if (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)) {
        size_t len = rt_strlen(f->path);
        if (f->path[0] != '/' || (len > 10 && rt_streq(f->path + len - 10, " (deleted)")))
            return refuse(st, num, ": deleted or unnamed file ", f->path);
        off_t off = lseek(fd, 0, SEEK_CUR);
        f->offset = off < 0 ? 0 : (uint64_t)off;
        f->size = (uint64_t)sb.st_size;
        int acc = (int)(f->open_flags & O_ACCMODE);
        if (S_ISREG(sb.st_mode) && acc != O_RDONLY &&
            ((f->open_flags & O_APPEND) || f->offset == f->size))
            f->flags |= CAIRN_FILEF_APPENDING;
        unsigned n = (unsigned)(f - st->files);
        f->dup_of = find_dup(st, n, &sb, f);
        f->kind = f->dup_of >= 0 ? CAIRN_FD_DUP : CAIRN_FD_FILE;
        return 0;
    }
    if (S_ISCHR(sb.st_mode) && is_plain_device(f->path)) {
        f->kind = CAIRN_FD_DEVICE;
        return 0;
    }
    int tty = S_ISCHR(sb.st_mode) && is_tty(fd);
    if (S_ISFIFO(sb.st_mode) && st->own_pidns && rt_startswith(f->path, "pipe:")) {
        /* A pipe, inside the job or cairn's stdio: decided once cairn has
           seen the whole tree (rt_tree_files). */
        f->kind = CAIRN_FD_PIPE;
        f->offset = (uint64_t)sb.st_ino;
        return 0;
    }
    if ((tty || S_ISFIFO(sb.st_mode)) && fd <= 2) {
        f->kind = CAIRN_FD_INHERIT;
        return 0;
    }
    if (rt_streq(f->path, "anon_inode:[eventpoll]")) {
        f->kind = CAIRN_FD_EPOLL;
        return capture_epoll(st, fd);
    }
    int obj = rt_objects_classify(st, f, fd, &sb); /* eventfd ... AF_UNIX (capture_sock.c) */
    if (obj)
        return obj < 0 ? -1 : 0;
    if (S_ISSOCK(sb.st_mode))
        return refuse(st, num, " is a socket: ", f->path);
    if (S_ISFIFO(sb.st_mode))
        return refuse(st, num, " is a pipe (only stdin/stdout/stderr may be pipes): ", f->path);
    if (tty)
        return refuse(st, num, " is a terminal (only stdin/stdout/stderr may be): ", f->path);
    return refuse(st, num, " cannot be checkpointed: ", f->path);
}

static int capture_fd(struct rt_state *st, const char *name)
{
    const char *p = name;
    int fd = (int)rt_parse_dec(&p);
    if (fd == (int)st->core.control_fd || fd == st->image_fd || fd == rt_tree_register_fd() ||
        fd == rt_dirty_fd())
        return 0;
    char link[64] = "/proc/self/fd/";
    rt_cat(link, sizeof link, name);
    if (st->core.nfiles == CAIRN_PROC_MAX_FILES)
        return refuse(st, "too many open files", "", "");
    struct cairn_proc_file *f = &st->files[st->core.nfiles];
    *f = (struct cairn_proc_file){.fd = fd, .dup_of = -1};
    ssize_t n = readlink(link, f->path, sizeof f->path - 1);
    if (n < 0) /* the directory stream's own fd, closed since */
        return 0;
    f->path[n] = 0;
    size_t len = rt_strlen(f->path);
    if (rt_startswith(f->path, "/proc/") && len > 3 && rt_streq(f->path + len - 3, "/fd"))
        return 0; /* our own directory stream */
    if (classify_fd(st, f, fd) < 0)
        return -1;
    st->core.nfiles++;
    return 0;
}

static int capture_fds(struct rt_state *st)
{
    char buf[4096];
    st->core.nfiles = 0;
    st->nepoll = 0;
    if (each_dirent("/proc/self/fd", buf, sizeof buf, capture_fd, st) < 0)
        return -1;
    /* Every fd an epoll instance watches must be one restored with it. */
    for (uint32_t i = 0; i < st->nepoll; i++) {
        int found = 0;
        for (uint64_t k = 0; k < st->core.nfiles && !found; k++)
            found = st->files[k].fd == st->epoll[i].tfd && st->files[k].kind != CAIRN_FD_EPOLL;
        if (!found)
            return rt_refuse_num(st, "an epoll instance watches fd ", (uint64_t)st->epoll[i].tfd,
                                 ", which is closed since or not one cairn restores");
    }
    return 0;
}

/* ---- the rest -------------------------------------------------------------- */

/* /proc/self/stat fields 26..28 and 45..51 (the mm fields). */
static int capture_mm(struct rt_state *st)
{
    char buf[2048];
    if (rt_read_file("/proc/self/stat", buf, sizeof buf) < 0)
        return refuse(st, "cannot read /proc/self/stat", "", "");
    const char *p = buf, *paren = buf;
    for (; *p; p++)
        if (*p == ')')
            paren = p;
    p = paren + 2; /* field 3 */
    uint64_t v[53] = {0};
    for (int field = 3; field <= 52 && *p; field++) {
        v[field] = rt_parse_dec(&p); /* negative fields parse as 0; unused */
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    struct cairn_proc_core *c = &st->core;
    c->start_code = v[26], c->end_code = v[27], c->start_stack = v[28];
    c->start_data = v[45], c->end_data = v[46], c->start_brk = v[47];
    c->arg_start = v[48], c->arg_end = v[49], c->env_start = v[50], c->env_end = v[51];
    c->brk = (uint64_t)syscall(SYS_brk, 0);
    int fd = open("/proc/self/auxv", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, c->auxv, sizeof c->auxv);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return refuse(st, "cannot read /proc/self/auxv", "", "");
    c->auxv_words = (uint64_t)n / 8;
    return 0;
}

static void capture_signals(struct rt_state *st, void *ucv)
{
    ucontext_t *uc = ucv;
    for (unsigned sig = 1; sig <= CAIRN_PROC_NSIG; sig++) {
        struct cairn_proc_sigaction *a = &st->core.act[sig - 1];
        *a = (struct cairn_proc_sigaction){0};
        if (sig != SIGKILL && sig != SIGSTOP)
            syscall(SYS_rt_sigaction, sig, NULL, a, 8);
    }
    st->core.sigmask = *(const uint64_t *)&uc->uc_sigmask;
}

static void capture_misc(struct rt_state *st)
{
    struct cairn_proc_core *c = &st->core;
    mode_t m = umask(0);
    umask(m);
    c->umask = m;
    for (unsigned r = 0; r < CAIRN_PROC_NRLIMIT; r++) {
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
        syscall(SYS_prlimit64, 0, r, NULL, &rl);
        c->rlim_cur[r] = rl.rlim_cur;
        c->rlim_max[r] = rl.rlim_max;
    }
    for (int t = 0; t < 3; t++) {
        struct itimerval it = {{0, 0}, {0, 0}};
        getitimer(t, &it);
        c->itimer[t].interval_us = (uint64_t)it.it_interval.tv_sec * 1000000u +
                                   (uint64_t)it.it_interval.tv_usec;
        c->itimer[t].value_us = (uint64_t)it.it_value.tv_sec * 1000000u +
                                (uint64_t)it.it_value.tv_usec;
    }
    prctl(PR_GET_NAME, c->comm, 0, 0, 0);
    ssize_t n = readlink("/proc/self/cwd", c->cwd, sizeof c->cwd - 1);
    c->cwd[n < 0 ? 0 : n] = 0;
}

/* Every other thread is parked (threads.c); uc is the main thread's. */
int rt_capture(struct rt_state *st, void *uc, int control_fd)
{
    struct cairn_proc_core *c = &st->core;
    uint32_t nthreads = c->nthreads; /* rt_threads_stop counted them */
    *c = (struct cairn_proc_core){.magic = CAIRN_PROC_MAGIC, .version = CAIRN_PROC_VERSION,
                                  .nthreads = nthreads};
    c->control_fd = (uint64_t)control_fd;
    c->frame_uc = (uint64_t)(uintptr_t)uc;
    st->why[0] = 0;
    if (check_children(st) < 0 || rt_ipc_check_undo(st) < 0 || rt_timers_capture(st) < 0 || capture_fds(st) < 0 || capture_mm(st) < 0)
        return -1;
    capture_signals(st, uc);
    if (rt_ident_capture(st) < 0) /* pid, exe, pending signals */
        return -1;
    capture_misc(st);
    rt_arch_capture(c);
    cairn_cpu_accumulate(&st->cpu);
    if (capture_maps(st) < 0) /* last: nothing maps or unmaps after it */
        return -1;
    return rt_nofork_refuse(st); /* memory the writer's fork would not have */
}
