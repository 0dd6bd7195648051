/* SPDX-License-Identifier: MIT */
/*
 * cpu_features.h — the CPU record of a process image (process_format.h,
 * struct cairn_proc_cpu): reading this machine's, and which of an image's
 * instruction sets this machine lacks.
 *
 * A restored job goes on running the code its libraries chose where it
 * started (glibc's string functions, OpenBLAS's kernels, a JIT's output):
 * on a CPU without one of those instruction sets it dies of SIGILL, maybe
 * hours later. cairn run compares before the restore and refuses, naming
 * what is missing. Only the instruction sets that code selects at run time
 * are compared (cpu_features.c); bits that say nothing of the code (the
 * hypervisor bit, microcode-disabled TSX, AMD's legacy XOP and FMA4 that
 * no current library picks) are recorded but never insisted on.
 */
#ifndef CAIRN_CPU_FEATURES_H
#define CAIRN_CPU_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "process_format.h"

#if defined(__x86_64__)
#include <cpuid.h>

/* This CPU's record, OR-ed into *c (a zeroed record: just this CPU's). The
   runtime calls it at every capture: 4 or 5 CPUIDs, about 1.2 us each on
   these VMs (a VM exit), 5-6 us in all. */
static inline void cairn_cpu_accumulate(struct cairn_proc_cpu *c)
{
    unsigned a, b, cx, d, max = __get_cpuid_max(0, 0);
    c->magic = CAIRN_PROC_CPU_MAGIC;
    c->version = 1;
    if (max >= 1) {
        __cpuid_count(1, 0, a, b, cx, d);
        c->leaf1_ecx |= cx;
        c->leaf1_edx |= d;
        if (cx & (1u << 27)) { /* OSXSAVE: XGETBV is there */
            unsigned lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            c->xcr0 |= (uint64_t)hi << 32 | lo;
        }
    }
    if (max >= 7) {
        __cpuid_count(7, 0, a, b, cx, d);
        c->leaf7_ebx |= b;
        c->leaf7_ecx |= cx;
        c->leaf7_edx |= d;
        if (a >= 1) {
            __cpuid_count(7, 1, a, b, cx, d);
            c->leaf7s1_eax |= a;
        }
    }
    __cpuid_count(0x80000001u, 0, a, b, cx, d); /* every x86-64 CPU has it (LM) */
    c->ext1_ecx |= cx;
    c->ext1_edx |= d;
}
#endif

/* The instruction sets (and XCR0 state components) compared at a restore
   that the image's record has and here lacks, by name, space-separated in
   names (truncated to len). Returns how many. */
size_t cairn_cpu_missing(const struct cairn_proc_cpu *image, const struct cairn_proc_cpu *here,
                         char *names, size_t len);

/* How many instruction sets the record holds, of those compared. */
size_t cairn_cpu_count(const struct cairn_proc_cpu *c);

#endif
