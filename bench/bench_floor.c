/* SPDX-License-Identifier: MIT */
/*
 * bench_floor.c — cairn-bench-floor: the least this kernel and machine let
 * two of issue 13's targets cost, whatever cairn does around them:
 *   - a delta checkpoint's pause (< 5 ms plus 1 ms per 100 MiB written
 *     since the previous checkpoint, up to 16 GiB of state), below;
 *   - a copying restore after idle memory (<= 0.15 s per GiB, verified):
 *     the copy needs fresh memory for the whole image, and these VMs give
 *     idle free memory back to their host, so getting it again is timed:
 *     MADV_POPULATE_WRITE of 1 GiB on 4 KiB and on huge pages, right after
 *     the same amount was freed and after --idle seconds (10; 0: skip).
 *
 * A pause must leave the job with a consistent snapshot of what it wrote.
 * On Linux 6.x there are two ways to know the written pages without a
 * fork, and each has a floor measured here on the same memory:
 *
 *   scan and copy (what runtime/dirty.c and stage.c do): PAGEMAP_SCAN with
 *     PM_SCAN_WP_MATCHING lists the pages written since the last scan and
 *     protects them again in the same walk (asynchronous write-protect: no
 *     fault reaches a thread), then the written pages are copied aside
 *     before the job runs on. The walk visits every page table entry,
 *     written or not; the copy moves every written byte.
 *   protect and copy on first write: a synchronous write-protect fault
 *     tells a thread of cairn's about each first write, so no walk is
 *     needed and the copy can wait for the job's next write to the page.
 *     But each written page must be protected again at the pause, and the
 *     batched re-protect of PAGEMAP_SCAN works only in asynchronous mode
 *     (the kernel skips other vmas), so that is one UFFDIO_WRITEPROTECT per
 *     run of written pages.
 *
 * Rows, per state size, on one private anonymous mapping filled once and
 * registered for asynchronous write-protect (it is what the runtime
 * tracks); each repetition writes one word in PERMILLE/1000 of its pages
 * (distinct, random; --run N: in runs of N pages):
 *   scan + re-protect          the tracker's PAGEMAP_SCAN after the writes
 *   walk, nothing written      the same scan again: the walk alone
 *   copy of the written pages  each written page into a buffer faulted in
 *   memcpy, same bytes         one contiguous memcpy of as many bytes
 *   protect each run           UFFDIO_WRITEPROTECT of each written run
 * and the two designs' floors next to the target. Then what each design
 * costs the job between checkpoints: its first write to each protected
 * page, resolved by the kernel (asynchronous, today's tracker) or by a
 * thread reading the userfaultfd (synchronous, what copy on first write
 * needs), in microseconds per page over 64 MiB. --huge asks for
 * transparent huge pages (MADV_HUGEPAGE) instead of refusing them: a write
 * to a protected huge page splits it, so only memory never written since
 * the fill stays cheap to walk.
 *
 * Benchmarks only print; nothing here decides pass or fail of CI.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_util.h"
#include "dirty_uapi.h"

#define ME "cairn-bench-floor"
#define PAGE 4096ull
#define VEC 4096

struct opts {
    uint64_t sizes[8];
    int nsizes, reps, huge, idle;
    unsigned permille, run;
};

struct state {
    unsigned char *mem, *copy;
    uint64_t pages, *runs, nruns; /* first page of each written run */
    int uffd, pagemap;
};

static struct page_region_ vec[VEC];

/* One PAGEMAP_SCAN over the whole state, re-protecting what it finds
   (wp) or only listing it; returns the written pages found, or -1. */
static long scan(const struct state *s, int wp)
{
    uint64_t at = (uint64_t)s->mem, end = at + s->pages * PAGE;
    long found = 0;
    while (at < end) {
        struct pm_scan_arg_ a = {.size = sizeof a, .flags = wp ? PM_SCAN_WP_MATCHING_ : 0,
                                 .start = at, .end = end, .vec = (uint64_t)vec, .vec_len = VEC,
                                 .category_mask = PAGE_IS_WRITTEN_,
                                 .return_mask = PAGE_IS_WRITTEN_};
        long n = ioctl(s->pagemap, PAGEMAP_SCAN_, &a);
        if (n < 0 || a.walk_end <= at)
            return -1;
        for (long i = 0; i < n; i++)
            found += (long)((vec[i].end - vec[i].start) / PAGE);
        at = a.walk_end;
    }
    return found;
}

