/* SPDX-License-Identifier: MIT */
/*
 * inspect.h — the printers behind `cairn inspect`: text for people
 * (inspect_text.c) and JSON for programs (inspect_json.c), fed by scan.c.
 */
#ifndef CAIRN_CLI_INSPECT_H
#define CAIRN_CLI_INSPECT_H

#include "cli.h"

struct inspect_flags {
    int json;
    int verify;
};

/* imgs[i] is generation st->gens[i], scanned, with section statuses. */
void inspect_store_text(const struct store_scan *st, const struct image_scan *imgs);
void inspect_store_json(const struct store_scan *st, const struct image_scan *imgs);
void inspect_image_text(const struct image_scan *s);
void inspect_image_json(const struct image_scan *s);

/* inspect_proc.c: a process image's records; full = 0 gives one line. */
void inspect_proc_text(const struct image_scan *s, int full);
void inspect_proc_json(struct json *j, const struct image_scan *s);
/* Label of a process section for the section table ("core", "mapping 3"),
   or NULL for other sections. */
const char *inspect_proc_label(const cairn_section_info_t *x, char *buf, size_t len);

/* Index of the newest generation that is usable, or -1. */
long inspect_newest_valid(const struct store_scan *st, const struct image_scan *imgs);

#endif
