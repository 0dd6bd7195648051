/* SPDX-License-Identifier: MIT */
/* merged.c — a large array and a small allocation just below it in one
   mapping (what the kernel makes of two adjacent ones with the same
   flags): the first checkpoint registers them as one. Once $CAIRN_TEST_STEP exists the small
   one is unmapped and a few pages of the array are written, so the next
   checkpoint finds the array inside the larger mapping its parent image
   saved (runtime/dirty.c, "Mapping identity"). Then the gate, more writes,
   and a checksum of the array. Without the variables it runs straight
   through (the reference run).
     merged MIB */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "progress.h"

#define PAGE 4096u
#define SMALL (16u * PAGE)

static void write_pages(uint64_t *m, size_t pages, size_t every, uint64_t salt)
{
    for (size_t p = salt % every; p < pages; p += every)
        m[p * (PAGE / 8) + salt % (PAGE / 8)] ^= salt * 0x9e3779b97f4a7c15ull;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 32, pages = mib << 8, words = mib << 17;
    /* room for both, then the array at the top and the small one below it */
    char *room = mmap(NULL, words * 8 + SMALL, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (room == MAP_FAILED)
        return 1;
    uint64_t *small = (uint64_t *)room, *m = (uint64_t *)(room + SMALL);
    uint64_t x = 88172645463325252ull, sum = 0;
    for (size_t i = 0; i < words; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        m[i] = x;
    }
    for (size_t i = 0; i < SMALL / 8; i++)
        small[i] = i;
    printf("merged: ready\n");
    fflush(stdout);
    const char *step = getenv("CAIRN_TEST_STEP");
    if (step && *step)
        wait_for_file(step);
    if (munmap(small, SMALL) < 0)
        return 1;
    write_pages(m, pages, 1000, 7);
    printf("merged: unmapped\n");
    fflush(stdout);
    finish_gate();
    write_pages(m, pages, 500, 11);
    for (size_t i = 0; i < words; i++)
        sum += m[i] >> 3;
    printf("merged %zu MiB: %llu\n", mib, (unsigned long long)sum);
    return 0;
}
