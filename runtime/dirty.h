/* SPDX-License-Identifier: MIT */
/* dirty.h — the pages the job wrote since its last checkpoint (dirty.c). */
#ifndef CAIRN_RUNTIME_DIRTY_H
#define CAIRN_RUNTIME_DIRTY_H

#include <stdint.h>

#include "process_format.h"

struct rt_state;

/* How the writer writes mapping i of the current capture. */
enum { RT_DIRTY_WHOLE = 0, RT_DIRTY_DELTA = 1 };

struct rt_dirty_run {
    uint64_t start, end;     /* absolute addresses, whole pages */
};

struct rt_dirty_map {
    uint32_t mode;           /* RT_DIRTY_* */
    uint32_t parent_index;   /* RT_DIRTY_DELTA: the same mapping in the parent image */
    uint64_t first, count;   /* its written runs in rt_dirty_runs() */
};

/* In the constructor: maps the tracker's memory and opens a userfaultfd in
   asynchronous write-protect mode. Tracking stays off (every image full) if
   the kernel refuses (0 either way) or the memory cannot be mapped (-1). */
int rt_dirty_init(void);
/* The tracker's descriptor (capture.c leaves it out of the image), or -1. */
int rt_dirty_fd(void);
/* The userfaultfd if it tracks this process's memory (not a parent's, inherited), else -1. */
int rt_dirty_own_fd(void);
/* The request line from cairn run: "CKPT <gen> <name> P <gen> <hdr> <chain>
   <base> <depth> [<pid>]" names the parent a delta may be written on (pid:
   a tree's member, whose parent is its own member image of <gen>). */
void rt_dirty_request(const char *line);
/* In the handler, after the capture and the job's last write to its own
   memory, just before the writer forks: splits the captured mappings at the
   previous checkpoint's boundaries, records the pages written since, write-
   protects them again and registers new mappings. Writes nothing but its own
   memory and the stack it runs on (the alternate stack), and never errno. */
void rt_dirty_checkpoint(struct rt_state *st, uint64_t gen);
/* In the job, once the writer is forked: drops the run list (the writer has its copy). */
void rt_dirty_after_fork(void);

/* For the writer child: mapping i's plan; the runs (absolute [start, end));
   the parent record (NULL: a full image); the track record (0: none). */
const struct rt_dirty_map *rt_dirty_map(uint64_t i);
const struct rt_dirty_run *rt_dirty_runs(void);
const struct cairn_proc_parent *rt_dirty_parent(void);
int rt_dirty_track(struct cairn_proc_track *t);

/* dirty_debug.c, test-only (CAIRN_DEBUG_DIRTY=DIR): in the writer child,
   after the memory is written, records every page's hash and checks a
   delta's clean pages against its parent's record (report in DIR/report). */
void rt_dirty_debug_init(void);
/* CAIRN_DEBUG_DIRTY is set: the writer reads every page of the job. */
int rt_dirty_debug_on(void);
void rt_dirty_debug(const struct rt_state *st, uint64_t gen);
/* In the job, before the scan: each mapping's pagemap entries, for the writer's report. */
void rt_dirty_debug_pagemap(const struct rt_state *st, long pagemap);


#endif
