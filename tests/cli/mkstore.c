/* SPDX-License-Identifier: MIT */
/*
 * mkstore.c — makes checkpoint stores for the CLI tests with libcairn.
 *
 *   cli_mkstore DIR [--checkpoints N] [--size BYTES] [--steps N] [--finish]
 *
 * Protects three regions with deterministic contents, so that image sizes
 * and section checksums are the same on every run: "counter" (8 bytes), a
 * buffer named `odd "name"<TAB>é` (to exercise escaping in the CLI's output)
 * and "data" (BYTES, default 4096, last in the image). Calls cairn_step()
 * --steps times (default 100) before each of N checkpoints (default 3),
 * then cairn_complete() with --finish. Compression follows CAIRN_COMPRESS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"

static int die(const char *what, int rc)
{
    fprintf(stderr, "cli_mkstore: %s: %s\n", what, cairn_strerror(rc));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: cli_mkstore DIR [--checkpoints N] [--size BYTES] "
                        "[--steps N] [--finish]\n");
        return 2;
    }
    unsigned long n = 3, size = 4096, steps = 100;
    int finish = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--finish") == 0)
            finish = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--checkpoints") == 0)
            n = strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--size") == 0)
            size = strtoul(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--steps") == 0)
            steps = strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "cli_mkstore: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    cairn_options_t o;
    cairn_options_init(&o);
    o.interval = 86400; /* only the explicit checkpoints below */
    o.verbose = -1;
    cairn_t *c;
    int rc = cairn_open(&c, argv[1], &o);
    if (rc < 0)
        return die("cairn_open", rc);
    uint64_t counter = 0;
    size_t blen = 100;
    char *buf = malloc(blen);
    unsigned char *data = malloc(size ? size : 1);
    if (!buf || !data)
        return die("malloc", -12);
    for (size_t i = 0; i < blen; i++)
        buf[i] = (char)('a' + i % 26);
    if ((rc = cairn_protect(c, "counter", &counter, sizeof counter)) < 0 ||
        (rc = cairn_protect_buffer(c, "odd \"name\"\t\xc3\xa9", (void **)&buf, &blen)) < 0 ||
        (rc = cairn_protect(c, "data", data, size)) < 0)
        return die("cairn_protect", rc);
    if ((rc = cairn_restore(c)) < 0)
        return die("cairn_restore", rc);
    for (unsigned long k = 0; k < n; k++) {
        for (unsigned long s = 0; s < steps; s++) {
            counter++;
            if ((rc = cairn_step(c)) < 0)
                return die("cairn_step", rc);
        }
        for (size_t i = 0; i < size; i++)
            data[i] = (unsigned char)((i / 64 + k) % 7); /* compressible, changes each time */
        if ((rc = cairn_checkpoint(c)) < 0)
            return die("cairn_checkpoint", rc);
    }
    if (finish && (rc = cairn_complete(c)) < 0)
        return die("cairn_complete", rc);
    cairn_close(c);
    free(buf);
    free(data);
    return 0;
}