static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

/* Picks nruns distinct runs of opt->run pages, aligned to their length. */
static void pick_runs(struct state *s, const struct opts *o, uint64_t seed)
{
    uint64_t slots = s->pages / o->run, x = seed * 0x9e3779b97f4a7c15ull + 1;
    unsigned char *taken = calloc(slots, 1);
    if (!taken)
        exit(1);
    for (uint64_t i = 0; i < s->nruns;) {
        uint64_t k = next_random(&x) % slots;
        if (!taken[k]) {
            taken[k] = 1;
            s->runs[i++] = k * o->run;
        }
    }
    free(taken);
}

static void write_runs(const struct state *s, unsigned run)
{
    for (uint64_t i = 0; i < s->nruns; i++)
        for (unsigned p = 0; p < run; p++)
            s->mem[(s->runs[i] + p) * PAGE + 8]++;
}

static double timed_copy(const struct state *s, unsigned run)
{
    double t = bench_now();
    for (uint64_t i = 0; i < s->nruns; i++)
        memcpy(s->copy + i * run * PAGE, s->mem + s->runs[i] * PAGE, run * PAGE);
    return bench_now() - t;
}

static double timed_protect(const struct state *s, unsigned run)
{
    double t = bench_now();
    for (uint64_t i = 0; i < s->nruns; i++) {
        struct uffdio_writeprotect_ w = {.start = (uint64_t)s->mem + s->runs[i] * PAGE,
                                         .len = run * PAGE, .mode = UFFDIO_WRITEPROTECT_MODE_WP_};
        if (ioctl(s->uffd, UFFDIO_WRITEPROTECT_, &w) < 0) {
            perror(ME ": UFFDIO_WRITEPROTECT");
            exit(1);
        }
    }
    return bench_now() - t;
}

static int setup(struct state *s, uint64_t size, const struct opts *o)
{
    s->pages = size / PAGE;
    s->nruns = s->pages * o->permille / 1000 / o->run;
    if (!s->nruns)
        s->nruns = 1;
    s->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    s->copy = mmap(NULL, s->nruns * o->run * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    s->runs = calloc(s->nruns, sizeof *s->runs);
    if (s->mem == MAP_FAILED || s->copy == MAP_FAILED || !s->runs)
        return -1;
    madvise(s->mem, size, o->huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    memset(s->mem, 0x5a, size);
    s->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY_);
    struct uffdio_api_ api = {.api = UFFD_API_,
                              .features = UFFD_FEATURE_WP_ASYNC_ | UFFD_FEATURE_WP_UNPOPULATED_};
    struct uffdio_register_ reg = {.start = (uint64_t)s->mem, .len = size,
                                   .mode = UFFDIO_REGISTER_MODE_WP_};
    s->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (s->uffd < 0 || ioctl(s->uffd, UFFDIO_API_, &api) < 0 ||
        ioctl(s->uffd, UFFDIO_REGISTER_, &reg) < 0 || s->pagemap < 0) {
        perror(ME ": userfaultfd (Linux 6.7 or later, vm.unprivileged_userfaultfd not needed)");
        return -1;
    }
    return scan(s, 1) < 0 ? -1 : 0; /* the first protection, as a job's first checkpoint */
}

static void teardown(struct state *s, uint64_t size, const struct opts *o)
{
    close(s->uffd);
    close(s->pagemap);
    munmap(s->mem, size);
    munmap(s->copy, s->nruns * o->run * PAGE);
    free(s->runs);
}

/* The synchronous userfaultfd's message (linux/userfaultfd.h, packed). */
struct uffd_msg_ {
    uint8_t event, reserved1;
    uint16_t reserved2;
    uint32_t reserved3;
    uint64_t flags, address, feat;
};
#define UFFD_EVENT_PAGEFAULT_ 0x12

/* The thread copy on first write would need: it takes each write fault
   and lifts the page's protection, which wakes the writer. */
static void *resolve_faults(void *arg)
{
    int uffd = *(int *)arg;
    struct uffd_msg_ msg;
    while (read(uffd, &msg, sizeof msg) == (ssize_t)sizeof msg) {
        if (msg.event != UFFD_EVENT_PAGEFAULT_)
            continue;
        struct uffdio_writeprotect_ w = {.start = msg.address & ~(PAGE - 1), .len = PAGE};
        ioctl(uffd, UFFDIO_WRITEPROTECT_, &w);
    }
    return NULL;
}

/* Microseconds per page of the job's first write to each page of a
   protected 64 MiB, with the kernel (async) or a thread (sync) resolving
   the fault; -1 if the kernel refuses. */
static double first_write_us(int sync)
{
    const uint64_t len = 64ull << 20;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY_);
    struct uffdio_api_ api = {.api = UFFD_API_, .features = sync ? 0 : UFFD_FEATURE_WP_ASYNC_};
    struct uffdio_register_ reg = {.start = (uint64_t)m, .len = len,
                                   .mode = UFFDIO_REGISTER_MODE_WP_};
    struct uffdio_writeprotect_ wp = {.start = (uint64_t)m, .len = len,
                                      .mode = UFFDIO_WRITEPROTECT_MODE_WP_};
    double us = -1;
    pthread_t th;
    if (m == MAP_FAILED || uffd < 0)
        goto out;
    madvise(m, len, MADV_NOHUGEPAGE);
    memset(m, 1, len);
    if (ioctl(uffd, UFFDIO_API_, &api) < 0 || ioctl(uffd, UFFDIO_REGISTER_, &reg) < 0 ||
        ioctl(uffd, UFFDIO_WRITEPROTECT_, &wp) < 0)
        goto out;
    if (sync && pthread_create(&th, NULL, resolve_faults, &uffd) != 0)
        goto out;
    double t = bench_now();
    for (uint64_t at = 0; at < len; at += PAGE)
        m[at]++;
    us = (bench_now() - t) * 1e6 / (double)(len / PAGE);
    if (sync) {
        pthread_cancel(th);
        pthread_join(th, NULL);
    }
out:
    if (uffd >= 0)
        close(uffd);
    if (m != MAP_FAILED)
        munmap(m, len);
    return us;
}

