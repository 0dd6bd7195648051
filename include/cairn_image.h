/* SPDX-License-Identifier: MIT */
/*
 * cairn_image.h — read-only access to cairn images and stores.
 *
 * Used by the cairn CLI (inspect, verify, ls) and by tools that want to look
 * into images without restoring them. Every image is treated as hostile:
 * lengths and offsets are checked against the file before use, and no
 * payload byte is trusted before its checksum is verified.
 *
 * Thread rules: a cairn_image_t may be used by one thread at a time.
 */
#ifndef CAIRN_IMAGE_H
#define CAIRN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_image cairn_image_t;

typedef struct cairn_image_info {
    unsigned format_major, format_minor;
    uint32_t flags;            /* CAIRN_IMG_* in docs/FORMAT.md */
    uint32_t writer_version;   /* CAIRN_VERSION_NUMBER of the writer */
    uint64_t generation;
    uint64_t created_ns;       /* CLOCK_REALTIME, nanoseconds */
    uint32_t uid, pid;         /* of the writing process */
    char host[64];             /* NUL-terminated */
    uint64_t file_size;
    unsigned section_count;
} cairn_image_info_t;

typedef struct cairn_section_info {
    unsigned type;             /* CAIRN_SEC_* in docs/FORMAT.md */
    unsigned codec;            /* 0 none, 1 zstd */
    uint32_t flags;
    char name[256];            /* NUL-terminated; may be empty */
    uint64_t data_offset;      /* where the payload starts in the file */
    uint64_t stored_size;      /* payload bytes in the file */
    uint64_t raw_size;         /* bytes after decompression */
    uint64_t checksum;         /* XXH3-64 of the raw bytes */
    uint64_t arg;              /* type-specific */
} cairn_section_info_t;

/* Short names for section types and codecs ("region", "zstd", ...). */
CAIRN_EXTERN const char *cairn_section_type_name(unsigned type);
CAIRN_EXTERN const char *cairn_codec_name(unsigned codec);

/*
 * Opens an image and checks its structure: header, trailer, and every
 * section header with its checksum. Payloads are not read. On failure
 * returns a negative error and, if why is not NULL, a sentence saying what
 * is wrong and where (byte offset, section).
 */
CAIRN_EXTERN int cairn_image_open(cairn_image_t **out, const char *path,
                                  char *why, size_t why_len);
/* The same for an open descriptor (read with pread; not closed). */
CAIRN_EXTERN int cairn_image_open_fd(cairn_image_t **out, int fd,
                                     char *why, size_t why_len);
CAIRN_EXTERN void cairn_image_close(cairn_image_t *img);

CAIRN_EXTERN const cairn_image_info_t *cairn_image_info(const cairn_image_t *img);
CAIRN_EXTERN const cairn_section_info_t *cairn_image_section(const cairn_image_t *img,
                                                             unsigned index);
/* Index of the first section of this type and name, or -1. */
CAIRN_EXTERN int cairn_image_find(const cairn_image_t *img, unsigned type,
                                  const char *name);

/*
 * Reads section `index` into dst (dst_size must equal its raw_size),
 * decompressing it and checking its checksum as it goes. Returns 0 or a
 * negative error (CAIRN_ECORRUPT, ...). On error dst holds partial data.
 */
CAIRN_EXTERN int cairn_image_read(cairn_image_t *img, unsigned index, void *dst,
                                  size_t dst_size);

/*
 * Reads every payload and checks every checksum, using a bounded buffer.
 * Returns 0 if the whole image verifies; otherwise a negative error, with
 * *bad_section (if not NULL) set to the failing section's index.
 */
CAIRN_EXTERN int cairn_image_verify(cairn_image_t *img, unsigned *bad_section);

/*
 * Authentication. With a key set, every payload read is also hashed, and
 * cairn_image_verify() checks the image's MAC (docs/FORMAT.md): an image
 * without a MAC, or whose MAC does not match, gives CAIRN_EAUTH.
 * cairn_image_authenticate() checks the MAC after cairn_image_read() calls,
 * reading whatever sections were not read yet.
 */
#define CAIRN_KEY_SIZE 32
/* Loads a key file (any content of 16 bytes or more, hashed to 32 bytes);
   "default" is the per-user key, created mode 0600 on first use. The file
   must be owned by the caller and not readable by group or others. */
CAIRN_EXTERN int cairn_key_load(const char *path, unsigned char key[CAIRN_KEY_SIZE]);
CAIRN_EXTERN int cairn_image_set_key(cairn_image_t *img,
                                     const unsigned char key[CAIRN_KEY_SIZE]);
CAIRN_EXTERN int cairn_image_authenticate(cairn_image_t *img);

/* The last detailed error message for this image ("" if none). */
CAIRN_EXTERN const char *cairn_image_error(const cairn_image_t *img);

/*
 * Lists the generation numbers present in a store directory (files named
 * ckpt-<20 digits>.cairn), ascending, valid or not. Writes at most max
 * numbers to gens; *count receives how many there are. Returns 0 or a
 * negative error.
 */
CAIRN_EXTERN int cairn_store_list(const char *dir, uint64_t *gens, size_t max,
                                  size_t *count);
/* Writes the path of generation gen in store dir into buf. */
CAIRN_EXTERN int cairn_store_image_path(const char *dir, uint64_t gen, char *buf,
                                        size_t len);
/* 1 if the store holds a "finished" marker (cairn_complete), 0 if not. */
CAIRN_EXTERN int cairn_store_is_finished(const char *dir);

#ifdef __cplusplus
}
#endif
#endif
