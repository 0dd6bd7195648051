/* SPDX-License-Identifier: MIT */
/* debug_hash.h — the page hash of the test-only delta check
   (CAIRN_DEBUG_DIRTY: runtime/dirty_debug.c and restore/debug.c), the same
   on both sides and needing nothing (the fuzz builds of the runtime link
   no XXH3). Not a checksum of any image. */
#ifndef CAIRN_DEBUG_HASH_H
#define CAIRN_DEBUG_HASH_H

#include <stdint.h>

/* FNV-1a over the 512 words of a 4 KiB page; 0 is kept for zero pages. */
static inline uint64_t cairn_debug_page_hash(const void *page)
{
    const uint64_t *w = page;
    uint64_t h = 0xcbf29ce484222325ull, any = 0;
    for (unsigned k = 0; k < 512; k++) {
        any |= w[k];
        h = (h ^ w[k]) * 0x100000001b3ull;
    }
    return any ? h | 1 : 0;
}

#endif
