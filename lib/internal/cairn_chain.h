/* SPDX-License-Identifier: MIT */
/*
 * cairn_chain.h — chains of delta images (lib/chain.c): an image's
 * identity and the parent it was written on (docs/FORMAT.md, "Delta
 * images"), and the retention rule that keeps every kept generation
 * restorable. Internal: for cairn run (cli/), the store and the tests.
 */
#ifndef CAIRN_CHAIN_H
#define CAIRN_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "process_format.h"

/* One image of a chain, as read from its file. */
struct cairn__link {
    uint64_t generation;      /* the header's */
    uint64_t header_checksum; /* the file header's checksum: with its nonce, unique */
    uint64_t chain;           /* the trailer's chain: binds every section */
    uint64_t size;            /* bytes in the file */
    int has_parent;           /* a delta image: parent is its parent record */
    struct cairn_proc_parent parent;
};

/* Reads the identity and parent record of the image open as fd (its
   structure checked by cairn_image_open_fd). 0, or a CAIRN_* error with
   why filled in. */
int cairn__link_read(int fd, struct cairn__link *l, char *why, size_t why_len);

/* 1 if `l` is the image `parent` names (generation, header checksum and
   chain all equal). */
int cairn__link_is(const struct cairn__link *l, const struct cairn_proc_parent *parent);

/*
 * The retention rule. gens[0..n) ascending; the newest `keep` are kept,
 * and so is every generation a kept one needs: its parent, the parent's
 * parent, and so on. parent_of(ctx, gen, &pgen) says what generation gen
 * was written on: 1 with *pgen (a delta), 0 none (a full image), -1
 * unknown (unreadable): then every older generation is kept, since what it
 * needs cannot be known. Sets keep_out[i] to 1 for each generation to keep.
 */
typedef int (*cairn__parent_of)(void *ctx, uint64_t gen, uint64_t *pgen);
void cairn__retain(const uint64_t *gens, size_t n, unsigned keep, cairn__parent_of parent_of,
                   void *ctx, unsigned char *keep_out);

#endif
