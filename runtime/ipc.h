/* SPDX-License-Identifier: MIT */
/* ipc.h — the job's POSIX message queue descriptors (ipc.c). */
#ifndef CAIRN_RUNTIME_IPC_H
#define CAIRN_RUNTIME_IPC_H

#include <sys/stat.h>

#include "capture.h"

/* fd (sb its fstat) as a CAIRN_FD_MQUEUE file record: 1 if it is a POSIX
   message queue, 0 if not, -1 if refused (st->why). */
int rt_ipc_mq_fd(struct rt_state *st, struct cairn_proc_file *f, int fd, const struct stat *sb);

/* A SEM_UNDO adjustment this process holds: -1 (refused, st->why) or 0. */
int rt_ipc_check_undo(struct rt_state *st);

#endif
