/* SPDX-License-Identifier: MIT */
/*
 * bench_checkpoint.c — what a checkpoint costs next to what the machine can
 * do with the same bytes, measured in one run on one directory.
 *
 * For each state size it times, several times each:
 *   memcpy            copying the state in memory (the memory limit)
 *   write+fsync       writing the same bytes to a new file and fsync'ing it,
 *                     naive (big write() calls, then fsync) and streamed
 *                     (chunks with sync_file_range windows, as
 *                     lib/image_write.c does); the faster is the disk limit
 *   checkpoint        cairn_checkpoint(): returns once the image is fsync'ed,
 *                     renamed and the directory fsync'ed and the generation
 *                     beyond `keep` removed; raw, raw without that removal
 *                     (keep-all), raw with a keyed MAC, and zstd
 *   restore           cairn_restore(), warm (image in page cache) and cold
 *                     (image dropped from the cache first)
 * and prints median and min seconds, GB/s (10^9 bytes of state per second,
 * from the min) and each time as a multiple of the disk and memcpy limits.
 *
 * The state is a random walk stored as doubles, each rounded to float
 * precision (so the low 29 mantissa bits are zero): partly compressible,
 * like many simulation fields.
 *
 * Benchmarks only print; nothing here decides pass or fail of CI.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench_ckpt.h"
#include "cairn.h"

#define MAX_SIZES 16

struct config {
    char dir[PATH_MAX];        /* where files are written (a fresh subdir) */
    uint64_t sizes[MAX_SIZES];
    int nsizes;
    int reps;                  /* 0: automatic by size */
    int level;                 /* zstd level for the compressed rows; 0 = skip */
    int drop_caches;           /* cold restore via /proc/sys/vm/drop_caches */
    int verbose;               /* print every run */
    int no_mac;                /* skip the authenticated row */
    double settle;             /* pause after each disk measurement */
    struct bench_stream stream;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cairn-bench-checkpoint [options]\n"
            "  --dir DIR       directory to write in (default $TMPDIR, else next to\n"
            "                  this program); a fresh subdirectory is made and removed\n"
            "  --sizes LIST    state sizes, e.g. 1M,16M,256M (default 1M,16M,256M,1G)\n"
            "  --big           also 4G (if memory allows)\n"
            "  --reps N        repetitions (default 5; 3 at 1 GiB and over, 2 at 4 GiB)\n"
            "  --level N       zstd level for the compressed rows (default 1; 0 skips)\n"
            "  --drop-caches   cold restore: write 1 to /proc/sys/vm/drop_caches (root)\n"
            "                  instead of posix_fadvise(POSIX_FADV_DONTNEED) on the image\n"
            "  --chunk SIZE    write size of the streamed write+fsync row (default 512K)\n"
            "  --window SIZE   sync_file_range window of that row (default 64M)\n"
            "  --settle SECS   pause after each disk measurement (default 0; a sync()\n"
            "                  is always done)\n"
            "  --no-mac        skip the row with an authenticated image (keyed MAC)\n"
            "  --verbose       print the time of every run, in run order\n");
}

static int parse_sizes(struct config *c, char *list)
{
    c->nsizes = 0;
    for (char *save, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (c->nsizes == MAX_SIZES || bench_parse_size(t, &c->sizes[c->nsizes]) < 0) {
            fprintf(stderr, "cairn-bench-checkpoint: bad size '%s' in --sizes\n", t);
            return -1;
        }
        c->nsizes++;
    }
    return c->nsizes ? 0 : -1;
}

static void default_dir(char *dir, size_t len)
{
    const char *t = getenv("TMPDIR");
    if (t && *t) {
        snprintf(dir, len, "%s", t);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", dir, len - 1);
    if (n <= 0) {
        snprintf(dir, len, "/tmp");
        return;
    }
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
}

static int parse_args(struct config *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},   {"sizes", required_argument, 0, 's'},
        {"big", no_argument, 0, 'b'},         {"reps", required_argument, 0, 'r'},
        {"level", required_argument, 0, 'l'}, {"drop-caches", no_argument, 0, 'D'},
        {"chunk", required_argument, 0, 'c'}, {"window", required_argument, 0, 'w'},
        {"verbose", no_argument, 0, 'v'},     {"settle", required_argument, 0, 'S'},
        {"no-mac", no_argument, 0, 'M'},      {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    char defsizes[] = "1M,16M,256M,1G";
    parse_sizes(c, defsizes);
    c->level = 1;
    c->stream = (struct bench_stream){.chunk = 512u << 10, .window = 64ull << 20};
    default_dir(c->dir, sizeof c->dir);
    int big = 0, o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (o) {
        case 'd': snprintf(c->dir, sizeof c->dir, "%s", optarg); break;
        case 's': bad = parse_sizes(c, optarg); break;
        case 'b': big = 1; break;
        case 'r': c->reps = atoi(optarg); bad = c->reps < 1 || c->reps > BENCH_MAX_REPS; break;
        case 'l': c->level = atoi(optarg); bad = c->level < 0 || c->level > 19; break;
        case 'D': c->drop_caches = 1; break;
        case 'v': c->verbose = 1; break;
        case 'M': c->no_mac = 1; break;
        case 'S': c->settle = atof(optarg); bad = c->settle < 0 || c->settle > 60; break;
        case 'c': bad = bench_parse_size(optarg, &c->stream.chunk); break;
        case 'w': bad = bench_parse_size(optarg, &c->stream.window); break;
        case 'h': usage(stdout); exit(0);
        default: bad = 1; break;
        }
        if (bad) {
            usage(stderr);
            return -1;
        }
    }
    if (big && c->nsizes < MAX_SIZES)
        c->sizes[c->nsizes++] = 4ull << 30;
    return optind == argc ? 0 : -1;
}

