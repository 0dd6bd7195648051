/* SPDX-License-Identifier: MIT */
/*
 * run.h — what `cairn run`'s files share (cmd_run.c parses the command
 * line, run_start.c picks an image and starts or restores the job,
 * run_job.c supervises it). See docs/TRANSPARENT.md.
 */
#ifndef CAIRN_CLI_RUN_H
#define CAIRN_CLI_RUN_H

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn_events.h"
#include "cairn_image.h"
#include "cairn_store.h"
#include "control.h"
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

/* Writers that died remembered until their process's PAUSE names them. */
#define RUN_DEAD_WRITERS 16

/* Where a process of the job is in a checkpoint (run_tree.c). */
enum run_phase { RUN_PH_IDLE, RUN_PH_ASKED, RUN_PH_STOPPED, RUN_PH_RELEASED, RUN_PH_ANSWERED };

/* A process of the job's namespace, from /proc (run_tree_list). */
struct run_node {
    long host, host_ppid, host_pgid, host_sid; /* as cairn sees them */
    pid_t pid, ppid, pgid, sid;                /* in the namespace; 0: outside it */
    int zombie, wstatus;
    char comm[32];
};

/* A process of the job other than its first, with its own channel. */
struct run_member {
    pid_t pid;          /* in the job's namespace */
    long host;          /* as cairn sees it */
    int ctl;
    uint64_t ctl_ino;   /* its inode: the process holds the other end */
    enum run_phase phase;
    int holding;        /* stopped until RESUME: it has MAP_SHARED memory */
    pid_t writer;       /* its writer in the round in flight (PAUSE), 0: unknown */
    struct cairn__pending tmp; /* its image in the checkpoint in flight */
    char line[1024];
    size_t len;
};

/* --output (CAIRN_OUTPUT): committed (the default where cairn run's stdout
   or stderr is a regular file) or direct (the job writes it itself). */
enum run_output_mode { RUN_OUTPUT_AUTO, RUN_OUTPUT_COMMITTED, RUN_OUTPUT_DIRECT };

/* Generations whose output boundary the state file remembers. */
#define RUN_OUTPUT_GENS 8

/* One relayed stream (run_output.c): the job's fd 1 and/or 2 is a pipe to
   cairn run, which appends to its own fd `real` only the bytes a committed
   generation covers. Positions count the job's bytes since it started,
   across restores: [appended, read_pos) is held, on the spool file from
   spool_base to spool_end and in memory after that. */
struct run_stream {
    int real;                  /* cairn run's fd 1 or 2: the real file */
    unsigned job_fds;          /* bit n set: the job's fd n is this pipe */
    int rd, wr;                /* our end; the job's end until the fork */
    uint64_t skip;             /* the restorer's messages at the pipe's start */
    uint64_t pipe_read;        /* bytes read from this pipe in this run */
    uint64_t read_pos, committed, appended;
    uint64_t boundary;         /* of the checkpoint in flight (have_boundary) */
    int have_boundary;
    int lost;                  /* said that memory ran out */
    char *mem;
    size_t mem_len, mem_cap;
    int spool;
    uint64_t spool_base, spool_end;
    uint64_t intent_to, intent_size; /* an append under way: [appended, intent_to)
                                        after the real file's intent_size bytes */
    uint64_t gens[RUN_OUTPUT_GENS], bounds[RUN_OUTPUT_GENS]; /* gen -> boundary */
};

struct run_output {
    enum run_output_mode mode;
    unsigned n;                /* relayed streams */
    struct run_stream s[2];
    int paused;                /* not reading: from the request to UNREAD */
    int state_fd;              /* the store's output.state, -1: none */
    uint64_t seq;              /* of the state file's last record */
};

/* The chain of images the job's next delta would extend (run_chain.c). */
struct run_chain {
    int valid;                  /* last is the job's newest image (committed or restored) */
    uint64_t last_gen, last_hdr, last_chain;
    uint64_t base_gen;          /* the full image the chain starts with */
    uint32_t depth;             /* deltas above it: 0, last is a full image */
    uint64_t full_bytes;        /* the full image's size */
    uint64_t delta_bytes;       /* the deltas' sizes, added */
    uint64_t member_full, member_delta; /* the same for a restored tree's members */
    /* The picked image's ancestors, parent first, open and checked: the
       restorer reads them by descriptor. */
    unsigned nfds;
    int fd[CAIRN_PROC_MAX_CHAIN];
    uint64_t gen[CAIRN_PROC_MAX_CHAIN];
};

