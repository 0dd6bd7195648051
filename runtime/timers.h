/* SPDX-License-Identifier: MIT */
/* timers.h — the job's POSIX timers, recorded at the checkpoint (timers.c). */
#ifndef CAIRN_RUNTIME_TIMERS_H
#define CAIRN_RUNTIME_TIMERS_H

#include "capture.h"

/* Fills st->timers; 0, or -1 with st->why naming what cannot be restored. */
int rt_timers_capture(struct rt_state *st);

#endif
