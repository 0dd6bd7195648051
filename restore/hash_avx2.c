/* SPDX-License-Identifier: MIT */
/*
 * hash_avx2.c — XXH3-64 with AVX2 vector code (built with -mavx2), called
 * by hash.c only on a CPU and kernel that have AVX2.
 */
#define R_HASH_SUFFIX avx2
#include "hash_impl.h"
