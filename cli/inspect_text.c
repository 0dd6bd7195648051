/* SPDX-License-Identifier: MIT */
/*
 * inspect_text.c — `cairn inspect` output for people: aligned "key value"
 * lines, one block per generation, and a table of sections for an image.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "image_format.h"
#include "inspect.h"

long inspect_newest_valid(const struct store_scan *st, const struct image_scan *imgs)
{
    for (size_t i = st->ngens; i-- > 0;)
        if (scan_image_ok(&imgs[i]))
            return (long)i;
    return -1;
}

/* "steps 300, restores 1, checkpoints 3, interval 300 s (time), last cost 0.012 s" */
static void print_job(const char *indent, const struct image_scan *s)
{
    if (!s->has_job) {
        printf("%sjob         (no job section)\n", indent);
        return;
    }
    const struct cairn_job_meta *j = &s->job;
    printf("%sjob         steps %" PRIu64 ", restores %" PRIu64 ", checkpoints %" PRIu64 ", ",
           indent, j->steps, j->restores, j->checkpoints);
    if (j->policy == CAIRN_POLICY_STEPS)
        printf("every %" PRIu64 " steps", j->every_steps);
    else
        printf("interval %g s (%s)", (double)j->interval_ns / 1e9, job_policy_name(j->policy));
    printf(", last checkpoint cost %.6f s\n", (double)j->last_cost_ns / 1e9);
}

/* Header facts shared by the image and store views. */
static void print_header(const char *indent, const struct image_scan *s)
{
    const cairn_image_info_t *in = cairn_image_info(s->img);
    char t[64], ver[32];
    fmt_time(t, sizeof t, in->created_ns);
    fmt_version(ver, sizeof ver, in->writer_version);
    printf("%sgeneration  %" PRIu64 "\n", indent, in->generation);
    printf("%screated     %s\n", indent, t);
    printf("%swriter      cairn %s, format %u.%u, flags 0x%x\n", indent, ver, in->format_major,
           in->format_minor, in->flags);
    printf("%shost        ", indent);
    print_name(stdout, in->host);
    printf(", uid %u, pid %u\n", in->uid, in->pid);
}

static void print_sections(const struct image_scan *s)
{
    const cairn_image_info_t *in = cairn_image_info(s->img);
    printf("sections    %u\n", in->section_count);
    printf("  %3s  %-7s  %-5s  %12s  %12s  %7s  %-16s  %-9s  %s\n", "#", "type", "codec", "raw",
           "stored", "ratio", "checksum", "status", "name");
    for (unsigned i = 0; i < in->section_count; i++) {
        const cairn_section_info_t *x = cairn_image_section(s->img, i);
        char ratio[32] = "-", label[64];
        const char *plabel = inspect_proc_label(x, label, sizeof label);
        if (x->stored_size)
            snprintf(ratio, sizeof ratio, "%.2f", (double)x->raw_size / (double)x->stored_size);
        printf("  %3u  %-7s  %-5s  %12" PRIu64 "  %12" PRIu64 "  %7s  %016" PRIx64 "  %-9s  ", i,
               cairn_section_type_name(x->type), cairn_codec_name(x->codec), x->raw_size,
               x->stored_size, ratio, x->checksum,
               s->sec_status ? s->sec_status[i] : "unchecked");
        print_name(stdout, x->name[0] ? x->name : plabel ? plabel : "-");
        putchar('\n');
    }
}

void inspect_image_text(const struct image_scan *s)
{
    char sz[32];
    fmt_size(sz, sizeof sz, s->file_size);
    printf("image       %s\n", s->path);
    printf("size        %" PRIu64 " bytes (%s)\n", s->file_size, sz);
    printf("status      %s\n", scan_image_status(s));
    if (!scan_image_ok(s))
        printf("reason      %s\n", s->why);
    if (s->open_rc < 0)
        return;
    print_header("", s);
    if (cairn_image_info(s->img)->flags & CAIRN_IMG_PROCESS)
        inspect_proc_text(s, 1);
    else
        print_job("", s);
    print_sections(s);
}

static void print_generation(const struct image_scan *s)
{
    const char *file = strrchr(s->path, '/');
    char sz[32];
    fmt_size(sz, sizeof sz, s->file_size);
    printf("  %s  %" PRIu64 " bytes (%s)  %s\n", file ? file + 1 : s->path, s->file_size, sz,
           scan_image_status(s));
    if (!scan_image_ok(s))
        printf("    reason      %s\n", s->why);
    if (s->open_rc < 0)
        return;
    print_header("    ", s);
    if (cairn_image_info(s->img)->flags & CAIRN_IMG_PROCESS)
        inspect_proc_text(s, 0);
    else
        print_job("    ", s);
}

static void print_lock(const struct store_scan *st)
{
    if (!st->lock_exists)
        printf("lock        none\n");
    else if (st->lock_pid > 0)
        printf("lock        held by pid %ld (a job is using the store)\n", st->lock_pid);
    else if (st->lock_pid == 0)
        printf("lock        free\n");
    else
        printf("lock        unknown (cannot read /proc/locks)\n");
}

static void print_files(const char *title, const struct name_list *l)
{
    printf("%-11s %zu\n", title, l->n);
    for (size_t i = 0; i < l->n; i++)
        printf("  %s  %" PRIu64 " bytes\n", l->names[i], l->sizes[i]);
}

void inspect_store_text(const struct store_scan *st, const struct image_scan *imgs)
{
    long nv = inspect_newest_valid(st, imgs);
    printf("store       %s\n", st->path);
    printf("state       %s\n", scan_store_state(st, st->ngens ? &imgs[st->ngens - 1] : NULL));
    printf("finished    %s\n", st->finished ? "yes (the job completed; a rerun starts fresh)"
                                           : "no");
    print_lock(st);
    printf("generations %zu", st->ngens);
    if (nv >= 0)
        printf(" (newest valid: %" PRIu64 ")", st->gens[nv]);
    else if (st->ngens)
        printf(" (none valid)");
    printf("\n");
    for (size_t i = st->ngens; i-- > 0;)
        print_generation(&imgs[i]);
    print_files("quarantined", &st->corrupt);
    print_files("temp files", &st->temps);
}
