/* SPDX-License-Identifier: MIT */
/* xxh3_avx2.c — XXH3 with AVX2 vector code (built with -mavx2) under
   cairn_avx2__ names, called by lib/xxh3.c only where the CPU has AVX2. */
#define XXH_STATIC_LINKING_ONLY
#define XXH_NAMESPACE cairn_avx2__
#define XXH_IMPLEMENTATION
#include <xxhash.h>
