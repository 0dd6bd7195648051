/* SPDX-License-Identifier: MIT */
/*
 * inspect_proc.c — `cairn inspect` of a process image (`cairn run`): the
 * job's core state, its mappings (address range, permissions, kind, size,
 * whether the bytes are saved, path) and its descriptors, in text and in
 * JSON. The records are decoded by proc_check.c; whether they would pass
 * `cairn run`'s checks is part of the image's status (scan.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "image_format.h"
#include "inspect.h"
#include "proc_check.h"
#include "run.h"

/* Loads the records; prints nothing. 0 or < 0 with why. */
static int load(const struct image_scan *s, struct proc_records *p, char *why, size_t len)
{
    return proc_load(s->img, p, why, len);
}

static void perms(char out[5], const struct cairn_proc_map *m)
{
    out[0] = m->prot & 1 ? 'r' : '-';
    out[1] = m->prot & 2 ? 'w' : '-';
    out[2] = m->prot & 4 ? 'x' : '-';
    out[3] = 'p';
    out[4] = '\0';
}

static void fd_flags_text(char *out, size_t len, const struct cairn_proc_file *f)
{
    static const char *const acc[] = {"r", "w", "rw", "?"};
    snprintf(out, len, "%s%s%s%s", acc[f->open_flags & 3], f->open_flags & 02000 ? ",append" : "",
             f->fd_flags & 1 ? ",cloexec" : "", f->flags & CAIRN_FILEF_APPENDING ? ",rollback" : "");
}

/* Signals with a handler (not SIG_DFL/SIG_IGN), as "2 15 62". */
static void handlers_text(char *out, size_t len, const struct cairn_proc_core *c)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < CAIRN_PROC_NSIG && used + 4 < len; i++)
        if (c->act[i].handler > 1)
            used += (size_t)snprintf(out + used, len - used, "%s%u", used ? " " : "", i + 1);
    if (!used)
        snprintf(out, len, "none");
}

static uint64_t saved_bytes(const struct proc_records *p, uint64_t *nsaved)
{
    uint64_t bytes = 0;
    *nsaved = 0;
    for (uint64_t i = 0; i < p->nmaps; i++)
        if (p->maps[i].flags & CAIRN_MAPF_DATA) {
            bytes += p->maps[i].end - p->maps[i].start;
            (*nsaved)++;
        }
    return bytes;
}

static void core_text(const char *indent, const struct proc_records *p)
{
    const struct cairn_proc_core *c = &p->core;
    char comm[sizeof c->comm + 1] = "", hs[256];
    memcpy(comm, c->comm, sizeof c->comm);
    printf("%sprocess     ", indent);
    print_name(stdout, comm);
    printf(", %s, %u thread%s, cwd ", c->arch == CAIRN_PROC_ARCH_X86_64 ? "x86_64" : "unknown arch",
           c->nthreads, c->nthreads == 1 ? "" : "s");
    print_name(stdout, memchr(c->cwd, 0, sizeof c->cwd) ? c->cwd : "?");
    printf(", umask %03" PRIo64 "\n", c->umask & 0777);
    printf("%s  brk 0x%" PRIx64 "-0x%" PRIx64 ", stack 0x%" PRIx64 ", fs_base 0x%" PRIx64
           ", rseq 0x%" PRIx64 ", frame 0x%" PRIx64 ", control fd %" PRIu64 "\n", indent,
           c->start_brk, c->brk, c->start_stack, c->fs_base, c->rseq_addr, c->frame_uc,
           c->control_fd);
    handlers_text(hs, sizeof hs, c);
    printf("%s  signal handlers: %s; blocked 0x%" PRIx64 "; itimer real %.6f s\n", indent, hs,
           c->sigmask, (double)c->itimer[0].value_us / 1e6);
}

