/* SPDX-License-Identifier: MIT */
/*
 * cairn_writer.h — libcairn's image writer, for the runtime (runtime/) and
 * the tests. Internal: not installed.
 *
 * The writer streams sections straight from the caller's memory to the file
 * (no copy of the state is made) while hashing them; it allocates nothing
 * unless a section is compressed, so it can run in a forked child of a
 * multi-threaded process. The container it writes is format/container.h.
 *
 * Compression comes in only where it is asked for: a writer whose `zstd` is
 * NULL refuses compressed sections (CAIRN_ECODEC), and a program that never
 * sets it (the runtime injected into jobs) links no libzstd.
 */
#ifndef CAIRN_WRITER_H
#define CAIRN_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "cairn_xxh3.h"
#include "image_format.h"

struct ZSTD_CCtx_s;
struct cairn__mac;
struct cairn__writer;

/* A compressor for the writer's sections (lib/image_zstd.c). */
struct cairn__writer_codec {
    /* Hashes (st) and compresses size bytes at data, appending the output. */
    int (*put)(struct cairn__writer *w, const unsigned char *data, uint64_t size, int level,
               XXH3_state_t *st);
    /* Frees the compression state. */
    void (*release)(struct cairn__writer *w);
};
extern const struct cairn__writer_codec cairn__writer_zstd;

/* ---- writer ------------------------------------------------------------ */

/* Hash-then-write granularity. Small enough that the chunk the hash has just
   pulled in is still in the core's L2 when write() copies it (4 MiB chunks
   were read from memory twice: 15% more CPU for hash + copy per GiB, see
   docs/BENCHMARKS.md). */
#define CAIRN__WRITER_CHUNK (512u << 10)

struct cairn__writer {
    int fd;
    uint64_t off;            /* end of what has been written */
    uint64_t synced;         /* bytes handed to writeback so far */
    uint32_t nsections;
    uint64_t chain;          /* running hash binding all sections in order */
    const struct cairn__writer_codec *zstd; /* set by the caller to allow
                                compressed sections; kept by begin */
    struct ZSTD_CCtx_s *zc;  /* created on first compressed section */
    unsigned char *zbuf;     /* compression output buffer */
    size_t zbuf_len;
    struct cairn__mac *mac;  /* set by the caller before begin to
                                authenticate the image; not owned */
    /* Set by the caller (before begin, which keeps it) to hear of each
       write: called with progress_ctx and the new off. May be NULL. */
    void (*progress)(void *ctx, uint64_t off);
    void *progress_ctx;
};

struct cairn__section {
    unsigned type;           /* CAIRN_SEC_* */
    uint32_t flags;          /* CAIRN_SECF_* */
    const char *name;        /* may be NULL */
    size_t name_len;
    uint64_t arg;            /* type-specific */
    int level;               /* 0: store raw; > 0: zstd level */
    uint32_t align;          /* payload alignment if over CAIRN_DATA_ALIGN (a power
                                of two: CAIRN_PROC_MEM_ALIGN for memory), else 0 */
};

/* Starts an image on fd (empty, positioned anywhere): writes the header. */
int cairn__writer_begin(struct cairn__writer *w, int fd, uint32_t flags,
                        uint64_t generation);
/* Appends one section holding `size` bytes at `data`. */
int cairn__writer_section(struct cairn__writer *w, const struct cairn__section *s,
                          const void *data, uint64_t size);
/* One uncompressed section whose payload is the parts, in order, as if
   they were one buffer (a sparse mapping's present pages). */
struct cairn__part {
    const void *data;
    uint64_t size;
};
int cairn__writer_section_parts(struct cairn__writer *w, const struct cairn__section *s,
                                const struct cairn__part *parts, size_t nparts);
/* Writes the MAC section if w->mac is set, then the trailer, and makes the
   file durable (fsync). */
int cairn__writer_finish(struct cairn__writer *w);
/* Appends len bytes at the end of the image (for the codecs). */
int cairn__writer_append(struct cairn__writer *w, const void *buf, size_t len);
/* Frees compression state; the writer can be begun again afterwards. */
void cairn__writer_release(struct cairn__writer *w);

#endif
