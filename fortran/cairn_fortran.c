/* SPDX-License-Identifier: MIT */
/*
 * cairn_fortran.c — the C half of the Fortran module cairn (cairn.f90): the
 * calls that cannot bind to libcairn directly.
 *
 *  - cairn_f_open: cairn_options_t built here from the options the Fortran
 *    caller gave (scalars passed by value), so that the module never has to
 *    mirror the struct's layout.
 *  - cairn_f_protect: takes a Fortran variable of any type, kind and rank
 *    as a C descriptor (ISO_Fortran_binding.h; the Fortran side declares it
 *    type(*), dimension(..)), checks that it is one contiguous block and
 *    protects its bytes.
 *  - cairn_f_get_stats: cairn_get_stats with a size check of the Fortran
 *    mirror of cairn_stats_t.
 *
 * Compiled into libcairn_fortran.a with the module; the descriptor layout
 * is the Fortran compiler's, so the header comes from that compiler
 * (fortran/CMakeLists.txt).
 */
#include <ISO_Fortran_binding.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"

/* Which options the Fortran caller gave (the F_* parameters of cairn.f90). */
enum {
    F_INTERVAL = 1,
    F_STEPS = 2,
    F_AUTO = 4,
    F_MTBI = 8,
    F_KEEP = 16,
    F_EXIT_CODE = 32,
    F_COMPRESS = 64,
    F_VERBOSE = 128,
    F_EXIT_ON_SIGNAL = 256
};

int cairn_f_open(cairn_t **out, const char *store, int set, double interval,
                 int64_t every_steps, double mtbi, int keep, int exit_code, int compress,
                 int verbose, int exit_on_signal, const char *key_file);
int cairn_f_protect(cairn_t *c, const char *name, CFI_cdesc_t *x);
int cairn_f_get_stats(const cairn_t *c, cairn_stats_t *out, size_t size);

int cairn_f_open(cairn_t **out, const char *store, int set, double interval,
                 int64_t every_steps, double mtbi, int keep, int exit_code, int compress,
                 int verbose, int exit_on_signal, const char *key_file)
{
    *out = NULL;
    int policies = !!(set & F_INTERVAL) + !!(set & F_STEPS) + !!(set & F_AUTO);
    if (policies > 1 || ((set & F_STEPS) && every_steps <= 0) ||
        ((set & F_KEEP) && keep <= 0))
        return CAIRN_EINVAL; /* one policy at most; counts must be positive */
    cairn_options_t o;
    cairn_options_init(&o);
    if (set & F_INTERVAL) {
        o.policy = CAIRN_POLICY_TIME;
        o.interval = interval;
    }
    if (set & F_STEPS) {
        o.policy = CAIRN_POLICY_STEPS;
        o.every_steps = (uint64_t)every_steps;
    }
    if (set & F_AUTO)
        o.policy = CAIRN_POLICY_AUTO;
    if (set & F_MTBI)
        o.mtbi = mtbi;
    if (set & F_KEEP)
        o.keep = (unsigned)keep;
    if (set & F_EXIT_CODE)
        o.exit_code = exit_code;
    if (set & F_COMPRESS)
        o.compress_level = compress;
    if (set & F_VERBOSE)
        o.verbose = verbose;
    if (set & F_EXIT_ON_SIGNAL)
        o.exit_on_signal = exit_on_signal;
    if (key_file && *key_file)
        o.key_file = key_file; /* read by cairn_open, not kept */
    return cairn_open(out, store, &o);
}

/* Says why a variable cannot be protected, unless CAIRN_QUIET is set (as
   libcairn's own messages). */
static void explain(const char *name, const char *why)
{
    const char *q = getenv("CAIRN_QUIET");
    if (!q || !*q || strcmp(q, "0") == 0)
        fprintf(stderr, "cairn: cairn_protect(\"%s\"): %s\n", name, why);
}

int cairn_f_protect(cairn_t *c, const char *name, CFI_cdesc_t *x)
{
    if (!c || !name || !x)
        return CAIRN_EINVAL;
    size_t size = x->elem_len;
    for (CFI_rank_t i = 0; i < x->rank; i++) {
        CFI_index_t extent = x->dim[i].extent;
        if (extent < 0 || (extent > 0 && size > SIZE_MAX / (size_t)extent)) {
            explain(name, "the array's size is out of range");
            return CAIRN_EINVAL;
        }
        size *= (size_t)extent;
    }
    if (size && !x->base_addr) {
        explain(name, "the variable is not allocated");
        return CAIRN_EINVAL;
    }
    if (x->rank > 0 && size && !CFI_is_contiguous(x)) {
        explain(name, "the array is not contiguous (a section with a stride?); protect a "
                      "whole array, or copy the section to one");
        return CAIRN_EINVAL;
    }
    return cairn_protect(c, name, x->base_addr, size);
}

int cairn_f_get_stats(const cairn_t *c, cairn_stats_t *out, size_t size)
{
    if (size != sizeof *out)
        return CAIRN_EINVAL; /* cairn_stats_t in cairn.f90 differs from cairn.h */
    return cairn_get_stats(c, out);
}
