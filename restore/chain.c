/* SPDX-License-Identifier: MIT */
/*
 * chain.c — restoring a delta image (docs/FORMAT.md, "Delta images"), and
 * arming the runtime's dirty-page tracking again.
 *
 * A delta mapping holds the pages written since its parent image; the
 * pages it lists in its base section are the parent's, at the same
 * addresses, in the parent's mapping `parent_index` (itself perhaps a
 * delta), whose range holds this one's (the same range, or a larger one);
 * the pages in neither list are zero. `cairn run` opened the
 * parents through the store and checked them; they come as descriptors
 * (argv, parent first). Each is walked here like the restored image
 * (image.c: the container's rules, the records' checksums) and must be the
 * image its child names: generation, file header checksum, trailer chain.
 *
 * A delta mapping is filled in layers: from the chain's bottom (the full
 * or sparse mapping of the oldest image that has it) up to the restored
 * image, each layer reads its own saved pages over the ones below, every
 * layer's memory section checked against its checksum as it is read; then
 * the pages the restored image lists in neither list are zeroed
 * (MADV_DONTNEED, or fresh anonymous memory where a layer was mapped from
 * its image: memory.c, mapped.c). A page the restored image takes from its parent is
 * held by the parent (the writer only lists such pages, dirty.c), so the
 * top-most layer that saved it is the right one. A chain costs at most its
 * images' bytes to read; retention keeps it within about twice a full image.
 *
 * Tracking: the restored memory is what the image's generation was, so the
 * restorer opens a userfaultfd in asynchronous write-protect mode, registers
 * the mappings the runtime tracks (cairn_proc_trackable), write-protects
 * what they hold, and tells the runtime the descriptor's number through the
 * word the track record names. The next checkpoint can then be a delta on
 * the restored generation.
 */
#include "dirty_uapi.h"
#include "hash.h"
#include "image_format.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"

#define PAGE 4096ull
#define NR_ioctl 16
#define NR_madvise 28
#define NR_userfaultfd 323
#define MADV_DONTNEED 4
#define O_CLOEXEC_ 02000000
#define O_NONBLOCK_ 04000
#define F_DUPFD_CLOEXEC_ 1030
#define NPARENTS (CAIRN_PROC_MAX_CHAIN - 1)

struct r_level {
    int fd;
    uint64_t nmaps;
    int has_parent;
    struct cairn_proc_parent parent;
    struct cairn_proc_map maps[CAIRN_PROC_MAX_MAPS];
    uint64_t mem_off[CAIRN_PROC_MAX_MAPS], mem_len[CAIRN_PROC_MAX_MAPS];
    uint64_t mem_sum[CAIRN_PROC_MAX_MAPS], ext_off[CAIRN_PROC_MAX_MAPS];
    uint64_t ext_len[CAIRN_PROC_MAX_MAPS], ext_sum[CAIRN_PROC_MAX_MAPS];
};

static struct r_level lv[NPARENTS];
static unsigned nlv;
static struct r_image saved; /* the restored image's index, while a parent is walked */
static struct cairn_proc_parent top_parent;
static int top_has_parent;

/* The parent record of the image now in img, if any: 1, 0, -2 corrupt. */
static int read_parent(struct cairn_proc_parent *p)
{
    if (!img.rec_parent.present)
        return 0;
    if (img.rec_parent.len != sizeof *p ||
        r_read_record("parent", &img.rec_parent, p, sizeof *p) < 0 ||
        p->magic != CAIRN_PROC_PARENT_MAGIC)
        return -2;
    return 1;
}

/* The header checksum and trailer chain of the image open as fd (its
   structure already walked): what a child names it by. */
static int identity(int fd, uint64_t *hdr, uint64_t *chain)
{
    unsigned char h[CAIRN_HEADER_SIZE], t[CAIRN_TRAILER_SIZE];
    long size = sys3(NR_lseek, fd, 0, 2 /* SEEK_END */);
    if (size < (long)CAIRN_IMAGE_MIN_SIZE || r_pread_all(fd, h, sizeof h, 0) < 0 ||
        r_pread_all(fd, t, sizeof t, (uint64_t)size - CAIRN_TRAILER_SIZE) < 0)
        return -1;
    *hdr = cairn_get64(h + CAIRN_HDR_CHECKSUM);
    *chain = cairn_get64(t + CAIRN_TR_CHAIN);
    return 0;
}

