/* SPDX-License-Identifier: MIT */
/* stage.h — a delta's written pages copied at the pause, so that the
   writer's fork leaves the job's large mappings out (stage.c). */
#ifndef CAIRN_RUNTIME_STAGE_H
#define CAIRN_RUNTIME_STAGE_H

#include <stdint.h>

#include "process_format.h"

struct rt_state;
struct rt_dirty_run;

/* The pages a mapping holds (present or swapped, not the shared zero
   page), as dirty.c's scan lists them: offsets from the mapping's start. */
struct rt_held {
    uint64_t start, end;       /* the mapping */
    struct cairn_proc_extent *ext;
    long n, cap;
    int overflow, huge;        /* the list is incomplete; some is on huge pages */
};

/* A staged mapping, for the writer child: its written pages (data, the
   bytes copied in order), and for a delta the pages the parent holds. */
struct rt_stage_map {
    uint64_t index;                      /* in the capture's maps */
    const struct cairn_proc_extent *data, *base;
    long ndata, nbase;
    const unsigned char *bytes;          /* the data pages, back to back */
    uint64_t nbytes;
};

/* At the runtime's start: reads the test hook CAIRN_TEST_STAGE_FRESH. */
void rt_stage_init(void);

/* In the handler (dirty.c), raw system calls only: */
/* A new checkpoint: nothing staged. */
void rt_stage_reset(void);
/* Whether mapping i may be staged; if so, the list its scan fills. */
struct rt_held *rt_stage_held(const struct rt_state *st, uint64_t i);
void rt_held_add(struct rt_held *h, uint64_t start, uint64_t end);
/* Mapping i, scanned: staged if what was written is small beside it. */
void rt_stage_consider(uint64_t i, const struct rt_dirty_run *w, uint64_t nw,
                       const struct rt_held *h);
/* Just before the writer forks: copies the staged pages, marks their
   mappings MADV_DONTFORK (nothing is staged if any of it fails). */
void rt_stage_before_fork(const struct rt_state *st);
/* In the job once the writer is forked: MADV_DOFORK again, buffers dropped. */
void rt_stage_after_fork(void);

/* The kept buffer (stage.c, *The buffer*), for the capture: a new listing
   of the mappings starts; whether this one is the buffer (left out). */
void rt_stage_maps_listing(void);
int rt_stage_owns(uint64_t start, uint64_t end, uint64_t ino);

/* In the writer child, once it read the staged pages: the job may fill the
   buffer again. */
void rt_stage_release(void);

/* The bytes copied at this checkpoint's pause (0: none staged). */
uint64_t rt_stage_copied(void);

/* In the writer child: mapping i's staged pages, or NULL. */
const struct rt_stage_map *rt_stage_map(uint64_t i);

#endif
