/* SPDX-License-Identifier: MIT */
/*
 * fuzz_util.h — helpers shared by the libFuzzer targets and their replay
 * runner (fuzz_main.c).
 *
 * Every cairn image is covered by checksums (header, each section header,
 * each payload, a chain over the sections, trailer), so random mutations
 * almost never get past the first check. fuzz_fix_checksums() recomputes
 * those fields in a copy of the input, the way a deliberate attacker would,
 * so the parser behind the checksums is reached. The targets run each input
 * both as given and fixed up.
 */
#ifndef CAIRN_FUZZ_UTIL_H
#define CAIRN_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Largest section the targets read into memory: bigger ones would only
   find "out of memory", which is not what we are looking for. */
#define FUZZ_MAX_RAW (16u << 20)

/* Recomputes every checksum it can locate in buf (an image). Returns 1 if
   anything changed. Never reads outside buf. */
int fuzz_fix_checksums(unsigned char *buf, size_t size);

/* Length of the first image in data: up to and including the first
   trailer-magic block that ends within data, or size if there is none. */
size_t fuzz_first_image_len(const uint8_t *data, size_t size);

/* Sets CAIRN_QUIET=1 once. */
void fuzz_quiet(void);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
