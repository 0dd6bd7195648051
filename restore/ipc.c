/* SPDX-License-Identifier: MIT */
/*
 * ipc.c — a POSIX message queue descriptor (CAIRN_FD_MQUEUE) back at its
 * number. The namespace's init made the queue again, with its messages,
 * before this process existed (cli/run_ipc_mq.c), under the name in the
 * record: the queue's own, or "/.cairn-mq-<inode>" for one the job had
 * unlinked, which the init unlinks once the job is restored.
 */
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"

#define NR_mq_open 240

void r_mq_restore(const struct cairn_proc_file *f)
{
    /* The syscall takes the name without its '/' (glibc strips it);
       O_CLOEXEC is the kernel's own choice, F_SETFD follows. */
    long fd = sys4(NR_mq_open, f->path + 1, f->open_flags & (3 | 04000), 0, 0);
    if (fd < 0)
        r_fail(f->path, fd);
    if (fd != f->fd) {
        long rc = sys2(NR_dup2, fd, f->fd);
        sys1(NR_close, fd);
        if (rc < 0)
            r_fail(f->path, rc);
    }
}
