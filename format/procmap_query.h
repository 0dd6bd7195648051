/* SPDX-License-Identifier: MIT */
/*
 * procmap_query.h — the PROCMAP_QUERY ioctl on /proc/PID/maps (Linux
 * 6.11, linux/fs.h; Debian 12's headers lack it): the vma at an address
 * as /proc/PID/maps shows it. Shared by the restorer (restore/mapped.c)
 * and the runtime (runtime/madvise.c).
 */
#ifndef CAIRN_PROCMAP_QUERY_H
#define CAIRN_PROCMAP_QUERY_H

#include <stdint.h>

struct procmap_query_ {
    uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size;
    uint64_t vma_offset, inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY_ 0xc0686611u

#endif
