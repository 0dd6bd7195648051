/* SPDX-License-Identifier: MIT */
/*
 * cli.h — what the cairn command's files share: exit statuses, argument
 * parsing, human and JSON output helpers, and the store scanner.
 *
 * The CLI uses libcairn through include/cairn.h and cairn_image.h, and
 * through its internal interface (lib/internal/: the store for cairn run,
 * the options and parsers) and the shared formats (format/) where no public
 * API exists: the CMake target cairn_internal.
 */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <stdio.h>

#include "cairn.h"
#include "cairn_image.h"
#include "cairn_options.h"
#include "image_format.h"

/* Exit statuses, the same for every subcommand (documented in cairn --help). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_INVALID = 1, /* an image failed verification */
    CLI_EXIT_USAGE = 2,   /* bad command line */
    CLI_EXIT_NOIMAGE = 3, /* no image where one was expected */
    CLI_EXIT_ERROR = 4    /* cannot read a path, out of memory, ... */
};

#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- args.c: a small option parser ----------------------------------- */

struct cli_opt {
    const char *name;  /* long name without "--" */
    char short_name;   /* 0 if none */
    int has_arg;       /* 1: takes a value ("--x V" or "--x=V") */
};

struct cli_args {
    int argc;
    char **argv;
    int i;             /* next argument */
    int only_positional; /* after "--" */
};

enum { CLI_ARG_END = -1, CLI_ARG_POSITIONAL = -2, CLI_ARG_ERROR = -3 };

void cli_args_init(struct cli_args *a, int argc, char **argv);
/*
 * Returns the index in opts (a table ended by a NULL name) of the next
 * option, with *val its value (or NULL); CLI_ARG_POSITIONAL with *val the
 * argument; CLI_ARG_END; or CLI_ARG_ERROR after printing a message that
 * names the bad argument.
 */
int cli_args_next(struct cli_args *a, const struct cli_opt *opts, const char **val);

/*
 * The whole argument loop of a command that takes flags and one WHAT
 * (inspect, verify, log): option k of opts (none takes a value) sets bit k
 * of *flags, except "help", which prints usage; the one positional argument
 * goes to *arg, a second one is refused, none is refused with `missing`.
 * Returns -1 to go on, else the exit status for the command to return.
 */
int cli_args_flags_one(int argc, char **argv, const char *cmd, const struct cli_opt *opts,
                       const char *usage, const char *what, const char *missing,
                       const char **arg, unsigned *flags);

/* Prints "cairn CMD: message (see 'cairn CMD --help')" and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Prints "cairn CMD: message" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
/* stat()s the PATH a command was given: 0, or the exit status after saying
   what is wrong (a missing path means no image). */
int cli_stat_path(const char *cmd, const char *path, struct stat *sb);

/* libcairn's defaults with the CAIRN_* variables applied, parsed once by
   libcairn's own parser (a malformed value is reported and ignored, as in
   libcairn). Durations and signal names: cairn__parse_duration and
   cairn__signal_from_name (cairn_options.h), the same parsers. */
const cairn_options_t *cli_env(void);

/* ---- format.c: output for people and for programs ---------------------- */

/* "812 B", "4.0 KiB", "1.50 GiB". */
void fmt_size(char *buf, size_t len, uint64_t bytes);
/* ISO 8601 UTC, "2024-05-01T12:34:56Z". */
void fmt_time(char *buf, size_t len, uint64_t ns_since_epoch);
/* Compact duration: "45s", "12m05s", "3h20m", "4d02h"; "-" if negative. */
void fmt_age(char *buf, size_t len, double seconds);
/* "0.1.0" from a CAIRN_VERSION_NUMBER. */
void fmt_version(char *buf, size_t len, uint32_t number);
/* Prints a user-given name on one line: control characters and backslashes
   are escaped C-style (\t, \n, \\, \xNN); other bytes pass through. */
void print_name(FILE *f, const char *s);
/* Seconds with a unit a person reads easily: "3180.1 s (53.0 min)". */
void fmt_seconds(char *buf, size_t len, double seconds);

/* A pretty-printing JSON writer that places the commas itself. */
struct json {
    FILE *f;
    int depth;
    int count[32]; /* members written at each depth */
};
void json_init(struct json *j, FILE *f);
void json_object(struct json *j, const char *key);  /* key NULL at top or in arrays */
void json_array(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_end_array(struct json *j);
void json_str(struct json *j, const char *key, const char *v); /* NULL -> null */
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_num(struct json *j, const char *key, double v); /* non-finite -> null */
void json_bool(struct json *j, const char *key, int v);
void json_null(struct json *j, const char *key);
/* Writes s as a JSON string literal, quotes included. */
void json_write_string(FILE *f, const char *s);

/* ---- scan.c: reading stores and images for inspect, verify, ls, advise -- */

/* One image file, opened and (optionally) verified. */
struct image_scan {
    char path[4200];
    uint64_t file_size;
    int open_rc;          /* cairn_image_open result */
    int verified;         /* 1 if payloads were read */
    int verify_rc;        /* first payload error, or 0 */
    unsigned bad_section; /* with verify_rc < 0 */
    char why[512];        /* what is wrong and where, if anything */
    cairn_image_t *img;   /* open if open_rc == 0 */
    int has_job;
    struct cairn_job_meta job; /* format/image_format.h */
    const char **sec_status; /* per section, after scan_image_sections() */
};

/* Opens path, reads the job section, and if verify reads every payload. */
void scan_image(struct image_scan *s, const char *path, int verify);
void scan_image_release(struct image_scan *s);
/*
 * Fills s->sec_status: "ok", "corrupt" or "unchecked" (not verified, or a
 * section after the first bad one too large to read into memory).
 */
void scan_image_sections(struct image_scan *s);
/* 1 if the image is usable: structure (and payloads, if verified) intact. */
int scan_image_ok(const struct image_scan *s);
/* "valid", "unverified" (structure only) or "corrupt". */
const char *scan_image_status(const struct image_scan *s);

/* Names of files in a store directory that are not generations. */
struct name_list {
    char **names;
    uint64_t *sizes;
    size_t n;
};

struct store_scan {
    char path[4096];
    uint64_t *gens;       /* ascending */
    size_t ngens;
    int finished;
    int lock_exists;
    long lock_pid;        /* holder of the lock, 0 if free, -1 if unknown */
    struct name_list corrupt; /* *.corrupt: set aside after failing */
    struct name_list temps;   /* .tmp-*: writes that never committed */
};

/* The pid holding a flock on path, from /proc/locks: 0 if none, -1 if
   unknown (path or /proc/locks cannot be read). */
long scan_lock_holder(const char *path);
/* "time", "steps", "auto" (enum cairn_policy), or "unknown". */
const char *job_policy_name(uint32_t policy);

/* 1 if dir is a directory holding ckpt-*.cairn files or a finished marker. */
int scan_is_store(const char *dir);
/* Lists a store directory. Returns 0 or a negative errno (message printed). */
int scan_store(struct store_scan *st, const char *cmd, const char *dir);
void scan_store_release(struct store_scan *st);
/* "ok", "finished", "corrupt-newest" or "empty", given the newest image
   scanned (NULL if there is none). */
const char *scan_store_state(const struct store_scan *st, const struct image_scan *newest);
/* Path of generation index i (0 = oldest). */
void scan_store_gen_path(const struct store_scan *st, size_t i, char *buf, size_t len);

#endif
