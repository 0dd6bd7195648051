/* SPDX-License-Identifier: MIT */
/*
 * cairn_store.h — the checkpoint store (lib/store.c), for `cairn run` (cli/)
 * and the tests: a directory of generations, committed atomically, opened
 * once and used through its descriptor. Internal: not installed.
 */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ---- store ------------------------------------------------------------- */

struct cairn__store {
    int dirfd;
    int lockfd;
    int verbosity;
    char path[PATH_MAX];
    /* Old generations are removed by a short-lived thread after a commit,
       off the job's path: unlinking a large file can take longer than
       writing it (ext4 with online discard). */
    pthread_t pruner;
    int pruning;
    unsigned prune_keep;
};

/* A generation being written: a temp file in the store directory. */
struct cairn__pending {
    int fd;
    int raw_fd;              /* cairn run --compress: the uncompressed image its
                                writer writes, packed into fd at the commit
                                (cli/run_compress.c); -1: none. Closed by abort */
    uint64_t generation;
    char tmpname[64];
};

/* Opens (creating, mode 0700) and locks the store; removes stale temps. */
int cairn__store_open(struct cairn__store *s, const char *path, int verbosity);
void cairn__store_close(struct cairn__store *s);
/* Generations present, ascending; *gens is malloc'ed (free it). */
int cairn__store_generations(struct cairn__store *s, uint64_t **gens, size_t *n);
/* Creates the temp file for the next generation. */
int cairn__store_begin(struct cairn__store *s, struct cairn__pending *p);
/* Renames the finished temp into place, syncs the directory, keeps `keep`. */
int cairn__store_commit(struct cairn__store *s, struct cairn__pending *p,
                        unsigned keep);
/* Closes and removes the temp file. */
void cairn__store_abort(struct cairn__store *s, struct cairn__pending *p);
/* Opens generation gen for reading, without following links, refusing a
   file that is not regular or not ours (why says which). */
int cairn__store_open_image(struct cairn__store *s, uint64_t gen, int *fd, char *why,
                            size_t why_len);
/* The caller's check of one generation, open as fd (a regular file of
   ours; read it with cairn_image_open_fd): 0 to use it, else a CAIRN_*
   error with why filled in. CAIRN_EMISMATCH stops the search. */
typedef int (*cairn__pick_check)(void *ctx, uint64_t gen, int fd, char *why, size_t why_len);
/* The store policy (lib/pick.c): the newest generation the check accepts.
   1 with *gen and *fd (the caller closes it), 0 if the store holds no
   image, or an error when images exist but none is usable (all kept). */
int cairn__store_pick(struct cairn__store *s, cairn__pick_check check, void *ctx,
                      uint64_t *gen, int *fd);
/* Opens the file `name` of the store as open_image does (no link, a
   regular file of ours that nobody else may write). */
int cairn__store_open_file(struct cairn__store *s, const char *name, int *fd, char *why,
                           size_t why_len);

/* ---- the other processes of a process tree's generation (store_members.c) */
void cairn__store_member_name(uint64_t gen, uint64_t pid, char *buf, size_t len);
/* A temp file for process pid's image in generation gen. */
int cairn__store_begin_member(struct cairn__store *s, uint64_t gen, uint64_t pid,
                              struct cairn__pending *p);
/* Renames n finished member temps into place and syncs the directory;
   their generation is committed after (cairn__store_commit). */
int cairn__store_commit_members(struct cairn__store *s, struct cairn__pending *p,
                                const uint64_t *pids, size_t n);
void cairn__store_remove_members(struct cairn__store *s, uint64_t gen);
/* Members whose generation is not in the store (a crash between renames). */
void cairn__store_remove_orphan_members(struct cairn__store *s);
int cairn__store_open_member(struct cairn__store *s, uint64_t gen, uint64_t pid, int *fd,
                             char *why, size_t why_len);
/* The generation a delta member image of gen was written on: 1 with *pgen
   (the oldest if several), 0 if gen's members are all full, -1 if the
   store cannot be listed. */
int cairn__store_member_parent(struct cairn__store *s, uint64_t gen, uint64_t *pgen);

/* Moves a generation that failed verification aside, keeping it for study. */
void cairn__store_quarantine(struct cairn__store *s, uint64_t gen, const char *why);
/* Renames a generation to its name + suffix (".corrupt", ".old"): kept,
   never read as an image, not counted towards keep. */
void cairn__store_set_aside(struct cairn__store *s, uint64_t gen, const char *suffix,
                            const char *why);
/* Removes every generation and writes the "finished" marker. */
int cairn__store_finish(struct cairn__store *s, const char *summary);
/* Records in the lock file who holds it: "PID SIGNO\n", SIGNO the signal
   that asks the holder for a checkpoint (0: none), for `cairn checkpoint`
   (which believes the pid only if /proc/locks says it holds the lock). */
void cairn__store_set_holder(struct cairn__store *s, int signo);
/* Reads that record from the lock file of the store open as dirfd: 0 with
   *pid and *signo, or -errno (not a regular file of ours, or no record). */
int cairn__store_get_holder(int dirfd, long *pid, int *signo);
/* Why a file in the store cannot be trusted as ours (NULL: it can): a
   regular file of our own that nobody else may write. */
struct stat;
const char *cairn__store_untrusted(const struct stat *st);
/* Name of generation gen's file, relative to the store. */
void cairn__store_name(uint64_t gen, char *buf, size_t len);
/* The reverse: "ckpt-<20 digits>.cairn" exactly gives 1 and *gen; else 0.
   Nothing else in a store is read as an image. */
int cairn__store_parse_name(const char *name, uint64_t *gen);

#define CAIRN_FINISHED_MARKER "finished"
#define CAIRN_LOCK_FILE "lock"

#endif
