/* SPDX-License-Identifier: MIT */
/*
 * args.c — option parsing for the subcommands.
 *
 * getopt_long reports a bad option without saying reliably which argument
 * it was (optopt is 0 for long options), so this small parser does the job:
 * "--name", "--name=VALUE", "--name VALUE", "-x", "-x VALUE", and "--" to
 * end the options. Options and positional arguments may be mixed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_args_init(struct cli_args *a, int argc, char **argv)
{
    a->argc = argc;
    a->argv = argv;
    a->i = 1; /* argv[0] is the command's name */
    a->only_positional = 0;
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cairn %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cairn %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'cairn %s --help')\n", cmd);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

/* Finds a long option by name (the part before any '='). */
static int find_long(const struct cli_opt *opts, const char *name, size_t len)
{
    for (int k = 0; opts[k].name; k++)
        if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0)
            return k;
    return -1;
}

static int find_short(const struct cli_opt *opts, char c)
{
    for (int k = 0; opts[k].name; k++)
        if (opts[k].short_name && opts[k].short_name == c)
            return k;
    return -1;
}

/* Takes the option's value from "=VALUE" or the next argument. */
static int take_value(struct cli_args *a, const struct cli_opt *o, const char *arg,
                      const char *eq, const char **val)
{
    if (!o->has_arg) {
        if (eq) {
            cli_usage_error(a->argv[0], "option '--%s' takes no value", o->name);
            return CLI_ARG_ERROR;
        }
        *val = NULL;
        return 0;
    }
    if (eq) {
        *val = eq + 1;
        return 0;
    }
    if (a->i >= a->argc) {
        cli_usage_error(a->argv[0], "option '%s' needs a value", arg);
        return CLI_ARG_ERROR;
    }
    *val = a->argv[a->i++];
    return 0;
}

int cli_args_next(struct cli_args *a, const struct cli_opt *opts, const char **val)
{
    *val = NULL;
    if (a->i >= a->argc)
        return CLI_ARG_END;
    const char *arg = a->argv[a->i++];
    if (a->only_positional || arg[0] != '-' || arg[1] == '\0') {
        *val = arg;
        return CLI_ARG_POSITIONAL;
    }
    if (strcmp(arg, "--") == 0) {
        a->only_positional = 1;
        return cli_args_next(a, opts, val);
    }
    int k;
    const char *eq = NULL;
    if (arg[1] == '-') {
        eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
        k = find_long(opts, arg + 2, len);
    } else {
        k = arg[2] == '\0' ? find_short(opts, arg[1]) : -1;
    }
    if (k < 0) {
        cli_usage_error(a->argv[0], "unknown option '%s'", arg);
        return CLI_ARG_ERROR;
    }
    if (take_value(a, &opts[k], arg, eq, val) < 0)
        return CLI_ARG_ERROR;
    return k;
}

int cli_args_flags_one(int argc, char **argv, const char *cmd, const struct cli_opt *opts,
                       const char *usage, const char *what, const char *missing,
                       const char **arg, unsigned *flags)
{
    const char *v;
    struct cli_args a;
    cli_args_init(&a, argc, argv);
    *arg = NULL;
    *flags = 0;
    for (int k; (k = cli_args_next(&a, opts, &v)) != CLI_ARG_END;) {
        if (k == CLI_ARG_ERROR)
            return CLI_EXIT_USAGE;
        if (k == CLI_ARG_POSITIONAL) {
            if (*arg)
                return cli_usage_error(cmd, "unexpected argument '%s': one %s only", v, what);
            *arg = v;
        } else if (!strcmp(opts[k].name, "help")) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        } else {
            *flags |= 1u << k;
        }
    }
    return *arg ? -1 : cli_usage_error(cmd, "%s", missing);
}

const cairn_options_t *cli_env(void)
{
    static cairn_options_t o;
    static int done;
    if (!done) {
        cairn_options_init(&o);
        cairn__options_from_env(&o);
        done = 1;
    }
    return &o;
}

int cli_stat_path(const char *cmd, const char *path, struct stat *sb)
{
    if (stat(path, sb) == 0)
        return 0;
    int e = errno;
    cli_error(cmd, "%s: %s", path, e == ENOENT ? "does not exist (no image)" : strerror(e));
    return e == ENOENT ? CLI_EXIT_NOIMAGE : CLI_EXIT_ERROR;
}
