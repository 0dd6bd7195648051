/* SPDX-License-Identifier: MIT */
/*
 * cmd_checkpoint.c — `cairn checkpoint [--wait [--timeout S]] [--store DIR]`:
 * asks the job using a store for a checkpoint now; the job goes on.
 *
 * The job is either a `cairn run`, whose pid is in STORE/cairn-run.pid, or
 * a program using libcairn, which records "PID SIGNO" in STORE/lock when it
 * opens the store (lib/store.c). Either record is believed only if it is a
 * regular file of ours and, for the lock, if /proc/locks says that pid
 * holds the lock: a stale or planted file must not make us signal another
 * process. The request is the job's checkpoint signal (SIGUSR1 by default;
 * libcairn's first CAIRN_CONTINUE_SIGNALS). With --wait, checkpoint_wait.c
 * waits for the new generation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn_store.h"
#include "checkpoint.h"
#include "cli.h"
#include "commands.h"
#include "run.h"

static const char usage[] =
    "usage: cairn checkpoint [--wait [--timeout SECONDS]] [--store DIR]\n"
    "\n"
    "Asks the job using the store (default ./cairn.ckpt) to checkpoint now; the\n"
    "job goes on. The job is a 'cairn run' (its pid is in DIR/cairn-run.pid) or\n"
    "a program using libcairn (the process holding DIR/lock), asked with its\n"
    "checkpoint signal (SIGUSR1; for libcairn its first CAIRN_CONTINUE_SIGNALS).\n"
    "Without --wait the command returns once the request is sent.\n"
    "\n"
    "Options:\n"
    "  -s, --store DIR     the job's store\n"
    "  -w, --wait          return once a generation newer than the newest at the\n"
    "                      request is committed (prints it), or the job ended\n"
    "  -t, --timeout SECS  with --wait: give up after this long (90, 1.5, 10m)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 the request was sent (with --wait: the new generation is\n"
    "committed); 2 usage error; 3 no job is using the store; 4 other errors;\n"
    "with --wait: 5 the timeout passed first, 6 the job ended without\n"
    "committing a new generation, 7 the job refused or failed the checkpoint\n"
    "(the reason, from the store's event log, on stderr).\n";

static const struct cli_opt opts[] = {{"store", 's', 1},   {"wait", 'w', 0},
                                      {"timeout", 't', 1}, {"help", 'h', 0},
                                      {NULL, 0, 0}};

/* 1 if pid is a running cairn (not a recycled pid). */
static int is_cairn(long pid)
{
    char path[64], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    if (!fgets(comm, sizeof comm, f))
        comm[0] = 0;
    fclose(f);
    return strncmp(comm, "cairn", 5) == 0;
}

/* The pid in STORE/cairn-run.pid, if that is a regular file of ours (a
   planted one could make us signal another of our processes); 0 if not. */
static long read_pid_file(const char *store)
{
    char path[PATH_MAX], text[32] = "";
    snprintf(path, sizeof path, "%s/" RUN_PID_FILE, store);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    long pid = 0;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid() &&
        read(fd, text, sizeof text - 1) > 0)
        pid = strtol(text, NULL, 10);
    if (fd >= 0)
        close(fd);
    return pid;
}

/* The libcairn process holding the store's lock, with its signal: 0, or
   CLI_EXIT_NOIMAGE after saying why there is none. */
static int lock_holder(const char *store, struct ckpt_target *t)
{
    char lock[PATH_MAX + 16];
    snprintf(lock, sizeof lock, "%s/" CAIRN_LOCK_FILE, store);
    long holder = scan_lock_holder(lock), pid = 0;
    int sig = 0, dfd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = dfd < 0 ? -errno : cairn__store_get_holder(dfd, &pid, &sig);
    if (dfd >= 0)
        close(dfd);
    if (holder <= 0 || rc < 0 || pid != holder) {
        cli_error("checkpoint", "no job is using the store %s (no 'cairn run' pid file, and "
                  "no process holds its lock%s)", store,
                  holder > 0 ? " that recorded itself in it" : "");
        return CLI_EXIT_NOIMAGE;
    }
    if (sig <= 0) {
        cli_error("checkpoint", "the job using %s (pid %ld, libcairn) has no checkpoint signal "
                  "(CAIRN_CONTINUE_SIGNALS=none): it cannot be asked", store, pid);
        return CLI_EXIT_NOIMAGE;
    }
    *t = (struct ckpt_target){pid, sig, "libcairn"};
    return 0;
}

static int find_target(const char *store, struct ckpt_target *t)
{
    long pid = read_pid_file(store);
    if (pid > 0 && is_cairn(pid)) {
        *t = (struct ckpt_target){pid, SIGUSR1, "cairn run"};
        return 0;
    }
    return lock_holder(store, t);
}

struct ckpt_args {
    const char *store;
    int wait;
    double timeout;
};

/* 0, -1 after --help, or the usage error's status. */
static int parse(struct ckpt_args *c, int argc, char **argv)
{
    const char *val;
    int timed = 0;
    struct cli_args a;
    cli_args_init(&a, argc, argv);
    for (int o; (o = cli_args_next(&a, opts, &val)) != CLI_ARG_END;) {
        if (o == CLI_ARG_ERROR)
            return CLI_EXIT_USAGE;
        if (o == CLI_ARG_POSITIONAL)
            return cli_usage_error("checkpoint", "unexpected argument '%s'", val);
        const char *name = opts[o].name;
        if (!strcmp(name, "help")) {
            fputs(usage, stdout);
            return -1;
        } else if (!strcmp(name, "store")) {
            c->store = val;
        } else if (!strcmp(name, "wait")) {
            c->wait = 1;
        } else {
            if (cairn__parse_duration(val, &c->timeout) < 0)
                return cli_usage_error("checkpoint", "--timeout wants a duration, not '%s'",
                                       val);
            timed = 1;
        }
    }
    if (timed && !c->wait)
        return cli_usage_error("checkpoint", "--timeout goes with --wait");
    return 0;
}

int cmd_checkpoint(int argc, char **argv)
{
    struct ckpt_args c = {.store = "cairn.ckpt"};
    int rc = parse(&c, argc, argv);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    struct ckpt_target t;
    if ((rc = find_target(c.store, &t)) != 0)
        return rc;
    struct ckpt_before b;
    ckpt_note_before(c.store, &b);
    if (kill((pid_t)t.pid, t.signo) < 0) {
        cli_error("checkpoint", "cannot signal the job (%s, pid %ld): %s", t.kind, t.pid,
                  strerror(errno));
        return CLI_EXIT_ERROR;
    }
    return c.wait ? ckpt_wait(c.store, &t, &b, c.timeout) : CLI_EXIT_OK;
}
