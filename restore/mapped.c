/* SPDX-License-Identifier: MIT */
/*
 * mapped.c — the job's memory mapped from the image instead of copied.
 *
 * A run of saved pages whose payload starts at a page-aligned file offset
 * (writers align memory payloads: docs/FORMAT.md, "Memory payloads") is
 * mapped MAP_PRIVATE | MAP_FIXED from the image at its address, read-only,
 * and its checksum is checked by hashing the mapped bytes; memory.c then
 * gives it its protection. The image's page-cache pages become the job's
 * memory as they are, and a page is copied only when the job writes it:
 * no fresh page is needed up front, which on these VMs costs most of a
 * copying restore once free memory sat idle (docs/BENCHMARKS.md, "Restore
 * after idle memory"). For a compressed image the source is cairn's sealed
 * memfd of the expanded image, mapped the same way.
 *
 * Only private anonymous mappings are mapped so (memory.c decides): the
 * stack must grow down, shared memory must stay shared. A run of a sparse
 * mapping is mapped only if it is at least MIN_RUN long, and at most
 * MAX_RUNS of them per restore: each adds a vma or two. Anything else, an
 * image file that cannot be mapped (the mmap fails: a file system without
 * mmap, say) go through the copy path (memory.c), as every older,
 * unaligned image does. Mapping is asked for with CAIRN_RESTORE_MAP=1 in
 * the environment; the copy path stays the default, because a private
 * file mapping is not quite anonymous memory: MADV_DONTNEED brings the
 * file's bytes back instead of zeros (the runtime's madvise() covers the
 * calls made through libc, runtime/madvise.c, not the raw system call),
 * and mremap() growing one maps the file's next bytes, or pages past its
 * end that raise SIGBUS (glibc's realloc of a large block does this, with
 * its own internal call that no LD_PRELOAD sees). docs/TRANSPARENT.md.
 *
 * Afterwards the files mapped from are named, as /proc/self/maps shows
 * them (device, inode), in the table the image's mapped-memory note points
 * at (struct cairn_proc_mapnote): the runtime's next capture takes those
 * mappings for the anonymous memory they are (runtime/capture.c).
 */
#include "hash.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"
#include "procmap_query.h"

#define PAGE 4096ull
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define NR_ioctl 16
#define S_IFMT_ 0170000u
#define S_IFREG_ 0100000u
#define CHUNK (512ull << 10)  /* hashed at a time */
#define MIN_RUN (64ull << 10) /* a shorter sparse run is copied */
#define MAX_RUNS 4096u        /* sparse runs mapped per restore */

struct source {
    int fd;
    int usable;  /* a regular file (or memfd) that maps */
    int named;   /* dev and ino are as /proc/self/maps shows them */
    uint64_t dev, ino;
};

static struct source src[CAIRN_PROC_MAX_MAPSRC];
static unsigned nsrc, runs;
static int copy_only = 1; /* until CAIRN_RESTORE_MAP=1: docs/TRANSPARENT.md */
uint64_t r_mapped_bytes;

void r_mapped_env(char **envp)
{
    for (; envp && *envp; envp++)
        if (r_streq(*envp, "CAIRN_RESTORE_MAP=1"))
            copy_only = 0;
}

/* The kernel's st_dev as major << 32 | minor (new_encode_dev undone). */
static uint64_t split_dev(uint64_t d)
{
    return ((d >> 8) & 0xfff) << 32 | (d & 0xff) | ((d >> 12) & 0xfff00);
}

static struct source *source_of(int fd)
{
    for (unsigned k = 0; k < nsrc; k++)
        if (src[k].fd == fd)
            return &src[k];
    if (nsrc == CAIRN_PROC_MAX_MAPSRC)
        return 0;
    uint64_t st[18] = {0}; /* struct stat: dev, ino, nlink, mode... */
    struct source *s = &src[nsrc++];
    *s = (struct source){.fd = fd};
    if (sys2(NR_fstat, fd, (long)st) == 0 && ((uint32_t)st[3] & S_IFMT_) == S_IFREG_) {
        s->usable = 1;
        s->dev = split_dev(st[0]);
        s->ino = st[1];
    }
    return s;
}


