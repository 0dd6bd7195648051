/*
 * restore_hosted.c — the shim that runs the restorer's image reader in a
 * hosted program (see restore_hosted.h).
 *
 * ident.c and memory.c are compiled here, by #include, rather than on
 * their own: they keep their state in file-scope statics (the task record,
 * the pending signals, the special mappings found), which a process that
 * runs the reader once per input must reset, and which only code in the
 * same translation unit can reach. Their text is not changed. They come
 * first, before any system header: they define PROT_READ, O_CLOEXEC and
 * friends themselves, as a freestanding program must.
 */
#include "../../restore/ident.c"
#include "../../restore/memory.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "restore_hosted.h"

static struct rh_result *cur_res; /* where r_say reports, during a run */
static jmp_buf exit_jmp;          /* where r_exit returns to */
static int exit_armed;
static int memfd = -1;            /* rh_run's copy of the input */
static int loaded;                /* r_load_image ran: img.fd is its open */

void r_say(const char *first, ...)
{
    char buf[sizeof cur_res->said];
    size_t n = 0;
    const char *prefix = "cairn-restore: ";
    va_list ap;
    va_start(ap, first);
    for (const char *s = prefix; s; s = s == prefix ? first : va_arg(ap, const char *))
        for (const char *c = s; *c && n + 1 < sizeof buf; c++)
            buf[n++] = *c;
    va_end(ap);
    buf[n] = 0;
    if (cur_res && cur_res->nsaid++ == 0)
        memcpy(cur_res->said, buf, n + 1);
    const char *v = getenv("CAIRN_FUZZ_VERBOSE");
    if (v && *v && strcmp(v, "0") != 0)
        fprintf(stderr, "%s\n", buf);
}

void r_exit(int status)
{
    if (!exit_armed || !cur_res)
        abort(); /* the restorer would end here: outside a run, a harness bug */
    exit_armed = 0;
    cur_res->exit_status = status;
    longjmp(exit_jmp, 1);
}

void r_fail(const char *what, long err)
{
    char a[24];
    r_say("restore failed: ", what, " (errno ", r_dec(a, (uint64_t)-err), ")", (char *)0);
    r_exit(125);
}

/* Zeroes [p, p + n) as a fresh .bss is. img is 3 MB, of which an input
   touches a few pages: its whole pages go back to the kernel (private
   anonymous memory reads as zeros afterwards, and only touched pages cost
   anything), its edges are cleared with memset. */
static void zero(void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p, end = a + n, lo = (a + 4095) & ~(uintptr_t)4095,
              hi = end & ~(uintptr_t)4095;
    if (hi <= lo || syscall(SYS_madvise, lo, hi - lo, 4 /* MADV_DONTNEED */) != 0 ||
        *(volatile char *)lo || *(volatile char *)(hi - 1)) {
        memset(p, 0, n);
        return;
    }
    memset(p, 0, lo - a);
    memset((void *)hi, 0, end - hi);
}

void rh_reset(void)
{
    if (loaded && img.fd >= 0)
        close(img.fd);
    loaded = 0;
    if (memfd >= 0)
        close(memfd);
    memfd = -1;
    /* What the restorer finds in its .bss when it starts. */
    zero(&img, sizeof img);
    memset(&task, 0, sizeof task);
    memset(sigq, 0, sizeof sigq);
    have_task = 0;
    memset(cur, 0, sizeof cur);
    ncur = 0;
}

/* The restorer's sequence (restore.c restore_main), up to what changes
   the process. */
static void run_reader(const char *path, unsigned flags, struct rh_result *res)
{
    loaded = 1;
    /* cairn run hands the restorer the image open; it never opens a path */
    int fd = (int)syscall(SYS_open, path, 0 /* O_RDONLY */, 0);
    res->load = fd < 0 ? -1 : r_load_image(fd, path);
    if (res->load == 0 && (flags & RH_LAYOUT))
        res->layout = r_check_layout();
    if (res->load == 0 && (flags & RH_IDENT))
        r_ident_load();
}

int rh_run_path(const char *path, unsigned flags, struct rh_result *res)
{
    rh_reset();
    memset(res, 0, sizeof *res);
    res->layout = 1;
    res->exit_status = -1;
    cur_res = res;
    if (setjmp(exit_jmp) == 0) {
        exit_armed = 1;
        run_reader(path, flags, res);
    }
    exit_armed = 0;
    cur_res = NULL;
    return res->load;
}

int rh_run(const void *data, size_t size, unsigned flags, struct rh_result *res)
{
    rh_reset();
    int fd = (int)syscall(SYS_memfd_create, "cairn-restore-hosted", 1u /* MFD_CLOEXEC */);
    if (fd < 0)
        return -3;
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, (const char *)data + done, size - done);
        if (n <= 0) {
            close(fd);
            return -3;
        }
        done += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    rh_run_path(path, flags, res);
    memfd = fd; /* after rh_run_path's reset; closed by the next one */
    return res->load;
}

const struct cairn_proc_task *rh_task(int *have)
{
    *have = have_task;
    return &task;
}

const struct cairn_proc_siginfo *rh_sigq(void)
{
    return sigq;
}
