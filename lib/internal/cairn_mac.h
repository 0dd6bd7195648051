/* SPDX-License-Identifier: MIT */
/* auth.h — keyed MAC of images and key loading (lib/auth.c). Internal. */
#ifndef CAIRN_AUTH_H
#define CAIRN_AUTH_H

#include <stddef.h>

#define CAIRN_KEY_BYTES 32u
#define CAIRN_MAC_BYTES 32u

struct cairn__mac;

struct cairn__mac *cairn__mac_new(const unsigned char key[CAIRN_KEY_BYTES]);
void cairn__mac_free(struct cairn__mac *m);
/* For callers that must not allocate (the runtime's writer child, forked
   from a job that may hold malloc's locks): the size of a MAC state, and
   cairn__mac_new's work done in place in mem (64-byte aligned, that many
   bytes; for example an mmap'ed page). Needs sodium_init() done earlier.
   Wipe mem with cairn__mac_wipe when done; do not cairn__mac_free it. */
size_t cairn__mac_size(void);
struct cairn__mac *cairn__mac_init_at(void *mem, const unsigned char key[CAIRN_KEY_BYTES]);
void cairn__mac_wipe(struct cairn__mac *m);
/* The file header, first (it seeds the per-section keys). */
void cairn__mac_header(struct cairn__mac *m, const unsigned char *h, size_t len);
/* Per section: begin, data (raw bytes, in order), digest, then fold the
   section's header and name together with the digest into the MAC. */
void cairn__mac_section_begin(struct cairn__mac *m, unsigned index);
void cairn__mac_section_data(struct cairn__mac *m, const void *p, size_t n);
void cairn__mac_section_digest(struct cairn__mac *m, unsigned char digest[CAIRN_MAC_BYTES]);
void cairn__mac_section_fold(struct cairn__mac *m, const unsigned char *hdr, size_t hdr_len,
                             const unsigned char digest[CAIRN_MAC_BYTES]);
void cairn__mac_final(struct cairn__mac *m, unsigned char tag[CAIRN_MAC_BYTES]);
/* Constant-time comparison: 1 if equal. */
int cairn__mac_equal(const unsigned char a[CAIRN_MAC_BYTES],
                     const unsigned char b[CAIRN_MAC_BYTES]);

/* Loads a key from a file ("default": the per-user key, created mode 0600
   on first use). The file must be ours and mode 0600 or stricter. */
int cairn__key_load(const char *spec, unsigned char key[CAIRN_KEY_BYTES], int verbosity);

#endif
