/* SPDX-License-Identifier: MIT */
/* run_ipc.h — the job's IPC objects, captured and made again by its
   namespace's init (run_ipc.c, run_ipc_mq.c; docs/TRANSPARENT.md "IPC
   objects"). */
#ifndef CAIRN_CLI_RUN_IPC_H
#define CAIRN_CLI_RUN_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "process_format.h"

/* The IPC section being built (format/process_format.h, 0x114). */
struct ipc_out {
    unsigned char *buf;
    size_t cap, len;
    size_t rec_at;     /* the record begun last */
    uint32_t nobjects;
};
int ipc_put(struct ipc_out *o, const void *p, size_t n); /* padded to 8; -1 if full */
int ipc_begin(struct ipc_out *o, struct cairn_proc_ipc_obj *rec, char *why, size_t len);
void ipc_end(struct ipc_out *o, uint32_t count);
int ipc_put_msg(struct ipc_out *o, int64_t type, const void *text, size_t n);

/* cairn, before it clones the init: reads the image's IPC section (if
   image_fd >= 0) for the init to restore, makes the socket and memfd the
   two share. Returns the init's end of the socket, or -1. */
int run_ipc_setup(int image_fd);
void run_ipc_parent(int child_end);
/* The init: takes its end; keep[] gets the descriptors it must keep. */
void run_ipc_child(int child_end, int keep[2]);
/* The init, before the job's first process: the objects made again.
   0, or -1 with why. */
int run_ipc_restore(char *why, size_t len);
/* The init: answers one request on its socket (run_ipc_sock()). */
void run_ipc_serve(void);
int run_ipc_sock(void);
void run_ipc_close(void);

/* cairn, every process of the job stopped: the IPC section into buf
   (*len 0 if the namespace holds nothing). 0, or -1 with why. */
int run_ipc_collect(unsigned char *buf, size_t cap, size_t *len, char *why, size_t wlen);

/* cairn, once the job is restored (RESTORED): the init unlinks the names
   it gave queues the job had unlinked. */
void run_ipc_restored(void);

/* run_ipc_mq.c: POSIX message queues, for the init. */
void run_ipc_mq_restored(void);
int run_ipc_mq_capture(struct ipc_out *o, char *why, size_t len);
int run_ipc_mq_restore(const struct cairn_proc_ipc_obj *o, const unsigned char *d, char *why,
                       size_t len);

#endif
