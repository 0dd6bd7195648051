/* SPDX-License-Identifier: MIT */
/*
 * run.h — what `cairn run`'s files share (cmd_run.c parses the command
 * line, run_start.c picks an image and starts or restores the job,
 * run_job.c supervises it). See docs/TRANSPARENT.md.
 */
#ifndef CAIRN_CLI_RUN_H
#define CAIRN_CLI_RUN_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn_events.h"
#include "cairn_store.h"
#include "process_format.h"

/* Exit statuses of `cairn run` besides the job's own. */
#define RUN_EXIT_CANNOT_CHECKPOINT 126
#define RUN_EXIT_NOT_FOUND 127
#define RUN_PID_FILE "cairn-run.pid"
/* The restorer's exit status for an image that does not match its
   checksums (restore/restore.h R_EXIT_CORRUPT), and run_supervise's return
   then: set that image aside and restore the previous generation. */
#define RUN_RESTORE_CORRUPT 124
#define RUN_RETRY_OLDER 1000

enum run_reason { RUN_NONE, RUN_PERIODIC, RUN_USER, RUN_STOP };

/* The chain of images the job's next delta would extend (run_chain.c). */
struct run_chain {
    int valid;                  /* last is the job's newest image (committed or restored) */
    uint64_t last_gen, last_hdr, last_chain;
    uint64_t base_gen;          /* the full image the chain starts with */
    uint32_t depth;             /* deltas above it: 0, last is a full image */
    uint64_t full_bytes;        /* the full image's size */
    uint64_t delta_bytes;       /* the deltas' sizes, added */
    /* The picked image's ancestors, parent first, open and checked: the
       restorer reads them by descriptor. */
    unsigned nfds;
    int fd[CAIRN_PROC_MAX_CHAIN];
    uint64_t gen[CAIRN_PROC_MAX_CHAIN];
};

struct run_ctx {
    /* options */
    const char *store_dir;
    double interval;
    int exit_code;              /* -1: none */
    int exit_signal;
    int verbose;
    const char *key_file;       /* --key, else $CAIRN_KEY_FILE; NULL: none */
    char **prog_argv;
    int fresh;                  /* --fresh: set the old images aside */
    /* state */
    struct cairn_proc_job ident; /* who this job is (run_ident.c) */
    char store_abs[PATH_MAX];
    struct cairn__store store;
    int keyed;                  /* images are written with and need a MAC */
    unsigned char key[32];
    pid_t job;
    int ctl;                    /* our end of the control socketpair */
    int job_ctl;                /* the job's end (closed once it runs) */
    int restoring;              /* 1: the job is a restore of image_gen */
    uint64_t image_gen;
    int image_fd;               /* the picked image, checked; -1: none. The
                                   restorer reads this descriptor, never a
                                   path that could be swapped since */
    char image_name[PATH_MAX + 64]; /* its path, for messages only */
    int ready;                  /* HELLO or RESTORED received */
    enum run_reason pending;    /* a checkpoint is in flight */
    enum run_reason wanted;     /* asked before the job was ready */
    int stop_signal;            /* signal that asked for RUN_STOP */
    struct cairn__pending tmp;
    uint64_t t_request;
    uint64_t pause_ns;
    /* for the summary line printed when cairn run ends */
    uint64_t n_checkpoints, n_failed, bytes_written, max_pause_ns, last_durable_ns;
    char line[8192];
    size_t line_len;
    struct run_chain chain;
};

/* run_chain.c: delta images (docs/TRANSPARENT.md, "Incremental checkpoints").
   run_chain_check checks the ancestors of the image open as fd with check
   (run_start.c's check of one image) and keeps them open for the restorer:
   0, or -ENOLINK with why (a parent missing, damaged or not the one the
   image names). */
typedef int (*run_check_fn)(struct run_ctx *r, int fd, char *why, size_t why_len);
int run_chain_check(struct run_ctx *r, int fd, run_check_fn check, char *why, size_t why_len);
void run_chain_drop(struct run_ctx *r);
/* " P ..." for the request when the next image may be a delta, else "". */
void run_chain_request(const struct run_ctx *r, char *buf, size_t len);
/* After generation gen was committed: the chain it starts or extends. */
void run_chain_committed(struct run_ctx *r, uint64_t gen);
/* Which image of the restored chain is corrupt (the restorer said one is):
   verified one by one, the newest first; the picked one if none fails. */
