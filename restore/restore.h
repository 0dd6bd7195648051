/* SPDX-License-Identifier: MIT */
/*
 * restore.h — the restorer's shared state: the image's index and the
 * records read from it, all in .bss (there is no allocator).
 */
#ifndef CAIRN_RESTORE_H
#define CAIRN_RESTORE_H

#include <stdint.h>

#include "process_format.h"


/* A record section found by the walk (image.c). */
struct r_record {
    uint64_t off, len, sum;
    int present;
};

struct r_image {
    int fd;
    int control_fd;                 /* cairn's channel (ours, moved high) */
    struct cairn_proc_core core;
    struct cairn_proc_map maps[CAIRN_PROC_MAX_MAPS];
    uint64_t mem_off[CAIRN_PROC_MAX_MAPS];   /* payload offset of each map's bytes */
    uint64_t mem_len[CAIRN_PROC_MAX_MAPS];
    uint64_t mem_sum[CAIRN_PROC_MAX_MAPS];   /* its XXH3-64, checked as it is read */
    uint64_t ext_off[CAIRN_PROC_MAX_MAPS];   /* a sparse mapping's extents section */
    uint64_t ext_len[CAIRN_PROC_MAX_MAPS];
    uint64_t ext_sum[CAIRN_PROC_MAX_MAPS];
    uint64_t base_off[CAIRN_PROC_MAX_MAPS];  /* a delta mapping's list of the parent's pages */
    uint64_t base_len[CAIRN_PROC_MAX_MAPS];
    uint64_t base_sum[CAIRN_PROC_MAX_MAPS];
    struct cairn_proc_file files[CAIRN_PROC_MAX_FILES];
    struct cairn_proc_fileid fileid[CAIRN_PROC_MAX_FILES];
    int have_fileid;                /* the optional file-id section was read */
    struct r_record rec_core, rec_maps, rec_files, rec_task, rec_sigq, rec_fileid;
    struct r_record rec_threads, rec_tsigq, rec_timers, rec_tree, rec_pipedata, rec_epoll;
    struct r_record rec_parent, rec_track, rec_mapnote;
};

/* Where one mapping's bytes are in one image (the restored one or a parent). */
struct r_src {
    int fd;
    const struct cairn_proc_map *map;
    uint64_t mem_off, mem_len, mem_sum;
    uint64_t ext_off, ext_len, ext_sum;
    uint64_t base_off, base_len, base_sum;
};

extern struct r_image img;

/* image.c: reads the section index and the records of the image open as
   fd (named path in messages), checksums checked. 0, -1 unusable or -2
   corrupt (said why). */
int r_load_image(int fd, const char *path);
/* A record section the walk found into dst (at most cap bytes), its data
   checksum checked: 0, -1 too large, -2 unreadable or corrupt (said why). */
int r_read_record(const char *what, const struct r_record *rec, void *dst, uint64_t cap);

/* memory.c: replaces the address space by the job's. Past the first
   munmap there is no way back: errors end the process. */
int r_check_layout(void);
void r_rebuild_memory(void);

/* memory.c, for chain.c: mapping i of the restored image as a source; a
   whole mapping's or a sparse one's bytes read into place (checked); a run
   list read and checked (their number); a mapping's bytes do not match. */
struct r_src r_src_of(uint64_t i);
void r_fill_whole(const struct r_src *src);
uint64_t r_fill_sparse(const struct r_src *src, struct cairn_proc_extent *ext);
uint64_t r_read_runs(int fd, const struct cairn_proc_map *m, uint64_t off, uint64_t len,
                     uint64_t sum, struct cairn_proc_extent *ext);
__attribute__((noreturn)) void corrupt(const struct cairn_proc_map *m);

/* mapped.c: CAIRN_RESTORE_MAP=1 in the environment (map what can be);
   r_map_run maps len bytes at addr from offset off of fd (private, fixed,
   read-only, plus flags) and hashes them into the running hash: 1, or 0
   if it did not (not mappable here: copy them; nothing was hashed);
   r_mapped_bytes counts what was mapped; r_mapped_note names the files
   mapped from in the runtime's table (after the memory is rebuilt). */
