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
 *                       the page cache) and cold (image dropped first),
 *                       next to a plain read of the cold image
 *
 * The job is this program run as `--job MIB BENCHPID`: xorshift contents
 * (incompressible), then it idles, touching one word per 10 ms.
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
#include "bench_trun.h"
#include "bench_util.h"

struct config {
    char dir[PATH_MAX];       /* run directory (fresh subdirectory) */
    char cairn[PATH_MAX];
    char self[PATH_MAX];
    uint64_t size;
    int reps;
    int drop_caches;
    int verbose;
    struct bench_stream stream;
};

struct results {
    struct bench_refs ref;
    struct bench_runs pause, durable, pause_restored;
    struct bench_runs warm, warm_verify, cold, cold_verify, cold_read;
    uint64_t image_bytes;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cairn-bench-transparent [options]\n"
            "  --size SIZE     touched memory of the job (default 1G)\n"
            "  --reps N        repetitions (default 3)\n"
            "  --dir DIR       directory for the store and the reference files (default\n"
            "                  $TMPDIR, else /tmp); a fresh subdirectory is made, removed\n"
            "  --drop-caches   cold restore: write 1 to /proc/sys/vm/drop_caches (root)\n"
            "                  instead of posix_fadvise(DONTNEED) on the image\n"
            "  --chunk SIZE, --window SIZE   streamed reference (default 512K, 64M)\n"
            "  --cairn PATH    the cairn program (default: next to this one)\n"
            "  --verbose       echo cairn's messages\n");
}

static int parse_args(struct config *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"size", required_argument, 0, 's'}, {"reps", required_argument, 0, 'r'},
        {"dir", required_argument, 0, 'd'},  {"drop-caches", no_argument, 0, 'D'},
        {"chunk", required_argument, 0, 'c'}, {"window", required_argument, 0, 'w'},
        {"cairn", required_argument, 0, 'C'}, {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *t = getenv("TMPDIR");
    snprintf(c->dir, sizeof c->dir, "%s", t && *t ? t : "/tmp");
    bench_beside_me(c->cairn, sizeof c->cairn, "cairn");
    bench_beside_me(c->self, sizeof c->self, "cairn-bench-transparent");
    c->size = 1ull << 30;
    c->reps = 3;
    c->stream = (struct bench_stream){.chunk = 512u << 10, .window = 64ull << 20};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (o) {
        case 's': bad = bench_parse_size(optarg, &c->size) || c->size < (1u << 20); break;
        case 'r': c->reps = atoi(optarg); bad = c->reps < 1 || c->reps > BENCH_MAX_REPS; break;
        case 'd': snprintf(c->dir, sizeof c->dir, "%s", optarg); break;
        case 'D': c->drop_caches = 1; break;
        case 'c': bad = bench_parse_size(optarg, &c->stream.chunk); break;
        case 'w': bad = bench_parse_size(optarg, &c->stream.window); break;
        case 'C': snprintf(c->cairn, sizeof c->cairn, "%s", optarg); break;
        case 'v': c->verbose = 1; break;
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
    void *src = malloc(c->size), *dst = malloc(c->size);
    int rc = src && dst ? trun_start_fresh(t) : -1;
    if (src && dst)
        io_fill_state(src, c->size), memset(dst, 1, c->size);
    for (int i = 0; rc == 0 && i < c->reps; i++) {
        struct tckpt k;
        rc = io_references(c->dir, src, dst, c->size, &c->stream, &r->ref);
        if (rc == 0 && (rc = trun_checkpoint(t, &k)) == 0) {
            bench_add(&r->pause, k.pause);
            bench_add(&r->durable, k.durable);
            r->image_bytes = k.bytes;
        }
    }
    free(src);
    free(dst);
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

/* Restores: warm (then one checkpoint of the restored job), and cold. */
static int restore_rows(const struct config *c, struct trun *t, struct results *r)
{
    for (int i = 0; i < c->reps; i++) {
        double v, total;
        struct tckpt k;
        if (trun_start_restore(t, &v, &total) < 0)
            return -1;
        bench_add(&r->warm, total);
        bench_add(&r->warm_verify, v);
        if (trun_checkpoint(t, &k) < 0 || trun_stop(t, &k) < 0)
            return -1;
        bench_add(&r->pause_restored, k.pause);
        char image[PATH_MAX + 300];
        double read = newest_image(t->store, image, sizeof image) < 0
                          ? -1 : cold_read(image, c->drop_caches);
        if (read < 0) {
            fprintf(stderr, "cairn-bench-transparent: cannot read or drop %s from the cache\n",
                    image);
            return -1;
        }
        bench_add(&r->cold_read, read);
        if (trun_start_restore(t, &v, &total) < 0)
            return -1;
        bench_add(&r->cold, total);
        bench_add(&r->cold_verify, v);
        if (trun_stop(t, &k) < 0)
            return -1;
    }
    return 0;
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
    row("write+fsync naive", &r->ref.naive, r, 1, "s ");
    row("write+fsync streamed", &r->ref.streamed, r, 1, "s ");
    row("disk limit (best of both)", &r->ref.disk, r, 1, "s ");
    row("job pause (fresh job)", &r->pause, r, 1e3, "ms");
    row("job pause (restored job)", &r->pause_restored, r, 1e3, "ms");
    row("durable (request->commit)", &r->durable, r, 1, "s ");
    row("restore warm: verified", &r->warm_verify, r, 1, "s ");
    row("restore warm: job running", &r->warm, r, 1, "s ");
    row("read of the image, cold", &r->cold_read, r, 1, "s ");
    row("restore cold: verified", &r->cold_verify, r, 1, "s ");
    row("restore cold: job running", &r->cold, r, 1, "s ");
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
    char tmpl[PATH_MAX];
    if (snprintf(tmpl, sizeof tmpl, "%s/cairn-bench-tr-XXXXXX", c.dir) >= (int)sizeof tmpl ||
        !mkdtemp(tmpl)) {
        perror("cairn-bench-transparent: mkdtemp");
        return 1;
    }
    memcpy(c.dir, tmpl, sizeof c.dir);
    char store[PATH_MAX + 16];
    snprintf(store, sizeof store, "%s/store", c.dir);
    struct trun t = {.cairn = c.cairn, .self = c.self, .store = store,
                     .mib = c.size >> 20, .verbose = c.verbose};
    struct results *r = calloc(1, sizeof *r);
    int rc = r && fresh_rows(&c, &t, r) == 0 && restore_rows(&c, &t, r) == 0 ? 0 : 1;
    if (rc == 0)
        table(&c, r);
    free(r);
    bench_remove_dir(c.dir);
    return rc;
}
