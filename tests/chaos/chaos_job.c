/* SPDX-License-Identifier: MIT */
/*
 * chaos_job.c — the deterministic libcairn job the chaos driver kills.
 *
 *   cairn-chaos-job STORE OUTPUT STEPS STATE_KIB
 *
 * State: a step counter, STATE_KIB KiB of words rewritten every step (so an
 * image takes measurable time to write), and a malloc'ed buffer whose size
 * changes with the step (cairn_protect_buffer). The checkpoint policy comes
 * from the environment (the driver sets CAIRN_STEPS=1). At the end the
 * state is written to OUTPUT (temp file + rename) and the job completes.
 *
 * One line on stdout per event, for the driver:
 *   start fresh | start restored GEN STEP     after cairn_restore
 *   commit GEN                                 a checkpoint was committed
 *   fail ERR                                   a checkpoint failed, job goes on
 *   step I                                     after each cairn_step
 *   done CHECKPOINTS FAILED                    output written, job complete
 * With CHAOS_PACE=1 the job reads one byte from stdin after each "step"
 * line (end of file ends the pacing), so the driver can inject a fault at
 * an exact step.
 * Exit status 0 when done; 3 on a setup error (message on stderr).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn.h"

struct job {
    uint64_t i;
    uint64_t *words;
    size_t nwords;
    unsigned char *buf;
    size_t buflen;
};

static void work(struct job *j)
{
    uint64_t x = j->i * 0x9e3779b97f4a7c15u + 1;
    for (size_t k = 0; k < j->nwords; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        j->words[k] = j->words[k] * 6364136223846793005u + (x ^ k);
    }
    size_t want = 1000 + (size_t)(j->i % 7) * 300;
    unsigned char *nb = realloc(j->buf, want);
    if (!nb) {
        fprintf(stderr, "chaos-job: out of memory\n");
        exit(3);
    }
    j->buf = nb;
    for (size_t k = j->buflen; k < want; k++)
        j->buf[k] = 0;
    j->buflen = want;
    for (size_t k = 0; k < want; k++)
        j->buf[k] = (unsigned char)(j->buf[k] * 31 + (unsigned char)(x >> (k % 57)));
}

static void write_output(const struct job *j, const char *out)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    FILE *f = fopen(tmp, "wb");
    if (!f || fwrite(&j->i, sizeof j->i, 1, f) != 1 ||
        fwrite(j->words, sizeof *j->words, j->nwords, f) != j->nwords ||
        fwrite(j->buf, 1, j->buflen, f) != j->buflen || fclose(f) != 0 ||
        rename(tmp, out) != 0) {
        perror("chaos-job: writing the output");
        exit(3);
    }
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s STORE OUTPUT STEPS STATE_KIB\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint64_t steps = strtoull(argv[3], NULL, 10);
    struct job j = {.nwords = (size_t)strtoull(argv[4], NULL, 10) * 1024 / 8};
    j.words = calloc(j.nwords ? j.nwords : 1, sizeof *j.words);
    cairn_t *c;
    int rc = cairn_open(&c, argv[1], NULL);
    if (rc < 0 || !j.words) {
        fprintf(stderr, "chaos-job: cannot open store %s: %s\n", argv[1], cairn_strerror(rc));
        free(j.words);
        return 3;
    }
    cairn_protect(c, "i", &j.i, sizeof j.i);
    cairn_protect(c, "words", j.words, j.nwords * sizeof *j.words);
    cairn_protect_buffer(c, "buf", (void **)&j.buf, &j.buflen);
    rc = cairn_restore(c);
    cairn_stats_t st;
    cairn_get_stats(c, &st);
    if (rc == CAIRN_RESTORED)
        printf("start restored %llu %llu\n", (unsigned long long)st.generation,
               (unsigned long long)j.i);
    else if (rc == CAIRN_FRESH)
        printf("start fresh\n");
    else {
        fprintf(stderr, "chaos-job: restore failed: %s\n", cairn_strerror(rc));
        return 3;
    }
    const char *pace_env = getenv("CHAOS_PACE");
    int pace = pace_env && strcmp(pace_env, "1") == 0;
    while (j.i < steps) {
        work(&j);
        j.i++;
        rc = cairn_step(c);
        cairn_get_stats(c, &st);
        if (rc == CAIRN_CHECKPOINTED)
            printf("commit %llu\n", (unsigned long long)st.generation);
        else if (rc < 0)
            printf("fail %d\n", rc);
        printf("step %llu\n", (unsigned long long)j.i);
        char ack;
        if (pace && read(STDIN_FILENO, &ack, 1) != 1)
            pace = 0;
    }
    write_output(&j, argv[2]);
    cairn_get_stats(c, &st);
    if (cairn_complete(c) < 0)
        printf("fail complete\n");
    printf("done %llu %llu\n", (unsigned long long)st.checkpoints,
           (unsigned long long)st.failed);
    cairn_close(c);
    free(j.words);
    free(j.buf);
    return 0;
}
