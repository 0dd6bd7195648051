/*
 * runtime_hosted.h — the runtime's control-line reader (runtime/runtime.c
 * read_request) and its /proc status parser (runtime/identity.c
 * status_mask), built into an ordinary program for the control fuzz
 * targets. See runtime_hosted.c.
 */
#ifndef CAIRN_FUZZ_RUNTIME_HOSTED_H
#define CAIRN_FUZZ_RUNTIME_HOSTED_H

#include <stddef.h>
#include <stdint.h>

#define RTH_KEY_BYTES 32u

/* runtime.c's read_request on fd, as the checkpoint handler calls it on
   the control channel: 0 (*gen, path, *keyed and, if keyed, key filled)
   or -1. */
int rth_read_request(int fd, uint64_t *gen, char *path, size_t cap, int *keyed,
                     unsigned char key[RTH_KEY_BYTES]);

/* identity.c's status_mask: the value of a "Name:\tHEX" line of text. */
uint64_t rth_status_mask(const char *text, const char *name);

#endif
