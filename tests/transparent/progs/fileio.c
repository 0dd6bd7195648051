/* SPDX-License-Identifier: MIT */
/* fileio.c — file I/O with offsets: reads input.dat at computed offsets
   (pread and lseek+read) and appends results to result.dat with write(),
   overwriting a header in place with pwrite. Both files are compared. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "progress.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    int in = open("input.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
    for (int i = 0; i < 4096; i++) {
        uint64_t v = (uint64_t)i * 0x9e3779b97f4a7c15ull;
        write(in, &v, sizeof v);
    }
    int out = open("result.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    uint64_t hdr = 0, acc = 0;
    write(out, &hdr, sizeof hdr);
    for (long i = 0; i < n; i++) {
        uint64_t v, w;
        pread(in, &v, sizeof v, (off_t)((i * 7919) % 4096) * 8);
        lseek(in, (off_t)((i * 104729) % 4096) * 8, SEEK_SET);
        read(in, &w, sizeof w);
        for (int k = 0; k < 100000; k++)
            acc = acc * 6364136223846793005ull + (v ^ w) + (uint64_t)k;
        write(out, &acc, sizeof acc);
        hdr = (uint64_t)i + 1;
        pwrite(out, &hdr, sizeof hdr, 0);
        progress("fileio", i + 1, n);
    }
    finish_gate();
    close(out);
    close(in);
    printf("fileio %ld: %llu\n", n, (unsigned long long)acc);
    return 0;
}
