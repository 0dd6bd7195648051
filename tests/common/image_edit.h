/* SPDX-License-Identifier: MIT */
/*
 * image_edit.h — image surgery for tests: load an image into memory, find
 * its sections, change bytes, and seal it again (every checksum and the
 * chain recomputed with format/container.h), so that a test can make an
 * image that breaks exactly one rule. Tests only: it trusts what it edits.
 */
#ifndef CAIRN_TEST_IMAGE_EDIT_H
#define CAIRN_TEST_IMAGE_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "image_format.h"

#define IE_MAX_SECTIONS 65536u

struct ie_image {
    unsigned char *p;
    size_t len;
    unsigned nsec;
    uint64_t sec[IE_MAX_SECTIONS];   /* offset of each section header */
};

/* Reads path into a new image (free with ie_free); 0 or -1. */
int ie_load(struct ie_image *im, const char *path);
/* A new image holding a copy of len bytes (free with ie_free); 0 or -1. */
int ie_from_bytes(struct ie_image *im, const void *bytes, size_t len);
/* Writes the bytes to path (created mode 0600, replaced); 0 or -1. */
int ie_save(const struct ie_image *im, const char *path);
/* Writes the bytes over the existing file at path, in place: the same
   inode, owner and mode (what an attacker with write access does); 0 or -1. */
int ie_rewrite(const struct ie_image *im, const char *path);
void ie_free(struct ie_image *im);
/* A copy of src; 0 or -1. */
int ie_copy(struct ie_image *dst, const struct ie_image *src);

/* Re-indexes the sections (after bytes moved). */
void ie_index(struct ie_image *im);
/* Index of the first section of this type, or -1. */
int ie_find(const struct ie_image *im, unsigned type);
/* The file header, the trailer (the last CAIRN_TRAILER_SIZE bytes), and
   section i's header and its payload; fields at the CAIRN_HDR_*, CAIRN_TR_*
   and CAIRN_SH_* offsets of format/container.h. */
unsigned char *ie_header(struct ie_image *im);
unsigned char *ie_trailer(struct ie_image *im);
unsigned char *ie_section(struct ie_image *im, unsigned i);
unsigned char *ie_payload(struct ie_image *im, unsigned i);

enum {
    IE_SEAL_DATA = 1 /* also recompute each codec-none payload's checksum */
};
/* Recomputes the header checksum, each section header checksum, the chain
   and the trailer checksum (and with IE_SEAL_DATA the payload checksums). */
void ie_seal(struct ie_image *im, int flags);
/* Only section i's header checksum (with IE_SEAL_DATA first its payload
   checksum); returns it. The chain is left as it is. */
uint64_t ie_seal_section(struct ie_image *im, unsigned i, int flags);
/* Only the trailer's checksum, over its fields as they are. */
void ie_seal_trailer(struct ie_image *im);

#endif
