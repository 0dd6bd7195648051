/* SPDX-License-Identifier: MIT */
/* ipc.h — the job's POSIX message queue descriptors (ipc.c). */
#ifndef CAIRN_RUNTIME_IPC_H
#define CAIRN_RUNTIME_IPC_H

#include <sys/stat.h>

#include "capture.h"

/* fd (sb its fstat) as a CAIRN_FD_MQUEUE file record: 1 if it is a POSIX
   message queue, 0 if not, -1 if refused (st->why). */
int rt_ipc_mq_fd(struct rt_state *st, struct cairn_proc_file *f, int fd, const struct stat *sb);

/* A SysV shared memory attach (a /SYSV mapping; ino its segment's id, as
   /proc/self/maps shows it) as a CAIRN_MAP_SYSV record: 0, or -1 refused. */
int rt_ipc_sysv_map(struct rt_state *st, struct cairn_proc_map *m, uint64_t ino);

/* After a semop/semtimedop that succeeded (eintr.c): notes a SEM_UNDO. */
struct sembuf;
void rt_ipc_note_undo(int semid, const struct sembuf *ops, size_t n);

/* A SEM_UNDO adjustment this process holds: -1 (refused, st->why) or 0. */
int rt_ipc_check_undo(struct rt_state *st);

#endif
