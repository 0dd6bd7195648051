/* SPDX-License-Identifier: MIT */
/*
 * fuzz_process.c — libFuzzer target for the semantic checks of process
 * images (cli/proc_check.c), which `cairn run` applies before it hands an
 * image to the freestanding restorer, and `cairn verify`/`inspect` report.
 *
 * The input is an image: opened from a memfd, and if it opens, its process
 * records are loaded and checked. As in fuzz_image.c every input runs twice,
 * as given and with its XXH3 checksums recomputed, because a forger without
 * the key can recompute them too: the checks behind the checksums are the
 * point. proc_check must never crash, and a failure must say why.
 *
 * Every input proc_check accepts is also expanded as `cairn run` expands a
 * compressed image for the restorer (cli/image_pack.c): an expansion that
 * succeeds must be an image without compressed sections that verifies
 * completely.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cairn_image.h"
#include "fuzz_util.h"
#include "image_pack.h"
#include "proc_check.h"

static int check_records(cairn_image_t *img)
{
    char why[512] = "";
    struct proc_records p;
    int rc = proc_load(img, &p, why, sizeof why);
    if (rc == 0)
        rc = proc_check(img, &p, why, sizeof why);
    if (rc < 0 && !why[0])
        abort(); /* a refusal must say why */
    for (uint64_t i = 0; rc == 0 && i < p.nmaps; i++) { /* what run/inspect then use */
        (void)proc_map_kind_name(p.maps[i].kind);
        if (!memchr(p.maps[i].name, 0, sizeof p.maps[i].name))
            abort();
    }
    for (uint64_t i = 0; rc == 0 && i < p.nfiles; i++) {
        (void)proc_fd_kind_name(p.files[i].kind);
        if (!memchr(p.files[i].path, 0, sizeof p.files[i].path))
            abort();
    }
    proc_release(&p);
    return proc_check_image(img, why, sizeof why);
}

static void check_expanded(int fd)
{
    char why[512] = "";
    int out = -1;
    int rc = image_expand(fd, &out, why, sizeof why);
    if (rc < 0 && !why[0])
        abort(); /* a refusal must say why */
    if (rc != 1)
        return;
    cairn_image_t *img;
    if (cairn_image_open_fd(&img, out, why, sizeof why) < 0 || cairn_image_verify(img, NULL) < 0)
        abort(); /* expanded, it is whole */
    for (unsigned i = 0; i < cairn_image_info(img)->section_count; i++)
        if (cairn_image_section(img, i)->codec != 0)
            abort();
    cairn_image_close(img);
    close(out);
}

static void run_one(const uint8_t *data, size_t size)
{
    int fd = memfd_create("cairn-fuzz-process", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            abort();
        done += (size_t)n;
    }
    cairn_image_t *img;
    if (cairn_image_open_fd(&img, fd, NULL, 0) == 0) {
        int ok = check_records(img) == 0;
        cairn_image_close(img);
        if (ok) /* as cairn run: an image it accepts is expanded */
            check_expanded(fd);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    run_one(data, size);
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (fuzz_fix_checksums(copy, size))
        run_one(copy, size);
    free(copy);
    return 0;
}
