/* SPDX-License-Identifier: MIT */
/*
 * test_policy.c — when checkpoints are written, and the statistics.
 *
 * cairn_optimal_interval() is checked against values worked by hand from
 * Daly's formula; the steps policy must write exactly every N steps, across
 * a restart too; the auto policy must report the interval it chose and why;
 * the counters in cairn_stats_t must add up. No assertion depends on timing.
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "cairn.h"
#include "fixture.h"

static void assert_close(double got, double want)
{
    if (fabs(got - want) > 1e-6 * fabs(want) + 1e-12)
        fail_msg("got %.12g, want %.12g", got, want);
}

/*
 * T = sqrt(2CM) [1 + sqrt(C/2M)/3 + (C/2M)/9] - C, for C < 2M; M otherwise.
 *   C=10,  M=3600:  sqrt(72000)=268.3281573, r=1/720, sqrt(r)=0.0372678
 *                   -> 268.3281573 * 1.0125769 - 10 = 261.7028993
 *   C=60,  M=14400: sqrt(1728000)=1314.534138, r=1/480, sqrt(r)=0.0456435
 *                   -> 1314.534138 * 1.0156774 - 60 = 1274.838428
 *   C=1,   M=86400: sqrt(172800)=415.6921938, r=1/172800
 *                   -> 415.6921938 * 1.0008028 - 1 = 415.0257944
 *   C=100, M=100:   sqrt(20000)=141.4213562, r=0.5, sqrt(r)=0.7071068
 *                   -> 141.4213562 * 1.2912579 - 100 = 82.6114316
 *   C=200, M=100 and beyond: C >= 2M, so M.
 */
static void test_optimal_interval(void **state)
{
    (void)state;
    assert_close(cairn_optimal_interval(10, 3600), 261.7028993);
    assert_close(cairn_optimal_interval(60, 14400), 1274.838428);
    assert_close(cairn_optimal_interval(1, 86400), 415.0257944);
    assert_close(cairn_optimal_interval(100, 100), 82.6114316);
    assert_close(cairn_optimal_interval(200, 100), 100);
    assert_close(cairn_optimal_interval(1000, 100), 100);
    /* Young's first-order sqrt(2CM) is the leading term: Daly is below it by
       about C for small C/M. */
    double young = sqrt(2.0 * 0.01 * 1e6);
    double daly = cairn_optimal_interval(0.01, 1e6);
    assert_true(daly < young && daly > young - 0.011);
    /* Nonsense in, 0 out. */
    assert_true(cairn_optimal_interval(0, 100) == 0);
    assert_true(cairn_optimal_interval(-1, 100) == 0);
    assert_true(cairn_optimal_interval(1, 0) == 0);
    assert_true(cairn_optimal_interval(NAN, 100) == 0);
    assert_true(cairn_optimal_interval(1, NAN) == 0);
}

static cairn_t *open_steps(const char *store, uint64_t every, uint64_t *counter)
{
    cairn_options_t o;
    cairn_options_init(&o);
    o.policy = CAIRN_POLICY_STEPS;
    o.every_steps = every;
    o.keep = 1000;
    o.verbose = -1;
    cairn_t *c;
    assert_int_equal(cairn_open(&c, store, &o), 0);
    assert_int_equal(cairn_protect(c, "counter", counter, sizeof *counter), 0);
    return c;
}

/* Exactly every N steps, and the image holds the state of that step. */
static void test_steps_policy(void **state)
{
    struct th_dir *d = *state;
    uint64_t i = 0;
    cairn_t *c = open_steps(d->store, 7, &i);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    int written = 0;
    for (i = 1; i <= 50; i++) {
        int rc = cairn_step(c);
        assert_true(rc == 0 || rc == CAIRN_CHECKPOINTED);
        if (rc == CAIRN_CHECKPOINTED) {
            written++;
            assert_int_equal(i % 7, 0);
        } else {
            assert_int_not_equal(i % 7, 0);
        }
    }
    assert_int_equal(written, 7);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    assert_int_equal(st.checkpoints, 7);
    assert_int_equal(st.steps, 50);
    assert_int_equal(st.generation, 7);
    assert_true(st.interval == 0);
    assert_string_equal(st.policy, "every 7 steps");
    cairn_close(c);

    /* Restart: the newest image is from step 49 (i = 49 when written), and
       the count goes on from there: next checkpoint at step 56. */
    uint64_t gens[16];
    assert_int_equal(th_generations(d->store, gens, 16), 7);
    i = 0;
    c = open_steps(d->store, 7, &i);
    assert_int_equal(cairn_restore(c), CAIRN_RESTORED);
    assert_int_equal(i, 49);
    cairn_get_stats(c, &st);
    assert_int_equal(st.steps, 49);
    for (i++; i <= 56; i++) {
        int rc = cairn_step(c);
        assert_int_equal(rc, i == 56 ? CAIRN_CHECKPOINTED : 0);
    }
    cairn_get_stats(c, &st);
    assert_int_equal(st.generation, 8);
    cairn_close(c);
}