void r_mapped_env(char **envp);
int r_map_run(int fd, uint64_t addr, uint64_t len, uint64_t off, long flags, int sparse);
extern uint64_t r_mapped_bytes;
void r_mapped_note(void);

/* ahead.c: mapped memory is faulted in (MADV_POPULATE_READ) R_BLOCK bytes
   at a time, the disk asked R_AHEAD_DISK ahead. r_fault_in faults in
   [addr + done, + b), mapped from off of fd: 0 or -errno. r_ahead_start
   hands a run to the helper thread: 1, or 0 if there is none (fault it in
   yourself); r_ahead_wait returns once its first upto bytes are in place
   (a failure ends the restore); r_ahead_end ends the helper, its tid free
   again, before r_threads_spawn. */
#define R_BLOCK (8ull << 20)
#define R_AHEAD_DISK (64ull << 20)
long r_fault_in(int fd, uint64_t addr, uint64_t done, uint64_t b, uint64_t off);
int r_ahead_start(int fd, uint64_t addr, uint64_t len, uint64_t off);
void r_ahead_wait(uint64_t upto);
void r_ahead_end(void);
/* The helper that was (tid 0: none), for debug.c. */
struct r_ahead_stats {
    long tid;
    int borrowed; /* at the tid of the image's second thread */
    uint64_t bytes;
};
extern struct r_ahead_stats r_ahead_stats;

/* chain.c: a delta image's parents, open as the descriptors in argv[first..
   argc) (parent first): loaded and checked against the identities their
   children name (0, -1 unusable, -2 corrupt: said why), before anything
   changes; r_chain_fill fills delta mapping i from the chain; r_track_arm
   protects the restored memory again for the runtime's dirty tracking,
   once the descriptors are in place. */
int r_chain_load(long argc, char **argv, long first);
void r_chain_fill(uint64_t i);
void r_track_arm(void);
/* debug.c, test-only: CAIRN_DEBUG_DIRTY=DIR dumps the rebuilt memory's page hashes. */
void r_debug_env(char **envp);
void r_debug_dump(const char *image_name);

/* state.c: fds, cwd, limits, timers, signals, mm fields, rseq, comm.
   r_check_files runs before anything changes: each file the job had open
   can be reopened safely (0), or the restore is refused (-1, said why). */
int r_check_files(void);
/* "5,7": appended files not to cut back (another process writes them). */
void r_keep_fds(const char *list);
void r_restore_files(void);
void r_restore_process(void);

/* ident.c: pending signals, the exe link, capabilities. */
void r_ident_load(void);         /* after r_load_image */
void r_ident_detach_self(void);  /* before r_rebuild_memory */
long r_ident_exe_fd(void);       /* for PR_SET_MM_MAP; -1: none */
void r_ident_drop_caps(void);    /* after r_restore_process */
void r_ident_requeue(void);      /* just before the final rt_sigreturn */
long r_ident_pid(void);          /* the job's pid in the image; 0: not recorded */

/* threads.c: the job's other threads. r_threads_load reads and checks
   their records before anything changes (0, -1 unusable, -2 corrupt: said
   why); r_threads_spawn creates them, each waiting to resume, once the
   process is rebuilt (before r_ident_drop_caps); r_threads_go lets them. */
int r_threads_load(long pid);
/* timers.c: the job's POSIX timers; r_timers_load as r_threads_load,
   r_timers_restore after the threads exist. */
int r_timers_load(void);
/* epoll.c: the job's epoll instances; load as r_timers_load, restore one
   (file record f) once the descriptors it watches are back. */
int r_epoll_load(void);
void r_epoll_restore(const struct cairn_proc_file *f);
/* ipc.c: a POSIX message queue fd (CAIRN_FD_MQUEUE) back at its number. */
void r_mq_restore(const struct cairn_proc_file *f);
/* ipc.c: map i, a SysV shared memory attach (CAIRN_MAP_SYSV), made again. */
void r_sysv_map(uint64_t i);
void r_timers_restore(void);
void r_threads_spawn(void);
void r_threads_go(void);
/* The tid of the image's second thread, free until r_threads_spawn takes
   it (ahead.c borrows it); 0 for a process of one thread. */
uint64_t r_threads_spare_tid(void);
/* tree.c: how many processes the job has (1 without a tree section). */
uint64_t r_tree_nprocs(void);

#endif
