/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus.c — writes the fuzz seed corpus: real images made by libcairn.
 *
 *   cairn-fuzz-gen-corpus OUTDIR
 *
 * Variants: several generations of a job with a fixed region and a buffer,
 * uncompressed and zstd; zero-sized regions; 255-byte names; no regions;
 * many small regions; two consecutive generations concatenated (the store
 * target makes them two generations); and damaged copies (truncated, one
 * flipped bit) so the error paths have seeds too. Images stay small so the
 * committed corpus stays under ~200 KB. Regenerate after a format change.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn.h"
#include "cairn_image.h"

struct variant {
    const char *name;
    int level;       /* zstd level, 0 = off */
    size_t state;    /* bytes of the fixed region "state" */
    size_t buf;      /* bytes of the buffer region "buf" */
    int name255;     /* one region with a 255-byte name */
    int nsmall;      /* extra small regions */
    int none;        /* no regions at all */
};

static const struct variant variants[] = {
    {"plain", 0, 512, 300, 0, 0, 0},
    {"zstd", 3, 512, 300, 0, 0, 0},
    {"zero", 0, 0, 0, 0, 0, 0},
    {"longname", 0, 64, 40, 1, 0, 0},
    {"noregion", 0, 0, 0, 0, 0, 1},
    {"many", 1, 16, 8, 0, 12, 0},
    {"bigzstd", 19, 8192, 4096, 0, 0, 0},
};

static uint64_t rng = 0x9e3779b97f4a7c15u;

static unsigned char next_byte(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned char)(rng & 0x1f); /* compressible, not trivial */
}

static void fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = next_byte();
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*len ? *len : 1);
    if (b && fread(b, 1, *len, f) != *len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static void spit(const char *dir, const char *name, const unsigned char *a, size_t alen,
                 const unsigned char *b, size_t blen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen)) {
        fprintf(stderr, "gen-corpus: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

/* Runs one variant in store, committing 3 generations (keep = 3). */
static void make_store(const struct variant *v, const char *store)
{
    cairn_options_t o;
    cairn_options_init(&o);
    o.keep = 3;
    o.compress_level = v->level;
    cairn_t *c;
    if (cairn_open(&c, store, &o) < 0)
        exit(1);
    uint64_t i = 0;
    unsigned char *state = calloc(1, v->state + 1);
    void *buf = NULL;
    size_t buflen = 0;
    unsigned char small[16][8];
    char longname[256];
    memset(longname, 'n', 255);
    longname[255] = '\0';
    if (!v->none) {
        cairn_protect(c, "i", &i, sizeof i);
        cairn_protect(c, "state", v->state ? state : NULL, v->state);
        cairn_protect_buffer(c, "buf", &buf, &buflen);
    }
    if (v->name255)
        cairn_protect(c, longname, small[15], 8);
    for (int k = 0; k < v->nsmall; k++) {
        char nm[16];
        snprintf(nm, sizeof nm, "r%d", k);
        cairn_protect(c, nm, small[k], 8);
    }
    if (cairn_restore(c) != CAIRN_FRESH)
        exit(1);
    for (int g = 0; g < 3; g++) {
        i = (uint64_t)g * 1000 + 7;
        fill(state, v->state);
        buflen = v->buf ? v->buf + (size_t)g * 16 : 0;
        void *nb = realloc(buf, buflen + 1);
        if (!nb)
            exit(1);
        buf = nb;
        fill(buf, buflen);
        fill(&small[0][0], sizeof small);
        if (cairn_checkpoint(c) < 0)
            exit(1);
    }
    cairn_close(c);
    free(state);
    free(buf);
}

static void emit_variant(const struct variant *v, const char *tmp, const char *out)
{
    char store[512], path[600], name[128];
    snprintf(store, sizeof store, "%s/%s", tmp, v->name);
    make_store(v, store);
    unsigned char *img[3];
    size_t len[3];
    for (uint64_t g = 1; g <= 3; g++) {
        cairn_store_image_path(store, g, path, sizeof path);
        img[g - 1] = slurp(path, &len[g - 1]);
        if (!img[g - 1])
            exit(1);
        snprintf(name, sizeof name, "%s-gen%llu.cairn", v->name, (unsigned long long)g);
        spit(out, name, img[g - 1], len[g - 1], NULL, 0);
        unlink(path);
    }
    snprintf(name, sizeof name, "%s-pair.cairn", v->name);
    spit(out, name, img[1], len[1], img[2], len[2]);
    snprintf(name, sizeof name, "%s-truncated.cairn", v->name);
    spit(out, name, img[0], len[0] / 2, NULL, 0);
    img[0][len[0] / 2] ^= 0x10;
    snprintf(name, sizeof name, "%s-bitflip.cairn", v->name);
    spit(out, name, img[0], len[0], NULL, 0);
    for (int g = 0; g < 3; g++)
        free(img[g]);
    snprintf(path, sizeof path, "%s/lock", store);
    unlink(path);
    rmdir(store);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    char tmp[] = "/tmp/cairn-gen-corpus-XXXXXX";
    if (!mkdtemp(tmp))
        return 1;
    setenv("CAIRN_QUIET", "1", 1);
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; k++)
        emit_variant(&variants[k], tmp, argv[1]);
    rmdir(tmp);
    return 0;
}
