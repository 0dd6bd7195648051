/* SPDX-License-Identifier: MIT */
/*
 * chaos_store.c — what the driver checks in a store, and file helpers.
 *
 * After every kill the newest generation must open and verify: the commit
 * protocol renames an image into place only after it is completely written
 * and fsync'ed, so a SIGKILL at any instant cannot leave a bad newest image
 * (older generations may legitimately be pruned at any time).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cairn_image.h"
#include "chaos.h"

int64_t store_check(const char *store, struct chaos_counts *n)
{
    uint64_t gens[64];
    size_t count = 0;
    n->store_checks++;
    int rc = cairn_store_list(store, gens, 64, &count);
    if (rc < 0 || count == 0)
        return 0;
    uint64_t newest = gens[count < 64 ? count - 1 : 63];
    char path[4096], why[320] = "";
    cairn_store_image_path(store, newest, path, sizeof path);
    cairn_image_t *img;
    rc = cairn_image_open(&img, path, why, sizeof why);
    if (rc == 0) {
        unsigned bad = 0;
        rc = cairn_image_verify(img, &bad);
        if (rc < 0)
            snprintf(why, sizeof why, "section %u: %s", bad, cairn_image_error(img));
        cairn_image_close(img);
    }
    if (rc < 0) {
        say("%s: newest generation is not valid: %s", path, why);
        return -1;
    }
    return (int64_t)newest;
}

int files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int eq = fa && fb;
    while (eq) {
        char x[65536], y[65536];
        size_t na = fread(x, 1, sizeof x, fa), nb = fread(y, 1, sizeof y, fb);
        if (na != nb || memcmp(x, y, na) != 0)
            eq = 0;
        if (na == 0)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return eq;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
    return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int remove_tree(const char *path)
{
    if (access(path, F_OK) < 0)
        return 0;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int watch_store(int ifd, const char *store)
{
    return inotify_add_watch(ifd, store, IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO |
                                             IN_DELETE_SELF | IN_ONLYDIR);
}
