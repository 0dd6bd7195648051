/* SPDX-License-Identifier: MIT */
/*
 * bench_transparent.c — what `cairn run` costs for a job with N MiB of
 * touched memory (default 1024), next to what the machine does with the
 * same bytes, measured in one run on one directory (issue 3's benchmark).
 *
 * Rows, each repeated (median and min):
 *   memcpy              copying N MiB in memory
 *   write+fsync         writing N MiB to a new file in the same directory and
 *                       fsync'ing it, naive and streamed (sync_file_range
 *                       windows); the faster of the two is the disk limit
 *   job pause           how long the checkpoint signal handler kept the job
 *                       stopped (cairn's "job paused"), fresh job and
 *                       restored job
 *   durable             from cairn's request to the committed generation
 *                       (cairn's "durable after"), fresh job
 *   restore             from starting `cairn run` on the store to cairn's
 *                       "job restored" (the job runs again), with the part
 *                       until cairn names the verified image; warm (image in
 *                       the page cache) right after the job's memory was
 *                       freed, warm after the memory sat idle for --idle
 *                       seconds (these VMs give idle free memory back to
 *                       the host, and getting it back costs), and cold
 *                       (image dropped first), next to a plain read of the
 *                       cold image
 *
 * With --compress SPEC (cairn run's --compress, e.g. zstd or zstd:3), a
 * second job whose memory is half log-like text and half xorshift
 * (CAIRN_BENCH_CONTENT=halftext) runs with compression, and more rows:
 *   compressed: ratio   stored bytes / the writer's uncompressed bytes
 *   compressed: cairn   cairn's compression of the image, fsync included
 *                       (its "compressed: ... in T ms"): writer throughput
 *   durable compressed  request to commit with compression
 *   durable uncompressed  the same job and state without compression
 *   restore warm compressed: job running
 * next to memcpy and write+fsync of the same size, measured in the same run,
 * and next to the bounds this machine sets on the writer: its zstd (the
 * text half at the rate zstd makes of it on as many threads at once as
 * cairn's pool has, bench_zref.c) and its disk (the stored bytes at the
 * same run's write+fsync rate).
 *
 * Then (unless --no-full-speed) the time to full speed (bench_sweep.c): a
 * second job sweeps its whole state, reporting each 1/256 of a pass; rows:
 *   sweep: pass, uninterrupted   its pass before any checkpoint
 *   copy warm / copy, N s idle / map warm / map, N s idle (CAIRN_RESTORE_MAP=1):
 *     job running   cairn's "job restored", as above
 *     first slice   the restored job's first report (its first instruction
 *                   ran at most one slice before)
 *     full speed    the start of the first pass-long stretch of its slices
 *                   within 10% of the uninterrupted pass of the same rep
 *     first pass    the first whole pass after its first report
 *
 * --size takes a list (256M,1G,4G): one table per size, a size skipped if
 * the memory it needs is not available.

 * The job is this program run as `--job MIB BENCHPID`: xorshift contents
 * (incompressible), then it idles, touching one word per 10 ms.
 * Every image is full (CAIRN_FULL_EVERY=1 unless set): cairn-bench-incr
 * measures deltas.
 * Benchmarks only print; nothing here decides pass or fail of CI.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bench_ckpt.h"
#include "bench_sweep.h"
#include "bench_trun.h"
#include "bench_util.h"
#include "bench_zref.h"

struct config {
    char dir[PATH_MAX];       /* run directory (fresh subdirectory) */
    char cairn[PATH_MAX];
    char self[PATH_MAX];
    uint64_t sizes[8];
    int nsizes;
    uint64_t size;            /* the one being measured */
    int reps;
    int idle;                 /* seconds of idle memory before a restore */
    int drop_caches;
    int full_speed;           /* the sweeping job's rows (bench_sweep.c) */
    int verbose;
    const char *compress;     /* --compress SPEC: the compressed rows; NULL: none */
    struct bench_stream stream;
};

/* One kind of restore: until the job runs, until cairn named the verified
   image, the job's CPU time then (the restorer's), and the pause of one
   checkpoint of the restored job (not for cold restores). */
struct restore_runs {
    struct bench_runs total, verify, cpu, pause;
};

/* The half-text job with and without --compress. */
struct compressed_runs {
    struct bench_runs pack, durable, plain_durable, restore;
    uint64_t raw, stored, plain_bytes;
    struct zref ref; /* zstd on this machine on the text half alone (bench_zref.c) */
};

