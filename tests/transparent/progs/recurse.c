/* SPDX-License-Identifier: MIT */
/* recurse.c — deep recursion: the stack grows (and shrinks) while the job
   is checkpointed and restored, so the restored stack must still grow. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "progress.h"

static uint64_t work(long depth, uint64_t x)
{
    volatile char pad[200];
    pad[0] = (char)x;
    for (int k = 0; k < 2000; k++)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    if (depth == 0)
        return x + (uint64_t)pad[0];
    return work(depth - 1, x) ^ (x >> 3);
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 10;
    uint64_t sum = 0;
    for (long r = 1; r <= rounds; r++) {
        sum += work(2000 * (r % 12 + 1), (uint64_t)r);
        progress("recurse", r, rounds);
    }
    finish_gate();
    printf("recurse %ld: %llu (deepest %ld frames)\n", rounds, (unsigned long long)sum,
           rounds < 12 ? 2000 * rounds : 24000L);
    return 0;
}
