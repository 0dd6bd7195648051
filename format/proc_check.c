/* SPDX-License-Identifier: MIT */
/*
 * proc_check.c — decodes and validates the records of a process image
 * before anything trusts them (see proc_check.h for why).
 *
 * Every message names the section ("section 2 (maps): ...") and the record
 * (mapping index and address range, fd number), so that `cairn run`,
 * `cairn verify` and `cairn inspect` say exactly what is wrong.
 */
#define _GNU_SOURCE
#include "proc_check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_format.h"

#define PAGE 4096ull
/* The kernel's struct ucontext up to the end of uc_sigmask: what
   rt_sigreturn reads at the frame address before the xsave area. */
#define UCONTEXT_MIN 304u
#define AT_NULL_ 0u

const char *proc_map_kind_name(uint32_t kind)
{
    static const char *const names[] = {"anon", "file", "stack", "special", "shared", "sysv"};
    return kind < 6 ? names[kind] : "unknown";
}

const char *proc_fd_kind_name(uint32_t kind)
{
    static const char *const names[] = {"file", "dup", "inherit", "device", "pipe", "epoll",
                                        "eventfd", "timerfd", "signalfd", "unix"};
    return kind < 10 ? names[kind] : kind == CAIRN_FD_MQUEUE ? "mqueue" : "unknown";
}

static const char *sec_name(unsigned type)
{
    switch (type) {
    case CAIRN_SEC_PROC_CORE:
        return "core";
    case CAIRN_SEC_PROC_MAPS:
        return "maps";
    case CAIRN_SEC_PROC_FILES:
        return "files";
    case CAIRN_SEC_PROC_MEM:
        return "memory";
#ifdef CAIRN_SEC_PROC_SIGQ
    case CAIRN_SEC_PROC_TASK:
        return "task";
    case CAIRN_SEC_PROC_SIGQ:
        return "signal queue";
#endif
    case CAIRN_SEC_PROC_FILEID:
        return "file ids";
    case CAIRN_SEC_PROC_BASE:
        return "parent's pages";
    case CAIRN_SEC_PROC_PARENT:
        return "parent";
    case CAIRN_SEC_PROC_TRACK:
        return "tracking";
    case CAIRN_SEC_PROC_MAPNOTE:
        return "mapped-memory note";
    case CAIRN_SEC_PROC_CPU:
        return "cpu";
    case CAIRN_SEC_PROC_JOB:
        return "job";
    case CAIRN_SEC_PROC_THREADS:
        return "threads";
    case CAIRN_SEC_PROC_TSIGQ:
        return "thread signals";
    case CAIRN_SEC_PROC_TIMERS:
        return "timers";
    case CAIRN_SEC_PROC_EXTENTS:
        return "page list";
    default:
        return cairn_section_type_name(type); /* "process", or another type's */
    }
}

/* "section I (name): message" into why; returns CAIRN_ECORRUPT. */
static int bad(char *why, size_t len, int sec, unsigned type, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int bad(char *why, size_t len, int sec, unsigned type, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!why || !len)
        return CAIRN_ECORRUPT;
    if (sec < 0)
        snprintf(why, len, "process image: no %s section: %s", sec_name(type), msg);
    else
        snprintf(why, len, "process image: section %d (%s): %s", sec, sec_name(type), msg);
    return CAIRN_ECORRUPT;
}

/* Index of the one section of this type, -1 if none, -2 if several. */
int proc_only_section(cairn_image_t *img, unsigned type)
{
    int found = -1;
    for (unsigned i = 0; i < cairn_image_info(img)->section_count; i++)
        if (cairn_image_section(img, i)->type == type) {
            if (found >= 0)
                return -2;
            found = (int)i;
        }
    return found;
}

/* Finds and reads one record section of n records of `size` bytes each. */
static int load_records(cairn_image_t *img, unsigned type, size_t size, uint64_t max,
                        void **out, uint64_t *n, char *why, size_t len)
{
    int idx = proc_only_section(img, type);
    if (idx == -1)
        return bad(why, len, -1, type, "every process image has one");
    if (idx == -2)
        return bad(why, len, proc_only_section(img, type), type, "more than one section of this type");
    const cairn_section_info_t *s = cairn_image_section(img, (unsigned)idx);
    if (s->raw_size % size != 0 || s->raw_size / size > max)
        return bad(why, len, idx, type, "%" PRIu64 " bytes: not a whole number of %zu-byte "
                   "records, at most %" PRIu64, s->raw_size, size, max);
    *n = s->raw_size / size;
    *out = malloc(s->raw_size ? (size_t)s->raw_size : 1);
    if (!*out)
        return bad(why, len, idx, type, "out of memory");
    int rc = cairn_image_read(img, (unsigned)idx, *out, (size_t)s->raw_size);
    if (rc < 0)
        bad(why, len, idx, type, "%s", cairn_image_error(img));
    return rc;
}

int proc_load(cairn_image_t *img, struct proc_records *p, char *why, size_t len)
{
    memset(p, 0, sizeof *p);
    void *core = NULL;
    uint64_t ncore = 0;
    int rc = load_records(img, CAIRN_SEC_PROC_CORE, sizeof p->core, 1, &core, &ncore, why, len);
    if (rc == 0 && ncore != 1)
        rc = bad(why, len, proc_only_section(img, CAIRN_SEC_PROC_CORE), CAIRN_SEC_PROC_CORE,
                 "empty; the core record is %zu bytes", sizeof p->core);
    if (rc == 0)
        memcpy(&p->core, core, sizeof p->core);
    free(core);
    if (rc == 0)
        rc = load_records(img, CAIRN_SEC_PROC_MAPS, sizeof *p->maps, CAIRN_PROC_MAX_MAPS,
                          (void **)&p->maps, &p->nmaps, why, len);
    if (rc == 0)
        rc = load_records(img, CAIRN_SEC_PROC_FILES, sizeof *p->files, CAIRN_PROC_MAX_FILES,
                          (void **)&p->files, &p->nfiles, why, len);
    if (rc == 0 && proc_only_section(img, CAIRN_SEC_PROC_THREADS) != -1)
        rc = load_records(img, CAIRN_SEC_PROC_THREADS, sizeof *p->threads,
                          CAIRN_PROC_MAX_THREADS, (void **)&p->threads, &p->nthreads, why, len);
    int i = proc_only_section(img, CAIRN_SEC_PROC_PARENT);
    if (rc == 0 && i >= 0 && cairn_image_section(img, (unsigned)i)->raw_size == sizeof p->parent &&
        cairn_image_read(img, (unsigned)i, &p->parent, sizeof p->parent) == 0)
        p->has_parent = 1;
    return rc;
}

