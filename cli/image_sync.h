/* SPDX-License-Identifier: MIT */
/* image_sync.h — a packed image made durable while it is still being
   written (image_sync.c). */
#ifndef CAIRN_CLI_IMAGE_SYNC_H
#define CAIRN_CLI_IMAGE_SYNC_H

#include <stdint.h>

struct image_sync;

/* Starts a thread that fdatasyncs fd each time IMAGE_SYNC_STEP more bytes
   were written: NULL if there is none (the final fsync then does it all). */
struct image_sync *image_sync_start(int fd);
/* The bytes written to fd so far (NULL: nothing). */
void image_sync_wrote(struct image_sync *s, uint64_t off);
/* Ends the thread: 0, or its first fdatasync's -errno (a write-back error
   the caller's own fsync would no longer see). NULL: 0. */
int image_sync_stop(struct image_sync *s);

#endif
