/* SPDX-License-Identifier: MIT */
/* bigmap.c — a large anonymous mmap (MiB given), filled and re-read over
   and over; CAIRN_TEST_FULL runs use 1 GiB. Progress lines and the gate:
   progress.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "progress.h"

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 64;
    long passes = argc > 2 ? atol(argv[2]) : 10;
    size_t words = mib << 17;
    uint64_t *m = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 1;
    uint64_t x = 88172645463325252ull, sum = 0;
    for (size_t i = 0; i < words; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        m[i] = x;
    }
    for (long p = 0; p < passes; p++) {
        for (size_t i = 0; i < words; i++) {
            m[i] = m[i] * 2862933555777941757ull + (uint64_t)p;
            sum += m[i] >> 7;
        }
        progress("bigmap", p + 1, passes);
    }
    finish_gate();
    printf("bigmap %zu MiB x %ld: %llu\n", mib, passes, (unsigned long long)sum);
    return 0;
}
