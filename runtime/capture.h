/* SPDX-License-Identifier: MIT */
/*
 * capture.h — what the runtime records about the job inside the checkpoint
 * signal handler, and the async-signal-safe helpers it uses to do so.
 *
 * Everything lives in memory mapped once by the constructor, so the handler
 * and the copy-on-write writer child allocate nothing.
 */
#ifndef CAIRN_RUNTIME_CAPTURE_H
#define CAIRN_RUNTIME_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "process_format.h"

struct cairn__mac;

#define RT_MAPS_TEXT (4u << 20)

struct rt_state {
    struct cairn_proc_core core;
    struct cairn_proc_map maps[CAIRN_PROC_MAX_MAPS];
    struct cairn_proc_file files[CAIRN_PROC_MAX_FILES];
    struct cairn_proc_fileid file_id[CAIRN_PROC_MAX_FILES];
    char text[RT_MAPS_TEXT];          /* /proc/self/maps and friends */
    char why[512];                    /* reason for a refusal or failure */
    /* The handler's alternate stack holds the signal frame, and the writer
       child runs on it: the child writes a copy taken as it starts. */
    uint64_t alt_start, alt_size;
    unsigned char *alt_copy;
    /* Set in the writer child of a keyed run: the image gets a MAC. */
    struct cairn__mac *mac;
    /* The temp image cairn passed with the request: not the job's. */
    int image_fd;
    /* Who the job is, as cairn run sent it after HELLO; saved in images. */
    struct cairn_proc_job job;
    int have_job;
    /* The CPUs this process ran on, OR-ed at every capture (cpu_features.h):
       part of the job's memory, so a restore brings it back. */
    struct cairn_proc_cpu cpu;
    /* Every thread, main first (threads.c; core.nthreads of them), and the
       signals pending for the others, each for its own thread. */
    struct cairn_proc_thread threads[CAIRN_PROC_MAX_THREADS];
    struct cairn_proc_tsig tsig[CAIRN_PROC_MAX_TSIGQ];
    uint32_t ntsig;
    /* The job runs in cairn run's pid namespace (cairn, the control
       socket's peer, is outside it): thread ids can be restored. */
    int own_pidns;
    /* The job's processes, as cairn sent them with GO (tree.c): the
       image's tree section; tree_len 0 for a job of one process. */
    unsigned char tree[CAIRN_PROC_TREE_MAX];
    uint32_t tree_len;
    /* The bytes in the tree's pipes (the first process only; mapped by
       the constructor, untouched until used). */
    unsigned char *pipe_data;
    uint32_t pipe_data_len;
    /* The IPC section after them (cli/run_ipc.c: the job's SysV and
       POSIX IPC objects, the first process only). */
    uint32_t ipc_len;
    /* What the epoll fds watch (capture.c). */
    struct cairn_proc_epoll epoll[CAIRN_PROC_MAX_EPOLL];
    uint32_t nepoll;
    /* Each mapping's device and inode, as /proc/self/maps shows them. */
    struct { uint64_t dev, ino; } map_obj[CAIRN_PROC_MAX_MAPS];
    /* The job's POSIX timers (timers.c). */
    struct cairn_proc_timer timers[CAIRN_PROC_MAX_TIMERS];
    uint32_t ntimers;
    /* The pieces of anonymous mappings that a restore mapped from its
       image (capture.c): their pages hold data whether present or not. */
    struct { uint64_t start, end; } backed[CAIRN_PROC_MAX_MAPS];
    uint64_t nbacked;
};

/* The record telling the restorer where to name the files it maps the
   job's memory from (capture.c; in every image). */
void rt_mapnote(struct cairn_proc_mapnote *n);
/* The last restore mapped memory from an image; this file (device as
   major << 32 | minor, inode) is one it mapped from. */
int rt_mapped_restore(void);
int rt_from_image(uint64_t dev, uint64_t ino);

/* madvise.c: -1 with st->why if a captured mapping holds memory the job
   marked MADV_DONTFORK (through libc), which the writer cannot read. */
int rt_nofork_refuse(struct rt_state *st);
/* In a forked child: the marked memory stayed in the parent, none is here. */
void rt_nofork_forked(void);

/* Records the whole process state into st; uc is the handler's ucontext.
   Returns 0, or -1 with st->why naming the resource that cannot be saved. */
int rt_capture(struct rt_state *st, void *uc, int control_fd);

/* Writes the image of st to the open file fd (the writer child). Returns 0
   or -1 with st->why set. *bytes receives the image size. */
int rt_write_image(struct rt_state *st, int fd, uint64_t generation, uint64_t *bytes);

/* ---- async-signal-safe helpers (rt_util.c) ---------------------------- */
/* libc's string functions are async-signal-safe (POSIX.1-2016), so the
   handler uses them; these only name the tests it makes. */
static inline size_t rt_strlen(const char *s)
{
    return strlen(s);
}

static inline int rt_streq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static inline int rt_startswith(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}
/* Appends to a NUL-terminated buffer of size cap, truncating. */
void rt_cat(char *buf, size_t cap, const char *s);
void rt_cat_u64(char *buf, size_t cap, uint64_t v);
/* st->why = a, num, b (a refusal naming a number); returns -1. */
int rt_refuse_num(struct rt_state *st, const char *a, uint64_t num, const char *b);
void rt_cat_hex(char *buf, size_t cap, uint64_t v);
/* Reads a whole small file into buf (NUL-terminated); length or -1. */
long rt_read_file(const char *path, char *buf, size_t cap);
uint64_t rt_parse_hex(const char **p);
uint64_t rt_parse_dec(const char **p);

#endif
