/* SPDX-License-Identifier: MIT */
/*
 * bench_ckpt.c — one state size of cairn-bench-checkpoint: runs the
 * reference measurements and cairn_checkpoint()/cairn_restore() on the same
 * bytes in the same directory, then prints the rows of the table.
 *
 * The disk references and the raw checkpoints are interleaved (naive,
 * streamed, checkpoint, keep-all checkpoint, naive, ...) so that load from
 * other processes on a shared machine hits them alike.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_ckpt.h"
#include "bench_util.h"
#include "cairn.h"
#include "cairn_image.h"

enum row { R_MEMCPY, R_NAIVE, R_STREAM, R_CKPT, R_CKPTK, R_CKPTM, R_CKPTZ, R_REST,
           R_RESTC, R_RESTZ, R_RESTZC, NROWS };

/* The stores of one size: default keep (2), keep all (no old generation is
   removed inside the timed call), authenticated, and compressed. */
enum store { S_RAW, S_KEEPALL, S_MAC, S_ZSTD, NSTORES };
static const char *store_names[NSTORES] = {"raw", "keepall", "mac", "zstd"};

struct sized {
    struct bench_ctx *ctx;
    uint64_t size;
    int reps;
    void *state;
    uint64_t image_raw, image_zstd;   /* image file sizes */
    struct bench_runs r[NROWS];
};

static int fail(const char *what, const char *where, int rc)
{
    fprintf(stderr, "cairn-bench-checkpoint: %s %s: %s\n", what, where, cairn_strerror(rc));
    return -1;
}

static void store_path(const struct sized *s, enum store st, char *buf, size_t len)
{
    snprintf(buf, len, "%s/store-%s", s->ctx->dir, store_names[st]);
}

/* Opens one of the stores on the state. */
static int open_store(const struct sized *s, enum store st, cairn_t **out)
{
    char path[PATH_MAX + 32];
    store_path(s, st, path, sizeof path);
    cairn_options_t o;
    cairn_options_init(&o);
    o.interval = 1e9;
    o.compress_level = st == S_ZSTD ? s->ctx->level : 0;
    o.keep = st == S_KEEPALL ? 1000 : 2;
    o.key_file = st == S_MAC ? s->ctx->key_file : NULL;
    o.verbose = -1;
    int rc = cairn_open(out, path, &o);
    if (rc == 0)
        rc = cairn_protect(*out, "state", s->state, (size_t)s->size);
    if (rc == 0 && (rc = cairn_restore(*out)) > 0)
        rc = CAIRN_ESTATE; /* a fresh store cannot hold an image */
    /* Steady state: the store already holds `keep` generations, so every
       timed checkpoint also removes the oldest, as in a long job. */
    for (unsigned i = 0; rc == 0 && st != S_KEEPALL && i < o.keep; i++)
        rc = cairn_checkpoint(*out);
    if (rc < 0) {
        cairn_close(*out);
        return fail("cannot open store", path, rc);
    }
    return 0;
}

static int time_checkpoint(cairn_t *c, struct bench_runs *r, uint64_t *image)
{
    cairn_stats_t before, after;
    cairn_get_stats(c, &before);
    double t0 = bench_now();
    int rc = cairn_checkpoint(c);
    double t = bench_now() - t0;
    if (rc < 0)
        return fail("cairn_checkpoint", "failed", rc);
    bench_add(r, t);
    cairn_get_stats(c, &after);
    *image = after.bytes_written - before.bytes_written;
    return 0;
}

/* Lets the disk finish what the last measurement left (discards of a removed
   file, writeback) so that it does not slow the next one. */
static void settle(const struct bench_ctx *ctx)
{
    sync();
    if (ctx->settle > 0)
        usleep((useconds_t)(ctx->settle * 1e6));
}