struct results {
    struct bench_refs ref;
    struct compressed_runs z;
    struct bench_runs pause, durable, cold_read;
    struct restore_runs warm, idle, cold;
    struct sweep_results sweep;
    uint64_t image_bytes;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cairn-bench-transparent [options]\n"
            "  --size LIST     touched memory of the job, e.g. 256M,1G,4G (default 1G)\n"
            "  --reps N        repetitions (default 3)\n"
            "  --idle SECS     idle memory before the idle restore (default 10; 0: no row)\n"
            "  --dir DIR       directory for the store and the reference files (default\n"
            "                  $TMPDIR, else /tmp); a fresh subdirectory is made, removed\n"
            "  --drop-caches   cold restore: write 1 to /proc/sys/vm/drop_caches (root)\n"
            "                  instead of posix_fadvise(DONTNEED) on the image\n"
            "  --chunk SIZE, --window SIZE   streamed reference (default 512K, 64M)\n"
            "  --cairn PATH    the cairn program (default: next to this one)\n"
            "  --compress SPEC also the rows of a half-text job under cairn run\n"
            "                  --compress SPEC (zstd, zstd:LEVEL)\n"
            "  --no-full-speed leave out the rows of the sweeping job (time to full speed\n"
            "                  after copying and mapped restores, warm and after --idle)\n"
            "  --verbose       echo cairn's messages\n");
}

/* "256M,1G,4G" into c->sizes: 0, or -1 if a size is bad or too small. */
static int parse_sizes(struct config *c, const char *list)
{
    c->nsizes = bench_parse_sizes(list, c->sizes, (int)(sizeof c->sizes / sizeof c->sizes[0]));
    for (int i = 0; i < c->nsizes; i++)
        if (c->sizes[i] < (1u << 20))
            return -1;
    return c->nsizes > 0 ? 0 : -1;
}

static int parse_args(struct config *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"size", required_argument, 0, 's'}, {"reps", required_argument, 0, 'r'},
        {"dir", required_argument, 0, 'd'},  {"drop-caches", no_argument, 0, 'D'},
        {"chunk", required_argument, 0, 'c'}, {"window", required_argument, 0, 'w'},
        {"cairn", required_argument, 0, 'C'}, {"verbose", no_argument, 0, 'v'},
        {"idle", required_argument, 0, 'i'}, {"help", no_argument, 0, 'h'},
        {"compress", required_argument, 0, 'z'}, {"no-full-speed", no_argument, 0, 'F'},
        {0, 0, 0, 0}};
    const char *t = getenv("TMPDIR");
    snprintf(c->dir, sizeof c->dir, "%s", t && *t ? t : "/tmp");
    bench_beside_me(c->cairn, sizeof c->cairn, "cairn");
    bench_beside_me(c->self, sizeof c->self, "cairn-bench-transparent");
    c->sizes[0] = 1ull << 30;
    c->nsizes = 1;
    c->reps = 3;
    c->idle = 10;
    c->full_speed = 1;
    c->stream = (struct bench_stream){.chunk = 512u << 10, .window = 64ull << 20};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (o) {
        case 's': bad = parse_sizes(c, optarg); break;
        case 'r': c->reps = atoi(optarg); bad = c->reps < 1 || c->reps > BENCH_MAX_REPS; break;
        case 'i': c->idle = atoi(optarg); bad = c->idle < 0 || c->idle > 3600; break;
        case 'd': snprintf(c->dir, sizeof c->dir, "%s", optarg); break;
        case 'D': c->drop_caches = 1; break;
        case 'c': bad = bench_parse_size(optarg, &c->stream.chunk); break;
        case 'w': bad = bench_parse_size(optarg, &c->stream.window); break;
        case 'C': snprintf(c->cairn, sizeof c->cairn, "%s", optarg); break;
        case 'v': c->verbose = 1; break;
        case 'z': c->compress = optarg; break;
        case 'F': c->full_speed = 0; break;
        case 'h': usage(stdout); exit(0);
        default: bad = 1; break;
        }
        if (bad) {
            usage(stderr);
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

/* The newest generation's file in the store. */
static int newest_image(const char *store, char *out, size_t len)
{
    DIR *d = opendir(store);
    char best[256] = "";
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "ckpt-", 5) && strstr(e->d_name, ".cairn") &&
            strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    if (d)
        closedir(d);
    snprintf(out, len, "%s/%s", store, best);
    return best[0] ? 0 : -1;
}

