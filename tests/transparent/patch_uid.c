/* patch_uid.c — test helper: rewrites the writer's uid in an image header
   and fixes the header checksum, to test that cairn run refuses images of
   another user.   patch_uid IMAGE UID */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "image_format.h"

int main(int argc, char **argv)
{
    unsigned char h[CAIRN_HEADER_SIZE];
    int fd = argc == 3 ? open(argv[1], O_RDWR) : -1;
    if (fd < 0 || pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h) {
        fprintf(stderr, "usage: patch_uid IMAGE UID\n");
        return 2;
    }
    cairn_put32(h + 40, (uint32_t)strtoul(argv[2], NULL, 10));
    uint64_t chain = XXH3_64bits(h, 120);
    cairn_put64(h + 120, chain);
    if (pwrite(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
        return 1;
    /* The header checksum seeds the chain that binds the sections: redo it
       and the trailer, so that only the uid tells this image apart. */
    uint64_t off = CAIRN_HEADER_SIZE;
    unsigned char s[CAIRN_SECTION_HEADER_SIZE];
    for (;;) {
        if (pread(fd, s, sizeof s, (off_t)off) != (ssize_t)sizeof s)
            return 1;
        if (memcmp(s, CAIRN_TRAILER_MAGIC, 8) == 0)
            break;
        unsigned char link[16];
        cairn_put64(link, cairn_get64(s + 56));
        cairn_put64(link + 8, cairn_get64(s + 40));
        chain = XXH3_64bits_withSeed(link, sizeof link, chain);
        off = cairn_align_up(cairn_get64(s + 16) + cairn_get64(s + 24), CAIRN_DATA_ALIGN);
    }
    cairn_put64(s + 24, chain);
    cairn_put64(s + 56, XXH3_64bits(s, 56));
    return pwrite(fd, s, sizeof s, (off_t)off) == (ssize_t)sizeof s ? 0 : 1;
}
