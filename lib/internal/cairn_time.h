/* SPDX-License-Identifier: MIT */
/* cairn_time.h — the one clock reader, for libcairn, the runtime and the
   CLI. clock_gettime is async-signal-safe, so the runtime's handler path
   may use it. Internal: not installed. */
#ifndef CAIRN_TIME_H
#define CAIRN_TIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t cairn__now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
