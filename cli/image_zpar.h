/* SPDX-License-Identifier: MIT */
/*
 * image_zpar.h — a memory payload compressed as a run of zstd frames on
 * worker threads (cli/image_zpar.c), for cli/image_pack.c. See
 * docs/FORMAT.md, "Compressed process images".
 */
#ifndef CAIRN_CLI_IMAGE_ZPAR_H
#define CAIRN_CLI_IMAGE_ZPAR_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of raw payload per unit of work (a worker's chunk): each chunk
   becomes one frame or more, none spanning two chunks. */
#define ZPAR_CHUNK (1u << 20)
/* Granule of the incompressibility test: zstd's largest block. */
#define ZPAR_BLOCK (128u << 10)

struct zpar;

/* A pool of `threads` workers compressing at zstd level `level` (0
   threads: everything done by the caller's thread). NULL: out of memory. */
struct zpar *zpar_new(int level, int threads);
void zpar_free(struct zpar *z);

/* Called in order for each chunk: its raw bytes and the frames they
   became. A non-zero return stops zpar_run, which returns it. */
typedef int (*zpar_emit_fn)(void *ctx, const unsigned char *raw, size_t raw_len,
                            const unsigned char *frames, size_t frames_len);

/* Compresses size bytes at p, chunk by chunk (ZPAR_CHUNK), on the pool;
   every 128 KiB block a sample test finds incompressible goes into a raw
   frame (zstd raw blocks, no compression spent on it). 0, CAIRN_ECODEC,
   -ENOMEM or emit's return; *raw_bytes (if not NULL) gets how many bytes
   went into raw frames. */
int zpar_run(struct zpar *z, const unsigned char *p, uint64_t size, zpar_emit_fn emit,
             void *ctx, uint64_t *raw_bytes);

/* Decompresses the whole zstd frames at the start of src (src_len
   bytes) into dst (room bytes), a frame per worker at a time; *used gets
   the bytes of the frames taken, *made the bytes they gave. Without
   final, a frame cut by the end of src ends the run (the caller reads
   on); with it, every byte must be a frame. 0; CAIRN_ECORRUPT if a frame
   does not parse, does not decompress to its content size or overflows
   room; -E2BIG if one has no content size (the caller decompresses the
   payload as a stream instead); -ENOMEM. The caller checks the checksum. */
int zpar_expand(struct zpar *z, const unsigned char *src, size_t src_len, unsigned char *dst,
                uint64_t room, int final, size_t *used, uint64_t *made);

/* One zstd frame holding len bytes (1 .. 2^32-1) as raw blocks, written
   at dst (room for zpar_raw_frame_size(len)); returns its size. */
size_t zpar_raw_frame(unsigned char *dst, const unsigned char *src, size_t len);
size_t zpar_raw_frame_size(size_t len);

#endif