/* Walks the parent open as fd into lv[k], checked against what its child
   names (want). */
static int load_level(unsigned k, int fd, const struct cairn_proc_parent *want)
{
    char a[24];
    memset(&img, 0, sizeof img);
    int rc = r_load_image(fd, "a parent image");
    uint64_t hdr = 0, chain = 0;
    if (rc == 0 && (identity(fd, &hdr, &chain) < 0 || hdr != want->header_checksum ||
                    chain != want->chain)) {
        r_say("parent generation ", r_dec(a, want->generation),
              " is not the image its child was written on", (char *)0);
        rc = -2;
    }
    struct r_level *l = &lv[k];
    if (rc == 0 && (rc = read_parent(&l->parent)) >= 0) {
        l->has_parent = rc;
        rc = 0;
    }
    if (rc < 0)
        return rc;
    l->fd = fd;
    l->nmaps = img.core.nmaps;
    for (uint64_t i = 0; i < l->nmaps; i++) {
        l->maps[i] = img.maps[i];
        l->mem_off[i] = img.mem_off[i], l->mem_len[i] = img.mem_len[i];
        l->mem_sum[i] = img.mem_sum[i], l->ext_off[i] = img.ext_off[i];
        l->ext_len[i] = img.ext_len[i], l->ext_sum[i] = img.ext_sum[i];
    }
    return 0;
}

int r_chain_load(long argc, char **argv, long first)
{
    nlv = 0; /* a member of a tree loads its own, after the first process's (tree.c) */
    int rc = read_parent(&top_parent);
    if (rc < 0)
        return rc;
    top_has_parent = rc;
    rc = 0;
    if (argc - first > (long)NPARENTS) {
        r_say("more parent images than a chain can have", (char *)0);
        return -1;
    }
    memcpy(&saved, &img, sizeof img);
    const struct cairn_proc_parent *want = &top_parent;
    int has = top_has_parent;
    for (long i = first; i < argc && rc == 0; i++, nlv++) {
        long fd = r_parse_dec(argv[i]);
        if (!has || fd < 0) {
            r_say("a parent image given for an image without one", (char *)0);
            rc = -1;
            break;
        }
        rc = load_level(nlv, (int)fd, want);
        want = &lv[nlv].parent;
        has = lv[nlv].has_parent;
    }
    memcpy(&img, &saved, sizeof img);
    if (rc == 0 && has) {
        r_say("a delta image's parent image was not given", (char *)0);
        rc = -1;
    }
    return rc;
}

/* Mapping j of level k as a source. */
static struct r_src level_src(unsigned k, uint64_t j)
{
    const struct r_level *l = &lv[k];
    return (struct r_src){.fd = l->fd, .map = &l->maps[j], .mem_off = l->mem_off[j],
                          .mem_len = l->mem_len[j], .mem_sum = l->mem_sum[j],
                          .ext_off = l->ext_off[j], .ext_len = l->ext_len[j],
                          .ext_sum = l->ext_sum[j]};
}

/* Zeroes [addr, addr + len): MADV_DONTNEED, or where a layer was mapped
   from its image (mapped.c: a dropped page would read the file again)
   fresh anonymous memory. */
static void zero_range(uint64_t addr, uint64_t len, int mapped)
{
    long rc = mapped ? sys6(NR_mmap, (long)addr, (long)len, 3 /* PROT_READ | PROT_WRITE */,
                            0x02 | 0x10 | 0x20 | 0x4000 /* PRIVATE FIXED ANONYMOUS NORESERVE */,
                            -1, 0)
                     : sys3(NR_madvise, addr, len, MADV_DONTNEED);
    if (mapped && rc < 0)
        r_fail("cannot map a region of the job", rc);
}

/* Zeroes the pages of m in neither ordered list (disjoint). */
static void zero_rest(const struct cairn_proc_map *m, const struct cairn_proc_extent *a,
                      uint64_t na, const struct cairn_proc_extent *b, uint64_t nb, int mapped)
{
    uint64_t at = 0, size = m->end - m->start;
    for (uint64_t i = 0, j = 0; at < size;) {
        const struct cairn_proc_extent *next = i < na && (j >= nb || a[i].offset < b[j].offset)
                                                   ? &a[i++]
                                               : j < nb ? &b[j++]
                                                        : 0;
        uint64_t from = next ? next->offset : size;
        if (from < at)
            corrupt(m); /* overlapping lists */
        if (from > at)
            zero_range(m->start + at, from - at, mapped);
        at = next ? from + next->length : size;
    }
}

