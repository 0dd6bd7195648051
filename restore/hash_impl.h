/* SPDX-License-Identifier: MIT */
/*
 * hash_impl.h — xxHash's XXH3-64 from the header alone (XXH_INLINE_ALL),
 * for hash.c and hash_avx2.c, each of which includes it once with
 * R_HASH_SUFFIX naming its variant: the vector code is what the file's
 * compiler flags allow (SSE2 by default, AVX2 under -mavx2), and XXH3
 * gives the same value whatever the vector code. The header's allocation
 * helpers are never called, and unaligned loads use packed structs
 * (XXH_FORCE_MEMORY_ACCESS 1) rather than memcpy, which is a plain byte
 * loop here (-fno-builtin).
 */
#define XXH_INLINE_ALL
#define XXH_FORCE_MEMORY_ACCESS 1
#include <xxhash.h>

#include <stddef.h>
#include <stdint.h>

#define R_HASH_CAT2(a, b) a##b
#define R_HASH_CAT(a, b) R_HASH_CAT2(a, b)
#define R_HASH_FN(name) R_HASH_CAT(name, R_HASH_SUFFIX)

/* The streaming state is the caller's (an XXH3_state_t, 64-byte aligned). */
uint64_t R_HASH_FN(r_xxh3_)(const void *p, size_t n);
uint64_t R_HASH_FN(r_xxh3_seed_)(const void *p, size_t n, uint64_t seed);
void R_HASH_FN(r_xxh3_reset_)(void *state);
void R_HASH_FN(r_xxh3_update_)(void *state, const void *p, size_t n);
uint64_t R_HASH_FN(r_xxh3_digest_)(const void *state);

uint64_t R_HASH_FN(r_xxh3_)(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

uint64_t R_HASH_FN(r_xxh3_seed_)(const void *p, size_t n, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, n, seed);
}

void R_HASH_FN(r_xxh3_reset_)(void *state)
{
    XXH3_64bits_reset((XXH3_state_t *)state);
}

void R_HASH_FN(r_xxh3_update_)(void *state, const void *p, size_t n)
{
    XXH3_64bits_update((XXH3_state_t *)state, p, n);
}

uint64_t R_HASH_FN(r_xxh3_digest_)(const void *state)
{
    return XXH3_64bits_digest((const XXH3_state_t *)state);
}
