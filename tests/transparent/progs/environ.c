/* SPDX-License-Identifier: MIT */
/* environ.c — the environment and arguments survive a restore, including
   variables the job sets itself part-way. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "progress.h"

extern char **environ;

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    setenv("CAIRN_TEST_SET_BY_JOB", "before", 1);
    uint64_t x = 1;
    for (long i = 0; i < n; i++) {
        for (long j = 0; j < 200000; j++)
            x = x * 6364136223846793005ull + (uint64_t)j;
        if (i == n / 2)
            setenv("CAIRN_TEST_SET_BY_JOB", "after", 1);
        progress("environ", i + 1, n);
    }
    finish_gate();
    printf("environ %ld: %llu\n", n, (unsigned long long)x);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    const char *keep[] = {"HOME", "PATH", "CAIRN_TEST_VAR", "CAIRN_TEST_SET_BY_JOB"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        printf("%s=%s\n", keep[i], getenv(keep[i]) ? getenv(keep[i]) : "(unset)");
    return 0;
}
