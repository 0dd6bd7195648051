/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c — `cairn run`: runs an unmodified program with transparent
 * checkpointing, or restores it from its newest valid image.
 *
 * cairn stays the job's parent. With no usable image it starts PROG with
 * the runtime (libcairn-runtime.so) preloaded and one end of a socketpair as
 * the control channel ($CAIRN_CONTROL_FD); with one it execs cairn-restore
 * on it instead. It then supervises: a checkpoint is cairn creating the
 * next generation's temp file, telling the runtime its name, and sending
 * the checkpoint signal; the runtime's copy-on-write writer fills the file,
 * and cairn commits it. SIGTERM/SIGINT become "checkpoint, then stop";
 * SIGUSR1 (what `cairn checkpoint` sends, via the pid file in the store)
 * "checkpoint now"; --interval makes periodic ones, and --exit-code N ends
 * the run with status N after each. See docs/TRANSPARENT.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn_store.h"
#include "cli.h"
#include "commands.h"
#include "control.h"
#include "run.h"

static const char usage_text[] =
    "usage: cairn run [--store DIR] [--interval SECONDS] [--exit-code N]\n"
    "                 [--signal SIG] [--key FILE] [--fresh] [--output committed|direct]\n"
    "                 [--verbose] -- PROG [ARGS...]\n"
    "\n"
    "Runs PROG with transparent checkpointing, or, when the store holds a\n"
    "valid image, restores the job from the newest one. Default store:\n"
    "./cairn.ckpt. SIGTERM, SIGINT and --signal SIG checkpoint the job and stop\n"
    "it; 'cairn checkpoint' (SIGUSR1) checkpoints it and lets it go on.\n"
    "With --key FILE (or $CAIRN_KEY_FILE; \"default\": the per-user key) every\n"
    "image carries a MAC, and only images whose MAC checks are restored.\n"
    "An image records its command line and the program's (and script's)\n"
    "contents: a rerun with another command or an edited program refuses to\n"
    "resume it; --fresh renames the store's images *.old and starts afresh.\n"
    "Where stdout or stderr is a regular file, the job writes to a pipe and\n"
    "cairn appends only output that a committed checkpoint covers, the rest\n"
    "at the next commit or the job's end (a restore never cuts the file back);\n"
    "--output direct (or CAIRN_OUTPUT=direct): the job writes the file itself,\n"
    "and a restore rolls it back to its size at the checkpoint.\n"
    "--compress zstd[:LEVEL] (or CAIRN_COMPRESS): images' memory is stored zstd\n"
    "compressed (default level 1), by cairn, with threads, while the job runs on;\n"
    "off (the default) stores it as it is. Either kind of image restores.\n"
    "\n"
    "A checkpoint every --interval (default 300 s, as libcairn's); like\n"
    "libcairn, cairn run reads CAIRN_INTERVAL, CAIRN_EXIT_CODE, CAIRN_VERBOSE,\n"
    "CAIRN_KEEP, CAIRN_QUIET and CAIRN_KEY_FILE; a flag wins over its variable.\n"
    "\n"
    "Exit status: the job's own status (128+N if it died of signal N); N\n"
    "after a periodic checkpoint with --exit-code N; 128+SIG after a\n"
    "checkpoint on signal SIG; 2 usage error; 4 cairn could not run or restore\n"
    "the job (bad store, image of another user or that fails authentication,\n"
    "restore failed); 126 PROG\n"
    "cannot be checkpointed at all (static binary) or cannot be executed.\n";

static const struct cli_opt opts[] = {
    {"store", 's', 1}, {"interval", 'i', 1}, {"exit-code", 'e', 1},
    {"signal", 0, 1},  {"verbose", 'v', 0},  {"help", 'h', 0}, {"key", 0, 1},
    {"fresh", 0, 0},   {"output", 0, 1},    {"compress", 0, 1},
    {NULL, 0, 0}};

/* libcairn's signal names; cairn run keeps SIGUSR1 (cairn checkpoint),
   SIGCHLD and its own checkpoint signal for itself. */
static int parse_signal(const char *s)
{
    int sig = cairn__signal_from_name(s);
    return sig == SIGUSR1 || sig == SIGCHLD || sig == CAIRN_CKPT_SIGNAL ? -1 : sig;
}

static int parse_args(struct run_ctx *r, int argc, char **argv)
{
    struct cli_args a;
    cli_args_init(&a, argc, argv);
    const char *val;
    for (;;) {
        int o = cli_args_next(&a, opts, &val);
        if (o == CLI_ARG_ERROR)
            return CLI_EXIT_USAGE;
        if (o == CLI_ARG_END || o == CLI_ARG_POSITIONAL)
            break;
        const char *name = opts[o].name;
        if (!strcmp(name, "help")) {
            fputs(usage_text, stdout);
            return -1;
        } else if (!strcmp(name, "store")) {
            r->store_dir = val;
        } else if (!strcmp(name, "interval")) {
            if (cairn__parse_duration(val, &r->interval) < 0)
                return cli_usage_error("run", "--interval wants a duration, not '%s'", val);
        } else if (!strcmp(name, "exit-code")) {
            long v;
            if (cairn__parse_long(val, 0, 255, &v) < 0)
                return cli_usage_error("run", "--exit-code wants 0..255, not '%s'", val);
            r->exit_code = (int)v;
        } else if (!strcmp(name, "signal")) {
            if ((r->exit_signal = parse_signal(val)) < 0)
                return cli_usage_error("run", "--signal: unknown or unusable signal '%s'", val);
        } else if (!strcmp(name, "key")) {
            r->key_file = val;
        } else if (!strcmp(name, "verbose")) {
            r->verbose = 1;
        } else if (!strcmp(name, "fresh")) {
            r->fresh = 1;
        } else if (!strcmp(name, "compress")) {
            if (run_compress_parse(val, &r->compress) < 0)
                return cli_usage_error("run", "--compress wants off, zstd or zstd:LEVEL (-7..19, "
                                              "not 0), not '%s'", val);
        } else if (!strcmp(name, "output")) {
            if (!strcmp(val, "direct"))
                r->out.mode = RUN_OUTPUT_DIRECT;
            else if (!strcmp(val, "committed"))
                r->out.mode = RUN_OUTPUT_COMMITTED;
            else
                return cli_usage_error("run", "--output wants committed or direct, not '%s'", val);
        }
    }
    /* The program and its arguments: everything from the first positional. */
    if (a.i < 2 || a.i > argc || val != argv[a.i - 1])
        return cli_usage_error("run", "no program given (cairn run [OPTIONS] -- PROG ARGS)");
    int first = a.i - 1;
    r->prog_argv = argv + first;
    return 0;
}

/* libcairn's configuration, the same variables with the same meaning
   (lib/options.c): the defaults, then CAIRN_INTERVAL, CAIRN_EXIT_CODE and
   CAIRN_VERBOSE; the command line's flags win over both. */
static void from_env(struct run_ctx *r)
{
    const cairn_options_t *o = cli_env();
    r->interval = o->policy == CAIRN_POLICY_TIME ? o->interval : 300.0;
    r->exit_code = o->exit_code;
    r->verbose = o->verbose > 0;
    run_compress_env(r);
}

int cmd_run(int argc, char **argv)
{
    struct run_ctx r = {.store_dir = "cairn.ckpt", .exit_code = -1, .exit_signal = SIGTERM,
                        .image_fd = -1, .reg = -1, .job_reg = -1,
                        .tmp = {.fd = -1, .raw_fd = -1}};
    from_env(&r);
    int rc = parse_args(&r, argc, argv);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    return run_main(&r);
}