void proc_release(struct proc_records *p)
{
    free(p->maps);
    free(p->files);
    free(p->threads);
    p->maps = NULL;
    p->files = NULL;
    p->threads = NULL;
}

static int terminated(const char *s, size_t cap)
{
    return memchr(s, 0, cap) != NULL;
}

/* The index of the saved mapping holding [addr, addr + size), or -1. */
static long saved_map_at(const struct proc_records *p, uint64_t addr, uint64_t size,
                         uint32_t prot)
{
    for (uint64_t i = 0; i < p->nmaps; i++) {
        const struct cairn_proc_map *m = &p->maps[i];
        if (addr >= m->start && addr < m->end && size <= m->end - addr &&
            (m->flags & CAIRN_MAPF_DATA) && (m->prot & prot) == prot)
            return (long)i;
    }
    return -1;
}

static int check_core(cairn_image_t *img, const struct proc_records *p, char *why, size_t len)
{
    const struct cairn_proc_core *c = &p->core;
    int sec = proc_only_section(img, CAIRN_SEC_PROC_CORE);
    unsigned t = CAIRN_SEC_PROC_CORE;
    if (c->magic != CAIRN_PROC_MAGIC || c->version != CAIRN_PROC_VERSION)
        return bad(why, len, sec, t, "magic 0x%x version %u: not a core record this cairn "
                   "reads (version %u)", c->magic, c->version, CAIRN_PROC_VERSION);
    if (c->arch != CAIRN_PROC_ARCH_X86_64)
        return bad(why, len, sec, t, "architecture %u: this cairn restores x86_64 (62) only",
                   c->arch);
    if (c->nthreads == 0 || c->nthreads > CAIRN_PROC_MAX_THREADS)
        return bad(why, len, sec, t, "%u threads: 1 to %u", c->nthreads, CAIRN_PROC_MAX_THREADS);
    if (c->nmaps != p->nmaps || c->nfiles != p->nfiles)
        return bad(why, len, sec, t, "says %" PRIu64 " mappings and %" PRIu64 " files; the "
                   "maps and files sections hold %" PRIu64 " and %" PRIu64, c->nmaps,
                   c->nfiles, p->nmaps, p->nfiles);
    if (c->auxv_words > CAIRN_PROC_AUXV_WORDS || c->auxv_words % 2 ||
        (c->auxv_words && c->auxv[c->auxv_words - 2] != AT_NULL_))
        return bad(why, len, sec, t, "auxv of %" PRIu64 " words: at most %u, in pairs, "
                   "ending with AT_NULL", c->auxv_words, CAIRN_PROC_AUXV_WORDS);
    if (c->start_code > c->end_code || c->start_data > c->end_data ||
        c->start_brk > c->brk || c->arg_start > c->arg_end || c->env_start > c->env_end ||
        c->brk > CAIRN_PROC_TASK_TOP || c->end_code > CAIRN_PROC_TASK_TOP ||
        c->end_data > CAIRN_PROC_TASK_TOP || c->arg_end > CAIRN_PROC_TASK_TOP ||
        c->env_end > CAIRN_PROC_TASK_TOP || c->start_stack > CAIRN_PROC_TASK_TOP)
        return bad(why, len, sec, t, "mm fields (code, data, brk, stack, arg, env) out of "
                   "order or outside the user address space");
    if (c->umask > 0777)
        return bad(why, len, sec, t, "umask %#" PRIo64 " is not a umask", c->umask);
    if (c->control_fd < 3 || c->control_fd >= CAIRN_PROC_MAX_FD)
        return bad(why, len, sec, t, "control channel fd %" PRIu64 ": not in 3..%u",
                   c->control_fd, CAIRN_PROC_MAX_FD - 1);
    if (!terminated(c->cwd, sizeof c->cwd) || (c->cwd[0] && c->cwd[0] != '/'))
        return bad(why, len, sec, t, "cwd is not an absolute, NUL-terminated path");
    if (c->frame_uc % 8 || saved_map_at(p, c->frame_uc, UCONTEXT_MIN, 3) < 0)
        return bad(why, len, sec, t, "the thread's signal frame at 0x%" PRIx64 " is not in a "
                   "saved writable mapping: the job could not be resumed", c->frame_uc);
    if (c->rseq_addr && (c->rseq_addr % 32 || c->rseq_len != 32 ||
                         saved_map_at(p, c->rseq_addr, 32, 3) < 0))
        return bad(why, len, sec, t, "rseq area 0x%" PRIx64 " (%" PRIu64 " bytes): not 32 "
                   "aligned bytes in a saved writable mapping", c->rseq_addr, c->rseq_len);
    return 0;
}

static int check_map(int sec, const struct cairn_proc_map *m, uint64_t i, uint64_t prev_end,
                     char *why, size_t len)
{
    unsigned t = CAIRN_SEC_PROC_MAPS;
    char what[96];
    snprintf(what, sizeof what, "mapping %" PRIu64 " [0x%" PRIx64 "-0x%" PRIx64 ")", i,
             m->start, m->end);
    if (m->start % PAGE || m->end % PAGE || m->start >= m->end)
        return bad(why, len, sec, t, "%s: not a non-empty range of whole pages", what);
    if (m->start < PAGE || m->end > CAIRN_PROC_TASK_TOP)
        return bad(why, len, sec, t, "%s: outside the user address space", what);
    if (m->start < prev_end)
        return bad(why, len, sec, t, "%s: overlaps the previous mapping or is out of address "
                   "order", what);
    if (m->end > CAIRN_RESERVED_LO && m->start < CAIRN_RESERVED_HI)
        return bad(why, len, sec, t, "%s: inside the window [0x%llx-0x%llx) reserved for "
                   "cairn's restorer", what, CAIRN_RESERVED_LO, CAIRN_RESERVED_HI);
    if (m->prot & ~7u || m->kind > CAIRN_MAP_SYSV ||
        m->flags & ~(CAIRN_MAPF_DATA | CAIRN_MAPF_SPARSE | CAIRN_MAPF_DELTA))
        return bad(why, len, sec, t, "%s: unknown protection 0x%x, kind %u or flags 0x%x",
                   what, m->prot, m->kind, m->flags);
    if ((m->flags & CAIRN_MAPF_SPARSE) &&
        (!(m->flags & CAIRN_MAPF_DATA) || (m->kind != CAIRN_MAP_ANON && m->kind != CAIRN_MAP_STACK)))
        return bad(why, len, sec, t, "%s: only an anonymous mapping with saved bytes can be "
                   "sparse", what);
    if ((m->flags & CAIRN_MAPF_DELTA) && !(m->flags & CAIRN_MAPF_SPARSE))
        return bad(why, len, sec, t, "%s: only a sparse mapping can be a delta", what);
    /* the field is a shared mapping's shm record (proc_tree_check.c) */
    if (!(m->flags & CAIRN_MAPF_DELTA) && m->kind != CAIRN_MAP_SHARED && m->parent_index)
        return bad(why, len, sec, t, "%s: a parent index %u but not a delta", what,
                   m->parent_index);
    if (m->kind == CAIRN_MAP_SPECIAL && (m->flags & CAIRN_MAPF_DATA))
        return bad(why, len, sec, t, "%s: a special mapping (vDSO) never has saved bytes", what);
    if (m->kind == CAIRN_MAP_SYSV && (m->flags & CAIRN_MAPF_DATA))
        return bad(why, len, sec, t, "%s: a SysV attach's bytes are its segment's (0x114)",
                   what);
    if (!terminated(m->name, sizeof m->name))
        return bad(why, len, sec, t, "%s: name not NUL-terminated", what);
    return 0;
}

