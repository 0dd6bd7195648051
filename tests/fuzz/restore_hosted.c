/*
 * restore_hosted.c — the shim that runs the restorer's image reader in a
 * hosted program (see restore_hosted.h).
 *
 * ident.c, memory.c, chain.c, threads.c and timers.c are compiled here, by
 * #include, rather than on their own: they keep their state in file-scope
 * statics (the task record, the pending signals, the special mappings
 * found, the thread and timer records), which a process that runs the
 * reader once per input must reset, and which only code in the same
 * translation unit can reach (fill_sparse, static in memory.c, too). Their
 * text is not changed. They come first, before any system header: they
 * define PROT_READ, O_CLOEXEC and friends themselves, as a freestanding
 * program must.
 *
 * One hook: threads.c's check_threads compares the restorer's getpid()
 * with the image's main thread, which a hosted run cannot match. It reads
 * its pid through R_GETPID() (getpid() unless defined before, so the
 * restorer is unchanged), defined here as the pid cairn run's pid
 * namespace gives the restorer: the task record's pid when cairn run can
 * ask clone3 for it (cli/run_ns.c image_pid: 1 < pid < 2^22), else 2, the
 * first pid after the namespace's init.
 */
static long rh_ns_pid(void);
#define R_GETPID() rh_ns_pid()
#include "../../restore/ident.c"
#include "../../restore/memory.c"
#include "../../restore/chain.c"
#include "../../restore/threads.c"
#include "../../restore/timers.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "restore_hosted.h"

#define MAP_FAILED_ ((void *)-1)

static struct rh_result *cur_res; /* where r_say reports, during a run */
static jmp_buf exit_jmp;          /* where r_exit returns to */
static int exit_armed;
static int memfd = -1;            /* rh_run's copy of the input */
static int loaded;                /* r_load_image ran: img.fd is its open */
/* fill_sparse's target while it runs: mapping fill_map, moved to scratch */
static long fill_map = -1;
static uint64_t fill_start, fill_end;
static void *scratch = MAP_FAILED_;
static size_t scratch_len;

static long rh_ns_pid(void)
{
    return have_task && task.pid > 1 && task.pid < (1u << 22) ? (long)task.pid : 2;
}

/* threads.c and memory.c need these from start_x86_64.S; the functions
   that call them change the process and are never run hosted. */
long r_clone_thread(struct clone_args *args, uint64_t size, void (*fn)(uint64_t), uint64_t arg)
{
    (void)args, (void)size, (void)fn, (void)arg;
    abort();
}

/* A process tree's shared memory (restore/tree.c) is not part of what the
   hosted restorer reads: no object fits. */
long r_tree_shm_fd(uint64_t index, uint64_t offset, uint64_t len)
{
    (void)index, (void)offset, (void)len;
    return -1;
}

/* A SysV attach (restore/ipc.c) needs the job's IPC namespace: never
   reached, as the hosted restorer maps nothing (as above). */
void r_sysv_map(uint64_t i)
{
    (void)i;
    r_fail("a SysV shared memory attach", -22);
}

void restore_sigreturn(uint64_t uc)
{
    (void)uc;
    abort();
}

/* mapped.c: a hosted run copies every region (memory.c's copy path). */
uint64_t r_mapped_bytes;
int r_map_run(int fd, uint64_t addr, uint64_t len, uint64_t off, long flags, int sparse)
{
    (void)fd, (void)addr, (void)len, (void)off, (void)flags, (void)sparse;
    return 0;
}

/* memory.c's progress reports to cairn run (restore/progress.c): a hosted
   run has no control channel, and reports nothing. */
void r_progress(uint64_t bytes)
{
    (void)bytes;
}

void r_say(const char *first, ...)
{
    char buf[sizeof cur_res->said];
    size_t n = 0;
    const char *prefix = "cairn-restore: ";
    va_list ap;
    va_start(ap, first);
    for (const char *s = prefix; s; s = s == prefix ? first : va_arg(ap, const char *))
        for (const char *c = s; *c && n + 1 < sizeof buf; c++)
            buf[n++] = *c;
    va_end(ap);
    buf[n] = 0;
    if (cur_res && cur_res->nsaid++ == 0)
        memcpy(cur_res->said, buf, n + 1);
    const char *v = getenv("CAIRN_FUZZ_VERBOSE");
    if (v && *v && strcmp(v, "0") != 0)
        fprintf(stderr, "%s\n", buf);
}

void r_exit(int status)
{
    if (!exit_armed || !cur_res)
        abort(); /* the restorer would end here: outside a run, a harness bug */
    exit_armed = 0;
    cur_res->exit_status = status;
    longjmp(exit_jmp, 1);
}

void r_fail(const char *what, long err)
{
    char a[24];
    r_say("restore failed: ", what, " (errno ", r_dec(a, (uint64_t)-err), ")", (char *)0);
    r_exit(125);
}

/* Zeroes [p, p + n) as a fresh .bss is. img is 3 MB, of which an input
   touches a few pages: its whole pages go back to the kernel (private
   anonymous memory reads as zeros afterwards, and only touched pages cost
   anything), its edges are cleared with memset. */
static void zero(void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p, end = a + n, lo = (a + 4095) & ~(uintptr_t)4095,
              hi = end & ~(uintptr_t)4095;
    if (hi <= lo || syscall(SYS_madvise, lo, hi - lo, 4 /* MADV_DONTNEED */) != 0 ||
        *(volatile char *)lo || *(volatile char *)(hi - 1)) {
        memset(p, 0, n);
        return;
    }
    memset(p, 0, lo - a);
    memset((void *)hi, 0, end - hi);
}

