/* SPDX-License-Identifier: MIT */
/*
 * main.c — the cairn command: dispatches to the subcommands listed in
 * commands.h and handles --help, --version and `cairn help CMD`.
 *
 * Subcommands return their exit status; this is the only place that ends the
 * process (by returning from main), as DESIGN.md asks of cli/.
 */
#include <stdio.h>
#include <string.h>

#include "cairn.h"
#include "cli.h"
#include "commands.h"

struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
#define CAIRN_CLI_ENTRY_(name, summary) {#name, summary, cmd_##name},
    CAIRN_CLI_COMMANDS(CAIRN_CLI_ENTRY_)
#undef CAIRN_CLI_ENTRY_
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static void print_usage(FILE *f)
{
    fprintf(f, "usage: cairn COMMAND [OPTIONS] [ARGS]\n"
               "       cairn --help | --version | help COMMAND\n"
               "\n"
               "cairn checkpoints long-running jobs so that an evicted job resumes where\n"
               "it stopped. Commands:\n");
    int w = 0;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if ((int)strlen(commands[i].name) > w)
            w = (int)strlen(commands[i].name);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-*s  %s\n", w, commands[i].name, commands[i].summary);
    fprintf(f, "\n"
               "'cairn COMMAND --help' describes a command.\n"
               "\n"
               "Exit status (every command):\n"
               "  0  success (for verify: the image verified completely)\n"
               "  1  an image is invalid (corrupt, truncated, not a cairn image)\n"
               "  2  usage error (unknown command or option, bad value)\n"
               "  3  no image where one was expected (missing, empty, finished, not a store)\n"
               "  4  other error (a path cannot be read, out of memory)\n");
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* `cairn help [CMD]`: runs CMD --help. */
static int help(int argc, char **argv)
{
    if (argc < 3) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 3) {
        fprintf(stderr, "cairn help: unexpected argument '%s'\n", argv[3]);
        return CLI_EXIT_USAGE;
    }
    const struct command *c = find(argv[2]);
    if (!c) {
        fprintf(stderr, "cairn help: unknown command '%s' (see 'cairn --help')\n", argv[2]);
        return CLI_EXIT_USAGE;
    }
    char *args[] = {argv[2], "--help", NULL};
    return c->run(2, args);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("cairn %s\n", cairn_version_string());
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0)
        return help(argc, argv);
    const struct command *c = find(cmd);
    if (!c) {
        fprintf(stderr, "cairn: unknown %s '%s' (see 'cairn --help')\n",
                cmd[0] == '-' ? "option" : "command", cmd);
        return CLI_EXIT_USAGE;
    }
    /* `cairn COMMAND --version` as its only argument: the same as --version. */
    if (argc == 3 && strcmp(argv[2], "--version") == 0) {
        printf("cairn %s\n", cairn_version_string());
        return CLI_EXIT_OK;
    }
    return c->run(argc - 1, argv + 1);
}