/* Seconds to fault in 1 GiB of fresh private memory, on huge pages or
   not, after `idle` seconds without it; -1 if the kernel refuses. */
static double fresh_gib(int huge, int idle)
{
    const uint64_t len = 1ull << 30;
    if (idle)
        sleep((unsigned)idle);
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    madvise(m, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    double t = bench_now();
    int rc = madvise(m, len, MADV_POPULATE_WRITE);
    t = bench_now() - t;
    munmap(m, len);
    return rc < 0 ? -1 : t;
}

static void fresh_rows(const struct opts *o)
{
    printf("fresh memory, 1 GiB (MADV_POPULATE_WRITE), s: median / min\n");
    for (int huge = 0; huge < 2; huge++)
        for (int idle = 0; idle < 2; idle++) {
            if (idle && !o->idle)
                continue;
            struct bench_runs r = {0};
            for (int i = 0; i < o->reps; i++) {
                fresh_gib(huge, 0); /* the same amount freed just before */
                bench_add(&r, fresh_gib(huge, idle ? o->idle : 0));
            }
            printf("  %-10s %-22s %7.3f / %.3f\n", huge ? "huge pages" : "4 KiB pages",
                   idle ? "after idle" : "right after a free", bench_median(&r), bench_min(&r));
        }
    printf("\n");
}

static void row(const char *name, const struct bench_runs *r)
{
    printf("  %-28s %9.2f %9.2f\n", name, bench_median(r) * 1e3, bench_min(r) * 1e3);
}

static int measure(uint64_t size, const struct opts *o)
{
    struct state s = {0};
    char sz[32];
    bench_size_str(size, sz, sizeof sz);
    uint64_t need = size + size * o->permille / 1000 + (256ull << 20);
    if (bench_mem_available() && bench_mem_available() < need) {
        printf("%s: skipped, MemAvailable below %llu MiB\n\n", sz, (unsigned long long)(need >> 20));
        return 0;
    }
    if (setup(&s, size, o) < 0)
        return -1;
    struct bench_runs sc = {0}, walk = {0}, cp = {0}, mc = {0}, prot = {0}, d1 = {0};
    long found = 0;
    uint64_t bytes = s.nruns * o->run * PAGE;
    for (int r = 0; r < o->reps; r++) {
        pick_runs(&s, o, (uint64_t)r + 1);
        write_runs(&s, o->run);
        double t = bench_now();
        found = scan(&s, 1);
        double t_scan = bench_now() - t;
        t = bench_now();
        scan(&s, 0);
        bench_add(&walk, bench_now() - t);
        write_runs(&s, o->run); /* written again: unprotected for the re-protect */
        double t_prot = timed_protect(&s, o->run);
        double t_copy = timed_copy(&s, o->run);
        t = bench_now();
        memcpy(s.copy, s.mem + PAGE * (s.pages / 2), bytes < size / 2 ? bytes : size / 2);
        bench_add(&mc, bench_now() - t);
        bench_add(&sc, t_scan);
        bench_add(&prot, t_prot);
        bench_add(&cp, t_copy);
        bench_add(&d1, t_scan + t_copy);
    }
    double target = 5e-3 + (double)bytes / (100.0 * 1048576) * 1e-3;
    printf("%s, %s pages, %llu runs of %u written (%.1f MiB, %ld pages found), %d reps\n", sz,
           o->huge ? "huge" : "4 KiB", (unsigned long long)s.nruns, o->run,
           (double)bytes / 1048576, found, o->reps);
    printf("  %-28s %9s %9s\n", "ms", "median", "min");
    row("scan + re-protect", &sc);
    row("walk, nothing written", &walk);
    row("copy of the written pages", &cp);
    row("memcpy, same bytes", &mc);
    row("protect each run", &prot);
    row("floor: scan and copy", &d1);
    row("floor: protect, copy later", &prot); /* the protect is all of it */
    double best = bench_min(&d1) < bench_min(&prot) ? bench_min(&d1) : bench_min(&prot);
    printf("  target %.2f ms; the better floor's min is %.2fx the target\n\n", target * 1e3,
           best / target);
    teardown(&s, size, o);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: " ME " [--sizes 1G,4G,16G] [--permille 10] [--run PAGES] [--huge]"
                    " [--reps 3] [--idle 10]\n");
}

