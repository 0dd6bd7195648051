/* SPDX-License-Identifier: MIT */
/* patch_uid.c — test helper: rewrites the writer's uid in an image header
   and fixes the header checksum, to test that cairn run refuses images of
   another user.   patch_uid IMAGE UID */
#include <stdio.h>
#include <stdlib.h>

#include "image_edit.h"

int main(int argc, char **argv)
{
    static struct ie_image im;
    if (argc != 3 || ie_load(&im, argv[1]) < 0 || im.len < CAIRN_IMAGE_MIN_SIZE) {
        fprintf(stderr, "usage: patch_uid IMAGE UID\n");
        return 2;
    }
    cairn_put32(ie_header(&im) + CAIRN_HDR_UID, (uint32_t)strtoul(argv[2], NULL, 10));
    /* The header checksum seeds the chain that binds the sections: reseal
       it, the chain and the trailer, so that only the uid tells this image
       apart. */
    ie_seal(&im, 0);
    int rc = ie_rewrite(&im, argv[1]) < 0 ? 1 : 0;
    ie_free(&im);
    return rc;
}