/* The source's identity as the runtime will read it, from a vma just
   mapped from it (st_dev differs on some file systems); fstat's if the
   kernel cannot tell. */
static void name_source(struct source *s, uint64_t addr)
{
    if (s->named)
        return;
    s->named = 1;
    long fd = sys3(NR_open, "/proc/self/maps", 02000000 /* O_CLOEXEC */, 0);
    struct procmap_query_ q = {.size = sizeof q, .query_addr = addr};
    if (fd >= 0 && sys3(NR_ioctl, fd, PROCMAP_QUERY_, (long)&q) == 0 && q.inode) {
        s->dev = (uint64_t)q.dev_major << 32 | q.dev_minor;
        s->ino = q.inode;
    }
    if (fd >= 0)
        sys1(NR_close, fd);
}

/* Faults in and hashes [addr, addr + len), mapped from off of fd: the
   helper thread faults in ahead where there is one (ahead.c). */
static void hash_mapped(int fd, uint64_t addr, uint64_t len, uint64_t off)
{
    int ahead = r_ahead_start(fd, addr, len, off);
    for (uint64_t done = 0; done < len;) {
        uint64_t b = len - done < R_BLOCK ? len - done : R_BLOCK;
        long rc = ahead ? 0 : r_fault_in(fd, addr, done, b, off);
        if (ahead)
            r_ahead_wait(done + b);
        if (rc < 0)
            r_fail("cannot read a region mapped from the image", rc);
        for (uint64_t end = done + b; done < end;) {
            uint64_t n = end - done < CHUNK ? end - done : CHUNK;
            r_hash_update((const void *)(addr + done), n);
            r_progress(n);
            done += n;
        }
    }
}

int r_map_run(int fd, uint64_t addr, uint64_t len, uint64_t off, long flags, int sparse)
{
    if (copy_only || off % PAGE || len % PAGE || len == 0 ||
        (sparse && (len < MIN_RUN || runs >= MAX_RUNS)))
        return 0;
    struct source *s = source_of(fd);
    if (!s || !s->usable)
        return 0;
    long rc = sys6(NR_mmap, (long)addr, (long)len, PROT_READ, MAP_PRIVATE | MAP_FIXED | flags,
                   fd, (long)off);
    if (rc != (long)addr) { /* the old mapping may be gone: made again, then copied */
        s->usable = 0;
        rc = sys6(NR_mmap, (long)addr, (long)len, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | flags, -1, 0);
        if (rc < 0)
            r_fail("cannot map a region of the job", rc);
        return 0;
    }
    name_source(s, addr);
    hash_mapped(fd, addr, len, off);
    runs += sparse != 0;
    r_mapped_bytes += len;
    return 1;
}

void r_mapped_note(void)
{
    struct cairn_proc_mapnote n;
    if (!img.rec_mapnote.present || img.rec_mapnote.len != sizeof n ||
        r_read_record("mapped-memory note", &img.rec_mapnote, &n, sizeof n) < 0 ||
        n.capacity < 1 || n.capacity > CAIRN_PROC_MAX_MAPSRC || n.table_addr % 8)
        return;
    /* cairn run checked it lies in a saved writable mapping; the file may
       have changed since */
    uint64_t size = 8 + n.capacity * sizeof(struct cairn_proc_mapsrc);
    int inside = 0;
    for (uint64_t i = 0; i < img.core.nmaps && !inside; i++) {
        const struct cairn_proc_map *m = &img.maps[i];
        inside = n.table_addr >= m->start && n.table_addr < m->end &&
                 size <= m->end - n.table_addr && (m->prot & PROT_WRITE) &&
                 (m->flags & CAIRN_MAPF_DATA);
    }
    if (!inside)
        return;
    struct cairn_proc_mapsrc *e = (struct cairn_proc_mapsrc *)(n.table_addr + 8);
    uint64_t count = 0;
    for (unsigned k = 0; k < nsrc && count < n.capacity; k++)
        if (src[k].named)
            e[count++] = (struct cairn_proc_mapsrc){src[k].dev, src[k].ino};
    *(volatile uint64_t *)n.table_addr = count;
}
