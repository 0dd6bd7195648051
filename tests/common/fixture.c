/* SPDX-License-Identifier: MIT */
/*
 * fixture.c — the cmocka fixture; see fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fixture.h"

void th_fixture_begin(struct th_dir *d)
{
    th_clear_cairn_env();
    th_dir_make(d);
}

void th_fixture_end(struct th_dir *d)
{
    th_dir_remove(d);
    th_clear_cairn_env();
}

int th_setup(void **state)
{
    struct th_dir *d = calloc(1, sizeof *d);
    assert_non_null(d);
    th_fixture_begin(d);
    *state = d;
    return 0;
}

int th_teardown(void **state)
{
    struct th_dir *d = *state;
    th_fixture_end(d);
    free(d);
    *state = NULL;
    return 0;
}
