/* SPDX-License-Identifier: MIT */
/*
 * hash.h — XXH3-64 in the freestanding restorer (hash.c), so that it checks
 * each payload's checksum as it reads the payload into place: `cairn run`
 * then reads the image once instead of twice (docs/TRANSPARENT.md).
 */
#ifndef CAIRN_RESTORE_HASH_H
#define CAIRN_RESTORE_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t r_hash(const void *p, size_t n);
uint64_t r_hash_seed(const void *p, size_t n, uint64_t seed);

/* CAIRN_RESTORE_HASH=sse2 in the environment: no AVX2 (before any hash). */
void r_hash_env(char **envp);
/* 1 if the hashes use AVX2, 0 for SSE2. */
int r_hash_avx2(void);

/* One streaming hash at a time (its state is in .bss). */
void r_hash_reset(void);
void r_hash_update(const void *p, size_t n);
uint64_t r_hash_digest(void);

#endif
