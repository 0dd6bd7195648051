/* SPDX-License-Identifier: MIT */
/*
 * hash.c — xxHash's XXH3-64, compiled into the restorer from the header
 * alone (XXH_INLINE_ALL): nothing of libxxhash is linked. The header's
 * allocation helpers are never called, and unaligned loads use packed
 * structs (XXH_FORCE_MEMORY_ACCESS 1) rather than memcpy, which is a plain
 * byte loop here (-fno-builtin). Vector code: SSE2, which every x86_64 has.
 */
#define XXH_INLINE_ALL
#define XXH_FORCE_MEMORY_ACCESS 1
#include <xxhash.h>

#include "hash.h"

static XXH3_state_t state;

uint64_t r_hash(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

uint64_t r_hash_seed(const void *p, size_t n, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, n, seed);
}

void r_hash_reset(void)
{
    XXH3_64bits_reset(&state);
}

void r_hash_update(const void *p, size_t n)
{
    XXH3_64bits_update(&state, p, n);
}

uint64_t r_hash_digest(void)
{
    return XXH3_64bits_digest(&state);
}
