/* SPDX-License-Identifier: MIT */
/*
 * cairn.h — application-level checkpoint/restart for long-running jobs.
 *
 * A job registers the memory that holds its state, calls cairn_step() once
 * per iteration of its main loop, and libcairn writes a checkpoint image when
 * one is due: on an interval, every N steps, or when the scheduler sends a
 * checkpoint signal. On the next start cairn_restore() fills the registered
 * memory from the newest valid image.
 *
 *     cairn_t *c;
 *     if (cairn_open(&c, "job.ckpt", NULL) < 0) ...
 *     cairn_protect(c, "i", &i, sizeof i);
 *     cairn_protect(c, "total", &total, sizeof total);
 *     if (cairn_restore(c) < 0) ...                // CAIRN_FRESH or CAIRN_RESTORED
 *     for (; i < n; i++) {
 *         total += work(i);
 *         cairn_step(c);                           // cheap unless a checkpoint is due
 *     }
 *     cairn_complete(c);                           // a rerun starts from scratch
 *     cairn_close(c);
 *
 * Images are written to a temporary file, fsync'ed, renamed into place and
 * the directory fsync'ed: a crash at any instant leaves the previous image
 * intact. Every section carries an XXH3 checksum; a corrupt newest image is
 * skipped (with a message on stderr) in favour of the previous generation.
 * The format is specified in docs/FORMAT.md.
 *
 * Errors: functions return int, 0 (or a documented positive value) on
 * success and a negative code on failure: either -errno from the system or
 * one of the CAIRN_E* codes below. cairn_strerror() describes both. Messages
 * that say *which* file, region or section failed are printed on stderr,
 * prefixed "cairn: ", unless CAIRN_QUIET is set.
 *
 * Threads: a cairn_t is not thread-safe. Use it from one thread at a time
 * (normally the thread that runs the main loop); distinct handles on distinct
 * stores may be used from different threads. The application must make the
 * protected memory consistent when it calls cairn_step() or
 * cairn_checkpoint(): libcairn reads it during that call and at no other time
 * (a checkpoint hook, cairn_set_checkpoint_hook(), runs in that call too).
 * Signal handlers installed by cairn_open() only set a flag; they are
 * process-wide, so checkpoint signals are meant for one handle per process.
 *
 * fork(): a child inherits the handle but must not call any cairn_* function
 * on it (the store lock belongs to the parent); the child may exit or exec.
 *
 * After a restart: the image holds the *contents* of protected regions, never
 * their addresses. Pointers stored inside protected memory are meaningless in
 * the new process; protect indices or offsets instead.
 */
#ifndef CAIRN_H
#define CAIRN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(CAIRN_BUILDING)
#define CAIRN_EXTERN __attribute__((visibility("default")))
#else
#define CAIRN_EXTERN
#endif

/* Version of this header. The library's version is cairn_version(). */
#define CAIRN_VERSION_MAJOR 0
#define CAIRN_VERSION_MINOR 1
#define CAIRN_VERSION_PATCH 0
#define CAIRN_VERSION_STRING "0.1.0"
#define CAIRN_VERSION_NUMBER \
    (CAIRN_VERSION_MAJOR * 10000 + CAIRN_VERSION_MINOR * 100 + CAIRN_VERSION_PATCH)

/* Returns CAIRN_VERSION_NUMBER of the library actually linked. */
CAIRN_EXTERN unsigned cairn_version(void);
/* Returns CAIRN_VERSION_STRING of the library actually linked. */
CAIRN_EXTERN const char *cairn_version_string(void);

/*
 * Error codes. Values are part of the ABI and are never renumbered. Codes
 * from -1 to -4095 are -errno values from the system (for example -ENOSPC).
 */
#define CAIRN_ERRNO_MAP(X)                                                        \
    X(CORRUPT,  -30001, "checkpoint image is corrupt (checksum or structure)")    \
    X(FOREIGN,  -30002, "not a cairn checkpoint image")                           \
    X(VERSION,  -30003, "image format is newer than this cairn")                  \
    X(MISMATCH, -30004, "image does not match the protected regions")             \
    X(NOIMAGE,  -30005, "no valid checkpoint image in the store")                 \
    X(BUSY,     -30006, "checkpoint store is in use by another process")          \
    X(STATE,    -30007, "call not allowed in the handle's current state")         \
    X(INVAL,    -30008, "invalid argument")                                       \
    X(TRUNCATED,-30009, "checkpoint image is truncated or incomplete")            \
    X(CODEC,    -30010, "compression or decompression failed")                   \
    X(AUTH,     -30011, "image authentication failed")                            \
    X(NOTSUP,   -30012, "feature not supported by this build")

