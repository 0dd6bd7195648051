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

/* ---- SysV shared memory ---------------------------------------------------
   The segment is back with its bytes and id (the init made it again); an
   attach (CAIRN_MAP_SYSV) is made again at its address. Pieces after the
   first of one attach (mprotect split it) continue it: only their
   protection is set. A tail of the segment the job had unmapped is
   unmapped again. */

#define NR_shmat 30
#define PROT_WRITE_ 2
#define PROT_EXEC_ 4
#define NR_shmctl 31
#define IPC_STAT_ 2
#define SHM_RDONLY_ 010000
#define SHM_REMAP_ 040000
#define SHM_EXEC_ 0100000

struct shmid64 {
    unsigned char perm[48]; /* struct ipc64_perm */
    uint64_t segsz;
    uint64_t rest[8];
};

/* The end of the attach whose first piece is map i. */
static uint64_t attach_end(uint64_t i)
{
    const struct cairn_proc_map *m = &img.maps[i];
    uint64_t end = m->end;
    for (uint64_t k = i + 1; k < img.core.nmaps; k++) {
        const struct cairn_proc_map *n = &img.maps[k];
        if (n->kind != CAIRN_MAP_SYSV || n->reserved != m->reserved || n->start != end ||
            n->offset != end - m->start)
            break;
        end = n->end;
    }
    return end;
}

void r_sysv_map(uint64_t i)
{
    const struct cairn_proc_map *m = &img.maps[i];
    if (m->offset == 0) {
        long flags = SHM_REMAP_ | ((m->prot & PROT_WRITE_) ? 0 : SHM_RDONLY_) |
                     ((m->prot & PROT_EXEC_) ? SHM_EXEC_ : 0);
        long at = sys3(NR_shmat, m->reserved, m->start, flags);
        struct shmid64 ds;
        if (at != (long)m->start || sys3(NR_shmctl, m->reserved, IPC_STAT_, &ds) < 0)
            r_fail("cannot attach a SysV shared memory segment again", at < 0 ? at : -22);
        uint64_t size = (ds.segsz + 4095) & ~4095ull, end = attach_end(i);
        if (m->start + size > end)
            sys2(NR_munmap, end, m->start + size - end);
    }
    long rc = sys3(NR_mprotect, m->start, m->end - m->start, m->prot);
    if (rc < 0)
        r_fail("cannot protect a SysV shared memory attach", rc);
}
