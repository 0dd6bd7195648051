/* SPDX-License-Identifier: MIT */
/*
 * memory.c — rebuilds the job's address space in the restorer.
 *
 * 1. The kernel's special mappings ([vvar], [vvar_vclock], [vdso], whatever
 *    this kernel has) are found in /proc/self/maps and compared with the
 *    checkpointed ones: same names, sizes and relative offsets, else the
 *    restore is refused (glibc caches vDSO pointers, so they must land where
 *    they were). No list of special mappings is hard-coded.
 * 2. They are moved together into cairn's reserved window (mremap each), so
 *    that nothing but the restorer and them is left outside the job's range.
 * 3. Everything below and above the window is unmapped; the restorer lives
 *    in the window (linked at CAIRN_RESTORER_BASE) and runs on a .bss stack.
 * 4. The special mappings are moved to their checkpointed addresses.
 * 5. Every mapping is recreated anonymous at its address (the [stack] one
 *    grows down), filled with pread from the image in chunks, each chunk
 *    hashed while still in cache (XXH3; a mismatch ends the restorer with
 *    R_EXIT_CORRUPT, before anything outside this process has changed), then
 *    given its protection. With CAIRN_RESTORE_MAP=1, a private anonymous
 *    mapping's page-aligned runs are mapped from the image instead and
 *    hashed in place (mapped.c); what cannot be mapped is copied as here.
 *
 * Large regions are filled on transparent huge pages where the kernel's
 * policy is "madvise" and huge pages are cheap: 512 times fewer page faults
 * (see docs/TRANSPARENT.md), and the next checkpoint's fork copies 512
 * times fewer page-table entries. Where a huge page costs more than 512
 * small ones (free memory that sat idle went back to the host), the block
 * goes on small pages: page_policy() decides each 2 MiB block from the
 * measured cost. Afterwards the regions are marked MADV_NOHUGEPAGE, which
 * under that policy behaves as the job's unmarked regions did (no huge
 * pages for later faults), keeping the ones made. The image's page cache
 * is dropped behind the reads (drop_behind), so that its memory serves the
 * next faults.
 */
#include "hash.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"
#include "tree.h"

#define PAGE 4096ull
#define TASK_TOP 0x7ffffffff000ull
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_GROWSDOWN 0x100
#define MAP_NORESERVE 0x4000
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define MAX_SPECIAL 16
#define NR_madvise 28
#define MADV_HUGEPAGE 14
#define MADV_NOHUGEPAGE 15
#define HUGE (2ull << 20)
#define CHUNK (512ull << 10) /* read, then hash while in L2 */
#define NR_fadvise64 221
#define FADV_WILLNEED 3
#define FADV_DONTNEED 4
#define NR_clock_gettime 228
#define CLOCK_MONOTONIC 1
#define MADV_POPULATE_WRITE 23
#define AHEAD (64ull << 20) /* asked of the disk ahead of the reads */

struct special {
    uint64_t start, end;
    char name[32];
};

static struct special cur[MAX_SPECIAL];
static unsigned ncur;
static char maps_text[1 << 16];

/* The special mappings of the restorer itself, from /proc/self/maps. */
static int find_current_specials(void)
{
    ncur = 0; /* a forked restorer checks its own image again (tree.c) */
    long fd = sys3(NR_open, "/proc/self/maps", 0, 0);
    if (fd < 0)
        return -1;
    long n = 0, r;
    while ((r = sys3(NR_read, fd, maps_text + n, sizeof maps_text - 1 - n)) > 0)
        n += r;
    sys1(NR_close, fd);
    maps_text[n] = 0;
    for (const char *p = maps_text; *p;) {
        uint64_t start = r_parse_hex(&p);
        p++;
        uint64_t end = r_parse_hex(&p);
        const char *name = p;
        while (*p && *p != '\n')
            p++;
        const char *eol = p;
        while (name < eol && *name != '[' && *name != '/')
            name++;
        if (name < eol && *name == '[' && !r_startswith(name, "[heap]") &&
            !r_startswith(name, "[stack]") && !r_startswith(name, "[vsyscall]") &&
            !r_startswith(name, "[anon") && ncur < MAX_SPECIAL) {
            struct special *s = &cur[ncur++];
            s->start = start, s->end = end;
            unsigned k = 0;
            while (name + k < eol && k < sizeof s->name - 1)
                s->name[k] = name[k], k++;
            s->name[k] = 0;
        }
        if (*p)
            p++;
    }
    return 0;
}

/* Checks the job can be laid out here: nothing in cairn's window, and the
   same special mappings as at the checkpoint. */
