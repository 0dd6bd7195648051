/* SPDX-License-Identifier: MIT */
/*
 * fuzz_store.c — libFuzzer target for the store scanner and restore path.
 *
 * The input becomes one or two generations of a fresh store directory: if
 * it holds a complete image followed by more bytes, the first image is
 * generation 1 and the rest generation 2. Both get their checksums
 * recomputed (fuzz_util.h) unless the input's last byte is odd, so that
 * checksum failures are fuzzed too. Then the restore a job would do:
 * cairn_open, cairn_protect the regions the newest image names (fixed or
 * buffer, as flagged) or a default set, cairn_restore, cairn_close. The
 * store is removed afterwards.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn.h"
#include "cairn_image.h"
#include "fuzz_util.h"
#include "image_format.h"

#define MAX_REGIONS 16

static char base[256];

static void remove_base(void)
{
    if (base[0])
        rmdir(base);
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    rmdir(dir);
}

static void write_gen(const char *store, uint64_t gen, const uint8_t *data, size_t size,
                      int fix)
{
    char path[512];
    if (cairn_store_image_path(store, gen, path, sizeof path) < 0)
        abort();
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    if (fix)
        fuzz_fix_checksums(copy, size);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, copy, size) != (ssize_t)size)
        abort();
    close(fd);
    free(copy);
}

struct region {
    char name[256];
    int buffer;
    void *ptr;
    size_t size;
};

/* The regions of the newest image, if it opens. */
static void regions_from_image(const char *store, uint64_t gen, struct region *r, int *n)
{
    char path[512];
    cairn_image_t *img;
    cairn_store_image_path(store, gen, path, sizeof path);
    if (cairn_image_open(&img, path, NULL, 0) < 0)
        return; /* restore will reject it; the default set will do */
    const cairn_image_info_t *info = cairn_image_info(img);
    for (unsigned i = 0; i < info->section_count && *n < MAX_REGIONS; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        if (s->type != CAIRN_SEC_REGION)
            continue;
        snprintf(r[*n].name, sizeof r[*n].name, "%s", s->name);
        r[*n].buffer = (s->flags & CAIRN_SECF_BUFFER) != 0;
        r[*n].size = (size_t)s->raw_size;
        (*n)++;
    }
    cairn_image_close(img);
}

/* 1 if some section of generation gen is too big to restore in memory. */
static int too_big(const char *store, uint64_t gen)
{
    char path[512];
    cairn_image_t *img;
    cairn_store_image_path(store, gen, path, sizeof path);
    if (cairn_image_open(&img, path, NULL, 0) < 0)
        return 0;
    int big = 0;
    for (unsigned i = 0; i < cairn_image_info(img)->section_count; i++)
        big |= cairn_image_section(img, i)->raw_size > FUZZ_MAX_RAW;
    cairn_image_close(img);
    return big;
}

static void restore_store(const char *store, uint64_t newest)
{
    static const struct region dflt[3] = {{"i", 0, NULL, 8}, {"state", 0, NULL, 512},
                                          {"buf", 1, NULL, 0}};
    struct region r[MAX_REGIONS];
    int n = 0;
    memset(r, 0, sizeof r);
    for (uint64_t g = 1; g <= newest; g++)
        if (too_big(store, g))
            return; /* restoring it would only test the allocator */
    regions_from_image(store, newest, r, &n);
    if (n == 0) {
        memcpy(r, dflt, sizeof dflt);
        n = 3;
    }
    cairn_t *c;
    if (cairn_open(&c, store, NULL) < 0)
        abort(); /* our own fresh directory must open */
    for (int i = 0; i < n; i++) {
        if (r[i].buffer) {
            r[i].ptr = NULL;
            (void)cairn_protect_buffer(c, r[i].name, &r[i].ptr, &r[i].size);
        } else {
            r[i].ptr = calloc(1, r[i].size ? r[i].size : 1);
            (void)cairn_protect(c, r[i].name, r[i].ptr, r[i].size);
        }
    }
    (void)cairn_restore(c);
    cairn_close(c);
    for (int i = 0; i < n; i++)
        free(r[i].ptr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (!base[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(base, sizeof base, "%s/cairn-fuzz-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(base))
            abort();
        atexit(remove_base);
    }
    char store[300];
    snprintf(store, sizeof store, "%s/s", base);
    if (mkdir(store, 0700) < 0)
        abort();
    int fix = size == 0 || (data[size - 1] & 1) == 0;
    size_t first = fuzz_first_image_len(data, size);
    write_gen(store, 1, data, first, fix);
    uint64_t newest = 1;
    if (first < size) {
        write_gen(store, 2, data + first, size - first, fix);
        newest = 2;
    }
    restore_store(store, newest);
    remove_tree(store);
    return 0;
}
