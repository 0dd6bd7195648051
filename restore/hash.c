/* SPDX-License-Identifier: MIT */
/*
 * hash.c — the restorer's XXH3-64 (hash_impl.h; nothing of libxxhash is
 * linked), with SSE2 vector code, which every x86_64 has, or with AVX2
 * (hash_avx2.c) where the CPU has it and the kernel saves its registers:
 * from L2, AVX2 hashes 1.7-1.9 times as fast as SSE2 on this machine kind
 * (1 GiB in 0.057 s against 0.099 s, quiet), and the hash is most of a
 * mapped restore (docs/BENCHMARKS.md, "The hash's vector code").
 * The choice is made at the first call; CAIRN_RESTORE_HASH=sse2 in the
 * environment keeps SSE2 (tests use it to cover both).
 */
#define R_HASH_SUFFIX sse2
#include "hash_impl.h"

#include "cpu_avx2.h"
#include "hash.h"
#include "rlib.h"

uint64_t r_xxh3_avx2(const void *p, size_t n);
uint64_t r_xxh3_seed_avx2(const void *p, size_t n, uint64_t seed);
void r_xxh3_reset_avx2(void *state);
void r_xxh3_update_avx2(void *state, const void *p, size_t n);
uint64_t r_xxh3_digest_avx2(const void *state);

static XXH3_state_t state;
static int avx2 = -1; /* not decided yet */

void r_hash_env(char **envp)
{
    for (; envp && *envp; envp++)
        if (r_streq(*envp, "CAIRN_RESTORE_HASH=sse2"))
            avx2 = 0;
}

static int use_avx2(void)
{
    if (avx2 < 0)
        avx2 = cairn_cpu_has_avx2();
    return avx2;
}

int r_hash_avx2(void)
{
    return use_avx2();
}

uint64_t r_hash(const void *p, size_t n)
{
    return use_avx2() ? r_xxh3_avx2(p, n) : r_xxh3_sse2(p, n);
}

uint64_t r_hash_seed(const void *p, size_t n, uint64_t seed)
{
    return use_avx2() ? r_xxh3_seed_avx2(p, n, seed) : r_xxh3_seed_sse2(p, n, seed);
}

void r_hash_reset(void)
{
    if (use_avx2())
        r_xxh3_reset_avx2(&state);
    else
        r_xxh3_reset_sse2(&state);
}

void r_hash_update(const void *p, size_t n)
{
    if (use_avx2())
        r_xxh3_update_avx2(&state, p, n);
    else
        r_xxh3_update_sse2(&state, p, n);
}

uint64_t r_hash_digest(void)
{
    return use_avx2() ? r_xxh3_digest_avx2(&state) : r_xxh3_digest_sse2(&state);
}
