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
 *
 * Memory the job marks MADV_DONTFORK is not in a fork, so the writer (a
 * fork) cannot save it: the ranges are kept here (until MADV_DOFORK), and
 * a checkpoint of a job holding one is refused naming it (capture.c).
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

#define MAX_NOFORK 32

/* [start, end) ranges the job marked MADV_DONTFORK; a slot with end 0 is free. */
static struct { uint64_t start, end; } nofork[MAX_NOFORK];
static int nofork_used;     /* slots ever taken: the pause looks at none if 0 */
static int nofork_overflow; /* more than MAX_NOFORK: refused as unknown */

static void nofork_add(uint64_t a, uint64_t b)
{
    for (int i = 0; i < MAX_NOFORK; i++)
        if (!nofork[i].end) {
            nofork[i].start = a, nofork[i].end = b;
            nofork_used = i + 1 > nofork_used ? i + 1 : nofork_used;
            return;
        }
    nofork_overflow = 1;
}

/* MADV_DOFORK on [a, b): ranges it covers are dropped, ends it overlaps
   cut; one it falls strictly inside is kept whole (refused, not missed). */
static void nofork_drop(uint64_t a, uint64_t b)
{
    for (int i = 0; i < nofork_used; i++) {
        uint64_t s = nofork[i].start, e = nofork[i].end;
        if (!e || b <= s || a >= e)
            continue;
        if (a <= s && b >= e)
            nofork[i].end = 0;
        else if (a <= s)
            nofork[i].start = b;
        else if (b >= e)
            nofork[i].end = a;
    }
}

static int refuse_nofork(struct rt_state *st, const char *what)
{
    st->why[0] = 0;
    rt_cat(st->why, sizeof st->why, what);
    rt_cat(st->why, sizeof st->why, " is marked MADV_DONTFORK by the job (madvise): the "
           "image's writer, a fork, could not read it");
    return -1;
}

void rt_nofork_forked(void)
{
    for (int i = 0; i < nofork_used; i++) /* the marked memory stayed in the parent */
        nofork[i].end = 0;
    nofork_used = 0;
    nofork_overflow = 0;
}

int rt_nofork_refuse(struct rt_state *st)
{
    for (uint64_t k = 0; nofork_used && k < st->core.nmaps; k++) {
        const struct cairn_proc_map *m = &st->maps[k];
        for (int i = 0; i < nofork_used; i++)
            if (nofork[i].end && nofork[i].start < m->end && nofork[i].end > m->start) {
                char what[96] = "";
                rt_cat(what, sizeof what, "memory at ");
                rt_cat_hex(what, sizeof what, nofork[i].start);
                rt_cat(what, sizeof what, "-");
                rt_cat_hex(what, sizeof what, nofork[i].end);
                return refuse_nofork(st, what);
            }
    }
    return nofork_overflow ? refuse_nofork(st, "more than 32 ranges of memory") : 0;
}

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
    uint64_t end = (start + len + 4095) & ~4095ull;
    if (rc == 0 && len && (advice == MADV_DONTFORK || advice == MADV_DOFORK))
        advice == MADV_DONTFORK ? nofork_add(start, end) : nofork_drop(start, end);
    return rc < 0 ? -1 : 0;
}
