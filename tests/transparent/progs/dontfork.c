/* SPDX-License-Identifier: MIT */
/* dontfork.c — a job that marks 1 MiB of its memory MADV_DONTFORK, as RDMA
   libraries do (ibv_fork_init), says "marked", waits until the file GATE1
   exists, gives the mark back (MADV_DOFORK), says "unmarked", waits for
   GATE2 and prints a checksum of the memory. cairn must refuse a checkpoint
   while the mark is on (the writer, a fork, would not have that memory)
   and take one once it is off (tests/transparent/dontfork.sh).
     dontfork GATE1 GATE2 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#include "progress.h"

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    size_t len = 1u << 20;
    uint64_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || madvise(m, len, MADV_DONTFORK) != 0)
        return 1;
    uint64_t x = 88172645463325252ull, sum = 0;
    for (size_t i = 0; i < len / 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        m[i] = x;
    }
    printf("marked\n");
    fflush(stdout);
    wait_for_file(argv[1]);
    if (madvise(m, len, MADV_DOFORK) != 0)
        return 1;
    printf("unmarked\n");
    fflush(stdout);
    wait_for_file(argv[2]);
    for (size_t i = 0; i < len / 8; i++)
        sum = sum * 31 + m[i];
    printf("sum %llu\n", (unsigned long long)sum);
    return 0;
}