/* A fresh job: the references and one checkpoint per repetition. */
static int fresh_rows(const struct config *c, struct trun *t, struct results *r)
{
    struct bench_ref_bufs b;
    int rc = io_ref_bufs(&b, c->size) == 0 ? trun_start_fresh(t) : -1;
    for (int i = 0; rc == 0 && i < c->reps; i++) {
        struct tckpt k;
        rc = io_references(c->dir, b.src, b.dst, c->size, &c->stream, &r->ref);
        if (rc == 0 && (rc = trun_checkpoint(t, &k)) == 0) {
            bench_add(&r->pause, k.pause);
            bench_add(&r->durable, k.durable);
            r->image_bytes = k.bytes;
        }
    }
    io_ref_bufs_free(&b);
    struct tckpt k;
    return rc == 0 ? trun_stop(t, &k) : (trun_kill(t), -1);
}

/* Seconds to read path whole with 512 KiB preads, after dropping it from
   the page cache, which is dropped again afterwards; -1 on error. */
static double cold_read(const char *path, int drop_caches)
{
    static char buf[512 << 10];
    if (io_drop_cache(path, drop_caches) < 0)
        return -1;
    double t0 = bench_now();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = 1;
    for (off_t off = 0; fd >= 0 && n > 0; off += n)
        n = pread(fd, buf, sizeof buf, off);
    double t = bench_now() - t0;
    if (fd >= 0)
        close(fd);
    return fd < 0 || n < 0 || io_drop_cache(path, drop_caches) < 0 ? -1 : t;
}

/* A restore of the store into x, then, if checkpoint, one checkpoint of the
   restored job; then SIGTERM (cairn checkpoints and stops the job). */
static int restore_once(struct trun *t, struct restore_runs *x, int checkpoint)
{
    double v, total;
    struct tckpt k;
    if (trun_start_restore(t, &v, &total) < 0)
        return -1;
    bench_add(&x->total, total);
    bench_add(&x->verify, v);
    bench_add(&x->cpu, t->restore_cpu);
    if (checkpoint && trun_checkpoint(t, &k) < 0)
        return -1;
    if (checkpoint)
        bench_add(&x->pause, k.pause);
    return trun_stop(t, &k);
}

/* Restores: warm (then one checkpoint of the restored job), warm after the
   job's freed memory sat idle for c->idle seconds (the same; the image
   written by the last stop is still in the page cache), and cold. */
static int restore_rows(const struct config *c, struct trun *t, struct results *r)
{
    for (int i = 0; i < c->reps; i++) {
        if (restore_once(t, &r->warm, 1) < 0)
            return -1;
        if (c->idle) {
            sleep((unsigned)c->idle);
            if (restore_once(t, &r->idle, 1) < 0)
                return -1;
        }
        char image[PATH_MAX + 300];
        double read = newest_image(t->store, image, sizeof image) < 0
                          ? -1 : cold_read(image, c->drop_caches);
        if (read < 0) {
            fprintf(stderr, "cairn-bench-transparent: cannot read or drop %s from the cache\n",
                    image);
            return -1;
        }
        bench_add(&r->cold_read, read);
        if (restore_once(t, &r->cold, 0) < 0)
            return -1;
    }
    return 0;
}

/* The threads of cairn's compression pool: one per core, at most 8, as
   workers() in cli/run_compress.c counts them (a static of the cairn
   program, so repeated here; keep the two alike). */
static int pool_threads(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores > 8 ? 8 : (int)cores;
}

/* The half-text job: reps checkpoints with compression (then a warm
   restore of the last), and as many without, each in a store of its own. */
static int compressed_rows(const struct config *c, struct results *r)
{
    char store[PATH_MAX + 32];
    snprintf(store, sizeof store, "%s/store-z", c->dir);
    setenv("CAIRN_BENCH_CONTENT", "halftext", 1);
    int rc = 0;
    for (int with = 0; rc == 0 && with < 2; with++) {
        struct trun t = {.cairn = c->cairn, .self = c->self, .store = store,
                         .mib = c->size >> 20, .verbose = c->verbose,
                         .compress = with ? c->compress : NULL};
        struct tckpt k;
        rc = trun_start_fresh(&t);
        for (int i = 0; rc == 0 && i < c->reps; i++)
            if ((rc = trun_checkpoint(&t, &k)) == 0) {
                bench_add(with ? &r->z.durable : &r->z.plain_durable, k.durable);
                if (with)
                    bench_add(&r->z.pack, k.pack), r->z.raw = k.raw, r->z.stored = k.stored;
                else
                    r->z.plain_bytes = k.bytes;
            }
        rc = rc == 0 ? trun_stop(&t, &k) : (trun_kill(&t), -1);
        double v, total;
        for (int i = 0; rc == 0 && with && i < c->reps; i++) {
            rc = trun_start_restore(&t, &v, &total);
            if (rc == 0) {
                bench_add(&r->z.restore, total);
                rc = trun_stop(&t, &k);
            }
        }
        bench_remove_dir(store);
    }
    unsetenv("CAIRN_BENCH_CONTENT");
    if (rc == 0)
        rc = zref_measure(zref_level(c->compress), 64u << 20, pool_threads(), 3, &r->z.ref);
    return rc;
}

