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

/* Index of the newest generation that is usable, or -1. */
long inspect_newest_valid(const struct store_scan *st, const struct image_scan *imgs);

#endif
