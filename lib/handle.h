/* SPDX-License-Identifier: MIT */
/* handle.h — the cairn_t handle, shared by libcairn's files. Internal. */
#ifndef CAIRN_HANDLE_H
#define CAIRN_HANDLE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn_mac.h"
#include "cairn.h"
#include "cairn_store.h"
#include "cairn_writer.h"

struct cairn__region {
    char *name;
    size_t name_len;
    void *ptr;        /* fixed region */
    size_t size;
    void **pptr;      /* buffer region: read *pptr, *psize at each checkpoint */
    size_t *psize;
};

/* EXITING: cairn_step() returned CAIRN_EXIT (no_exit); the store is closed. */
enum cairn__state { CAIRN_ST_OPEN, CAIRN_ST_READY, CAIRN_ST_COMPLETE, CAIRN_ST_EXITING };

struct cairn {
    /* Hot fields first: cairn_step() touches only these when nothing is due. */
    uint64_t steps;
    uint64_t due_step;   /* checkpoint when steps reaches this */
    uint64_t due_ns;     /* ... or CLOCK_MONOTONIC_COARSE reaches this */

    enum cairn__state state;
    cairn_options_t o;
    struct cairn__store store;
    struct cairn__writer w;
    struct cairn__region *regions;
    size_t nregions, cap;

    double interval;     /* seconds in force (0 for the steps policy) */
    double last_cost;
    char policy_text[96];
    uint64_t generation;
    uint64_t restores, job_checkpoints;
    uint64_t checkpoints, failed, bytes_written;
    double seconds_writing;

    cairn_hook_fn hook;  /* cairn_set_checkpoint_hook() */
    void *hook_arg;
    int in_hook;         /* the hook is running: no checkpoint from it */
    int exit_status;     /* cairn_exit_status(): the requested exit, or -1 */

    int keyed;           /* images are authenticated with key */
    unsigned char key[CAIRN_KEY_BYTES];

    struct sigaction saved[2 * CAIRN_MAX_SIGNALS];
    int saved_signo[2 * CAIRN_MAX_SIGNALS];
    int nsaved;
};

/* Set by the signal handler: the pending exit signal, or -1 for a continue
   signal, or 0. Read on cairn_step()'s fast path. */
extern volatile sig_atomic_t cairn__sig_pending;

int cairn__signals_install(cairn_t *c);
void cairn__signals_restore(cairn_t *c);
/* Takes the pending request: returns the exit signal, -1 (continue) or 0. */
int cairn__signals_take(void);
/* The continue signal that made the last request of -1. */
int cairn__signals_continue_signo(void);

void cairn__policy_update(cairn_t *c);
uint64_t cairn__protected_bytes(const cairn_t *c);

#endif
