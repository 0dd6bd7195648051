/* SPDX-License-Identifier: MIT */
/*
 * bench_io.c — the reference measurements of cairn-bench-checkpoint: memcpy
 * and write+fsync of the same bytes, naive and streamed, and dropping a
 * file from the page cache for cold reads.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "bench_ckpt.h"
#include "bench_util.h"
#include "cpu_avx2.h"

/* xorshift64*: fast, and good enough to defeat compression of noise. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

void io_fill_state(void *buf, uint64_t size)
{
    double *d = buf, v = 0;
    uint64_t n = size / sizeof *d, s = 0x9E3779B97F4A7C15ull;
    for (uint64_t i = 0; i < n; i++) {
        v += ((double)(next_random(&s) >> 11) * 0x1p-53 - 0.5) * 1e-3;
        d[i] = (double)(float)v;
    }
    memset((char *)buf + n * sizeof *d, 0x5a, size - n * sizeof *d);
}

int io_ref_bufs(struct bench_ref_bufs *b, uint64_t size)
{
    b->src = malloc(size);
    b->dst = malloc(size);
    if (!b->src || !b->dst) {
        io_ref_bufs_free(b);
        return -1;
    }
    io_fill_state(b->src, size);
    memset(b->dst, 1, size);
    return 0;
}

void io_ref_bufs_free(struct bench_ref_bufs *b)
{
    free(b->src);
    free(b->dst);
    b->src = b->dst = NULL;
}

double io_memcpy(void *dst, const void *src, uint64_t size)
{
    double t0 = bench_now();
    memcpy(dst, src, size);
    __asm__ volatile("" : : "r"(dst) : "memory"); /* the copy is used */
    return bench_now() - t0;
}

#define IO_HASH_NAME io_hash_sse2
#include "bench_hash_loop.h"

#ifdef BENCH_HASH_AVX2
double io_hash_avx2(const void *src, uint64_t size);
#endif

/* The restorer's hash: AVX2 where the CPU has it (restore/hash.c). */
double io_hash(const void *src, uint64_t size)
{
#ifdef BENCH_HASH_AVX2
    if (cairn_cpu_has_avx2())
        return io_hash_avx2(src, size);
#endif
    return io_hash_sse2(src, size);
}

static int write_range(int fd, const char *p, uint64_t len)
{
    while (len > 0) {
        size_t n = len < (1u << 30) ? (size_t)len : (1u << 30);
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        p += w;
        len -= (uint64_t)w;
    }
    return 0;
}

static int finish(int fd, int rc, double t0, double *secs)
{
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    *secs = bench_now() - t0;
    return rc;
}

int io_write_naive(const char *path, const void *buf, uint64_t size, double *secs)
{
    double t0 = bench_now();
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    return finish(fd, write_range(fd, buf, size), t0, secs);
}

/* Same scheme as lib/image_write.c: keep at most about two windows dirty,
   waiting for the older one while the newer is under writeback. */
static void writeback(int fd, uint64_t off, uint64_t *synced, uint64_t window)
{
    while (off - *synced >= 2 * window) {
        sync_file_range(fd, (off_t)*synced, (off_t)window,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER);
        *synced += window;
        sync_file_range(fd, (off_t)*synced, (off_t)(off - *synced), SYNC_FILE_RANGE_WRITE);
    }
}

int io_write_streamed(const char *path, const void *buf, uint64_t size,
                      const struct bench_stream *st, double *secs)
{
    double t0 = bench_now();
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    const char *p = buf;
    uint64_t off = 0, synced = 0;
    int rc = 0;
    while (rc == 0 && off < size) {
        uint64_t n = size - off < st->chunk ? size - off : st->chunk;
        rc = write_range(fd, p + off, n);
        off += n;
        writeback(fd, off, &synced, st->window);
    }
    return finish(fd, rc, t0, secs);
}

int io_references(const char *dir, const void *src, void *dst, uint64_t size,
                  const struct bench_stream *st, struct bench_refs *r)
{
    char path[PATH_MAX + 16];
    double naive, streamed;
    bench_add(&r->memcpy_, io_memcpy(dst, src, size));
    bench_add(&r->hash, io_hash(src, size));
    snprintf(path, sizeof path, "%s/ref", dir);
    int rc = io_write_naive(path, src, size, &naive);
    unlink(path);
    sync();
    if (rc == 0)
        rc = io_write_streamed(path, src, size, st, &streamed);
    unlink(path);
    sync();
    if (rc < 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", program_invocation_short_name, path,
                strerror(-rc));
        return -1;
    }
    bench_add(&r->naive, naive);
    bench_add(&r->streamed, streamed);
    bench_add(&r->disk, naive < streamed ? naive : streamed);
    return 0;
}

int io_drop_cache(const char *path, int drop_caches)
{
    if (drop_caches) {
        int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        int rc = write(fd, "1", 1) == 1 ? 0 : -errno;
        close(fd);
        return rc;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = -posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
    return rc;
}

static void remove_entries(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[PATH_MAX + 256];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0 || errno != EISDIR)
            continue;
        if (depth > 0)
            remove_entries(path, depth - 1);
        rmdir(path);
    }
    closedir(d);
}

void bench_remove_dir(const char *dir)
{
    remove_entries(dir, 1);
    if (rmdir(dir) < 0)
        fprintf(stderr, "%s: cannot remove %s: %s\n", program_invocation_short_name, dir,
                strerror(errno));
}
