/* SPDX-License-Identifier: MIT */
/* bench_hash_avx2.c — io_hash with XXH3's AVX2 code (built with -mavx2),
   used where the CPU has AVX2, as the restorer's hash is (bench_io.c). */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "bench_util.h"

#define IO_HASH_NAME io_hash_avx2
#include "bench_hash_loop.h"
