/* SPDX-License-Identifier: MIT */
/*
 * image_pack.h — compressed process images (cli/image_pack.c): `cairn run`
 * turns the uncompressed image its writer child produced into the stored,
 * compressed one (pack), and a stored compressed image back into an
 * uncompressed one the restorer can read (expand). See docs/FORMAT.md,
 * "Compressed process images".
 */
#ifndef CAIRN_CLI_IMAGE_PACK_H
#define CAIRN_CLI_IMAGE_PACK_H

#include <stddef.h>
#include <stdint.h>

struct pack_opts {
    int level;                   /* zstd level (negative: zstd's fast levels) */
    int workers;                 /* threads compressing (cli/image_zpar.c); 0: the caller's */
    const unsigned char *key;    /* the image key (32 bytes): the MAC is made
                                    again over the stored form; NULL: unkeyed */
};

struct pack_stats {
    uint64_t raw;                /* bytes of the uncompressed image */
    uint64_t stored;             /* bytes of the stored one */
    uint64_t compressed;         /* sections stored as zstd */
    uint64_t passed;             /* memory sections stored raw (incompressible) */
    uint64_t raw_blocks;         /* bytes of compressed sections in raw zstd blocks */
};

/* Smallest memory section worth a zstd frame. */
#define PACK_MIN_SECTION (64u << 10)

/* Reads the uncompressed image in in_fd (any readable file, typically the
   memfd the writer wrote), checks every payload against its checksum, and
   writes to out_fd (empty) the same image with its memory sections zstd
   compressed (frames of at most 1 MiB each, made on po->workers threads;
   raw where that does not make them smaller), streamed to
   disk as it goes, then fsyncs it. 0, or a CAIRN_* error with why. */
int image_pack(int in_fd, int out_fd, const struct pack_opts *o, struct pack_stats *st,
               char *why, size_t len);

/* For a test (CAIRN_TEST_PACK_DIE): called after each packed section with
   its index and type; NULL by default. */
extern void (*image_pack_hook)(unsigned section, unsigned type);

/* The image open as fd, once checked: 0 if it holds no compressed
   section (use fd itself); 1 with *out a sealed memfd holding the same
   image uncompressed, every payload checked against its checksum while
   decompressed; or a CAIRN_* error with why naming the section. */
int image_expand(int fd, int *out, char *why, size_t len);

#endif
