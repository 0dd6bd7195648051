/* SPDX-License-Identifier: MIT */
/*
 * forge_image.c — test helper playing an attacker who can write to a store
 * but has no key: overwrites bytes in a section's payload, then recomputes
 * every XXH3 checksum it invalidated (the section's data and header
 * checksums, the chain, the trailer), so that the image still verifies
 * without a key.
 *
 *   forge_image IMAGE TYPE INDEX OFFSET HEXBYTES
 *
 * TYPE is a section type (0x100 = process core, ...), INDEX which section
 * of that type (0 = first), OFFSET a byte offset into its payload and
 * HEXBYTES the bytes to put there ("ff00..."). Exit 0 on success.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_edit.h"

static int die(const char *msg)
{
    fprintf(stderr, "forge_image: %s\n", msg);
    return 1;
}

/* Decodes HEXBYTES into out; returns the byte count or -1. */
static long parse_hex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return (long)(n / 2);
}

int main(int argc, char **argv)
{
    if (argc != 6)
        return die("usage: forge_image IMAGE TYPE INDEX OFFSET HEXBYTES");
    unsigned type = (unsigned)strtoul(argv[2], NULL, 0);
    long index = strtol(argv[3], NULL, 0);
    uint64_t at = strtoull(argv[4], NULL, 0);
    unsigned char bytes[256];
    long nbytes = parse_hex(argv[5], bytes, sizeof bytes);
    static struct ie_image im;
    if (nbytes < 0 || ie_load(&im, argv[1]) < 0)
        return die("bad arguments or unreadable image");
    int done = 0;
    for (unsigned i = 0; i < im.nsec && !done; i++) {
        struct cairn_section_header s;
        cairn_section_decode(ie_section(&im, i), &s);
        if (s.type == type && index-- == 0) {
            if (at > s.stored_size || (uint64_t)nbytes > s.stored_size - at)
                return die("offset beyond the section's payload");
            memcpy(ie_payload(&im, i) + at, bytes, (size_t)nbytes);
            done = 1;
        }
    }
    if (!done)
        return die("no such section");
    /* Every checksum the edit invalidated: the payload's, the section
       header's, the chain and the trailer's (all of them: cheap here). */
    ie_seal(&im, IE_SEAL_DATA);
    if (ie_rewrite(&im, argv[1]) < 0)
        return die("cannot write the image");
    ie_free(&im);
    return 0;
}
