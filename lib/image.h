/*
 * image.h — libcairn's internal image writer and checkpoint store.
 *
 * The writer streams sections straight from the caller's memory to the file
 * (no copy of the state is made) while hashing them; it allocates nothing
 * unless a section is compressed, so it can run in a forked child of a
 * multi-threaded process. The store turns a written image into a committed
 * generation atomically.
 */
#ifndef CAIRN_LIB_IMAGE_H
#define CAIRN_LIB_IMAGE_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "image_format.h"

struct ZSTD_CCtx_s;
struct cairn__mac;

/* ---- writer ------------------------------------------------------------ */

struct cairn__writer {
    int fd;
    uint64_t off;            /* end of what has been written */
    uint64_t synced;         /* bytes handed to writeback so far */
    uint32_t nsections;
    uint64_t chain;          /* running hash binding all sections in order */
    struct ZSTD_CCtx_s *zc;  /* created on first compressed section */
    unsigned char *zbuf;     /* compression output buffer */
    size_t zbuf_len;
    struct cairn__mac *mac;  /* set by the caller before begin to
                                authenticate the image; not owned */
};

struct cairn__section {
    unsigned type;           /* CAIRN_SEC_* */
    uint32_t flags;          /* CAIRN_SECF_* */
    const char *name;        /* may be NULL */
    size_t name_len;
    uint64_t arg;            /* type-specific */
    int level;               /* 0: store raw; > 0: zstd level */
};

/* Starts an image on fd (empty, positioned anywhere): writes the header. */
int cairn__writer_begin(struct cairn__writer *w, int fd, uint32_t flags,
                        uint64_t generation);
/* Appends one section holding `size` bytes at `data`. */
int cairn__writer_section(struct cairn__writer *w, const struct cairn__section *s,
                          const void *data, uint64_t size);
/* Writes the MAC section if w->mac is set, then the trailer, and makes the
   file durable (fsync). */
int cairn__writer_finish(struct cairn__writer *w);
/* Frees compression state; the writer can be begun again afterwards. */
void cairn__writer_release(struct cairn__writer *w);

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
/* Moves a generation that failed verification aside, keeping it for study. */
void cairn__store_quarantine(struct cairn__store *s, uint64_t gen, const char *why);
/* Removes every generation and writes the "finished" marker. */
int cairn__store_finish(struct cairn__store *s, const char *summary);
/* Name of generation gen's file, relative to the store. */
void cairn__store_name(uint64_t gen, char *buf, size_t len);

#define CAIRN_FINISHED_MARKER "finished"
#define CAIRN_LOCK_FILE "lock"

#endif