static void threads_text(const struct proc_records *p)
{
    if (!p->nthreads)
        return;
    printf("threads     %" PRIu64 "\n", p->nthreads);
    printf("  %8s  %-16s  %-16s  %-16s  %s\n", "tid", "name", "fs_base", "frame", "robust list");
    for (uint64_t i = 0; i < p->nthreads; i++) {
        const struct cairn_proc_thread *t = &p->threads[i];
        char name[sizeof t->comm + 1] = "";
        memcpy(name, t->comm, sizeof t->comm);
        printf("  %8" PRIu64 "  %-16s  %016" PRIx64 "  %016" PRIx64 "  %s\n", t->tid, name,
               t->fs_base, t->frame_uc, t->robust_head ? "yes" : "no");
    }
}

static void maps_text(const struct proc_records *p)
{
    uint64_t nsaved, bytes = saved_bytes(p, &nsaved);
    char sz[32];
    fmt_size(sz, sizeof sz, bytes);
    printf("mappings    %" PRIu64 " (%" PRIu64 " saved, %s)\n", p->nmaps, nsaved, sz);
    printf("  %5s  %-16s  %-16s  %-4s  %-7s  %10s  %-5s  %s\n", "#", "start", "end", "perm",
           "kind", "size", "saved", "name");
    for (uint64_t i = 0; i < p->nmaps; i++) {
        const struct cairn_proc_map *m = &p->maps[i];
        char pm[5], name[sizeof m->name + 1] = "";
        perms(pm, m);
        fmt_size(sz, sizeof sz, m->end - m->start);
        memcpy(name, m->name, sizeof m->name);
        printf("  %5" PRIu64 "  %016" PRIx64 "  %016" PRIx64 "  %-4s  %-7s  %10s  %-5s  ", i,
               m->start, m->end, pm, proc_map_kind_name(m->kind), sz,
               m->flags & CAIRN_MAPF_DELTA    ? "delta"
               : m->flags & CAIRN_MAPF_SPARSE ? "part"
               : m->flags & CAIRN_MAPF_DATA   ? "yes"
                                              : "no");
        print_name(stdout, name[0] ? name : "-");
        putchar('\n');
    }
}

static void files_text(const struct proc_records *p)
{
    printf("files       %" PRIu64 "\n", p->nfiles);
    printf("  %4s  %-7s  %-20s  %12s  %12s  %s\n", "fd", "kind", "flags", "offset", "size", "path");
    for (uint64_t i = 0; i < p->nfiles; i++) {
        const struct cairn_proc_file *f = &p->files[i];
        char fl[64], path[sizeof f->path + 1] = "";
        fd_flags_text(fl, sizeof fl, f);
        memcpy(path, f->path, sizeof f->path);
        printf("  %4d  %-7s  %-20s  %12" PRIu64 "  %12" PRIu64 "  ", f->fd,
               proc_fd_kind_name(f->kind), fl, f->offset, f->size);
        if (f->kind == CAIRN_FD_DUP)
            printf("(dup of fd %d) ", f->dup_of);
        print_name(stdout, path[0] ? path : "-");
        putchar('\n');
    }
}

/* The job record (cairn run's command line), if the image has one. */
static const struct cairn_proc_job *job_record(const struct image_scan *s)
{
    static struct cairn_proc_job j;
    int i = cairn_image_find(s->img, CAIRN_SEC_PROC_JOB, NULL);
    if (i < 0 || cairn_image_read(s->img, (unsigned)i, &j, sizeof j) < 0 ||
        j.argv_len > sizeof j.argv || !memchr(j.exe, 0, sizeof j.exe) ||
        !memchr(j.script, 0, sizeof j.script))
        return NULL;
    return &j;
}

static void job_text(const char *indent, const struct image_scan *s)
{
    const struct cairn_proc_job *j = job_record(s);
    char cmd[CAIRN_PROC_ARGV_MAX + 1];
    if (!j)
        return;
    run_ident_command(j, cmd, sizeof cmd);
    printf("%scommand     ", indent);
    print_name(stdout, cmd);
    putchar('\n');
}

