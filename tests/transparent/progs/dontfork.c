/* SPDX-License-Identifier: MIT */
/* dontfork.c — a job that marks 1 MiB of its memory MADV_DONTFORK, as RDMA
   libraries do (ibv_fork_init), says "marked", waits until the file GATE1
   exists, gives the mark back (MADV_DOFORK), says "unmarked", waits for
   GATE2 and prints a checksum of the memory. cairn must refuse a checkpoint
   while the mark is on (the writer, a fork, would not have that memory)
   and take one once it is off (tests/transparent/dontfork.sh). With
   "child", it forks a child once it has marked the memory, which waits for
   GATE2 too: the child has none of the marked memory (it maps memory of
   its own at the same place), so once the parent gave the mark back the
   tree is checkpointed (the child's runtime must not take the parent's
   mark for its own).
     dontfork GATE1 GATE2 [child] */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progress.h"

int main(int argc, char **argv)
{
    if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "child")))
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
    pid_t child = argc == 4 ? fork() : -1;
    if (argc == 4 && child < 0)
        return 1;
    if (child == 0) { /* memory of its own where the parent's marked memory is */
        void *at = mmap(m, len, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (at != m)
            _exit(3);
        m[0] = 1;
        wait_for_file(argv[2]);
        _exit(0);
    }
    wait_for_file(argv[1]);
    if (madvise(m, len, MADV_DOFORK) != 0)
        return 1;
    printf("unmarked\n");
    fflush(stdout);
    wait_for_file(argv[2]);
    int st = 0;
    if (child > 0 && (waitpid(child, &st, 0) != child || st != 0))
        return 1;
    for (size_t i = 0; i < len / 8; i++)
        sum = sum * 31 + m[i];
    printf("sum %llu\n", (unsigned long long)sum);
    return 0;
}