static const char *fs_name(const char *dir)
{
    struct statfs s;
    if (statfs(dir, &s) < 0)
        return "?";
    switch ((unsigned long)s.f_type) {
    case 0xEF53: return "ext4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs (fsync is free: not a disk benchmark)";
    case 0x6969: return "nfs";
    default: return "other";
    }
}

static int reps_for(const struct config *c, uint64_t size)
{
    if (c->reps)
        return c->reps;
    return size >= (4ull << 30) ? 2 : size >= (1ull << 30) ? 3 : 5;
}

/* Writes a random key for the MAC row into the run's directory. */
static int make_key(const char *dir, char *path, size_t len)
{
    unsigned char k[32];
    snprintf(path, len, "%s/key", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int ok = fd >= 0 && getrandom(k, sizeof k, 0) == (ssize_t)sizeof k &&
             write(fd, k, sizeof k) == (ssize_t)sizeof k;
    if (fd >= 0)
        close(fd);
    if (!ok)
        fprintf(stderr, "cairn-bench-checkpoint: cannot write a key to %s; no MAC row\n", path);
    return ok ? 0 : -1;
}

/* Keeps the options of the run from the environment out of the figures. */
static void clear_env(void)
{
    static const char *vars[] = {"CAIRN_INTERVAL", "CAIRN_STEPS",    "CAIRN_KEEP",
                                 "CAIRN_EXIT_CODE", "CAIRN_COMPRESS", "CAIRN_VERBOSE",
                                 "CAIRN_KEY_FILE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

int main(int argc, char **argv)
{
    struct config c = {0};
    if (parse_args(&c, argc, argv) < 0)
        return 2;
    clear_env();
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    struct bench_ctx ctx = {.stream = c.stream, .level = c.level,
                            .drop_caches = c.drop_caches, .verbose = c.verbose, .settle = c.settle,
                            .stop = &stop};
    if (strlen(c.dir) + 32 > sizeof ctx.dir) {
        fprintf(stderr, "cairn-bench-checkpoint: --dir path too long\n");
        return 2;
    }
    memcpy(ctx.dir, c.dir, strlen(c.dir));
    strcat(ctx.dir, "/cairn-bench-XXXXXX");
    if (!mkdtemp(ctx.dir)) {
        fprintf(stderr, "cairn-bench-checkpoint: cannot create a directory in %s: %s\n",
                c.dir, strerror(errno));
        return 1;
    }
    char key[PATH_MAX + 8];
    if (!c.no_mac && make_key(ctx.dir, key, sizeof key) == 0)
        ctx.key_file = key;
    char la[64];
    bench_loadavg(la, sizeof la);
    printf("cairn-bench-checkpoint: libcairn %s, dir %s (%s)\n", cairn_version_string(),
           ctx.dir, fs_name(ctx.dir));
    printf("state: random walk of doubles rounded to float precision; "
           "cold restore via %s\n",
           c.drop_caches ? "/proc/sys/vm/drop_caches" : "posix_fadvise(POSIX_FADV_DONTNEED)");
    printf("streamed write: %llu KiB writes, %llu MiB sync_file_range window; "
           "load average at start %s\n",
           (unsigned long long)(c.stream.chunk >> 10),
           (unsigned long long)(c.stream.window >> 20), la);
    printf("GB/s = 10^9 bytes of state per second from the min; "
           "x disk, x memcpy = min / min of that row\n");

    int rc = 0;
    for (int i = 0; i < c.nsizes && !stop && rc == 0; i++)
        rc = bench_size(&ctx, c.sizes[i], reps_for(&c, c.sizes[i]));
    bench_remove_dir(ctx.dir);
    if (stop) {
        fprintf(stderr, "cairn-bench-checkpoint: interrupted; %s removed\n", ctx.dir);
        return 130;
    }
    return rc < 0 ? 1 : 0;
}
