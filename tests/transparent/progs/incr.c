/* SPDX-License-Identifier: MIT */
/* incr.c — a job for incremental checkpoints: a large anonymous mapping
   (MiB given), filled once, then PASSES passes that each write PERMILLE
   thousandths of its pages, chosen at random (the same in every run), and
   fold the whole mapping into a checksum. Also: a heap that grows by a
   page now and then, a mapping made and dropped every 8 passes, and one
   region zeroed with MADV_DONTNEED every 5 passes (zero pages after a
   delta), and two small mappings side by side (kept apart by
   MAP_NORESERVE, a vma flag) both written every pass at the page where
   they meet: a restored data segment just below a heap is so, and the
   tracker once lost the upper one's first written run there (dirty.c).
   Progress lines and the gate: progress.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "progress.h"

#define PAGE 4096u

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 64;
    long passes = argc > 2 ? atol(argv[2]) : 200;
    double permille = argc > 3 ? atof(argv[3]) : 10; /* 0.1: one page in 10000 */
    size_t pages = mib << 8, words = mib << 17;
    uint64_t *m = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 1;
    uint64_t x = 88172645463325252ull, sum = 0;
    for (size_t i = 0; i < words; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        m[i] = x;
    }
    /* the two mappings side by side: lo's last page, hi's first */
    uint64_t *lo = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (lo == MAP_FAILED)
        return 1;
    uint64_t *hi = mmap(lo + 8 * PAGE / 8, 8 * PAGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (hi == MAP_FAILED)
        return 1;
    for (size_t i = 0; i < 16 * PAGE / 8; i++)
        lo[i] = i;
    char *grow = NULL;
    size_t grown = 0;
    uint64_t *temp = NULL;
    for (long p = 0; p < passes; p++) {
        size_t n = (size_t)((double)pages * permille / 1000);
        for (size_t k = 0; k < n; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t page = (size_t)(x % pages), w = page * (PAGE / 8) + (x >> 40) % (PAGE / 8);
            m[w] = m[w] * 2862933555777941757ull + (uint64_t)p;
        }
        hi[-1] = hi[-1] * 6364136223846793005ull + (uint64_t)p;
        hi[0] = hi[0] * 6364136223846793005ull + (uint64_t)p + 1;
        sum += hi[-1] + hi[0];
        if (p % 5 == 4) /* a region given back: zero from now on */
            madvise((char *)m + ((size_t)p % pages) * PAGE, 4 * PAGE, MADV_DONTNEED);
        if (p % 8 == 0) {
            if (temp)
                munmap(temp, 16 * PAGE);
            temp = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (temp == MAP_FAILED)
                return 1;
            temp[p % 16] = (uint64_t)p;
        }
        if (p % 3 == 0) {
            char *g = realloc(grow, grown + 100);
            if (!g)
                return 1;
            grow = g;
            grow[grown] = (char)p;
            grown += 100;
        }
        for (size_t i = 0; i < words; i += 7)
            sum += m[i] >> 7;
        for (size_t i = 0; i < grown; i += 100)
            sum += (unsigned char)grow[i];
        sum += temp[p % 16];
        progress("incr", p + 1, passes);
    }
    finish_gate();
    for (size_t i = 0; i < words; i++)
        sum += m[i] >> 3;
    for (size_t i = 0; i < 16 * PAGE / 8; i++)
        sum += lo[i] >> 3;
    printf("incr %zu MiB x %ld, %g permille: %llu\n", mib, passes, permille, (unsigned long long)sum);
    return 0;
}
