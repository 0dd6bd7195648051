/* SPDX-License-Identifier: MIT */
/*
 * test_options.c — option defaults and every CAIRN_* environment override.
 *
 * A pool admin tunes jobs through the environment, so each variable is
 * checked with valid values (applied, winning over what the program set)
 * and malformed ones (reported on stderr naming the variable and value, and
 * ignored without touching any field).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cairn.h"
#include "cairn_options.h"
#include "fixture.h"

static void test_defaults(void **state)
{
    (void)state;
    cairn_options_t o;
    memset(&o, 0xa5, sizeof o);
    cairn_options_init(&o);
    assert_int_equal(o.struct_size, sizeof o);
    assert_int_equal(o.policy, CAIRN_POLICY_TIME);
    assert_true(o.interval == 300.0);
    assert_int_equal(o.every_steps, 0);
    assert_true(o.mtbi == 14400.0);
    assert_int_equal(o.keep, 2);
    assert_int_equal(o.exit_code, -1);
    assert_int_equal(o.compress_level, 0);
    assert_int_equal(o.exit_signals[0], SIGTERM);
    assert_int_equal(o.exit_signals[1], 0);
    assert_int_equal(o.continue_signals[0], SIGUSR1);
    assert_int_equal(o.continue_signals[1], 0);
    assert_int_equal(o.exit_on_signal, 1);
    assert_int_equal(o.signal_exit_status, -1);
    assert_int_equal(o.verbose, 0);
    assert_null(o.key_file);
    assert_int_equal(cairn__options_check(&o), 0);
}

/* A program built against an older, shorter struct: only its prefix is
   written. */
static void test_init_short_struct(void **state)
{
    (void)state;
    cairn_options_t o;
    memset(&o, 0x5a, sizeof o);
    size_t n = offsetof(cairn_options_t, mtbi);
    cairn_options_init_(&o, n);
    assert_int_equal(o.struct_size, n);
    assert_true(o.interval == 300.0);
    unsigned char *p = (unsigned char *)&o;
    for (size_t i = n; i < sizeof o; i++)
        assert_int_equal(p[i], 0x5a);
    cairn_options_init_(NULL, sizeof o); /* accepted, does nothing */
}

/* Applies var=value to defaults with stderr captured; returns the text. */
static char *apply(cairn_options_t *o, const char *var, const char *value)
{
    cairn_options_init(o);
    setenv(var, value, 1);
    struct th_capture cap;
    th_capture_begin(&cap);
    cairn__options_from_env(o);
    char *err = th_capture_end(&cap);
    unsetenv(var);
    return err;
}

static void expect_clean(char *err)
{
    assert_string_equal(err, "");
    free(err);
}

static void test_env_time_and_policy(void **state)
{
    (void)state;
    cairn_options_t o;
    expect_clean(apply(&o, "CAIRN_INTERVAL", "2.5"));
    assert_int_equal(o.policy, CAIRN_POLICY_TIME);
    assert_true(o.interval == 2.5);
    expect_clean(apply(&o, "CAIRN_INTERVAL", "600"));
    assert_true(o.interval == 600.0);
    expect_clean(apply(&o, "CAIRN_INTERVAL", "0.001"));
    assert_true(o.interval == 0.001);
    /* The same durations as every cairn option: units s, m, h, d. */
    expect_clean(apply(&o, "CAIRN_INTERVAL", "5s"));
    assert_true(o.interval == 5.0);
    expect_clean(apply(&o, "CAIRN_INTERVAL", "10m"));
    assert_true(o.interval == 600.0);
    expect_clean(apply(&o, "CAIRN_INTERVAL", "auto"));
    assert_int_equal(o.policy, CAIRN_POLICY_AUTO);
    expect_clean(apply(&o, "CAIRN_INTERVAL", "AUTO"));
    assert_int_equal(o.policy, CAIRN_POLICY_AUTO);
    expect_clean(apply(&o, "CAIRN_STEPS", "10"));
    assert_int_equal(o.policy, CAIRN_POLICY_STEPS);
    assert_int_equal(o.every_steps, 10);
    expect_clean(apply(&o, "CAIRN_STEPS", "1"));
    assert_int_equal(o.every_steps, 1);
    expect_clean(apply(&o, "CAIRN_MTBI", "3600"));
    assert_true(o.mtbi == 3600.0);
    expect_clean(apply(&o, "CAIRN_MTBI", "0.5"));
    assert_true(o.mtbi == 0.5);
    expect_clean(apply(&o, "CAIRN_MTBI", "4h"));
    assert_true(o.mtbi == 4 * 3600.0);
}

