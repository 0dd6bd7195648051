/* SPDX-License-Identifier: MIT */
/* counter.c — the simplest job: a counter loop that prints its result.
   Usage: counter N (iterations of ~1 ms of work each). Progress lines and
   the gate: progress.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "progress.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    uint64_t x = 1;
    for (long i = 0; i < n; i++) {
        for (long j = 0; j < 200000; j++)
            x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
        progress("counter", i + 1, n);
    }
    finish_gate();
    printf("counter %ld: %llu\n", n, (unsigned long long)x);
    return 0;
}