/* One naive and one streamed write+fsync of the state, files then removed. */
static int time_disk(struct sized *s)
{
    char path[PATH_MAX + 32];
    double t;
    snprintf(path, sizeof path, "%s/reference", s->ctx->dir);
    for (int streamed = 0; streamed < 2; streamed++) {
        int rc = streamed ? io_write_streamed(path, s->state, s->size, &s->ctx->stream, &t)
                          : io_write_naive(path, s->state, s->size, &t);
        if (rc < 0)
            return fail("write+fsync of", path, rc);
        bench_add(&s->r[streamed ? R_STREAM : R_NAIVE], t);
        io_drop_cache(path, 0); /* keep the page cache as it was */
        unlink(path);
        settle(s->ctx);
    }
    return 0;
}

static int run_memcpy(struct sized *s)
{
    void *dst = malloc((size_t)s->size);
    if (!dst)
        return fail("cannot allocate a copy for memcpy of", "the state", -ENOMEM);
    memset(dst, 1, (size_t)s->size); /* fault the pages in first (not 0: gcc would
                                         turn malloc+memset into calloc) */
    for (int i = 0; i < s->reps && !*s->ctx->stop; i++)
        bench_add(&s->r[R_MEMCPY], io_memcpy(dst, s->state, s->size));
    free(dst);
    return 0;
}

static int run_raw(struct sized *s)
{
    cairn_t *c, *k;
    if (open_store(s, S_RAW, &c) < 0)
        return -1;
    if (open_store(s, S_KEEPALL, &k) < 0) {
        cairn_close(c);
        return -1;
    }
    int rc = 0;
    uint64_t image;
    for (int i = 0; i < s->reps && rc == 0 && !*s->ctx->stop; i++) {
        rc = time_disk(s);
        if (rc == 0)
            rc = time_checkpoint(c, &s->r[R_CKPT], &s->image_raw);
        settle(s->ctx);
        if (rc == 0)
            rc = time_checkpoint(k, &s->r[R_CKPTK], &image);
        settle(s->ctx);
    }
    cairn_close(k);
    cairn_close(c);
    return rc;
}

/* Checkpoints into one store, reps times. */
static int run_store(struct sized *s, enum store st, enum row row, uint64_t *image)
{
    cairn_t *c;
    if (open_store(s, st, &c) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < s->reps && rc == 0 && !*s->ctx->stop; i++) {
        rc = time_checkpoint(c, &s->r[row], image);
        settle(s->ctx);
    }
    cairn_close(c);
    return rc;
}

/* Drops the newest image of the store from the page cache. */
static int drop_newest(const struct sized *s, const char *store)
{
    uint64_t gens[16];
    size_t n;
    char path[PATH_MAX + 64];
    int rc = cairn_store_list(store, gens, 16, &n);
    if (rc == 0 && n == 0)
        rc = CAIRN_ENOIMAGE;
    if (rc == 0)
        rc = cairn_store_image_path(store, gens[n < 16 ? n - 1 : 15], path, sizeof path);
    if (rc == 0)
        rc = io_drop_cache(path, s->ctx->drop_caches);
    return rc < 0 ? fail("cannot drop from the page cache the newest image in", store, rc) : 0;
}

static int time_restore(struct sized *s, enum store st, int cold, struct bench_runs *r)
{
    char store[PATH_MAX + 32];
    store_path(s, st, store, sizeof store);
    cairn_options_t o;
    cairn_options_init(&o);
    o.verbose = -1;
    cairn_t *c;
    int rc = cairn_open(&c, store, &o);
    if (rc == 0)
        rc = cairn_protect(c, "state", s->state, (size_t)s->size);
    if (rc == 0 && cold)
        rc = drop_newest(s, store);
    double t0 = bench_now();
    if (rc == 0 && (rc = cairn_restore(c)) != CAIRN_RESTORED)
        rc = rc < 0 ? rc : CAIRN_ENOIMAGE;
    double t = bench_now() - t0;
    cairn_close(c);
    if (rc < 0)
        return fail("cairn_restore of", store, rc);
    bench_add(r, t);
    return 0;
}

static int run_restores(struct sized *s)
{
    int levels = s->ctx->level > 0 ? 2 : 1;
    for (int z = 0; z < levels; z++)
        for (int cold = 0; cold < 2; cold++)
            for (int i = 0; i < s->reps && !*s->ctx->stop; i++) {
                enum row row = (enum row)(R_REST + 2 * z + cold);
                if (time_restore(s, z ? S_ZSTD : S_RAW, cold, &s->r[row]) < 0)
                    return -1;
            }
    return 0;
}