static void test_env_keep_exit_compress(void **state)
{
    (void)state;
    cairn_options_t o;
    expect_clean(apply(&o, "CAIRN_KEEP", "1"));
    assert_int_equal(o.keep, 1);
    expect_clean(apply(&o, "CAIRN_KEEP", "5"));
    assert_int_equal(o.keep, 5);
    expect_clean(apply(&o, "CAIRN_KEEP", "1000"));
    assert_int_equal(o.keep, 1000);
    expect_clean(apply(&o, "CAIRN_EXIT_CODE", "85"));
    assert_int_equal(o.exit_code, 85);
    expect_clean(apply(&o, "CAIRN_EXIT_CODE", "0"));
    assert_int_equal(o.exit_code, 0);
    expect_clean(apply(&o, "CAIRN_EXIT_CODE", "255"));
    assert_int_equal(o.exit_code, 255);
    o.exit_code = 77;
    setenv("CAIRN_EXIT_CODE", "off", 1);
    cairn__options_from_env(&o);
    unsetenv("CAIRN_EXIT_CODE");
    assert_int_equal(o.exit_code, -1);

    static const struct {
        const char *v;
        int level;
    } comp[] = {{"off", 0}, {"none", 0}, {"zstd", 1}, {"ZSTD", 1}, {"zstd:3", 3},
                {"zstd:19", 19}, {"7", 7}, {"0", 0}, {"zstd:0", 0}};
    for (size_t i = 0; i < sizeof comp / sizeof comp[0]; i++) {
        expect_clean(apply(&o, "CAIRN_COMPRESS", comp[i].v));
        assert_int_equal(o.compress_level, comp[i].level);
    }
}

static void test_env_signals_and_verbosity(void **state)
{
    (void)state;
    cairn_options_t o;
    expect_clean(apply(&o, "CAIRN_EXIT_SIGNALS", "TERM,INT"));
    assert_int_equal(o.exit_signals[0], SIGTERM);
    assert_int_equal(o.exit_signals[1], SIGINT);
    assert_int_equal(o.exit_signals[2], 0);
    expect_clean(apply(&o, "CAIRN_EXIT_SIGNALS", "SIGHUP,xcpu,12"));
    assert_int_equal(o.exit_signals[0], SIGHUP);
    assert_int_equal(o.exit_signals[1], SIGXCPU);
    assert_int_equal(o.exit_signals[2], 12);
    assert_int_equal(o.exit_signals[3], 0);
    expect_clean(apply(&o, "CAIRN_EXIT_SIGNALS", "none"));
    assert_int_equal(o.exit_signals[0], 0);
    expect_clean(apply(&o, "CAIRN_EXIT_SIGNALS", ""));
    assert_int_equal(o.exit_signals[0], 0);
    expect_clean(apply(&o, "CAIRN_CONTINUE_SIGNALS", "USR2,SIGALRM"));
    assert_int_equal(o.continue_signals[0], SIGUSR2);
    assert_int_equal(o.continue_signals[1], SIGALRM);
    assert_int_equal(o.continue_signals[2], 0);
    expect_clean(apply(&o, "CAIRN_KEY_FILE", "/nonexistent/key"));
    assert_non_null(o.key_file);
    assert_string_equal(o.key_file, "/nonexistent/key");
    expect_clean(apply(&o, "CAIRN_QUIET", "1"));
    assert_int_equal(o.verbose, -1);
    expect_clean(apply(&o, "CAIRN_QUIET", "0"));
    assert_int_equal(o.verbose, 0);
    expect_clean(apply(&o, "CAIRN_VERBOSE", "1"));
    assert_int_equal(o.verbose, 1);
    expect_clean(apply(&o, "CAIRN_VERBOSE", ""));
    assert_int_equal(o.verbose, 0);
}