/* cairn's writer throughput against the bounds this machine sets: its zstd
   (bench_zref.c: twice what zstd makes of the text on as many threads at
   once as cairn's pool has) and its disk (the stored bytes at the same
   run's write+fsync rate). With both overlapped the lower one is the
   writer's limit. */
static void compressed_bound(const struct config *c, const struct results *r)
{
    const struct compressed_runs *z = &r->z;
    double zbound = 2.0 * z->ref.rate_all;
    double disk = (double)c->size / bench_min(&r->ref.disk);
    double dbound = z->stored ? disk * (double)z->raw / (double)z->stored : 0;
    double bound = dbound > 0 && dbound < zbound ? dbound : zbound;
    double best = z->raw / bench_min(&z->pack);
    printf("zstd level %d on this machine, the text half alone (to %.1f%%): %.0f MB/s on one "
           "thread, %.0f MB/s on %d at once; writer bounds: zstd %.2f GB/s (text at that rate, "
           "the random half free), disk %.2f GB/s (stored bytes at write+fsync); cairn's best / "
           "lower bound %.2fx\n", zref_level(c->compress), 100.0 * z->ref.ratio, z->ref.rate / 1e6,
           z->ref.rate_all / 1e6, z->ref.threads, zbound / 1e9, dbound / 1e9, best / bound);
}

/* The sweeping job in a store of its own: bench_sweep.c. */
static int full_speed_rows(const struct config *c, struct results *r)
{
    char store[PATH_MAX + 32];
    snprintf(store, sizeof store, "%s/store-sweep", c->dir);
    struct trun t = {.cairn = c->cairn, .self = c->self, .store = store,
                     .mib = c->size >> 20, .verbose = c->verbose};
    int rc = sweep_rows(&t, c->reps, c->idle, &r->sweep);
    bench_remove_dir(store);
    return rc;
}

static void row(const char *name, const struct bench_runs *x, const struct results *r,
                double scale, const char *unit)
{
    double md = bench_median(&r->ref.disk), mn = bench_min(&r->ref.disk);
    double mmin = bench_min(&r->ref.memcpy_);
    printf("%-28s %10.3f %10.3f %s %7.2fx %7.2fx %8.2fx\n", name, bench_median(x) * scale,
           bench_min(x) * scale, unit, bench_median(x) / md, bench_min(x) / mn,
           bench_min(x) / mmin);
}

/* The rows of one kind of restore of the sweeping job. */
static void sweep_kind(const char *kind, const struct sweep_runs *x, const struct results *r)
{
    char name[64];
    snprintf(name, sizeof name, "%s: job running", kind);
    row(name, &x->running, r, 1, "s ");
    snprintf(name, sizeof name, "%s: first slice", kind);
    row(name, &x->first, r, 1, "s ");
    snprintf(name, sizeof name, "%s: full speed", kind);
    if (x->full.n)
        row(name, &x->full, r, 1, "s ");
    if (x->not_reached)
        printf("%-28s not reached in %d passes, %d of %d reps\n", name, r->sweep.passes,
               x->not_reached, x->running.n);
    snprintf(name, sizeof name, "%s: first pass", kind);
    row(name, &x->first_pass, r, 1, "s ");
}

/* Median and min over the repetitions of each one's first pass after the
   restore divided by its own steady pass. */
static void pass_ratio(const char *kind, const struct sweep_runs *x)
{
    struct bench_runs q = {0};
    for (int i = 0; i < x->first_pass.n && i < x->steady.n; i++)
        bench_add(&q, x->first_pass.t[i] / x->steady.t[i]);
    printf(" %s %.2fx / %.2fx;", kind, bench_median(&q), bench_min(&q));
}

