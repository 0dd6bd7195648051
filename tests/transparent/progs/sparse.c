/* SPDX-License-Identifier: MIT */
/* sparse.c — a 2 TiB MAP_NORESERVE reservation with a few pages written
   (and one only read, the zero page), as a sparse hash table or a JVM heap
   has. cairn saves the pages that hold anything, not 2 TiB of zeros
   (transparent_sparse bounds the image's size). Each step updates the
   written pages and reads untouched ones, which must stay zero; the last
   line is a checksum of every written page. Usage: sparse STEPS. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "progress.h"

#define SPAN (2ull << 40)
#define PAGES 6

static uint64_t *page(unsigned char *base, int k)
{
    return (uint64_t *)(base + (uint64_t)k * (SPAN / PAGES) + 4096ull * (uint64_t)k);
}

int main(int argc, char **argv)
{
    long steps = argc > 1 ? atol(argv[1]) : 4000;
    unsigned char *base = mmap(NULL, SPAN, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        perror("sparse: mmap");
        return 2;
    }
    volatile uint64_t zero_read = *(uint64_t *)(base + (SPAN / 2) + 12345 * 4096ull);
    (void)zero_read;
    uint64_t x = 1;
    for (long i = 0; i < steps; i++) {
        for (long j = 0; j < 20000; j++)
            x = x * 6364136223846793005ull + 1442695040888963407ull;
        for (int k = 0; k < PAGES; k++)
            page(base, k)[i % 512] ^= x + (uint64_t)k;
        if (*(uint64_t *)(base + SPAN - 8192) != 0 || *(uint64_t *)(base + SPAN / 3) != 0) {
            fprintf(stderr, "sparse: an untouched page is not zero\n");
            return 3;
        }
        progress("sparse", i + 1, steps);
    }
    finish_gate();
    uint64_t sum = 0;
    for (int k = 0; k < PAGES; k++)
        for (int w = 0; w < 512; w++)
            sum = sum * 31 + page(base, k)[w];
    printf("sparse %ld: %016llx\n", steps, (unsigned long long)sum);
    return 0;
}
