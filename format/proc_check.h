/* SPDX-License-Identifier: MIT */
/*
 * proc_check.h — decoding and semantic validation of a process image's
 * records (format/process_format.h), shared by `cairn run` (before it
 * execs the restorer), `cairn verify` and `cairn inspect`.
 *
 * Checksums say the bytes are the ones written, not that the writer was
 * cairn: anyone can recompute XXH3. The freestanding restorer trusts these
 * records, so everything it relies on is checked here first, with libc:
 * counts within its tables, page-aligned, ordered, non-overlapping
 * mappings outside its reserved window, one memory section of the right
 * size per saved mapping, sane descriptor numbers, terminated strings.
 */
#ifndef CAIRN_CLI_PROC_CHECK_H
#define CAIRN_CLI_PROC_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "cairn_image.h"
#include "process_format.h"

struct proc_records {
    struct cairn_proc_core core;
    struct cairn_proc_map *maps;   /* nmaps records (malloc'ed) */
    uint64_t nmaps;
    struct cairn_proc_file *files; /* nfiles records (malloc'ed) */
    uint64_t nfiles;
    struct cairn_proc_thread *threads; /* nthreads records, main first (malloc'ed); */
    uint64_t nthreads;                 /* 0: a single-threaded job's image has none */
    int has_parent;                    /* a delta image: parent is its parent record */
    struct cairn_proc_parent parent;   /* (as read; proc_check checks it) */
};

/*
 * Reads the core, maps, files and (if any) threads sections of a process image (checksums
 * checked as they are read) into p. Returns 0, or CAIRN_ECORRUPT (or the
 * read's error) with why saying which section is wrong. p is released by
 * proc_release() in every case.
 */
int proc_load(cairn_image_t *img, struct proc_records *p, char *why, size_t len);
void proc_release(struct proc_records *p);

/* Checks loaded records against each other and the image's sections.
   0 or CAIRN_ECORRUPT with why naming the section and the record. */
int proc_check(cairn_image_t *img, const struct proc_records *p, char *why, size_t len);

/* The index of the one section of type in img, -1 if none, -2 if more. */
int proc_only_section(cairn_image_t *img, unsigned type);

/* proc_tree_check.c, part of proc_check: the process tree's records and
   what files and mappings take from them, and the epoll entries. */
int proc_check_tree(cairn_image_t *img, const struct proc_records *p, char *why, size_t len);

/* proc_ipc_check.c, part of proc_check: the IPC section (0x114). The walk
   checks every record of buf first, then calls fn (if not NULL) on each
   object with its data, stopping at a nonzero return, which it returns.
   proc_ipc_load reads and checks the section (*buf NULL, *size 0 if none;
   malloc'ed, the caller frees it). */
typedef int (*proc_ipc_fn)(const struct cairn_proc_ipc_obj *o, const unsigned char *data,
                           void *arg);
int proc_ipc_walk(const unsigned char *buf, size_t size, proc_ipc_fn fn, void *arg, char *why,
                  size_t len);
int proc_ipc_load(cairn_image_t *img, unsigned char **buf, size_t *size, char *why, size_t len);
int proc_check_ipc(cairn_image_t *img, char *why, size_t len);
/* A POSIX message queue's name: "/" then 1-254 bytes, no other '/'. */
int proc_mq_name(const char *name);
/* A delta image's records (c) against its parent's (p): every delta
   mapping names a saved parent mapping of the same kind holding its range
   (the same range or a larger one). 0 or CAIRN_ECORRUPT with why. */
int proc_check_delta(const struct proc_records *c, const struct proc_records *p, char *why,
                     size_t len);

/* The image's CPU record (part of proc_check): 1 and *c, 0 if it has none
   (written before 2026-12-04), or CAIRN_ECORRUPT with why. */
int proc_read_cpu(cairn_image_t *img, struct cairn_proc_cpu *c, char *why, size_t len);

/* proc_load + proc_check. 0 also for an image that is not a process image. */
int proc_check_image(cairn_image_t *img, char *why, size_t len);

/* "anon", "file", "stack", "special" / "file", "dup", "inherit", "device". */
const char *proc_map_kind_name(uint32_t kind);
const char *proc_fd_kind_name(uint32_t kind);

#endif