enum cairn_error {
#define CAIRN_ERR_ENUM_(name, value, text) CAIRN_E##name = (value),
    CAIRN_ERRNO_MAP(CAIRN_ERR_ENUM_)
#undef CAIRN_ERR_ENUM_
};

/* Describes any return code of this library, including -errno values. */
CAIRN_EXTERN const char *cairn_strerror(int err);

/* Positive results. */
enum cairn_result {
    CAIRN_FRESH = 0,        /* cairn_restore(): no image, start from scratch */
    CAIRN_RESTORED = 1,     /* cairn_restore(): protected memory was filled */
    CAIRN_CHECKPOINTED = 1, /* cairn_step(): a checkpoint was committed */
    CAIRN_EXIT_REQUESTED = 2, /* cairn_step(): checkpoint signal, job should exit
                                 (only when exit_on_signal is 0) */
    CAIRN_EXIT = 3           /* cairn_step() with no_exit set: where it would
                                call exit(); exit now, with cairn_exit_status() */
};

/* How the checkpoint interval is chosen. */
enum cairn_policy {
    CAIRN_POLICY_TIME = 0, /* every `interval` seconds of wall time */
    CAIRN_POLICY_STEPS = 1, /* every `every_steps` calls to cairn_step() */
    CAIRN_POLICY_AUTO = 2  /* Young/Daly from measured cost and `mtbi` */
};

#define CAIRN_MAX_SIGNALS 8

/*
 * Options. Initialise with cairn_options_init(), then change fields. The
 * environment overrides these fields (and the defaults) so that a pool
 * admin can tune a job without recompiling it:
 *
 *   CAIRN_INTERVAL   a duration: seconds (fractions allowed) or "10m", "4h",
 *                    "2d"; or "auto"
 *   CAIRN_STEPS      checkpoint every N steps (selects CAIRN_POLICY_STEPS)
 *   CAIRN_MTBI       mean time between interruptions, a duration (for auto)
 *   CAIRN_KEEP       generations kept (>= 1)
 *   CAIRN_EXIT_CODE  self-checkpoint: exit with this status after each
 *                    periodic checkpoint (HTCondor's checkpoint_exit_code)
 *   CAIRN_COMPRESS   "off", "zstd" or "zstd:LEVEL" (or just a level, 0 = off)
 *   CAIRN_EXIT_SIGNALS      "TERM,INT": checkpoint-then-exit signals
 *   CAIRN_CONTINUE_SIGNALS  "USR1": checkpoint-then-continue signals
 *   CAIRN_KEY_FILE   authenticate images with this key ("default": the
 *                    per-user key ~/.config/cairn/key, created on first use)
 *   CAIRN_QUIET      "1": no messages on stderr but errors
 *   CAIRN_VERBOSE    "1": a line per checkpoint
 */
typedef struct cairn_options {
    size_t struct_size;      /* set by cairn_options_init(); ABI guard */
    int policy;              /* enum cairn_policy; default CAIRN_POLICY_TIME */
    double interval;         /* seconds; default 300 (the tutorials' 5 min) */
    uint64_t every_steps;    /* for CAIRN_POLICY_STEPS; default 0 */
    double mtbi;             /* seconds, for auto; default 14400 (4 h) */
    unsigned keep;           /* generations kept; default 2 */
    int exit_code;           /* self-checkpoint exit status, -1 = off (default) */
    int compress_level;      /* 0 = off (default), 1..19 = zstd level */
    /* Signals that request "checkpoint, then exit with 128+signo" (default
       SIGTERM) and "checkpoint, then continue" (default SIGUSR1). A 0 ends
       each list. Handlers are installed by cairn_open() and the previous
       ones put back by cairn_close(). */
    int exit_signals[CAIRN_MAX_SIGNALS];
    int continue_signals[CAIRN_MAX_SIGNALS];
    int exit_on_signal;      /* 1 (default): cairn_step() calls exit() after
                                the checkpoint; 0: it returns
                                CAIRN_EXIT_REQUESTED and the caller exits */
    int signal_exit_status;  /* status for that exit; -1 (default) = 128+signo,
                                143 for SIGTERM as a shell would report */
    int verbose;             /* 0 = normal, 1 = a line per checkpoint,
                                -1 = quiet (errors only) */
    const char *key_file;    /* authenticate images with a keyed MAC: a key
                                file (mode 0600), "default" for the per-user
                                key, or NULL (default) for none */
    int no_exit;             /* 0 (default): cairn_step() calls exit() where
                                it says so; 1: it never calls exit() and
                                returns CAIRN_EXIT there instead (for
                                programs and language bindings that must
                                unwind before they exit) */
} cairn_options_t;

