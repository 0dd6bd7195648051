/* SPDX-License-Identifier: MIT */
/*
 * control.h — the channel between `cairn run` and the runtime inside the job.
 *
 * cairn passes one end of a socketpair to the job as fd $CAIRN_CONTROL_FD.
 * Lines, each written with one write():
 *   runtime -> cairn  "HELLO <pid>"             the runtime is loaded
 *   cairn -> runtime  "CKPT <gen> <tmp name>"   then the checkpoint signal;
 *                                              the temp image's descriptor
 *                                              rides along (SCM_RIGHTS): the
 *                                              writer writes that open file,
 *                                              and no path crosses the
 *                                              channel (the name, relative to
 *                                              the store, is for logs only)
 *                     "CKPTK <gen> <tmp name>" and 32 bytes of image key
 *                                              (keyed run: the image gets a
 *                                              MAC; the key is wiped from the
 *                                              job's memory before it is saved)
 *                     either may end, before the newline, with
 *                     " P <gen> <hdr> <chain> <base> <depth>" (hex): the
 *                                              image may be a delta on that
 *                                              generation (runtime/dirty.c,
 *                                              docs/FORMAT.md "Delta images")
 *   runtime -> cairn  "REFUSE <why>"            nothing written, job goes on
 *                     "PAUSE <ns>"              the job ran again after ns
 *                     "DONE <bytes>"            the writer made it durable
 *                     "FAIL <why>"              the writer failed
 *   restorer -> cairn "RESTORED"                about to resume the job
 *   runtime -> cairn  "TERM <signo>"            the job got SIGTERM/SIGINT at
 *                                              its default action (signals.c):
 *                                              cairn acts as if it had got it
 */
#ifndef CAIRN_RUNTIME_CONTROL_H
#define CAIRN_RUNTIME_CONTROL_H

#define CAIRN_CONTROL_ENV "CAIRN_CONTROL_FD"
/* The checkpoint signal: a real-time signal glibc does not reserve
   (glibc keeps 32 and 33; SIGRTMAX is 64). */
#define CAIRN_CKPT_SIGNAL 62
/* The signal the checkpointing thread sends every other thread of the job
   to park it while the state is taken (runtime/threads.c). cairn sends
   CAIRN_CKPT_SIGNAL to the main thread only (tgkill). */
#define CAIRN_PARK_SIGNAL 63
#define CAIRN_CONTROL_LINE_MAX 4200

#endif
