/* SPDX-License-Identifier: MIT */
/*
 * xxh3.c — libcairn's XXH3 (see internal/cairn_xxh3.h): the five calls the
 * tree makes, each given to the SSE2 build (xxh3_sse2.c) or, where the CPU
 * has AVX2, to the AVX2 build (xxh3_avx2.c, x86_64 only), 1.7-1.9 times as
 * fast here (docs/BENCHMARKS.md, "The hash's vector code"); XXH3's
 * value is the same whatever the vector code, and both builds keep their
 * streaming state in the same layout. Decided at the first call.
 */
#include "cairn_xxh3.h"
#include "cpu_avx2.h"

#define DECLARE(ns)                                                                     \
    struct ns##XXH3_state_s;                                                            \
    XXH64_hash_t ns##XXH3_64bits(const void *p, size_t n);                              \
    XXH64_hash_t ns##XXH3_64bits_withSeed(const void *p, size_t n, XXH64_hash_t seed);  \
    XXH_errorcode ns##XXH3_64bits_reset(struct ns##XXH3_state_s *s);                    \
    XXH_errorcode ns##XXH3_64bits_update(struct ns##XXH3_state_s *s, const void *p,     \
                                         size_t n);                                     \
    XXH64_hash_t ns##XXH3_64bits_digest(const struct ns##XXH3_state_s *s);
DECLARE(cairn_sse2__)
#ifdef CAIRN_XXH3_AVX2
DECLARE(cairn_avx2__)
#endif

/* 1: AVX2, 0: SSE2, -1: not decided yet. A race of two first calls
   decides the same twice. */
static int avx2 = -1;

static int use_avx2(void)
{
#ifdef CAIRN_XXH3_AVX2
    int v = __atomic_load_n(&avx2, __ATOMIC_RELAXED);
    if (v < 0)
        __atomic_store_n(&avx2, v = cairn_cpu_has_avx2(), __ATOMIC_RELAXED);
    return v;
#else
    return 0;
#endif
}

#ifdef CAIRN_XXH3_AVX2
#define CALL(fn, ...) (use_avx2() ? cairn_avx2__##fn(__VA_ARGS__) : cairn_sse2__##fn(__VA_ARGS__))
#else
#define CALL(fn, ...) cairn_sse2__##fn(__VA_ARGS__)
#endif
#define SSE2_STATE(s) ((struct cairn_sse2__XXH3_state_s *)(void *)(s))
#define AVX2_STATE(s) ((struct cairn_avx2__XXH3_state_s *)(void *)(s))

XXH64_hash_t XXH3_64bits(const void *p, size_t n)
{
    return CALL(XXH3_64bits, p, n);
}

XXH64_hash_t XXH3_64bits_withSeed(const void *p, size_t n, XXH64_hash_t seed)
{
    return CALL(XXH3_64bits_withSeed, p, n, seed);
}

XXH_errorcode XXH3_64bits_reset(XXH3_state_t *s)
{
#ifdef CAIRN_XXH3_AVX2
    if (use_avx2())
        return cairn_avx2__XXH3_64bits_reset(AVX2_STATE(s));
#endif
    return cairn_sse2__XXH3_64bits_reset(SSE2_STATE(s));
}

XXH_errorcode XXH3_64bits_update(XXH3_state_t *s, const void *p, size_t n)
{
#ifdef CAIRN_XXH3_AVX2
    if (use_avx2())
        return cairn_avx2__XXH3_64bits_update(AVX2_STATE(s), p, n);
#endif
    return cairn_sse2__XXH3_64bits_update(SSE2_STATE(s), p, n);
}

XXH64_hash_t XXH3_64bits_digest(const XXH3_state_t *s)
{
#ifdef CAIRN_XXH3_AVX2
    if (use_avx2())
        return cairn_avx2__XXH3_64bits_digest((const struct cairn_avx2__XXH3_state_s *)(const void *)s);
#endif
    return cairn_sse2__XXH3_64bits_digest((const struct cairn_sse2__XXH3_state_s *)(const void *)s);
}