static int check_maps(cairn_image_t *img, const struct proc_records *p, char *why, size_t len)
{
    int sec = proc_only_section(img, CAIRN_SEC_PROC_MAPS);
    uint64_t prev_end = 0, special = 0, stacks = 0;
    for (uint64_t i = 0; i < p->nmaps; i++) {
        const struct cairn_proc_map *m = &p->maps[i];
        int rc = check_map(sec, m, i, prev_end, why, len);
        if (rc < 0)
            return rc;
        /* A piece of a SysV attach after the first continues it exactly. */
        const struct cairn_proc_map *b = i ? &p->maps[i - 1] : NULL;
        if (m->kind == CAIRN_MAP_SYSV && m->offset &&
            (!b || b->kind != CAIRN_MAP_SYSV || b->reserved != m->reserved || b->end != m->start ||
             b->offset + (b->end - b->start) != m->offset))
            return bad(why, len, sec, CAIRN_SEC_PROC_MAPS, "mapping %" PRIu64 ": a piece of "
                       "SysV segment %u that does not continue the one before", i, m->reserved);
        prev_end = m->end;
        special += m->kind == CAIRN_MAP_SPECIAL;
        stacks += m->kind == CAIRN_MAP_STACK;
    }
    if (special > CAIRN_PROC_MAX_SPECIAL || stacks > 1)
        return bad(why, len, sec, CAIRN_SEC_PROC_MAPS, "%" PRIu64 " special mappings (at "
                   "most %u) and %" PRIu64 " [stack] mappings (at most 1)", special,
                   CAIRN_PROC_MAX_SPECIAL, stacks);
    return 0;
}

/* Memory sections: after the records, one per saved mapping, of its size. */
static int check_memory(cairn_image_t *img, const struct proc_records *p, char *why, size_t len)
{
    unsigned n = cairn_image_info(img)->section_count;
    int last_record = proc_only_section(img, CAIRN_SEC_PROC_FILES);
    int core = proc_only_section(img, CAIRN_SEC_PROC_CORE), maps = proc_only_section(img, CAIRN_SEC_PROC_MAPS);
    if (!(core < maps && maps < last_record))
        return bad(why, len, core, CAIRN_SEC_PROC_CORE, "core, maps and files sections out of "
                   "order (core %d, maps %d, files %d)", core, maps, last_record);
    unsigned char *seen = calloc(p->nmaps ? p->nmaps : 1, 1);
    if (!seen)
        return bad(why, len, -1, CAIRN_SEC_PROC_MEM, "out of memory");
    int rc = 0;
    for (unsigned i = 0; i < n && rc == 0; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        /* Any section but memory: the restorer's walk refuses every
           compressed one (restore/image.c), even of a type it does not
           read; cairn run expands compressed memory for it (cli/image_pack.c). */
        if (s->codec != CAIRN_CODEC_NONE &&
            (s->codec != CAIRN_CODEC_ZSTD || s->type != CAIRN_SEC_PROC_MEM))
            rc = bad(why, len, (int)i, s->type, "compressed (%s): only memory sections may "
                     "be", cairn_codec_name(s->codec));
        else if (s->type != CAIRN_SEC_PROC_MEM) /* records: checked on their own */
            continue;
        else if ((int)i < last_record)
            rc = bad(why, len, (int)i, s->type, "comes before the files section");
        else if (s->arg >= p->nmaps || !(p->maps[s->arg].flags & CAIRN_MAPF_DATA))
            rc = bad(why, len, (int)i, s->type, "for mapping %" PRIu64 ", which has no saved "
                     "bytes (%" PRIu64 " mappings)", s->arg, p->nmaps);
        else if (seen[s->arg]++)
            rc = bad(why, len, (int)i, s->type, "a second memory section for mapping %" PRIu64,
                     s->arg);
        else if ((p->maps[s->arg].flags & CAIRN_MAPF_SPARSE)
                     ? s->raw_size % PAGE || s->raw_size > p->maps[s->arg].end - p->maps[s->arg].start
                     : s->raw_size != p->maps[s->arg].end - p->maps[s->arg].start)
            rc = bad(why, len, (int)i, s->type, "%" PRIu64 " bytes for mapping %" PRIu64
                     " of %" PRIu64 " bytes", s->raw_size, s->arg,
                     p->maps[s->arg].end - p->maps[s->arg].start);
    }
    for (uint64_t m = 0; m < p->nmaps && rc == 0; m++)
        if ((p->maps[m].flags & CAIRN_MAPF_DATA) && !seen[m])
            rc = bad(why, len, -1, CAIRN_SEC_PROC_MEM, "mapping %" PRIu64 " [0x%" PRIx64
                     "-0x%" PRIx64 ") is saved, but its bytes are missing", m,
                     p->maps[m].start, p->maps[m].end);
    free(seen);
    return rc;
}