/* Every malformed value: the message names variable and value, and the
   options are bit-identical to what they were. */
static void test_env_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *var, *value;
    } bad[] = {
        {"CAIRN_INTERVAL", "abc"},      {"CAIRN_INTERVAL", "0"},
        {"CAIRN_INTERVAL", "-1"},       {"CAIRN_INTERVAL", "5x"},
        {"CAIRN_INTERVAL", ""},         {"CAIRN_INTERVAL", "inf"},
        {"CAIRN_INTERVAL", "nan"},      {"CAIRN_INTERVAL", "1e999"},
        {"CAIRN_STEPS", "0"},           {"CAIRN_STEPS", "-3"},
        {"CAIRN_STEPS", "1.5"},         {"CAIRN_STEPS", "ten"},
        {"CAIRN_STEPS", "99999999999999999999999"},
        {"CAIRN_MTBI", "0"},            {"CAIRN_MTBI", "-5"},
        {"CAIRN_MTBI", "4hours"},       {"CAIRN_KEEP", "0"},
        {"CAIRN_KEEP", "1001"},         {"CAIRN_KEEP", "two"},
        {"CAIRN_KEEP", "-1"},           {"CAIRN_EXIT_CODE", "256"},
        {"CAIRN_EXIT_CODE", "-2"},      {"CAIRN_EXIT_CODE", "85x"},
        {"CAIRN_EXIT_CODE", ""},        {"CAIRN_COMPRESS", "zstd:20"},
        {"CAIRN_COMPRESS", "lz4"},      {"CAIRN_COMPRESS", "-1"},
        {"CAIRN_COMPRESS", "zstd:"},    {"CAIRN_COMPRESS", "zstd:fast"},
        {"CAIRN_EXIT_SIGNALS", "TERM,BOGUS"},
        {"CAIRN_EXIT_SIGNALS", "KILL"}, {"CAIRN_EXIT_SIGNALS", "9"},
        {"CAIRN_EXIT_SIGNALS", "STOP"}, {"CAIRN_EXIT_SIGNALS", "65"},
        {"CAIRN_EXIT_SIGNALS", "1,2,3,4,5,6,7,8,10"},
        {"CAIRN_CONTINUE_SIGNALS", "USR3"},
        {"CAIRN_KEY_FILE", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cairn_options_t want, o;
        cairn_options_init(&want);
        char *err = apply(&o, bad[i].var, bad[i].value);
        char expect[256];
        snprintf(expect, sizeof expect, "cairn: ignoring %s=\"%s\": expected ", bad[i].var,
                 bad[i].value);
        th_assert_contains(err, expect);
        free(err);
        if (memcmp(&o, &want, sizeof o) != 0)
            fail_msg("%s=\"%s\" changed the options", bad[i].var, bad[i].value);
    }
}

/* One malformed variable does not stop the others from applying. */
static void test_env_malformed_does_not_block_others(void **state)
{
    (void)state;
    cairn_options_t o;
    cairn_options_init(&o);
    setenv("CAIRN_KEEP", "lots", 1);
    setenv("CAIRN_INTERVAL", "7", 1);
    struct th_capture cap;
    th_capture_begin(&cap);
    cairn__options_from_env(&o);
    char *err = th_capture_end(&cap);
    th_assert_contains(err, "CAIRN_KEEP=\"lots\"");
    th_assert_not_contains(err, "CAIRN_INTERVAL");
    free(err);
    assert_int_equal(o.keep, 2);
    assert_true(o.interval == 7.0);
}