static void print_row(const struct sized *s, enum row row, double disk, double mem)
{
    static const char *names[NROWS] = {
        "memcpy", "write+fsync naive", "write+fsync streamed", "checkpoint raw",
        "checkpoint raw keep-all", "checkpoint raw + MAC", "checkpoint zstd-%d", "restore raw warm", "restore raw cold", "restore zstd-%d warm",
        "restore zstd-%d cold"};
    const struct bench_runs *r = &s->r[row];
    if (r->n == 0)
        return;
    char size[32] = "", name[48];
    if (row == R_MEMCPY)
        bench_size_str(s->size, size, sizeof size);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(name, sizeof name, names[row], s->ctx->level);
#pragma GCC diagnostic pop
    double mn = bench_min(r);
    printf("%-8s %-24s %9.4f %9.4f %8.2f %7.2f %8.2f", size, name, bench_median(r), mn,
           (double)s->size / mn / 1e9, mn / disk, mn / mem);
    if (row == R_CKPTZ && s->image_zstd)
        printf("   image %.1f%% of raw", 100.0 * (double)s->image_zstd / (double)s->image_raw);
    if (s->ctx->verbose)
        for (int i = 0; i < r->n; i++)
            printf("%s%.4f", i ? " " : "   runs: ", r->t[i]);
    printf("\n");
}

static void print_table(const struct sized *s)
{
    double naive = bench_min(&s->r[R_NAIVE]), streamed = bench_min(&s->r[R_STREAM]);
    double disk = naive < streamed ? naive : streamed;
    double mem = bench_min(&s->r[R_MEMCPY]);
    char la[64];
    bench_loadavg(la, sizeof la);
    printf("\n%-8s %-24s %9s %9s %8s %7s %8s   (%d reps, load average now %s)\n", "size",
           "measurement", "median s", "min s", "GB/s", "x disk", "x memcpy", s->reps, la);
    for (enum row row = 0; row < NROWS; row++)
        print_row(s, row, disk, mem);
    double ratio = bench_min(&s->r[R_CKPT]) / disk, kept = bench_min(&s->r[R_CKPTK]) / disk;
    printf("%-8s checkpoint / disk limit (%s) = %.3f, keep-all %.3f  (target <= 1.15)\n", "",
           naive < streamed ? "naive" : "streamed", ratio, kept);
    fflush(stdout);
}

int bench_size(struct bench_ctx *ctx, uint64_t size, int reps)
{
    char str[32];
    bench_size_str(size, str, sizeof str);
    uint64_t avail = bench_mem_available(), need = 2 * size + (512ull << 20);
    if (avail && avail < need) {
        printf("\n%s: skipped, needs %llu MiB of memory, %llu MiB available\n", str,
               (unsigned long long)(need >> 20), (unsigned long long)(avail >> 20));
        return 0;
    }
    struct sized s = {.ctx = ctx, .size = size, .reps = reps};
    s.state = aligned_alloc(4096, (size_t)((size + 4095) & ~4095ull));
    if (!s.state)
        return fail("cannot allocate the state of", str, -ENOMEM);
    io_fill_state(s.state, size);
    int rc = run_memcpy(&s);
    if (rc == 0)
        rc = run_raw(&s);
    uint64_t image;
    if (rc == 0 && ctx->key_file)
        rc = run_store(&s, S_MAC, R_CKPTM, &image);
    if (rc == 0 && ctx->level > 0)
        rc = run_store(&s, S_ZSTD, R_CKPTZ, &s.image_zstd);
    if (rc == 0)
        rc = run_restores(&s);
    if (!*ctx->stop)
        print_table(&s);
    char store[PATH_MAX + 32];
    for (enum store st = 0; st < NSTORES; st++) {
        if ((st == S_ZSTD && ctx->level == 0) || (st == S_MAC && !ctx->key_file))
            continue;
        store_path(&s, st, store, sizeof store);
        bench_remove_dir(store);
    }
    free(s.state);
    return rc;
}
