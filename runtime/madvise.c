/* SPDX-License-Identifier: MIT */
/*
 * madvise.c — memory a restore mapped from its image keeps the semantics
 * of the anonymous memory it was.
 *
 * The restorer maps saved anonymous memory MAP_PRIVATE from the image
 * (restore/mapped.c). For a file mapping, MADV_DONTNEED drops the job's
 * copies and the pages read the file's bytes again, where anonymous memory
 * reads zeros (allocators rely on it: jemalloc takes such pages for zeroed
 * ones); MADV_FREE and MADV_WIPEONFORK are refused (EINVAL) on it. So the
 * job's madvise() with one of those is looked at first: where it covers a
 * vma mapped from the image (PROCMAP_QUERY, Linux 6.11), that part is
 * replaced by fresh anonymous memory of the same protection — zero pages,
 * what anonymous memory would then hold — and the call goes on as asked.
 * Only after a restore that mapped memory; otherwise it is the plain call.
 * A job that makes the system call itself (not through libc) is not seen:
 * docs/TRANSPARENT.md says so (mapping is asked for: CAIRN_RESTORE_MAP=1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capture.h"
#include "dirty.h"
#include "procmap_query.h"

#ifndef MADV_FREE
#define MADV_FREE 8
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA_ 0x10ull
#define VMA_READABLE_ 0x1ull
#define VMA_WRITABLE_ 0x2ull
#define VMA_EXECUTABLE_ 0x4ull
#define VMA_SHARED_ 0x8ull

static int anonymous_semantics(int advice)
{
    return advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_WIPEONFORK;
}

/* The fresh piece is registered with the dirty tracker (dirty.c) as the
   one it replaces was, so that the mapping's next image is still a delta:
   its zero pages are holes, which need no protection. */
static void track_again(uint64_t a, uint64_t b, int prot)
{
    int fd = rt_dirty_own_fd();
    struct { uint64_t start, len, mode, ioctls; } r = {a, b - a, 2 /* MODE_WP */, 0};
    if (fd >= 0 && (prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE))
        ioctl(fd, 0xc020aa00u /* UFFDIO_REGISTER */, &r);
}

/* Replaces what of [start, end) is mapped from the image by zero pages. */
static void make_anonymous(uint64_t start, uint64_t end)
{
    int fd = (int)syscall(SYS_open, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    for (uint64_t at = start; at < end;) {
        struct procmap_query_ q = {.size = sizeof q, .query_addr = at,
                                   .query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA_};
        if (ioctl(fd, PROCMAP_QUERY_, &q) < 0 || q.vma_start >= end)
            break;
        uint64_t a = q.vma_start > at ? q.vma_start : at, b = q.vma_end < end ? q.vma_end : end;
        if (q.inode && !(q.vma_flags & VMA_SHARED_) &&
            rt_from_image((uint64_t)q.dev_major << 32 | q.dev_minor, q.inode)) {
            int prot = (q.vma_flags & VMA_READABLE_ ? PROT_READ : 0) |
                       (q.vma_flags & VMA_WRITABLE_ ? PROT_WRITE : 0) |
                       (q.vma_flags & VMA_EXECUTABLE_ ? PROT_EXEC : 0);
            syscall(SYS_mmap, a, b - a, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            track_again(a, b, prot);
        }
        at = q.vma_end;
    }
    syscall(SYS_close, fd);
}

__attribute__((visibility("default"))) int madvise(void *addr, size_t len, int advice)
{
    uint64_t start = (uint64_t)(uintptr_t)addr;
    if (anonymous_semantics(advice) && rt_mapped_restore() && len && start % 4096 == 0) {
        int saved = errno;
        make_anonymous(start, (start + len + 4095) & ~4095ull);
        errno = saved;
    }
    long rc = syscall(SYS_madvise, addr, len, advice);
    return rc < 0 ? -1 : 0;
}
