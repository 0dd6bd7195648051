/* SPDX-License-Identifier: MIT */
/*
 * cmd_checkpoint.c — `cairn checkpoint [--store DIR]`: asks the `cairn run`
 * that owns a store for a checkpoint now. It reads the pid in the store's
 * cairn-run.pid and sends it SIGUSR1; the job goes on afterwards.
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

#include "cli.h"
#include "commands.h"
#include "run.h"

static const struct cli_opt opts[] = {{"store", 's', 1}, {"help", 'h', 0}, {NULL, 0, 0}};

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

int cmd_checkpoint(int argc, char **argv)
{
    const char *store = "cairn.ckpt", *val;
    struct cli_args a;
    cli_args_init(&a, argc, argv);
    for (int o; (o = cli_args_next(&a, opts, &val)) != CLI_ARG_END;) {
        if (o == CLI_ARG_ERROR)
            return CLI_EXIT_USAGE;
        if (o == CLI_ARG_POSITIONAL)
            return cli_usage_error("checkpoint", "unexpected argument '%s'", val);
        if (!strcmp(opts[o].name, "help")) {
            printf("usage: cairn checkpoint [--store DIR]\n\n"
                   "Asks the 'cairn run' using the store (default ./cairn.ckpt) to checkpoint\n"
                   "its job now; the job goes on. Exit status 0 if the request was sent,\n"
                   "3 if no cairn run is using the store, 4 on other errors.\n");
            return CLI_EXIT_OK;
        }
        store = val;
    }
    long pid = read_pid_file(store);
    if (pid <= 0 || !is_cairn(pid)) {
        cli_error("checkpoint", "no 'cairn run' is using the store %s", store);
        return CLI_EXIT_NOIMAGE;
    }
    if (kill((pid_t)pid, SIGUSR1) < 0) {
        cli_error("checkpoint", "cannot signal cairn run (pid %ld): %s", pid, strerror(errno));
        return CLI_EXIT_ERROR;
    }
    return CLI_EXIT_OK;
}