/* A delta image: what it needs (docs/FORMAT.md, "Delta images"). */
static void parent_text(const char *indent, const struct proc_records *p)
{
    if (!p->has_parent)
        return;
    char of[48] = ""; /* a tree's member: on its own member image of that generation */
    if (p->parent.process)
        snprintf(of, sizeof of, "process %" PRIu32 "'s image; ", p->parent.process);
    printf("%sdelta       on generation %" PRIu64 " (%s%u below it, down to the full image %"
           PRIu64 ")\n", indent, p->parent.generation, of, p->parent.depth,
           p->parent.base_generation);
}

/* The CPU record (cli/run_cpu.c): what a restore here would need and
   this machine lacks. n < 0: the image has no readable record. */
static long cpu_missing(const struct image_scan *s, size_t *count, char *names, size_t len)
{
    char why[256];
    size_t n = 0;
    return run_cpu_compare(s->img, &n, count, names, len, why, sizeof why) == 1 ? (long)n : -1;
}

static void cpu_text(const char *indent, const struct image_scan *s)
{
    char names[256];
    size_t count = 0;
    long n = cpu_missing(s, &count, names, sizeof names);
    if (n < 0)
        return;
    printf("%scpu         %zu instruction sets; this machine %s%s\n", indent, count,
           n ? "lacks " : "has them all", n ? names : "");
}

void inspect_proc_text(const struct image_scan *s, int full)
{
    const char *indent = full ? "" : "    ";
    struct proc_records p;
    char why[512] = "";
    if (load(s, &p, why, sizeof why) < 0) {
        printf("%sprocess     (records unreadable: %s)\n", indent, why);
    } else if (!full) {
        uint64_t nsaved, bytes = saved_bytes(&p, &nsaved);
        char sz[32], comm[sizeof p.core.comm + 1] = "";
        fmt_size(sz, sizeof sz, bytes);
        memcpy(comm, p.core.comm, sizeof p.core.comm);
        printf("%sprocess     ", indent);
        print_name(stdout, comm);
        printf(", %u thread%s, %" PRIu64 " mappings (%" PRIu64 " saved, %s), %" PRIu64 " fds\n",
               p.core.nthreads, p.core.nthreads == 1 ? "" : "s", p.nmaps, nsaved, sz, p.nfiles);
        parent_text(indent, &p);
        job_text(indent, s);
        cpu_text(indent, s);
    } else {
        job_text(indent, s);
        parent_text(indent, &p);
        cpu_text(indent, s);
        core_text(indent, &p);
        threads_text(&p);
        maps_text(&p);
        files_text(&p);
    }
    proc_release(&p);
}

static void core_json(struct json *j, const struct proc_records *p)
{
    const struct cairn_proc_core *c = &p->core;
    char comm[sizeof c->comm + 1] = "";
    memcpy(comm, c->comm, sizeof c->comm);
    json_str(j, "arch", c->arch == CAIRN_PROC_ARCH_X86_64 ? "x86_64" : "unknown");
    json_u64(j, "threads", c->nthreads);
    json_str(j, "comm", comm);
    json_str(j, "cwd", memchr(c->cwd, 0, sizeof c->cwd) ? c->cwd : NULL);
    json_u64(j, "umask", c->umask);
    json_u64(j, "start_brk", c->start_brk);
    json_u64(j, "brk", c->brk);
    json_u64(j, "start_stack", c->start_stack);
    json_u64(j, "fs_base", c->fs_base);
    json_u64(j, "rseq", c->rseq_addr);
    json_u64(j, "frame", c->frame_uc);
    json_u64(j, "control_fd", c->control_fd);
    json_u64(j, "sigmask", c->sigmask);
    json_array(j, "signal_handlers");
    for (unsigned i = 0; i < CAIRN_PROC_NSIG; i++)
        if (c->act[i].handler > 1)
            json_u64(j, NULL, i + 1);
    json_end_array(j);
}

static void threads_json(struct json *j, const struct proc_records *p)
{
    json_array(j, "thread_records");
    for (uint64_t i = 0; i < p->nthreads; i++) {
        const struct cairn_proc_thread *t = &p->threads[i];
        char name[sizeof t->comm + 1] = "";
        memcpy(name, t->comm, sizeof t->comm);
        json_object(j, NULL);
        json_u64(j, "tid", t->tid);
        json_str(j, "name", name);
        json_u64(j, "fs_base", t->fs_base);
        json_u64(j, "frame", t->frame_uc);
        json_u64(j, "rseq", t->rseq_addr);
        json_end_object(j);
    }
    json_end_array(j);
}

