/* SPDX-License-Identifier: MIT */
/*
 * test_cpu.c — the CPU record's comparison (format/cpu_features.c): which
 * of an image's instruction sets a machine lacks, by name and in order;
 * the bits a restore does not insist on; names cut to the buffer, never
 * past it; and this machine's own record, which must satisfy itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cpu_features.h"

static struct cairn_proc_cpu record(void)
{
    return (struct cairn_proc_cpu){.magic = CAIRN_PROC_CPU_MAGIC, .version = 1};
}

static void lacks_by_name_in_table_order(void **state)
{
    (void)state;
    struct cairn_proc_cpu img = record(), here = record();
    img.leaf7_ebx = 1u << 16 | 1u << 30 | 1u << 5; /* avx512f, avx512bw, avx2 */
    img.xcr0 = 0xe7;                               /* x87, sse, avx, the AVX-512 state */
    here.leaf7_ebx = 1u << 5;
    here.xcr0 = 0x7;
    char names[256];
    assert_int_equal(cairn_cpu_missing(&img, &here, names, sizeof names), 5);
    assert_string_equal(names, "avx512f avx512bw xcr0:avx512_opmask xcr0:avx512_zmm_hi256 "
                               "xcr0:avx512_hi16_zmm");
    assert_int_equal(cairn_cpu_count(&img), 7); /* avx2 and xcr0:avx too */
    assert_int_equal(cairn_cpu_missing(&here, &img, names, sizeof names), 0);
    assert_string_equal(names, "");
}

static void ignored_bits_are_not_insisted_on(void **state)
{
    (void)state;
    struct cairn_proc_cpu img = record(), here = record();
    img.leaf1_ecx = 1u << 31;                /* the hypervisor bit */
    img.leaf7_ebx = 1u << 4 | 1u << 11 | 1u << 9; /* hle, rtm, erms */
    img.ext1_ecx = 1u << 6 | 1u << 11 | 1u << 16; /* sse4a, xop, fma4 */
    img.xcr0 = 1u << 9;                      /* pkru */
    char names[64];
    assert_int_equal(cairn_cpu_missing(&img, &here, names, sizeof names), 0);
    assert_int_equal(cairn_cpu_count(&img), 0);
}

static void names_are_cut_to_the_buffer(void **state)
{
    (void)state;
    struct cairn_proc_cpu img = record(), here = record();
    img.leaf7_ebx = 0xffffffffu;
    img.leaf7_ecx = 0xffffffffu;
    char names[16];
    memset(names, 'x', sizeof names);
    size_t n = cairn_cpu_missing(&img, &here, names, sizeof names);
    assert_true(n > 20);
    assert_non_null(memchr(names, 0, sizeof names));
    assert_int_equal(strncmp(names, "bmi1 avx2 bmi2", 14), 0);
    assert_int_equal(cairn_cpu_missing(&img, &here, names, 0), n); /* counts without a buffer */
}

static void this_machine_satisfies_itself(void **state)
{
    (void)state;
    struct cairn_proc_cpu here = {0}, twice = {0};
    cairn_cpu_accumulate(&here);
    assert_int_equal(here.magic, CAIRN_PROC_CPU_MAGIC);
    assert_int_equal(here.version, 1);
    assert_true(here.ext1_edx & 1u << 29); /* lm: x86-64 */
    assert_true(here.leaf1_edx & 1u << 26); /* sse2 */
    char names[256];
    assert_int_equal(cairn_cpu_missing(&here, &here, names, sizeof names), 0);
    twice = here;
    cairn_cpu_accumulate(&twice); /* the union with itself changes nothing */
    assert_memory_equal(&twice, &here, sizeof here);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lacks_by_name_in_table_order),
        cmocka_unit_test(ignored_bits_are_not_insisted_on),
        cmocka_unit_test(names_are_cut_to_the_buffer),
        cmocka_unit_test(this_machine_satisfies_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
