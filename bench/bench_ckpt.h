/* SPDX-License-Identifier: MIT */
/*
 * bench_ckpt.h — pieces of cairn-bench-checkpoint: the reference I/O
 * measurements (bench_io.c) and the per-size run and table (bench_ckpt.c).
 */
#ifndef CAIRN_BENCH_CKPT_H
#define CAIRN_BENCH_CKPT_H

#include <limits.h>
#include <signal.h>
#include <stdint.h>

#include "bench_util.h"

/* How the streamed write+fsync reference writes: `chunk` bytes per write(),
   sync_file_range windows of `window` bytes (lib/image_write.c's scheme). */
struct bench_stream {
    uint64_t chunk;
    uint64_t window;
};

struct bench_ctx {
    char dir[PATH_MAX];          /* the run's own directory, removed at the end */
    struct bench_stream stream;
    int level;                   /* zstd level for compressed rows; 0 = none */
    const char *key_file;        /* key for the MAC row, or NULL to skip it */
    int drop_caches;             /* 1: /proc/sys/vm/drop_caches, 0: fadvise */
    int verbose;                 /* print every run's time too */
    double settle;               /* seconds to wait after each disk measurement */
    volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
};

/* Runs every measurement for one state size and prints its table rows.
   Returns 0, or -1 after printing why it could not. */
int bench_size(struct bench_ctx *ctx, uint64_t size, int reps);

/* ---- bench_io.c ---- */

/* Fills buf with the benchmark's state (see bench_checkpoint.c). */
void io_fill_state(void *buf, uint64_t size);
/* Seconds for one memcpy of size bytes. */
double io_memcpy(void *dst, const void *src, uint64_t size);
/* XXH3 of size bytes at src on one core, in 512 KiB steps (as the restorer
   verifies a memory section): seconds. */
double io_hash(const void *src, uint64_t size);
/* Creates path (O_EXCL), writes buf with large write() calls, fsyncs and
   closes it; *secs is the time from open to close. 0 or -errno. */
int io_write_naive(const char *path, const void *buf, uint64_t size, double *secs);
/* The same with chunked writes and sync_file_range windows. */
int io_write_streamed(const char *path, const void *buf, uint64_t size,
                      const struct bench_stream *st, double *secs);
/* The machine's limits for `size` bytes, one sample each per call. */
struct bench_refs {
    struct bench_runs memcpy_, naive, streamed;
    struct bench_runs hash; /* io_hash: the floor of a verified restore on one core */
    struct bench_runs disk; /* the faster of naive and streamed */
};
/* One repetition of the references: memcpy of src into dst, naive and
   streamed write+fsync of src to DIR/ref (removed, then sync()). 0 or -1
   after saying why. */
int io_references(const char *dir, const void *src, void *dst, uint64_t size,
                  const struct bench_stream *st, struct bench_refs *r);
/* The two buffers io_references() works on: src holds the benchmark's
   state (io_fill_state), dst is faulted in. */
struct bench_ref_bufs {
    void *src, *dst;
};
/* Allocates and fills them: 0, or -1 (nothing left allocated). */
int io_ref_bufs(struct bench_ref_bufs *b, uint64_t size);
void io_ref_bufs_free(struct bench_ref_bufs *b);
/* Drops path's pages from the page cache (the file must be clean). */
int io_drop_cache(const char *path, int drop_caches);
/* Removes dir and everything in it (two levels deep at most). */
void bench_remove_dir(const char *dir);

#endif
