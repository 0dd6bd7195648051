/* SPDX-License-Identifier: MIT */
/*
 * bench_hash_loop.h — io_hash's loop, defined as IO_HASH_NAME by the file
 * that includes it after xxhash.h (XXH_INLINE_ALL): bench_io.c with the
 * compiler's default vector code (SSE2), bench_hash_avx2.c with AVX2, as
 * the restorer hashes (restore/hash.c).
 */
double IO_HASH_NAME(const void *src, uint64_t size);

double IO_HASH_NAME(const void *src, uint64_t size)
{
    static XXH3_state_t st;
    const unsigned char *p = src;
    double t0 = bench_now();
    XXH3_64bits_reset(&st);
    for (uint64_t done = 0; done < size;) { /* in the restorer's 512 KiB steps */
        uint64_t n = size - done < (512u << 10) ? size - done : (512u << 10);
        XXH3_64bits_update(&st, p + done, n);
        done += n;
    }
    volatile uint64_t h = XXH3_64bits_digest(&st); /* the hash is used */
    (void)h;
    return bench_now() - t0;
}