static void sweep_table(const struct config *c, const struct results *r)
{
    const struct sweep_results *w = &r->sweep;
    char copy_idle[40], map_idle[40];
    snprintf(copy_idle, sizeof copy_idle, "copy, %d s idle", c->idle);
    snprintf(map_idle, sizeof map_idle, "map, %d s idle", c->idle);
    printf("sweeping job (adds 1 to every word, reports each 1/%d of a pass); times from the "
           "start of cairn run; full speed = start of the first pass-long stretch within "
           "%.0f%% of the same rep's uninterrupted pass\n", SWEEP_SLICES,
           (SWEEP_TOLERANCE - 1) * 100);
    row("sweep: pass, uninterrupted", &w->steady, r, 1, "s ");
    sweep_kind("copy warm", &w->copy, r);
    if (c->idle)
        sweep_kind(copy_idle, &w->copy_idle, r);
    sweep_kind("map warm", &w->map, r);
    if (c->idle)
        sweep_kind(map_idle, &w->map_idle, r);
    printf("first pass after restore / uninterrupted pass (median / min):");
    pass_ratio("copy warm", &w->copy);
    if (c->idle)
        pass_ratio(copy_idle, &w->copy_idle);
    pass_ratio("map warm", &w->map);
    if (c->idle)
        pass_ratio(map_idle, &w->map_idle);
    printf("\n");
}

static void table(const struct config *c, const struct results *r)
{
    char sz[32], load[64];
    bench_loadavg(load, sizeof load);
    printf("\ncairn run, %s touched (job of %s), %d reps, in %s; load %s\n",
           bench_size_str(c->size, sz, sizeof sz), c->self, c->reps, c->dir, load);
    printf("cold = image dropped from the page cache with %s\n",
           c->drop_caches ? "/proc/sys/vm/drop_caches" : "posix_fadvise(POSIX_FADV_DONTNEED)");
    printf("image %.3f GB; x disk = time / write+fsync (best of naive and streamed), median/median "
           "and min/min; x memcpy min/min\n", r->image_bytes / 1e9);
    printf("%-28s %10s %10s %s %8s %8s %9s\n", "", "median", "min", "  ", "x disk", "(min)",
           "x memcpy");
    row("memcpy", &r->ref.memcpy_, r, 1, "s ");
    row("xxh3, one core (verify)", &r->ref.hash, r, 1, "s ");
    row("write+fsync naive", &r->ref.naive, r, 1, "s ");
    row("write+fsync streamed", &r->ref.streamed, r, 1, "s ");
    row("disk limit (best of both)", &r->ref.disk, r, 1, "s ");
    row("job pause (fresh job)", &r->pause, r, 1e3, "ms");
    row("job pause (restored job)", &r->warm.pause, r, 1e3, "ms");
    row("durable (request->commit)", &r->durable, r, 1, "s ");
    row("restore warm: verified", &r->warm.verify, r, 1, "s ");
    row("restore warm: job running", &r->warm.total, r, 1, "s ");
    row("restore warm: CPU of the job", &r->warm.cpu, r, 1, "s ");
    char name[64];
    if (c->idle) {
        snprintf(name, sizeof name, "restore, %d s idle: verified", c->idle);
        row(name, &r->idle.verify, r, 1, "s ");
        snprintf(name, sizeof name, "restore, %d s idle: running", c->idle);
        row(name, &r->idle.total, r, 1, "s ");
        snprintf(name, sizeof name, "restore, %d s idle: CPU", c->idle);
        row(name, &r->idle.cpu, r, 1, "s ");
        row("job pause (idle-restored job)", &r->idle.pause, r, 1e3, "ms");
    }
    row("read of the image, cold", &r->cold_read, r, 1, "s ");
    row("restore cold: verified", &r->cold.verify, r, 1, "s ");
    row("restore cold: job running", &r->cold.total, r, 1, "s ");
    row("restore cold: CPU of the job", &r->cold.cpu, r, 1, "s ");
    if (c->full_speed)
        sweep_table(c, r);
    double gib = (double)r->image_bytes / (1u << 30);
    if (c->compress) {
        const struct compressed_runs *z = &r->z;
        printf("half-text job, cairn run --compress %s: %.3f GB uncompressed (%.3f GB without "
               "--compress), %.3f GB stored\n", c->compress, z->raw / 1e9, z->plain_bytes / 1e9,
               z->stored / 1e9);
        row("compressed: cairn packs+fsync", &z->pack, r, 1, "s ");
        row("durable compressed", &z->durable, r, 1, "s ");
        row("durable uncompressed", &z->plain_durable, r, 1, "s ");
        row("restore warm compressed", &z->restore, r, 1, "s ");
        printf("compressed: ratio %.1f%% (target <= 60%%), writer throughput %.2f GB/s median, "
               "%.2f GB/s best (target >= 1); memcpy %.2f GB/s, write+fsync %.2f GB/s (best)\n",
               z->raw ? 100.0 * (double)z->stored / (double)z->raw : 0,
               z->raw / bench_median(&z->pack) / 1e9, z->raw / bench_min(&z->pack) / 1e9,
               c->size / bench_min(&r->ref.memcpy_) / 1e9, c->size / bench_min(&r->ref.disk) / 1e9);
        compressed_bound(c, r);
    }
    printf("per GiB of image (median / min): restore warm %.3f / %.3f s",
           bench_median(&r->warm.total) / gib, bench_min(&r->warm.total) / gib);
    if (c->idle)
        printf(", after %d s idle %.3f / %.3f s (CPU %.3f / %.3f s)", c->idle,
               bench_median(&r->idle.total) / gib, bench_min(&r->idle.total) / gib,
               bench_median(&r->idle.cpu) / gib, bench_min(&r->idle.cpu) / gib);
    printf(" (target <= 0.15); xxh3 of the state on one core, the restorer's "
           "verification alone, %.3f / %.3f s\n",
           bench_median(&r->ref.hash) / ((double)c->size / (1u << 30)),
           bench_min(&r->ref.hash) / ((double)c->size / (1u << 30)));
    printf("restore cold / cold read of the image: %.2fx / %.2fx (target <= 1.1x); "
           "restore warm / memcpy %.2fx (min/min)\n",
           bench_median(&r->cold.total) / bench_median(&r->cold_read),
           bench_min(&r->cold.total) / bench_min(&r->cold_read),
           bench_min(&r->warm.total) / bench_min(&r->ref.memcpy_));
    fflush(stdout);
}

