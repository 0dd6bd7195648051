/* SPDX-License-Identifier: MIT */
/*
 * ident.c — the job's identity in the restorer: its pending signals, its
 * /proc/self/exe link, and the capabilities it must not keep.
 *
 * - Pending signals (the image's CAIRN_SEC_PROC_SIGQ section, full
 *   siginfo each, in delivery order) are queued again with
 *   rt_tgsigqueueinfo / rt_sigqueueinfo just before the final rt_sigreturn:
 *   every signal is blocked until then, so they are delivered under the
 *   job's own restored mask (a signal the job blocked stays pending).
 * - The exe link: prctl(PR_SET_MM_MAP) with exe_fd points /proc/self/exe at
 *   the job's executable when it still exists at the recorded path. The
 *   kernel requires CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in the job's
 *   user namespace — `cairn run`'s namespace init lends it as an ambient
 *   capability, and r_ident_drop_caps() gives it back — and refuses (EBUSY)
 *   while the old exe, cairn-restore itself, is still mapped: so
 *   r_ident_detach_self() first replaces the restorer's own file mappings
 *   by anonymous copies of their bytes (mremap over them: the code running
 *   it finds identical bytes when the call returns).
 *
 * The sections are optional (older images lack them). `cairn run` read both
 * through their checksums and checked them (format/proc_check.c) just
 * before; image.c's walk found them, and their checksums are checked again
 * here as they are read.
 */
#include "image_format.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"
#include "tree.h"

#define NR_gettid 186
#define NR_capset 126
#define NR_getuid 102
#define NR_rt_tgsigqueueinfo 297
#define NR_rt_sigqueueinfo 129
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#define O_CLOEXEC 02000000
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2

static struct cairn_proc_task task;
static struct cairn_proc_siginfo sigq[CAIRN_PROC_MAX_SIGQ];
static int have_task;

/* One optional record section into dst, through its checksum (image.c). */
static void read_optional(const char *what, const struct r_record *rec, void *dst, uint64_t cap)
{
    if (rec->present && r_read_record(what, rec, dst, cap) < 0)
        r_exit(R_EXIT_CORRUPT);
}

void r_ident_load(void)
{
    read_optional("task", &img.rec_task, &task, sizeof task);
    have_task = img.rec_task.present && img.rec_task.len == sizeof task;
    read_optional("pending signals", &img.rec_sigq, sigq, sizeof sigq);
    if (!have_task || task.nsigq > CAIRN_PROC_MAX_SIGQ ||
        task.nsigq * sizeof sigq[0] > img.rec_sigq.len)
        task.nsigq = 0;
    task.exe[sizeof task.exe - 1] = 0; /* opened as a C string: cut as image.c cuts the others */
}

long r_ident_pid(void)
{
    return have_task ? (long)task.pid : 0;
}

void r_ident_requeue(void)
{
    long pid = sys0(NR_getpid), tid = sys0(NR_gettid);
    for (uint64_t i = 0; i < task.nsigq; i++) {
        const struct cairn_proc_siginfo *q = &sigq[i];
        if (q->flags & CAIRN_SIGQF_THREAD)
            sys4(NR_rt_tgsigqueueinfo, pid, tid, q->signo, q->info);
        else
            sys3(NR_rt_sigqueueinfo, pid, q->signo, q->info);
    }
}

/* Replaces the file mapping [start, end) by an anonymous copy. */
static void detach_one(uint64_t start, uint64_t end, long prot)
{
    uint64_t len = end - start;
    if (!(prot & PROT_READ) && sys3(NR_mprotect, start, len, prot | PROT_READ) < 0)
        return;
    long tmp = sys6(NR_mmap, 0, (long)len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
    if (tmp < 0)
        return;
    memcpy((void *)tmp, (const void *)start, len);
    sys3(NR_mprotect, tmp, len, prot);
    if (sys5(NR_mremap, tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, start) < 0)
        sys2(NR_munmap, tmp, len);
}

void r_ident_detach_self(void)
{
    static char text[1 << 14];
    if (!have_task || !task.exe[0])
        return;
    long fd = sys3(NR_open, "/proc/self/maps", 0, 0), n = 0, r;
    if (fd < 0)
        return;
    while ((r = sys3(NR_read, fd, text + n, sizeof text - 1 - n)) > 0)
        n += r;
    sys1(NR_close, fd);
    text[n] = 0;
    for (const char *p = text; *p;) {
        uint64_t start = r_parse_hex(&p);
        p++;
        uint64_t end = r_parse_hex(&p);
        long prot = (p[1] == 'r' ? PROT_READ : 0) | (p[2] == 'w' ? PROT_WRITE : 0) |
                    (p[3] == 'x' ? PROT_EXEC : 0);
        const char *eol = p;
        while (*eol && *eol != '\n')
            eol++;
        const char *name = p;
        while (name < eol && *name != '/')
            name++;
        if (name < eol && start >= CAIRN_RESERVED_LO && end <= CAIRN_RESERVED_HI &&
            start != R_TREE_PAGE)
            detach_one(start, end, prot);
        p = *eol ? eol + 1 : eol;
    }
}

long r_ident_exe_fd(void)
{
    if (!have_task || !task.exe[0])
        return -1;
    long fd = sys3(NR_open, task.exe, O_CLOEXEC, 0);
    return fd < 0 ? -1 : fd;
}

void r_ident_drop_caps(void)
{
    if (sys0(NR_getuid) == 0)
        return; /* root's job has root's capabilities anyway */
    struct { uint32_t version; int pid; } hdr = {0x20080522 /* v3 */, 0};
    uint32_t data[6] = {0};
    sys5(NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    sys2(NR_capset, &hdr, data);
}