/* Puts mapping fill_map back where the image has it, frees the scratch. */
static void end_fill(void)
{
    if (fill_map >= 0) {
        img.maps[fill_map].start = fill_start;
        img.maps[fill_map].end = fill_end;
    }
    fill_map = -1;
    if (scratch != MAP_FAILED_)
        syscall(SYS_munmap, scratch, scratch_len);
    scratch = MAP_FAILED_;
}

void rh_reset(void)
{
    end_fill();
    if (loaded && img.fd >= 0)
        close(img.fd);
    loaded = 0;
    if (memfd >= 0)
        close(memfd);
    memfd = -1;
    /* What the restorer finds in its .bss when it starts. */
    zero(&img, sizeof img);
    memset(&task, 0, sizeof task);
    memset(sigq, 0, sizeof sigq);
    have_task = 0;
    memset(cur, 0, sizeof cur);
    ncur = 0;
    zero(threads, sizeof threads);
    zero(tsig, sizeof tsig);
    nthreads = ntsig = 0;
    ready = go = 0;
    memset(timers, 0, sizeof timers);
    ntimers = 0;
    nlv = 0; /* chain.c: no parent images in a hosted run */
    top_has_parent = 0;
}

/* memory.c's fill_sparse for every sparse mapping, each moved for the
   time of the call to a scratch reservation of its size (fill_sparse
   writes at the mapping's start plus each run's offset; the page-list
   checks see the same sizes and offsets). A mapping the scratch cannot be
   made for (larger than RH_SCRATCH_MAX, or mmap refuses) is skipped. */
static void run_fill_sparse(struct rh_result *res)
{
    for (uint64_t i = 0; i < img.core.nmaps; i++) {
        const struct cairn_proc_map *m = &img.maps[i];
        if (m->kind == CAIRN_MAP_SPECIAL || !(m->flags & CAIRN_MAPF_DATA) ||
            !(m->flags & CAIRN_MAPF_SPARSE))
            continue;
        uint64_t len = m->end - m->start;
        long p = len > RH_SCRATCH_MAX ? -1
                 : syscall(SYS_mmap, 0, len, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == -1) {
            res->sparse_skipped++;
            continue;
        }
        scratch = (void *)p, scratch_len = len;
        fill_map = (long)i, fill_start = m->start, fill_end = m->end;
        res->fill_map = (long)i;
        img.maps[i].start = (uint64_t)p;
        img.maps[i].end = (uint64_t)p + len;
        static struct cairn_proc_extent ext[CAIRN_PROC_MAX_EXTENTS];
        struct r_src src = r_src_of(i);
        r_fill_sparse(&src, ext);
        end_fill();
        res->fill_map = -1;
        res->sparse_filled++;
    }
}

/* The restorer's sequence (restore.c restore_main), up to what changes
   the process. */
static void run_reader(const char *path, unsigned flags, struct rh_result *res)
{
    loaded = 1;
    /* cairn run hands the restorer the image open; it never opens a path */
    int fd = (int)syscall(SYS_open, path, 0 /* O_RDONLY */, 0);
    res->load = fd < 0 ? -1 : r_load_image(fd, path);
    if (res->load == 0 && (flags & RH_LAYOUT))
        res->layout = r_check_layout();
    if (res->load == 0 && (flags & RH_IDENT))
        r_ident_load();
    if (res->load == 0 && (flags & RH_IDENT) && (flags & RH_THREADS)) {
        res->threads = r_threads_load(r_ident_pid());
        if (res->threads == 0)
            res->timers = r_timers_load();
    }
    if (res->load == 0 && (flags & RH_SPARSE))
        run_fill_sparse(res);
}

int rh_run_path(const char *path, unsigned flags, struct rh_result *res)
{
    rh_reset();
    memset(res, 0, sizeof *res);
    res->layout = res->threads = res->timers = 1;
    res->exit_status = -1;
    res->fill_map = -1;
    cur_res = res;
    if (setjmp(exit_jmp) == 0) {
        exit_armed = 1;
        run_reader(path, flags, res);
    }
    exit_armed = 0;
    end_fill(); /* fill_sparse may have ended in r_exit */
    cur_res = NULL;
    return res->load;
}

int rh_run(const void *data, size_t size, unsigned flags, struct rh_result *res)
{
    rh_reset();
    int fd = (int)syscall(SYS_memfd_create, "cairn-restore-hosted", 1u /* MFD_CLOEXEC */);
    if (fd < 0)
        return -3;
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, (const char *)data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -3;
        }
        done += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    rh_run_path(path, flags, res);
    memfd = fd; /* after rh_run_path's reset; closed by the next one */
    return res->load;
}

const struct cairn_proc_task *rh_task(int *have)
{
    *have = have_task;
    return &task;
}

const struct cairn_proc_siginfo *rh_sigq(void)
{
    return sigq;
}

const struct cairn_proc_thread *rh_threads(uint64_t *n, const struct cairn_proc_tsig **q,
                                           uint64_t *nq)
{
    *n = nthreads;
    *q = tsig;
    *nq = ntsig;
    return threads;
}

const struct cairn_proc_timer *rh_timers(uint64_t *n)
{
    *n = ntimers;
    return timers;
}