int main(int argc, char **argv)
{
    struct opts o = {.sizes = {1ull << 30, 4ull << 30}, .nsizes = 2, .reps = 3,
                     .permille = 10, .run = 1, .idle = 10};
    static const struct option longs[] = {{"sizes", 1, 0, 's'}, {"permille", 1, 0, 'p'},
                                          {"run", 1, 0, 'r'},   {"huge", 0, 0, 'H'},
                                          {"reps", 1, 0, 'n'},  {"idle", 1, 0, 'i'},
                                          {0, 0, 0, 0}};
    for (int c; (c = getopt_long(argc, argv, "", longs, NULL)) != -1;) {
        if (c == 's' && (o.nsizes = bench_parse_sizes(optarg, o.sizes, 8)) > 0)
            continue;
        if (c == 'p' && (o.permille = (unsigned)atoi(optarg)) >= 1 && o.permille <= 1000)
            continue;
        if (c == 'r' && (o.run = (unsigned)atoi(optarg)) >= 1)
            continue;
        if (c == 'n' && (o.reps = atoi(optarg)) >= 1 && o.reps <= BENCH_MAX_REPS)
            continue;
        if (c == 'i' && (o.idle = atoi(optarg)) >= 0 && o.idle <= 3600)
            continue;
        if (c == 'H') {
            o.huge = 1;
            continue;
        }
        usage();
        return 2;
    }
    char load[64];
    bench_loadavg(load, sizeof load);
    printf(ME ": load average %s\n\n", load);
    fresh_rows(&o);
    for (int i = 0; i < o.nsizes; i++)
        if (measure(o.sizes[i], &o) < 0)
            return 1;
    for (int sync = 0; sync < 2; sync++) {
        struct bench_runs r = {0};
        for (int i = 0; i < o.reps; i++)
            bench_add(&r, first_write_us(sync));
        printf("job's first write to a protected page, %s: %.2f us median, %.2f min\n",
               sync ? "a thread resolves it (sync)" : "the kernel resolves it (async)",
               bench_median(&r), bench_min(&r));
    }
    return 0;
}
