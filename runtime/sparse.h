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

/* Appends [a, b) to ext (n of at most cap), merging with the last run;
   -1 if full. */
int rt_extent_append(struct cairn_proc_extent *ext, long *n, long cap, uint64_t a, uint64_t b);

struct rt_dirty_run;
/* A delta mapping's held pages (the n runs of held, relative to start)
   split by the runs written since the parent ([w, wend), absolute): those
   written go to data (saved in the image), the others to base (the
   parent's); each list at most cap. 0 with *nd and *nb, or -1. */
int rt_split_written(const struct cairn_proc_extent *held, long n, uint64_t start,
                     const struct rt_dirty_run *w, const struct rt_dirty_run *wend,
                     struct cairn_proc_extent *data, long *nd,
                     struct cairn_proc_extent *base, long *nb, long cap);

#endif