/* The optional job identity: one record, its strings terminated. */
static int check_job(cairn_image_t *img, char *why, size_t len)
{
    int i = proc_only_section(img, CAIRN_SEC_PROC_JOB);
    if (i == -2)
        return bad(why, len, -1, CAIRN_SEC_PROC_JOB, "more than one job section");
    if (i < 0)
        return 0;
    static struct cairn_proc_job j;
    if (cairn_image_section(img, (unsigned)i)->raw_size != sizeof j)
        return bad(why, len, i, CAIRN_SEC_PROC_JOB, "not a job record of this version");
    int rc = cairn_image_read(img, (unsigned)i, &j, sizeof j);
    if (rc < 0) {
        bad(why, len, i, CAIRN_SEC_PROC_JOB, "%s", cairn_image_error(img));
        return rc;
    }
    if (j.argv_len > sizeof j.argv || (j.argv_len && j.argv[j.argv_len - 1]) ||
        !terminated(j.exe, sizeof j.exe) || !terminated(j.script, sizeof j.script))
        return bad(why, len, i, CAIRN_SEC_PROC_JOB, "command line or paths not terminated");
    return 0;
}

/* The optional file ids: at most one section, one record per file. */
static int check_fileids(cairn_image_t *img, const struct proc_records *p, char *why,
                         size_t len)
{
    int i = proc_only_section(img, CAIRN_SEC_PROC_FILEID);
    if (i == -2)
        return bad(why, len, -1, CAIRN_SEC_PROC_FILEID, "more than one file-id section");
    if (i < 0)
        return 0;
    uint64_t raw = cairn_image_section(img, (unsigned)i)->raw_size;
    if (raw != p->nfiles * sizeof(struct cairn_proc_fileid))
        return bad(why, len, i, CAIRN_SEC_PROC_FILEID, "%" PRIu64 " bytes for %" PRIu64
                   " files", raw, p->nfiles);
    /* Read through its checksum, as the restorer reads it. */
    static struct cairn_proc_fileid ids[CAIRN_PROC_MAX_FILES];
    int rc = raw ? cairn_image_read(img, (unsigned)i, ids, (size_t)raw) : 0;
    if (rc < 0) {
        bad(why, len, i, CAIRN_SEC_PROC_FILEID, "%s", cairn_image_error(img));
        return rc;
    }
    return 0;
}

#ifdef CAIRN_SEC_PROC_SIGQ
/* The optional task record and pending-signal queue: sizes within the
   restorer's tables and consistent with each other. */
static int check_task(cairn_image_t *img, char *why, size_t len)
{
    int ti = proc_only_section(img, CAIRN_SEC_PROC_TASK), qi = proc_only_section(img, CAIRN_SEC_PROC_SIGQ);
    if (ti == -2 || qi == -2)
        return bad(why, len, -1, CAIRN_SEC_PROC_TASK, "more than one task or signal-queue "
                   "section");
    if (ti < 0 && qi < 0)
        return 0;
    if (ti < 0)
        return bad(why, len, qi, CAIRN_SEC_PROC_SIGQ, "pending signals without a task record");
    const cairn_section_info_t *t = cairn_image_section(img, (unsigned)ti);
    struct cairn_proc_task task;
    if (t->raw_size != sizeof task)
        return bad(why, len, ti, t->type, "%" PRIu64 " bytes; the task record is %zu",
                   t->raw_size, sizeof task);
    int rc = cairn_image_read(img, (unsigned)ti, &task, sizeof task);
    if (rc < 0) {
        bad(why, len, ti, t->type, "%s", cairn_image_error(img));
        return rc;
    }
    uint64_t nq = 0;
    if (qi >= 0) {
        uint64_t raw = cairn_image_section(img, (unsigned)qi)->raw_size;
        if (raw % sizeof(struct cairn_proc_siginfo))
            return bad(why, len, qi, CAIRN_SEC_PROC_SIGQ, "%" PRIu64 " bytes: not whole "
                       "signal records", raw);
        nq = raw / sizeof(struct cairn_proc_siginfo);
    }
    if (task.nsigq != nq || nq > CAIRN_PROC_MAX_SIGQ)
        return bad(why, len, ti, t->type, "%" PRIu64 " pending signals, the queue section holds "
                   "%" PRIu64 " (at most %u)", task.nsigq, nq, CAIRN_PROC_MAX_SIGQ);
    if (qi >= 0 && nq > 0) { /* through its checksum, as the restorer reads it */
        static struct cairn_proc_siginfo q[CAIRN_PROC_MAX_SIGQ];
        rc = cairn_image_read(img, (unsigned)qi, q, nq * sizeof q[0]);
        if (rc < 0) {
            bad(why, len, qi, CAIRN_SEC_PROC_SIGQ, "%s", cairn_image_error(img));
            return rc;
        }
    }
    if (!terminated(task.exe, sizeof task.exe))
        return bad(why, len, ti, t->type, "exe path not NUL-terminated");
    return 0;
}
#else
static int check_task(cairn_image_t *img, char *why, size_t len)
{
    (void)img, (void)why, (void)len;
    return 0;
}
#endif

static int is_plain_device(const char *path)
{
    return !strcmp(path, "/dev/null") || !strcmp(path, "/dev/zero") ||
           !strcmp(path, "/dev/urandom") || !strcmp(path, "/dev/random");
}

/* The file record for fd, or NULL. */
static const struct cairn_proc_file *file_of(const struct proc_records *p, int32_t fd)
{
    for (uint64_t i = 0; i < p->nfiles; i++)
        if (p->files[i].fd == fd)
            return &p->files[i];
    return NULL;
}

