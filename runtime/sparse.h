/* SPDX-License-Identifier: MIT */
/* sparse.h — the pages of an anonymous mapping that hold anything (sparse.c). */
#ifndef CAIRN_RUNTIME_SPARSE_H
#define CAIRN_RUNTIME_SPARSE_H

#include <stdint.h>

#include "process_format.h"

#define RT_SPARSE_UNSUPPORTED (-1) /* no PAGEMAP_SCAN: write the mapping whole */
#define RT_SPARSE_TOO_MANY (-2)    /* more than cap runs: write it whole */

/* The present or swapped pages of [start, end) as runs relative to start,
   merged, into ext (at most cap): their number, or RT_SPARSE_*. pagemap is
   /proc/self/pagemap, open. */
long rt_sparse_scan(int pagemap, uint64_t start, uint64_t end, struct cairn_proc_extent *ext,
                    long cap);
uint64_t rt_sparse_bytes(const struct cairn_proc_extent *ext, long n);

#endif