/* ---- a parent's mapping larger than the delta's ---------------------------
   A tracked mapping may be a part of a larger one in a parent image: the
   kernel had merged it with a neighbour when tracking began, and the
   neighbour went since (runtime/dirty.c). That parent's section is read
   whole and in order, for its checksum, but only its bytes inside the
   delta's range are put in place; the others pass through a scratch
   buffer. Nothing is mapped from the image here. */
static unsigned char clip_buf[64 << 10];

/* len bytes of src's memory section from offset sec, the bytes of the
   mapping from address addr on: those inside [lo, hi) into place. */
static void read_clipped(const struct r_src *src, uint64_t addr, uint64_t len, uint64_t sec,
                         uint64_t lo, uint64_t hi)
{
    for (uint64_t done = 0; done < len;) {
        uint64_t a = addr + done, n = len - done;
        int inside = a >= lo && a < hi;
        uint64_t edge = inside ? hi - a : a < lo ? lo - a : n;
        uint64_t cap = inside ? (512ull << 10) : sizeof clip_buf;
        n = n < edge ? n : edge;
        n = n < cap ? n : cap;
        unsigned char *dst = inside ? (unsigned char *)a : clip_buf;
        long rc = r_pread_all(src->fd, dst, n, src->mem_off + sec + done);
        if (rc < 0)
            r_fail("cannot read a region from the image", rc);
        r_hash_update(dst, n);
        if (inside)
            r_progress(n);
        done += n;
    }
}

/* The layer src, whose mapping contains [lo, hi), filled there only. */
static void fill_clipped(const struct r_src *src, uint64_t lo, uint64_t hi,
                         struct cairn_proc_extent *ext)
{
    const struct cairn_proc_map *q = src->map;
    r_hash_reset();
    if (!(q->flags & CAIRN_MAPF_SPARSE)) {
        if (src->mem_len != q->end - q->start)
            corrupt(q);
        read_clipped(src, q->start, src->mem_len, 0, lo, hi);
    } else {
        uint64_t n = r_read_runs(src->fd, q, src->ext_off, src->ext_len, src->ext_sum, ext);
        uint64_t total = 0;
        for (uint64_t k = 0; k < n; k++) {
            if (ext[k].length > src->mem_len - total)
                corrupt(q);
            read_clipped(src, q->start + ext[k].offset, ext[k].length, total, lo, hi);
            total += ext[k].length;
        }
        if (total != src->mem_len)
            corrupt(q);
    }
    if (r_hash_digest() != src->mem_sum)
        corrupt(q);
}

void r_chain_fill(uint64_t i)
{
    static struct cairn_proc_extent ext[CAIRN_PROC_MAX_EXTENTS], base[CAIRN_PROC_MAX_EXTENTS];
    struct r_src layer[CAIRN_PROC_MAX_CHAIN];
    unsigned n = 0;
    layer[0] = r_src_of(i);
    const struct cairn_proc_map *m = layer[0].map;
    /* Down the chain to the image where this mapping is not a delta; each
       parent's mapping holds this one's range (the same, or more). */
    while (layer[n].map->flags & CAIRN_MAPF_DELTA) {
        uint64_t j = layer[n].map->parent_index;
        if (n >= nlv || j >= lv[n].nmaps || lv[n].maps[j].start > m->start ||
            lv[n].maps[j].end < m->end || !(lv[n].maps[j].flags & CAIRN_MAPF_DATA))
            corrupt(m);
        layer[n + 1] = level_src(n, j);
        n++;
    }
    uint64_t mapped = r_mapped_bytes;
    for (unsigned k = n + 1; k-- > 0;) {
        const struct cairn_proc_map *q = layer[k].map;
        if (q->start != m->start || q->end != m->end)
            fill_clipped(&layer[k], m->start, m->end, ext);
        else if (q->flags & CAIRN_MAPF_SPARSE)
            r_fill_sparse(&layer[k], ext);
        else
            r_fill_whole(&layer[k]);
        if (k && r_mapped_bytes != mapped) /* runs mapped read-only: the next layer may copy */
            sys3(NR_mprotect, m->start, m->end - m->start, 3 /* PROT_READ | PROT_WRITE */);
    }
    /* ext holds the restored image's own runs now (layer 0, read last). */
    uint64_t ne = r_read_runs(img.fd, m, img.ext_off[i], img.ext_len[i], img.ext_sum[i], ext);
    uint64_t nb = r_read_runs(img.fd, m, img.base_off[i], img.base_len[i], img.base_sum[i], base);
    zero_rest(m, ext, ne, base, nb, r_mapped_bytes != mapped);
}

