/* SPDX-License-Identifier: MIT */
/*
 * chain.c — delta images' links to their parents, and the retention rule
 * (cairn_chain.h). A delta image names its parent by generation, file
 * header checksum and trailer chain: the checksum covers the parent's
 * random nonce, the chain every one of its sections, so a parent that was
 * replaced (another job's store copied in, a generation rewritten after
 * --fresh) or altered is told apart from the right one.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn.h"
#include "cairn_chain.h"
#include "cairn_image.h"
#include "container.h"
#include "internal.h"

static int pread_exact(int fd, void *buf, size_t n, off_t off)
{
    return pread(fd, buf, n, off) == (ssize_t)n ? 0 : -EIO;
}

int cairn__link_read(int fd, struct cairn__link *l, char *why, size_t why_len)
{
    memset(l, 0, sizeof *l);
    cairn_image_t *img = NULL;
    int rc = cairn_image_open_fd(&img, fd, why, why_len);
    if (rc < 0)
        return rc;
    const cairn_image_info_t *info = cairn_image_info(img);
    l->generation = info->generation;
    l->size = info->file_size;
    unsigned char h[CAIRN_HEADER_SIZE], t[CAIRN_TRAILER_SIZE];
    rc = pread_exact(fd, h, sizeof h, 0);
    if (rc == 0)
        rc = pread_exact(fd, t, sizeof t, (off_t)(info->file_size - CAIRN_TRAILER_SIZE));
    if (rc == 0) {
        l->header_checksum = cairn_get64(h + CAIRN_HDR_CHECKSUM);
        l->chain = cairn_get64(t + CAIRN_TR_CHAIN);
    }
    int i = rc == 0 ? cairn_image_find(img, CAIRN_SEC_PROC_PARENT, NULL) : -1;
    if (i >= 0 && (info->flags & CAIRN_IMG_PROCESS)) {
        if (cairn_image_section(img, (unsigned)i)->raw_size != sizeof l->parent) {
            cairn__say(why, why_len, "its parent record has the wrong size");
            rc = CAIRN_ECORRUPT;
        } else if ((rc = cairn_image_read(img, (unsigned)i, &l->parent, sizeof l->parent)) < 0) {
            cairn__say(why, why_len, "%s", cairn_image_error(img));
        } else {
            l->has_parent = 1;
        }
    }
    if (rc == -EIO)
        cairn__say(why, why_len, "cannot read its header or trailer");
    cairn_image_close(img);
    return rc;
}

int cairn__link_is(const struct cairn__link *l, const struct cairn_proc_parent *parent)
{
    return l->generation == parent->generation && l->header_checksum == parent->header_checksum &&
           l->chain == parent->chain;
}

/* The index of gen in gens[0..n) (ascending), or n. */
static size_t index_of(const uint64_t *gens, size_t n, uint64_t gen)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (gens[mid] < gen)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && gens[lo] == gen ? lo : n;
}

void cairn__retain(const uint64_t *gens, size_t n, unsigned keep, cairn__parent_of parent_of,
                   void *ctx, unsigned char *keep_out)
{
    memset(keep_out, 0, n);
    for (size_t i = n > keep ? n - keep : 0; i < n; i++)
        keep_out[i] = 1;
    /* Newest first: a parent is always older than its child, so each
       kept generation's needs are marked before the walk reaches them. */
    for (size_t i = n; i-- > 0;) {
        if (!keep_out[i])
            continue;
        uint64_t pgen = 0;
        int rc = parent_of(ctx, gens[i], &pgen);
        if (rc < 0) {
            memset(keep_out, 1, i);
            return;
        }
        size_t j = rc == 1 && pgen < gens[i] ? index_of(gens, i, pgen) : i;
        if (j < i)
            keep_out[j] = 1;
    }
}
