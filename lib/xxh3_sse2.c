/* SPDX-License-Identifier: MIT */
/* xxh3_sse2.c — XXH3 with SSE2 vector code, which every x86_64 has (and
   the portable code elsewhere), under cairn_sse2__ names (lib/xxh3.c). */
#define XXH_STATIC_LINKING_ONLY
#define XXH_NAMESPACE cairn_sse2__
#define XXH_IMPLEMENTATION
#include <xxhash.h>