static void maps_json(struct json *j, const struct proc_records *p)
{
    json_array(j, "mappings");
    for (uint64_t i = 0; i < p->nmaps; i++) {
        const struct cairn_proc_map *m = &p->maps[i];
        char pm[5], name[sizeof m->name + 1] = "";
        perms(pm, m);
        memcpy(name, m->name, sizeof m->name);
        json_object(j, NULL);
        json_u64(j, "start", m->start);
        json_u64(j, "end", m->end);
        json_str(j, "perms", pm);
        json_str(j, "kind", proc_map_kind_name(m->kind));
        json_bool(j, "saved", (m->flags & CAIRN_MAPF_DATA) != 0);
        json_bool(j, "sparse", (m->flags & CAIRN_MAPF_SPARSE) != 0);
        json_bool(j, "delta", (m->flags & CAIRN_MAPF_DELTA) != 0);
        json_str(j, "name", name);
        json_end_object(j);
    }
    json_end_array(j);
}

static void files_json(struct json *j, const struct proc_records *p)
{
    json_array(j, "files");
    for (uint64_t i = 0; i < p->nfiles; i++) {
        const struct cairn_proc_file *f = &p->files[i];
        char path[sizeof f->path + 1] = "";
        memcpy(path, f->path, sizeof f->path);
        json_object(j, NULL);
        json_i64(j, "fd", f->fd);
        json_str(j, "kind", proc_fd_kind_name(f->kind));
        json_u64(j, "open_flags", f->open_flags);
        json_u64(j, "fd_flags", f->fd_flags);
        json_bool(j, "rollback", (f->flags & CAIRN_FILEF_APPENDING) != 0);
        if (f->kind == CAIRN_FD_DUP)
            json_i64(j, "dup_of", f->dup_of);
        json_u64(j, "offset", f->offset);
        json_u64(j, "size", f->size);
        json_str(j, "path", path);
        json_end_object(j);
    }
    json_end_array(j);
}

void inspect_proc_json(struct json *j, const struct image_scan *s)
{
    struct proc_records p;
    char why[512] = "";
    json_object(j, "process");
    if (load(s, &p, why, sizeof why) < 0) {
        json_str(j, "error", why);
    } else {
        const struct cairn_proc_job *job = job_record(s);
        if (job) {
            char cmd[CAIRN_PROC_ARGV_MAX + 1];
            run_ident_command(job, cmd, sizeof cmd);
            json_str(j, "command", cmd);
            json_str(j, "program", job->exe);
            json_str(j, "script", job->script[0] ? job->script : NULL);
        }
        char names[256];
        size_t count = 0;
        long n = cpu_missing(s, &count, names, sizeof names);
        if (n >= 0) {
            json_object(j, "cpu");
            json_u64(j, "instruction_sets", count);
            json_str(j, "missing_here", names);
            json_end_object(j);
        }
        core_json(j, &p);
        threads_json(j, &p);
        maps_json(j, &p);
        files_json(j, &p);
    }
    json_end_object(j);
    proc_release(&p);
}

const char *inspect_proc_label(const cairn_section_info_t *x, char *buf, size_t len)
{
    switch (x->type) {
    case CAIRN_SEC_PROC_CORE:
        return "(core)";
    case CAIRN_SEC_PROC_MAPS:
        return "(maps)";
    case CAIRN_SEC_PROC_FILES:
        return "(files)";
    case CAIRN_SEC_PROC_MEM:
        snprintf(buf, len, "(memory of mapping %" PRIu64 ")", x->arg);
        return buf;
    default:
        if (x->type >= CAIRN_SEC_PROCESS_FIRST && x->type <= CAIRN_SEC_PROCESS_LAST) {
            snprintf(buf, len, "(process record 0x%x)", x->type);
            return buf;
        }
        return NULL;
    }
}