static int check_file(int sec, const struct proc_records *p, const struct cairn_proc_file *f,
                      char *why, size_t len)
{
    unsigned t = CAIRN_SEC_PROC_FILES;
    if (f->fd < 0 || (uint32_t)f->fd >= CAIRN_PROC_MAX_FD ||
        (uint64_t)f->fd == p->core.control_fd)
        return bad(why, len, sec, t, "fd %d: not a descriptor number the job can have "
                   "(0..%u, not the control channel %" PRIu64 ")", f->fd,
                   CAIRN_PROC_MAX_FD - 1, p->core.control_fd);
    if (file_of(p, f->fd) != f)
        return bad(why, len, sec, t, "fd %d: listed twice", f->fd);
    if ((f->kind > CAIRN_FD_UNIX && f->kind != CAIRN_FD_MQUEUE) ||
        f->flags & ~CAIRN_FILEF_APPENDING)
        return bad(why, len, sec, t, "fd %d: unknown kind %u or flags 0x%x", f->fd, f->kind,
                   f->flags);
    if (!terminated(f->path, sizeof f->path))
        return bad(why, len, sec, t, "fd %d: path not NUL-terminated", f->fd);
    if ((f->kind == CAIRN_FD_FILE || f->kind == CAIRN_FD_DEVICE) && f->path[0] != '/')
        return bad(why, len, sec, t, "fd %d: path '%.200s' is not absolute", f->fd, f->path);
    if (f->kind == CAIRN_FD_DEVICE && !is_plain_device(f->path))
        return bad(why, len, sec, t, "fd %d: device %.200s is not one cairn reopens "
                   "(/dev/null, /dev/zero, /dev/random, /dev/urandom)", f->fd, f->path);
    if (f->kind == CAIRN_FD_INHERIT && (f->fd > 2 || f->dup_of > 2))
        return bad(why, len, sec, t, "fd %d: only fds 0-2 are inherited from cairn", f->fd);
    if (f->kind == CAIRN_FD_PIPE && (f->open_flags & 3) != 0 && (f->open_flags & 3) != 1)
        return bad(why, len, sec, t, "fd %d: a pipe end neither read nor write", f->fd);
    if (f->kind == CAIRN_FD_MQUEUE && (!proc_mq_name(f->path) || (f->open_flags & 3) == 3 ||
                                       f->open_flags & ~(3u | 04000u)))
        return bad(why, len, sec, t, "fd %d: a message queue's name '%.200s' or flags 0%o",
                   f->fd, f->path, f->open_flags);
    if (f->kind == CAIRN_FD_DUP) {
        const struct cairn_proc_file *g = file_of(p, f->dup_of);
        if (!g || g->kind == CAIRN_FD_DUP || g == f)
            return bad(why, len, sec, t, "fd %d: a duplicate of fd %d, which is not a file "
                       "the image reopens", f->fd, f->dup_of);
    }
    return 0;
}