CAIRN_EXTERN void cairn_options_init_(cairn_options_t *opts, size_t struct_size);
/* Fills *opts with the defaults (the environment is applied by cairn_open). */
#define cairn_options_init(opts) cairn_options_init_((opts), sizeof *(opts))

typedef struct cairn cairn_t;

/*
 * Opens (creating if needed) the checkpoint store, a directory at
 * store_path, takes its lock and installs the checkpoint signal handlers.
 * opts may be NULL for the defaults. The store is not read until
 * cairn_restore(). Returns 0 and sets *out, or a negative error
 * (CAIRN_EBUSY if another process holds the store).
 */
CAIRN_EXTERN int cairn_open(cairn_t **out, const char *store_path,
                            const cairn_options_t *opts);

/*
 * Registers `size` bytes at `ptr` under `name` (1..255 bytes, unique).
 * Must be called before cairn_restore(). The memory must stay valid until
 * cairn_close().
 */
CAIRN_EXTERN int cairn_protect(cairn_t *c, const char *name, void *ptr, size_t size);

/*
 * Registers a malloc'ed buffer whose address and size may change: libcairn
 * reads *pptr and *psize at every checkpoint. On restore the buffer is
 * resized with realloc() to the size in the image and *pptr, *psize updated
 * (so *pptr must be NULL or come from malloc/calloc/realloc).
 */
CAIRN_EXTERN int cairn_protect_buffer(cairn_t *c, const char *name, void **pptr,
                                      size_t *psize);

/*
 * Looks for the newest valid image in the store. Returns CAIRN_FRESH if
 * there is none (protected memory untouched), CAIRN_RESTORED after filling
 * every protected region, or a negative error. An image that fails
 * verification is skipped, with a message naming it, for the previous
 * generation. An image whose regions differ from the protected ones (a
 * name missing, extra, or of another size) gives CAIRN_EMISMATCH and a
 * message naming the region. If every image is bad the error is returned:
 * protected memory may then hold partial data and must not be used.
 */
CAIRN_EXTERN int cairn_restore(cairn_t *c);

/*
 * Call once per iteration. When nothing is due it costs a coarse clock read
 * and a flag test. When the interval has elapsed or a checkpoint signal
 * arrived it writes a checkpoint and returns CAIRN_CHECKPOINTED, then:
 *  - after an exit signal: exit(128+signo) (or returns CAIRN_EXIT_REQUESTED
 *    with exit_on_signal = 0), whether or not the checkpoint succeeded;
 *  - after a successful periodic checkpoint with exit_code set:
 *    exit(exit_code).
 * Before either exit() it says why on stderr, prints the summary, waits
 * until old generations are removed and closes the store.
 *
 * With the no_exit option set it never calls exit(). In those two cases it
 * does the same but the summary (cairn_close() prints it) and returns
 * CAIRN_EXIT; the caller unwinds, calls cairn_close() and exits with
 * cairn_exit_status(). The store is closed and its lock released by then:
 * on such a handle cairn_step(), cairn_checkpoint() and cairn_complete()
 * return CAIRN_ESTATE, and only cairn_exit_status(), cairn_get_stats() and
 * cairn_close() are of use. (exit_on_signal = 0 takes precedence for
 * signals: CAIRN_EXIT_REQUESTED, and the handle stays usable.)
 *
 * A failed checkpoint returns the negative error; the previous generation is
 * intact, the job may go on, and the next attempt comes one interval later.
 * Returns 0 when nothing was due.
 */
CAIRN_EXTERN int cairn_step(cairn_t *c);

/* Writes a checkpoint now. Returns 0 or a negative error: -ENOSPC for a
   full disk, -EFBIG, before anything is written, for a checkpoint that may
   not fit under the process's file size limit (ulimit -f; writing past it
   would raise SIGXFSZ and kill the job). */
