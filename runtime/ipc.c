/* SPDX-License-Identifier: MIT */
/*
 * ipc.c — a POSIX message queue descriptor of the job's (mq_open): a file
 * of kind CAIRN_FD_MQUEUE, reopened by name on restore with its access mode
 * and O_NONBLOCK. The queue itself, its attributes and its messages are
 * saved and made again by the namespace's init (cli/run_ipc_mq.c): under
 * its name, or, once unlinked, under "/.cairn-mq-<inode>", which the init
 * removes again once the job is restored. Outside cairn's namespaces
 * nobody saves the queue: refused. And the SEM_UNDO adjustments, which
 * are refused (below).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capture.h"
#include "ipc.h"

#define MQUEUE_MAGIC 0x19800202

int rt_ipc_mq_fd(struct rt_state *st, struct cairn_proc_file *f, int fd, const struct stat *sb)
{
    struct statfs fs;
    if (!S_ISREG(sb->st_mode) || syscall(SYS_fstatfs, fd, &fs) < 0 || fs.f_type != MQUEUE_MAGIC)
        return 0;
    if (!st->own_pidns)
        return rt_refuse_num(st, "fd ", (uint64_t)fd, " is a POSIX message queue: saved only "
                             "in cairn run's namespaces (CAIRN_NO_NAMESPACE?)");
    size_t len = rt_strlen(f->path);
    int unlinked = len > 10 && rt_streq(f->path + len - 10, " (deleted)");
    if (unlinked || f->path[0] != '/' || len > 255) {
        f->path[0] = 0;
        rt_cat(f->path, sizeof f->path, "/.cairn-mq-");
        rt_cat_u64(f->path, sizeof f->path, (uint64_t)sb->st_ino);
    }
    f->kind = CAIRN_FD_MQUEUE;
    f->offset = (uint64_t)sb->st_ino;
    f->open_flags &= O_ACCMODE | O_NONBLOCK;
    return 1;
}

/* ---- SEM_UNDO ---------------------------------------------------------------
   A semop with SEM_UNDO leaves an adjustment in the calling process that
   the kernel applies when it exits; nothing shows it from outside, and
   nothing can make it again with the same value. The runtime interposes
   semop and semtimedop (eintr.c, which also repeats them after a checkpoint)
   to note the first set this process adjusted so, and a checkpoint is
   refused, naming it, while that set exists. */

static int undo_semid = -1;
static pid_t undo_pid; /* who noted it: a forked child has no adjustment */

void rt_ipc_note_undo(int semid, const struct sembuf *ops, size_t n)
{
    for (size_t i = 0; i < n && undo_semid < 0; i++)
        if ((ops[i].sem_flg & SEM_UNDO) && ops[i].sem_op != 0) {
            undo_semid = semid;
            undo_pid = (pid_t)syscall(SYS_getpid);
        }
}

int rt_ipc_check_undo(struct rt_state *st)
{
    struct semid_ds ds;
    if (undo_semid < 0 || undo_pid != (pid_t)syscall(SYS_getpid) ||
        syscall(SYS_semctl, undo_semid, 0, IPC_STAT, &ds) < 0)
        return 0; /* none, or the set is gone with its adjustments */
    return rt_refuse_num(st, "SysV semaphore set ", (uint64_t)undo_semid,
                         " holds a SEM_UNDO adjustment of this process: not restored");
}

/* ---- SysV shared memory -----------------------------------------------------
   The segment itself and its bytes are the init's to save (cli/run_ipc.c);
   a process records where it has it attached, and the restorer attaches
   it there again (restore/ipc.c). A piece that is not the start of an
   attach must continue the previous one (mprotect splits an attach);
   anything else (part of an attach unmapped at its start) is refused. */
int rt_ipc_sysv_map(struct rt_state *st, struct cairn_proc_map *m, uint64_t ino)
{
    uint32_t n = st->core.nmaps;
    const struct cairn_proc_map *b = n ? &st->maps[n - 1] : NULL;
    int continues = b && b->kind == CAIRN_MAP_SYSV && b->reserved == (uint32_t)ino &&
                    b->end == m->start && b->offset + (b->end - b->start) == m->offset;
    if (!st->own_pidns)
        return rt_refuse_num(st, "SysV shared memory segment ", ino, " is attached: saved "
                             "only in cairn run's namespaces");
    if (ino > 0x7fffffff || (m->offset && !continues))
        return rt_refuse_num(st, "SysV shared memory segment ", ino, " is attached only in "
                             "part: not restored");
    m->kind = CAIRN_MAP_SYSV;
    m->reserved = (uint32_t)ino;
    return 0;
}
