/* SPDX-License-Identifier: MIT */
/*
 * checkpoint.h — `cairn checkpoint` (cmd_checkpoint.c finds the job and
 * asks it; checkpoint_wait.c waits for the new generation).
 */
#ifndef CAIRN_CLI_CHECKPOINT_H
#define CAIRN_CLI_CHECKPOINT_H

#include <stdint.h>

/* Exit statuses of `cairn checkpoint --wait` besides cli.h's. */
enum {
    CKPT_EXIT_TIMEOUT = 5, /* --timeout passed before a new generation */
    CKPT_EXIT_ENDED = 6,   /* the job ended without committing one */
    CKPT_EXIT_NOT_TAKEN = 7 /* the job refused or failed the checkpoint */
};

/* The job using a store, and how to ask it for a checkpoint. */
struct ckpt_target {
    long pid;
    int signo;
    const char *kind; /* "cairn run" or "libcairn" */
};

/* What the store holds before the request, to know a newer one. */
struct ckpt_before {
    uint64_t newest;    /* newest generation, 0 if none */
    long long log_size; /* bytes of events.jsonl */
};

/* Notes the store's state before the request. */
void ckpt_note_before(const char *store, struct ckpt_before *b);
/* Waits for a generation newer than b->newest, the job's end, a refusal in
   the log, or timeout seconds (<= 0: no limit). Returns the exit status. */
int ckpt_wait(const char *store, const struct ckpt_target *t, const struct ckpt_before *b,
              double timeout);

#endif
