/* SPDX-License-Identifier: MIT */
/*
 * run_cpu.c — before a restore, the image's CPU record against this
 * machine's (format/cpu_features.h). An image of a job that ran on a CPU
 * with an instruction set this one lacks is refused like one of another
 * command (CAIRN_EMISMATCH: the store pick stops, nothing is set aside,
 * the job does not start over), naming what is missing, since the restored
 * job would die of SIGILL wherever its code uses it. CAIRN_CPU_CHECK=0
 * restores it all the same, with a warning (a user who knows the job never
 * uses them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "cpu_features.h"
#include "proc_check.h"
#include "run.h"

int run_cpu_compare(cairn_image_t *img, size_t *missing, size_t *count, char *names,
                    size_t len, char *why, size_t why_len)
{
    struct cairn_proc_cpu was, here = {0};
    int rc = proc_read_cpu(img, &was, why, why_len);
    if (rc <= 0)
        return rc; /* an older image has no record: nothing to compare */
    cairn_cpu_accumulate(&here);
    if (count)
        *count = cairn_cpu_count(&was);
    *missing = cairn_cpu_missing(&was, &here, names, len);
    return 1;
}

int run_cpu_check(cairn_image_t *img, char *why, size_t why_len)
{
    char names[256];
    size_t n = 0;
    int rc = run_cpu_compare(img, &n, NULL, names, sizeof names, why, why_len);
    if (rc <= 0 || n == 0)
        return rc < 0 ? rc : 0;
    const char *env = getenv("CAIRN_CPU_CHECK");
    if (env && strcmp(env, "0") == 0) {
        fprintf(stderr, "cairn run: warning: restoring a job that ran on a CPU with %s, which "
                        "this one lacks (CAIRN_CPU_CHECK=0)\n", names);
        return 0;
    }
    snprintf(why, why_len, "the job ran on a CPU with %s, which this machine's lacks: its "
             "code may use %s and would die of SIGILL here. Restore it on a machine that has "
             "%s (or set CAIRN_CPU_CHECK=0 at your own risk)", names, n > 1 ? "them" : "it",
             n > 1 ? "them" : "it");
    return CAIRN_EMISMATCH;
}