uint64_t run_chain_corrupt(struct run_ctx *r);
/* In the job's process, before exec: run_chain_stash moves the ancestors'
   descriptors out of the way (to 64 and up) before the image's and the
   channel's are placed; run_chain_place then puts them at first, first +
   1, ... (first + n < 64) and writes their numbers for the restorer's
   command line. Returns how many. */
void run_chain_stash(struct run_ctx *r);
unsigned run_chain_place(struct run_ctx *r, int first, char num[][16]);

/* run_start.c */
int run_main(struct run_ctx *r);
/* Picks the newest image that verifies, by the store policy (lib/pick.c):
   1 found (r->image_fd, image_name, image_gen), 0 none, < 0 refused. */
int run_pick_image(struct run_ctx *r);
/* Closes the picked image. */
void run_drop_image(struct run_ctx *r);
/* Forks the job (fresh or restored); 0 or an exit status. */
int run_spawn(struct run_ctx *r, const char *image);

/* In the job's process: execs PROG with the runtime, or the restorer. */
__attribute__((noreturn)) void run_exec_job(struct run_ctx *r, const char *image);

/* run_ns.c: the job in a pid namespace of its own (docs/TRANSPARENT.md).
   Forks the namespace's init, which starts the job (its child calls
   run_exec_job), and returns the init's pid; where the kernel refuses
   namespaces, forks as fork() and returns its result (0 in the child). */
pid_t run_ns_fork(struct run_ctx *r, const char *image);
/* The init's report socket, -1 if none (poll it for the job's end). */
int run_ns_status_fd(void);
/* 0 and the job's wait status in *st once the init reported it; else -1. */
int run_ns_job_status(int *st);
/* Sends sig to the job: kill(), or through its namespace's init (which
   passes on only what cairn asks for, not the signals it gets itself). */
int run_ns_kill(pid_t job, int sig);
/* Lets the init exit, which ends whatever is left in the namespace. */
void run_ns_close(void);

/* run_ident.c: the job's identity (command line, program, script). */
/* Finds PROG on $PATH like execvp: 0 and its path, or -1. */
int run_find_program(const char *prog, char *out, size_t len);
/* Fills r->ident for r->prog_argv. */
void run_ident_compute(struct run_ctx *r);
/* 0 if an image of `was` may be resumed as `now`, else CAIRN_EMISMATCH
   with why saying what differs. */
int run_ident_compare(const struct cairn_proc_job *was, const struct cairn_proc_job *now,
                      char *why, size_t len);
/* The command line as one line of text. */
void run_ident_command(const struct cairn_proc_job *j, char *buf, size_t len);

/* run_exec.c: 1 if the runtime (fresh start: an x86_64 ELF library) or the
   restorer (restore: executable) cairn would use is there; 0 with why
   naming the file. */
int run_companions_ok(int restoring, char *why, size_t len);

/* The job's end of the control channel, as the job has it. */
#define RUN_JOB_CONTROL_FD 3

/* run_sig.c: 1 if the job can take the checkpoint signal now; 0 with why
   if its program has no runtime, blocks the signal, or holds what the
   runtime would refuse (run_precheck). */
int run_can_signal(const struct run_ctx *r, char *why, size_t len);

/* run_precheck.c: 0, or -1 with why if /proc shows that pid (cairn's view)
   cannot be checkpointed: a child, a socket, a pipe beyond 0-2, ... */
int run_precheck(long pid, int control_fd, char *why, size_t len);

/* run_log.c: events in the store's log (lib/internal/cairn_events.h). */
void run_log(const struct run_ctx *r, struct cairn__event e);
/* An event with only a reason (refused, failed, finished). */
void run_log_reason(const struct run_ctx *r, const char *event, const char *reason);
/* "start", with the job's command line. */
void run_log_start(const struct run_ctx *r);
/* "signal": sig received, and what it makes cairn run do. */
void run_log_signal(const struct run_ctx *r, int sig, const char *what);

/* run_job.c: supervises the job until the end; returns cairn's status. */
int run_supervise(struct run_ctx *r);

#endif