/* A member image's ancestors (a delta on the same process's image in the
   parent generation...), parent first, open and checked (run_chain.c). */
struct run_parents {
    unsigned n;
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
    int compress;               /* --compress (CAIRN_COMPRESS): zstd level, or
                                   RUN_COMPRESS_OFF (run_compress.c) */
    sigset_t job_mask;          /* the signal mask cairn run started with: the job's */
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
    uint64_t pause_parts[3];    /* of the longest pause: scan, copy, fork (PAUSE) */
    uint64_t copied;            /* written pages copied at the pause (PAUSE) */
    /* for the summary line printed when cairn run ends */
    uint64_t n_checkpoints, n_failed, bytes_written, max_pause_ns, last_durable_ns;
    char line[8192];
    size_t line_len;
    /* the job's other processes (run_tree.c) */
    pid_t root_pid;             /* the first process, in its namespace */
    int reg, job_reg;           /* the registration socket: ours, the job's */
    struct run_member members[CAIRN_PROC_MAX_MEMBERS];
    size_t nmembers;
    struct run_node nodes[CAIRN_PROC_MAX_MEMBERS]; /* as the checkpoint found them */
    size_t nnodes;
    enum run_phase root_phase;
    int root_holding;           /* the first process waits for RESUME */
    pid_t root_writer;          /* its writer in the round in flight (PAUSE), 0: unknown */
    /* writers that ended without exiting 0, as their reaper saw them (cairn
       run, or the namespace init): the last RUN_DEAD_WRITERS (run_writer.c) */
    struct run_dead { pid_t pid; int status; } dead[RUN_DEAD_WRITERS];
    unsigned ndead;
    int round_failed;
    int round_churn;            /* it failed because processes came or went */
    unsigned churn_retries;     /* rounds retried since the last commit */
    enum run_reason retry;      /* a round to start again soon (run_job.c) */
    uint64_t retry_at;          /* not before this CLOCK_MONOTONIC time */
    char round_why[512];
    const char *round_how;
    uint64_t round_bytes;
    /* a restore of a tree: the members' images, checked (run_start.c) */
    int member_fd[CAIRN_PROC_MAX_MEMBERS];
    pid_t member_pid[CAIRN_PROC_MAX_MEMBERS];
    struct run_parents member_parents[CAIRN_PROC_MAX_MEMBERS]; /* a delta member's */
    size_t nmember_fds;
    struct run_output out;      /* the job's stdout/stderr (run_output.c) */
    char keep_fds[256];         /* restore: appended files not to cut back */
    struct run_chain chain;
};

/* run_compress.c: compressed process images (docs/TRANSPARENT.md). */
#define RUN_COMPRESS_OFF 0
#define RUN_COMPRESS_DEFAULT_LEVEL 1
/* "off", "zstd" or "zstd:LEVEL" (-7..19 but 0): 0 and *level, or -1. */
int run_compress_parse(const char *spec, int *level);
/* CAIRN_COMPRESS, if set (a bad value is named; off is kept). */
void run_compress_env(struct run_ctx *r);
/* The descriptor to send p's writer: p's temp file, or with compression
   a memfd (p->raw_fd) packed into it at the commit. -1: none could be made. */
int run_compress_target(const struct run_ctx *r, struct cairn__pending *p);
/* Every process answered: packs each image of the checkpoint into its temp
   file (fsynced). 0 (*stored: the bytes stored, untouched when compression
   is off) or -1 with why; the memfds are closed either way. */
int run_compress_round(struct run_ctx *r, uint64_t *stored, char *why, size_t len);
/* After the pick: the picked images with compressed sections are replaced
   by sealed memfds of their uncompressed form. 0, or -1 with why (the
   generation is corrupt). */
