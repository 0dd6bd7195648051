/* SPDX-License-Identifier: MIT */
/*
 * sparse.c — which pages of an anonymous mapping hold anything, for the
 * writer child: only those are written (a 2 TiB MAP_NORESERVE reservation
 * with five pages touched is five pages in the image, not 2 TiB of zeros).
 *
 * The kernel's PAGEMAP_SCAN ioctl on /proc/self/pagemap (Linux 6.7) lists
 * the ranges of present or swapped pages, skipping empty page tables, so
 * 2 TiB scan in a millisecond. In the writer (a fork of the job) an
 * anonymous page the job ever wrote is present or swapped: fork copies the
 * page tables of every anonymous mapping that has pages. Pages that only
 * map the shared zero page (read, never written) are left out too. File
 * mappings are never scanned: their pages need not be present to hold the
 * file's bytes.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/ioctl.h>

#include "dirty.h"
#include "sparse.h"

/* The kernel uapi (linux/fs.h of 6.7+; Debian 12's headers lack it). */
struct page_region {
    uint64_t start, end, categories;
};
struct pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT (1u << 3)
#define PAGE_IS_SWAPPED (1u << 4)
#define PAGE_IS_PFNZERO (1u << 5)
#define BATCH 256

int rt_extent_append(struct cairn_proc_extent *ext, long *n, long cap, uint64_t a, uint64_t b)
{
    if (*n > 0 && ext[*n - 1].offset + ext[*n - 1].length == a) {
        ext[*n - 1].length += b - a;
        return 0;
    }
    if (*n == cap)
        return -1;
    ext[(*n)++] = (struct cairn_proc_extent){a, b - a};
    return 0;
}

/* A page held and not written was held, with these bytes, at the parent's
   snapshot; pages not held are zero whatever the parent had. */
int rt_split_written(const struct cairn_proc_extent *held, long n, uint64_t start,
                     const struct rt_dirty_run *w, const struct rt_dirty_run *wend,
                     struct cairn_proc_extent *data, long *nd,
                     struct cairn_proc_extent *base, long *nb, long cap)
{
    *nd = *nb = 0;
    for (long k = 0; k < n; k++) {
        uint64_t a = start + held[k].offset, b = a + held[k].length;
        while (a < b) {
            while (w < wend && w->end <= a)
                w++;
            int in = w < wend && w->start <= a;
            uint64_t to = in ? (w->end < b ? w->end : b) : (w < wend && w->start < b ? w->start : b);
            if (rt_extent_append(in ? data : base, in ? nd : nb, cap, a - start, to - start) < 0)
                return -1;
            a = to;
        }
    }
    return 0;
}

long rt_sparse_scan(int pagemap, uint64_t start, uint64_t end, struct cairn_proc_extent *ext,
                    long cap)
{
    struct page_region r[BATCH];
    long n = 0;
    for (uint64_t at = start; at < end;) {
        struct pm_scan_arg a = {.size = sizeof a, .start = at, .end = end,
                                .vec = (uint64_t)(uintptr_t)r, .vec_len = BATCH,
                                .category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
                                .return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED |
                                               PAGE_IS_PFNZERO};
        long got = ioctl(pagemap, PAGEMAP_SCAN, &a);
        if (got < 0)
            return RT_SPARSE_UNSUPPORTED;
        for (long i = 0; i < got; i++) {
            if (r[i].categories == (PAGE_IS_PRESENT | PAGE_IS_PFNZERO))
                continue; /* the zero page: reads as zeros anyway */
            if (rt_extent_append(ext, &n, cap, r[i].start - start, r[i].end - start) < 0)
                return RT_SPARSE_TOO_MANY;
        }
        if (a.walk_end <= at)
            return RT_SPARSE_UNSUPPORTED; /* no progress: do not loop */
        at = a.walk_end;
    }
    return n;
}

uint64_t rt_sparse_bytes(const struct cairn_proc_extent *ext, long n)
{
    uint64_t bytes = 0;
    for (long i = 0; i < n; i++)
        bytes += ext[i].length;
    return bytes;
}
