/* SPDX-License-Identifier: MIT */
/*
 * test_signals.c — checkpoint signals and the self-checkpoint exit code,
 * with real signals and real child processes.
 *
 *  - SIGUSR1: the next cairn_step() checkpoints, returns CAIRN_CHECKPOINTED
 *    and the job continues;
 *  - SIGTERM with exit_on_signal = 0: CAIRN_EXIT_REQUESTED after the
 *    checkpoint; with the default, the process exits 143 after it (raised
 *    by the job itself, and sent by another process);
 *  - configured signals and exit status, from options and the environment;
 *  - CAIRN_EXIT_CODE=85: every periodic checkpoint ends with exit(85) and
 *    the next start restores, until the job completes;
 *  - cairn_close() puts the previous handlers back.
 */
#define _GNU_SOURCE
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

/* The handle of a child that cairn_step() may exit() from: kept reachable
   so that LeakSanitizer, run at that exit, does not report it. */
static cairn_t *child_handle;

static cairn_t *open_with(const char *store, const cairn_options_t *o, uint64_t *i)
{
    cairn_t *c;
    assert_int_equal(cairn_open(&c, store, o), 0);
    assert_int_equal(cairn_protect(c, "i", i, sizeof *i), 0);
    return c;
}

static cairn_options_t quiet_options(void)
{
    cairn_options_t o;
    cairn_options_init(&o);
    o.interval = 1e6; /* no periodic checkpoint during a test */
    o.verbose = -1;
    return o;
}

/* Restores the store in this process and returns the value of "i". */
static uint64_t restored_value(const char *store, uint64_t *steps)
{
    cairn_options_t o = quiet_options();
    uint64_t i = 0;
    cairn_t *c = open_with(store, &o, &i);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    if (steps)
        *steps = st.steps;
    cairn_close(c);
    return i;
}

static void test_usr1_checkpoints_and_continues(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    uint64_t i = 0;
    cairn_t *c = open_with(d->store, &o, &i);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    for (i = 1; i <= 10; i++) {
        if (i == 4 || i == 8)
            raise(SIGUSR1);
        int rc = cairn_step(c);
        assert_int_equal(rc, i == 4 || i == 8 ? CAIRN_CHECKPOINTED : 0);
    }
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    assert_int_equal(st.checkpoints, 2);
    assert_int_equal(st.generation, 2);
    cairn_close(c);
    uint64_t steps;
    assert_int_equal(restored_value(d->store, &steps), 8);
    assert_int_equal(steps, 8);
}

static void test_term_without_exit(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    o.exit_on_signal = 0;
    uint64_t i = 0;
    cairn_t *c = open_with(d->store, &o, &i);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    for (i = 1; i <= 3; i++) {
        if (i == 3)
            raise(SIGTERM);
        assert_int_equal(cairn_step(c), i == 3 ? CAIRN_EXIT_REQUESTED : 0);
    }
    /* An exit request wins over a pending continue request. */
    raise(SIGTERM);
    raise(SIGUSR1);
    i = 42;
    assert_int_equal(cairn_step(c), CAIRN_EXIT_REQUESTED);
    assert_int_equal(cairn_step(c), 0);
    cairn_close(c);
    assert_int_equal(restored_value(d->store, NULL), 42);
}

/* In a child: counts i up, calling cairn_step(); raises `raise_sig` at
   step `at` (0: never, loop until killed). Reports readiness on `ready`. */
static void child_loop(const char *store, const cairn_options_t *o, int raise_sig,
                       uint64_t at, int ready)
{
    static uint64_t i;
    i = 0;
    child_handle = open_with(store, o, &i);
    if (cairn_restore(child_handle) < 0)
        _exit(90);
    if (ready >= 0) {
        if (write(ready, "r", 1) != 1)
            _exit(91);
        close(ready);
    }
    for (;;) {
        i++;
        if (at && i == at)
            raise(raise_sig);
        cairn_step(child_handle);
        if (at && i > at + 1000)
            _exit(92); /* the signal did not end the job */
    }
}

static void test_term_exits_143(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o;
    cairn_options_init(&o);
    o.interval = 1e6;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child_loop(d->store, &o, SIGTERM, 5, -1);
    assert_int_equal(th_wait(pid), 143);
    uint64_t steps;
    assert_int_equal(restored_value(d->store, &steps), 5);
    assert_int_equal(steps, 5);
}

