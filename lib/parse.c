/* SPDX-License-Identifier: MIT */
/*
 * parse.c — the one parser for each kind of value a person types: numbers,
 * durations and signal names. libcairn's CAIRN_* variables and every cairn
 * subcommand's options use these, so "10m", "sigterm" and "TERM" mean the
 * same everywhere.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "cairn_options.h"

int cairn__parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cairn__parse_duration(const char *s, double *seconds)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0)
        return -1;
    double unit = 1;
    if (*end) {
        switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return -1;
        }
        if (end[1])
            return -1;
    }
    v *= unit;
    if (!isfinite(v) || !(v > 0))
        return -1;
    *seconds = v;
    return 0;
}

static const struct {
    const char *name;
    int signo;
} signal_names[] = {
    {"TERM", SIGTERM}, {"INT", SIGINT},   {"HUP", SIGHUP},   {"USR1", SIGUSR1},
    {"USR2", SIGUSR2}, {"QUIT", SIGQUIT}, {"XCPU", SIGXCPU}, {"ALRM", SIGALRM},
};

int cairn__signal_from_name(const char *s)
{
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
        if (strcasecmp(s, signal_names[i].name) == 0)
            return signal_names[i].signo;
    long v;
    if (cairn__parse_long(s, 1, 64, &v) == 0 && v != SIGKILL && v != SIGSTOP)
        return (int)v;
    return -1;
}

const char *cairn__signal_name(int signo, char *buf, unsigned len)
{
    for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
        if (signal_names[i].signo == signo) {
            snprintf(buf, len, "SIG%s", signal_names[i].name);
            return buf;
        }
    snprintf(buf, len, "SIG%d", signo);
    return buf;
}
