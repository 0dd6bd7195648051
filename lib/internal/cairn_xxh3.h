/* SPDX-License-Identifier: MIT */
/*
 * cairn_xxh3.h — XXH3 for lib/ (and so the runtime, which links lib/'s
 * objects), from xxhash.h alone: the implementation is compiled once, into
 * lib/xxh3.c, under cairn__-prefixed names (XXH_NAMESPACE) with hidden
 * visibility, so that neither libcairn's objects nor the runtime injected
 * into every job need libxxhash, and a job's own libxxhash cannot clash.
 * The restorer compiles it the same way (restore/hash.c, XXH_INLINE_ALL).
 */
#ifndef CAIRN_XXH3_H
#define CAIRN_XXH3_H

#define XXH_STATIC_LINKING_ONLY
#define XXH_NAMESPACE cairn__
#include <xxhash.h>

#endif
