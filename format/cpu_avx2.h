/* SPDX-License-Identifier: MIT */
/*
 * cpu_avx2.h — whether XXH3's AVX2 code may run here: the CPU has AVX2 and
 * the kernel saves the YMM registers (XCR0). For the restorer
 * (restore/hash.c) and libcairn (lib/xxh3.c), which pick their XXH3 vector
 * code at the first hash; header-only, freestanding (no libgcc).
 */
#ifndef CAIRN_CPU_AVX2_H
#define CAIRN_CPU_AVX2_H

#include <cpuid.h>

static inline int cairn_cpu_has_avx2(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
        return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) /* XMM and YMM state */
        return 0;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX2);
#else
    return 0;
#endif
}

#endif
