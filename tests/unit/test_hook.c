/*
 * test_hook.c — the checkpoint hook (cairn_set_checkpoint_hook) and the
 * exits returned instead of made (the no_exit option, CAIRN_EXIT and
 * cairn_exit_status), through the public API of the shared library.
 *
 *  - the hook runs exactly once per checkpoint (periodic, cairn_checkpoint,
 *    a continue signal), never when nothing is due, nor in cairn_restore,
 *    cairn_complete or cairn_close; a replaced or removed hook is not called;
 *  - it runs before anything is read or written: what it puts in a fixed
 *    region or a resized cairn_protect_buffer() region is what the image
 *    holds, and no temp file or new generation exists while it runs;
 *  - a negative return cancels the checkpoint: that error is returned, the
 *    previous generation stays, no temp file is left, failed counts it, a
 *    message says so; the next cairn_step() attempt comes one interval
 *    later; a positive return counts as 0; checkpoints from inside the hook
 *    are refused with CAIRN_ESTATE;
 *  - no_exit: after an exit signal and after a self-checkpoint (exit_code)
 *    cairn_step() returns CAIRN_EXIT in this process (an exit() would end
 *    the test program) with the right cairn_exit_status(), old generations
 *    already pruned and the store's lock released; the handle then refuses
 *    checkpoints; a cancelled checkpoint on an exit signal still gives
 *    CAIRN_EXIT, a cancelled periodic one does not; exit_on_signal = 0 still
 *    gives CAIRN_EXIT_REQUESTED (and its status) on a usable handle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cairn.h"
#include "cairn_image.h"
#include "fixture.h"

static cairn_options_t quiet_options(void)
{
    cairn_options_t o;
    cairn_options_init(&o);
    o.interval = 1e6; /* no periodic checkpoint unless a test asks */
    o.verbose = -1;
    return o;
}

/* What a hook sees and does. */
struct probe {
    const char *store;
    int calls;
    int ret;                /* what the hook returns */
    uint64_t *value;        /* a fixed region the hook overwrites, or NULL */
    uint64_t set_to;
    char **buf;             /* a buffer region the hook re-serialises, or NULL */
    size_t *buf_size;
    size_t gens_seen;       /* generations present while the hook ran */
    int temps_seen;         /* temp files present while the hook ran */
    int reentry_checkpoint; /* what cairn_checkpoint(c) gave inside */
    int reentry_complete;
    uint64_t steps_seen;
};

static int probe_hook(cairn_t *c, void *arg)
{
    struct probe *p = arg;
    p->calls++;
    p->gens_seen = th_generations(p->store, NULL, 0);
    p->temps_seen = th_count_names(p->store, ".tmp-", NULL);
    cairn_stats_t st;
    assert_int_equal(cairn_get_stats(c, &st), 0);
    p->steps_seen = st.steps;
    if (p->value)
        *p->value = p->set_to;
    if (p->buf) {
        /* Re-serialise: a new buffer of another size, as a binding would. */
        char text[64];
        int n = snprintf(text, sizeof text, "state at step %llu", (unsigned long long)st.steps);
        char *nb = realloc(*p->buf, (size_t)n);
        assert_non_null(nb);
        memcpy(nb, text, (size_t)n);
        *p->buf = nb;
        *p->buf_size = (size_t)n;
    }
    return p->ret;
}

static int reentering_hook(cairn_t *c, void *arg)
{
    struct probe *p = arg;
    p->calls++;
    p->reentry_checkpoint = cairn_checkpoint(c);
    p->reentry_complete = cairn_complete(c);
    return 0;
}

static int other_hook(cairn_t *c, void *arg)
{
    (void)c;
    (*(int *)arg)++;
    return 0;
}

static cairn_t *open_one(const char *store, const cairn_options_t *o, uint64_t *i)
{
    cairn_t *c;
    assert_int_equal(cairn_open(&c, store, o), 0);
    assert_int_equal(cairn_protect(c, "i", i, sizeof *i), 0);
    return c;
}