/* Every row for one size, in its own store; a size whose job, state and
   memcpy target would not fit in the available memory is skipped. 0 or 1. */
static int one_size(struct config *c, uint64_t size)
{
    char sz[32], store[PATH_MAX + 32];
    uint64_t avail = bench_mem_available(), need = 3 * size + (512ull << 20);
    if (avail && avail < need) {
        printf("\n%s: skipped, needs %llu MiB of memory, %llu MiB available\n",
               bench_size_str(size, sz, sizeof sz), (unsigned long long)(need >> 20),
               (unsigned long long)(avail >> 20));
        return 0;
    }
    c->size = size;
    snprintf(store, sizeof store, "%s/store-%llu", c->dir, (unsigned long long)(size >> 20));
    struct trun t = {.cairn = c->cairn, .self = c->self, .store = store,
                     .mib = size >> 20, .verbose = c->verbose};
    struct results *r = calloc(1, sizeof *r);
    int rc = r && fresh_rows(c, &t, r) == 0 && restore_rows(c, &t, r) == 0 &&
             (!c->compress || compressed_rows(c, r) == 0) &&
             (!c->full_speed || full_speed_rows(c, r) == 0) ? 0 : 1;
    if (rc == 0)
        table(c, r);
    free(r);
    bench_remove_dir(store);
    return rc;
}

int main(int argc, char **argv)
{
    if (bench_is_job(argc, argv))
        return bench_job_main(argc, argv);
    struct config c = {0};
    if (parse_args(&c, argc, argv) < 0)
        return 2;
    /* An orphaned job (cairn killed on an error path) becomes our child and,
       seeing us as its parent, exits. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* Every row is about full images (cairn-bench-incr measures deltas):
       with incremental images on by default, the second checkpoint of a
       run would be a delta of a few MB and the restore a chain. */
    setenv("CAIRN_FULL_EVERY", "1", 0);
    char tmpl[PATH_MAX];
    if (snprintf(tmpl, sizeof tmpl, "%s/cairn-bench-tr-XXXXXX", c.dir) >= (int)sizeof tmpl ||
        !mkdtemp(tmpl)) {
        perror("cairn-bench-transparent: mkdtemp");
        return 1;
    }
    memcpy(c.dir, tmpl, sizeof c.dir);
    int rc = 0;
    for (int i = 0; rc == 0 && i < c.nsizes; i++)
        rc = one_size(&c, c.sizes[i]);
    bench_remove_dir(c.dir);
    return rc;
}