int run_compress_expand(struct run_ctx *r, char *why, size_t len);
/* run_chain.c: delta images (docs/TRANSPARENT.md, "Incremental checkpoints").
   run_chain_check checks the ancestors of the image open as fd with check
   (run_start.c's check of one image) and keeps them open for the restorer:
   0, or -ENOLINK with why (a parent missing, damaged or not the one the
   image names). */
typedef int (*run_check_fn)(struct run_ctx *r, int fd, char *why, size_t why_len);
int run_chain_check(struct run_ctx *r, int fd, run_check_fn check, char *why, size_t why_len);
void run_chain_drop(struct run_ctx *r);
/* " P ..." for the request when the next image may be a delta, else "". */
void run_chain_request(struct run_ctx *r, char *buf, size_t len);
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
/* A process tree's members (docs/TRANSPARENT.md, "Process trees"): member
   pid's image in a delta round is a delta on that pid's image in the last
   generation. run_chain_member_request: its " P ..." (or "" for a full
   one, as for a new process); run_chain_member_check: the ancestors of
   its image open as fd, checked as run_chain_check does, into *p;
   run_chain_member_drop closes them. */
void run_chain_member_request(struct run_ctx *r, pid_t pid, char *buf, size_t len);
int run_chain_member_check(struct run_ctx *r, pid_t pid, int fd, run_check_fn check,
                           struct run_parents *p, char *why, size_t why_len);
void run_chain_member_drop(struct run_parents *p);
/* In the job's process before exec, after run_chain_stash: the members'
   ancestors moved above every number they and the images will take
   (first_free: the first number after the images and the first process's
   ancestors); run_chain_member_place puts member i's after the previous
   ones from *next and appends ",FD" for each to arg. */
void run_chain_member_stash(struct run_ctx *r, int first_free);
void run_chain_member_place(struct run_ctx *r, size_t i, int *next, char *arg, size_t len);

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
/* 0 and the job's wait status in *st once the init reported it; 1 and a
   writer's (or an orphan's) pid and wait status if it did not exit 0;
   else -1. */
int run_ns_job_status(int *st, pid_t *pid);
/* Sends sig to the job: kill(), or through its namespace's init (which
   passes on only what cairn asks for, not the signals it gets itself). */
int run_ns_kill(pid_t job, int sig);
/* Sends sig to process pid of the namespace (its main thread for the
   checkpoint signal), through the init. */
int run_ns_kill_pid(pid_t pid, int sig);
/* The job's registration endpoint, from the init; -1 if none. */
int run_ns_endpoint_fd(void);
/* Lets the init exit, which ends whatever is left in the namespace. */
void run_ns_close(void);

/* run_cpu.c: the image's CPU record against this machine's. 0, or
   CAIRN_EMISMATCH (an instruction set missing here) or CAIRN_ECORRUPT, with
   why. */
int run_cpu_check(cairn_image_t *img, char *why, size_t why_len);
/* The comparison itself: 1 with *missing, how many of the record's
   instruction sets this machine lacks (their names in names, cut to len),
   and *count (if not NULL), how many the record has; 0 if the image has
   no record; or CAIRN_ECORRUPT (or a read error) with why. */
int run_cpu_compare(cairn_image_t *img, size_t *missing, size_t *count, char *names,
                    size_t len, char *why, size_t why_len);

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

/* run_progress.c: every line from the job's control channel, first: shows
   a long checkpoint's or restore's PROGRESS on a terminal, and erases it at
   the operation's end. */
void run_progress_line(const struct run_ctx *r, const char *line);

/* The job's end of the control channel, as the job has it, and of the
   registration socket (format/control.h). */
#define RUN_JOB_CONTROL_FD 3
#define RUN_JOB_REGISTER_FD CAIRN_REGISTER_FD_NUMBER

/* run_sig.c: 1 if the job can take the checkpoint signal now; 0 with why
   if its program has no runtime, blocks the signal, or holds what the
   runtime would refuse (run_precheck). */
int run_can_signal(const struct run_ctx *r, char *why, size_t len);

/* run_precheck.c: 0, or -1 with why if /proc shows that pid (cairn's view)
   cannot be checkpointed: a child (unless in_tree: the job runs in its
   namespace, where children are checkpointed with it), a socket, a pipe
   beyond 0-2, ... */