/* Restores the store in this process; returns "i" and the generation. */
static uint64_t restored_value(const char *store, uint64_t *gen)
{
    cairn_options_t o = quiet_options();
    uint64_t i = 0;
    cairn_t *c = open_one(store, &o, &i);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    if (gen)
        *gen = st.generation;
    cairn_close(c);
    return i;
}

/* ---- the hook -------------------------------------------------------------- */

static void test_once_per_checkpoint(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    o.policy = CAIRN_POLICY_STEPS;
    o.every_steps = 5;
    uint64_t i = 0;
    struct probe p = {.store = d->store};
    cairn_t *c = open_one(d->store, &o, &i);
    assert_int_equal(cairn_set_checkpoint_hook(c, probe_hook, &p), 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    assert_int_equal(p.calls, 0); /* not on restore */
    int checkpointed = 0;
    for (i = 1; i <= 23; i++) {
        int rc = cairn_step(c);
        assert_true(rc == 0 || rc == CAIRN_CHECKPOINTED);
        checkpointed += rc == CAIRN_CHECKPOINTED;
        assert_int_equal(p.calls, checkpointed); /* called only when one is due */
        if (rc == CAIRN_CHECKPOINTED)
            assert_int_equal(p.steps_seen, i);
    }
    assert_int_equal(checkpointed, 4);
    assert_int_equal(cairn_checkpoint(c), 0);
    assert_int_equal(p.calls, 5);
    raise(SIGUSR1); /* a continue signal: one checkpoint, one call */
    assert_int_equal(cairn_step(c), CAIRN_CHECKPOINTED);
    assert_int_equal(cairn_step(c), 0);
    assert_int_equal(p.calls, 6);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    assert_int_equal(st.checkpoints, 6);

    /* Replaced: the new hook only. Removed: none. */
    int other = 0;
    assert_int_equal(cairn_set_checkpoint_hook(c, other_hook, &other), 0);
    assert_int_equal(cairn_checkpoint(c), 0);
    assert_int_equal(other, 1);
    assert_int_equal(cairn_set_checkpoint_hook(c, NULL, NULL), 0);
    assert_int_equal(cairn_checkpoint(c), 0);
    assert_int_equal(other, 1);
    assert_int_equal(p.calls, 6);
    assert_int_equal(cairn_set_checkpoint_hook(c, probe_hook, &p), 0);
    assert_int_equal(cairn_complete(c), 0);
    cairn_close(c);
    assert_int_equal(p.calls, 6); /* not on complete or close */
    assert_int_equal(cairn_set_checkpoint_hook(NULL, probe_hook, &p), CAIRN_EINVAL);
}

static void test_runs_before_writing(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    uint64_t i = 0, stamp = 0;
    char *buf = NULL;
    size_t buf_size = 0;
    cairn_t *c = open_one(d->store, &o, &i);
    assert_int_equal(cairn_protect(c, "stamp", &stamp, sizeof stamp), 0);
    assert_int_equal(cairn_protect_buffer(c, "buf", (void **)&buf, &buf_size), 0);
    struct probe p = {.store = d->store, .value = &stamp, .buf = &buf, .buf_size = &buf_size};
    assert_int_equal(cairn_set_checkpoint_hook(c, probe_hook, &p), 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    for (i = 1; i <= 7; i++)
        cairn_step(c);
    p.set_to = 1111;
    assert_int_equal(cairn_checkpoint(c), 0);
    assert_int_equal(p.gens_seen, 0); /* nothing written yet when it ran */
    assert_int_equal(p.temps_seen, 0);
    for (; i <= 12; i++)
        cairn_step(c);
    p.set_to = 2222;
    assert_int_equal(cairn_checkpoint(c), 0);
    assert_int_equal(p.gens_seen, 1);
    assert_int_equal(p.temps_seen, 0);
    cairn_close(c);
    free(buf);

    /* The image holds what the hook wrote, in both kinds of region. */
    uint64_t i2 = 0, stamp2 = 0;
    char *buf2 = NULL;
    size_t size2 = 0;
    c = open_one(d->store, &o, &i2);
    cairn_protect(c, "stamp", &stamp2, sizeof stamp2);
    cairn_protect_buffer(c, "buf", (void **)&buf2, &size2);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    assert_int_equal(stamp2, 2222);
    assert_int_equal(i2, 13); /* i as the loop left it */
    const char *want = "state at step 12";
    assert_int_equal(size2, strlen(want));
    assert_memory_equal(buf2, want, size2);
    cairn_close(c);
    free(buf2);
}

static void test_negative_return_cancels(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    o.policy = CAIRN_POLICY_STEPS;
    o.every_steps = 4;
    uint64_t i = 0;
    struct probe p = {.store = d->store};
    cairn_t *c = open_one(d->store, &o, &i);
    assert_int_equal(cairn_set_checkpoint_hook(c, probe_hook, &p), 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    i = 10;
    assert_int_equal(cairn_checkpoint(c), 0); /* generation 1 holds 10 */

    i = 20;
    p.ret = -EIO;
    struct th_capture cap;
    th_capture_begin(&cap);
    int rc = cairn_checkpoint(c);
    char *err = th_capture_end(&cap);
    assert_int_equal(rc, -EIO);
    th_assert_contains(err, "checkpoint cancelled by its hook");
    th_assert_contains(err, "generation 1) is kept");
    free(err);
    uint64_t gens[4];
    assert_int_equal(th_generations(d->store, gens, 4), 1);
    assert_int_equal(gens[0], 1);
    assert_int_equal(th_count_names(d->store, ".tmp-", NULL), 0);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.checkpoints, 1);
    assert_int_equal(st.generation, 1);

    /* From cairn_step(): the error, and the next attempt an interval later. */
    p.ret = CAIRN_EINVAL;
    p.calls = 0;
    int got[8];
    th_capture_begin(&cap);
    for (int k = 0; k < 8; k++)
        got[k] = cairn_step(c);
    free(th_capture_end(&cap));
    for (int k = 0; k < 8; k++)
        assert_int_equal(got[k], k == 3 || k == 7 ? CAIRN_EINVAL : 0);
    assert_int_equal(p.calls, 2);
    assert_int_equal(th_generations(d->store, NULL, 0), 1);

    /* A positive return counts as 0. */
    p.ret = 7;
    i = 30;
    assert_int_equal(cairn_checkpoint(c), 0);
    cairn_get_stats(c, &st);
    assert_int_equal(st.failed, 3);
    assert_int_equal(st.generation, 2);
    cairn_close(c);
    uint64_t gen;
    assert_int_equal(restored_value(d->store, &gen), 30);
    assert_int_equal(gen, 2);
}

static void test_cancelled_keeps_previous_on_restore(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    uint64_t i = 0;
    struct probe p = {.store = d->store, .ret = -ECANCELED};
    cairn_t *c = open_one(d->store, &o, &i);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    i = 5;
    assert_int_equal(cairn_checkpoint(c), 0);
    assert_int_equal(cairn_set_checkpoint_hook(c, probe_hook, &p), 0);
    i = 6;
    struct th_capture cap;
    th_capture_begin(&cap);
    assert_int_equal(cairn_checkpoint(c), -ECANCELED);
    free(th_capture_end(&cap));
    cairn_close(c);
    uint64_t gen;
    assert_int_equal(restored_value(d->store, &gen), 5);
    assert_int_equal(gen, 1);
}

static void test_no_checkpoint_from_the_hook(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    uint64_t i = 0;
    struct probe p = {.store = d->store};
    cairn_t *c = open_one(d->store, &o, &i);
    assert_int_equal(cairn_set_checkpoint_hook(c, reentering_hook, &p), 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    struct th_capture cap;
    th_capture_begin(&cap);
    assert_int_equal(cairn_checkpoint(c), 0);
    free(th_capture_end(&cap));
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.reentry_checkpoint, CAIRN_ESTATE);
    assert_int_equal(p.reentry_complete, CAIRN_ESTATE);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    assert_int_equal(st.checkpoints, 1);
    assert_int_equal(st.generation, 1);
    cairn_close(c);
    assert_false(cairn_store_is_finished(d->store));
}

/* ---- exits returned instead of made ---------------------------------------- */

/* The store's lock is free: another handle can open it. */
static void assert_lock_released(const char *store)
{
    cairn_options_t o = quiet_options();
    o.exit_signals[0] = 0; /* leaves the first handle's signal handlers be */
    o.continue_signals[0] = 0;
    cairn_t *other;
    assert_int_equal(cairn_open(&other, store, &o), 0);
    cairn_close(other);
}

static void test_no_exit_after_signal(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    o.no_exit = 1;
    o.keep = 1;
    o.verbose = 0;
    uint64_t i = 0;
    struct probe p = {.store = d->store};
    cairn_t *c = open_one(d->store, &o, &i);
    assert_int_equal(cairn_set_checkpoint_hook(c, probe_hook, &p), 0);
    assert_int_equal(cairn_exit_status(c), CAIRN_ESTATE); /* nothing requested */
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    i = 1;
    assert_int_equal(cairn_checkpoint(c), 0); /* generation 1, pruned at the exit */
    struct th_capture cap;
    th_capture_begin(&cap);
    int rc = 0;
    for (i = 2; i <= 5 && rc == 0; i++) {
        if (i == 4)
            raise(SIGTERM);
        rc = cairn_step(c);
    }
    char *err = th_capture_end(&cap);
    /* Still here: no exit(). */
    assert_int_equal(rc, CAIRN_EXIT);
    assert_int_equal(i, 5); /* the step at i == 4 returned it */
    assert_int_equal(p.calls, 2);
    assert_int_equal(cairn_exit_status(c), 143);
    th_assert_contains(err, "signal 15: checkpoint written, exiting with status 143");
    th_assert_not_contains(err, "checkpoints ("); /* the summary is cairn_close()'s */
    free(err);
    /* The store is done with: pruned to keep = 1, unlocked, no more checkpoints. */
    uint64_t gens[4];
    assert_int_equal(th_generations(d->store, gens, 4), 1);
    assert_int_equal(gens[0], 2);
    assert_lock_released(d->store);
    th_capture_begin(&cap);
    assert_int_equal(cairn_checkpoint(c), CAIRN_ESTATE);
    assert_int_equal(cairn_complete(c), CAIRN_ESTATE);
    err = th_capture_end(&cap);
    free(err);
    assert_int_equal(cairn_step(c), 0); /* nothing is ever due again */
    assert_int_equal(p.calls, 2);
    assert_int_equal(cairn_exit_status(c), 143);
    th_capture_begin(&cap);
    cairn_close(c);
    err = th_capture_end(&cap);
    th_assert_contains(err, "2 checkpoints");
    free(err);
    assert_int_equal(restored_value(d->store, NULL), 4);

    /* signal_exit_status, and another exit signal. */
    th_rmtree(d->store);
    o = quiet_options();
    o.no_exit = 1;
    o.exit_signals[0] = SIGUSR2;
    o.signal_exit_status = 7;
    c = open_one(d->store, &o, &i);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    i = 9;
    raise(SIGUSR2);
    assert_int_equal(cairn_step(c), CAIRN_EXIT);
    assert_int_equal(cairn_exit_status(c), 7);
    cairn_close(c);
    assert_int_equal(restored_value(d->store, NULL), 9);
}

static void test_no_exit_after_self_checkpoint(void **state)
{
    struct th_dir *d = *state;
    setenv("CAIRN_EXIT_CODE", "85", 1); /* as HTCondor's job would have it */
    for (uint64_t run = 1; run <= 3; run++) {
        cairn_options_t o = quiet_options();
        o.policy = CAIRN_POLICY_STEPS;
        o.every_steps = 3;
        o.keep = 1;
        o.no_exit = 1;
        o.verbose = 0;
        uint64_t i = 0;
        struct probe p = {.store = d->store};
        cairn_t *c = open_one(d->store, &o, &i);
        assert_int_equal(cairn_set_checkpoint_hook(c, probe_hook, &p), 0);
        assert_int_equal(cairn_restore(c), run == 1 ? CAIRN_FRESH : CAIRN_RESTORED);
        assert_int_equal(i, 3 * (run - 1));
        struct th_capture cap;
        th_capture_begin(&cap);
        int rc = 0, steps = 0;
        while (rc == 0 && steps < 100) {
            i++;
            steps++;
            rc = cairn_step(c);
        }
        char *err = th_capture_end(&cap);
        assert_int_equal(rc, CAIRN_EXIT);
        assert_int_equal(steps, 3);
        assert_int_equal(p.calls, 1);
        assert_int_equal(cairn_exit_status(c), 85);
        char want[96];
        snprintf(want, sizeof want,
                 "generation %llu written (self-checkpoint), exiting with status 85",
                 (unsigned long long)run);
        th_assert_contains(err, want);
        free(err);
        /* Pruned before CAIRN_EXIT came back, and the lock released. */
        uint64_t gens[4];
        assert_int_equal(th_generations(d->store, gens, 4), 1);
        assert_int_equal(gens[0], run);
        assert_lock_released(d->store);
        th_capture_begin(&cap);
        cairn_close(c);
        free(th_capture_end(&cap));
    }
    uint64_t gen;
    assert_int_equal(restored_value(d->store, &gen), 9);
    assert_int_equal(gen, 3);
}

static void test_no_exit_when_cancelled(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    o.policy = CAIRN_POLICY_STEPS;
    o.every_steps = 2;
    o.exit_code = 85;
    o.no_exit = 1;
    o.verbose = 0;
    uint64_t i = 0;
    struct probe p = {.store = d->store, .ret = -ECANCELED};
    cairn_t *c = open_one(d->store, &o, &i);
    assert_int_equal(cairn_set_checkpoint_hook(c, probe_hook, &p), 0);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    struct th_capture cap;
    th_capture_begin(&cap);
    /* A cancelled periodic checkpoint: no exit requested, the job goes on. */
    assert_int_equal(cairn_step(c), 0);
    assert_int_equal(cairn_step(c), -ECANCELED);
    assert_int_equal(cairn_exit_status(c), CAIRN_ESTATE);
    /* A cancelled checkpoint on an exit signal: the exit still comes. */
    raise(SIGTERM);
    int rc = cairn_step(c);
    char *err = th_capture_end(&cap);
    assert_int_equal(rc, CAIRN_EXIT);
    assert_int_equal(cairn_exit_status(c), 143);
    th_assert_contains(err, "checkpoint cancelled by its hook");
    th_assert_contains(err, "signal 15: checkpoint FAILED, exiting with status 143");
    free(err);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.checkpoints, 0);
    assert_int_equal(p.calls, 2);
    th_capture_begin(&cap);
    cairn_close(c);
    free(th_capture_end(&cap));
    assert_int_equal(th_generations(d->store, NULL, 0), 0);
}

static void test_exit_requested_keeps_handle(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    o.exit_on_signal = 0; /* wins over no_exit for signals */
    o.no_exit = 1;
    uint64_t i = 0;
    cairn_t *c = open_one(d->store, &o, &i);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    i = 3;
    raise(SIGTERM);
    assert_int_equal(cairn_step(c), CAIRN_EXIT_REQUESTED);
    assert_int_equal(cairn_exit_status(c), 143);
    i = 4;
    assert_int_equal(cairn_checkpoint(c), 0); /* still usable */
    assert_int_equal(cairn_step(c), 0);
    cairn_close(c);
    assert_int_equal(restored_value(d->store, NULL), 4);
    assert_int_equal(cairn_exit_status(NULL), CAIRN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        th_unit_test(test_once_per_checkpoint),
        th_unit_test(test_runs_before_writing),
        th_unit_test(test_negative_return_cancels),
        th_unit_test(test_cancelled_keeps_previous_on_restore),
        th_unit_test(test_no_checkpoint_from_the_hook),
        th_unit_test(test_no_exit_after_signal),
        th_unit_test(test_no_exit_after_self_checkpoint),
        th_unit_test(test_no_exit_when_cancelled),
        th_unit_test(test_exit_requested_keeps_handle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
