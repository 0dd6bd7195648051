/* SPDX-License-Identifier: MIT */
/* tree_pipeline.c — GEN of the pipeline job `sh -c '(GEN MIB | gzip -n -9
   > out.gz) 2>&1'` (trees.cmake): writes MIB MiB of deterministic text on
   stdout, the pipe to gzip, 64 KiB per write(). It makes them much faster
   than gzip -9 compresses them, so the pipe is full (64 KiB in flight) at
   almost every moment, and a checkpoint finds data in it.
   Progress lines go to stderr, which the job's sh makes its stdout (the
   file cycle.sh counts and compares): "pipeline: step I of N" every 2% of
   the chunks, written after the chunk entered the pipe. finish_gate()
   (progress.h) before the last chunk. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

#define CHUNK 65536

/* The bytes of chunk k: lines of words drawn from a fixed generator. The
   text compresses (a small vocabulary) but not trivially, so gzip works. */
static void fill(char *buf, uint64_t *x)
{
    static const char *const words[] = {
        "alder", "birch", "cedar", "dogwood", "elm", "fir", "ginkgo", "hazel",
        "ironwood", "juniper", "katsura", "larch", "maple", "nutmeg", "oak", "pine",
    };
    size_t n = 0;
    while (n < CHUNK) {
        *x = *x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t r = *x >> 17;
        char word[64];
        int len = snprintf(word, sizeof word, "%s %u%c", words[r & 15],
                           (unsigned)((r >> 4) % 100000), (r >> 30) % 8 == 0 ? '\n' : ' ');
        for (int i = 0; i < len && n < CHUNK; i++)
            buf[n++] = word[i];
    }
}

static void put(const char *buf)
{
    for (size_t off = 0; off < CHUNK;) {
        ssize_t w = write(1, buf + off, CHUNK - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            perror("tree_pipeline: write");
            exit(1);
        }
        off += (size_t)w;
    }
}

int main(int argc, char **argv)
{
    long n = (argc > 1 ? atol(argv[1]) : 16) * (1048576 / CHUNK);
    long every = n >= 50 ? n / 50 : 1;
    static char buf[CHUNK];
    uint64_t x = 42;
    for (long k = 1; k <= n; k++) {
        fill(buf, &x);
        if (k == n)
            finish_gate();
        put(buf);
        if (k % every == 0 || k == n)
            fprintf(stderr, "pipeline: step %ld of %ld\n", k, n);
    }
    fprintf(stderr, "pipeline: %ld bytes, generator at %llu\n", n * CHUNK, (unsigned long long)x);
    return 0;
}
