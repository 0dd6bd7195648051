/* SPDX-License-Identifier: MIT */
/*
 * inspect_json.c — `cairn inspect --json`: the same facts as the text view
 * as one JSON document. Key names are stable and listed in the help text.
 */
#include <stdio.h>
#include <string.h>

#include "image_format.h"
#include "inspect.h"

static void job_json(struct json *j, const struct image_scan *s)
{
    if (!s->has_job) {
        json_null(j, "job");
        return;
    }
    json_object(j, "job");
    json_u64(j, "steps", s->job.steps);
    json_u64(j, "restores", s->job.restores);
    json_u64(j, "checkpoints", s->job.checkpoints);
    json_num(j, "interval_s", (double)s->job.interval_ns / 1e9);
    json_u64(j, "every_steps", s->job.every_steps);
    json_num(j, "last_cost_s", (double)s->job.last_cost_ns / 1e9);
    json_str(j, "policy", job_policy_name(s->job.policy));
    json_end_object(j);
}

static void sections_json(struct json *j, const struct image_scan *s)
{
    const cairn_image_info_t *in = cairn_image_info(s->img);
    json_array(j, "sections");
    for (unsigned i = 0; i < in->section_count; i++) {
        const cairn_section_info_t *x = cairn_image_section(s->img, i);
        char sum[32];
        snprintf(sum, sizeof sum, "%016llx", (unsigned long long)x->checksum);
        json_object(j, NULL);
        json_u64(j, "index", i);
        json_u64(j, "type", x->type);
        json_str(j, "type_name", cairn_section_type_name(x->type));
        json_str(j, "name", x->name);
        json_str(j, "codec", cairn_codec_name(x->codec));
        json_u64(j, "flags", x->flags);
        json_u64(j, "offset", x->data_offset);
        json_u64(j, "raw_size", x->raw_size);
        json_u64(j, "stored_size", x->stored_size);
        if (x->stored_size)
            json_num(j, "ratio", (double)x->raw_size / (double)x->stored_size);
        else
            json_null(j, "ratio");
        json_str(j, "checksum", sum);
        json_str(j, "status", s->sec_status ? s->sec_status[i] : "unchecked");
        json_end_object(j);
    }
    json_end_array(j);
}

/* The members of one image object (the caller opens and closes it). */
static void image_members(struct json *j, const struct image_scan *s)
{
    const char *file = strrchr(s->path, '/');
    json_str(j, "path", s->path);
    json_str(j, "file", file ? file + 1 : s->path);
    json_u64(j, "size", s->file_size);
    json_str(j, "status", scan_image_status(s));
    json_str(j, "reason", scan_image_ok(s) ? NULL : s->why);
    if (s->open_rc < 0)
        return;
    const cairn_image_info_t *in = cairn_image_info(s->img);
    char buf[64];
    snprintf(buf, sizeof buf, "%u.%u", in->format_major, in->format_minor);
    json_str(j, "format", buf);
    json_u64(j, "flags", in->flags);
    json_u64(j, "generation", in->generation);
    fmt_time(buf, sizeof buf, in->created_ns);
    json_str(j, "created", buf);
    json_u64(j, "created_ns", in->created_ns);
    fmt_version(buf, sizeof buf, in->writer_version);
    json_str(j, "writer_version", buf);
    json_u64(j, "writer_version_number", in->writer_version);
    json_str(j, "host", in->host);
    json_u64(j, "uid", in->uid);
    json_u64(j, "pid", in->pid);
    job_json(j, s);
    if (in->flags & CAIRN_IMG_PROCESS)
        inspect_proc_json(j, s);
    sections_json(j, s);
}

void inspect_image_json(const struct image_scan *s)
{
    struct json j;
    json_init(&j, stdout);
    json_object(&j, NULL);
    json_str(&j, "kind", "image");
    image_members(&j, s);
    json_end_object(&j);
}

static void files_json(struct json *j, const char *key, const struct name_list *l)
{
    json_array(j, key);
    for (size_t i = 0; i < l->n; i++) {
        json_object(j, NULL);
        json_str(j, "file", l->names[i]);
        json_u64(j, "size", l->sizes[i]);
        json_end_object(j);
    }
    json_end_array(j);
}

void inspect_store_json(const struct store_scan *st, const struct image_scan *imgs)
{
    struct json j;
    json_init(&j, stdout);
    json_object(&j, NULL);
    json_str(&j, "kind", "store");
    json_str(&j, "path", st->path);
    json_str(&j, "state", scan_store_state(st, st->ngens ? &imgs[st->ngens - 1] : NULL));
    json_bool(&j, "finished", st->finished);
    json_object(&j, "lock");
    json_bool(&j, "present", st->lock_exists);
    if (st->lock_exists && st->lock_pid >= 0)
        json_i64(&j, "holder_pid", st->lock_pid > 0 ? st->lock_pid : 0);
    else
        json_null(&j, "holder_pid");
    json_end_object(&j);
    json_array(&j, "generations");
    for (size_t i = 0; i < st->ngens; i++) {
        json_object(&j, NULL);
        image_members(&j, &imgs[i]);
        json_end_object(&j);
    }
    json_end_array(&j);
    long nv = inspect_newest_valid(st, imgs);
    if (nv >= 0)
        json_u64(&j, "newest_valid_generation", st->gens[nv]);
    else
        json_null(&j, "newest_valid_generation");
    files_json(&j, "quarantined", &st->corrupt);
    files_json(&j, "temp_files", &st->temps);
    json_end_object(&j);
}
