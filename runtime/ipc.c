/* SPDX-License-Identifier: MIT */
/*
 * ipc.c — a POSIX message queue descriptor of the job's (mq_open): a file
 * of kind CAIRN_FD_MQUEUE, reopened by name on restore with its access mode
 * and O_NONBLOCK. The queue itself, its attributes and its messages are
 * saved and made again by the namespace's init (cli/run_ipc_mq.c): under
 * its name, or, once unlinked, under "/.cairn-mq-<inode>", which the init
 * removes again once the job is restored. Outside cairn's namespaces
 * nobody saves the queue: refused.
 */
#define _GNU_SOURCE
#include <fcntl.h>
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
