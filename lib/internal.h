/* SPDX-License-Identifier: MIT */
/*
 * internal.h — helpers shared by libcairn's files. Not installed.
 * Functions named cairn__* are internal but not static (libuv's convention);
 * the runtime and tests may use them through this header and lib/image.h.
 */
#ifndef CAIRN_INTERNAL_H
#define CAIRN_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include "cairn_io.h"
#include "cairn_time.h"

#define CAIRN_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Log levels, compared against the handle's verbosity. */
enum { CAIRN_LOG_ERROR = -1, CAIRN_LOG_INFO = 0, CAIRN_LOG_DEBUG = 1 };

/* Prints "cairn: <message>\n" on stderr if level <= verbosity. */
void cairn__log(int verbosity, int level, const char *fmt, ...) CAIRN_PRINTF(3, 4);

/* snprintf into a caller's buffer that may be NULL. */
void cairn__say(char *buf, size_t len, const char *fmt, ...) CAIRN_PRINTF(3, 4);

#endif