/* With a long interval nothing is written, however many steps. */
static void test_time_policy_not_due(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o;
    cairn_options_init(&o);
    o.interval = 1e6;
    o.verbose = -1;
    cairn_t *c;
    uint64_t x = 0;
    assert_int_equal(cairn_open(&c, d->store, &o), 0);
    cairn_protect(c, "x", &x, sizeof x);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(cairn_step(c), 0);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    assert_int_equal(st.checkpoints, 0);
    assert_int_equal(st.steps, 100000);
    assert_true(st.interval == 1e6);
    assert_string_equal(st.policy, "every 1e+06s");
    assert_int_equal(th_generations(d->store, NULL, 0), 0);
    cairn_close(c);
}

/* Auto: before any checkpoint the cost is estimated from the protected
   bytes (200 MB/s + 10 ms); afterwards the measured cost is used. */
static void test_auto_policy(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o;
    cairn_options_init(&o);
    o.policy = CAIRN_POLICY_AUTO;
    o.mtbi = 1e7;
    o.verbose = -1;
    cairn_t *c;
    size_t n = 1 << 20;
    unsigned char *buf = calloc(1, n);
    assert_int_equal(cairn_open(&c, d->store, &o), 0);
    cairn_protect(c, "buf", buf, n);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    double est = (double)n / 200e6 + 0.010;
    assert_close(st.interval, cairn_optimal_interval(est, 1e7));
    th_assert_contains(st.policy, "auto: Daly");
    th_assert_contains(st.policy, "estimated");

    raise(SIGUSR1); /* forces a checkpoint in the next step */
    assert_int_equal(cairn_step(c), CAIRN_CHECKPOINTED);
    cairn_get_stats(c, &st);
    assert_true(st.last_cost > 0);
    double want = cairn_optimal_interval(st.last_cost, 1e7);
    assert_close(st.interval, want < 1 ? 1 : want);
    th_assert_contains(st.policy, "measured");
    th_assert_contains(st.policy, "MTBI 10000000s");
    cairn_close(c);

    /* A tiny MTBI: the model would say less than a second; 1 s is the floor. */
    th_rmtree(d->store);
    o.mtbi = 0.001;
    assert_int_equal(cairn_open(&c, d->store, &o), 0);
    cairn_protect(c, "buf", buf, n);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    cairn_get_stats(c, &st);
    assert_true(st.interval == 1.0);
    cairn_close(c);
    free(buf);
}

/* Counters: checkpoints, bytes (the image sizes), steps and restores across
   restarts, generation; failed stays 0 when nothing fails. */
static void test_stats(void **state)
{
    struct th_dir *d = *state;
    uint64_t total_bytes = 0;
    for (int run = 0; run < 3; run++) {
        uint64_t x = 0;
        cairn_t *c = open_steps(d->store, 5, &x);
        int rc = cairn_restore(c);
        assert_int_equal(rc, run == 0 ? CAIRN_FRESH : CAIRN_RESTORED);
        cairn_stats_t st;
        cairn_get_stats(c, &st);
        assert_int_equal(st.restores, run);
        assert_int_equal(st.steps, run * 10);
        assert_int_equal(st.checkpoints, 0);
        assert_int_equal(st.bytes_written, 0);
        total_bytes = 0;
        for (int i = 0; i < 10; i++) {
            x++;
            if (cairn_step(c) == CAIRN_CHECKPOINTED) {
                cairn_get_stats(c, &st);
                struct stat sb;
                assert_int_equal(stat(th_gen_path(d->store, st.generation), &sb), 0);
                total_bytes += (uint64_t)sb.st_size;
            }
        }
        cairn_get_stats(c, &st);
        assert_int_equal(st.checkpoints, 2);
        assert_int_equal(st.failed, 0);
        assert_int_equal(st.bytes_written, total_bytes);
        assert_int_equal(st.generation, 2 * (run + 1));
        assert_int_equal(st.steps, (run + 1) * 10);
        assert_true(st.seconds_writing >= st.last_cost && st.last_cost > 0);
        cairn_close(c);
    }
    assert_int_equal(cairn_get_stats(NULL, NULL), CAIRN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_optimal_interval),
        th_unit_test(test_steps_policy),
        th_unit_test(test_time_policy_not_due),
        th_unit_test(test_auto_policy),
        th_unit_test(test_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
