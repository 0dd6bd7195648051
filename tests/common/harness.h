/* SPDX-License-Identifier: MIT */
/*
 * harness.h — helpers shared by the cmocka suites (tests/unit/,
 * tests/faults/, tests/security/): scratch directories, environment hygiene,
 * capturing what libcairn prints on stderr, whole-file I/O, and child
 * processes; fixture.h is the cmocka fixture built on them. Only the
 * public API and libc are used here, so the helpers work with both the
 * static and the shared library.
 *
 * Include after <cmocka.h> (which needs <stdarg.h>, <stddef.h>, <setjmp.h>).
 */
#ifndef CAIRN_TEST_HARNESS_H
#define CAIRN_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A scratch directory under $TMPDIR (or /tmp) and a store path inside it. */
struct th_dir {
    char root[512];  /* the directory itself */
    char store[600]; /* root + "/store" (not created) */
};

/* Creates a fresh scratch directory; aborts the test on failure. */
void th_dir_make(struct th_dir *d);
/* Removes it and everything below (restoring write permission first). */
void th_dir_remove(struct th_dir *d);
/* Removes a tree; returns 0 or -1. */
int th_rmtree(const char *path);

/* Unsets every CAIRN_* variable so the caller's environment cannot leak in. */
void th_clear_cairn_env(void);

/* Captures fd 2 into a temp file between begin and end. end() returns the
   text (malloc'ed, NUL-terminated); the caller frees it. */
struct th_capture {
    int saved_fd;
    int file_fd;
};
void th_capture_begin(struct th_capture *cap);
char *th_capture_end(struct th_capture *cap);

/* Fails the test, showing the text, unless `needle` occurs in `text`. */
#define th_assert_contains(text, needle) \
    th_assert_contains_((text), (needle), __FILE__, __LINE__)
void th_assert_contains_(const char *text, const char *needle, const char *file, int line);
#define th_assert_not_contains(text, needle) \
    th_assert_not_contains_((text), (needle), __FILE__, __LINE__)
void th_assert_not_contains_(const char *text, const char *needle, const char *file, int line);

/* Whole-file helpers. read_file returns malloc'ed bytes (NULL if absent). */
unsigned char *th_read_file(const char *path, size_t *len);
void th_write_file(const char *path, const void *data, size_t len);
int th_exists(const char *path);
/* Path of generation gen of a store, in a static rotating buffer. */
const char *th_gen_path(const char *store, uint64_t gen);
/* Generations present (ascending) into gens[max]; returns how many. */
size_t th_generations(const char *store, uint64_t *gens, size_t max);
/* Names in dir starting with prefix, or ending with suffix (either may be
   NULL): how many. */
int th_count_names(const char *dir, const char *prefix, const char *suffix);

/* Waits for pid; returns its exit status, or 128 + signal if killed. */
int th_wait(pid_t pid);

/* Deterministic pseudo-random bytes (xorshift), for incompressible data. */
void th_fill_random(void *buf, size_t len, uint64_t seed);

#endif
