/* SPDX-License-Identifier: MIT */
/* fpu.c — floating-point and AVX registers live across checkpoints: the
   loop keeps its accumulators in ymm registers (AVX) and x87/SSE state
   (rounding mode changed with fesetround), printed exactly with %a. */
#include <fenv.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>

#include "progress.h"

__attribute__((target("avx"), noinline)) static void run(long n, double out[8])
{
    __m256d a = _mm256_set_pd(1.0, 1.5, 2.0, 2.5), b = _mm256_set1_pd(1.0000001);
    __m256d c = _mm256_set_pd(0.1, 0.2, 0.3, 0.4);
    for (long i = 0; i < n; i++) {
        for (int k = 0; k < 100000; k++) {
            a = _mm256_mul_pd(a, b);
            c = _mm256_add_pd(c, _mm256_mul_pd(a, _mm256_set1_pd(1e-9)));
            a = _mm256_sub_pd(a, _mm256_mul_pd(c, _mm256_set1_pd(1e-12)));
        }
        progress("fpu", i + 1, n); /* a call: a, b, c are saved around it */
    }
    _mm256_storeu_pd(out, a);
    _mm256_storeu_pd(out + 4, c);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100;
    fesetround(FE_UPWARD);
    volatile long double x = 1.0L;
    double out[8];
    run(n, out);
    for (long i = 0; i < n * 1000; i++)
        x = x * 1.0000001L + 1e-7L;
    finish_gate();
    int mode = fegetround();
    printf("fpu %ld: rounding %s x87 %La\n", n, mode == FE_UPWARD ? "upward" : "changed", x);
    for (int i = 0; i < 8; i++)
        printf("  %a\n", out[i]);
    return 0;
}
