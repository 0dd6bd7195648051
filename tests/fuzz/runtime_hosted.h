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
   the control channel: 0 (*gen, *keyed and, if keyed, key filled; the
   temp image's descriptor in *image_fd if one came with it, else -1) or
   -1. */
int rth_read_request(int fd, uint64_t *gen, int *image_fd, int *keyed,
                     unsigned char key[RTH_KEY_BYTES]);

/* runtime.c's read_identity on fd (cairn's answer to HELLO, "JOB <n>\n"
   and the job record): 0 if it took a record, else -1. */
int rth_read_identity(int fd);

/* runtime.c's read_answer on fd: one line of cairn's answer to STOPPED
   (GO, ABORT) or HOLD (RESUME), without its newline; 0, or -1 if no
   whole line came. */
int rth_read_answer(int fd, char *line, size_t cap);

/* identity.c's status_mask: the value of a "Name:\tHEX" line of text. */
uint64_t rth_status_mask(const char *text, const char *name);

#endif