CAIRN_EXTERN int cairn_checkpoint(cairn_t *c);

/*
 * The job has finished: removes its images and leaves a "finished" marker,
 * so that running the job again starts from scratch instead of resuming.
 */
CAIRN_EXTERN int cairn_complete(cairn_t *c);

/*
 * Prints the one-line summary (unless quiet), puts back the previous signal
 * handlers, releases the lock and frees the handle. NULL is accepted.
 */
CAIRN_EXTERN void cairn_close(cairn_t *c);

/* Counters since cairn_open(), and across restarts where stated. */
typedef struct cairn_stats {
    uint64_t checkpoints;       /* committed by this process */
    uint64_t failed;            /* attempts that failed */
    uint64_t bytes_written;     /* image bytes committed by this process */
    double seconds_writing;     /* wall time inside checkpoints */
    double last_cost;           /* seconds of the last checkpoint */
    double interval;            /* current interval in seconds (0 = steps) */
    uint64_t steps;             /* steps, across restarts */
    uint64_t restores;          /* times this job was restored, across restarts */
    uint64_t generation;        /* newest committed or restored generation */
    char policy[96];            /* how the interval was chosen, for people */
} cairn_stats_t;

CAIRN_EXTERN int cairn_get_stats(const cairn_t *c, cairn_stats_t *out);

/* Interval that minimises expected lost time, for a checkpoint cost C and a
   mean time between interruptions M, both in seconds: Daly's higher-order
   formula sqrt(2CM)[1 + sqrt(C/2M)/3 + (C/2M)/9] - C for C < 2M, and M
   otherwise (Daly 2006). */
CAIRN_EXTERN double cairn_optimal_interval(double cost, double mtbi);

/*
 * The checkpoint hook: fn(c, arg) runs at the start of every checkpoint,
 * before libcairn reads any protected memory or writes anything: in
 * cairn_checkpoint(), and in cairn_step() when a checkpoint is due (the
 * interval, the step count, or a checkpoint signal), exactly once per
 * attempt. It never runs when nothing is due, so it is the place for work
 * too costly to do at every step, such as serialising state into a
 * cairn_protect_buffer() region (it may change *pptr and *psize: they are
 * read after it returns) or flushing a cache into protected memory.
 *
 * It returns 0 to go on (values > 0 are reserved; they count as 0), or a
 * negative error (-errno or a CAIRN_E* code) to cancel the checkpoint:
 * nothing is written, the previous generation stays, the attempt counts in
 * cairn_get_stats()'s failed with a message on stderr, and cairn_checkpoint()
 * returns that error. So does cairn_step(), except after an exit signal,
 * where the exit follows as after any failed checkpoint (exit(),
 * CAIRN_EXIT_REQUESTED or CAIRN_EXIT). Its time counts in the checkpoint's
 * cost (last_cost, and the auto policy's measure).
 *
 * The hook runs in the thread that called cairn_step() or
 * cairn_checkpoint(), never in a signal handler (a signal only sets a flag;
 * the hook runs in the next cairn_step()), so it may call anything but
 * libcairn on c: cairn_step(), cairn_checkpoint() and cairn_complete() on c
 * return CAIRN_ESTATE during the hook, cairn_close() must not be called,
 * cairn_get_stats() is fine. A child of fork() never runs it, as it calls
 * no cairn_* function on its parent's handle.
 *
 * One hook per handle: a call replaces the previous one, fn = NULL removes
 * it. Allowed in any state. Returns 0, or CAIRN_EINVAL if c is NULL.
 */
typedef int (*cairn_hook_fn)(cairn_t *c, void *arg);
CAIRN_EXTERN int cairn_set_checkpoint_hook(cairn_t *c, cairn_hook_fn fn, void *arg);

/*
 * The status the job should exit with, once an exit has been requested:
 * after cairn_step() returned CAIRN_EXIT or CAIRN_EXIT_REQUESTED, it is
 * signal_exit_status (or 128+signo) after an exit signal, exit_code after a
 * self-checkpoint. A status >= 0; CAIRN_ESTATE if no exit was requested,
 * CAIRN_EINVAL if c is NULL.
 */
CAIRN_EXTERN int cairn_exit_status(const cairn_t *c);

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_H */
