/* SPDX-License-Identifier: MIT */
/* altheap.c — a job whose alternate signal stack is malloc'd memory in the
   heap, as gawk and R set it up: cairn's checkpoint handler then runs on it
   while the heap is being saved. Usage: altheap N (~1 ms of work each). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "progress.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    stack_t ss = {.ss_sp = malloc(1 << 16), .ss_size = 1 << 16};
    uint64_t *heap = calloc(4096, sizeof *heap);
    if (!ss.ss_sp || !heap || sigaltstack(&ss, NULL) < 0)
        return 1;
    uint64_t x = 1;
    for (long i = 0; i < n; i++) {
        for (long j = 0; j < 200000; j++)
            x = x * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)j;
        heap[i % 4096] ^= x;
        progress("altheap", i + 1, n);
    }
    finish_gate();
    uint64_t sum = 0;
    for (int k = 0; k < 4096; k++)
        sum += heap[k];
    printf("altheap %ld: %llu %llu\n", n, (unsigned long long)x, (unsigned long long)sum);
    return 0;
}
