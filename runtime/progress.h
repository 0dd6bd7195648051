/* SPDX-License-Identifier: MIT */
/*
 * progress.h — the writer child's "PROGRESS <bytes done> <bytes total>"
 * lines on the control channel (format/control.h), which `cairn run`
 * shows on a terminal for a long checkpoint (cli/run_progress.c).
 */
#ifndef CAIRN_RUNTIME_PROGRESS_H
#define CAIRN_RUNTIME_PROGRESS_H

#include <stdint.h>

struct cairn__writer;

/* Makes w report its progress on control_fd: a line at its first write,
   then at most one every CAIRN_PROGRESS_INTERVAL_NS, out of total bytes
   (an estimate, at least the image's size). */
void rt_progress_start(struct cairn__writer *w, int control_fd, uint64_t total);

#endif