static void test_signal_names(void **state)
{
    (void)state;
    assert_int_equal(cairn__signal_from_name("TERM"), SIGTERM);
    assert_int_equal(cairn__signal_from_name("SIGTERM"), SIGTERM);
    assert_int_equal(cairn__signal_from_name("sigusr1"), SIGUSR1);
    assert_int_equal(cairn__signal_from_name("15"), 15);
    assert_int_equal(cairn__signal_from_name("KILL"), -1);
    assert_int_equal(cairn__signal_from_name("9"), -1);
    assert_int_equal(cairn__signal_from_name("19"), -1); /* SIGSTOP */
    assert_int_equal(cairn__signal_from_name("0"), -1);
    assert_int_equal(cairn__signal_from_name("65"), -1);
    assert_int_equal(cairn__signal_from_name(""), -1);
}

static void test_options_check(void **state)
{
    (void)state;
    cairn_options_t o;
    cairn_options_init(&o);
    o.policy = CAIRN_POLICY_STEPS; /* every_steps still 0 */
    assert_int_equal(cairn__options_check(&o), CAIRN_EINVAL);
    o.every_steps = 3;
    assert_int_equal(cairn__options_check(&o), 0);
    cairn_options_init(&o);
    o.interval = 0;
    assert_int_equal(cairn__options_check(&o), CAIRN_EINVAL);
    cairn_options_init(&o);
    o.keep = 0;
    assert_int_equal(cairn__options_check(&o), CAIRN_EINVAL);
    cairn_options_init(&o);
    o.compress_level = 20;
    assert_int_equal(cairn__options_check(&o), CAIRN_EINVAL);
    cairn_options_init(&o);
    o.exit_code = 256;
    assert_int_equal(cairn__options_check(&o), CAIRN_EINVAL);
    cairn_options_init(&o);
    o.policy = 3;
    assert_int_equal(cairn__options_check(&o), CAIRN_EINVAL);
}

/* Through cairn_open: the environment wins over what the program set, and
   invalid program options are refused with a message naming the store. */
static void test_env_wins_through_open(void **state)
{
    struct th_dir *d = *state;
    cairn_options_t o;
    cairn_options_init(&o);
    o.interval = 10;
    o.verbose = -1;
    setenv("CAIRN_INTERVAL", "20", 1);
    setenv("CAIRN_KEEP", "x", 1);
    cairn_t *c;
    struct th_capture cap;
    th_capture_begin(&cap);
    int rc = cairn_open(&c, d->store, &o);
    char *err = th_capture_end(&cap);
    assert_int_equal(rc, 0);
    th_assert_contains(err, "ignoring CAIRN_KEEP=\"x\"");
    free(err);
    assert_int_equal(cairn_restore(c), CAIRN_FRESH);
    cairn_stats_t st;
    assert_int_equal(cairn_get_stats(c, &st), 0);
    assert_true(st.interval == 20.0);
    assert_string_equal(st.policy, "every 20s");
    cairn_close(c);
    th_clear_cairn_env();

    o.policy = CAIRN_POLICY_STEPS;
    o.every_steps = 0;
    o.verbose = 0;
    th_capture_begin(&cap);
    rc = cairn_open(&c, d->store, &o);
    err = th_capture_end(&cap);
    assert_int_equal(rc, CAIRN_EINVAL);
    th_assert_contains(err, d->store);
    th_assert_contains(err, "invalid options");
    free(err);
    assert_int_equal(cairn_open(&c, "", NULL), CAIRN_EINVAL);
    assert_int_equal(cairn_open(&c, NULL, NULL), CAIRN_EINVAL);
    assert_int_equal(cairn_open(NULL, d->store, NULL), CAIRN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        th_unit_test(test_defaults),
        th_unit_test(test_init_short_struct),
        th_unit_test(test_env_time_and_policy),
        th_unit_test(test_env_keep_exit_compress),
        th_unit_test(test_env_signals_and_verbosity),
        th_unit_test(test_env_malformed),
        th_unit_test(test_env_malformed_does_not_block_others),
        th_unit_test(test_signal_names),
        th_unit_test(test_options_check),
        th_unit_test(test_env_wins_through_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