static int check_files(cairn_image_t *img, const struct proc_records *p, char *why, size_t len)
{
    int sec = proc_only_section(img, CAIRN_SEC_PROC_FILES);
    for (uint64_t i = 0; i < p->nfiles; i++) {
        int rc = check_file(sec, p, &p->files[i], why, len);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* One thread record: a signal frame and rseq area the restore can use. */
static int check_thread(int sec, const struct proc_records *p, const struct cairn_proc_thread *t,
                        uint64_t i, char *why, size_t len)
{
    unsigned ty = CAIRN_SEC_PROC_THREADS;
    if (t->tid == 0 || t->tid >= 4194304u || t->affinity_words > CAIRN_PROC_AFFINITY_WORDS ||
        !terminated(t->comm, sizeof t->comm) || t->fs_base >= CAIRN_PROC_TASK_TOP ||
        t->gs_base >= CAIRN_PROC_TASK_TOP || t->policy > 7 || t->nice < -20 || t->nice > 19 ||
        t->rt_priority > 99)
        return bad(why, len, sec, ty, "thread %" PRIu64 ": tid %" PRIu64 ", affinity, name, "
                   "FS/GS base or scheduling out of range", i, t->tid);
    if (t->frame_uc % 8 || saved_map_at(p, t->frame_uc, UCONTEXT_MIN, 3) < 0)
        return bad(why, len, sec, ty, "thread %" PRIu64 " (tid %" PRIu64 "): its signal frame "
                   "at 0x%" PRIx64 " is not in a saved writable mapping", i, t->tid, t->frame_uc);
    if (t->rseq_addr && (t->rseq_addr % 32 || t->rseq_len != 32 ||
                         saved_map_at(p, t->rseq_addr, 32, 3) < 0))
        return bad(why, len, sec, ty, "thread %" PRIu64 " (tid %" PRIu64 "): rseq area 0x%"
                   PRIx64 " not 32 aligned bytes in a saved writable mapping", i, t->tid,
                   t->rseq_addr);
    return 0;
}

/* Pending signals of the other threads: each for a thread of the image. */
static int check_tsigq(cairn_image_t *img, const struct cairn_proc_thread *t, uint64_t n,
                       char *why, size_t len)
{
    int qi = proc_only_section(img, CAIRN_SEC_PROC_TSIGQ);
    if (qi == -2 || (qi >= 0 && n < 2))
        return bad(why, len, qi, CAIRN_SEC_PROC_TSIGQ, "more than one, or without threads");
    if (qi < 0)
        return 0;
    uint64_t raw = cairn_image_section(img, (unsigned)qi)->raw_size;
    static struct cairn_proc_tsig q[CAIRN_PROC_MAX_TSIGQ];
    if (raw % sizeof q[0] || raw > sizeof q)
        return bad(why, len, qi, CAIRN_SEC_PROC_TSIGQ, "%" PRIu64 " bytes: not whole records, "
                   "at most %u", raw, CAIRN_PROC_MAX_TSIGQ);
    int rc = raw ? cairn_image_read(img, (unsigned)qi, q, (size_t)raw) : 0;
    if (rc < 0) {
        bad(why, len, qi, CAIRN_SEC_PROC_TSIGQ, "%s", cairn_image_error(img));
        return rc;
    }
    for (uint64_t i = 0; i < raw / sizeof q[0]; i++) {
        uint64_t k = 1;
        while (k < n && t[k].tid != q[i].tid)
            k++;
        if (k == n || q[i].signo > CAIRN_PROC_NSIG)
            return bad(why, len, qi, CAIRN_SEC_PROC_TSIGQ, "record %" PRIu64 ": signal %u for "
                       "tid %u, not another thread of the image", i, q[i].signo, q[i].tid);
    }
    return 0;
}

/* The threads section: present exactly when there is more than one
   thread, the main thread first and agreeing with the core record. */
static int check_threads(cairn_image_t *img, const struct proc_records *p, char *why,
                         size_t len)
{
    int sec = proc_only_section(img, CAIRN_SEC_PROC_THREADS);
    uint64_t n = p->core.nthreads;
    unsigned ty = CAIRN_SEC_PROC_THREADS;
    if (sec == -2 || (sec >= 0) != (n > 1))
        return bad(why, len, sec, ty, "the core record says %" PRIu64 " threads", n);
    if (sec < 0)
        return check_tsigq(img, NULL, n, why, len);
    const struct cairn_proc_thread *t = p->threads;
    if (p->nthreads != n)
        return bad(why, len, sec, ty, "%" PRIu64 " thread records for %" PRIu64 " threads",
                   p->nthreads, n);
    int rc;
    if (t[0].frame_uc != p->core.frame_uc || t[0].fs_base != p->core.fs_base)
        return bad(why, len, sec, ty, "the first record is not the core record's main thread");
    /* The restorer restores threads only at their tids, in cairn run's pid
       namespace, where it runs at the task record's pid (cli/run_ns.c
       image_pid) and checks that the first thread is that pid
       (restore/threads.c). check_task ran: a task record is whole. */
    int ti = proc_only_section(img, CAIRN_SEC_PROC_TASK);
    struct cairn_proc_task task;
    if (ti < 0 || cairn_image_read(img, (unsigned)ti, &task, sizeof task) < 0)
        return bad(why, len, sec, ty, "threads without a task record: the restorer needs the "
                   "job's pid");
    if (task.pid <= 1 || task.pid >= 4194304u || t[0].tid != task.pid)
        return bad(why, len, sec, ty, "the first thread (tid %" PRIu64 ") is not the task "
                   "record's pid %" PRIu64 " (2 to 4194303)", t[0].tid, task.pid);
    for (uint64_t i = 0; i < n; i++) {
        if ((rc = check_thread(sec, p, &t[i], i, why, len)) < 0)
            return rc;
        for (uint64_t j = 0; j < i; j++)
            if (t[j].tid == t[i].tid)
                return bad(why, len, sec, ty, "tid %" PRIu64 " twice", t[i].tid);
    }
    return check_tsigq(img, t, n, why, len);
}

#define SIGEV_NONE_ 1u
#define SIGEV_THREAD_ID_ 4u

/* The task record's pid (0: none). */
static uint64_t task_pid(cairn_image_t *img)
{
    int i = proc_only_section(img, CAIRN_SEC_PROC_TASK);
    struct cairn_proc_task task;
    if (i < 0 || cairn_image_section(img, (unsigned)i)->raw_size != sizeof task ||
        cairn_image_read(img, (unsigned)i, &task, sizeof task) < 0)
        return 0;
    return task.pid;
}

/* tid is one of the job's threads (the main thread's is the pid). */
static int is_thread(const struct proc_records *p, uint64_t pid, uint64_t tid)
{
    if (tid != 0 && tid == pid)
        return 1;
    for (uint64_t k = 0; k < p->nthreads; k++)
        if (p->threads[k].tid == tid)
            return 1;
    return 0;
}

/* What the kernel's timer_create takes: SIGEV_SIGNAL, SIGEV_NONE,
   SIGEV_THREAD (a signal to the process), SIGEV_SIGNAL|SIGEV_THREAD_ID. */
static int timer_notify_ok(uint32_t notify)
{
    return notify == 0 || notify == 1 || notify == 2 || notify == 4;
}

/* Clocks a timer can run on: REALTIME, MONOTONIC, the process's and a
   thread's CPU time, BOOTTIME, the two ALARM ones, TAI; or a CPU clock of
   this job (clock_getcpuclockid: ~id << 3, bit 2 for a thread). */
static int timer_clock_ok(const struct proc_records *p, uint64_t pid, int32_t clock)
{
    if (clock >= 0)
        return clock <= 3 || clock == 7 || clock == 8 || clock == 9 || clock == 11;
    if ((clock & 3) == 3)
        return 0;
    uint64_t id = (uint64_t)(uint32_t)~(clock >> 3);
    return (clock & 4) ? is_thread(p, pid, id) : id == pid;
}

/* The POSIX timers: whole records, distinct ids, each one timer_create
   takes again for this job (a failure there comes after the point of no
   return of the restore). */
static int check_timers(cairn_image_t *img, const struct proc_records *p, char *why, size_t len)
{
    int sec = proc_only_section(img, CAIRN_SEC_PROC_TIMERS);
    unsigned ty = CAIRN_SEC_PROC_TIMERS;
    if (sec == -2)
        return bad(why, len, -1, ty, "more than one timers section");
    if (sec < 0)
        return 0;
    static struct cairn_proc_timer t[CAIRN_PROC_MAX_TIMERS];
    uint64_t raw = cairn_image_section(img, (unsigned)sec)->raw_size;
    if (raw % sizeof t[0] || raw > sizeof t)
        return bad(why, len, sec, ty, "%" PRIu64 " bytes: not whole timer records, at most %u",
                   raw, CAIRN_PROC_MAX_TIMERS);
    int rc = raw ? cairn_image_read(img, (unsigned)sec, t, (size_t)raw) : 0;
    if (rc < 0) {
        bad(why, len, sec, ty, "%s", cairn_image_error(img));
        return rc;
    }
    uint64_t pid = task_pid(img);
    for (uint64_t i = 0; i < raw / sizeof t[0]; i++) {
        const struct cairn_proc_timer *x = &t[i];
        int signals = x->notify != SIGEV_NONE_;
        if (x->id < 0 || !timer_notify_ok(x->notify) ||
            (signals && (x->signo == 0 || x->signo > CAIRN_PROC_NSIG)) ||
            ((x->notify & SIGEV_THREAD_ID_) && !is_thread(p, pid, x->tid)))
            return bad(why, len, sec, ty, "timer %" PRIu64 " (id %d): notify %u, signal %u or "
                       "thread %u is not one timer_create takes for this job", i, x->id,
                       x->notify, x->signo, x->tid);
        if (!timer_clock_ok(p, pid, x->clock))
            return bad(why, len, sec, ty, "timer %" PRIu64 " (id %d): clock %d is not one a "
                       "timer of this job can have", i, x->id, x->clock);
        for (uint64_t j = 0; j < i; j++)
            if (t[j].id == t[i].id)
                return bad(why, len, sec, ty, "timer id %d twice", t[i].id);
    }
    return 0;
}

/* The section of type `type` and arg `arg`: its index, -1 none, -2 several. */
static int section_for(cairn_image_t *img, unsigned type, uint64_t arg)
{
    int found = -1;
    for (unsigned i = 0; i < cairn_image_info(img)->section_count; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        if (s->type == type && s->arg == arg) {
            if (found >= 0)
                return -2;
            found = (int)i;
        }
    }
    return found;
}

/* Reads the run list of type ty for mapping m into e (at most
   CAIRN_PROC_MAX_EXTENTS): whole pages, in order, inside the mapping. The
   number of runs and their bytes, or a negative error. */
static long read_runs(cairn_image_t *img, const struct proc_records *p, uint64_t m, unsigned ty,
                      struct cairn_proc_extent *e, uint64_t *total, char *why, size_t len)
{
    int sec = section_for(img, ty, m);
    if (sec < 0)
        return bad(why, len, sec, ty, "mapping %" PRIu64 " needs exactly one of these", m);
    uint64_t raw = cairn_image_section(img, (unsigned)sec)->raw_size;
    if (raw % sizeof e[0] || raw > CAIRN_PROC_MAX_EXTENTS * sizeof e[0])
        return bad(why, len, sec, ty, "%" PRIu64 " bytes: not whole runs, at most %u", raw,
                   CAIRN_PROC_MAX_EXTENTS);
    int rc = raw ? cairn_image_read(img, (unsigned)sec, e, (size_t)raw) : 0;
    if (rc < 0) {
        bad(why, len, sec, ty, "%s", cairn_image_error(img));
        return rc;
    }
    uint64_t size = p->maps[m].end - p->maps[m].start, end = 0;
    *total = 0;
    for (uint64_t k = 0; k < raw / sizeof e[0]; k++) {
        if (e[k].offset % PAGE || e[k].length % PAGE || !e[k].length || e[k].offset < end ||
            e[k].offset > size || e[k].length > size - e[k].offset)
            return bad(why, len, sec, ty, "run %" PRIu64 " [+0x%" PRIx64 ", 0x%" PRIx64 " bytes) "
                       "of mapping %" PRIu64 ": not whole pages in order inside it", k,
                       e[k].offset, e[k].length, m);
        end = e[k].offset + e[k].length;
        *total += e[k].length;
    }
    return (long)(raw / sizeof e[0]);
}

/* 1 if two ordered run lists share a page. */
static int runs_overlap(const struct cairn_proc_extent *a, long na,
                        const struct cairn_proc_extent *b, long nb)
{
    for (long i = 0, j = 0; i < na && j < nb;) {
        if (a[i].offset + a[i].length <= b[j].offset)
            i++;
        else if (b[j].offset + b[j].length <= a[i].offset)
            j++;
        else
            return 1;
    }
    return 0;
}

/* One sparse mapping's page list: whole runs of pages, in order, inside
   the mapping, adding up to its memory section. A delta mapping's list of
   the parent's pages likewise, sharing no page with it. */
static int check_extents_of(cairn_image_t *img, const struct proc_records *p, uint64_t m,
                            char *why, size_t len)
{
    static struct cairn_proc_extent e[CAIRN_PROC_MAX_EXTENTS], b[CAIRN_PROC_MAX_EXTENTS];
    unsigned ty = CAIRN_SEC_PROC_EXTENTS;
    int sec = section_for(img, ty, m), mem = section_for(img, CAIRN_SEC_PROC_MEM, m);
    if (sec < 0 || mem < 0)
        return bad(why, len, sec, ty, "mapping %" PRIu64 " is sparse: it needs exactly one page "
                   "list and one memory section", m);
    uint64_t total = 0, base_total = 0;
    long n = read_runs(img, p, m, ty, e, &total, why, len);
    if (n < 0)
        return (int)n;
    if (p->maps[m].flags & CAIRN_MAPF_DELTA) {
        long nb = read_runs(img, p, m, CAIRN_SEC_PROC_BASE, b, &base_total, why, len);
        if (nb < 0)
            return (int)nb;
        if (runs_overlap(e, n, b, nb))
            return bad(why, len, section_for(img, CAIRN_SEC_PROC_BASE, m), CAIRN_SEC_PROC_BASE,
                       "mapping %" PRIu64 ": a page both saved here and taken from the parent", m);
    }
    if (total != cairn_image_section(img, (unsigned)mem)->raw_size)
        return bad(why, len, sec, ty, "runs of %" PRIu64 " bytes for a memory section of %" PRIu64,
                   total, cairn_image_section(img, (unsigned)mem)->raw_size);
    return 0;
}

/* Page lists exist for the sparse mappings and for nothing else. */
static int check_extents(cairn_image_t *img, const struct proc_records *p, char *why, size_t len)
{
    for (unsigned i = 0; i < cairn_image_info(img)->section_count; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        if (s->type == CAIRN_SEC_PROC_EXTENTS &&
            (s->arg >= p->nmaps || !(p->maps[s->arg].flags & CAIRN_MAPF_SPARSE)))
            return bad(why, len, (int)i, s->type, "a page list for mapping %" PRIu64
                       ", which is not sparse", s->arg);
        if (s->type == CAIRN_SEC_PROC_BASE &&
            (s->arg >= p->nmaps || !(p->maps[s->arg].flags & CAIRN_MAPF_DELTA)))
            return bad(why, len, (int)i, s->type, "a list of the parent's pages for mapping %"
                       PRIu64 ", which is not a delta", s->arg);
    }
    for (uint64_t m = 0; m < p->nmaps; m++) {
        int rc = (p->maps[m].flags & CAIRN_MAPF_SPARSE) ? check_extents_of(img, p, m, why, len) : 0;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The mapped-memory note: a table in a saved writable mapping. */
static int check_mapnote(cairn_image_t *img, const struct proc_records *p, char *why,
                         size_t len)
{
    int i = proc_only_section(img, CAIRN_SEC_PROC_MAPNOTE);
    unsigned ty = CAIRN_SEC_PROC_MAPNOTE;
    if (i == -2)
        return bad(why, len, i, ty, "more than one");
    if (i < 0)
        return 0; /* older images */
    struct cairn_proc_mapnote n;
    if (cairn_image_section(img, (unsigned)i)->raw_size != sizeof n)
        return bad(why, len, i, ty, "not one %zu-byte record", sizeof n);
    int rc = cairn_image_read(img, (unsigned)i, &n, sizeof n);
    if (rc < 0)
        return bad(why, len, i, ty, "%s", cairn_image_error(img)), rc;
    if (n.capacity < 1 || n.capacity > CAIRN_PROC_MAX_MAPSRC || n.table_addr % 8 ||
        saved_map_at(p, n.table_addr, 8 + n.capacity * sizeof(struct cairn_proc_mapsrc), 3) < 0 ||
        n.reserved[0] || n.reserved[1])
        return bad(why, len, i, ty, "a table of %" PRIu64 " at 0x%" PRIx64 ": not an aligned "
                   "table of 1 to %u entries in a saved writable mapping", n.capacity,
                   n.table_addr, CAIRN_PROC_MAX_MAPSRC);
    return 0;
}

/* A delta image's parent record: present exactly when a mapping is a
   delta, naming an older generation. The tracking record: a descriptor
   number and a word in a saved writable mapping for the restorer. */
static int check_chain_records(cairn_image_t *img, const struct proc_records *p, char *why,
                               size_t len)
{
    int deltas = 0;
    for (uint64_t m = 0; m < p->nmaps; m++)
        deltas += (p->maps[m].flags & CAIRN_MAPF_DELTA) != 0;
    int i = proc_only_section(img, CAIRN_SEC_PROC_PARENT);
    unsigned ty = CAIRN_SEC_PROC_PARENT;
    if (i == -2 || (i >= 0) != (deltas > 0))
        return bad(why, len, i, ty, "%s parent records for %d delta mappings",
                   i == -2 ? "several" : i >= 0 ? "a" : "no", deltas);
    if (i >= 0) {
        struct cairn_proc_parent r;
        if (cairn_image_section(img, (unsigned)i)->raw_size != sizeof r)
            return bad(why, len, i, ty, "not one %zu-byte record", sizeof r);
        int rc = cairn_image_read(img, (unsigned)i, &r, sizeof r);
        if (rc < 0)
            return bad(why, len, i, ty, "%s", cairn_image_error(img)), rc;
        uint64_t gen = cairn_image_info(img)->generation;
        if (r.magic != CAIRN_PROC_PARENT_MAGIC || r.version != 1 || r.depth < 1 ||
            r.depth >= CAIRN_PROC_MAX_CHAIN || r.generation >= gen ||
            r.base_generation > r.generation || (r.process && r.process != task_pid(img)) ||
            r.reserved[0] || r.reserved[1])
            return bad(why, len, i, ty, "parent generation %" PRIu64 " (depth %u, base %" PRIu64
                       ") of generation %" PRIu64 ": not a parent record of this version",
                       r.generation, r.depth, r.base_generation, gen);
    }
    i = proc_only_section(img, CAIRN_SEC_PROC_TRACK);
    ty = CAIRN_SEC_PROC_TRACK;
    if (i == -2)
        return bad(why, len, i, ty, "more than one");
    if (i >= 0) {
        struct cairn_proc_track t;
        if (cairn_image_section(img, (unsigned)i)->raw_size != sizeof t)
            return bad(why, len, i, ty, "not one %zu-byte record", sizeof t);
        int rc = cairn_image_read(img, (unsigned)i, &t, sizeof t);
        if (rc < 0)
            return bad(why, len, i, ty, "%s", cairn_image_error(img)), rc;
        if (t.uffd_fd >= CAIRN_PROC_MAX_FD || t.flag_addr % 8 ||
            saved_map_at(p, t.flag_addr, 8, 3) < 0 || t.reserved[0] || t.reserved[1])
            return bad(why, len, i, ty, "descriptor %" PRIu64 ", word at 0x%" PRIx64 ": not a "
                       "descriptor number and an aligned word in a saved writable mapping",
                       t.uffd_fd, t.flag_addr);
    }
    return check_mapnote(img, p, why, len);
}

int proc_check_delta(const struct proc_records *c, const struct proc_records *p, char *why,
                     size_t len)
{
    for (uint64_t i = 0; i < c->nmaps; i++) {
        const struct cairn_proc_map *m = &c->maps[i];
        if (!(m->flags & CAIRN_MAPF_DELTA))
            continue;
        const struct cairn_proc_map *q = m->parent_index < p->nmaps ? &p->maps[m->parent_index] : NULL;
        if (!q || q->start > m->start || q->end < m->end || q->kind != m->kind ||
            !(q->flags & CAIRN_MAPF_DATA)) {
            snprintf(why, len, "mapping %" PRIu64 " [0x%" PRIx64 "-0x%" PRIx64 ") takes pages "
                     "from the parent's mapping %u, which is not a saved mapping holding its "
                     "range", i, m->start, m->end, m->parent_index);
            return CAIRN_ECORRUPT;
        }
    }
    return 0;
}

int proc_read_cpu(cairn_image_t *img, struct cairn_proc_cpu *c, char *why, size_t len)
{
    int i = proc_only_section(img, CAIRN_SEC_PROC_CPU);
    unsigned ty = CAIRN_SEC_PROC_CPU;
    if (i == -2)
        return bad(why, len, i, ty, "more than one");
    if (i < 0)
        return 0; /* older images */
    if (cairn_image_section(img, (unsigned)i)->raw_size != sizeof *c)
        return bad(why, len, i, ty, "not one %zu-byte record", sizeof *c);
    int rc = cairn_image_read(img, (unsigned)i, c, sizeof *c);
    if (rc < 0)
        return bad(why, len, i, ty, "%s", cairn_image_error(img)), rc;
    if (c->magic != CAIRN_PROC_CPU_MAGIC || c->version != 1 || c->reserved32[0] ||
        c->reserved32[1] || c->reserved[0] || c->reserved[1])
        return bad(why, len, i, ty, "not a cpu record of this version");
    return 1;
}

static int check_cpu(cairn_image_t *img, char *why, size_t len)
{
    struct cairn_proc_cpu c;
    int rc = proc_read_cpu(img, &c, why, len);
    return rc < 0 ? rc : 0;
}

int proc_check(cairn_image_t *img, const struct proc_records *p, char *why, size_t len)
{
    int rc = check_core(img, p, why, len);
    if (rc == 0)
        rc = check_maps(img, p, why, len);
    if (rc == 0)
        rc = check_memory(img, p, why, len);
    if (rc == 0)
        rc = check_files(img, p, why, len);
    if (rc == 0)
        rc = check_task(img, why, len);
    if (rc == 0)
        rc = check_fileids(img, p, why, len);
    if (rc == 0)
        rc = check_job(img, why, len);
    if (rc == 0)
        rc = check_threads(img, p, why, len);
    if (rc == 0)
        rc = check_timers(img, p, why, len);
    if (rc == 0)
        rc = check_extents(img, p, why, len);
    if (rc == 0)
        rc = proc_check_tree(img, p, why, len);
    if (rc == 0)
        rc = proc_check_ipc(img, why, len);
    if (rc == 0)
        rc = check_chain_records(img, p, why, len);
    if (rc == 0)
        rc = check_cpu(img, why, len);
    return rc;
}

int proc_check_image(cairn_image_t *img, char *why, size_t len)
{
    if (!(cairn_image_info(img)->flags & CAIRN_IMG_PROCESS))
        return 0;
    struct proc_records p;
    int rc = proc_load(img, &p, why, len);
    if (rc == 0)
        rc = proc_check(img, &p, why, len);
    proc_release(&p);
    return rc;
}
