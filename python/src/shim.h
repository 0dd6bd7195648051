/*
 * shim.h — what the Python module needs from libcairn beyond cairn.h.
 *
 * The module pickles objects at checkpoint time, so it must know, before
 * cairn_step() writes an image, that it is going to; and it turns the exits
 * libcairn would make with exit() (after a checkpoint signal, or after a
 * periodic checkpoint with CAIRN_EXIT_CODE) into SystemExit, so that Python
 * flushes its files and runs its `finally` blocks and atexit handlers.
 * cairn.h has no call for either, so shim.c reads libcairn's private handle
 * (lib/handle.h): the module is always built from the same tree as the
 * libcairn it links statically, so the layout cannot differ. Everything
 * else in the module uses cairn.h only. A public hook in libcairn (a
 * "prepare" callback run at the start of every checkpoint, and a way to get
 * the exit status back) would let this file go.
 */
#ifndef CAIRN_PY_SHIM_H
#define CAIRN_PY_SHIM_H

#include "cairn.h"

/*
 * 1 if cairn_step() called now writes a checkpoint: the interval elapsed,
 * the step count is reached, or a checkpoint signal is pending. *sig gets
 * the pending signal (> 0 an exit signal, -1 a continue signal, 0 none).
 * The conditions only become true with time, so a 1 stays true until
 * cairn_step() runs; after a 0, call cairn_py_count_step() instead of
 * cairn_step(), so that no image is written that the module did not
 * prepare for. This is cairn_step()'s fast path, split in two.
 */
int cairn_py_step_due(const cairn_t *c, int *sig);
/* Counts one step, as cairn_step() does when nothing is due. */
void cairn_py_count_step(cairn_t *c);

/* Options in force after cairn_open() (the environment applied). */
int cairn_py_verbosity(const cairn_t *c);
/* Returns the self-checkpoint exit status in force (-1 if off) and turns
   libcairn's own exit() after periodic checkpoints off: the caller exits. */
int cairn_py_take_exit_code(cairn_t *c);
/* The status of the exit after exit signal sig (0: the first exit signal). */
int cairn_py_signal_status(const cairn_t *c, int sig);
/* 1 if libcairn handles signal sig (an exit or a continue signal). */
int cairn_py_handles_signal(const cairn_t *c, int sig);

/* In a forked child: puts back the signal actions cairn_open() replaced, so
   that SIGTERM kills the child as it would have without cairn (the child
   never calls cairn_step() on its parent's handle). Async-signal-safe. */
void cairn_py_forget_signals(cairn_t *c);

/* "cairn: MESSAGE" on stderr if the handle's verbosity allows level
   (-1 error, 0 info, 1 debug), as libcairn prints its own. */
void cairn_py_log(const cairn_t *c, int level, const char *message);

/* libcairn's parsers, so that options mean the same as the variables:
   a duration ("90", "1.5", "10m", "4h"): 0 or -1; a signal name ("TERM",
   "SIGTERM", "15"): the number or -1. */
int cairn_py_parse_duration(const char *s, double *seconds);
int cairn_py_signal_from_name(const char *s);

#endif
