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
 *    given its protection.
 *
 * Large regions are filled on transparent huge pages where the kernel's
 * policy is "madvise": 512 times fewer page faults (1 GiB: 0.6 s -> see
 * docs/TRANSPARENT.md), and the next checkpoint's fork copies 512 times
 * fewer page-table entries. Afterwards the regions are marked
 * MADV_NOHUGEPAGE, which under that policy behaves as the job's unmarked
 * regions did (no huge pages for later faults), keeping the ones made.
 */
#include "hash.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"

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

/* Reads a whole mapping's bytes from src into place, checking their checksum. */
void r_fill_whole(const struct r_src *src)
{
    const struct cairn_proc_map *m = src->map;
    uint64_t len = m->end - m->start;
    unsigned char *p = (unsigned char *)m->start;
    int huge = len >= HUGE && thp_on_madvise();
    if (src->mem_len != len)
        corrupt(m);
    if (huge)
        sys3(NR_madvise, m->start, len, MADV_HUGEPAGE);
    r_hash_reset();
    for (uint64_t done = 0; done < len;) {
        uint64_t n = len - done < CHUNK ? len - done : CHUNK;
        if (done % AHEAD == 0) /* a cold image: keep the disk busy meanwhile */
            sys4(NR_fadvise64, src->fd, src->mem_off + (done ? done + AHEAD : 0),
                 done ? AHEAD : 2 * AHEAD, FADV_WILLNEED);
        long rc = r_pread_all(src->fd, p + done, n, src->mem_off + done);
        if (rc < 0)
            r_fail("cannot read a region from the image", rc);
        r_hash_update(p + done, n);
        done += n;
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
    r_hash_reset();
    for (uint64_t k = 0; k < n; k++) {
        const struct cairn_proc_extent *e = &ext[k];
        if (e->length > src->mem_len - total)
            corrupt(m);
        for (uint64_t done = 0; done < e->length;) {
            uint64_t c = e->length - done < CHUNK ? e->length - done : CHUNK;
            unsigned char *p = (unsigned char *)(m->start + e->offset + done);
            long rc = r_pread_all(src->fd, p, c, src->mem_off + total);
            if (rc < 0)
                r_fail("cannot read a region from the image", rc);
            r_hash_update(p, c);
            done += c;
            total += c;
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
    long flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
    if (m->kind == CAIRN_MAP_STACK)
        flags |= MAP_GROWSDOWN;
    if (!data || sparse) /* a sparse one may be a huge reservation */
        flags |= MAP_NORESERVE;
    long rc = sys6(NR_mmap, (long)m->start, (long)len, data ? PROT_READ | PROT_WRITE : 0,
                   flags, -1, 0);
    if (rc < 0)
        r_fail("cannot map a region of the job", rc);
    if (!data)
        return;
    static struct cairn_proc_extent ext[CAIRN_PROC_MAX_EXTENTS];
    struct r_src src = r_src_of(i);
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
