/* SPDX-License-Identifier: MIT */
/*
 * rlib.h — the restorer's tiny freestanding library: memory and string
 * helpers, messages on stderr, and whole reads with pread.
 */
#ifndef CAIRN_RESTORE_RLIB_H
#define CAIRN_RESTORE_RLIB_H

#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int r_streq(const char *a, const char *b);
int r_startswith(const char *s, const char *prefix);

/* "cairn-restore: " + parts + "\n" on fd 2; the list ends with NULL. */
void r_say(const char *first, ...);
/* A number as text in buf (at least 24 bytes): decimal or 0x-hex. */
const char *r_dec(char *buf, uint64_t v);
const char *r_hex(char *buf, uint64_t v);
uint64_t r_parse_hex(const char **p);
long r_parse_dec(const char *s);

/* pread of exactly len bytes, or a negative errno. */
long r_pread_all(int fd, void *buf, uint64_t len, uint64_t off);

/* Exit statuses: the restore failed before the job could run (125); the
   image does not match its checksums (124: `cairn run` quarantines it and
   restores the previous generation). */
#define R_EXIT_FAILED 125
#define R_EXIT_CORRUPT 124

__attribute__((noreturn)) void r_exit(int status);
/* Called once by r_exit before the process ends (tree.c: tell the job's
   other restorers). */
extern void (*r_exit_hook)(int status);
/* "restore failed: what (errno N)", then r_exit(R_EXIT_FAILED). */
__attribute__((noreturn)) void r_fail(const char *what, long err);

#endif