int run_precheck(long pid, int control_fd, uint64_t sent_ino, int in_tree, char *why,
                 size_t len);

/* run_job.c: a process of the job got sig from outside at its default
   action ("TERM <sig>"): the whole job is checkpointed, then stopped. */
void run_term_reported(struct run_ctx *r, int sig);
/* run_tree.c: a process's "PAUSE <ns> [<copied> [<writer> [<scan> <copy>
   <fork>]]]": the round's pause is the longest (and its parts that
   process's), its copied bytes the sum; returns the writer's pid
   (in the job's namespace), 0 if the runtime did not say. */
pid_t run_pause_reported(struct run_ctx *r, const char *args);

/* run_writer.c: writers that die before they report (killed by the OOM
   killer, by a signal from outside, by a bug) fail their round instead of
   leaving cairn run waiting for ever. */
/* A child that was not the job ended with wait status st (not 0). */
void run_writer_died(struct run_ctx *r, pid_t pid, int st);
/* 1 with why if pid (a writer of the round) is among the dead; else 0. */
int run_writer_lost(const struct run_ctx *r, pid_t pid, char *why, size_t len);
/* run_tree.c: members whose writer is among the dead fail the round;
   their channels are read first (a report sent before the death is
   there). 1 if any did. */
int run_tree_writers_lost(struct run_ctx *r);
/* run_job.c: the answer to a runtime's HELLO on channel fd. */
void run_send_identity(struct run_ctx *r, int fd);

/* run_tree.c: the job's other processes (docs/TRANSPARENT.md). */
/* The processes of the namespace, the first one first; -1 if more than max. */
int run_tree_list(const struct run_ctx *r, struct run_node *nodes, size_t max, size_t *count);
struct run_member *run_tree_member(struct run_ctx *r, pid_t pid);
/* The registration socket is readable: a process sent its new channel. */
void run_tree_accept(struct run_ctx *r);
/* In the namespace's init, before the job starts: the registration
   endpoint bound and listening (format/control.h), or -1. */
int run_tree_endpoint_listen(void);
/* A copy of the job's end of the registration socket, for the processes
   that register on the endpoint (run_spawn, before it closes its own). */
void run_tree_keep_register(int job_reg);
/* A connection on the endpoint (run_ns_endpoint_fd): registered if its
   peer is a process of the job, else dropped with a warning. */
void run_tree_accept_endpoint(struct run_ctx *r);
/* Fills p with the members' channels; returns how many. */
int run_tree_pollfds(const struct run_ctx *r, struct pollfd *p, size_t max);
/* Member i's channel is readable; 1 if it was dropped (it ended). */
int run_tree_read(struct run_ctx *r, size_t i);
/* After the first process was asked: lists and checks the job's processes
   and asks every other live one. -1 with why: nothing asked. */
int run_tree_request(struct run_ctx *r, ssize_t (*send_fd)(int, const void *, size_t, int),
                     char *why, size_t len);
/* The round fails (the first reason is kept; how: CAIRN_EV_*). */
void run_tree_fail(struct run_ctx *r, const char *why, const char *how);
/* The same, because a process started, exec'd or ended meanwhile: cairn
   starts the round again at once (run_job.c), saying nothing unless it
   keeps failing. */
void run_tree_churn(struct run_ctx *r, const char *why);
/* Moves the round on after an answer; 1 once every process answered. */
int run_tree_progress(struct run_ctx *r);
/* Every image of the round is written (or the round failed): the
   processes that wait because their writer reads shared memory go on. */
void run_tree_release(struct run_ctx *r);
/* The members' images: into place (before the generation), or removed. */
int run_tree_commit(struct run_ctx *r);
void run_tree_abort(struct run_ctx *r);

/* run_log.c: events in the store's log (lib/internal/cairn_events.h). */
void run_log(const struct run_ctx *r, struct cairn__event e);
/* An event with only a reason (refused, failed, finished). */
void run_log_reason(const struct run_ctx *r, const char *event, const char *reason);
/* "start", with the job's command line. */
void run_log_start(const struct run_ctx *r);
/* "signal": sig received, and what it makes cairn run do. */
void run_log_signal(const struct run_ctx *r, int sig, const char *what);