/* ---- tracking --------------------------------------------------------- */

#define UFFD_FEATURES_ (UFFD_FEATURE_WP_UNPOPULATED_ | UFFD_FEATURE_WP_ASYNC_)

/* Write-protects what [start, end) holds (not its holes: dirty.c). */
static void protect(long pagemap, uint64_t start, uint64_t end)
{
    static uint64_t vec[3 * 256];
    for (uint64_t at = start; at < end;) {
        struct pm_scan_arg_ a = {.size = sizeof a, .flags = PM_SCAN_WP_MATCHING_ | PM_SCAN_CHECK_WPASYNC_,
                                 .start = at, .end = end, .vec = (uint64_t)vec, .vec_len = 256,
                                 .category_mask = PAGE_IS_WRITTEN_,
                                 .category_anyof_mask = PAGE_IS_PRESENT_ | PAGE_IS_SWAPPED_,
                                 .return_mask = PAGE_IS_WRITTEN_};
        if (sys3(NR_ioctl, pagemap, PAGEMAP_SCAN_, (long)&a) < 0 || a.walk_end <= at)
            return;
        at = a.walk_end;
    }
}

static long open_tracker(void)
{
    long fd = sys1(NR_userfaultfd, O_CLOEXEC_ | O_NONBLOCK_ | UFFD_USER_MODE_ONLY_);
    uint64_t api[3] = {UFFD_API_, UFFD_FEATURES_, 0};
    if (fd >= 0 && sys3(NR_ioctl, fd, UFFDIO_API_, (long)api) < 0) {
        sys1(NR_close, fd);
        fd = -1;
    }
    return fd;
}

void r_track_arm(void)
{
    struct cairn_proc_track t;
    if (!img.rec_track.present || img.rec_track.len != sizeof t ||
        r_read_record("tracking", &img.rec_track, &t, sizeof t) < 0)
        return;
    long uffd = open_tracker(), pagemap = -1;
    if (uffd >= 0) { /* at the number the runtime had, if free */
        long to = sys3(NR_fcntl, uffd, F_DUPFD_CLOEXEC_, (long)t.uffd_fd);
        sys1(NR_close, uffd);
        uffd = to;
    }
    if (uffd >= 0 && (pagemap = sys3(NR_open, "/proc/self/pagemap", O_CLOEXEC_, 0)) < 0) {
        sys1(NR_close, uffd);
        uffd = -1;
    }
    /* cairn run checked it is an aligned word in a saved writable mapping;
       the file may have changed since */
    int inside = 0;
    for (uint64_t i = 0; i < img.core.nmaps; i++)
        inside |= t.flag_addr % 8 == 0 && t.flag_addr >= img.maps[i].start &&
                  t.flag_addr + 8 <= img.maps[i].end && (img.maps[i].prot & 2) &&
                  (img.maps[i].flags & CAIRN_MAPF_DATA);
    if (!inside) {
        if (uffd >= 0)
            sys1(NR_close, uffd);
        if (pagemap >= 0)
            sys1(NR_close, pagemap);
        return;
    }
    *(volatile int64_t *)t.flag_addr = uffd;
    if (uffd < 0)
        return;
    for (uint64_t i = 0; i < img.core.nmaps; i++) {
        const struct cairn_proc_map *m = &img.maps[i];
        uint64_t reg[4] = {m->start, m->end - m->start, 2 /* MODE_WP */, 0};
        if (cairn_proc_trackable(m) && sys3(NR_ioctl, uffd, UFFDIO_REGISTER_, (long)reg) == 0)
            protect(pagemap, m->start, m->end);
    }
    sys1(NR_close, pagemap);
}
