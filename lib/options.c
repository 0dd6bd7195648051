/* SPDX-License-Identifier: MIT */
/*
 * options.c — defaults, and CAIRN_* environment overrides.
 *
 * The environment wins over both the defaults and what the program set: it
 * is how a pool admin tunes a job without recompiling it. A malformed value
 * is reported and ignored, never silently half-applied.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn.h"
#include "internal.h"
#include "cairn_options.h"

void cairn_options_init_(cairn_options_t *o, size_t struct_size)
{
    if (!o)
        return;
    size_t n = struct_size < sizeof *o ? struct_size : sizeof *o;
    cairn_options_t d = {0};
    d.struct_size = n;
    d.policy = CAIRN_POLICY_TIME;
    d.interval = 300.0;
    d.mtbi = 4 * 3600.0;
    d.keep = 2;
    d.exit_code = -1;
    d.compress_level = 0;
    d.exit_signals[0] = SIGTERM;
    d.continue_signals[0] = SIGUSR1;
    d.exit_on_signal = 1;
    d.signal_exit_status = -1;
    d.verbose = 0;
    d.no_exit = 0;
    memcpy(o, &d, n);
}

/* Parses "TERM,INT" into a 0-terminated list; "" or "none" empties it. */
static int parse_signal_list(const char *s, int list[CAIRN_MAX_SIGNALS])
{
    int tmp[CAIRN_MAX_SIGNALS] = {0};
    int n = 0;
    if (strcasecmp(s, "none") != 0 && *s) {
        char buf[256];
        strncpy(buf, s, sizeof buf - 1);
        buf[sizeof buf - 1] = '\0';
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            int sig = cairn__signal_from_name(tok);
            if (sig < 0 || n == CAIRN_MAX_SIGNALS - 1)
                return -1;
            tmp[n++] = sig;
        }
    }
    memcpy(list, tmp, sizeof tmp);
    return 0;
}

/* "off", "zstd", "zstd:LEVEL" or a bare level. */
static int parse_compress(const char *s, int *level)
{
    long v;
    if (strcasecmp(s, "off") == 0 || strcasecmp(s, "none") == 0) {
        *level = 0;
        return 0;
    }
    if (strcasecmp(s, "zstd") == 0) {
        *level = 1;
        return 0;
    }
    if (strncasecmp(s, "zstd:", 5) == 0)
        s += 5;
    if (cairn__parse_long(s, 0, 19, &v) < 0)
        return -1;
    *level = (int)v;
    return 0;
}

static void bad_env(int verbosity, const char *var, const char *val, const char *want)
{
    cairn__log(verbosity, CAIRN_LOG_ERROR, "ignoring %s=\"%s\": expected %s", var, val, want);
}

/* Applies one variable; returns 0 or -1 if malformed. */
static int apply_one(cairn_options_t *o, const char *var, const char *v)
{
    double d;
    long l;
    if (strcmp(var, "CAIRN_INTERVAL") == 0) {
        if (strcasecmp(v, "auto") == 0) {
            o->policy = CAIRN_POLICY_AUTO;
            return 0;
        }
        if (cairn__parse_duration(v, &d) < 0)
            return -1;
        o->policy = CAIRN_POLICY_TIME;
        o->interval = d;
    } else if (strcmp(var, "CAIRN_STEPS") == 0) {
        if (cairn__parse_long(v, 1, LONG_MAX, &l) < 0)
            return -1;
        o->policy = CAIRN_POLICY_STEPS;
        o->every_steps = (uint64_t)l;
    } else if (strcmp(var, "CAIRN_MTBI") == 0) {
        if (cairn__parse_duration(v, &d) < 0)
            return -1;
        o->mtbi = d;
    } else if (strcmp(var, "CAIRN_KEEP") == 0) {
        if (cairn__parse_long(v, 1, 1000, &l) < 0)
            return -1;
        o->keep = (unsigned)l;
    } else if (strcmp(var, "CAIRN_EXIT_CODE") == 0) {
        if (strcasecmp(v, "off") == 0)
            l = -1;
        else if (cairn__parse_long(v, 0, 255, &l) < 0)
            return -1;
        o->exit_code = (int)l;
    } else if (strcmp(var, "CAIRN_COMPRESS") == 0) {
        return parse_compress(v, &o->compress_level);
    } else if (strcmp(var, "CAIRN_EXIT_SIGNALS") == 0) {
        return parse_signal_list(v, o->exit_signals);
    } else if (strcmp(var, "CAIRN_CONTINUE_SIGNALS") == 0) {
        return parse_signal_list(v, o->continue_signals);
    } else if (strcmp(var, "CAIRN_KEY_FILE") == 0) {
        if (!*v)
            return -1;
        o->key_file = v; /* getenv's string lives as long as the variable */
    } else if (strcmp(var, "CAIRN_QUIET") == 0) {
        if (strcmp(v, "0") != 0 && *v)
            o->verbose = -1;
    } else if (strcmp(var, "CAIRN_VERBOSE") == 0) {
        if (strcmp(v, "0") != 0 && *v)
            o->verbose = 1;
    }
    return 0;
}

void cairn__options_from_env(cairn_options_t *o)
{
    static const struct {
        const char *var, *want;
    } vars[] = {
        {"CAIRN_QUIET", ""},
        {"CAIRN_VERBOSE", ""},
        {"CAIRN_INTERVAL", "a duration > 0 (90, 1.5, 10m, 4h) or \"auto\""},
        {"CAIRN_STEPS", "a whole number >= 1"},
        {"CAIRN_MTBI", "a duration > 0 (14400, 4h, 2d)"},
        {"CAIRN_KEEP", "a whole number from 1 to 1000"},
        {"CAIRN_EXIT_CODE", "an exit status from 0 to 255, or \"off\""},
        {"CAIRN_COMPRESS", "off, zstd, or zstd:LEVEL (1-19)"},
        {"CAIRN_EXIT_SIGNALS", "signal names such as TERM,INT"},
        {"CAIRN_CONTINUE_SIGNALS", "signal names such as USR1"},
        {"CAIRN_KEY_FILE", "a key file path or \"default\""},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i].var);
        if (v && apply_one(o, vars[i].var, v) < 0)
            bad_env(o->verbose, vars[i].var, v, vars[i].want);
    }
}

int cairn__options_check(const cairn_options_t *o)
{
    if (o->policy < CAIRN_POLICY_TIME || o->policy > CAIRN_POLICY_AUTO)
        return CAIRN_EINVAL;
    if (o->policy == CAIRN_POLICY_TIME && !(o->interval > 0))
        return CAIRN_EINVAL;
    if (o->policy == CAIRN_POLICY_STEPS && o->every_steps == 0)
        return CAIRN_EINVAL;
    if (!(o->mtbi > 0) || o->keep == 0 || o->exit_code > 255 || o->compress_level < 0 ||
        o->compress_level > 19)
        return CAIRN_EINVAL;
    return 0;
}