/* run_output.c: the job's stdout/stderr, appended to cairn run's own
   files only once a committed generation covers them (docs/TRANSPARENT.md,
   "Committed output"). */
/* Decides what is relayed (regular files on fds 1/2, unless direct) and
   opens the store's state file; 0 or -1 (said why). */
int run_output_open(struct run_ctx *r);
/* Before the job starts: a restore of r->image_gen appends what that
   generation covers and is not in the files yet; a fresh start forgets
   the held output. Then makes the job's pipes (1 MiB). 0 or -1. */
int run_output_begin(struct run_ctx *r);
/* In the job's process: the pipes become its fds 1/2. 0 or -1. */
int run_output_child(struct run_ctx *r);
/* In cairn run after the fork: closes the job's ends. */
void run_output_parent(struct run_ctx *r);
/* The pipes to poll (fd -1 while not reading); returns how many entries. */
unsigned run_output_pollfds(const struct run_ctx *r, struct pollfd *p);
/* Reads what poll found (p as filled by run_output_pollfds). */
void run_output_read(struct run_ctx *r, const struct pollfd *p);
/* The checkpoint request is about to be sent: stop reading. */
void run_output_request(struct run_ctx *r);
/* "UNREAD <u1> <u2>" (after "UNREAD "): the boundary; reading goes on.
   Without it (an older runtime) what cairn had read is the boundary. */
void run_output_unread(struct run_ctx *r, const char *args);
/* Every process of the job is stopped (run_tree.c, before GO): the output
   boundary is what cairn read plus what the pipes still hold (FIONREAD on
   its own ends; the job's processes, all stopped, add nothing). Reading
   goes on. */
void run_output_stopped(struct run_ctx *r);
/* The inode of the pipe the job has as fd (1 or 2) to cairn, 0 if none. */
uint64_t run_output_pipe_ino(const struct run_ctx *r, int fd);
/* No boundary came (REFUSE, FAIL, the job ended): reading goes on. */
void run_output_unpause(struct run_ctx *r);
/* "RESTORED <n>": the restorer wrote n bytes of messages on fd 2 first. */
void run_output_restored(struct run_ctx *r, uint64_t n);
/* Before the generation's commit: its output on the spool, fsynced, and
   the boundary in the state file. 0 or -1 (the checkpoint must fail). */
int run_output_precommit(struct run_ctx *r, uint64_t gen);
/* After the commit: appends what it covers. */
void run_output_committed(struct run_ctx *r);
/* The job ended on its own: everything it wrote goes out; the state is
   removed once the store is finished (finished != 0). */
void run_output_job_ended(struct run_ctx *r, int finished);
/* run_output_state.c, for run_output.c: the state file (two checksummed
   records) and the spools, in the store. */
int run_output_state_open(struct run_ctx *r);
/* Saves the streams' positions (fsynced if durable); 0 or -1. */
int run_output_state_save(struct run_ctx *r, int durable);
/* Loads the last valid record into streams (n of them): 1, 0 none. */
int run_output_state_load(struct run_ctx *r, struct run_stream *s, unsigned *n);
/* Opens stream s's spool (created empty if truncate); 0 or -1. */
int run_output_spool_open(struct run_ctx *r, struct run_stream *s, int truncate);
/* Removes the state file and the spools (the job finished). */
void run_output_state_remove(struct run_ctx *r);
/* An append whose end is not recorded: 1 if the real file holds it. */
int run_output_intent_done(struct run_stream *s, const char *chunk, size_t len);

/* cairn run ends: a restore that failed before the job ran has its
   restorer's messages passed on; the rest is released. */
void run_output_close(struct run_ctx *r);

/* run_shared.c: before a restore, the job's fds (fd >= 3, "5,7") of the
   files it was appending to that another process is writing now, which
   the restorer does not cut back (it warns). */
void run_shared_files(struct run_ctx *r, char *keep, size_t len);

/* run_job.c: supervises the job until the end; returns cairn's status. */
int run_supervise(struct run_ctx *r);

#endif
