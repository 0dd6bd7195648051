/* SPDX-License-Identifier: MIT */
/*
 * dirty_uapi.h — the kernel interfaces of dirty tracking: a userfaultfd in
 * asynchronous write-protect mode (linux/userfaultfd.h, Linux 6.7) and the
 * PAGEMAP_SCAN ioctl on /proc/PID/pagemap (linux/fs.h, 6.7); Debian 12's
 * headers lack both. Shared by the runtime (runtime/dirty.c), the
 * restorer (restore/chain.c) and bench/bench_floor.c.
 */
#ifndef CAIRN_DIRTY_UAPI_H
#define CAIRN_DIRTY_UAPI_H

#include <stdint.h>

#define UFFD_API_ 0xaaull
#define UFFD_USER_MODE_ONLY_ 1
#define UFFD_FEATURE_WP_UNPOPULATED_ (1ull << 13)
#define UFFD_FEATURE_WP_ASYNC_ (1ull << 15)
#define UFFDIO_API_ 0xc018aa3fu
#define UFFDIO_REGISTER_ 0xc020aa00u
#define UFFDIO_REGISTER_MODE_WP_ 2ull
#define UFFDIO_WRITEPROTECT_ 0xc018aa06u
#define UFFDIO_WRITEPROTECT_MODE_WP_ 1ull

struct uffdio_api_ {
    uint64_t api, features, ioctls;
};
struct uffdio_register_ {
    uint64_t start, len, mode, ioctls;
};
struct uffdio_writeprotect_ {
    uint64_t start, len, mode;
};

struct page_region_ {
    uint64_t start, end, categories;
};
struct pm_scan_arg_ {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN_ 0xc0606610u /* _IOWR('f', 16, struct pm_scan_arg) */
#define PM_SCAN_WP_MATCHING_ 1ull
#define PM_SCAN_CHECK_WPASYNC_ 2ull
#define PAGE_IS_WRITTEN_ (1ull << 1)
#define PAGE_IS_PRESENT_ (1ull << 3)
#define PAGE_IS_SWAPPED_ (1ull << 4)
#define PAGE_IS_PFNZERO_ (1ull << 5)
#define PAGE_IS_HUGE_ (1ull << 6)

#endif
