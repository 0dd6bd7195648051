/* SPDX-License-Identifier: MIT */
/*
 * fixture.h — the one fixture of the cmocka suites (tests/unit/,
 * tests/faults/, tests/security/): every test starts with no CAIRN_*
 * variable from the caller's environment and a fresh scratch directory
 * (struct th_dir: root, and root/store, which is not created), and ends
 * with the directory removed (write permission restored first, so a test
 * may chmod it) and the CAIRN_* variables it set cleared.
 *
 * Each test:   th_unit_test(test_x) in the CMUnitTest array, and in the
 *              test: struct th_dir *d = *state;
 * A suite with state of its own embeds a struct th_dir in it and calls
 * th_fixture_begin / th_fixture_end from its own setup and teardown (per
 * test, or once per group).
 *
 * Include after <cmocka.h>, like harness.h.
 */
#ifndef CAIRN_TEST_FIXTURE_H
#define CAIRN_TEST_FIXTURE_H

#include "harness.h"

/* cmocka setup and teardown: *state is a struct th_dir, allocated here. */
int th_setup(void **state);
int th_teardown(void **state);
#define th_unit_test(f) cmocka_unit_test_setup_teardown(f, th_setup, th_teardown)

/* The same on a struct th_dir the caller owns. */
void th_fixture_begin(struct th_dir *d);
void th_fixture_end(struct th_dir *d);

#endif
