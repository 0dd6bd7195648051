/* SPDX-License-Identifier: MIT */
/* cairn_io.h — full-length reads and writes (lib/util.c), for libcairn and
   the CLI: a short transfer is continued, EINTR retried. Internal: not
   installed. */
#ifndef CAIRN_IO_H
#define CAIRN_IO_H

#include <stddef.h>
#include <stdint.h>

/* Writes all of buf or returns -errno. */
int cairn__write_all(int fd, const void *buf, size_t len);
/* pwrite of all of buf or -errno. */
int cairn__pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/* pread of exactly len bytes: 0, -errno, or CAIRN_ETRUNCATED at end of file. */
int cairn__pread_all(int fd, void *buf, size_t len, uint64_t off);

#endif