int r_check_layout(void)
{
    char a[24];
    if (find_current_specials() < 0) {
        r_say("cannot read /proc/self/maps", (char *)0);
        return -1;
    }
    unsigned k = 0;
    uint64_t base = 0;
    for (uint64_t i = 0; i < img.core.nmaps; i++) {
        const struct cairn_proc_map *m = &img.maps[i];
        if (m->end > CAIRN_RESERVED_LO && m->start < CAIRN_RESERVED_HI) {
            r_say("the job has a mapping at ", r_hex(a, m->start),
                  ", inside the window cairn's restorer needs", (char *)0);
            return -1;
        }
        if (m->kind != CAIRN_MAP_SPECIAL)
            continue;
        if (k == 0)
            base = m->start;
        if (k >= ncur || !r_streq(m->name, cur[k].name) ||
            m->end - m->start != cur[k].end - cur[k].start ||
            m->start - base != cur[k].start - cur[0].start) {
            r_say("this kernel's special mappings (vDSO) differ from the checkpointed ones at ",
                  m->name, ": cannot restore on this kernel", (char *)0);
            return -1;
        }
        k++;
    }
    if (k != ncur) {
        r_say("this kernel has more special mappings (vDSO) than the checkpointed one",
              (char *)0);
        return -1;
    }
    return 0;
}

