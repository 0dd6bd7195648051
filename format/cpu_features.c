/* SPDX-License-Identifier: MIT */
/*
 * cpu_features.c — which instruction sets a restore insists on
 * (cpu_features.h). The list is what compilers' function multiversioning,
 * glibc's ifuncs and numerical libraries select on at run time: the
 * x86-64 levels v2 to v4, AES and the other crypto extensions, AVX-512's
 * parts, AMX. Left out on purpose: TSX (HLE, RTM: microcode updates turn
 * it off on the same machine, and glibc uses it only when asked), ERMS
 * and FSRM (`rep movsb` runs without them, only slower), and AMD's legacy
 * SSE4a, XOP, FMA4 and TBM (no current library picks them, and insisting
 * on them would keep a job that ran once on an older AMD machine off every
 * Intel one).
 */
#include <stdio.h>
#include <string.h>

#include "cpu_features.h"

enum word { L1C, L1D, L7B, L7C, L7D, L71A, E1C, E1D, XCR0 };

struct feature {
    enum word word;
    unsigned bit;
    const char *name;
};

static const struct feature features[] = {
    {L1D, 8, "cx8"}, {L1D, 15, "cmov"}, {L1D, 23, "mmx"}, {L1D, 24, "fxsr"},
    {L1D, 25, "sse"}, {L1D, 26, "sse2"},
    {L1C, 0, "sse3"}, {L1C, 1, "pclmulqdq"}, {L1C, 9, "ssse3"}, {L1C, 12, "fma"},
    {L1C, 13, "cx16"}, {L1C, 19, "sse4_1"}, {L1C, 20, "sse4_2"}, {L1C, 22, "movbe"},
    {L1C, 23, "popcnt"}, {L1C, 25, "aes"}, {L1C, 26, "xsave"}, {L1C, 28, "avx"},
    {L1C, 29, "f16c"}, {L1C, 30, "rdrand"},
    {L7B, 3, "bmi1"}, {L7B, 5, "avx2"}, {L7B, 8, "bmi2"}, {L7B, 16, "avx512f"},
    {L7B, 17, "avx512dq"}, {L7B, 18, "rdseed"}, {L7B, 19, "adx"}, {L7B, 21, "avx512ifma"},
    {L7B, 23, "clflushopt"}, {L7B, 24, "clwb"}, {L7B, 26, "avx512pf"}, {L7B, 27, "avx512er"},
    {L7B, 28, "avx512cd"}, {L7B, 29, "sha_ni"}, {L7B, 30, "avx512bw"}, {L7B, 31, "avx512vl"},
    {L7C, 1, "avx512vbmi"}, {L7C, 6, "avx512_vbmi2"}, {L7C, 8, "gfni"}, {L7C, 9, "vaes"},
    {L7C, 10, "vpclmulqdq"}, {L7C, 11, "avx512_vnni"}, {L7C, 12, "avx512_bitalg"},
    {L7C, 14, "avx512_vpopcntdq"}, {L7C, 22, "rdpid"}, {L7C, 27, "movdiri"},
    {L7C, 28, "movdir64b"},
    {L7D, 2, "avx512_4vnniw"}, {L7D, 3, "avx512_4fmaps"}, {L7D, 8, "avx512_vp2intersect"},
    {L7D, 14, "serialize"}, {L7D, 22, "amx_bf16"}, {L7D, 23, "avx512_fp16"},
    {L7D, 24, "amx_tile"}, {L7D, 25, "amx_int8"},
    {L71A, 4, "avx_vnni"}, {L71A, 5, "avx512_bf16"}, {L71A, 23, "avx_ifma"},
    {E1C, 0, "lahf_lm"}, {E1C, 5, "abm"}, {E1C, 8, "3dnowprefetch"},
    {E1D, 27, "rdtscp"}, {E1D, 29, "lm"},
    /* XCR0: the kernel must enable the register state the code uses. */
    {XCR0, 2, "xcr0:avx"}, {XCR0, 5, "xcr0:avx512_opmask"}, {XCR0, 6, "xcr0:avx512_zmm_hi256"},
    {XCR0, 7, "xcr0:avx512_hi16_zmm"}, {XCR0, 17, "xcr0:amx_tilecfg"},
    {XCR0, 18, "xcr0:amx_tiledata"},
};

static uint64_t word_of(const struct cairn_proc_cpu *c, enum word w)
{
    switch (w) {
    case L1C: return c->leaf1_ecx;
    case L1D: return c->leaf1_edx;
    case L7B: return c->leaf7_ebx;
    case L7C: return c->leaf7_ecx;
    case L7D: return c->leaf7_edx;
    case L71A: return c->leaf7s1_eax;
    case E1C: return c->ext1_ecx;
    case E1D: return c->ext1_edx;
    case XCR0: return c->xcr0;
    }
    return 0;
}

static int has(const struct cairn_proc_cpu *c, const struct feature *f)
{
    return (word_of(c, f->word) >> f->bit) & 1;
}

size_t cairn_cpu_missing(const struct cairn_proc_cpu *image, const struct cairn_proc_cpu *here,
                         char *names, size_t len)
{
    size_t n = 0, at = 0;
    if (len)
        names[0] = 0;
    for (size_t i = 0; i < sizeof features / sizeof *features; i++) {
        if (!has(image, &features[i]) || has(here, &features[i]))
            continue;
        n++;
        int w = at < len ? snprintf(names + at, len - at, "%s%s", at ? " " : "",
                                    features[i].name) : 0;
        if (w > 0)
            at = at + (size_t)w < len ? at + (size_t)w : len;
    }
    return n;
}

size_t cairn_cpu_count(const struct cairn_proc_cpu *c)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof features / sizeof *features; i++)
        n += (size_t)has(c, &features[i]);
    return n;
}
