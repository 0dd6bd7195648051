/* SPDX-License-Identifier: MIT */
/* cairn_options.h — options from the environment and the parsers of typed
   values, shared by libcairn and the CLI. Internal: not installed. */
#ifndef CAIRN_OPTIONS_H
#define CAIRN_OPTIONS_H

#include <limits.h>

#include "cairn.h"

/* Applies the CAIRN_* variables to *o (they win over what is there). */
void cairn__options_from_env(cairn_options_t *o);
/* 0 if the options are consistent, CAIRN_EINVAL otherwise. */
int cairn__options_check(const cairn_options_t *o);

/* parse.c: the one parser of each kind of value, for libcairn and the CLI. */
/* "TERM", "SIGTERM", "sigterm", "15" -> 15; -1 if unknown, KILL or STOP. */
int cairn__signal_from_name(const char *s);
/* The reverse, into buf: "SIGTERM" for 15, "SIG42" for one without a name. */
const char *cairn__signal_name(int signo, char *buf, unsigned len);
/* Seconds > 0: "90", "1.5", "30s", "10m", "4h", "2d". 0 or -1. */
int cairn__parse_duration(const char *s, double *seconds);
/* A whole decimal number in [lo, hi]. 0 or -1. */
int cairn__parse_long(const char *s, long lo, long hi, long *out);

#endif