static void move_specials(int to_job)
{
    unsigned k = 0;
    uint64_t base = cur[0].start; /* cur[] moves as we go */
    for (uint64_t i = 0; i < img.core.nmaps && k < ncur; i++) {
        const struct cairn_proc_map *m = &img.maps[i];
        if (m->kind != CAIRN_MAP_SPECIAL)
            continue;
        uint64_t len = cur[k].end - cur[k].start;
        uint64_t dst = to_job ? m->start : CAIRN_RESERVED_LO + (cur[k].start - base);
        long rc = sys5(NR_mremap, cur[k].start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
        if (rc < 0)
            r_fail("cannot move the vDSO mappings", rc);
        cur[k].start = dst, cur[k].end = dst + len;
        k++;
    }
}

/* 1 if the kernel gives huge pages only to regions marked MADV_HUGEPAGE. */
static int thp_on_madvise(void)
{
    static int known = -1;
    if (known < 0) {
        char buf[128] = "";
        long fd = sys3(NR_open, "/sys/kernel/mm/transparent_hugepage/enabled", 0, 0);
        long n = fd < 0 ? -1 : sys3(NR_read, fd, buf, sizeof buf - 1);
        if (fd >= 0)
            sys1(NR_close, fd);
        known = 0;
        for (long k = 0; k + 9 <= n && !known; k++)
            known = r_startswith(buf + k, "[madvise]");
    }
    return known;
}

__attribute__((noreturn)) void corrupt(const struct cairn_proc_map *m)
{
    char a[24], b[24];
    r_say("the image's contents of the mapping ", r_hex(a, m->start), "-", r_hex(b, m->end),
          " ", m->name[0] ? m->name : "(anonymous)", " do not match their checksum: the image is corrupt", (char *)0);
    r_exit(R_EXIT_CORRUPT);
}

/* Drop-behind: the image's page cache in [*from, to) of the file, already
   copied into the job's memory, is given back at once (the kernel drops
   only the cached folios wholly inside the range; one straddling `to` goes
   with the next call, which starts at the huge page boundary below it).
   The kernel then hands those just-freed, host-backed pages to the next
   faults: on these VMs free memory that sat idle is returned to the host
   and a huge page made from it costs 8-16 ms to fault in instead of 0.2 ms
   (docs/TRANSPARENT.md, "Idle memory"). The image is read once per
   restore, so its cache has no later use, and a restore then needs its
   size in memory once instead of twice. */
static void drop_behind(int fd, uint64_t *from, uint64_t to)
{
    if (to > *from)
        sys4(NR_fadvise64, fd, *from, to - *from, FADV_DONTNEED);
    *from = to & ~(HUGE - 1);
}

/* ---- page size, decided per 2 MiB block from what it costs -------------
   A huge page costs 0.1-0.25 ms to fault in when the kernel has just-freed
   memory at hand (the image's own page cache, given back by drop_behind,
   when it was read into large folios), but 8-16 ms when it must come from
   free memory that sat idle and went back to the host; 512 small pages
   cost 0.5-4 ms in both cases (docs/TRANSPARENT.md, "Idle memory"). So each
   2 MiB block of a large region is faulted in (MADV_POPULATE_WRITE, timed)
   on the page size whose recent cost is lower, huge pages winning ties up
   to 1.25x (they also make the next checkpoint's fork ~20 times cheaper);
   the other size is tried again after 1 block, then after twice as many
   as the previous try, up to PROBE_MAX (a try of the worse size costs one
   block's difference). The state carries over from region to region. */
#define PROBE_MAX 256

static struct {
    uint64_t ns[2];       /* recent cost of a block: [0] small pages, [1] huge */
    int huge;             /* the size in use */
    int marked;           /* the rest of the current region is MADV_HUGEPAGE */
    unsigned left, every; /* blocks until the other size is tried; interval */
    int off;              /* MADV_POPULATE_WRITE refused: leave it to the faults */
} pp = {.huge = 1, .left = 1, .every = 1};

static uint64_t now_ns(void)
{
    struct { long s, ns; } t = {0, 0};
    sys2(NR_clock_gettime, CLOCK_MONOTONIC, (long)&t);
    return (uint64_t)t.s * 1000000000ull + (uint64_t)t.ns;
}

/* Faults in the block at b, of a region ending at end that was marked
   MADV_HUGEPAGE, on the page size chosen; called before its first read. */
static void page_policy(uint64_t b, uint64_t end)
{
    if (pp.off || b % HUGE || end - b < HUGE)
        return;
    int probe = pp.left == 0, want = probe ? !pp.huge : pp.huge;
    if (want != pp.marked) /* the rest of the region, so that VMAs split once */
        sys3(NR_madvise, b, end - b, want ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    pp.marked = want;
    uint64_t t0 = now_ns();
    if (sys3(NR_madvise, b, HUGE, MADV_POPULATE_WRITE) < 0) {
        pp.off = 1; /* before Linux 5.14 */
        return;
    }
    uint64_t c = now_ns() - t0;
    pp.ns[want] = pp.ns[want] ? (pp.ns[want] + c) / 2 : c;
    int best = !pp.ns[0] || pp.ns[1] <= pp.ns[0] + pp.ns[0] / 4;
    if (probe) {
        pp.every = best == want ? 1 : pp.every * 2 > PROBE_MAX ? PROBE_MAX : pp.every * 2;
        pp.left = pp.every;
    } else if (pp.left) {
        pp.left--;
    }
    pp.huge = best;
}

/* The mapping map_one is filling may be mapped from the image (mapped.c),
   with these extra mmap flags. */
static int may_map;
static long map_flags;

/* Reads a whole mapping's bytes from src into place, checking their
   checksum: mapped from the image where it can be, else copied. */
void r_fill_whole(const struct r_src *src)
{
    const struct cairn_proc_map *m = src->map;
    uint64_t len = m->end - m->start;
    unsigned char *p = (unsigned char *)m->start;
    int huge = len >= HUGE && thp_on_madvise();
    if (src->mem_len != len)
        corrupt(m);
    r_hash_reset();
    if (may_map && r_map_run(src->fd, m->start, len, src->mem_off, map_flags, 0)) {
        if (r_hash_digest() != src->mem_sum)
            corrupt(m);
        return; /* no drop-behind: the page cache is the job's memory now */
    }
    uint64_t dropped = src->mem_off;
    if (huge)
        sys3(NR_madvise, m->start, len, MADV_HUGEPAGE);
    pp.marked = 1;
    r_hash_reset();
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < CHUNK ? len - done : CHUNK;
        if (done % AHEAD == 0) /* a cold image: keep the disk busy meanwhile */
            sys4(NR_fadvise64, src->fd, src->mem_off + (done ? done + AHEAD : 0),
                 done ? AHEAD : 2 * AHEAD, FADV_WILLNEED);
        if (huge)
            page_policy(m->start + done, m->start + len);
        long rc = r_pread_all(src->fd, p + done, n, src->mem_off + done);
        if (rc < 0)
            r_fail("cannot read a region from the image", rc);
        r_hash_update(p + done, n);
        r_progress(n);
        done += n;
        drop_behind(src->fd, &dropped, src->mem_off + done);
    }
    if (r_hash_digest() != src->mem_sum)
        corrupt(m);
    if (huge)
        sys3(NR_madvise, m->start, len, MADV_NOHUGEPAGE);
}

/* A run list (extents or base section) into ext, its checksum checked, each
   run whole pages inside the mapping: the number of runs. */
uint64_t r_read_runs(int fd, const struct cairn_proc_map *m, uint64_t off, uint64_t len,
                     uint64_t sum, struct cairn_proc_extent *ext)
{
    uint64_t n = len / sizeof ext[0], size = m->end - m->start;
    if (len % sizeof ext[0] || n > CAIRN_PROC_MAX_EXTENTS)
        corrupt(m);
    long rc = r_pread_all(fd, ext, len, off);
    if (rc < 0)
        r_fail("cannot read a mapping's page list from the image", rc);
    if (r_hash(ext, len) != sum)
        corrupt(m);
    for (uint64_t k = 0; k < n; k++)
        if (ext[k].offset % PAGE || ext[k].length % PAGE || ext[k].offset > size ||
            ext[k].length > size - ext[k].offset)
            corrupt(m);
    return n;
}

/* A sparse mapping: its page list (checked whole, left in ext), then each
   run of pages read into place, one checksum over them all as the writer
   made it. The pages it does not list are left as they are: zero, and not
   allocated, in a fresh mapping. The number of runs. */
uint64_t r_fill_sparse(const struct r_src *src, struct cairn_proc_extent *ext)
{
    const struct cairn_proc_map *m = src->map;
    uint64_t n = r_read_runs(src->fd, m, src->ext_off, src->ext_len, src->ext_sum, ext), total = 0;
    uint64_t dropped = src->mem_off;
    r_hash_reset();
    for (uint64_t k = 0; k < n; k++) {
        const struct cairn_proc_extent *e = &ext[k];
        if (e->length > src->mem_len - total)
            corrupt(m);
        if (may_map && r_map_run(src->fd, m->start + e->offset, e->length,
                                 src->mem_off + total, map_flags, 1)) {
            total += e->length;
            dropped = src->mem_off + total; /* not that cache: the job's memory */
            continue;
        }
        for (uint64_t done = 0; done < e->length;) {
            uint64_t c = e->length - done < CHUNK ? e->length - done : CHUNK;
            unsigned char *p = (unsigned char *)(m->start + e->offset + done);
            long rc = r_pread_all(src->fd, p, c, src->mem_off + total);
            if (rc < 0)
                r_fail("cannot read a region from the image", rc);
            r_hash_update(p, c);
            r_progress(c);
            done += c;
            total += c;
            drop_behind(src->fd, &dropped, src->mem_off + total);
        }
    }
    if (total != src->mem_len || r_hash_digest() != src->mem_sum)
        corrupt(m);
    return n;
}

/* Mapping i of the image being restored, as a source. */
struct r_src r_src_of(uint64_t i)
{
    return (struct r_src){.fd = img.fd, .map = &img.maps[i], .mem_off = img.mem_off[i],
                          .mem_len = img.mem_len[i], .mem_sum = img.mem_sum[i],
                          .ext_off = img.ext_off[i], .ext_len = img.ext_len[i],
                          .ext_sum = img.ext_sum[i], .base_off = img.base_off[i],
                          .base_len = img.base_len[i], .base_sum = img.base_sum[i]};
}

static void map_one(uint64_t i)
{
    const struct cairn_proc_map *m = &img.maps[i];
    uint64_t len = m->end - m->start;
    int data = (m->flags & CAIRN_MAPF_DATA) != 0;
    int sparse = (m->flags & CAIRN_MAPF_SPARSE) != 0;
    long flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, fd = -1, off = 0;
    if (m->kind == CAIRN_MAP_SYSV) { /* no bytes of its own: ipc.c */
        r_sysv_map(i);
        return;
    }
    if (m->kind == CAIRN_MAP_STACK)
        flags |= MAP_GROWSDOWN;
    if (!data || sparse) /* a sparse one may be a huge reservation */
        flags |= MAP_NORESERVE;
    if (m->kind == CAIRN_MAP_SHARED) { /* the tree's memfd (tree.c) */
        fd = r_tree_shm_fd(m->reserved, m->offset, len);
        if (fd < 0)
            r_fail("a shared mapping does not fit its object", -22);
        flags = 0x01 /* MAP_SHARED */ | MAP_FIXED;
        off = (long)m->offset;
    }
    long rc = sys6(NR_mmap, (long)m->start, (long)len, data ? PROT_READ | PROT_WRITE : 0,
                   flags, fd, off);
    if (rc < 0)
        r_fail("cannot map a region of the job", rc);
    if (!data)
        return;
    static struct cairn_proc_extent ext[CAIRN_PROC_MAX_EXTENTS];
    struct r_src src = r_src_of(i);
    /* private anonymous memory only: a stack grows down, shared memory stays shared */
    may_map = m->kind == CAIRN_MAP_ANON;
    map_flags = flags & MAP_NORESERVE;
    if (m->flags & CAIRN_MAPF_DELTA)
        r_chain_fill(i); /* chain.c: from the parent images too */
    else if (sparse)
        r_fill_sparse(&src, ext);
    else
        r_fill_whole(&src);
    rc = sys3(NR_mprotect, m->start, len, m->prot);
    if (rc < 0)
        r_fail("cannot protect a region", rc);
}

void r_rebuild_memory(void)
{
    move_specials(0);
    sys2(NR_munmap, PAGE, CAIRN_RESERVED_LO - PAGE);
    sys2(NR_munmap, CAIRN_RESERVED_HI, TASK_TOP - CAIRN_RESERVED_HI);
    move_specials(1);
    for (uint64_t i = 0; i < img.core.nmaps; i++)
        if (img.maps[i].kind != CAIRN_MAP_SPECIAL)
            map_one(i);
}