/* SIGTERM sent by another process at an arbitrary moment. */
static void test_term_from_outside(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child_loop(d->store, &o, 0, 0, p[1]);
    }
    close(p[1]);
    char b;
    assert_int_equal(read(p[0], &b, 1), 1);
    close(p[0]);
    kill(pid, SIGTERM);
    assert_int_equal(th_wait(pid), 143);
    uint64_t steps;
    uint64_t i = restored_value(d->store, &steps);
    assert_true(i > 0);
    assert_int_equal(i, steps); /* the image is of a consistent moment */
}

static void test_configured_signals(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o = quiet_options();
    o.exit_signals[0] = SIGUSR2;
    o.signal_exit_status = 7;
    pid_t pid = fork();
    if (pid == 0)
        child_loop(d->store, &o, SIGUSR2, 9, -1);
    assert_int_equal(th_wait(pid), 7);
    assert_int_equal(restored_value(d->store, NULL), 9);

    /* From the environment: SIGINT exits with 128 + 2. */
    th_rmtree(d->store);
    o = quiet_options();
    pid = fork();
    if (pid == 0) {
        setenv("CAIRN_EXIT_SIGNALS", "INT", 1);
        child_loop(d->store, &o, SIGINT, 3, -1);
    }
    assert_int_equal(th_wait(pid), 130);
    assert_int_equal(restored_value(d->store, NULL), 3);
}

/* One run of a job that counts to 10 with CAIRN_EXIT_CODE=85 and
   CAIRN_STEPS=3, in a child; returns its exit status. */
static int self_checkpointing_run(const char *store)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("CAIRN_EXIT_CODE", "85", 1);
        setenv("CAIRN_STEPS", "3", 1);
        setenv("CAIRN_QUIET", "1", 1);
        static uint64_t i;
        child_handle = open_with(store, NULL, &i);
        if (cairn_restore(child_handle) < 0)
            _exit(90);
        while (i < 10) {
            i++;
            cairn_step(child_handle);
        }
        if (cairn_complete(child_handle) < 0)
            _exit(91);
        cairn_close(child_handle);
        _exit(0);
    }
    return th_wait(pid);
}

static void test_exit_code_85(void **state)
{
    struct th_dir *d = *state;
    for (uint64_t run = 1; run <= 3; run++) {
        assert_int_equal(self_checkpointing_run(d->store), 85);
        uint64_t steps;
        assert_int_equal(restored_value(d->store, &steps), 3 * run);
        assert_int_equal(steps, 3 * run);
        /* The store holds one image per run, the newest two kept. */
        uint64_t gens[4];
        size_t n = th_generations(d->store, gens, 4);
        assert_int_equal(gens[n - 1], run);
    }
    assert_int_equal(self_checkpointing_run(d->store), 0);
    assert_int_equal(cairn_store_is_finished(d->store), 1);
    assert_int_equal(th_generations(d->store, NULL, 0), 0);
}

static int saw_usr1;
static void own_handler(int sig)
{
    (void)sig;
    saw_usr1 = 1;
}

static void test_handlers_put_back(void **state)
{
    struct th_dir *d = *state;
    struct sigaction mine = {.sa_handler = own_handler}, now;
    sigemptyset(&mine.sa_mask);
    struct sigaction old_usr1, old_term;
    sigaction(SIGUSR1, &mine, &old_usr1);
    sigaction(SIGTERM, NULL, &old_term);
    cairn_options_t o = quiet_options();
    uint64_t i = 0;
    cairn_t *c = open_with(d->store, &o, &i);
    sigaction(SIGUSR1, NULL, &now);
    assert_true(now.sa_handler != own_handler);
    cairn_close(c);
    sigaction(SIGUSR1, NULL, &now);
    assert_true(now.sa_handler == own_handler);
    sigaction(SIGTERM, NULL, &now);
    assert_true(now.sa_handler == old_term.sa_handler);
    raise(SIGUSR1);
    assert_int_equal(saw_usr1, 1);
    sigaction(SIGUSR1, &old_usr1, NULL);

    /* "none": no handler installed at all. */
    o.exit_signals[0] = 0;
    o.continue_signals[0] = 0;
    c = open_with(d->store, &o, &i);
    sigaction(SIGUSR1, NULL, &now);
    assert_true(now.sa_handler == old_usr1.sa_handler);
    cairn_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        th_unit_test(test_usr1_checkpoints_and_continues),
        th_unit_test(test_term_without_exit),
        th_unit_test(test_term_exits_143),
        th_unit_test(test_term_from_outside),
        th_unit_test(test_configured_signals),
        th_unit_test(test_exit_code_85),
        th_unit_test(test_handlers_put_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
