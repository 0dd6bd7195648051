/*
 * restore_hosted.h — the freestanding restorer's image reader, built into
 * an ordinary (hosted) program: the fuzz target fuzz_restore.c, and any
 * test that wants the restorer's verdict on an image (library target
 * cairn_restore_hosted in tests/fuzz/CMakeLists.txt).
 *
 * The code under test is the restorer's own source, compiled unchanged:
 * restore/image.c (r_load_image: header, section walk, trailer, chain,
 * record sections and their checks), restore/ident.c (r_ident_load),
 * restore/memory.c (r_check_layout, which only reads /proc/self/maps, and
 * fill_sparse, run on a scratch reservation instead of the job's address),
 * restore/threads.c (r_threads_load), restore/timers.c (r_timers_load),
 * restore/hash.c and restore/rlib.c. It makes its system calls itself
 * (restore/sys_x86_64.h), so the image is given to it as a path: for bytes
 * in memory, a memfd's /proc/self/fd/N. Only three functions are the
 * shim's (restore_hosted.c), because in the restorer they end the process
 * or write to its stderr:
 *   r_say   records the message in the result (and prints it when
 *           $CAIRN_FUZZ_VERBOSE is set);
 *   r_exit  longjmps back into rh_run_path, which reports the status;
 *   r_fail  as in restore.c: says why, then r_exit(125).
 * rlib.c's own r_say/r_exit are renamed out of the way at compile time, as
 * are its memcpy/memset/memcmp/strlen (a hosted program has libc's).
 *
 * Nothing here may call r_rebuild_memory, r_restore_* or the other
 * functions that change the process: only the reading half is hosted.
 * Not thread-safe (the restorer's state is global).
 */
#ifndef CAIRN_FUZZ_RESTORE_HOSTED_H
#define CAIRN_FUZZ_RESTORE_HOSTED_H

#include <stddef.h>
#include <stdint.h>

#include "restore.h"

/* What rh_run_path runs after r_load_image accepted the image. */
#define RH_LAYOUT 0x1u /* r_check_layout (against this process's vDSO) */
#define RH_IDENT 0x2u  /* r_ident_load */
#define RH_THREADS 0x4u /* with RH_IDENT: r_threads_load(r_ident_pid()), then
                           r_timers_load if that accepted the records */
#define RH_SPARSE 0x8u /* memory.c fill_sparse of every sparse mapping, its
                          runs read into a scratch reservation of its size */
/* fill_sparse is skipped for a sparse mapping larger than this. */
#define RH_SCRATCH_MAX (4ull << 40)

struct rh_result {
    int load;           /* r_load_image: 0, -1 unusable, -2 corrupt */
    int layout;         /* r_check_layout: 0 or -1; 1 if not run */
    int threads;        /* r_threads_load: 0, -1, -2; 1 if not run */
    int timers;         /* r_timers_load: 0, -1, -2; 1 if not run */
    unsigned sparse_filled;  /* sparse mappings fill_sparse read whole */
    unsigned sparse_skipped; /* sparse mappings too large for a scratch */
    long fill_map;      /* the mapping fill_sparse was reading when the
                           restorer exited; -1 if none */
    int exit_status;    /* the status r_exit was called with, or -1 */
    unsigned nsaid;     /* messages the restorer wrote */
    char said[1024];    /* the first of them, "cairn-restore: ..." ("" if none) */
};

/* Resets the restorer's state (img, and the statics of ident.c, memory.c,
   threads.c and timers.c, as a fresh process has them), then runs
   r_load_image(path) and, if it returns 0, what flags asks for, in the
   restorer's order (each whatever the one before said, but r_timers_load
   only after r_threads_load accepted; fill_sparse last, where
   r_rebuild_memory would run).
   Returns res->load. img (restore.h) and rh_task()/rh_sigq() stay valid
   until the next call or rh_reset(). */
int rh_run_path(const char *path, unsigned flags, struct rh_result *res);

/* The same for an image in memory (written to a memfd). -3 if the memfd
   cannot be made. */
int rh_run(const void *data, size_t size, unsigned flags, struct rh_result *res);

/* Closes the descriptors the last run left open (the restorer keeps
   img.fd) and zeroes the restorer's state. */
void rh_reset(void);

/* ident.c's records after r_ident_load: the task section (*have is 1 if
   the image had a whole one) and the pending-signal queue. */
const struct cairn_proc_task *rh_task(int *have);
const struct cairn_proc_siginfo *rh_sigq(void);

/* threads.c's records after r_threads_load: *n threads (the core record's
   count), and the *nq other threads' pending signals in *q. */
const struct cairn_proc_thread *rh_threads(uint64_t *n, const struct cairn_proc_tsig **q,
                                           uint64_t *nq);
/* timers.c's records after r_timers_load: *n timers. */
const struct cairn_proc_timer *rh_timers(uint64_t *n);

#endif
